#!/usr/bin/env python3
"""cuDNN's dense convolution (through PyTorch) of the layer quant-bench-gpu
pillar times sparsely: a 496 x 432 pseudo-image, 64 -> 64 channels, 3 x 3,
padding 1, batch 1, CUDA-event medians, cudnn.benchmark on. Three
precisions: f32 (TF32 off, the accuracy of our f32 kernel), TF32 (PyTorch's
default for convolutions) and f16 channels-last (tensor cores). With
--sparse FILE (the output of quant-bench-gpu pillar) it prints the
speed-ups of the sparse layer over each."""
import argparse

import torch

from cuda_timing import median_ms


def dense_ms(height, width, channels, quick):
    torch.backends.cudnn.benchmark = True
    gen = torch.Generator(device="cuda").manual_seed(5)
    x = torch.randn(1, channels, height, width, device="cuda", generator=gen)
    w = torch.randn(channels, channels, 3, 3, device="cuda", generator=gen) * 0.05
    b = torch.randn(channels, device="cuda", generator=gen)
    reps = 10 if quick else 30
    conv = torch.nn.functional.conv2d
    times = {}
    torch.backends.cudnn.allow_tf32 = False
    times["f32"] = median_ms(lambda _: conv(x, w, b, padding=1), reps)
    torch.backends.cudnn.allow_tf32 = True
    times["tf32"] = median_ms(lambda _: conv(x, w, b, padding=1), reps)
    xh = x.half().to(memory_format=torch.channels_last)
    wh = w.half().to(memory_format=torch.channels_last)
    bh = b.half()
    times["f16"] = median_ms(lambda _: conv(xh, wh, bh, padding=1), reps)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sparse", help="quant-bench-gpu pillar output")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(f"torch {torch.__version__} (cuDNN {torch.backends.cudnn.version()}) on "
          f"{torch.cuda.get_device_name()}")
    dense = dense_ms(496, 432, 64, args.quick)
    print("dense conv 496x432, 64 -> 64, 3x3 (ms): " +
          ", ".join(f"{k} {v:.4f}" for k, v in dense.items()))
    if not args.sparse:
        return
    print(f"\n{'occupancy':>9} {'pillars':>8} {'sparse f32':>11} {'vs f32':>7} {'vs tf32':>8} "
          f"{'sparse W8A8':>12} {'vs f16':>7} {'vs tf32':>8} {'sparse W4A16':>13} {'vs f16':>7}")
    for line in open(args.sparse):
        if not line.startswith("pillar-row "):
            continue
        occ, pillars, rulebook, f32, w8a8, w4a16 = (float(v) for v in line.split()[1:])
        total = {"f32": rulebook + f32, "w8a8": rulebook + w8a8, "w4a16": rulebook + w4a16}
        print(f"{occ * 100:8.0f}% {int(pillars):8d} {total['f32']:11.4f} "
              f"{dense['f32'] / total['f32']:6.1f}x {dense['tf32'] / total['f32']:7.1f}x "
              f"{total['w8a8']:12.4f} {dense['f16'] / total['w8a8']:6.1f}x "
              f"{dense['tf32'] / total['w8a8']:7.1f}x {total['w4a16']:13.4f} "
              f"{dense['f16'] / total['w4a16']:6.1f}x")
    print("(sparse = rulebook + conv, both from quant-bench-gpu pillar)")
    # A backbone stage: stride-1 submanifold layers on the same sites share
    # one rulebook (the lowering reuses it), so a stage of L layers costs
    # one rulebook and L convs against L dense convs.
    layers = 2
    print(f"\nstage of {layers} submanifold layers (one rulebook): speed-up over {layers} dense convs")
    print(f"{'occupancy':>9} {'f32 vs f32':>11} {'f32 vs tf32':>12} {'W8A8 vs f16':>12} {'W4A16 vs f16':>13}")
    for line in open(args.sparse):
        if not line.startswith("pillar-row "):
            continue
        occ, _, rulebook, f32, w8a8, w4a16 = (float(v) for v in line.split()[1:])
        stage = lambda conv: rulebook + layers * conv
        print(f"{occ * 100:8.0f}% {layers * dense['f32'] / stage(f32):10.1f}x "
              f"{layers * dense['tf32'] / stage(f32):11.1f}x {layers * dense['f16'] / stage(w8a8):11.1f}x "
              f"{layers * dense['f16'] / stage(w4a16):12.1f}x")


if __name__ == "__main__":
    main()
