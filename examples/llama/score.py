#!/usr/bin/env python3
"""Scores a compiled model's output against the float64 reference.

usage: score.py OUT.npy REFERENCE.npy [INPUT.npy]
Prints "SQNR_dB REL_ERR [REL_ERR_DELTA]": the SQNR and relative error of the
output, and (with INPUT) the relative error of the block's update out - x,
which the residual connection otherwise hides.
"""
import sys

import numpy as np

out = np.load(sys.argv[1]).astype(np.float64)
ref = np.load(sys.argv[2]).astype(np.float64)
error = np.linalg.norm(out - ref)
fields = ["%.2f" % (20 * np.log10(np.linalg.norm(ref) / error)) if error > 0 else "inf",
          "%.2e" % (error / np.linalg.norm(ref))]
if len(sys.argv) > 3:
    x = np.load(sys.argv[3]).astype(np.float64)
    fields.append("%.2e" % (np.linalg.norm((out - x) - (ref - x)) / np.linalg.norm(ref - x)))
print(" ".join(fields))
