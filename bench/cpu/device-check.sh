#!/usr/bin/env bash
# Runs the AVX-512 VNNI half of the CPU path on the device machine, whose
# CPU has AVX-512 (the development VMs and CI do not expose it): the
# micro-kernel GoogleTests of the VNNI variant, compiled e2e models against
# their float64 references, and the decoder block's latency.
# Needs build/device/ (made by bench/cpu/make-device-bundle.sh) carried.
set -uo pipefail
cd "$(dirname "$0")/../.."
dev=build/device
export LD_LIBRARY_PATH=$PWD/$dev
echo "== CPU"; lscpu | grep -E "Model name|^CPU\(s\)|Thread|Core"; grep -o -m1 -w "avx512_vnni\|avx512f\|avx512bw\|avx512vl" /proc/cpuinfo | sort -u | tr '\n' ' '; echo
echo "== micro-kernel tests (both variants, 1 and 2 threads)"
"$dev/QuantUKernelsTests" --gtest_brief=1 2>&1 | tail -5
echo "== compiled models (x86-64-v4 + VNNI) vs float64 evaluator"
failures=0
while read -r name description; do
  m=$dev/models/$name
  if ! "$dev/quant-run" "$m.so" --input "$m.x.npy" --output "$m.y.npy" --threads 2 >/dev/null 2>"$m.err"; then
    echo "FAIL run $name ($description): $(cat "$m.err")"; failures=$((failures + 1)); continue
  fi
  result=$(python3 test/e2e/Inputs/compare.py "$m.y.npy" "$m.ref.npy" --rtol 1e-5) || failures=$((failures + 1))
  printf '%-4s %-70s %s\n' "$name" "$description" "$result"
done < "$dev/models/list.txt"
echo "== decoder block (D=512, 16 tokens): latency median ms over 50 runs"
b=$dev/block
printf '%-16s %10s %10s %10s %12s %12s\n' model "1 thread" "2 threads" "16 threads" "vs own IR" "vs float64"
while read -r name _; do
  row=()
  for t in 1 2 16; do
    row+=("$("$dev/quant-run" "$b/$name.so" --input "$b/eval.npy" --output "$b/$name.out.npy" \
      --bench 50 --warmup 5 --threads $t | awk '$1 == "median" {print $2}')")
  done
  own=$(python3 test/e2e/Inputs/compare.py "$b/$name.out.npy" "$b/$name.ref.npy" --rtol 1e-5 | awk '{print $3}')
  vs=$(python3 examples/llama/score.py "$b/$name.out.npy" "$b/float_ref.npy" "$b/eval.npy")
  printf '%-16s %10s %10s %10s %12s %12s\n' "$name" "${row[@]}" "$own" "$vs"
done < "$b/list.txt"
echo "failures: $failures"
