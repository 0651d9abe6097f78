#!/usr/bin/env bash
# On a GPU machine (the `device` tool), after bench/gpu/make-gpu-bundle.sh
# here:  run(command="bash bench/gpu/run.sh", carry=["build/gpu-bundle"])
# Checks every GPU kernel against float64 (also under compute-sanitizer's
# memcheck, initcheck and racecheck), runs the runtime's CUDA unit
# tests and the compiled GPU models, then benchmarks against cuBLAS,
# cuBLASLt and PyTorch (and the sparse pillar conv against cuDNN's dense
# one through PyTorch). Logs go to $OUT; the tables are printed last.
set -uo pipefail
bundle=build/gpu-bundle
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out"
cublas_dir=$(python3 -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null || true)
export LD_LIBRARY_PATH=$bundle:/usr/local/cuda/lib64:${cublas_dir}:${LD_LIBRARY_PATH:-}
status=0
step() { echo "== $*"; }

step device
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu --format=csv | tee "$out/device.txt"

step "kernel checks (float64 references, fresh seed)"
"$bundle/quant-bench-gpu" check > "$out/check.txt" 2>&1 || status=1
grep -E "FAIL|failure|seed|device" "$out/check.txt"

# The same checks under compute-sanitizer: out-of-bounds and misaligned
# accesses, reads of never-written global memory, shared-memory races
# (about 85 s together on an H100).
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
for tool in memcheck initcheck racecheck; do
  step "kernel checks under compute-sanitizer --tool $tool"
  "$sanitizer" --tool "$tool" --error-exitcode 3 --print-limit 20 \
    "$bundle/quant-bench-gpu" check > "$out/check-$tool.txt" 2>&1 || status=1
  grep -E "ERROR SUMMARY|RACECHECK SUMMARY|failure\(s\)" "$out/check-$tool.txt"
done

step "runtime unit tests (CUDA)"
"$bundle/QuantRuntimeTests" --gtest_filter='*Cuda*:*Gpu*' > "$out/unittests.txt" 2>&1 || status=1
grep -E "^\[  (PASSED|FAILED) " "$out/unittests.txt"

if [ -f "$bundle/models/run-models.sh" ]; then
  step "compiled GPU models (quant-run --device cuda vs float64)"
  bash "$bundle/models/run-models.sh" "$bundle" > "$out/models.txt" 2>&1 || status=1
  # The whole table (one line per model) is $OUT/models.txt.
  grep -E "^model | FAIL |^models:" "$out/models.txt" | cut -c1-240
fi

if command -v cuobjdump >/dev/null; then
  step "SASS of the tensor-core kernels"
  cuobjdump --dump-sass --gpu-architecture sm_90a "$bundle/kernels.fatbin" > "$out/sass.txt" 2>&1 || true
  grep -oE "(HMMA|IMMA|[HI]GMMA|UTMALDG|LDSM|LDGSTS|SHFL\.BFLY|LDL|STL)[A-Z0-9.]*" "$out/sass.txt" | sort | uniq -c
fi

step "benchmarks"
"$bundle/quant-bench-gpu" bench ${QUICK:+--quick} > "$out/bench.txt" 2>&1 || status=1
python3 bench/gpu/torch_peer.py ${QUICK:+--quick} > "$out/torch.txt" 2>&1 || status=1
"$bundle/quant-bench-gpu" pillar ${QUICK:+--quick} > "$out/pillar.txt" 2>&1 || status=1
python3 bench/gpu/torch_pillar_peer.py --sparse "$out/pillar.txt" ${QUICK:+--quick} > "$out/pillar-peer.txt" 2>&1 || status=1
cat "$out/check.txt" | tail -75
cat "$out/bench.txt" "$out/torch.txt"
grep -v '^pillar-row' "$out/pillar.txt"
cat "$out/pillar-peer.txt"
exit $status
