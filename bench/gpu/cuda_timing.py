"""CUDA-event timing shared by the PyTorch peer scripts of bench/gpu."""
import torch


def median_ms(fn, reps=30, inner=10):
    """Median milliseconds of one fn(i) call over `reps` batches of `inner`
    calls timed with CUDA events, after three warm-up calls; `i` counts the
    calls (to rotate buffers)."""
    for i in range(3):
        fn(i)
    torch.cuda.synchronize()
    times = []
    for r in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for i in range(inner):
            fn(r * inner + i)
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop) / inner)
    times.sort()
    return times[len(times) // 2]
