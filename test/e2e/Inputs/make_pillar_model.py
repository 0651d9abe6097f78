#!/usr/bin/env python3
"""Writes a chain of qnn.pillar_conv layers with fresh random weights, and a
fresh random pillar set for it (a new seed every run unless --seed is
given; the seed is printed).

usage: make_pillar_model.py OUT.mlir --inputs PREFIX [--pillars N]
         [--grid HxW] [--batches B] [--channels 16,32,...]
         [--layers submanifold:1,selective_dilation:2,...]
         [--threshold T | --topk R] [--importance] [--wbits 8|4]
         [--act float|int8] [--bias] [--kernel K] [--duplicate]

The function returns the last layer's features and coordinates with
dynamic rows. Writes PREFIX.features.npy ([N, C0] f32) and PREFIX.coords.npy ([N, 3]
i32, distinct sites, about a quarter on the grid border) and, with
--importance, PREFIX.importance.npy; the model takes them in that order.
Layer i maps channels[i] to channels[i + 1]. Selective dilation uses
--threshold (relative to the median feature norm) or --topk. --act int8
quantizes the features inside the model (per-tensor, signed); --duplicate
repeats one pillar's coordinates (the model must then fail).
"""
import argparse
import json
import random

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--inputs", required=True)
parser.add_argument("--pillars", type=int, default=200)
parser.add_argument("--grid", default="40x56")
parser.add_argument("--batches", type=int, default=1)
parser.add_argument("--channels", default="16,32")
parser.add_argument("--layers", default="submanifold:1")
parser.add_argument("--kernel", type=int, default=3)
parser.add_argument("--threshold", type=float, default=None)
parser.add_argument("--topk", type=float, default=None)
parser.add_argument("--importance", action="store_true")
parser.add_argument("--wbits", type=int, default=None)
parser.add_argument("--group", type=int, default=None)
parser.add_argument("--act", choices=["float", "int8"], default="float")
parser.add_argument("--bias", action="store_true")
parser.add_argument("--duplicate", action="store_true")
parser.add_argument("--seed", type=int, default=None)
args = parser.parse_args()

seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
print("make_pillar_model.py seed", seed)
rng = np.random.default_rng(seed)
height, width = (int(d) for d in args.grid.split("x"))
channels = [int(c) for c in args.channels.split(",")]
layers = [(kind, int(stride)) for kind, stride in
          (layer.split(":") for layer in args.layers.split(","))]
assert len(channels) == len(layers) + 1, "one more channel count than layers"
n, k = args.pillars, args.kernel

# Distinct sites, some pinned to the border.
sites = set()
coords = []
while len(coords) < n:
    site = [int(rng.integers(args.batches)), int(rng.integers(height)),
            int(rng.integers(width))]
    side = rng.integers(8)
    if side < 4:
        site[1 + side // 2] = 0 if side % 2 == 0 else (height, width)[side // 2] - 1
    if tuple(site) not in sites:
        sites.add(tuple(site))
        coords.append(site)
coords = np.array(coords, dtype=np.int32).reshape(-1, 3)
if args.duplicate:
    coords[n - 1] = coords[n // 2]
features = rng.standard_normal((n, channels[0])).astype(np.float32)
np.save(args.inputs + ".features.npy", features)
np.save(args.inputs + ".coords.npy", coords)
if args.importance:
    np.save(args.inputs + ".importance.npy",
            rng.random(n).astype(np.float32))


def reshape_dense(values, shape, element):
    """A dense attribute of `values` (nested lists, as MLIR parses them)."""
    nested = json.dumps(np.asarray(values).reshape(shape).tolist())
    return "dense<%s> : tensor<%s>" % (nested, "x".join(str(d) for d in shape + [element]))


lines = []
arguments = ["%%features: tensor<%dx%dxf32>" % (n, channels[0]),
             "%%coords: tensor<%dx3xi32>" % n]
if args.importance:
    arguments.append("%%importance: tensor<%dxf32>" % n)
rows, feature, coord = str(n), "%features", "%coords"
act_scale = 0.05
for index, ((kind, stride), cin, cout) in enumerate(
        zip(layers, channels, channels[1:])):
    weight_shape = [k, k, cin, cout]
    w = rng.standard_normal(weight_shape) / np.sqrt(k * k * cin)
    operands = ""
    if args.wbits:
        qmax = 2 ** (args.wbits - 1) - 1
        groups = cin // args.group if args.group else 1
        grouped = w.reshape(k * k, groups, cin // groups, cout)
        scale = np.abs(grouped).max(axis=(0, 2)) / qmax          # [G, cout]
        codes = np.clip(np.round(grouped / scale[None, :, None, :]), -qmax - 1, qmax)
        element = "i%d" % args.wbits
        lines.append("  %%w%d = arith.constant %s" % (
            index, reshape_dense(codes.reshape(weight_shape).astype(np.int64),
                                 weight_shape, element)))
        lines.append("  %%s%d = arith.constant %s" % (
            index, reshape_dense(scale.astype(np.float32), [groups, cout], "f32")))
        operands += " scales(%%s%d : tensor<%dx%dxf32>)" % (index, groups, cout)
    else:
        lines.append("  %%w%d = arith.constant %s" % (
            index, reshape_dense(w.astype(np.float32), weight_shape, "f32")))
    if args.bias:
        lines.append("  %%b%d = arith.constant %s" % (
            index, reshape_dense(rng.standard_normal(cout).astype(np.float32),
                                 [cout], "f32")))
        operands += " bias(%%b%d : tensor<%dxf32>)" % (index, cout)
    feature_type = "tensor<%sx%dxf32>" % (rows, cin)
    if args.act == "int8":
        quant = "!quant.uniform<i8:f32, %r:%d>" % (act_scale, index % 3)
        lines.append("  %%q%d = qnn.quantize %s : %s -> tensor<%sx%dx%s>" % (
            index, feature, feature_type, rows, cin, quant))
        feature, feature_type = "%%q%d" % index, "tensor<%sx%dx%s>" % (rows, cin, quant)
    attributes = "kind %s grid [%d, %d]" % (kind, height, width)
    if stride != 1:
        attributes += " stride %d" % stride
    if kind == "selective_dilation":
        if args.importance and index == 0:
            operands += " importance(%%importance : tensor<%dxf32>)" % n
        if args.topk is not None:
            attributes += " topk_ratio %r" % args.topk
        else:
            relative = args.threshold if args.threshold is not None else 1.2
            norm = 0.5 if args.importance and index == 0 else np.sqrt(cin)
            if args.act == "int8":
                norm = min(norm, act_scale * 127 * np.sqrt(cin))
            attributes += " threshold %r" % float(relative * norm)
    out_rows = rows if (kind, stride) == ("submanifold", 1) else "?"
    lines.append(
        "  %%f%d, %%c%d = qnn.pillar_conv %s, %s, %%w%d%s %s\n"
        "      : %s, tensor<%sx3xi32>, tensor<%s> -> tensor<%sx%dxf32>, tensor<%sx3xi32>"
        % (index, index, feature, coord, index, operands, attributes,
           feature_type, rows, "x".join(str(d) for d in weight_shape)
           + "x" + ("i%d" % args.wbits if args.wbits else "f32"),
           out_rows, cout, out_rows))
    feature, coord, rows = "%%f%d" % index, "%%c%d" % index, out_rows
    if stride == 2:
        height, width = (height + 1) // 2, (width + 1) // 2

# Results are declared with dynamic rows whatever the last layer, so that
# every model has the same outputs: padded rows and their counts.
result_types = "tensor<?x%dxf32>, tensor<?x3xi32>" % channels[-1]
if rows != "?":
    lines.append("  %%rows_f = tensor.cast %s : tensor<%sx%dxf32> to tensor<?x%dxf32>"
                 % (feature, rows, channels[-1], channels[-1]))
    lines.append("  %%rows_c = tensor.cast %s : tensor<%sx3xi32> to tensor<?x3xi32>"
                 % (coord, rows))
    feature, coord = "%rows_f", "%rows_c"
with open(args.out, "w") as f:
    f.write("func.func @pillars(%s) -> (%s) {\n" % (", ".join(arguments), result_types))
    f.write("\n".join(lines) + "\n")
    f.write("  return %s, %s : %s\n}\n" % (feature, coord, result_types))
