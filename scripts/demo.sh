#!/usr/bin/env bash
# Sets up, builds and runs quant's main job on the shipped example: a
# LLaMA-style decoder block (RMSNorm, q/k/v/o projections with RoPE and
# causal attention, SwiGLU MLP; examples/llama/generate_block.py, with
# LLM-like outlier channels and massive-activation tokens) is quantized
# under several recipes, compiled for this CPU (--qnn-lower-to-cpu,
# quant-translate --to-shared-lib), run by quant-run, and scored against the
# float64 reference evaluator (quant-eval) on the float model.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${QUANT_BUILD_DIR:-$root/build}
bin=$build/bin
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
hidden=${QUANT_DEMO_HIDDEN:-512}
heads=${QUANT_DEMO_HEADS:-8}
tokens=${QUANT_DEMO_TOKENS:-16}
threads=${QUANT_DEMO_THREADS:-1}

bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" "$build"

echo "== IR round trip of examples/llama/mlp_w4a8.mlir (a hand-written W4A8 MLP)"
"$bin/quant-opt" "$root/examples/llama/mlp_w4a8.mlir" -o "$work/parsed.mlir"
"$bin/quant-opt" "$root/examples/llama/mlp_w4a8.mlir" --mlir-print-op-generic |
  "$bin/quant-opt" -o "$work/roundtrip.mlir"
diff -q "$work/parsed.mlir" "$work/roundtrip.mlir" >/dev/null
echo "   ok: verified, custom and generic forms agree"

echo "== generate the decoder block (hidden $hidden, $heads heads, $tokens tokens; weights as dense_resource)"
/usr/bin/python3 "$root/examples/llama/generate_block.py" "$work" --hidden "$hidden" --heads "$heads" \
  --tokens "$tokens"
"$bin/quant-eval" "$work/block.mlir" --input "$work/eval.npy" --output "$work/reference.npy" >/dev/null

calib="calibration=$work/calib.npy"
budget=$(/usr/bin/python3 -c "print(round(4.6 * $hidden * $hidden * 12 / 8 / 2**20, 3))")
# name | --qnn-pipeline options ("" = the float model itself)
configs=(
  "float (f32 GEMM kernels)|"
  "W8A8 per-channel|wbits=8 group=0 abits=8"
  "W4A8 g128|wbits=4 abits=8"
  "W4A8 g128 + smooth (AWQ search)|wbits=4 abits=8 smooth=search $calib"
  "W4A8 g128 GPTQ + hadamard|wbits=4 abits=8 rotate=hadamard method=gptq $calib"
  "W4A4 g128 + smooth (AWQ search)|wbits=4 abits=4 smooth=search $calib"
  "W4A4 g128 + hadamard|wbits=4 abits=4 rotate=hadamard"
  "W4A4 g128 + procrustes|wbits=4 abits=4 rotate=procrustes $calib"
  "W4A16 g128 (weight-only)|wbits=4 abits=0"
  "mixed 2/3/4/8 ILP @${budget} MiB, A8|abits=8 budget-mib=$budget $calib"
)

echo "== quantize, compile and run each configuration ($threads thread(s), median of 20 runs)"
printf '%-36s %10s %9s %10s %10s %11s %9s\n' configuration "weight MiB" "SQNR dB" "rel err" "rel err Δ" "latency ms" speed-up
printf '%-36s %10s %9s %10s %10s %11s %9s\n' ------------------------------------ ---------- --------- ---------- ---------- ----------- ---------
float_ms=""
for entry in "${configs[@]}"; do
  name=${entry%%|*}
  options=${entry#*|}
  model=$work/q.mlir
  if [[ -n $options ]]; then
    "$bin/quant-opt" "$work/block.mlir" --qnn-pipeline="$options" -o "$model" 2>/dev/null
  else
    "$bin/quant-opt" "$work/block.mlir" --qnn-import-linalg -o "$model"
  fi
  mib=$("$bin/quant-eval" "$model" --input "$work/eval.npy" --weights | sed -n 's/^weights: \([0-9.]*\) MiB$/\1/p')
  "$bin/quant-opt" "$model" --qnn-lower-to-cpu | "$bin/quant-translate" --to-shared-lib -o "$work/model.so"
  bench=$("$bin/quant-run" "$work/model.so" --input "$work/eval.npy" --output "$work/out.npy" \
    --bench 20 --threads "$threads")
  ms=$(awk '$1 == "median" {print $2}' <<<"$bench")
  read -r sqnr rel delta < <(/usr/bin/python3 "$root/examples/llama/score.py" "$work/out.npy" \
    "$work/reference.npy" "$work/eval.npy")
  float_ms=${float_ms:-$ms}
  speedup=$(/usr/bin/python3 -c "print('%.2fx' % ($float_ms / $ms))")
  printf '%-36s %10s %9s %10s %10s %11s %9s\n' "$name" "$mib" "$sqnr" "$rel" "$delta" "$ms" "$speedup"
done
echo
echo "Each row: quant-opt block.mlir --qnn-pipeline=\"<options>\" | quant-opt --qnn-lower-to-cpu"
echo "  | quant-translate --to-shared-lib; quant-run --bench. Errors are against the float64"
echo "  evaluator on the float model; 'rel err Δ' is on the block's update out - x (the residual"
echo "  hides most of the error in 'rel err'). Speed-up is against the float build's latency."
