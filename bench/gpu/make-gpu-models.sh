#!/usr/bin/env bash
# usage: bench/gpu/make-gpu-models.sh OUTDIR
#
# The GPU end-to-end model checks of bench/gpu/make-gpu-bundle.sh (which
# calls this with build/gpu-bundle/models). Compiles, here, one small model
# per GPU lowering with --qnn-lower-to-gpu | quant-translate --to-shared-lib,
# makes fresh random inputs (new seeds every build, kept in OUTDIR/seeds.txt
# for replay) and float64 references computed independently of the code
# under test: quant-eval (the float64 reference evaluator) on the same IR,
# and for the float LLaMA block generate_block.py --check's numpy float64
# implementation. Writes OUTDIR/run-models.sh, which bench/gpu/run.sh runs
# on the GPU machine as `bash $bundle/models/run-models.sh $bundle`: each
# model under quant-run --device cuda --compare, once and then again with
# --bench (whose last output must meet the bound too), one line per model
# (name, relative L2 error, bound, ok/FAIL, median latency), exit status 1
# on any failure.
#
# Models whose lowering the GPU rejects by design (2/3-bit weights,
# asymmetric weights under integer activations, scale groups of 32) are
# checked here, at build time: quant-opt
# --qnn-lower-to-gpu must fail with exit status 1 and the expected
# diagnostic (no crash); run-models.sh lists them as "rejected as expected"
# (or FAIL).
#
# Bounds (relative L2 error ||y - ref|| / ||ref||):
#   1e-5  float paths (f32 FFMA GEMM, f32 Hadamard butterflies, f32
#         generics) against float64; integer paths (W8A8, W4A8, W4A4, static
#         or per-token activations) against quant-eval, which computes the
#         same quantized function in float64: the activation codes are
#         bit-exact (quantization in double on both sides), the int32 group
#         sums exact, only the f32 scaling differs (~1e-7).
#   0     qnn.quantize per_token on its own: codes and scales bit-exact.
#   1e-3  weight-only W4A16 / W8A16: the GPU kernel (qr_gpu_matmul_f16w)
#         rounds the activations to f16 before the tensor-core mma (the
#         weights u - z are exact in f16), a relative error of ~2.5e-4
#         (f16 unit roundoff 2^-11, uniform: 2^-11 / sqrt(3); 2.1-2.6e-4
#         simulated in numpy at these shapes) against the float64 quantized
#         reference, which keeps f32/f64 activations.
#   1e-3  requantized outputs (epilogue requantize): an f32 product within
#         ~1e-7 of a rounding boundary of the output scale may land one
#         output step (0.05) away from the float64 reference's; the model is
#         large enough (16k outputs) that a few such steps stay < 1e-3.
#   1e-3  quantized LLaMA blocks against quant-eval on the quantized IR:
#         per-token activation codes are recomputed inside the block from
#         f32 intermediates (GPU GEMM order, rsqrt.approx, ex2.approx in
#         softmax/SiLU) that differ from float64 by ~1e-7, so now and then
#         a code lands one step away (each such step costs ~4e-5 on the
#         block's output, measured by perturbing the input by 1e-7..1e-6);
#         W4A16's f16 activations are diluted by the residual stream
#         (|out - x| / |out| ~ 0.1). The single-op models above hold the
#         kernels to the tight bounds.
#
# Testing the harness without a GPU: QUANT_MODELS_TARGET=cpu compiles the
# same models with --qnn-lower-to-cpu, and run-models.sh then runs them
# with --device cpu (the rejection checks still use --qnn-lower-to-gpu).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${QUANT_BUILD_DIR:-$root/build}
bin=$build/bin
inputs=$root/test/e2e/Inputs
py=/usr/bin/python3
target=${QUANT_MODELS_TARGET:-gpu}
out=${1:?usage: make-gpu-models.sh OUTDIR}
case $target in
  gpu) lower=--qnn-lower-to-gpu device=cuda ;;
  cpu) lower=--qnn-lower-to-cpu device=cpu ;;
  *) echo "make-gpu-models.sh: QUANT_MODELS_TARGET must be gpu or cpu" >&2; exit 2 ;;
esac
flock /tmp/quant-build.lock ninja -C "$build" quant-opt quant-translate quant-eval >/dev/null
rm -rf "$out" && mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "$device" > "$out/device.txt"
: > "$out/list.txt"
: > "$out/seeds.txt"

# Our own small generators (the ops make_model.py does not write), fresh
# random constants unless --seed; prints its seed. Writes OUT.mlir and
# OUT.shapes (the input shapes, one a line, in argument order).
cat > "$work/gen.py" <<'PY'
import argparse
import random

import numpy as np


def fmt(a):
    return np.array2string(np.asarray(a), separator=", ", threshold=np.inf,
                           max_line_width=np.inf,
                           formatter={"float_kind": lambda v: "%.9g" % v,
                                      "int": lambda v: "%d" % v})


def ty(shape, element="f32"):
    return "tensor<%sx%s>" % ("x".join(map(str, shape)), element)


p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("kind", choices=["hadamard", "rotate", "matmul", "batch-matmul",
                                "quantize", "conv"])
p.add_argument("--rows", type=int, default=8)
p.add_argument("--n", type=int, default=64)
p.add_argument("--signs", action="store_true")
p.add_argument("--b", type=int, default=1)
p.add_argument("--m", type=int, default=16)
p.add_argument("--k", type=int, default=64)
p.add_argument("--constant-b", action="store_true")
p.add_argument("--transpose-b", action="store_true")
p.add_argument("--accumulate", action="store_true")
p.add_argument("--bits", type=int, default=8)
p.add_argument("--layout", default="nhwc")
p.add_argument("--channels", type=int, default=64)
p.add_argument("--filters", type=int, default=32)
p.add_argument("--stride", type=int, default=1)
p.add_argument("--pad", type=int, default=1)
p.add_argument("--wbits", type=int, default=8)
p.add_argument("--act", default="float")
p.add_argument("--seed", type=int, default=None)
a = p.parse_args()
seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**31)
print("gen.py seed", seed)
rng = np.random.default_rng(seed)
lines, args, shapes = [], [], []


def arg(shape):
    name = "%%a%d" % len(args)
    args.append("%s: %s" % (name, ty(shape)))
    shapes.append(shape)
    return name


if a.kind == "hadamard":
    x = arg((a.rows, a.n))
    signs = (" signs [%s]" % ", ".join(map(str, rng.choice([-1, 1], a.n)))) if a.signs else ""
    lines.append("%%y = qnn.hadamard %s%s : %s" % (x, signs, ty((a.rows, a.n))))
    results = [("%y", ty((a.rows, a.n)))]
elif a.kind == "rotate":
    x = arg((a.rows, a.n))
    r, upper = np.linalg.qr(rng.standard_normal((a.n, a.n)))
    r = (r * np.sign(np.diag(upper))).astype(np.float32)
    lines.append("%%y = qnn.rotate %s by dense<%s> : %s : %s"
                 % (x, fmt(r), ty((a.n, a.n)), ty((a.rows, a.n))))
    results = [("%y", ty((a.rows, a.n)))]
elif a.kind in ("matmul", "batch-matmul"):
    batch = (a.b,) if a.kind == "batch-matmul" else ()
    x = arg(batch + (a.m, a.k))
    bshape = batch + ((a.n, a.k) if a.transpose_b else (a.k, a.n))
    if a.constant_b:
        w = (rng.standard_normal(bshape) / np.sqrt(a.k)).astype(np.float32)
        lines.append("%%w = arith.constant dense<%s> : %s" % (fmt(w), ty(bshape)))
        w = "%w"
    else:
        w = arg(bshape)
    cshape = batch + (a.m, a.n)
    if a.accumulate:
        init = arg(cshape)
    else:
        lines.append("%zero = arith.constant 0.0 : f32")
        lines.append("%%empty = tensor.empty() : %s" % ty(cshape))
        lines.append("%%init = linalg.fill ins(%%zero : f32) outs(%%empty : %s) -> %s"
                     % (ty(cshape), ty(cshape)))
        init = "%init"
    maps = ""
    if a.transpose_b:
        d = "d0, " if batch else ""
        dims = "(d0, d1, d2, d3)" if batch else "(d0, d1, d2)"
        i, j, k = ("d1", "d2", "d3") if batch else ("d0", "d1", "d2")
        maps = (" indexing_maps = [affine_map<%s -> (%s%s, %s)>, affine_map<%s -> (%s%s, %s)>,"
                " affine_map<%s -> (%s%s, %s)>]" % (dims, d, i, k, dims, d, j, k, dims, d, i, j))
    op = "linalg.batch_matmul" if batch else "linalg.matmul"
    lines.append("%%y = %s%s ins(%s, %s : %s, %s) outs(%s : %s) -> %s"
                 % (op, maps, x, w, ty(batch + (a.m, a.k)), ty(bshape), init, ty(cshape), ty(cshape)))
    results = [("%y", ty(cshape))]
elif a.kind == "quantize":
    x = arg((a.rows, a.n))
    lines.append("%%q, %%s = qnn.quantize %s per_token : %s -> %s, %s"
                 % (x, ty((a.rows, a.n)), ty((a.rows, a.n), "i%d" % a.bits), ty((a.rows,))))
    results = [("%q", ty((a.rows, a.n), "i%d" % a.bits)), ("%s", ty((a.rows,)))]
elif a.kind == "conv":
    # Integer weights (per-channel symmetric RTN in numpy, as make_model.py)
    # with C a multiple of 64, the GPU kernels' K block at each tap.
    b, h, w_, c, f, kh = 2, 9, 8, a.channels, a.filters, 3
    nhwc = a.layout == "nhwc"
    xshape = (b, h, w_, c) if nhwc else (b, c, h, w_)
    x = arg(xshape)
    weights = rng.standard_normal((kh, kh, c, f)) / np.sqrt(kh * kh * c)  # HWCF
    qmax = 2.0 ** (a.wbits - 1) - 1
    scales = np.maximum(np.abs(weights).reshape(-1, f).max(axis=0), 1e-6) / qmax
    q = np.clip(np.round(weights / scales), -qmax - 1, qmax).astype(np.int64)
    stored = q if nhwc else q.transpose(3, 2, 0, 1)
    wtype = ty(stored.shape, "i%d" % a.wbits)
    lines.append("%%w = arith.constant dense<%s> : %s" % (fmt(stored), wtype))
    lines.append("%%w_s = arith.constant dense<%s> : %s"
                 % (fmt(scales.astype(np.float32)[None, :]), ty((1, f))))
    lines.append("%%b = arith.constant dense<%s> : %s"
                 % (fmt(rng.standard_normal(f).astype(np.float32)), ty((f,))))
    in_type, operand = ty(xshape), x
    if a.act == "static":
        in_type = ty(xshape, "!quant.uniform<i8:f32, 0.04:2>")
        lines.append("%%q = qnn.quantize %s : %s -> %s" % (x, ty(xshape), in_type))
        operand = "%q"
    s, pd = a.stride, a.pad
    oh, ow = (h + 2 * pd - kh) // s + 1, (w_ + 2 * pd - kh) // s + 1
    rtype = ty((b, oh, ow, f) if nhwc else (b, f, oh, ow))
    lines.append("%%y = qnn.conv2d %s, %%w scales(%%w_s : %s) bias(%%b : %s) layout %s "
                 "strides [%d, %d] padding [%d, %d, %d, %d] epilogue relu : %s, %s -> %s"
                 % (operand, ty((1, f)), ty((f,)), a.layout, s, s, pd, pd, pd, pd,
                    in_type, wtype, rtype))
    results = [("%y", rtype)]

with open(a.out + ".mlir", "w") as fh:
    fh.write("func.func @model(%s) -> (%s) {\n%s\n  return %s : %s\n}\n"
             % (", ".join(args), ", ".join(t for _, t in results),
                "\n".join("  " + l for l in lines),
                ", ".join(v for v, _ in results), ", ".join(t for _, t in results)))
with open(a.out + ".shapes", "w") as fh:
    fh.write("".join("x".join(map(str, s)) + "\n" for s in shapes))
PY

# add NAME BOUND DESCRIPTION MODEL.mlir [SHAPES]: compiles MODEL.mlir for
# the target, writes NAME.in<i>.npy (fresh random, one per line of SHAPES,
# else shaped like the first argument) and NAME.ref<i>.npy (quant-eval,
# float64, one per result), and lists the model.
add() {
  local name=$1 bound=$2 description=$3 model=$4 shapes=${5:-} line i refs=()
  local ins=()
  "$bin/quant-opt" "$model" $lower | "$bin/quant-translate" --to-shared-lib -o "$out/$name.so"
  if [[ -n $shapes ]]; then
    i=0
    while read -r line; do
      echo "$name in$i $("$py" "$inputs/random_npy.py" "$out/$name.in$i.npy" "$line")" >> "$out/seeds.txt"
      ins+=(--input "$out/$name.in$i.npy"); i=$((i + 1))
    done < "$shapes"
  else
    echo "$name in0 $("$py" "$inputs/random_npy.py" "$out/$name.in0.npy" --like "$model")" >> "$out/seeds.txt"
    ins=(--input "$out/$name.in0.npy")
  fi
  # quant-eval writes float64; integer results (quantized codes) are
  # stored in the output's dtype for quant-run --compare.
  local dtypes
  dtypes=($("$bin/quant-run" --inspect "$out/$name.so" | awk '$1 == "output" {print $3}'))
  for ((i = 0; i < ${#dtypes[@]}; i++)); do refs+=(--output "$out/$name.ref$i.npy"); done
  "$bin/quant-eval" "$model" "${ins[@]}" "${refs[@]}" >/dev/null
  for ((i = 0; i < ${#dtypes[@]}; i++)); do
    [[ ${dtypes[$i]} == float* ]] && continue
    "$py" - "$out/$name.ref$i.npy" "${dtypes[$i]}" <<'CAST'
import sys
import numpy as np
r = np.load(sys.argv[1])
c = r.astype(sys.argv[2])
assert np.array_equal(c, r), "non-integral reference for an integer output"
np.save(sys.argv[1], c)
CAST
  done
  printf '%s\t%s\trun\t%s\n' "$name" "$bound" "$description" >> "$out/list.txt"
}

# mm NAME BOUND MAKE_MODEL_ARGS...: a qnn.matmul / qnn.conv2d model from
# test/e2e/Inputs/make_model.py.
mm() {
  local name=$1 bound=$2; shift 2
  echo "$name $*: $("$py" "$inputs/make_model.py" "$work/$name.mlir" "$@")" >> "$out/seeds.txt"
  add "$name" "$bound" "$*" "$work/$name.mlir"
}

# own NAME BOUND DESCRIPTION GEN_ARGS...: a model from gen.py above.
own() {
  local name=$1 bound=$2 description=$3; shift 3
  echo "$name $*: $("$py" "$work/gen.py" "$work/$name" "$@")" >> "$out/seeds.txt"
  add "$name" "$bound" "$description" "$work/$name.mlir" "$work/$name.shapes"
}

# rejected NAME PATTERN DESCRIPTION MODEL.mlir: --qnn-lower-to-gpu must
# fail (exit 1, no crash) with one diagnostic matching PATTERN.
rejected() {
  local name=$1 pattern=$2 description=$3 model=$4 status=0 message
  "$bin/quant-opt" "$model" --qnn-lower-to-gpu -o /dev/null 2> "$work/$name.err" || status=$?
  message=$(grep -m1 "error:" "$work/$name.err" | sed 's/^[^ ]*: error: //' || true)
  if [[ $status == 1 ]] && grep -q "$pattern" "$work/$name.err" &&
     ! grep -qiE "assert|stack dump|PLEASE submit" "$work/$name.err"; then
    printf '%s\t-\trejected-ok\t%s: %s\n' "$name" "$description" "$message" >> "$out/list.txt"
  else
    echo "make-gpu-models.sh: $name: expected --qnn-lower-to-gpu to fail with '$pattern', got exit $status: $(head -c 400 "$work/$name.err")" >&2
    printf '%s\t-\trejected-FAIL\t%s: expected "%s", got exit %s: %s\n' "$name" "$description" \
      "$pattern" "$status" "${message:-no diagnostic}" >> "$out/list.txt"
  fi
}

# pillar NAME BOUND DESCRIPTION MAKE_PILLAR_ARGS...: a qnn.pillar_conv
# chain from test/e2e/Inputs/make_pillar_model.py (fresh pillars and
# weights). Its results have dynamic rows, so the model returns them padded
# to their static bounds, each followed by its int64 row count
# (--qnn-bound-dynamic-results); the quant-eval references are padded the
# same way (zeros; the shapes from the same model compiled for the CPU and
# run here), so quant-run --compare checks the rows, the row counts and the
# output coordinates too (a coordinate or count off by one is an error far
# above every bound).
pillar() {
  local name=$1 bound=$2 description=$3; shift 3
  local prefix=$work/$name ins=() f i
  echo "$name $*: $("$py" "$inputs/make_pillar_model.py" "$prefix.mlir" --inputs "$prefix" "$@")" >> "$out/seeds.txt"
  "$bin/quant-opt" "$prefix.mlir" $lower | "$bin/quant-translate" --to-shared-lib -o "$out/$name.so"
  i=0
  for f in features coords importance; do
    [[ -f $prefix.$f.npy ]] || continue
    cp "$prefix.$f.npy" "$out/$name.in$i.npy"
    ins+=(--input "$out/$name.in$i.npy"); i=$((i + 1))
  done
  "$bin/quant-opt" "$prefix.mlir" --qnn-lower-to-cpu | "$bin/quant-translate" --to-shared-lib -o "$prefix.cpu.so"
  "$bin/quant-run" "$prefix.cpu.so" "${ins[@]}" --output "$prefix.cpu0.npy" --output "$prefix.cpu1.npy" \
    --output "$prefix.cpu2.npy" --output "$prefix.cpu3.npy" >/dev/null
  "$bin/quant-eval" "$prefix.mlir" "${ins[@]}" --output "$prefix.eval0.npy" --output "$prefix.eval1.npy" >/dev/null
  "$py" - "$prefix" "$out/$name" <<'PAD'
import sys
import numpy as np
work, out = sys.argv[1:]
for result, (values, count) in enumerate([(0, 1), (2, 3)]):
    padded = np.load("%s.cpu%d.npy" % (work, values))
    reference = np.load("%s.eval%d.npy" % (work, result))
    rows = reference.shape[0]
    assert int(np.load("%s.cpu%d.npy" % (work, count))) == rows, "CPU and quant-eval row counts differ"
    full = np.zeros(padded.shape, np.float64 if padded.dtype.kind == "f" else padded.dtype)
    full[:rows] = reference
    np.save("%s.ref%d.npy" % (out, values), full)
    np.save("%s.ref%d.npy" % (out, count), np.array(rows, np.int64))
PAD
  printf '%s\t%s\trun\t%s\n' "$name" "$bound" "$description" >> "$out/list.txt"
}

# fails NAME PATTERN DESCRIPTION MODEL.mlir INPUTS...: the model compiles
# but quant-run must fail with PATTERN (bad data found by a kernel).
fails() {
  local name=$1 pattern=$2 description=$3 model=$4 i=0 f; shift 4
  "$bin/quant-opt" "$model" $lower | "$bin/quant-translate" --to-shared-lib -o "$out/$name.so"
  for f in "$@"; do cp "$f" "$out/$name.in$i.npy"; i=$((i + 1)); done
  printf '%s\t%s\tfails\t%s\n' "$name" "$pattern" "$description" >> "$out/list.txt"
}

# --- qnn.matmul, weight-only (W4A16 / W8A16; f16 activations, see above).
# M <= 64 runs the streaming kernel (K split across warps), M > 64 the
# tiled one; per-channel (group 0) and groups of 128 (and 64) at both.
mm w4a16_g128_m1      1e-3 matmul --m 1 --k 4096 --n 256 --wbits 4 --group 128
mm w4a16_pc_m1        1e-3 matmul --m 1 --k 1024 --n 256 --wbits 4 --group 0
mm w8a16_g128_m1      1e-3 matmul --m 1 --k 1024 --n 128 --wbits 8 --group 128
mm w8a16_pc_m16       1e-3 matmul --m 16 --k 1024 --n 128 --wbits 8 --group 0
mm w4a16_g128_m128    1e-3 matmul --m 128 --k 256 --n 128 --wbits 4 --group 128 --bias --epilogue silu
mm w4a16_pc_m96       1e-3 matmul --m 96 --k 256 --n 200 --wbits 4 --group 0
mm w8a16_g128_m80     1e-3 matmul --m 80 --k 512 --n 128 --wbits 8 --group 128 --epilogue gelu
mm w8a16_pc_m70_k200  1e-3 matmul --m 70 --k 200 --n 72 --wbits 8 --group 0 --bias
mm w4a16_g64_m65      1e-3 matmul --m 65 --k 256 --n 100 --wbits 4 --group 64 --epilogue relu
mm w4a16_asym_g64     1e-3 matmul --m 3 --k 128 --n 24 --wbits 4 --group 64 --asym --bias
mm w8a16_asym_split   1e-3 matmul --m 9 --k 128 --n 48 --wbits 8 --asym --split
mm w4a16_prologue     1e-3 matmul --m 8 --k 128 --n 32 --wbits 4 --group 64 --prologue

# --- qnn.matmul, integer activations (mma.sync s8): dynamic per-token
# (quantized inside the model by qr_gpu_quantize_per_token_f32) and static
# per-tensor, signed with and without a zero point and unsigned (re-biased).
mm w8a8_pc_m1         1e-5 matmul --m 1 --k 1024 --n 128 --wbits 8 --act token8
mm w8a8_pc_m16        1e-5 matmul --m 16 --k 256 --n 48 --wbits 8 --act token8
mm w8a8_pc_m136       1e-5 matmul --m 136 --k 128 --n 128 --wbits 8 --act token8 --bias --epilogue relu
mm w8a8_g128_m80      1e-5 matmul --m 80 --k 512 --n 128 --wbits 8 --group 128 --act token8
mm w4a8_g128_m1       1e-5 matmul --m 1 --k 2048 --n 256 --wbits 4 --group 128 --act token8
mm w4a8_g128_m7       1e-5 matmul --m 7 --k 256 --n 40 --wbits 4 --group 128 --act token8 --bias --epilogue silu
mm w4a8_pc_m1         1e-5 matmul --m 1 --k 1024 --n 128 --wbits 4 --act token8
mm w4a8_g128_m128     1e-5 matmul --m 128 --k 256 --n 264 --wbits 4 --group 128 --act token8 --epilogue gelu
mm w4a8_pc_m100_k200  1e-5 matmul --m 100 --k 200 --n 72 --wbits 4 --act token8
mm w4a4_g64           1e-5 matmul --m 9 --k 128 --n 17 --wbits 4 --group 64 --act token4
mm w8a8_split         1e-5 matmul --m 9 --k 128 --n 48 --wbits 8 --split --act token8
mm w8a8_static_zp     1e-5 matmul --m 6 --k 64 --n 32 --wbits 8 --act static --bias
mm w4a8_static_u8     1e-5 matmul --m 6 --k 128 --n 32 --wbits 4 --group 64 --act static-u8
mm w8a8_static_m128   1e-5 matmul --m 128 --k 256 --n 64 --wbits 8 --act static --epilogue gelu
# Static activations without a zero point: make_model.py's i8 type with
# its zero point (0.03:-5) dropped.
for spec in "w8a8_static_nozp|--m 6 --k 64 --n 32 --wbits 8 --act static --bias" \
            "w4a8_static_nozp_m80|--m 80 --k 256 --n 64 --wbits 4 --group 128 --act static"; do
  name=${spec%%|*}; args=${spec#*|}
  echo "$name $args (zero point dropped): $("$py" "$inputs/make_model.py" "$work/$name.mlir" matmul $args)" >> "$out/seeds.txt"
  sed -i 's/0\.03:-5>/0.03>/g' "$work/$name.mlir"
  add "$name" 1e-5 "matmul $args, no activation zero point" "$work/$name.mlir"
done
mm w8a8_requantize    1e-3 matmul --m 64 --k 128 --n 256 --wbits 8 --act token8 --requantize --bias

# --- float qnn.matmul (f32 GEMM) with bias and epilogues.
mm f32_gelu           1e-5 matmul --m 16 --k 128 --n 48 --bias --epilogue gelu
mm f32_silu_m1        1e-5 matmul --m 1 --k 96 --n 33 --epilogue silu
mm f32_relu6          1e-5 matmul --m 5 --k 64 --n 16 --bias --epilogue relu6
mm f32_relu_m130      1e-5 matmul --m 130 --k 200 --n 70 --bias --epilogue relu

# --- qnn.conv2d: float (both layouts), integer with C = 64, and per-channel
# W8A8 with C = 16 (one scale group over K = 3·3·16).
mm conv_f32_nchw      1e-5 conv --layout nchw --stride 2 --pad 1 --bias --epilogue relu6
mm conv_f32_nhwc      1e-5 conv --layout nhwc --pad 1 --epilogue gelu
own conv_w8a8_nhwc    1e-5 "conv nhwc C=64 W8A8 static activations, bias, relu" conv --layout nhwc --wbits 8 --act static
own conv_w4a16_nchw   1e-3 "conv nchw C=64 stride 2 W4A16 per-channel, bias, relu" conv --layout nchw --wbits 4 --stride 2
mm conv_w8a8_c16      1e-5 conv --layout nhwc --wbits 8 --act static --pad 1

# --- qnn.hadamard (n = 2^k, 12·2^k, 20·2^k, 28·2^k; with and without signs),
# qnn.rotate, float linalg.matmul / batch_matmul, per-token quantize.
own had_64            1e-5 "hadamard n=64, 64 rows" hadamard --rows 64 --n 64
own had_8_signs       1e-5 "hadamard n=8 signs, 33 rows" hadamard --rows 33 --n 8 --signs
own had_12            1e-5 "hadamard n=12, 9 rows" hadamard --rows 9 --n 12
own had_40_signs      1e-5 "hadamard n=40=20*2 signs, 6 rows" hadamard --rows 6 --n 40 --signs
own had_4096_signs    1e-5 "hadamard n=4096 signs, 4 rows" hadamard --rows 4 --n 4096 --signs
own had_16384         1e-5 "hadamard n=16384, 1 row" hadamard --rows 1 --n 16384
own had_12x128        1e-5 "hadamard n=1536=12*128, 4 rows" hadamard --rows 4 --n 1536
own had_12x512_signs  1e-5 "hadamard n=6144=12*512 signs, 2 rows" hadamard --rows 2 --n 6144 --signs
own had_20x64_signs   1e-5 "hadamard n=1280=20*64 signs, 5 rows" hadamard --rows 5 --n 1280 --signs
own had_20x256        1e-5 "hadamard n=5120=20*256, 2 rows" hadamard --rows 2 --n 5120
own had_28x32_signs   1e-5 "hadamard n=896=28*32 signs, 7 rows" hadamard --rows 7 --n 896 --signs
own rotate_64         1e-5 "rotate 64x64 orthogonal, 16 rows" rotate --rows 16 --n 64
own rotate_256        1e-5 "rotate 256x256 orthogonal, 5 rows" rotate --rows 5 --n 256
own linalg_mm_const   1e-5 "linalg.matmul 33x256 * const 256x96" matmul --m 33 --k 256 --n 96 --constant-b
own linalg_mm_acc     1e-5 "linalg.matmul 17x64 * 64x40 (runtime) + runtime init" matmul --m 17 --k 64 --n 40 --accumulate
own linalg_mm_bt      1e-5 "linalg.matmul 8x128 * (40x128)^T (indexing_maps)" matmul --m 8 --k 128 --n 40 --transpose-b
own linalg_bmm        1e-5 "linalg.batch_matmul 4x16x64 * 4x64x32" batch-matmul --b 4 --m 16 --k 64 --n 32
own linalg_bmm_bt     1e-5 "linalg.batch_matmul 8x16x64 * (8x24x64)^T (indexing_maps)" batch-matmul --b 8 --m 16 --k 64 --n 24 --transpose-b
own quantize_tok8     0    "qnn.quantize per_token 24x512 -> i8 codes + f32 scales" quantize --rows 24 --n 512 --bits 8
own quantize_tok4     0    "qnn.quantize per_token 5x96 -> i4 codes + f32 scales" quantize --rows 5 --n 96 --bits 4

# --- qnn.pillar_conv: the GPU rulebook (submanifold, strided, dilation by
# norm threshold, top-k and a given importance; borders, batches) and the
# three conv kernels (f32 tiled and generic, W8A8/W4A8, W4A16), single
# layers and backbones whose later layers take run-time row counts.
pillar pillar_f32_c64        1e-5 "pillar conv f32 64->64 3x3 submanifold, 3 batches, bias" \
  --layers submanifold:1 --channels 64,64 --batches 3 --bias --pillars 400
pillar pillar_f32_stride2    1e-5 "pillar conv f32 16->24 stride 2, 2 batches, bias" \
  --layers submanifold:2 --channels 16,24 --batches 2 --bias
pillar pillar_f32_k5_odd     1e-5 "pillar conv f32 8->12 5x5 (generic f32 kernel)" \
  --layers submanifold:1 --channels 8,12 --kernel 5 --pillars 300
pillar pillar_dilate_thr     1e-5 "pillar conv selective dilation, norm threshold" \
  --layers selective_dilation:1 --channels 16,16 --threshold 1.1
pillar pillar_dilate_topk    1e-5 "pillar conv selective dilation top-k 0.2, stride 2, 2 batches" \
  --layers selective_dilation:2 --channels 16,16 --topk 0.2 --batches 2
pillar pillar_importance     1e-5 "pillar conv selective dilation by a given importance" \
  --layers selective_dilation:1 --channels 8,16 --importance --threshold 1.5
pillar pillar_backbone_f32   1e-5 "pillar backbone f32: 2 submanifold (one rulebook), strided, dilating" \
  --layers submanifold:1,submanifold:1,submanifold:2,selective_dilation:1 --channels 16,32,32,32,16 --bias --batches 2
pillar pillar_w8a8           1e-5 "pillar conv W8A8 64->32, bias" \
  --layers submanifold:1 --channels 64,32 --wbits 8 --act int8 --bias
pillar pillar_w4a8_topk      1e-5 "pillar conv W4A8 64->16 dilation top-k 0.3, stride 2" \
  --layers selective_dilation:2 --channels 64,16 --wbits 4 --act int8 --topk 0.3
pillar pillar_w8a8_backbone  1e-5 "pillar backbone W8A8, int8 features quantized in the model" \
  --layers submanifold:1,submanifold:2,selective_dilation:1 --channels 64,64,32,16 --wbits 8 --act int8 \
  --pillars 300 --batches 2 --topk 0.2
pillar pillar_w4a16_g64      1e-3 "pillar conv W4A16 128->24, groups of 64" \
  --layers submanifold:1 --channels 128,24 --wbits 4 --group 64
pillar pillar_single         1e-5 "pillar backbone on a single pillar" \
  --layers submanifold:2,submanifold:1 --channels 8,8,8 --pillars 1
pillar pillar_kitti_8k       1e-5 "pillar conv f32 64->64 on a 496x432 grid, 8000 pillars" \
  --layers submanifold:1 --channels 64,64 --grid 496x432 --pillars 8000 --bias
"$py" "$inputs/make_pillar_model.py" "$work/dup.mlir" --inputs "$work/dup" --duplicate --pillars 20 >/dev/null
fails pillar_duplicate "share coordinates" "pillar conv with duplicate coordinates" \
  "$work/dup.mlir" "$work/dup.features.npy" "$work/dup.coords.npy"

# --- The LLaMA decoder block (hidden 512, 8 heads, FFN 1536, 16 tokens):
# float against generate_block.py's numpy float64 implementation, the
# quantized recipes against quant-eval on the quantized IR.
mkdir -p "$work/block"
echo "block: $("$py" "$root/examples/llama/generate_block.py" "$work/block" --hidden 512 --heads 8 \
  --tokens 16 --seed -1 --check 2>&1 | grep -i seed | head -1)" >> "$out/seeds.txt"
for entry in "block_float|1e-5|" "block_w4a16|1e-3|wbits=4 abits=0" \
    "block_w8a8|1e-3|wbits=8 group=0 abits=8" "block_w4a8_had|1e-3|wbits=4 abits=8 rotate=hadamard"; do
  IFS='|' read -r name bound options <<<"$entry"
  model=$work/block/$name.mlir
  if [[ -z $options ]]; then
    "$bin/quant-opt" "$work/block/block.mlir" --qnn-import-linalg -o "$model"
  else
    "$bin/quant-opt" "$work/block/block.mlir" --qnn-pipeline="$options" -o "$model" 2>/dev/null
  fi
  "$bin/quant-opt" "$model" $lower | "$bin/quant-translate" --to-shared-lib -o "$out/$name.so"
  cp "$work/block/eval.npy" "$out/$name.in0.npy"
  if [[ -z $options ]]; then
    cp "$work/block/reference_numpy.npy" "$out/$name.ref0.npy"
    description="LLaMA block D=512 float vs numpy float64"
  else
    "$bin/quant-eval" "$model" --input "$out/$name.in0.npy" --output "$out/$name.ref0.npy" >/dev/null
    description="LLaMA block D=512 --qnn-pipeline=\"$options\" vs quant-eval"
  fi
  printf '%s\t%s\trun\t%s\n' "$name" "$bound" "$description" >> "$out/list.txt"
done

# --- Rejected on the GPU by design: checked here.
"$py" "$inputs/make_model.py" "$work/r2.mlir" matmul --m 4 --k 128 --n 40 --wbits 2 --asym >/dev/null
rejected reject_w2a16 "GPU kernels take 4 and 8-bit weights, not 2" "2-bit weights" "$work/r2.mlir"
"$py" "$inputs/make_model.py" "$work/r3.mlir" matmul --m 4 --k 128 --n 40 --wbits 3 --act token8 >/dev/null
rejected reject_w3a8 "GPU kernels take 4 and 8-bit weights, not 3" "3-bit weights" "$work/r3.mlir"
"$py" "$inputs/make_model.py" "$work/ra.mlir" matmul --m 3 --k 128 --n 24 --wbits 4 --group 64 --asym --act token8 >/dev/null
rejected reject_w4a8_asym "takes symmetric weights only" "asymmetric W4A8" "$work/ra.mlir"
"$py" "$inputs/make_model.py" "$work/ra8.mlir" matmul --m 3 --k 128 --n 24 --wbits 8 --asym --act static >/dev/null
rejected reject_w8a8_asym "takes symmetric weights only" "asymmetric W8A8 static" "$work/ra8.mlir"
"$py" "$inputs/make_model.py" "$work/rg.mlir" matmul --m 4 --k 128 --n 40 --wbits 4 --group 32 >/dev/null
rejected reject_group32 "groups of a multiple of 64 along K, not groups of 32" "groups of 32" "$work/rg.mlir"
"$py" "$inputs/make_pillar_model.py" "$work/rp.mlir" --inputs "$work/rp" --channels 64,16 --wbits 4 --group 32 >/dev/null
rejected reject_pillar_group32 "groups of a multiple of 64 along K, not groups of 32" \
  "pillar conv W4A16 with groups of 32" "$work/rp.mlir"

# --- The runner.
cat > "$out/run-models.sh" <<'SH'
#!/usr/bin/env bash
# usage: run-models.sh BUNDLE   (written by bench/gpu/make-gpu-models.sh)
# Runs every compiled model of BUNDLE/models with quant-run --compare
# against its float64 reference: once (the error printed), then again
# under --bench (median latency from CUDA events), whose last output must
# meet the bound too (a model that writes its inputs or keeps state
# between runs fails there). One line per model; exit status 1 when any
# model fails. $QUANT_MODELS_BENCH sets the timed runs (default 20).
set -uo pipefail
bundle=${1:-$(cd "$(dirname "$0")/.." && pwd)}
models=$bundle/models
device=$(cat "$models/device.txt")
runs=${QUANT_MODELS_BENCH:-20}
export LD_LIBRARY_PATH=$bundle:${LD_LIBRARY_PATH:-}
# A hung kernel fails its model instead of the whole device run.
limit=()
command -v timeout >/dev/null && limit=(timeout 120)
failures=0 checked=0
row() { printf '%-22s %10s %6s %-4s %10s  %s\n' "$@"; }
# error TEXT BOUND WANT: the largest relative error over the outputs
# compared, "nan" when one is not a finite number or fewer than WANT
# comparisons were printed; then ok or FAIL; then the median latency.
error() {
  awk -v bound="$2" -v want="$3" '
    $1 == "relative" && $2 == "error" {
      seen++
      if ($3 !~ /^[0-9.eE+-]+$/) bad = 1; else if ($3 + 0 > worst) worst = $3 + 0
    }
    $1 == "median" { median = $2 }
    END {
      bad = bad || seen != want
      printf "%s %s %s\n", bad ? "nan" : sprintf("%.2e", worst),
             (!bad && worst <= bound + 0) ? "ok" : "FAIL", median == "" ? "-" : median
    }' <<<"$1"
}
row model "rel err" bound ok "median ms" description
while IFS=$'\t' read -r name bound kind description; do
  checked=$((checked + 1))
  case $kind in
    fails)
      args=()
      for f in "$models/$name".in*.npy; do args+=(--input "$f"); done
      text=$("${limit[@]}" "$bundle/quant-run" "$models/$name.so" --device "$device" "${args[@]}" 2>&1)
      if [[ $? == 1 ]] && grep -q "$bound" <<<"$text"; then
        row "$name" - - ok - "fails as expected: $description: $(grep -m1 error <<<"$text")"
      else
        row "$name" - - FAIL - "$description: expected a failure with '$bound', got: $(tail -1 <<<"$text")"
        failures=$((failures + 1))
      fi
      continue ;;
    rejected-ok) row "$name" - - ok - "rejected as expected: $description"; continue ;;
    rejected-FAIL) row "$name" - - FAIL - "not rejected as expected: $description"
                   failures=$((failures + 1)); continue ;;
  esac
  args=() refs=0
  for f in "$models/$name".in*.npy; do args+=(--input "$f"); done
  for f in "$models/$name".ref*.npy; do args+=(--compare "$f"); refs=$((refs + 1)); done
  so=$models/$name.so
  if ! text=$("${limit[@]}" "$bundle/quant-run" "$so" --device "$device" "${args[@]}" 2>&1); then
    row "$name" - "$bound" FAIL - "$description: quant-run failed: $(grep -m1 error <<<"$text" || tail -1 <<<"$text")"
    failures=$((failures + 1)); continue
  fi
  read -r err status _ <<<"$(error "$text" "$bound" "$refs")"
  note=""
  if ! text=$("${limit[@]}" "$bundle/quant-run" "$so" --device "$device" "${args[@]}" --bench "$runs" --warmup 3 2>&1); then
    status=FAIL median=- note=" [quant-run --bench failed: $(grep -m1 error <<<"$text" || tail -1 <<<"$text")]"
  else
    read -r again status_again median <<<"$(error "$text" "$bound" "$refs")"
    if [[ $status == ok && $status_again != ok ]]; then
      status=FAIL note=" [after $((runs + 3)) runs: rel err $again: the output changes from run to run]"
    fi
  fi
  [[ $status == ok ]] || failures=$((failures + 1))
  row "$name" "$err" "$bound" "$status" "$median" "$description$note"
done < "$models/list.txt"
echo "models: $checked checked, $failures failed (device $device)"
[[ $failures == 0 ]]
SH
chmod +x "$out/run-models.sh"
echo "make-gpu-models.sh: $(grep -c $'\trun\t' "$out/list.txt") models, $(grep -c $'\trejected' "$out/list.txt") rejection checks, $(du -sh "$out" | cut -f1) in $out" >&2
