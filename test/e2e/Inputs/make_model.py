#!/usr/bin/env python3
"""Writes a qnn model with fresh random constants for the end-to-end tests
(a new seed every run unless --seed; printed for replay). Weights are
quantized here with numpy, independently of quant's passes.

usage: make_model.py OUT.mlir matmul [--m 16 --k 128 --n 48] [--wbits 4]
                     [--group 32] [--asym] [--act float|token8|token4|static|static-u8]
                     [--bias] [--epilogue silu] [--split] [--prologue]
                     [--requantize] [--batch 0]
       make_model.py OUT.mlir conv [--layout nhwc] [--stride 2] [--pad 1]
                     [--wbits 8] [--act float|static] [--bias] [--epilogue relu]
"""
import argparse
import random

import numpy as np


def fmt(array):
    return np.array2string(np.asarray(array), separator=", ", threshold=np.inf,
                           max_line_width=np.inf,
                           formatter={"float_kind": lambda v: "%.9g" % v,
                                      "int": lambda v: "%d" % v})


def signless(codes, bits):
    """Unsigned codes written as the signed values of the same bits."""
    codes = np.asarray(codes, dtype=np.int64)
    return np.where(codes >= 2 ** (bits - 1), codes - 2 ** bits, codes)


def quantize_weights(rng, w, bits, groups, asym, low_bits=None, low_columns=()):
    """Per-group RTN of w [K, N]: returns storage ints, scales [G, N], zero points."""
    k, n = w.shape
    wg = w.reshape(groups, k // groups, n)
    bits_per_column = np.full(n, bits)
    bits_per_column[list(low_columns)] = low_bits if low_bits else bits
    if asym:
        lo, hi = wg.min(axis=1), wg.max(axis=1)
        levels = 2.0 ** bits_per_column - 1
        scales = np.maximum(hi - lo, 1e-6) / levels
        zeros = np.clip(np.round(-lo / scales), 0, levels)
        q = np.clip(np.round(wg / scales[:, None, :]) + zeros[:, None, :], 0, levels)
    else:
        qmax = 2.0 ** (bits_per_column - 1) - 1
        scales = np.maximum(np.abs(wg).max(axis=1), 1e-6) / qmax
        zeros = None
        q = np.clip(np.round(wg / scales[:, None, :]), -qmax - 1, qmax)
    return q.reshape(k, n).astype(np.int64), scales.astype(np.float32), zeros


def weight_operands(rng, shape_kn, args, name="w"):
    """Lines defining the weight (+ scales, zero points) and the matmul operand text."""
    k, n = shape_kn
    w = rng.standard_normal((k, n)) / np.sqrt(k)
    if not args.wbits:
        return ["%%%s = arith.constant dense<%s> : tensor<%dx%dxf32>" % (name, fmt(w.astype(np.float32)), k, n)], ""
    groups = 1 if args.group == 0 else k // args.group
    low_columns = sorted(rng.choice(n, size=n - max(1, n // 8), replace=False)) if args.split else ()
    q, scales, zeros = quantize_weights(rng, w, args.wbits, groups, args.asym,
                                        low_bits=4 if args.split else None,
                                        low_columns=low_columns)
    bits = args.wbits
    stored = signless(q, bits) if args.asym else q
    lines = ["%%%s = arith.constant dense<%s> : tensor<%dx%dxi%d>" % (name, fmt(stored), k, n, bits),
             "%%%s_s = arith.constant dense<%s> : tensor<%dx%dxf32>" % (name, fmt(scales), groups, n)]
    operands = " scales(%%%s_s : tensor<%dx%dxf32>)" % (name, groups, n)
    if args.asym:
        lines.append("%%%s_z = arith.constant dense<%s> : tensor<%dx%dxi%d>"
                     % (name, fmt(signless(zeros, bits)), groups, n, bits))
        operands += " zero_points(%%%s_z : tensor<%dx%dxi%d>)" % (name, groups, n, bits)
    if args.split:
        high = [c for c in range(n) if c not in set(low_columns)]
        operands += " split <low_bits = 4, high_columns = [%s]>" % ", ".join(map(str, high))
    return lines, operands


def matmul(rng, args):
    m, k, n = args.m, args.k, args.n
    lines, weight_text = weight_operands(rng, (k, n), args)
    wtype = "tensor<%dx%dx%s>" % (k, n, "i%d" % args.wbits if args.wbits else "f32")
    x = "%x"
    xtype = "tensor<%dx%dxf32>" % (m, k)
    extra = ""
    if args.act.startswith("token"):
        bits = int(args.act[5:])
        lines.append("%%q, %%qs = qnn.quantize %%x per_token : %s -> tensor<%dx%dxi%d>, tensor<%dxf32>"
                     % (xtype, m, k, bits, m))
        x, xtype = "%q", "tensor<%dx%dxi%d>" % (m, k, bits)
        extra = " input_scales(%%qs : tensor<%dxf32>)" % m
    elif args.act.startswith("static"):
        storage = "u8:f32, 0.03:131" if args.act == "static-u8" else "i8:f32, 0.03:-5"
        qtype = "tensor<%dx%dx!quant.uniform<%s>>" % (m, k, storage)
        lines.append("%%q = qnn.quantize %%x : %s -> %s" % (xtype, qtype))
        x, xtype = "%q", qtype
    if args.prologue:
        signs = rng.choice([-1, 1], size=k)
        extra = " hadamard_prologue prologue_signs [%s]" % ", ".join(map(str, signs)) + extra
    if args.bias:
        lines.append("%%b = arith.constant dense<%s> : tensor<%dxf32>"
                     % (fmt(rng.standard_normal(n).astype(np.float32)), n))
        weight_text += " bias(%%b : tensor<%dxf32>)" % n
    if args.epilogue != "none":
        weight_text += " epilogue " + args.epilogue
    rtype = "tensor<%dx%dxf32>" % (m, n)
    if args.requantize:
        rtype = "tensor<%dx%dx!quant.uniform<i8:f32, 0.05:3>>" % (m, n)
    lines.append("%%y = qnn.matmul %s, %%w%s%s : %s, %s -> %s"
                 % (x, extra, weight_text, xtype, wtype, rtype))
    result, out_type = "%y", rtype
    if args.requantize:
        out_type = "tensor<%dx%dxf32>" % (m, n)
        lines.append("%%r = qnn.dequantize %%y : %s -> %s" % (rtype, out_type))
        result = "%r"
    return "tensor<%dx%dxf32>" % (m, k), lines, result, out_type


def f32_tensor(shape):
    return "tensor<%sxf32>" % "x".join(map(str, shape))


def conv(rng, args):
    b, c, h, w_, f, kh = 2, 16, 10, 9, 24, 3
    nhwc = args.layout == "nhwc"
    xtype = f32_tensor((b, h, w_, c) if nhwc else (b, c, h, w_))
    weights = rng.standard_normal((kh, kh, c, f)) / np.sqrt(kh * kh * c)  # HWCF
    lines = []
    if args.wbits:
        flat = weights.reshape(kh * kh * c, f)
        q, scales, _ = quantize_weights(rng, flat, args.wbits, 1, False)
        q = q.reshape(kh, kh, c, f)
        stored = q if nhwc else q.transpose(3, 2, 0, 1)
        lines.append("%%w = arith.constant dense<%s> : tensor<%s>"
                     % (fmt(stored), "x".join(map(str, stored.shape)) + "xi%d" % args.wbits))
        lines.append("%%w_s = arith.constant dense<%s> : tensor<1x%dxf32>" % (fmt(scales), f))
        wtext = " scales(%%w_s : tensor<1x%dxf32>)" % f
        wtype = "tensor<%sxi%d>" % ("x".join(map(str, stored.shape)), args.wbits)
    else:
        stored = weights if nhwc else weights.transpose(3, 2, 0, 1)
        stored = stored.astype(np.float32)
        wtype = "tensor<%sxf32>" % "x".join(map(str, stored.shape))
        lines.append("%%w = arith.constant dense<%s> : %s" % (fmt(stored), wtype))
        wtext = ""
    if args.bias:
        lines.append("%%b = arith.constant dense<%s> : tensor<%dxf32>"
                     % (fmt(rng.standard_normal(f).astype(np.float32)), f))
        wtext += " bias(%%b : tensor<%dxf32>)" % f
    x, in_type = "%x", xtype
    if args.act == "static":
        in_type = xtype.replace("xf32>", "x!quant.uniform<i8:f32, 0.04:2>>")
        lines.append("%%q = qnn.quantize %%x : %s -> %s" % (xtype, in_type))
        x = "%q"
    s, p = args.stride, args.pad
    oh, ow = (h + 2 * p - kh) // s + 1, (w_ + 2 * p - kh) // s + 1
    rtype = f32_tensor((b, oh, ow, f) if nhwc else (b, f, oh, ow))
    epilogue = "" if args.epilogue == "none" else " epilogue " + args.epilogue
    lines.append("%%y = qnn.conv2d %s, %%w%s layout %s strides [%d, %d] padding [%d, %d, %d, %d]%s : %s, %s -> %s"
                 % (x, wtext, args.layout, s, s, p, p, p, p, epilogue, in_type, wtype, rtype))
    return xtype, lines, "%y", rtype


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("kind", choices=["matmul", "conv"])
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--k", type=int, default=128)
    parser.add_argument("--n", type=int, default=48)
    parser.add_argument("--wbits", type=int, default=0)
    parser.add_argument("--group", type=int, default=0)
    parser.add_argument("--asym", action="store_true")
    parser.add_argument("--act", default="float")
    parser.add_argument("--bias", action="store_true")
    parser.add_argument("--epilogue", default="none")
    parser.add_argument("--split", action="store_true")
    parser.add_argument("--prologue", action="store_true")
    parser.add_argument("--requantize", action="store_true")
    parser.add_argument("--layout", default="nhwc")
    parser.add_argument("--stride", type=int, default=1)
    parser.add_argument("--pad", type=int, default=0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
    print("make_model.py seed", seed)
    rng = np.random.default_rng(seed)
    in_type, lines, result, out_type = (matmul if args.kind == "matmul" else conv)(rng, args)
    body = "\n".join("  " + line for line in lines)
    with open(args.out, "w") as f:
        f.write("func.func @model(%%x: %s) -> %s {\n%s\n  return %s : %s\n}\n"
                % (in_type, out_type, body, result, out_type))


main()
