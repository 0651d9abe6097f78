#!/usr/bin/env bash
# Sets up, builds and runs quant's main job on the shipped example: a
# LLaMA-style RMSNorm + SwiGLU MLP in linalg (examples/llama/generate_mlp.py,
# with LLM-like outlier channels and massive-activation tokens) is raised to
# qnn, quantized under several recipes, and each result is scored against the
# float model by the float64 reference evaluator (quant-eval).
# Compilation to native code and latency join this table as the CPU/GPU
# lowerings land.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${QUANT_BUILD_DIR:-$root/build}
bin=$build/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" "$build"

echo "== IR round trip of examples/llama/mlp_w4a8.mlir (a hand-written W4A8 MLP)"
"$bin/quant-opt" "$root/examples/llama/mlp_w4a8.mlir" -o "$work/parsed.mlir"
"$bin/quant-opt" "$root/examples/llama/mlp_w4a8.mlir" --mlir-print-op-generic |
  "$bin/quant-opt" -o "$work/roundtrip.mlir"
diff -q "$work/parsed.mlir" "$work/roundtrip.mlir" >/dev/null
echo "   ok: verified, custom and generic forms agree"

echo "== generate the float model and activations (hidden 128, ffn 384 = 12*32, 64 tokens)"
/usr/bin/python3 "$root/examples/llama/generate_mlp.py" "$work"
"$bin/quant-opt" "$work/mlp.mlir" --qnn-import-linalg -o "$work/float.mlir"
"$bin/quant-eval" "$work/float.mlir" --input "$work/eval.npy" --output "$work/reference.npy" >/dev/null

calib="calibration=$work/calib.npy"
# name | --qnn-pipeline options ("" = the float model itself)
configs=(
  "float|"
  "W8A8 per-channel|wbits=8 group=0 abits=8"
  "W4A8 g128|wbits=4 abits=8"
  "W4A8 g128 + smooth (AWQ search)|wbits=4 abits=8 smooth=search $calib"
  "W4A8 g128 GPTQ + hadamard|wbits=4 abits=8 rotate=hadamard method=gptq $calib"
  "W4A4 g128|wbits=4 abits=4"
  "W4A4 g128 + smooth (AWQ search)|wbits=4 abits=4 smooth=search $calib"
  "W4A4 g128 + hadamard|wbits=4 abits=4 rotate=hadamard"
  "W4A4 g128 + procrustes|wbits=4 abits=4 rotate=procrustes $calib"
  "W3A8 g128 RTN|wbits=3 abits=8"
  "W3A8 g128 GPTQ|wbits=3 abits=8 method=gptq $calib"
  "mixed 2/3/4/8 ILP @0.0635 MiB, A8|abits=8 budget-mib=0.0635 $calib"
)

echo
printf '%-34s %11s %10s %10s %10s\n' configuration "weight MiB" "SQNR dB" "rel err" cosine
printf '%-34s %11s %10s %10s %10s\n' ---------------------------------- ----------- ---------- ---------- ----------
for entry in "${configs[@]}"; do
  name=${entry%%|*}
  options=${entry#*|}
  model=$work/float.mlir
  if [[ -n $options ]]; then
    model=$work/quantized.mlir
    "$bin/quant-opt" "$work/mlp.mlir" --qnn-pipeline="$options" -o "$model" 2>/dev/null
  fi
  report=$("$bin/quant-eval" "$model" --input "$work/eval.npy" \
    --reference "$work/reference.npy" --weights)
  mib=$(sed -n 's/^weights: \([0-9.]*\) MiB$/\1/p' <<<"$report")
  read -r sqnr rel cosine < <(sed -n \
    's/^max-abs [^ ]*  rel \([^ ]*\)  sqnr \([^ ]*\) dB  cosine \([^ ]*\)$/\2 \1 \3/p' <<<"$report")
  printf '%-34s %11s %10s %10s %10s\n' "$name" "$mib" "$sqnr" "$rel" "$cosine"
done
echo
echo "Each row: quant-opt mlp.mlir --qnn-pipeline=\"<options>\" | quant-eval --reference (float64)."
echo "The ILP row's per-layer bits, from --qnn-allocate-bits:"
"$bin/quant-opt" "$work/mlp.mlir" --qnn-pipeline="abits=8 budget-mib=0.0635 $calib" -o /dev/null \
  --qnn-verbose 2>&1 | sed -n '/^layer/,$p'
