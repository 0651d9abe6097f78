#!/usr/bin/env python3
"""Generates a LLaMA-style block tail (RMSNorm -> SwiGLU MLP) in linalg MLIR
with random weights, plus calibration and evaluation activations with LLM
outlier statistics: a few channels 50-100x larger than the rest and rare
massive-activation tokens (~1000x on a few channels).

Usage: generate_mlp.py OUT_DIR [--hidden 128] [--ffn 384] [--tokens 64] [--seed 0]
Writes OUT_DIR/mlp.mlir, OUT_DIR/calib.npy, OUT_DIR/eval.npy.
"""
import argparse
import os

import numpy as np


def activations(rng, tokens, hidden, outlier_channels, massive_tokens):
    x = rng.standard_normal((tokens, hidden))
    x[:, outlier_channels] *= rng.uniform(50, 100, size=len(outlier_channels))
    for t in massive_tokens:
        x[t, outlier_channels[:2]] *= 1000.0 / 75.0
    return x.astype(np.float32)


def dense(a):
    body = np.array2string(a, separator=", ", threshold=np.inf, max_line_width=np.inf,
                           formatter={"float_kind": lambda v: "%.9g" % v})
    return "dense<%s>" % body


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--ffn", type=int, default=384)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    d, f, t = args.hidden, args.ffn, args.tokens

    outliers = list(rng.choice(d, size=4, replace=False))
    massive = list(rng.choice(t, size=2, replace=False))
    gamma = (1.0 + 0.1 * rng.standard_normal(d)).astype(np.float32)
    w_gate = (rng.standard_normal((d, f)) / np.sqrt(d)).astype(np.float32)
    w_up = (rng.standard_normal((d, f)) / np.sqrt(d)).astype(np.float32)
    w_down = (rng.standard_normal((f, d)) / np.sqrt(f)).astype(np.float32)

    os.makedirs(args.out_dir, exist_ok=True)
    np.save(os.path.join(args.out_dir, "calib.npy"), activations(rng, t, d, outliers, massive))
    np.save(os.path.join(args.out_dir, "eval.npy"), activations(rng, t, d, outliers, massive))

    x, h, g = "tensor<%dx%dxf32>" % (t, d), "tensor<%dx%dxf32>" % (t, f), "tensor<%dxf32>" % d
    rows = "tensor<%dxf32>" % t
    mlir = f"""// RMSNorm -> SwiGLU MLP, hidden {d}, ffn {f}, {t} tokens (generate_mlp.py, seed {args.seed}).
#map = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#chan = affine_map<(d0, d1) -> (d1)>
func.func @mlp(%x: {x}) -> {x} {{
  %zero = arith.constant 0.0 : f32
  %rows = tensor.empty() : {rows}
  %acc = linalg.fill ins(%zero : f32) outs(%rows : {rows}) -> {rows}
  %ss = linalg.generic {{indexing_maps = [#map, #row], iterator_types = ["parallel", "reduction"]}}
      ins(%x : {x}) outs(%acc : {rows}) {{
  ^bb0(%a: f32, %s: f32):
    %sq = arith.mulf %a, %a : f32
    %sum = arith.addf %s, %sq : f32
    linalg.yield %sum : f32
  }} -> {rows}
  %gamma = arith.constant {dense(gamma)} : {g}
  %xe = tensor.empty() : {x}
  %n = linalg.generic {{indexing_maps = [#map, #row, #chan, #map], iterator_types = ["parallel", "parallel"]}}
      ins(%x, %ss, %gamma : {x}, {rows}, {g}) outs(%xe : {x}) {{
  ^bb0(%a: f32, %s: f32, %gm: f32, %o: f32):
    %dim = arith.constant {float(d)} : f32
    %eps = arith.constant 1.0e-6 : f32
    %mean = arith.divf %s, %dim : f32
    %var = arith.addf %mean, %eps : f32
    %inv = math.rsqrt %var : f32
    %t = arith.mulf %a, %inv : f32
    %y = arith.mulf %t, %gm : f32
    linalg.yield %y : f32
  }} -> {x}
  %he = tensor.empty() : {h}
  %hz = linalg.fill ins(%zero : f32) outs(%he : {h}) -> {h}
  %w_gate = arith.constant {dense(w_gate)} : tensor<{d}x{f}xf32>
  %gate = linalg.matmul ins(%n, %w_gate : {x}, tensor<{d}x{f}xf32>) outs(%hz : {h}) -> {h}
  %w_up = arith.constant {dense(w_up)} : tensor<{d}x{f}xf32>
  %up = linalg.matmul ins(%n, %w_up : {x}, tensor<{d}x{f}xf32>) outs(%hz : {h}) -> {h}
  %act = linalg.generic {{indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]}}
      ins(%gate, %up : {h}, {h}) outs(%he : {h}) {{
  ^bb0(%a: f32, %b: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %neg = arith.negf %a : f32
    %e = math.exp %neg : f32
    %den = arith.addf %one, %e : f32
    %silu = arith.divf %a, %den : f32
    %y = arith.mulf %silu, %b : f32
    linalg.yield %y : f32
  }} -> {h}
  %xz = linalg.fill ins(%zero : f32) outs(%xe : {x}) -> {x}
  %w_down = arith.constant {dense(w_down)} : tensor<{f}x{d}xf32>
  %down = linalg.matmul ins(%act, %w_down : {h}, tensor<{f}x{d}xf32>) outs(%xz : {x}) -> {x}
  return %down : {x}
}}
"""
    with open(os.path.join(args.out_dir, "mlp.mlir"), "w") as out:
        out.write(mlir)


if __name__ == "__main__":
    main()
