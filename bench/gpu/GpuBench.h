//===- GpuBench.h - plumbing of the GPU benchmark driver --------*- C++ -*-===//
//
// Device buffers, error checks, float64 comparisons and device-event
// timing shared by quant-bench-gpu's matmul/Hadamard part
// (quant-bench-gpu.cpp) and its pillar convolution part (PillarBench.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_BENCH_GPU_GPUBENCH_H
#define QUANT_BENCH_GPU_GPUBENCH_H

#include "quant/Runtime/CudaRuntime.h"
#include "quant/Runtime/Runtime.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace qbench {

[[noreturn]] inline void die(const std::string &message) {
  std::fprintf(stderr, "quant-bench-gpu: %s\n", message.c_str());
  std::exit(2);
}

inline void checkCuda(int status, const char *what) {
  if (status != 0)
    die(std::string(what) + ": " + qr_last_error());
}

/// Errors the kernels reported (through qr_report_kernel_error) surface at
/// the next qr_model_run; outside a model the runtime keeps the last one.
inline void checkKernels(const char *what) {
  checkCuda(qr_cuda_synchronize(), what);
}

/// A device buffer freed with its owner.
struct DeviceBuffer {
  void *ptr = nullptr;
  size_t bytes = 0;
  explicit DeviceBuffer(size_t size) : bytes(size) {
    ptr = qr_cuda_malloc(std::max<size_t>(size, 16));
    if (!ptr)
      die(std::string("qr_cuda_malloc: ") + qr_last_error());
  }
  DeviceBuffer(DeviceBuffer &&other) noexcept
      : ptr(other.ptr), bytes(other.bytes) {
    other.ptr = nullptr;
  }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  ~DeviceBuffer() {
    if (ptr)
      qr_cuda_free(ptr);
  }
  template <typename T> T *as() const { return static_cast<T *>(ptr); }
  void upload(const void *host) {
    checkCuda(qr_cuda_memcpy_htod(ptr, host, bytes), "upload");
  }
  void download(void *host) const {
    checkCuda(qr_cuda_memcpy_dtoh(host, ptr, bytes), "download");
  }
  /// 0xff bytes: NaN floats, so an unwritten output cannot pass.
  void poison() { checkCuda(qr_cuda_memset_d8(ptr, 0xff, bytes), "poison"); }
};

template <typename T> DeviceBuffer toDevice(const std::vector<T> &host) {
  DeviceBuffer buffer(host.size() * sizeof(T));
  buffer.upload(host.data());
  return buffer;
}

/// Relative L2 error; NaN or a size mismatch is infinite.
inline double relativeError(const std::vector<float> &got,
                            const std::vector<double> &want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i]))
      return INFINITY;
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

/// Median of `reps` device-event timings of `work` (which takes the
/// iteration index, to rotate buffers), after warm-up.
inline double medianMs(const std::function<void(int)> &work, int reps = 30,
                       int inner = 10) {
  for (int i = 0; i < 3; ++i)
    work(i);
  checkKernels("warm-up");
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    checkCuda(qr_cuda_timer_start(), "timer");
    for (int i = 0; i < inner; ++i)
      work(r * inner + i);
    double ms = qr_cuda_timer_stop();
    if (ms < 0)
      die(std::string("timer: ") + qr_last_error());
    times.push_back(ms / inner);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

/// Host microseconds a call of `work` takes to enqueue, over `calls`
/// calls issued back to back: when it reaches the device time a call, the
/// device timings above measure the host, not the kernel.
inline double enqueueMicros(const std::function<void(int)> &work,
                            int calls = 200) {
  checkKernels("enqueue warm-up");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i)
    work(i);
  const auto stop = std::chrono::steady_clock::now();
  checkKernels("enqueue");
  return std::chrono::duration<double, std::micro>(stop - start).count() /
         calls;
}

/// Pillar convolution: checks against the CPU rulebook and float64 dense
/// convolutions (0 when all pass), and timings of a PointPillars layer.
int runPillarChecks(uint64_t seed);
void benchPillars(bool quick);

} // namespace qbench

#endif // QUANT_BENCH_GPU_GPUBENCH_H
