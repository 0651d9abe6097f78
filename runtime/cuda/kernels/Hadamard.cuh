//===- Hadamard.cuh - fast Walsh–Hadamard transform on rows ---*- CUDA -*-===//
//
// One CTA a row of n = 2^L floats, in place. H_n is the product of one
// butterfly per index bit, in any order, so the index bits are split by
// where their partners live:
//
//   i = ((j·W + w)·32 + lane)·4 + v
//
// v and j (the thread's R = 4·J values) are butterflied in registers,
// lane bits with shfl.xor, warp bits through shared memory in a second
// assignment of elements to threads in which they are again in-thread.
// Loads and stores are 16 bytes a lane, consecutive across the warp.
//
//===----------------------------------------------------------------------===//

#include "KernelArgs.h"

namespace qr::gpu {

/// In-register Walsh–Hadamard transform of x[0, R) (unnormalized).
template <int R> __device__ __forceinline__ void fwhtRegisters(float (&x)[R]) {
#pragma unroll
  for (int h = 1; h < R; h *= 2)
#pragma unroll
    for (int i = 0; i < R; ++i)
      if ((i & h) == 0) {
        float a = x[i], b = x[i + h];
        x[i] = a + b;
        x[i + h] = a - b;
      }
}

template <int L> __device__ void hadamardRows(const HadamardArgs &p) {
  constexpr int n = 1 << L, R = hadamardValuesPerThread(L), J = R / 4;
  constexpr int T = hadamardThreads(L), W = T / 32;
  extern __shared__ __align__(16) float row[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  float *x = p.X + int64_t(blockIdx.x) * p.ld;

  float v[R];
#pragma unroll
  for (int j = 0; j < J; ++j) {
    int at = ((j * W + warp) * 32 + lane) * 4;
    float4 q = *reinterpret_cast<const float4 *>(x + at);
    if (p.signs) {
      char4 s = *reinterpret_cast<const char4 *>(p.signs + at);
      q.x *= s.x, q.y *= s.y, q.z *= s.z, q.w *= s.w;
    }
    v[4 * j] = q.x, v[4 * j + 1] = q.y, v[4 * j + 2] = q.z, v[4 * j + 3] = q.w;
  }
  fwhtRegisters(v);
#pragma unroll
  for (int m = 1; m < 32; m *= 2)
#pragma unroll
    for (int r = 0; r < R; ++r) {
      float partner = __shfl_xor_sync(0xffffffffu, v[r], m);
      v[r] = (lane & m) ? partner - v[r] : v[r] + partner;
    }

  if constexpr (W > 1) {
#pragma unroll
    for (int j = 0; j < J; ++j)
      *reinterpret_cast<float4 *>(row + ((j * W + warp) * 32 + lane) * 4) =
          make_float4(v[4 * j], v[4 * j + 1], v[4 * j + 2], v[4 * j + 3]);
    __syncthreads();
    // Second assignment: thread τ takes the W elements that differ only in
    // the warp bits, for the positions o = q·T + τ of the other bits.
    constexpr int logW = __builtin_ctz(W);
#pragma unroll
    for (int q = 0; q < R / W; ++q) {
      int o = q * T + threadIdx.x;
      int base = (o & 127) | ((o >> 7) << (7 + logW));
      float y[W];
#pragma unroll
      for (int w = 0; w < W; ++w)
        y[w] = row[base | (w << 7)];
      fwhtRegisters(y);
#pragma unroll
      for (int w = 0; w < W; ++w)
        row[base | (w << 7)] = y[w];
    }
    __syncthreads();
#pragma unroll
    for (int j = 0; j < J; ++j) {
      float4 q = *reinterpret_cast<const float4 *>(
          row + ((j * W + warp) * 32 + lane) * 4);
      v[4 * j] = q.x, v[4 * j + 1] = q.y, v[4 * j + 2] = q.z,
            v[4 * j + 3] = q.w;
    }
  }

#pragma unroll
  for (int j = 0; j < J; ++j)
    *reinterpret_cast<float4 *>(x + ((j * W + warp) * 32 + lane) * 4) =
        make_float4(v[4 * j] * p.scale, v[4 * j + 1] * p.scale,
                    v[4 * j + 2] * p.scale, v[4 * j + 3] * p.scale);
  (void)n;
}

/// n ≤ 64: a thread a row, all in registers.
template <int L> __device__ void hadamardSmallRows(const HadamardArgs &p) {
  constexpr int n = 1 << L;
  int64_t rowIndex = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (rowIndex >= p.rows)
    return;
  float *x = p.X + rowIndex * p.ld;
  float v[n];
#pragma unroll
  for (int i = 0; i < n; ++i)
    v[i] = p.signs ? x[i] * p.signs[i] : x[i];
  fwhtRegisters(v);
#pragma unroll
  for (int i = 0; i < n; ++i)
    x[i] = v[i] * p.scale;
}

/// n = 2^L · b with a stored b×b base (b ≤ 28; 12, 20, 28 in practice):
/// H = H_{2^L} ⊗ H_b with index i = i_pow2 · b + i_base. A CTA a row, in
/// shared memory: each thread applies the base to whole runs of b
/// consecutive elements in registers, then butterflies over the 2^L runs
/// (stride b), one barrier a stage. O(n·b + n log n).
constexpr int kMaxHadamardBase = 28;
__device__ void hadamardKroneckerRows(const HadamardArgs &p) {
  extern __shared__ __align__(16) float row[];
  const int b = p.b, runs = 1 << p.logN, n = runs * b;
  float *base = row + n;
  float *x = p.X + int64_t(blockIdx.x) * p.ld;
  for (int i = threadIdx.x; i < n; i += blockDim.x)
    row[i] = p.signs ? x[i] * p.signs[i] : x[i];
  for (int i = threadIdx.x; i < b * b; i += blockDim.x)
    base[i] = p.base[i];
  __syncthreads();

  for (int r = threadIdx.x; r < runs; r += blockDim.x) {
    float in[kMaxHadamardBase];
#pragma unroll
    for (int i = 0; i < kMaxHadamardBase; ++i)
      in[i] = i < b ? row[r * b + i] : 0.0f;
#pragma unroll
    for (int j = 0; j < kMaxHadamardBase; ++j) {
      if (j >= b)
        break;
      float sum = 0.0f;
#pragma unroll
      for (int i = 0; i < kMaxHadamardBase; ++i)
        if (i < b)
          sum = fmaf(in[i], base[i * b + j], sum);
      row[r * b + j] = sum;
    }
  }
  __syncthreads();

  for (int h = 1; h < runs; h *= 2) {
    for (int i = threadIdx.x; i < n / 2; i += blockDim.x) {
      int pair = i / b, column = i % b;
      int low = (pair / h) * 2 * h + pair % h;
      float a = row[low * b + column], c = row[(low + h) * b + column];
      row[low * b + column] = a + c;
      row[(low + h) * b + column] = a - c;
    }
    __syncthreads();
  }
  for (int i = threadIdx.x; i < n; i += blockDim.x)
    x[i] = row[i] * p.scale;
}

} // namespace qr::gpu
