//===- Float.cuh - f32 GEMM and per-token quantization --------*- CUDA -*-===//
//
// The float pieces around the tensor-core matmuls. The GEMM stays in f32
// FFMA (no TF32) because the float path promises f32 accuracy.
//
//===----------------------------------------------------------------------===//

#include "KernelArgs.h"

namespace qr::gpu {

/// Grid: (ceil(N / 64), ceil(M / 64), batch); 4×4 outputs a thread.
/// Gathered: A's rows are assembled from p.gather (a pillar convolution's
/// neighbour map) as the tiles load, and the bias is added.
template <bool Gathered> __device__ void gemmF32(const GemmF32Args &p) {
  __shared__ float As[kGemmK][kGemmTile + 4], Bs[kGemmK][kGemmTile + 4];
  const float *A = p.A + blockIdx.z * p.strideA;
  const float *B = p.B + blockIdx.z * p.strideB;
  float *C = p.C + blockIdx.z * p.strideC;
  const int64_t m0 = int64_t(blockIdx.y) * kGemmTile;
  const int64_t n0 = int64_t(blockIdx.x) * kGemmTile;
  const int tm = threadIdx.x / 16, tn = threadIdx.x % 16;
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < p.K; k0 += kGemmK) {
    for (int i = threadIdx.x; i < kGemmTile * kGemmK; i += kGemmThreads) {
      int r = i / kGemmK, k = i % kGemmK;
      int64_t m = m0 + r, n = n0 + r, kk = k0 + k;
      float a = 0.0f;
      if (m < p.M && kk < p.K) {
        if constexpr (Gathered) {
          const int64_t channels = p.K / p.taps, tap = kk / channels;
          const int32_t row = p.gather[m * p.taps + tap];
          if (row >= 0)
            a = A[row * p.lda + (kk - tap * channels)];
        } else {
          a = A[m * p.lda + kk];
        }
      }
      As[k][r] = a;
      float b = 0.0f;
      if (n < p.N && kk < p.K)
        b = p.transposeB ? B[n * p.ldb + kk] : B[kk * p.ldb + n];
      Bs[k][r] = b;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < kGemmK; ++k) {
      float a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        a[i] = As[k][tm + 16 * i];
        b[i] = Bs[k][tn + 16 * i];
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
          acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      int64_t m = m0 + tm + 16 * i, n = n0 + tn + 16 * j;
      if (m < p.M && n < p.N)
        C[m * p.ldc + n] = Gathered && p.bias ? acc[i][j] + p.bias[n]
                                              : acc[i][j];
    }
}

/// One value's code: rint(x / scale) in double, clamped, NaN to 0 (the
/// arithmetic of qr_uk_quantize_per_token_f32, bit for bit).
__device__ __forceinline__ int8_t quantizeValue(float x, float scale,
                                                double qmax) {
  if (scale == 0.0f)
    return 0;
  const double r = rint(double(x) / double(scale));
  return r == r ? int8_t(fmin(fmax(r, -qmax - 1.0), qmax)) : int8_t(0);
}

/// A CTA a row. Rows of whole 16-byte runs (K a multiple of 4, aligned) of
/// up to kQuantizeCachedRuns runs a thread are read once, with 16-byte
/// loads, and kept in registers between the max and the codes; other rows
/// are read twice, element by element. At decode (one row, one CTA) on an
/// H100, against 256 threads re-reading one element at a time: 11008
/// values 0.0145 → 0.0048 ms, 4096 values 0.0061 → 0.0033 ms.
__device__ void quantizePerToken(const QuantizeArgs &p) {
  __shared__ float warpMax[kQuantizeThreads / 32];
  const float *x = p.X + int64_t(blockIdx.x) * p.ldx;
  int8_t *q = p.Q + int64_t(blockIdx.x) * p.ldq;
  const int64_t runs = p.K / 4;
  const bool cached =
      p.K % 4 == 0 && p.ldx % 4 == 0 && p.ldq % 4 == 0 &&
      reinterpret_cast<uintptr_t>(p.X) % 16 == 0 &&
      reinterpret_cast<uintptr_t>(p.Q) % 4 == 0 &&
      runs <= int64_t(kQuantizeCachedRuns) * kQuantizeThreads;
  float4 run[kQuantizeCachedRuns];
  float absmax = 0.0f; // fmaxf drops NaN
  if (cached) {
#pragma unroll
    for (int r = 0; r < kQuantizeCachedRuns; ++r) {
      const int64_t at = int64_t(r) * kQuantizeThreads + threadIdx.x;
      run[r] = at < runs ? reinterpret_cast<const float4 *>(x)[at]
                         : float4{0, 0, 0, 0};
      absmax = fmaxf(fmaxf(absmax, fmaxf(fabsf(run[r].x), fabsf(run[r].y))),
                     fmaxf(fabsf(run[r].z), fabsf(run[r].w)));
    }
  } else {
    for (int64_t k = threadIdx.x; k < p.K; k += blockDim.x)
      absmax = fmaxf(absmax, fabsf(x[k]));
  }
#pragma unroll
  for (int m = 16; m > 0; m /= 2)
    absmax = fmaxf(absmax, __shfl_xor_sync(0xffffffffu, absmax, m));
  if (threadIdx.x % 32 == 0)
    warpMax[threadIdx.x / 32] = absmax;
  __syncthreads();
  absmax = 0.0f;
  for (int w = 0; w < kQuantizeThreads / 32; ++w)
    absmax = fmaxf(absmax, warpMax[w]);

  const double qmax = double((1 << (p.bits - 1)) - 1);
  const float scale = float(double(absmax) / qmax);
  if (threadIdx.x == 0)
    p.scales[blockIdx.x] = scale;
  if (cached) {
#pragma unroll
    for (int r = 0; r < kQuantizeCachedRuns; ++r) {
      const int64_t at = int64_t(r) * kQuantizeThreads + threadIdx.x;
      if (at < runs)
        reinterpret_cast<char4 *>(q)[at] =
            char4{quantizeValue(run[r].x, scale, qmax),
                  quantizeValue(run[r].y, scale, qmax),
                  quantizeValue(run[r].z, scale, qmax),
                  quantizeValue(run[r].w, scale, qmax)};
    }
  } else {
    for (int64_t k = threadIdx.x; k < p.K; k += blockDim.x)
      q[k] = quantizeValue(x[k], scale, qmax);
  }
}

} // namespace qr::gpu
