#!/usr/bin/env bash
# Builds build/gpu-bundle/: what bench/gpu/run.sh needs on a GPU machine that
# has no LLVM/MLIR: the runtime (with its embedded kernels), quant-run, the
# GPU checks and benchmarks, the runtime's unit tests, and small models
# compiled here for the GPU with their float64 references.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${QUANT_BUILD_DIR:-$root/build}
out=$build/gpu-bundle
flock /tmp/quant-build.lock ninja -C "$build" quant_runtime quant-run quant-bench-gpu QuantRuntimeTests >/dev/null
rm -rf "$out" && mkdir -p "$out"
cp "$build/lib/libquant_runtime.so" "$build/bin/quant-run" "$build/bin/quant-bench-gpu" \
   "$build/unittests/Runtime/QuantRuntimeTests" "$build/lib/quant/cuda/kernels.fatbin" "$out/"
if [ -x "$root/bench/gpu/make-gpu-models.sh" ]; then
  bash "$root/bench/gpu/make-gpu-models.sh" "$out/models"
fi
du -sh "$out"
