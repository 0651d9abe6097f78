#!/usr/bin/env python3
"""Writes a fresh random .npy (a new seed every run unless --seed is given;
the seed is printed so a failure can be replayed).

usage: random_npy.py OUT.npy (SHAPE | --like MODEL.mlir) [--dtype float32]
                     [--scale 1.0] [--seed N]
SHAPE is like 16x64; --like takes the shape of the model's first argument.
"""
import argparse
import random
import re

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("shape", nargs="?")
parser.add_argument("--like")
parser.add_argument("--dtype", default="float32")
parser.add_argument("--scale", type=float, default=1.0)
parser.add_argument("--seed", type=int, default=None)
args = parser.parse_args()
seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**31)
print("random_npy.py seed", seed)
rng = np.random.default_rng(seed)
text = args.shape
if args.like:
    text = re.search(r"%\w+: tensor<([0-9x]+)x\w+>", open(args.like).read()).group(1)
shape = [int(d) for d in text.split("x")]
if np.dtype(args.dtype).kind in "iu":
    info = np.iinfo(args.dtype)
    x = rng.integers(info.min, info.max, size=shape, endpoint=True)
else:
    x = rng.standard_normal(shape) * args.scale
np.save(args.out, x.astype(args.dtype))
