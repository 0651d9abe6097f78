"""make_inputs.py MODEL.mlir OUTDIR [--samples N] [--seed S]

Random inputs for an imported ONNX model (quant-translate --import-onnx):
OUTDIR/calib.npz holds N calibration samples per graph input, keyed by the
input's ONNX name, and OUTDIR/x<i>.npy one evaluation input each, drawn
apart from the calibration samples. Shapes and names come from the
signature of @main_graph."""
import argparse
import re
import sys

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("outdir")
parser.add_argument("--samples", type=int, default=16)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

signature = re.search(r"func\.func @main_graph\((.*?)\)\s*->", open(args.model).read(),
                      re.S)
if not signature:
    sys.exit("make_inputs.py: no func.func @main_graph in " + args.model)
arguments = re.findall(r"tensor<([0-9x]+)xf32>\s*\{onnx\.name = \"([^\"]+)\"",
                       signature.group(1))
if not arguments:
    sys.exit("make_inputs.py: @main_graph has no float32 tensor inputs")
rng = np.random.default_rng(args.seed)
calibration = {}
for index, (dims, name) in enumerate(arguments):
    shape = tuple(int(d) for d in dims.split("x"))
    calibration[name] = rng.standard_normal((args.samples,) + shape).astype(np.float32)
    np.save(f"{args.outdir}/x{index}.npy", rng.standard_normal(shape).astype(np.float32))
np.savez(f"{args.outdir}/calib.npz", **calibration)
