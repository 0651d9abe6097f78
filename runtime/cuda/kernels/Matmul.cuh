//===- Matmul.cuh - tensor-core matmuls on packed weights ------*- CUDA -*-===//
//
// Two kernel families over the fragment-ordered blob of GpuWeights.h:
//
//  * streamMatmul: decode-sized M (≤ 64 rows a CTA). Each warp owns a
//    panel of 16 columns and a slice of K; A's slice is staged once per CTA
//    in shared memory, the codes are streamed with one or two 16-byte loads
//    a lane per 64 k and unpacked in registers straight into mma fragments.
//    K is split so that the grid holds enough loads in flight to stream the
//    weights at memory bandwidth; partial sums are added atomically.
//  * tiledMatmulS8: large M, integer activations. 128×128×64 CTA tiles,
//    A and the codes copied by cp.async into a 4-stage shared-memory ring,
//    A fragments by ldmatrix from an XOR-swizzled layout, mma.sync
//    m16n8k32 s8 with exact int32 sums per quantization group.
//
// The f16 kernels (mma.sync m16n8k16) read the int8-fragment layout too:
// the eight codes a lane holds for a k32 step are the B operands of two
// m16n8k16 mmas under a fixed permutation of k, and A is staged into
// shared memory under the same permutation.
//
//===----------------------------------------------------------------------===//

#include "KernelArgs.h"

#include <cuda_fp16.h>

#include <type_traits>

namespace qr::gpu {

//===----------------------------------------------------------------------===//
// PTX wrappers
//===----------------------------------------------------------------------===//

__device__ __forceinline__ void mmaF16(float (&d)[4], const uint32_t (&a)[4],
                                       uint32_t b0, uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0),
                 "r"(b1));
}

__device__ __forceinline__ void mmaS8(int32_t (&d)[4], const uint32_t (&a)[4],
                                      uint32_t b0, uint32_t b1) {
  asm volatile("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
               "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
               : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
               : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0),
                 "r"(b1));
}

/// Streamed once: read-only path, not kept in L1.
__device__ __forceinline__ uint4 loadStreaming(const uint8_t *p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

/// (a & b) | c in one instruction.
template <int Lut>
__device__ __forceinline__ uint32_t lop3(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t d;
  asm volatile("lop3.b32 %0, %1, %2, %3, %4;\n"
               : "=r"(d)
               : "r"(a), "r"(b), "r"(c), "n"(Lut));
  return d;
}
constexpr int kAndOr = (0xf0 & 0xcc) | 0xaa;

__device__ __forceinline__ uint32_t sharedAddress(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

/// 16 bytes global → shared, zero-filled when !inBounds.
__device__ __forceinline__ void copyAsync16(void *sharedDst, const void *src,
                                            bool inBounds) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(
                   sharedAddress(sharedDst)),
               "l"(src), "r"(inBounds ? 16 : 0));
}
__device__ __forceinline__ void copyAsyncCommit() {
  asm volatile("cp.async.commit_group;\n" ::);
}
template <int Pending> __device__ __forceinline__ void copyAsyncWait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
}

__device__ __forceinline__ void ldmatrixX4(uint32_t (&r)[4],
                                           const void *sharedRow) {
  asm volatile(
      "ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
      : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
      : "r"(sharedAddress(sharedRow)));
}

//===----------------------------------------------------------------------===//
// Unpacking codes into fragments
//===----------------------------------------------------------------------===//

/// Four int8 fragment words of the 4-bit word of one (k32 step, n8 tile):
/// codes − 8, the symmetric signed values.
__device__ __forceinline__ void unpackS8FromNibbles(uint32_t w, uint32_t &b0,
                                                    uint32_t &b1) {
  b0 = __vsub4(w & 0x0f0f0f0fu, 0x08080808u);
  b1 = __vsub4((w >> 4) & 0x0f0f0f0fu, 0x08080808u);
}

/// (u − z)·s as f16 pairs, exact subtraction then one rounding.
__device__ __forceinline__ uint32_t dequantF16(uint32_t biased, __half2 zero,
                                               __half2 scale) {
  __half2 h = *reinterpret_cast<__half2 *>(&biased);
  h = __hmul2(__hsub2(h, zero), scale);
  return *reinterpret_cast<uint32_t *>(&h);
}

/// The four f16 B registers (two mmas × b0,b1) of a lane for one k32 step
/// of one n8 tile: `lo`, `hi` hold its eight codes (4-bit: lo only).
template <int Bits>
__device__ __forceinline__ void unpackF16(uint32_t lo, uint32_t hi,
                                          __half2 zero, __half2 scale,
                                          uint32_t (&b)[4]) {
  if constexpr (Bits == 4) {
    // Nibble j pairs with nibble j+4: 0x6400 | u is the half 1024 + u.
    b[0] = dequantF16(lop3<kAndOr>(lo, 0x000f000fu, 0x64006400u), zero, scale);
    b[1] = dequantF16(lop3<kAndOr>(lo >> 8, 0x000f000fu, 0x64006400u), zero,
                      scale);
    b[2] = dequantF16(lop3<kAndOr>(lo >> 4, 0x000f000fu, 0x64006400u), zero,
                      scale);
    b[3] = dequantF16(lop3<kAndOr>(lo >> 12, 0x000f000fu, 0x64006400u), zero,
                      scale);
  } else {
    uint32_t x0 = lo ^ 0x80808080u, x1 = hi ^ 0x80808080u;
    b[0] = dequantF16(__byte_perm(x0, 0x64646464u, 0x4240), zero, scale);
    b[1] = dequantF16(__byte_perm(x0, 0x64646464u, 0x4341), zero, scale);
    b[2] = dequantF16(__byte_perm(x1, 0x64646464u, 0x4240), zero, scale);
    b[3] = dequantF16(__byte_perm(x1, 0x64646464u, 0x4341), zero, scale);
  }
}

//===----------------------------------------------------------------------===//
// Streaming kernel (decode-sized M)
//===----------------------------------------------------------------------===//

/// Stages rows [m0, m0 + rows) × k blocks [kb0, kb0 + blocks) of A into
/// shared memory: int8 as is; f32 converted to f16 with each run of four k
/// stored as (k0, k2, k1, k3), the order the f16 B fragments were unpacked
/// in.
template <bool IntActivations>
__device__ void stageActivations(const MatmulArgs &p, int m0, int rows,
                                 int64_t kb0, int blocks, void *shared) {
  const int64_t k0 = kb0 * kBlockK;
  const int width = blocks * kBlockK;
  for (int i = threadIdx.x; i < rows * width / 4; i += blockDim.x) {
    int row = i / (width / 4), k = (i % (width / 4)) * 4;
    int64_t gk = k0 + k;
    if constexpr (IntActivations) {
      const int8_t *a = static_cast<const int8_t *>(p.A) + (m0 + row) * p.lda;
      char4 v;
      v.x = gk + 0 < p.w.K ? a[gk + 0] : 0;
      v.y = gk + 1 < p.w.K ? a[gk + 1] : 0;
      v.z = gk + 2 < p.w.K ? a[gk + 2] : 0;
      v.w = gk + 3 < p.w.K ? a[gk + 3] : 0;
      reinterpret_cast<char4 *>(shared)[row * (width / 4) + k / 4] = v;
    } else {
      const float *a = static_cast<const float *>(p.A) + (m0 + row) * p.lda;
      float v[4];
#pragma unroll
      for (int j = 0; j < 4; ++j)
        v[j] = gk + j < p.w.K ? a[gk + j] : 0.0f;
      __half2 *dst = reinterpret_cast<__half2 *>(shared) +
                     (row * width + k) / 2;
      dst[0] = __floats2half2_rn(v[0], v[2]);
      dst[1] = __floats2half2_rn(v[1], v[3]);
    }
  }
}

/// One warp's A fragments for m16 tile `mt`, k32 step starting at column
/// `k` of the staged rows; rows at or past `rows` read as zeros.
template <bool IntActivations>
__device__ __forceinline__ void
loadStagedFragment(const void *shared, int width, int rows, int mt, int k,
                   int sub, uint32_t (&a)[4]) {
  const int lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
  const int r0 = mt * 16 + g, r1 = r0 + 8;
  if constexpr (IntActivations) {
    const uint32_t *s = static_cast<const uint32_t *>(shared);
    const int w = width / 4;
    a[0] = r0 < rows ? s[r0 * w + k / 4 + t] : 0;
    a[1] = r1 < rows ? s[r1 * w + k / 4 + t] : 0;
    a[2] = r0 < rows ? s[r0 * w + k / 4 + 4 + t] : 0;
    a[3] = r1 < rows ? s[r1 * w + k / 4 + 4 + t] : 0;
  } else {
    // Two f16 mmas a k32 step: `sub` 0 takes k [0,16), 1 takes [16,32).
    const uint2 *s = static_cast<const uint2 *>(shared);
    const int w = width / 4, at = (k + sub * 16) / 4 + t;
    uint2 lo = r0 < rows ? s[r0 * w + at] : make_uint2(0, 0);
    uint2 hi = r1 < rows ? s[r1 * w + at] : make_uint2(0, 0);
    a[0] = lo.x;
    a[2] = lo.y;
    a[1] = hi.x;
    a[3] = hi.y;
  }
}

/// Grid: (panels / kStreamWarps, splits, row chunks of MTiles·16).
template <bool IntActivations, int Bits, int MTiles>
__device__ void streamMatmul(const MatmulArgs &p) {
  extern __shared__ __align__(16) uint8_t staged[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;
  const int64_t panel = int64_t(blockIdx.x) * kStreamWarps + warp;
  const int64_t kb0 = int64_t(blockIdx.y) * p.blocksPerSplit;
  const int blocks =
      int(min(int64_t(p.blocksPerSplit), p.w.blocksK - kb0));
  const int m0 = blockIdx.z * MTiles * 16;
  const int rows = min(MTiles * 16, p.M - m0);
  const int width = blocks * int(kBlockK);

  stageActivations<IntActivations>(p, m0, rows, kb0, blocks, staged);
  __syncthreads();
  if (panel >= p.w.panels())
    return;

  using Acc = std::conditional_t<IntActivations, int32_t, float>;
  Acc acc[MTiles][2][4] = {};
  float total[MTiles][2][4] = {}; // integer path: scaled group sums

  const uint8_t *codes =
      p.packed + (panel * p.w.blocksK + kb0) * p.w.panelBytes();
  const __half *scalesF16 =
      reinterpret_cast<const __half *>(p.packed + p.w.scalesF16);
  const __half *zeroBias =
      reinterpret_cast<const __half *>(p.packed + p.w.zeroBiasF16);
  const float *scalesF32 =
      reinterpret_cast<const float *>(p.packed + p.w.scalesF32);
  const int32_t *columnSums =
      reinterpret_cast<const int32_t *>(p.packed + p.w.columnSums);
  // Dequantization operands of this lane's B columns (f16 path), reloaded
  // when the group changes.
  __half2 zero[2], scale[2];
  int64_t group = -1;

  // Folds the integer sums of `group` into `total` (integer path). The
  // activation zero point's correction −a_zp·Σ(u − z) is linear, so the
  // split holding the group's first block applies it for the whole group.
  auto flushGroup = [&](int64_t finished) {
    if constexpr (IntActivations) {
      const bool correct = finished * p.w.groupSize >= kb0 * kBlockK;
#pragma unroll
      for (int nt = 0; nt < 2; ++nt)
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          int64_t n = panel * kPanelCols + nt * 8 + 2 * t + c;
          int64_t at = finished * p.w.paddedN + n;
          float s = scalesF32[at];
          int32_t correction = correct ? p.aZeroPoint * columnSums[at] : 0;
#pragma unroll
          for (int mt = 0; mt < MTiles; ++mt)
#pragma unroll
            for (int h = 0; h < 2; ++h) {
              total[mt][nt][2 * h + c] +=
                  float(acc[mt][nt][2 * h + c] - correction) * s;
              acc[mt][nt][2 * h + c] = 0;
            }
        }
    }
  };

  for (int b0 = 0; b0 < blocks; b0 += kStreamUnroll) {
    uint4 raw[kStreamUnroll][Bits / 4];
#pragma unroll
    for (int u = 0; u < kStreamUnroll; ++u)
      if (b0 + u < blocks)
#pragma unroll
        for (int c = 0; c < Bits / 4; ++c)
          raw[u][c] = loadStreaming(codes + (b0 + u) * p.w.panelBytes() +
                                    c * 512 + lane * 16);
#pragma unroll
    for (int u = 0; u < kStreamUnroll; ++u) {
      if (b0 + u >= blocks)
        break;
      int64_t blockGroup = p.w.groupOfBlock(kb0 + b0 + u);
      if (blockGroup != group) {
        if (group >= 0)
          flushGroup(group);
        group = blockGroup;
        if constexpr (!IntActivations) {
#pragma unroll
          for (int nt = 0; nt < 2; ++nt) {
            int64_t at = group * p.w.paddedN + panel * kPanelCols + nt * 8 + g;
            zero[nt] = __half2half2(zeroBias[at]);
            scale[nt] = __half2half2(scalesF16[at]);
          }
        }
      }
#pragma unroll
      for (int step = 0; step < 2; ++step) {
        const int k = (b0 + u) * int(kBlockK) + step * 32;
#pragma unroll
        for (int nt = 0; nt < 2; ++nt) {
          // This (step, tile)'s codes: 4-bit one word, 8-bit two.
          const uint32_t *words =
              reinterpret_cast<const uint32_t *>(&raw[u][Bits == 8 ? step : 0]);
          uint32_t lo = Bits == 4 ? words[step * 2 + nt] : words[nt * 2];
          uint32_t hi = Bits == 4 ? 0 : words[nt * 2 + 1];
          if constexpr (IntActivations) {
            uint32_t b0r = lo, b1r = hi;
            if constexpr (Bits == 4)
              unpackS8FromNibbles(lo, b0r, b1r);
#pragma unroll
            for (int mt = 0; mt < MTiles; ++mt) {
              uint32_t a[4];
              loadStagedFragment<true>(staged, width, rows, mt, k, 0, a);
              mmaS8(acc[mt][nt], a, b0r, b1r);
            }
          } else {
            uint32_t b[4];
            unpackF16<Bits>(lo, hi, zero[nt], scale[nt], b);
#pragma unroll
            for (int mt = 0; mt < MTiles; ++mt)
#pragma unroll
              for (int sub = 0; sub < 2; ++sub) {
                uint32_t a[4];
                loadStagedFragment<false>(staged, width, rows, mt, k, sub, a);
                mmaF16(acc[mt][nt], a, b[2 * sub], b[2 * sub + 1]);
              }
          }
        }
      }
    }
  }
  if (group >= 0)
    flushGroup(group);

#pragma unroll
  for (int mt = 0; mt < MTiles; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      int m = m0 + mt * 16 + g + 8 * h;
      if (m >= p.M)
        continue;
      float rowScale = p.aScales ? p.aScales[m] : p.aScale;
#pragma unroll
      for (int nt = 0; nt < 2; ++nt)
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          int64_t n = panel * kPanelCols + nt * 8 + 2 * t + c;
          if (n >= p.w.N)
            continue;
          float v = IntActivations ? total[mt][nt][2 * h + c] * rowScale
                                   : float(acc[mt][nt][2 * h + c]);
          float *out = p.C + m * p.ldc + n;
          if (p.splits > 1)
            atomicAdd(out, v);
          else
            *out = v;
        }
    }
}

//===----------------------------------------------------------------------===//
// Tiled int8 kernel (large M)
//===----------------------------------------------------------------------===//

/// Grid: (ceil(paddedN / 128), ceil(M / 128)); requires lda and K
/// multiples of 16 (16-byte cp.async of A rows).
template <int Bits, bool Grouped> __device__ void tiledMatmulS8(const MatmulArgs &p) {
  extern __shared__ __align__(128) uint8_t ring[];
  constexpr int stageBytes = tileStageBytes(Bits);
  constexpr int aBytes = kTileM * int(kBlockK);
  const int panelBytes = Bits * 128;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;
  const int wm = warp / 4, wn = warp % 4; // 2 × 4 warps of 64 × 32
  const int64_t m0 = int64_t(blockIdx.y) * kTileM;
  const int64_t panel0 = int64_t(blockIdx.x) * (kTileN / 16);
  const int8_t *A = static_cast<const int8_t *>(p.A);

  auto loadStage = [&](int stage, int64_t kb) {
    uint8_t *sa = ring + stage * stageBytes, *sb = sa + aBytes;
    // A: 128 rows × 4 chunks of 16 bytes, chunk XOR-swizzled by row so
    // that ldmatrix's eight rows hit eight distinct bank groups.
#pragma unroll
    for (int i = 0; i < kTileM * 4 / kTileThreads; ++i) {
      int c = threadIdx.x + i * kTileThreads, row = c / 4, chunk = c % 4;
      int64_t k = kb * kBlockK + chunk * 16;
      bool in = m0 + row < p.M && k < p.w.K;
      const int8_t *src = in ? A + (m0 + row) * p.lda + k : A;
      copyAsync16(sa + row * 64 + ((chunk ^ ((row >> 1) & 3)) * 16), src, in);
    }
    // Codes: eight panels, each panelBytes contiguous.
#pragma unroll
    for (int i = 0; i < (kTileN / 16) * Bits * 8 / kTileThreads; ++i) {
      int c = threadIdx.x + i * kTileThreads;
      int j = c / (panelBytes / 16), offset = (c % (panelBytes / 16)) * 16;
      bool in = panel0 + j < p.w.panels();
      const uint8_t *src =
          in ? p.packed + ((panel0 + j) * p.w.blocksK + kb) * panelBytes +
                   offset
             : p.packed;
      copyAsync16(sb + j * panelBytes + offset, src, in);
    }
  };

  int32_t acc[4][4][4] = {};
  float total[Grouped ? 4 : 1][4][4] = {};
  const float *scalesF32 =
      reinterpret_cast<const float *>(p.packed + p.w.scalesF32);
  const int32_t *columnSums =
      reinterpret_cast<const int32_t *>(p.packed + p.w.columnSums);
  auto column = [&](int nt, int c) {
    return (panel0 + wn * 2) * kPanelCols + nt * 8 + 2 * t + c;
  };
  // Integer sums of one group → scaled floats (per column scale and the
  // activation zero point's correction).
  auto scaleGroup = [&](int64_t group, int mt, int nt, int r) {
    int64_t at = group * p.w.paddedN + column(nt, r % 2);
    return float(acc[mt][nt][r] - p.aZeroPoint * columnSums[at]) *
           scalesF32[at];
  };

  const int64_t blocks = p.w.blocksK;
#pragma unroll
  for (int s = 0; s < kTileStages - 1; ++s) {
    if (s < blocks)
      loadStage(s, s);
    copyAsyncCommit();
  }
  for (int64_t kb = 0; kb < blocks; ++kb) {
    copyAsyncWait<kTileStages - 2>();
    __syncthreads();
    if (kb + kTileStages - 1 < blocks)
      loadStage((kb + kTileStages - 1) % kTileStages, kb + kTileStages - 1);
    copyAsyncCommit();

    const uint8_t *sa = ring + (kb % kTileStages) * stageBytes;
    const uint8_t *sb = sa + aBytes;
    uint4 codes4[2];
    if constexpr (Bits == 4)
#pragma unroll
      for (int pj = 0; pj < 2; ++pj)
        codes4[pj] = *reinterpret_cast<const uint4 *>(
            sb + (wn * 2 + pj) * panelBytes + lane * 16);
#pragma unroll
    for (int step = 0; step < 2; ++step) {
      uint32_t b[4][2];
#pragma unroll
      for (int pj = 0; pj < 2; ++pj) {
        if constexpr (Bits == 4) {
          const uint32_t *w = reinterpret_cast<const uint32_t *>(&codes4[pj]);
          unpackS8FromNibbles(w[step * 2 + 0], b[pj * 2][0], b[pj * 2][1]);
          unpackS8FromNibbles(w[step * 2 + 1], b[pj * 2 + 1][0],
                              b[pj * 2 + 1][1]);
        } else {
          uint4 w = *reinterpret_cast<const uint4 *>(
              sb + (wn * 2 + pj) * panelBytes + step * 512 + lane * 16);
          b[pj * 2][0] = w.x;
          b[pj * 2][1] = w.y;
          b[pj * 2 + 1][0] = w.z;
          b[pj * 2 + 1][1] = w.w;
        }
      }
#pragma unroll
      for (int mt = 0; mt < 4; ++mt) {
        int row = wm * 64 + mt * 16 + (lane & 15);
        int chunk = step * 2 + (lane >> 4);
        uint32_t a[4];
        ldmatrixX4(a, sa + row * 64 + ((chunk ^ ((row >> 1) & 3)) * 16));
#pragma unroll
        for (int nt = 0; nt < 4; ++nt)
          mmaS8(acc[mt][nt], a, b[nt][0], b[nt][1]);
      }
    }

    if constexpr (Grouped) {
      int64_t group = p.w.groupOfBlock(kb);
      if (kb + 1 == blocks || p.w.groupOfBlock(kb + 1) != group)
#pragma unroll
        for (int mt = 0; mt < 4; ++mt)
#pragma unroll
          for (int nt = 0; nt < 4; ++nt)
#pragma unroll
            for (int r = 0; r < 4; ++r) {
              total[mt][nt][r] += scaleGroup(group, mt, nt, r);
              acc[mt][nt][r] = 0;
            }
    }
  }

#pragma unroll
  for (int mt = 0; mt < 4; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      int64_t m = m0 + wm * 64 + mt * 16 + g + 8 * h;
      if (m >= p.M)
        continue;
      float rowScale = p.aScales ? p.aScales[m] : p.aScale;
#pragma unroll
      for (int nt = 0; nt < 4; ++nt)
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          int64_t n = column(nt, c);
          if (n >= p.w.N)
            continue;
          int r = 2 * h + c;
          float v = Grouped ? total[mt][nt][r] : scaleGroup(0, mt, nt, r);
          p.C[m * p.ldc + n] = v * rowScale;
        }
    }
}

} // namespace qr::gpu
