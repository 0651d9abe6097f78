#!/usr/bin/env python3
"""A PointPillars-like example for qnn.pillar_conv.

  pointpillars.py scene OUTDIR [--seed S]
      A synthetic KITTI-like LiDAR sweep (~20k points: a ground plane with
      range-dependent density, cars and pedestrians as clustered boxes, a
      few walls) is cut into 0.16 m pillars on the KITTI PointPillars grid
      (x 0..69.12 m → 432 columns, y −39.68..39.68 m → 496 rows) and
      encoded: each point gets the 9 PointPillars features (x, y, z,
      intensity, offsets to the pillar's point mean and to its centre), a
      seeded linear layer + ReLU maps them to 16 channels, and the max over
      the pillar's points is its feature (PointNet). Writes
      OUTDIR/features.npy [P, 16] f32 and OUTDIR/coords.npy [P, 3] i32
      (batch 0, row y, column x) and OUTDIR/backbone.mlir (below).

  pointpillars.py check-dense OUTDIR FEATURES.npy ROWS.npy
      Checks a compiled OUTDIR/layer1.mlir's output (padded rows and row
      count, as quant-run writes them) against a dense numpy convolution of
      the scattered pseudo-image, read at the active pillars.

  pointpillars.py compare FEATURES.npy ROWS.npy REFERENCE.npy
      Compares a compiled backbone's output (padded rows and row count)
      with quant-eval's float64 output: row count and relative error.

The backbone (seeded weights) is four pillar convs: a submanifold 16 → 32,
a stride-2 submanifold 32 → 64, a selective-dilation 64 → 64 that grows
the active set around the top 10 % pillars by feature norm, and a
submanifold 64 → 64. layer1.mlir is the first layer alone.
"""
import argparse
import json
import os

import numpy as np

GRID_H, GRID_W, VOXEL = 496, 432, 0.16
X_RANGE, Y_RANGE = (0.0, 69.12), (-39.68, 39.68)
ENCODED = 16


def box_points(rng, centre, size, yaw, count):
    """Points on the visible surface of a box (side and top)."""
    local = (rng.random((count, 3)) - 0.5) * size
    face = rng.integers(0, 3, count)
    local[face == 0, 0] = np.sign(local[face == 0, 0]) * size[0] / 2
    local[face == 1, 1] = np.sign(local[face == 1, 1]) * size[1] / 2
    local[face == 2, 2] = size[2] / 2
    c, s = np.cos(yaw), np.sin(yaw)
    xy = local[:, :2] @ np.array([[c, s], [-s, c]])
    return np.column_stack([xy + centre[:2], local[:, 2] + centre[2]])


def make_scene(rng, total=20000):
    parts = []
    # Objects: cars (3.9 x 1.6 x 1.56 m) and pedestrians (0.8 x 0.6 x 1.73 m)
    # along two lanes and a sidewalk; nearer objects return more points.
    for kind, count in (("car", 14), ("pedestrian", 10)):
        for _ in range(count):
            x = rng.uniform(5, 65)
            if kind == "car":
                y = rng.choice([-3.5, 0.0, 3.5]) + rng.normal(0, 0.4)
                size, yaw = np.array([3.9, 1.6, 1.56]), rng.normal(0, 0.1)
            else:
                y = rng.choice([-7.5, 7.5]) + rng.normal(0, 1.0)
                size, yaw = np.array([0.8, 0.6, 1.73]), rng.uniform(0, np.pi)
            n = int(np.clip(9000 / x, 20, 900)) // (1 if kind == "car" else 3)
            parts.append(box_points(rng, np.array([x, y, -1.73 + size[2] / 2]),
                                    size, yaw, n))
    # Two building walls far to the sides.
    for y in (-18.0, 22.0):
        n = 1500
        parts.append(np.column_stack([rng.uniform(10, 60, n),
                                      y + rng.normal(0, 0.05, n),
                                      rng.uniform(-1.7, 2.5, n)]))
    objects = np.concatenate(parts)
    # Ground: rings of returns whose density falls with range.
    ground_count = max(total - len(objects), 0)
    r = 4 + 60 * rng.power(0.6, ground_count)
    theta = rng.uniform(-np.pi / 4, np.pi / 4, ground_count)
    ground = np.column_stack([r * np.cos(theta), r * np.sin(theta),
                              -1.73 + rng.normal(0, 0.03, ground_count)])
    points = np.concatenate([objects, ground])
    intensity = rng.uniform(0, 1, (len(points), 1))
    return np.hstack([points, intensity]).astype(np.float32)


def encode_pillars(points, rng):
    col = np.floor((points[:, 0] - X_RANGE[0]) / VOXEL).astype(np.int64)
    row = np.floor((points[:, 1] - Y_RANGE[0]) / VOXEL).astype(np.int64)
    inside = (col >= 0) & (col < GRID_W) & (row >= 0) & (row < GRID_H)
    points, row, col = points[inside], row[inside], col[inside]
    cell = row * GRID_W + col
    sites, pillar = np.unique(cell, return_inverse=True)
    counts = np.bincount(pillar)
    mean = np.stack([np.bincount(pillar, points[:, d]) / counts
                     for d in range(3)], axis=1)
    centre = np.column_stack([(sites % GRID_W + 0.5) * VOXEL + X_RANGE[0],
                              (sites // GRID_W + 0.5) * VOXEL + Y_RANGE[0]])
    decorated = np.hstack([points, points[:, :3] - mean[pillar],
                           points[:, :2] - centre[pillar]])
    weight = rng.standard_normal((9, ENCODED)) / 3.0
    per_point = np.maximum(decorated @ weight, 0.0)
    features = np.zeros((len(sites), ENCODED))
    np.maximum.at(features, pillar, per_point)
    coords = np.column_stack([np.zeros_like(sites), sites // GRID_W,
                              sites % GRID_W]).astype(np.int32)
    return features.astype(np.float32), coords, len(points)


def layer_text(index, rng, feature, coord, rows, cin, cout, attributes):
    w = (rng.standard_normal((3, 3, cin, cout)) / np.sqrt(9 * cin)).astype(np.float32)
    b = (0.1 * rng.standard_normal(cout)).astype(np.float32)
    weight_type = "tensor<3x3x%dx%dxf32>" % (cin, cout)
    # Only a stride-1 submanifold conv keeps its (static) row count.
    keeps_rows = "submanifold" in attributes and "stride" not in attributes
    out_rows = rows if keeps_rows else "?"
    return out_rows, "\n".join([
        "  %%w%d = arith.constant dense<%s> : %s" % (index, json.dumps(w.tolist()), weight_type),
        "  %%b%d = arith.constant dense<%s> : tensor<%dxf32>" % (index, json.dumps(b.tolist()), cout),
        "  %%f%d, %%c%d = qnn.pillar_conv %s, %s, %%w%d bias(%%b%d : tensor<%dxf32>) %s"
        % (index, index, feature, coord, index, index, cout, attributes),
        "      : tensor<%sx%dxf32>, tensor<%sx3xi32>, %s -> tensor<%sx%dxf32>, tensor<%sx3xi32>"
        % (rows, cin, rows, weight_type, out_rows, cout, out_rows)])


def write_model(path, n, layers, rng):
    """`layers`: (C_in, C_out, attributes) in order; returns the text."""
    body, feature, coord, rows = [], "%features", "%coords", str(n)
    for index, (cin, cout, attributes) in enumerate(layers):
        rows, text = layer_text(index, rng, feature, coord, rows, cin, cout, attributes)
        body.append(text)
        feature, coord = "%%f%d" % index, "%%c%d" % index
    cout = layers[-1][1]
    if rows != "?":  # dynamic rows at the boundary: padded + row count
        body.append("  %%rf = tensor.cast %s : tensor<%sx%dxf32> to tensor<?x%dxf32>"
                    % (feature, rows, cout, cout))
        body.append("  %%rc = tensor.cast %s : tensor<%sx3xi32> to tensor<?x3xi32>"
                    % (coord, rows))
        feature, coord = "%rf", "%rc"
    results = "tensor<?x%dxf32>, tensor<?x3xi32>" % cout
    with open(path, "w") as f:
        f.write("func.func @pointpillars(%%features: tensor<%dx%dxf32>, "
                "%%coords: tensor<%dx3xi32>) -> (%s) {\n" % (n, ENCODED, n, results))
        f.write("\n".join(body) + "\n")
        f.write("  return %s, %s : %s\n}\n" % (feature, coord, results))


def scene(args):
    rng = np.random.default_rng(args.seed)
    points = make_scene(rng)
    features, coords, used = encode_pillars(points, rng)
    os.makedirs(args.outdir, exist_ok=True)
    np.save(os.path.join(args.outdir, "features.npy"), features)
    np.save(os.path.join(args.outdir, "coords.npy"), coords)
    n = len(coords)
    grid = "grid [%d, %d]" % (GRID_H, GRID_W)
    layers = [(ENCODED, 32, "kind submanifold " + grid),
              (32, 64, "kind submanifold %s stride 2" % grid),
              (64, 64, "kind selective_dilation grid [%d, %d] topk_ratio 0.1"
               % ((GRID_H + 1) // 2, (GRID_W + 1) // 2)),
              (64, 64, "kind submanifold grid [%d, %d]"
               % ((GRID_H + 1) // 2, (GRID_W + 1) // 2))]
    weights = np.random.default_rng(args.seed + 1)
    write_model(os.path.join(args.outdir, "backbone.mlir"), n, layers, weights)
    write_model(os.path.join(args.outdir, "layer1.mlir"), n, layers[:1],
                np.random.default_rng(args.seed + 1))
    print("scene seed %d: %d points (%d in range), %d pillars on %dx%d = %.2f %% occupancy"
          % (args.seed, len(points), used, n, GRID_H, GRID_W, 100.0 * n / (GRID_H * GRID_W)))


def check_dense(args):
    """Dense 3x3 conv (padding 1) of the pseudo-image at the active pillars."""
    features = np.load(os.path.join(args.outdir, "features.npy")).astype(np.float64)
    coords = np.load(os.path.join(args.outdir, "coords.npy"))
    weights = np.random.default_rng(args.seed + 1)
    w = (weights.standard_normal((3, 3, ENCODED, 32)) / np.sqrt(9 * ENCODED))
    w = w.astype(np.float32).astype(np.float64)
    b = (0.1 * weights.standard_normal(32)).astype(np.float32).astype(np.float64)
    image = np.zeros((GRID_H + 2, GRID_W + 2, ENCODED))
    image[coords[:, 1] + 1, coords[:, 2] + 1] = features
    dense = np.zeros((GRID_H, GRID_W, 32))
    for ky in range(3):
        for kx in range(3):
            dense += image[ky:ky + GRID_H, kx:kx + GRID_W] @ w[ky, kx]
    expected = dense[coords[:, 1], coords[:, 2]] + b
    rows = int(np.load(args.rows))
    actual = np.load(args.features)[:rows]
    if rows != len(coords):
        raise SystemExit("layer 1 returned %d rows for %d pillars" % (rows, len(coords)))
    error = np.linalg.norm(actual - expected) / np.linalg.norm(expected)
    print("layer 1 vs dense numpy conv of the %dx%d pseudo-image at the %d active pillars: "
          "relative error %.1e" % (GRID_H, GRID_W, rows, error))
    if error > 1e-5:
        raise SystemExit("mismatch")


def compare(args):
    rows = int(np.load(args.rows))
    actual = np.load(args.features)[:rows].astype(np.float64)
    reference = np.load(args.reference)
    if actual.shape != reference.shape:
        raise SystemExit("%d rows, the reference has %d" % (rows, len(reference)))
    error = np.linalg.norm(actual - reference) / np.linalg.norm(reference)
    print("%d output sites; relative error vs the float64 evaluator %.1e" % (rows, error))
    if error > 1e-5:
        raise SystemExit("mismatch")


parser = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
commands = parser.add_subparsers(dest="command", required=True)
p = commands.add_parser("scene")
p.add_argument("outdir")
p.add_argument("--seed", type=int, default=7)
p = commands.add_parser("check-dense")
p.add_argument("outdir")
p.add_argument("features")
p.add_argument("rows")
p.add_argument("--seed", type=int, default=7)
p = commands.add_parser("compare")
p.add_argument("features")
p.add_argument("rows")
p.add_argument("reference")
args = parser.parse_args()
{"scene": scene, "check-dense": check_dense, "compare": compare}[args.command](args)
