//===- WidenCodes.cuh - 4-bit weight blobs as 8-bit ones -------*- CUDA -*-===//
//
// The Hopper kernel (Wgmma.cuh) reads 8-bit codes by TMA, 128 k of a column
// a row; W4A8 prefill reaches it through a copy of the weights with each
// 4-bit code widened to a byte (Launch.cpp). The per-group operands are the
// same values in both blobs.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_RUNTIME_CUDA_KERNELS_WIDENCODES_CUH
#define QUANT_RUNTIME_CUDA_KERNELS_WIDENCODES_CUH

#include "KernelArgs.h"

namespace qr::gpu {

/// Writes p.wide's blob from p.narrow's: one thread an 8-byte run of the
/// codes (widenCodeRun: consecutive threads, consecutive runs) or a
/// 16-byte chunk of the per-group operands, which both blobs lay out alike
/// from zeroBiasF16 on.
__device__ void widenCodes(const WidenArgs &p) {
  const int64_t codeRuns = p.wide.codeBytes() / 8;
  const int64_t operandChunks = p.narrow.operandBytes() / 16;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
       i < codeRuns + operandChunks; i += int64_t(gridDim.x) * blockDim.x) {
    if (i < codeRuns) {
      widenCodeRun(p.from, p.to, p.narrow, p.wide, i);
    } else {
      const int64_t at = (i - codeRuns) * 16;
      *reinterpret_cast<uint4 *>(p.to + p.wide.zeroBiasF16 + at) =
          *reinterpret_cast<const uint4 *>(p.from + p.narrow.zeroBiasF16 + at);
    }
  }
}

} // namespace qr::gpu

#endif // QUANT_RUNTIME_CUDA_KERNELS_WIDENCODES_CUH
