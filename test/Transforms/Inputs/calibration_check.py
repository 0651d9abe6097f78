"""Writes calibration samples, or checks --qnn-calibrate's statistics.

  calibration_check.py write SAMPLES.npz [--seed N]
      random [6, 4, 16] samples of `input0` with a few outlier channels
  calibration_check.py check CALIBRATED.mlir SAMPLES.npz
      recomputes, in float64, the per-channel statistics of the two observed
      activations of calibrate.mlir (the input and its relu) and compares
      them with the qnn.calib_stats attributes in order
"""
import re
import sys

import numpy as np


def write(path, seed):
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (1 << 31))
    print(f"calibration_check.py: seed {seed}", file=sys.stderr)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 4, 16))
    x[:, :, rng.choice(16, 3, replace=False)] *= 20.0  # outlier channels
    np.savez(path, input0=x.astype(np.float32))


def parse_stats(text):
    pattern = re.compile(
        r"#qnn\.calib_stats<axis = (\d+), samples = (\d+), absmax = \[([^\]]*)\], "
        r"min = \[([^\]]*)\], max = \[([^\]]*)\], percentile = ([^,]*), "
        r"percentile_absmax = \[([^\]]*)\]>")
    floats = lambda s: np.array([float(v) for v in s.split(",")])
    return [dict(axis=int(m[1]), samples=int(m[2]), absmax=floats(m[3]),
                 min=floats(m[4]), max=floats(m[5]), percentile=float(m[6]),
                 pabsmax=floats(m[7])) for m in pattern.finditer(text)]


def check(mlir_path, samples_path):
    x = np.load(samples_path)["input0"].astype(np.float64)
    stats = parse_stats(open(mlir_path).read())
    if len(stats) != 2:
        sys.exit(f"expected 2 calib_stats attributes, found {len(stats)}")
    for name, activation, found in [("input", x, stats[0]),
                                    ("relu", np.maximum(x, 0.0), stats[1])]:
        per_channel = activation.reshape(-1, activation.shape[-1])
        expected = dict(absmax=np.abs(per_channel).max(0),
                        min=per_channel.min(0), max=per_channel.max(0))
        if found["samples"] != x.shape[0] or found["axis"] != 1:
            sys.exit(f"{name}: samples/axis {found['samples']}/{found['axis']}")
        for key, value in expected.items():
            error = np.max(np.abs(found[key] - value) / (np.abs(value) + 1e-30))
            if error > 1e-6:
                sys.exit(f"{name}: {key} differs by {error:.3g} relative")
        # The percentile comes from a 2048-bin histogram of |x| per channel.
        magnitudes = np.sort(np.abs(per_channel), axis=0)
        q = found["percentile"] / 100.0
        low = np.quantile(magnitudes, q, axis=0, method="lower")
        width = expected["absmax"] / 2048
        if np.any(found["pabsmax"] < low - width - 1e-6) or np.any(
                found["pabsmax"] > expected["absmax"] * (1 + 1e-6)):
            sys.exit(f"{name}: percentile_absmax outside [quantile, absmax]")
    print("calib_stats match the float64 statistics of the samples")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        seed = int(sys.argv[4]) if len(sys.argv) > 4 else None
        write(sys.argv[2], seed)
    else:
        check(sys.argv[2], sys.argv[3])
