#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-22 (ASan + UBSan) and runs each for
# a while. Usage: scripts/fuzz.sh [seconds-per-target, default 60] [TARGET...]
# where TARGET is npy, npz, model-signature, qnn-parser or onnx-import
# (default: all).
# Needs a configured build (for the generated qnn .inc files): scripts/build.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${QUANT_BUILD_DIR:-$root/build}
seconds=${1:-60}
targets=(npy npz model-signature qnn-parser onnx-import)
if (($# > 1)); then
  targets=("${@:2}")
fi
out=$build/fuzz

clang=/usr/lib/llvm-22/bin/clang++
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/include" -I"$build/include" -isystem /usr/lib/llvm-22/include)

# Builds a target and writes its seed corpus to $out/NAME-corpus.
build_npy() {
  "$clang" "${flags[@]}" "$root/fuzz/NpyFuzzer.cpp" "$root/lib/Support/Npy.cpp" -o "$out/npy-fuzzer"
  /usr/bin/python3 - "$out/npy-corpus" <<'PY'
import sys, numpy as np
for i, t in enumerate(["f4", "f8", "f2", "i1", "i4", "i8", "u1", "?"]):
    np.save(f"{sys.argv[1]}/seed{i}.npy", (np.arange(12) % 5).astype(t).reshape(3, 4))
PY
}

build_npz() {
  "$clang" "${flags[@]}" "$root/fuzz/NpzFuzzer.cpp" "$root/lib/Support/Npz.cpp" \
    "$root/lib/Support/Npy.cpp" -lz -o "$out/npz-fuzzer"
  /usr/bin/python3 - "$out/npz-corpus" <<'PY'
import sys, numpy as np
x = (np.arange(12) % 5).astype("f4").reshape(3, 4)
np.savez(f"{sys.argv[1]}/stored.npz", x=x, labels=np.arange(3))
np.savez_compressed(f"{sys.argv[1]}/deflate.npz", x=x, h=x.astype("f2"))
np.savez_compressed(f"{sys.argv[1]}/mixed.npz", x)
np.savez(f"{sys.argv[1]}/empty.npz")
PY
}

build_model-signature() {
  "$clang" "${flags[@]}" "$root/fuzz/ModelSignatureFuzzer.cpp" "$root/runtime/Model.cpp" \
    "$root/runtime/Runtime.cpp" "$root/lib/Support/Npy.cpp" -ldl -o "$out/model-signature-fuzzer"
  local corpus=$out/model-signature-corpus
  printf 'quant-model 1\ninput x float32 [2,3]\ninput s float32 []\noutput y float32 [2, 3]\n' >"$corpus/basic"
  printf 'quant-model 1\r\n\r\ninput ids int64 [1,128]\noutput logits float16 [1,128,32000]\n' >"$corpus/crlf"
  printf 'quant-model 1\noutput a bool [0]\noutput b uint8 [4,0,2]\n' >"$corpus/empty-dims"
  printf 'quant-model 2\noutput y int8 [1]\n' >"$corpus/version"
}

build_qnn-parser() {
  "$clang" "${flags[@]}" -fno-rtti "$root/fuzz/QNNParserFuzzer.cpp" \
    "$root/lib/Dialect/QNN/IR/QNNDialect.cpp" "$root/lib/Dialect/QNN/IR/QNNOps.cpp" \
    "$root/lib/Support/Hadamard.cpp" -I"$build/lib/Dialect/QNN/IR" \
    -L/usr/lib/llvm-22/lib -lMLIR -lLLVM -Wl,-rpath,/usr/lib/llvm-22/lib -o "$out/qnn-parser-fuzzer"
  # Seeds: the qnn round-trip and invalid-IR tests.
  awk -v dir="$out/qnn-parser-corpus" '/^\/\/ -----/ {n++; next} {print > (dir "/case" n ".mlir")}' \
    "$root/test/Dialect/qnn/invalid.mlir"
  cp "$root/test/Dialect/qnn/ops.mlir" "$out/qnn-parser-corpus/ops.mlir"
}

build_onnx-import() {
  "$clang" "${flags[@]}" -fno-rtti -DONNX_ML=1 -DONNX_NAMESPACE=onnx \
    "$root/fuzz/ONNXImportFuzzer.cpp" "$root"/lib/Target/ONNX/*.cpp \
    -L/usr/lib/llvm-22/lib -lMLIR -lLLVM -lonnx_proto -lprotobuf \
    -Wl,-rpath,/usr/lib/llvm-22/lib -o "$out/onnx-import-fuzzer"
  # Seeds: a few small models of the importer tests, one per op family.
  local corpus=$out/onnx-import-corpus tmp
  tmp=$(mktemp -d)
  for case in conv_basic convtranspose_basic maxpool batchnorm layernorm \
      gemm_bias matmul_batched_broadcast add_broadcast clip_opset11 \
      softmax_opset13_axis1 reducemean_keepdims resize_linear_half_pixel \
      reshape_zero_minus_one slice_steps gather_2d_indices squeeze_opset13 \
      shape_chain_reshape_opset13 constant_nodes cast_roundtrip two_outputs; do
    /usr/bin/python3 "$root/test/onnx/Inputs/make_onnx_model.py" "$case" "$tmp/$case" >/dev/null 2>&1
    cp "$tmp/$case/model.onnx" "$corpus/$case.onnx"
  done
  rm -rf "$tmp"
}

for target in "${targets[@]}"; do
  if ! declare -F "build_$target" >/dev/null; then
    echo "fuzz: unknown target '$target' (npy, npz, model-signature, qnn-parser, onnx-import)" >&2
    exit 2
  fi
done
for target in "${targets[@]}"; do
  echo "fuzz: building $target-fuzzer"
  mkdir -p "$out/$target-corpus"
  "build_$target"
done
for target in "${targets[@]}"; do
  echo "fuzz: running $target-fuzzer for ${seconds}s"
  "$out/$target-fuzzer" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$out/$target-fuzzer-" "$out/$target-corpus" 2>&1 | tail -4
done
