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

/// A CTA a row; the same arithmetic as qr_uk_quantize_per_token_f32.
__device__ void quantizePerToken(const QuantizeArgs &p) {
  __shared__ float warpMax[kQuantizeThreads / 32];
  const float *x = p.X + int64_t(blockIdx.x) * p.ldx;
  int8_t *q = p.Q + int64_t(blockIdx.x) * p.ldq;
  float absmax = 0.0f;
  for (int64_t k = threadIdx.x; k < p.K; k += blockDim.x)
    absmax = fmaxf(absmax, fabsf(x[k])); // fmaxf drops NaN
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
  for (int64_t k = threadIdx.x; k < p.K; k += blockDim.x) {
    int8_t code = 0;
    if (scale != 0.0f) {
      double r = rint(double(x[k]) / double(scale));
      if (r == r) // not NaN
        code = int8_t(fmin(fmax(r, -qmax - 1.0), qmax));
    }
    q[k] = code;
  }
}

} // namespace qr::gpu
