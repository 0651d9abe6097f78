"""calibration_samples.py DIR: writes DIR/calib.npz, 8 fresh random samples
for each input of DIR/model.onnx, scaled like DIR/x0.npy (x1.npy, ...)."""
import sys

import numpy as np
import onnx

directory = sys.argv[1]
model = onnx.load(f"{directory}/model.onnx")
initializers = {t.name for t in model.graph.initializer}
inputs = [i.name for i in model.graph.input if i.name not in initializers]
seed = int(np.random.SeedSequence().entropy % (1 << 31))
print(f"calibration_samples.py: seed {seed}", file=sys.stderr)
rng = np.random.default_rng(seed)
samples = {}
for index, name in enumerate(inputs):
    example = np.load(f"{directory}/x{index}.npy")
    samples[name] = (rng.standard_normal((8,) + example.shape) *
                     example.std()).astype(example.dtype)
np.savez(f"{directory}/calib.npz", **samples)
