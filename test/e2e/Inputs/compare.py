#!/usr/bin/env python3
"""Compares a compiled model's output with the float64 reference evaluator's.

usage: compare.py ACTUAL.npy REFERENCE.npy (--rtol R | --exact)
  --rtol R   relative error ||a - r|| / ||r|| <= R (float paths)
  --exact    identical values (integer paths)
Prints the measured error; exits 1 when the bound is not met.
"""
import argparse
import sys

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("actual")
parser.add_argument("reference")
group = parser.add_mutually_exclusive_group(required=True)
group.add_argument("--rtol", type=float)
group.add_argument("--exact", action="store_true")
args = parser.parse_args()

actual = np.load(args.actual)
reference = np.load(args.reference)
if actual.shape != reference.shape:
    sys.exit("shape %s differs from the reference's %s" % (actual.shape, reference.shape))
a = actual.astype(np.float64)
r = reference.astype(np.float64)
if not np.all(np.isfinite(a)):
    sys.exit("output has non-finite values")
if args.exact:
    mismatches = int(np.count_nonzero(a != r))
    print("exact: %d of %d values differ" % (mismatches, a.size))
    sys.exit(1 if mismatches else 0)
norm = np.linalg.norm(r)
if norm == 0:
    sys.exit("the reference is all zeros: the test would prove nothing")
error = np.linalg.norm(a - r) / norm
print("relative error %.3e (bound %.1e), max abs %.3e" % (error, args.rtol, np.max(np.abs(a - r))))
sys.exit(0 if error <= args.rtol else 1)
