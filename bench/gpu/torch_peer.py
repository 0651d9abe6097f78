#!/usr/bin/env python3
"""PyTorch on the same GPU, the same shapes as quant-bench-gpu bench:
fp16 matmul (cuBLAS under torch.matmul) and int8 torch._int_mm (cuBLASLt),
weights rotated through more copies than L2 holds, CUDA-event medians."""
import sys

import torch

from cuda_timing import median_ms


def main():
    quick = "--quick" in sys.argv
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name()}")
    print(f"{'torch (ms, median)':26} {'M':>6} {'N=K':>6} {'f16 mm':>10} {'int8 _int_mm':>13}")
    rows = [1, 16, 4096] if quick else [1, 16, 128, 4096]
    gen = torch.Generator(device="cuda").manual_seed(3)
    for nk in (4096, 11008):
        copies = max(1, (256 << 20) // (nk * nk * 2) + 1)
        wh = [torch.randn(nk, nk, device="cuda", dtype=torch.float16, generator=gen) * 0.02
              for _ in range(copies)]
        copies8 = max(1, (256 << 20) // (nk * nk) + 1)
        w8 = [torch.randint(-128, 128, (nk, nk), device="cuda", dtype=torch.int8, generator=gen).t()
              for _ in range(copies8)]
        for m in rows:
            a = torch.randn(m, nk, device="cuda", dtype=torch.float16, generator=gen)
            f16 = median_ms(lambda i: torch.matmul(a, wh[i % copies].t()))
            # _int_mm needs M > 16 and multiples of 8; pad small M as a
            # caller would.
            m8 = max(m, 32)
            a8 = torch.randint(-128, 128, (m8, nk), device="cuda", dtype=torch.int8, generator=gen)
            i8 = median_ms(lambda i: torch._int_mm(a8, w8[i % copies8]))
            print(f"{'':26} {m:6d} {nk:6d} {f16:10.4f} {i8:13.4f}")


if __name__ == "__main__":
    main()
