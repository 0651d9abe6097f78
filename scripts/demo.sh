#!/usr/bin/env bash
# Sets up, builds and runs quant's main job on the shipped example: a
# LLaMA-style decoder block (RMSNorm, q/k/v/o projections with RoPE and
# causal attention, SwiGLU MLP; examples/llama/generate_block.py, with
# LLM-like outlier channels and massive-activation tokens) is quantized
# under several recipes, compiled for this CPU (--qnn-lower-to-cpu,
# quant-translate --to-shared-lib), run by quant-run, and scored against the
# float64 reference evaluator (quant-eval) on the float model.
#
#   scripts/demo.sh                       the LLaMA block and the pillar backbone
#   scripts/demo.sh onnx [MODEL.onnx] [--input-shape NAME=D0xD1...]...
#       imports an ONNX model (default: a generated CNN classifier), calibrates
#       it on generated inputs and prints float vs quantized accuracy and speed
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

if [[ ${1:-} == onnx ]]; then
  shift
  onnx_model=""
  if [[ $# -gt 0 && $1 != --* ]]; then
    onnx_model=$1
    shift
  fi
  if [[ -z $onnx_model ]]; then
    echo "== generate a CNN classifier (Conv, BatchNormalization, Relu, MaxPool, depthwise Conv, HardSwish, GlobalAveragePool, Gemm)"
    /usr/bin/python3 "$root/test/onnx/Inputs/make_onnx_model.py" cnn "$work/generated" --seed 7
    /usr/bin/python3 "$root/test/onnx/Inputs/drop_final_softmax.py" "$work/generated/model.onnx" "$work/model.onnx"
    onnx_model=$work/model.onnx
  fi
  echo "== import $onnx_model"
  "$bin/quant-translate" --import-onnx "$onnx_model" "$@" -o "$work/float.mlir"
  /usr/bin/python3 "$root/examples/onnx/make_inputs.py" "$work/float.mlir" "$work"
  inputs=()
  for x in "$work"/x*.npy; do inputs+=(--input "$x"); done
  echo "== calibrate on 16 generated samples"
  "$bin/quant-opt" "$work/float.mlir" --qnn-calibrate="$work/calib.npz" -o "$work/calibrated.mlir"
  "$bin/quant-eval" "$work/float.mlir" "${inputs[@]}" --output "$work/reference.npy" >/dev/null
  onnx_configs=(
    "float (f32)|"
    "W8A8 per-token activations|wbits=8 group=0 abits=8"
    "W8A8 static (calibrated)|wbits=8 group=0 abits=8 act=static"
    "W8A8 + smooth 0.5 (calibrated)|wbits=8 group=0 abits=8 smooth=0.5"
    "W4A8 per-channel|wbits=4 group=0 abits=8"
    "W4A16 per-channel (weight-only)|wbits=4 group=0 abits=0"
  )
  echo "== quantize, compile and run each configuration ($threads thread(s), median of 20 runs)"
  printf '%-32s %10s %10s %9s %8s %11s %9s\n' configuration "weight MiB" "rel err" "SQNR dB" "top-1" "latency ms" speed-up
  printf '%-32s %10s %10s %9s %8s %11s %9s\n' -------------------------------- ---------- ---------- --------- -------- ----------- ---------
  float_ms=""
  for entry in "${onnx_configs[@]}"; do
    name=${entry%%|*}
    options=${entry#*|}
    model=$work/q.mlir
    if [[ -n $options ]]; then
      "$bin/quant-opt" "$work/calibrated.mlir" --qnn-pipeline="$options" -o "$model"
    else
      "$bin/quant-opt" "$work/float.mlir" --qnn-import-linalg -o "$model"
    fi
    mib=$("$bin/quant-eval" "$model" "${inputs[@]}" --weights | sed -n 's/^weights: \([0-9.]*\) MiB$/\1/p')
    "$bin/quant-opt" "$model" --qnn-lower-to-cpu | "$bin/quant-translate" --to-shared-lib -o "$work/model.so"
    report=$("$bin/quant-run" "$work/model.so" "${inputs[@]}" --compare "$work/reference.npy" \
      --bench 20 --threads "$threads")
    ms=$(awk '$1 == "median" {print $2}' <<<"$report")
    rel=$(awk '$1 == "relative" {printf "%.2e", $3}' <<<"$report")
    sqnr=$(awk '$1 == "SQNR" {printf "%.1f", $2}' <<<"$report")
    top1=$(awk '$1 == "top-1" {print $3}' <<<"$report")
    float_ms=${float_ms:-$ms}
    speedup=$(/usr/bin/python3 -c "print('%.2fx' % ($float_ms / $ms))")
    printf '%-32s %10s %10s %9s %8s %11s %9s\n' "$name" "$mib" "$rel" "$sqnr" "${top1:--}" "$ms" "$speedup"
  done
  echo
  echo "Each row: quant-opt calibrated.mlir --qnn-pipeline=\"<options>\" | quant-opt --qnn-lower-to-cpu"
  echo "  | quant-translate --to-shared-lib; quant-run --compare reference.npy --bench. Errors are against"
  echo "  the float64 evaluator on the imported float model; top-1 is argmax agreement per row."
  exit 0
fi

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
  "W4A4 g128 + procrustes, dense online|wbits=4 abits=4 rotate=procrustes refine-online=true $calib"
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

echo
echo "== sparse pillar convolution: a PointPillars-like backbone (examples/pointpillars)"
pp=$work/pointpillars
pillars=(--input "$pp/features.npy" --input "$pp/coords.npy")
# Dynamic-row results come back padded, each followed by its row count.
outputs=(--output "$pp/out.npy" --output "$pp/rows.npy" --output "$pp/out_coords.npy"
  --output "$pp/coord_rows.npy")
/usr/bin/python3 "$root/examples/pointpillars/pointpillars.py" scene "$pp"
"$bin/quant-opt" "$pp/layer1.mlir" --qnn-lower-to-cpu | "$bin/quant-translate" --to-shared-lib -o "$pp/layer1.so"
"$bin/quant-run" "$pp/layer1.so" "${pillars[@]}" "${outputs[@]}"
/usr/bin/python3 "$root/examples/pointpillars/pointpillars.py" check-dense "$pp" "$pp/out.npy" "$pp/rows.npy"
"$bin/quant-opt" "$pp/backbone.mlir" --qnn-lower-to-cpu | "$bin/quant-translate" --to-shared-lib -o "$pp/backbone.so"
bench=$("$bin/quant-run" "$pp/backbone.so" "${pillars[@]}" "${outputs[@]}" --bench 10 --threads "$threads")
"$bin/quant-eval" "$pp/backbone.mlir" "${pillars[@]}" --output "$pp/reference.npy"
echo "backbone (submanifold 16→32, stride-2 32→64, selective dilation 64→64 top 10 %, submanifold 64→64):"
/usr/bin/python3 "$root/examples/pointpillars/pointpillars.py" compare "$pp/out.npy" "$pp/rows.npy" \
  "$pp/reference.npy"
echo "latency: median $(awk '$1 == "median" {print $2}' <<<"$bench") ms ($threads thread(s), 10 runs)"
if [[ -x $build/bench/cpu/quant-bench-pillar ]]; then
  occupancy=$(/usr/bin/python3 -c "import numpy as np; print(round(len(np.load('$pp/coords.npy')) / (496 * 432), 4))")
  echo "one 64→64 3x3 layer at this occupancy, sparse kernels vs oneDNN's dense conv of the pseudo-image:"
  "$build/bench/cpu/quant-bench-pillar" --occupancy "$occupancy" --threads "$threads" --repeat 3 | sed -n '3,5p'
fi
