#!/usr/bin/env bash
# Builds build/device/: the runtime, quant-run, the micro-kernel tests and
# models compiled here for x86-64-v4 + VNNI with their float64 references,
# for bench/cpu/device-check.sh on a machine with AVX-512.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${QUANT_BUILD_DIR:-$root/build}
bin=$build/bin
inputs=$root/test/e2e/Inputs
target=(--target-cpu=x86-64-v4 --target-features=+avx512vnni)
out=$build/device
rm -rf "$out" && mkdir -p "$out/models" "$out/block"
cp "$build/lib/libquant_runtime.so" "$build/unittests/UKernels/QuantUKernelsTests" "$bin/quant-run" "$out/"

i=0
while read -r kind args; do
  i=$((i + 1)); m=$out/models/m$i
  /usr/bin/python3 "$inputs/make_model.py" "$m.mlir" $kind $args >/dev/null
  "$bin/quant-opt" "$m.mlir" --qnn-lower-to-cpu | "$bin/quant-translate" --to-shared-lib "${target[@]}" -o "$m.so"
  /usr/bin/python3 "$inputs/random_npy.py" "$m.x.npy" --like "$m.mlir" >/dev/null
  "$bin/quant-eval" "$m.mlir" --input "$m.x.npy" --output "$m.ref.npy" >/dev/null
  echo "m$i $kind $args" >> "$out/models/list.txt"
done <<'MODELS'
matmul --m 16 --k 128 --n 48 --bias --epilogue gelu
matmul --m 1 --k 4096 --n 256 --wbits 4 --group 128 --act token8
matmul --m 16 --k 128 --n 48 --wbits 8 --act token8
matmul --m 7 --k 256 --n 40 --wbits 4 --group 128 --act token8 --bias --epilogue silu
matmul --m 3 --k 128 --n 24 --wbits 4 --group 32 --asym --act token8 --epilogue relu
matmul --m 9 --k 128 --n 17 --wbits 4 --group 64 --act token4
matmul --m 4 --k 128 --n 40 --wbits 3 --group 32 --act token8
matmul --m 4 --k 96 --n 40 --wbits 2 --asym --act token8
matmul --m 6 --k 64 --n 32 --wbits 8 --act static --bias
matmul --m 6 --k 64 --n 32 --wbits 4 --group 32 --act static-u8
matmul --m 1 --k 256 --n 64 --wbits 4 --group 128
matmul --m 3 --k 128 --n 24 --wbits 4 --group 32 --asym --bias
matmul --m 9 --k 128 --n 48 --wbits 8 --split --act token8
matmul --m 8 --k 128 --n 32 --wbits 4 --group 32 --prologue
matmul --m 64 --k 512 --n 384 --wbits 8 --act token8
matmul --m 33 --k 384 --n 100 --wbits 3 --asym --group 128 --act token8
conv --layout nhwc --wbits 8 --act static --pad 1 --bias --epilogue relu
conv --layout nchw --wbits 4 --stride 2 --pad 1 --epilogue gelu
conv --layout nchw --stride 2 --pad 1 --bias --epilogue relu6
MODELS

cd "$out/block"
/usr/bin/python3 "$root/examples/llama/generate_block.py" . --hidden 512 --heads 8 --tokens 16 >/dev/null 2>&1
"$bin/quant-eval" block.mlir --input eval.npy --output float_ref.npy >/dev/null
for entry in "float|" "w8a8|wbits=8 group=0 abits=8" "w4a8|wbits=4 abits=8" \
    "w4a8_gptq_had|wbits=4 abits=8 rotate=hadamard method=gptq calibration=calib.npy" \
    "w4a4_had|wbits=4 abits=4 rotate=hadamard" "w4a16|wbits=4 abits=0"; do
  name=${entry%%|*}; options=${entry#*|}
  if [[ -z $options ]]; then
    "$bin/quant-opt" block.mlir --qnn-import-linalg -o "$name.mlir"
  else
    "$bin/quant-opt" block.mlir --qnn-pipeline="$options" -o "$name.mlir" 2>/dev/null
  fi
  "$bin/quant-opt" "$name.mlir" --qnn-lower-to-cpu | "$bin/quant-translate" --to-shared-lib "${target[@]}" -o "$name.so"
  "$bin/quant-eval" "$name.mlir" --input eval.npy --output "$name.ref.npy" >/dev/null
  echo "$name $("$bin/quant-eval" "$name.mlir" --input eval.npy --weights | sed -n 's/^weights: //p')" >> list.txt
done
rm -f ./*.mlir
