#!/usr/bin/env bash
# Sets up, builds and runs quant's main job on the shipped example.
# Today the job stops at the IR level: parse and verify a quantized LLaMA MLP,
# round-trip it through the generic form, and run a cleanup pipeline. The
# compile-and-run half (CPU/GPU lowering, quant-run) joins as it lands.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${QUANT_BUILD_DIR:-$root/build}
example=$root/examples/llama/mlp_w4a8.mlir
opt=$build/bin/quant-opt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" "$build"

count_qnn_ops() { grep -c ' = qnn\.' "$1" || true; }

echo "== 1. parse + verify $example"
"$opt" "$example" -o "$work/parsed.mlir"
echo "   ok: $(count_qnn_ops "$work/parsed.mlir") qnn ops verified"

echo "== 2. round trip through the generic form"
"$opt" "$example" --mlir-print-op-generic | "$opt" -o "$work/roundtrip.mlir"
if diff -q "$work/parsed.mlir" "$work/roundtrip.mlir" >/dev/null; then
  echo "   ok: custom and generic forms agree"
else
  echo "   FAILED: round trip changed the IR" >&2
  diff "$work/parsed.mlir" "$work/roundtrip.mlir" >&2
  exit 1
fi

echo "== 3. pipeline: canonicalize, cse"
"$opt" "$example" --pass-pipeline='builtin.module(func.func(canonicalize,cse))' \
  -o "$work/optimized.mlir"
echo "   qnn ops: $(count_qnn_ops "$work/parsed.mlir") -> $(count_qnn_ops "$work/optimized.mlir")"
cat "$work/optimized.mlir"
