#!/usr/bin/env python3
"""Compares the output of every case that make_onnx_model.py --all wrote
with its numpy reference, in one process (a Python start per case would
dominate ops.test's time).

usage: compare_outputs.py DIR --rtol R
For each DIR/CASE with a ref.npy, DIR/CASE/out.npy must exist (a case the
lit test does not run is an error too), have the reference's shape, be
finite, and satisfy ||out - ref|| / ||ref|| <= R. Prints one line per case;
exits 1 when any case fails.
"""
import argparse
import os
import sys

import numpy as np


def compare(case_dir, rtol):
    """An error message, or None when the case is within the bound."""
    out_path = os.path.join(case_dir, "out.npy")
    if not os.path.exists(out_path):
        return "no out.npy: the case was not run"
    actual = np.load(out_path).astype(np.float64)
    reference = np.load(os.path.join(case_dir, "ref.npy"))
    if actual.shape != reference.shape:
        return "shape %s differs from the reference's %s" % (actual.shape, reference.shape)
    if not np.all(np.isfinite(actual)):
        return "non-finite values"
    norm = np.linalg.norm(reference)
    if norm == 0:
        return "the reference is all zeros: the case would prove nothing"
    error = np.linalg.norm(actual - reference) / norm
    print("%-48s relative error %.3e, max abs %.3e"
          % (os.path.basename(case_dir), error, np.max(np.abs(actual - reference))))
    return None if error <= rtol else "relative error %.3e above %.1e" % (error, rtol)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--rtol", type=float, required=True)
    args = parser.parse_args()
    failures = []
    for case in sorted(os.listdir(args.dir)):
        case_dir = os.path.join(args.dir, case)
        if not os.path.exists(os.path.join(case_dir, "ref.npy")):
            continue  # a model for the error tests only
        message = compare(case_dir, args.rtol)
        if message:
            failures.append("%s: %s" % (case, message))
    for failure in failures:
        print("FAILED", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
