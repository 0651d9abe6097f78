#!/usr/bin/env python3
"""Cuts a model output padded by --qnn-bound-dynamic-results to its rows.

usage: leading_rows.py PADDED.npy ROWS.npy OUT.npy
ROWS.npy holds the int64 row count the model returned next to PADDED.
"""
import sys

import numpy as np

padded, rows, out = sys.argv[1:]
count = int(np.load(rows))
values = np.load(padded)
if not 0 <= count <= values.shape[0]:
    sys.exit("row count %d outside [0, %d]" % (count, values.shape[0]))
np.save(out, values[:count])
