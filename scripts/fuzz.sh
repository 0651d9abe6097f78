#!/usr/bin/env bash
# Builds the libFuzzer targets with clang-22 (ASan + UBSan) and runs each for
# a while. Usage: scripts/fuzz.sh [seconds-per-target, default 60]
# Needs a configured build (for the generated qnn .inc files): scripts/build.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${QUANT_BUILD_DIR:-$root/build}
seconds=${1:-60}
out=$build/fuzz
mkdir -p "$out/npy-corpus" "$out/qnn-corpus"

clang=/usr/lib/llvm-22/bin/clang++
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$root/include" -I"$build/include" -isystem /usr/lib/llvm-22/include)

echo "fuzz: building npy-fuzzer"
"$clang" "${flags[@]}" "$root/fuzz/NpyFuzzer.cpp" "$root/lib/Support/Npy.cpp" -o "$out/npy-fuzzer"

echo "fuzz: building qnn-parser-fuzzer"
"$clang" "${flags[@]}" -fno-rtti "$root/fuzz/QNNParserFuzzer.cpp" \
  "$root/lib/Dialect/QNN/IR/QNNDialect.cpp" "$root/lib/Dialect/QNN/IR/QNNOps.cpp" \
  "$root/lib/Support/Hadamard.cpp" -I"$build/lib/Dialect/QNN/IR" \
  -L/usr/lib/llvm-22/lib -lMLIR -lLLVM -Wl,-rpath,/usr/lib/llvm-22/lib -o "$out/qnn-parser-fuzzer"

# Seeds: every element type as .npy, and the qnn round-trip/invalid tests.
/usr/bin/python3 - "$out/npy-corpus" <<'PY'
import sys, numpy as np
for i, t in enumerate(["f4", "f8", "f2", "i1", "i4", "i8", "u1", "?"]):
    np.save(f"{sys.argv[1]}/seed{i}.npy", (np.arange(12) % 5).astype(t).reshape(3, 4))
PY
awk -v dir="$out/qnn-corpus" '/^\/\/ -----/ {n++; next} {print > (dir "/case" n ".mlir")}' \
  "$root/test/Dialect/qnn/invalid.mlir"
cp "$root/test/Dialect/qnn/ops.mlir" "$out/qnn-corpus/ops.mlir"

for target in npy-fuzzer qnn-parser-fuzzer; do
  corpus=$out/${target%-fuzzer}-corpus
  [[ $target == qnn-parser-fuzzer ]] && corpus=$out/qnn-corpus
  echo "fuzz: running $target for ${seconds}s"
  "$out/$target" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$out/$target-" "$corpus" 2>&1 | tail -4
done
