//===- WidenCodes.cuh - blobs rewritten for the Hopper kernels -*- CUDA -*-===//
//
// The Hopper kernels (Wgmma.cuh) read their operands by TMA, one k run of a
// row or column a shared-memory row. W4A8 prefill reaches the int8 kernel
// through a copy of the weights with each 4-bit code widened to a byte
// (the per-group operands are the same values in both blobs); weight-only
// prefill reaches the f16 kernel through f16 copies of A and of the codes'
// u − z (Launch.cpp).
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

/// Writes p.halfA and p.halfW: one thread four values of A (a float4, K
/// and lda being multiples of four) or one 8-code run of the blob, in
/// that order. u − z is at most 255 in magnitude, exact in f16.
__device__ void halfOperands(const HalfOperandsArgs &p) {
  const int64_t rowQuads = p.w.K / 4, aItems = int64_t(p.M) * rowQuads;
  const int64_t paddedK = p.w.paddedK();
  const int64_t runs = p.w.codeBytes() / p.w.bits;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
       i < aItems + runs; i += int64_t(gridDim.x) * blockDim.x) {
    if (i < aItems) {
      const int64_t m = i / rowQuads, k = i % rowQuads * 4;
      const float4 a =
          *reinterpret_cast<const float4 *>(p.A + m * p.lda + k);
      const __half2 pair[2] = {__floats2half2_rn(a.x, a.y),
                               __floats2half2_rn(a.z, a.w)};
      *reinterpret_cast<uint2 *>(p.halfA + m * paddedK + k) =
          *reinterpret_cast<const uint2 *>(pair);
      continue;
    }
    int64_t n, k;
    int32_t values[8];
    codeRunValues(p.packed, p.w, i - aItems, n, k, values);
    if (k >= paddedK) // the 8-bit blob's block completing a pair
      continue;
    __half2 pairs[4];
#pragma unroll
    for (int j = 0; j < 4; ++j)
      pairs[j] = __halves2half2(__int2half_rn(values[2 * j]),
                                __int2half_rn(values[2 * j + 1]));
    *reinterpret_cast<uint4 *>(p.halfW + n * paddedK + k) =
        *reinterpret_cast<const uint4 *>(pairs);
  }
}

} // namespace qr::gpu

#endif // QUANT_RUNTIME_CUDA_KERNELS_WIDENCODES_CUH
