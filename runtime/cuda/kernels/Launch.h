//===- Launch.h - what the GPU kernel launchers share -----------*- C++ -*-===//
//
// Error reporting, launches by kernel name, grow-only device scratch and the
// tiled matmul for the launchers of the GpuKernels.h C ABI (Launch.cpp,
// PillarLaunch.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_RUNTIME_CUDA_KERNELS_LAUNCH_H
#define QUANT_RUNTIME_CUDA_KERNELS_LAUNCH_H

#include "KernelArgs.h"

#include "../CudaDriver.h"

#include <cstddef>
#include <mutex>
#include <string>

namespace qr::gpu {

/// Reports `message` through qr_report_kernel_error; returns false.
bool fail(const std::string &message);

/// Launches kernel `name` of the embedded module with one parameter block.
bool launch(
    const char *name, unsigned gx, unsigned gy, unsigned gz, unsigned threads,
    unsigned sharedBytes, void *args,
    qr::cuda::LaunchOrder order = qr::cuda::LaunchOrder::AfterPredecessor);

/// The checks and arguments both matmul entry points share (weights, M, the
/// operands); false (with the error reported) when the call cannot run.
bool prepareMatmul(const char *what, int64_t M, int64_t N, int64_t K,
                   int32_t bits, int64_t groupSize, const void *A, int64_t lda,
                   const void *packed, float *C, int64_t ldc, MatmulArgs &args);

/// Launches the tiled matmul for `activation` ("s8" or "f16"): 128 × 128
/// tiles, or with args.gather the pillar convolution's 64 × 64 gathered
/// variant.
bool launchTiled(const char *activation, const MatmulArgs &args);

/// Whether `p` allows 16-byte vector accesses.
bool aligned16(const void *p);

/// Blocks of `threads` covering `items` (at least one).
unsigned blocksFor(long long items, int threads);

/// Device memory a launcher keeps between calls, grown on demand.
class DeviceScratch {
public:
  /// At least `bytes` (zero-filled when it grows and `zeroed`), or null
  /// with the error reported. Growing waits for the kernels in flight,
  /// which may still use the old buffer.
  void *reserve(size_t bytes, bool zeroed = false);

private:
  std::mutex mutex;
  void *buffer = nullptr;
  size_t size = 0;
};

} // namespace qr::gpu

#endif // QUANT_RUNTIME_CUDA_KERNELS_LAUNCH_H
