//===- Matmul.cuh - tensor-core matmuls on packed weights ------*- CUDA -*-===//
//
// Two kernel families over the fragment-ordered blob of GpuWeights.h:
//
//  * streamMatmul: decode-sized M (≤ 64 rows a CTA). Each warp owns one or
//    two panels of 16 columns and a slice of K; A's slice and the slice's
//    per-group scales and zero points are staged once per CTA in shared
//    memory, the codes are streamed with one or two 16-byte loads a lane
//    per panel and 64 k, double-buffered in registers, and unpacked
//    straight into mma fragments. K is split so that the grid is one wave
//    of CTAs; the last CTA of a column tile to finish adds the splits'
//    partial sums.
//  * tiledMatmul: large M. 128×128×64 CTA tiles (64×64 for pillar
//    convolutions, whose A rows it gathers), A and the codes copied by
//    cp.async into a shared-memory ring; int8 A fragments by one 16-byte
//    shared load a row and block for mma.sync m16n8k32 s8 with exact int32
//    sums per quantization group, f32 A converted to f16 pairs at the
//    fragment load for mma.sync m16n8k16.
//
// A lane's codes of a 64-k block are 16 consecutive k (GpuPack.cpp's
// fragmentK): mma.sync pairs A and B by position in the fragment, so A's
// fragments are taken from the same k, which are 16-byte runs of A's rows.
// The f16 kernels (mma.sync m16n8k16) read the int8-fragment layout too:
// the eight codes a lane holds for a k32 step are the B operands of two
// m16n8k16 mmas, and A is staged into shared memory in the same order.
//
//===----------------------------------------------------------------------===//

#include "GridDependency.cuh"
#include "KernelArgs.h"

#include <cuda_fp16.h>

#include <type_traits>

namespace qr::gpu {

//===----------------------------------------------------------------------===//
// PTX wrappers
//===----------------------------------------------------------------------===//

__device__ __forceinline__ void mmaF16(float (&d)[4], const uint32_t (&a)[4],
                                       uint32_t b0, uint32_t b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ void mmaS8(int32_t (&d)[4], const uint32_t (&a)[4],
                                      uint32_t b0, uint32_t b1) {
  asm("mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 "
      "{%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
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

//===----------------------------------------------------------------------===//
// Unpacking codes into fragments
//===----------------------------------------------------------------------===//

/// The code words of k32 step `step` and n8 tile `tile` of a panel, from
/// this lane's 16-byte runs of the panel's block (one run for 4-bit, one a
/// tile for 8-bit, GpuWeights.h): `lo` (4-bit: both fragment words as
/// nibbles) and, 8-bit, `hi`.
template <int Bits>
__device__ __forceinline__ void stepCodeWords(const uint4 *panelRuns, int tile,
                                              int step, uint32_t &lo,
                                              uint32_t &hi) {
  const uint32_t *w =
      reinterpret_cast<const uint32_t *>(&panelRuns[Bits == 8 ? tile : 0]);
  lo = Bits == 4 ? w[step * 2 + tile] : w[step * 2];
  hi = Bits == 4 ? 0 : w[step * 2 + 1];
}

/// Four int8 fragment words of the 4-bit word of one (k32 step, n8 tile):
/// codes − 8, the symmetric signed values. Per byte, u + 120 stays below
/// 256 (no carry into the next byte) and ^0x80 turns it into u − 8 as int8:
/// two instructions a word where __vsub4 is emulated.
__device__ __forceinline__ void unpackS8FromNibbles(uint32_t w, uint32_t &b0,
                                                    uint32_t &b1) {
  b0 = ((w & 0x0f0f0f0fu) + 0x78787878u) ^ 0x80808080u;
  b1 = (((w >> 4) & 0x0f0f0f0fu) + 0x78787878u) ^ 0x80808080u;
}

/// Zero-point operands of the f16 unpacking for one column: 1024 + z for
/// codes read as 1024 + u, and −(64 + z) for codes read as 1024 + 16u.
struct HalfZero {
  __half2 low, high;
};
__device__ __forceinline__ HalfZero halfZero(__half zeroBias) {
  __half2 bias = __half2half2(zeroBias);
  return {bias, __hsub2(__float2half2_rn(960.0f), bias)};
}

__device__ __forceinline__ uint32_t asBits(__half2 h) {
  return *reinterpret_cast<uint32_t *>(&h);
}
__device__ __forceinline__ __half2 asHalf2(uint32_t bits) {
  return *reinterpret_cast<__half2 *>(&bits);
}

/// The four f16 B registers (two mmas × b0,b1) of a lane for one k32 step
/// of one n8 tile: u − z exactly (small integers), the scale being applied
/// to the f32 sums of each group instead. `lo`, `hi` hold the eight codes
/// (4-bit: lo only). 4-bit follows Marlin: one lop3 yields two halves
/// 1024 + u (low nibbles) or 1024 + 16u (high nibbles, rescaled by an
/// exact hfma2).
template <int Bits>
__device__ __forceinline__ void unpackF16(uint32_t lo, uint32_t hi,
                                          HalfZero zero, uint32_t (&b)[4]) {
  if constexpr (Bits == 4) {
    const __half2 sixteenth = __float2half2_rn(1.0f / 16.0f);
    uint32_t shifted = lo >> 8;
    b[0] = asBits(
        __hsub2(asHalf2(lop3<kAndOr>(lo, 0x000f000fu, 0x64006400u)), zero.low));
    b[2] = asBits(__hfma2(asHalf2(lop3<kAndOr>(lo, 0x00f000f0u, 0x64006400u)),
                          sixteenth, zero.high));
    b[1] = asBits(__hsub2(
        asHalf2(lop3<kAndOr>(shifted, 0x000f000fu, 0x64006400u)), zero.low));
    b[3] =
        asBits(__hfma2(asHalf2(lop3<kAndOr>(shifted, 0x00f000f0u, 0x64006400u)),
                       sixteenth, zero.high));
  } else {
    uint32_t x0 = lo ^ 0x80808080u, x1 = hi ^ 0x80808080u;
    b[0] = asBits(
        __hsub2(asHalf2(__byte_perm(x0, 0x64646464u, 0x4240)), zero.low));
    b[1] = asBits(
        __hsub2(asHalf2(__byte_perm(x0, 0x64646464u, 0x4341)), zero.low));
    b[2] = asBits(
        __hsub2(asHalf2(__byte_perm(x1, 0x64646464u, 0x4240)), zero.low));
    b[3] = asBits(
        __hsub2(asHalf2(__byte_perm(x1, 0x64646464u, 0x4341)), zero.low));
  }
}

/// The per-group, per-column regions of the blob (GpuWeights.h).
struct GroupColumnRegions {
  const __half *zeroBias;
  const float *scales;
  const int32_t *columnSums;
};
__device__ __forceinline__ GroupColumnRegions
groupColumnRegions(const MatmulArgs &p) {
  return {reinterpret_cast<const __half *>(p.packed + p.w.zeroBiasF16),
          reinterpret_cast<const float *>(p.packed + p.w.scalesF32),
          reinterpret_cast<const int32_t *>(p.packed + p.w.columnSums)};
}

//===----------------------------------------------------------------------===//
// Streaming kernel (decode-sized M)
//===----------------------------------------------------------------------===//

/// The staged A tile of the streaming kernel. Rows are kept in pairs
/// (mt·16 + g, mt·16 + g + 8), the two rows of an m16 tile one lane's
/// fragment covers, interleaved so that one 16-byte shared load is exactly
/// a lane's four A registers (a0..a3) for one mma. Lane quad t's codes in
/// k32 step s of a block are k 16t + 8s + [0, 8) (GpuPack.cpp), so per
/// block of 64 k:
///   s8:  for each (t, s), (lo: k 0..3)(hi: k 0..3)(lo: k 4..7)(hi: 4..7)
///        of those eight k, at 32t + 16s;
///   f16: for each (t, s) and half step h (k 16t + 8s + 4h + [0, 4)),
///        (lo: k0 k2)(hi: k0 k2)(lo: k1 k3)(hi: k1 k3), the order the f16
///        B fragments are unpacked in, at 16·(8s + 2t + h).
/// Both put the 16-byte loads of a lane quarter (row pairs g, g + 1, quads
/// 0..3) in distinct banks, with pairs 16 bytes longer than their data
/// (streamStagedPairBytes). Rows past M are not staged: through the mma
/// they reach only output rows past M, which are never written.

/// A run of four k `run` of a staged row lies at the sum of its row's
/// offset and its own.
__device__ __forceinline__ int stagedRowOffset(int pairBytes, int row) {
  return ((row / 16) * 8 + row % 8) * pairBytes + (row % 16) / 8 * 4;
}
template <bool IntActivations>
__device__ __forceinline__ int stagedRunOffset(int run) {
  const int block = run / 16, t = run % 16 / 4, c = run % 4;
  if constexpr (IntActivations)
    return block * 128 + 32 * t + 8 * c;
  else
    return block * 256 + 16 * (8 * (c / 2) + 2 * t + c % 2);
}

/// One run of A's four k from `src` (the run starting at k): one load
/// where the caller found it `whole` (below K, and A's rows allow 4-element
/// loads), element by element with zeros past K otherwise.
template <bool IntActivations>
__device__ __forceinline__ std::conditional_t<IntActivations, char4, float4>
loadActivationRun(const MatmulArgs &p,
                  const std::conditional_t<IntActivations, int8_t, float> *src,
                  int64_t k, bool whole) {
  using Run = std::conditional_t<IntActivations, char4, float4>;
  using Element = std::conditional_t<IntActivations, int8_t, float>;
  if (whole)
    return *reinterpret_cast<const Run *>(src);
  Element e[4];
#pragma unroll
  for (int j = 0; j < 4; ++j)
    e[j] = k + j < p.w.K ? src[j] : Element(0);
  return Run{e[0], e[1], e[2], e[3]};
}

/// Stores a run at its staged place `at`: int8 as it is, f32 as the f16
/// pairs (k0, k2) and (k1, k3) (stagedRunOffset's order).
template <bool IntActivations>
__device__ __forceinline__ void
storeActivationRun(uint8_t *at,
                   std::conditional_t<IntActivations, char4, float4> run) {
  if constexpr (IntActivations) {
    *reinterpret_cast<char4 *>(at) = run;
  } else {
    *reinterpret_cast<__half2 *>(at) = __floats2half2_rn(run.x, run.z);
    *reinterpret_cast<__half2 *>(at + 8) = __floats2half2_rn(run.y, run.w);
  }
}

/// Stages rows [m0, min(M, m0 + MTiles·16)) × k blocks [kb0, kb0 + blocks)
/// of A (zeros past K). A thread takes one run of four k of Batch
/// consecutive rows at a time, all of their loads in flight before they
/// are converted and stored. Rows past M are skipped: at M = 1 a CTA
/// stages one row instead of sixteen, and its warps request their codes
/// that much sooner (measured on an H100, W4A16 at M = 1, 4096²: 0.0086 →
/// 0.0078 ms in a CUDA graph; W8A8 0.0106 → 0.0100; M = 16 unchanged).
template <bool IntActivations, int MTiles, int Batch>
__device__ void stageActivationRuns(const MatmulArgs &p, int m0, int64_t kb0,
                                    int blocks, uint8_t *shared) {
  using Run = std::conditional_t<IntActivations, char4, float4>;
  using Element = std::conditional_t<IntActivations, int8_t, float>;
  constexpr int RowGroups = MTiles * 16 / Batch;
  const int pairBytes = streamStagedPairBytes(IntActivations, blocks);
  const int rows = p.M - m0;
  // 4-element loads need 4-aligned rows; otherwise element by element.
  const bool vector =
      p.lda % 4 == 0 && reinterpret_cast<uintptr_t>(p.A) % sizeof(Run) == 0;
  // Runs fastest: a warp's stores fall in distinct banks (a row group's
  // pairs are a multiple of 128 bytes apart).
  const int runs = blocks * 16;
  const int rowGroups = min(RowGroups, (rows + Batch - 1) / Batch);
  for (int item = threadIdx.x; item < runs * rowGroups; item += blockDim.x) {
    const int group = RowGroups == 1 ? 0 : item / runs,
              run = item - group * runs,
              row0 = group * Batch;
    const int64_t k = kb0 * kBlockK + run * 4;
    const Element *a =
        static_cast<const Element *>(p.A) + (m0 + row0) * p.lda + k;
    const bool whole = vector && k + 4 <= p.w.K;
    Run batch[Batch];
#pragma unroll
    for (int b = 0; b < Batch; ++b) {
      batch[b] = Run{};
      if (row0 + b < rows)
        batch[b] =
            loadActivationRun<IntActivations>(p, a + b * p.lda, k, whole);
    }
    uint8_t *dst = shared + stagedRunOffset<IntActivations>(run);
#pragma unroll
    for (int b = 0; b < Batch; ++b) {
      if (row0 + b >= rows)
        break;
      storeActivationRun<IntActivations>(
          dst + stagedRowOffset(pairBytes, row0 + b), batch[b]);
    }
  }
}
/// An m16 tile's rows a run (eight for two or four m16 tiles, which would
/// spill) where the runs alone keep every thread busy; four where they do
/// not (measured, W4A8 at M = 16 and 4096², 4 blocks a split: 0.0180 →
/// 0.0155 ms; W4A16 at M = 1 and 11008², 29 blocks: 0.0329 against 0.0350
/// ms with four rows a run).
template <bool IntActivations, int MTiles>
__device__ void stageActivations(const MatmulArgs &p, int m0, int64_t kb0,
                                 int blocks, uint8_t *shared) {
  if (blocks * 16 * MTiles >= int(blockDim.x))
    stageActivationRuns<IntActivations, MTiles, MTiles == 1 ? 16 : 8>(
        p, m0, kb0, blocks, shared);
  else
    stageActivationRuns<IntActivations, MTiles, 4>(p, m0, kb0, blocks,
                                                   shared);
}

/// Stages rows [m0, M) (at most kStreamKWarpsMaxRows) × k blocks [kb0,
/// kb0 + blocks) of A for the k-warps kernels, whose CTAs stage all of K:
/// Batch runs of four k a thread at a time, all of their loads in flight
/// before they are converted and stored, where stageActivationRuns takes
/// one run of consecutive rows (one load for a row or two).
template <bool IntActivations>
__device__ void stageFewRows(const MatmulArgs &p, int m0, int64_t kb0,
                             int blocks, uint8_t *shared) {
  using Run = std::conditional_t<IntActivations, char4, float4>;
  using Element = std::conditional_t<IntActivations, int8_t, float>;
  constexpr int Batch = 8;
  const int pairBytes = streamStagedPairBytes(IntActivations, blocks);
  const int runs = blocks * 16, items = (p.M - m0) * runs;
  const bool vector =
      p.lda % 4 == 0 && reinterpret_cast<uintptr_t>(p.A) % sizeof(Run) == 0;
  for (int first = threadIdx.x; first < items; first += Batch * blockDim.x) {
    Run batch[Batch];
#pragma unroll
    for (int b = 0; b < Batch; ++b) {
      const int item = first + b * blockDim.x, row = item / runs;
      const int64_t k = kb0 * kBlockK + (item - row * runs) * 4;
      const Element *a =
          static_cast<const Element *>(p.A) + (m0 + row) * p.lda + k;
      if (item < items)
        batch[b] = loadActivationRun<IntActivations>(p, a, k,
                                                     vector && k + 4 <= p.w.K);
    }
#pragma unroll
    for (int b = 0; b < Batch; ++b) {
      const int item = first + b * blockDim.x, row = item / runs;
      if (item >= items)
        break;
      storeActivationRun<IntActivations>(
          shared + stagedRowOffset(pairBytes, row) +
              stagedRunOffset<IntActivations>(item - row * runs),
          batch[b]);
    }
  }
}

/// Copies (cp.async, left in flight) the per-column operands of groups
/// [first, first + span) for the CTA's columns from column n0 on into
/// `shared`, one streamGroupBytes each: the f32 scales, then the f16 zero
/// biases or the i32 column sums. Zeros past paddedN.
template <bool IntActivations, int MTiles, int KWarps>
__device__ void stageGroupOperands(const MatmulArgs &p, int64_t first,
                                   int span, int64_t n0, uint8_t *shared) {
  constexpr int Columns = streamColumns(MTiles, KWarps);
  constexpr int SecondBytes = streamSecondOperandBytes(IntActivations);
  constexpr int ScaleChunks = Columns * 4 / 16;
  constexpr int Chunks = ScaleChunks + Columns * SecondBytes / 16;
  const uint8_t *second =
      p.packed + (IntActivations ? p.w.columnSums : p.w.zeroBiasF16);
  const uint8_t *scales = p.packed + p.w.scalesF32;
  for (int i = threadIdx.x; i < span * Chunks; i += blockDim.x) {
    const int group = i / Chunks, chunk = i % Chunks;
    const bool isScale = chunk < ScaleChunks;
    const int bytes = isScale ? 4 : SecondBytes;
    const int64_t column =
        n0 + (isScale ? chunk : chunk - ScaleChunks) * 16 / bytes;
    const int64_t at = ((first + group) * p.w.paddedN + column) * bytes;
    copyAsync16(shared +
                    group * streamGroupBytes(IntActivations, MTiles, KWarps) +
                    chunk * 16,
                (isScale ? scales : second) + at, column < p.w.paddedN);
  }
  copyAsyncCommit();
}

/// 16 bytes of shared memory at a 32-bit shared address.
__device__ __forceinline__ void loadShared16(uint32_t (&a)[4],
                                             uint32_t address) {
  asm volatile("ld.shared.v4.u32 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(a[0]), "=r"(a[1]), "=r"(a[2]), "=r"(a[3])
               : "r"(address));
}

/// Adds one to *counter, a release of this thread's (and, after a CTA
/// barrier, its CTA's) writes and an acquire of those released before it.
__device__ __forceinline__ uint32_t arriveAcquireRelease(uint32_t *counter) {
  uint32_t old;
  asm volatile("atom.add.acq_rel.gpu.u32 %0, [%1], 1;\n"
               : "=r"(old)
               : "l"(counter)
               : "memory");
  return old;
}

/// Grid: (column tiles of streamColumns(MTiles, KWarps), splits, row
/// chunks of MTiles·16). StagedCodes: the codes past a warp's two register
/// sets are staged in shared memory (the launcher checked that they fit).
/// KWarps > 1: the k-warps variant (kStreamKWarps, one m16 tile).
template <bool IntActivations, int Bits, int MTiles, bool StagedCodes,
          int KWarps>
__device__ void streamMatmul(const MatmulArgs &p) {
  static_assert(KWarps == 1 || MTiles == 1, "k warps take one m16 tile");
  // Panels (16 columns each) a warp covers: more amortize the A fragment
  // loads and the group bookkeeping over more codes.
  constexpr int Panels = streamPanels(MTiles);
  constexpr int Tiles = 2 * Panels; // n8 tiles
  constexpr int Unroll = streamUnroll(Bits, MTiles);
  constexpr int Columns = streamColumns(MTiles, KWarps);
  constexpr int ColumnWarps = kStreamWarps / KWarps;
  extern __shared__ __align__(16) uint8_t staged[];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;
  // (KWarps = 1 spelled out: the other kernels' code stays as it was.)
  const int columnWarp = KWarps == 1 ? warp : warp % ColumnWarps;
  const int kWarp = KWarps == 1 ? 0 : warp / ColumnWarps;
  const int64_t panel0 =
      (int64_t(blockIdx.x) * ColumnWarps + columnWarp) * Panels;
  // The CTA's split of K, and the warp's share of it.
  const int64_t splitKb0 = int64_t(blockIdx.y) * p.blocksPerSplit;
  const int splitBlocks =
      int(min(int64_t(p.blocksPerSplit), p.w.blocksK - splitKb0));
  const int warpBlocks = KWarps == 1
                             ? p.blocksPerSplit
                             : streamWarpBlocks(p.blocksPerSplit, KWarps);
  const int warpBlock0 = kWarp * warpBlocks; // within the split
  const int64_t kb0 = splitKb0 + warpBlock0;
  const int blocks = KWarps == 1
                         ? splitBlocks
                         : max(0, min(warpBlocks, splitBlocks - warpBlock0));
  const int m0 = blockIdx.z * MTiles * 16;
  // This lane's row pair of each m16 tile, as a shared address.
  const int pairBytes = streamStagedPairBytes(IntActivations, splitBlocks);
  const int stagedPairs = streamStagedPairs(MTiles, KWarps, p.M);
  uint32_t pairAddress[MTiles];
#pragma unroll
  for (int mt = 0; mt < MTiles; ++mt)
    pairAddress[mt] =
        sharedAddress(staged) +
        (KWarps == 1 ? mt * 8 + g : min(mt * 8 + g, stagedPairs - 1)) *
            pairBytes;

  const bool active = panel0 < p.w.panels();
  bool panelValid[Panels];
  const uint8_t *panelCodes[Panels];
#pragma unroll
  for (int pj = 0; pj < Panels; ++pj) {
    panelValid[pj] = panel0 + pj < p.w.panels();
    panelCodes[pj] = p.packed + p.w.panelCodeOffset(panel0 + pj);
  }
  const int64_t firstGroup = splitKb0 / p.w.blocksPerGroup;
  const int span = int((splitKb0 + splitBlocks - 1) / p.w.blocksPerGroup -
                       firstGroup + 1);
  uint8_t *operands = staged + stagedPairs * pairBytes;
  // The blocks past the first two register sets, when the launcher found
  // room to stage them (StagedCodes): each warp copies its own panels,
  // from the first stored block on (8-bit codes are stored by block pairs).
  constexpr int RegisterBlocks = streamRegisterBlocks(Bits, MTiles);
  uint8_t *stagedCodes =
      operands + streamGroupSpan(p.blocksPerSplit, p.w.blocksPerGroup,
                                 p.w.groups) *
                     streamGroupBytes(IntActivations, MTiles, KWarps);
  const int64_t firstStaged = kb0 + RegisterBlocks;
  const int64_t firstStored = Bits == 8 ? firstStaged & ~int64_t(1)
                                        : firstStaged;
  const int64_t endStored =
      Bits == 8 ? (kb0 + blocks + 1) & ~int64_t(1) : kb0 + blocks;
  const int stagedPanelBytes =
      int(streamStagedPanelBytes(Bits, warpBlocks - RegisterBlocks));
  auto stagedRun = [&](int pj, int64_t run) {
    return stagedCodes + (warp * Panels + pj) * stagedPanelBytes + run -
           firstStored * Bits * 128;
  };

  // Codes of Unroll blocks; two sets, so that one is in flight while the
  // other is unpacked.
  using Codes = uint4[Unroll][Panels][Bits / 4];
  auto loadCodes = [&](int b0, Codes &raw) {
    const bool fromShared = StagedCodes && b0 >= RegisterBlocks;
#pragma unroll
    for (int u = 0; u < Unroll; ++u)
#pragma unroll
      for (int pj = 0; pj < Panels; ++pj)
        if (b0 + u < blocks && panelValid[pj])
#pragma unroll
          for (int c = 0; c < Bits / 4; ++c) {
            const int64_t run = WeightGeometry::blockRunOffset(
                Bits, kb0 + b0 + u, c, lane);
            if (fromShared)
              loadShared16(reinterpret_cast<uint32_t(&)[4]>(raw[u][pj][c]),
                           sharedAddress(stagedRun(pj, run)));
            else
              raw[u][pj][c] = loadStreaming(panelCodes[pj] + run);
          }
  };
  Codes rawA = {}, rawB = {};
  // What no kernel writes, the weights' group operands and codes, is
  // requested before the previous kernel has finished, when launched to
  // overlap it; A, its output, after. The first two code sets go to
  // registers, the rest of the split, if staged, to shared memory: all of
  // the split's codes are in flight at once. (Requested after the wait,
  // codes ahead of A delayed its staging, b86ad98; before it, they overlap
  // the previous kernel's tail instead: bench/RESULTS.md.)
  stageGroupOperands<IntActivations, MTiles, KWarps>(
      p, firstGroup, span, int64_t(blockIdx.x) * Columns, operands);
  if (active) {
    loadCodes(0, rawA);
    if (Unroll < blocks)
      loadCodes(Unroll, rawB);
  }
  if constexpr (StagedCodes) {
#pragma unroll
    for (int pj = 0; pj < Panels; ++pj)
      for (int64_t run = firstStored * Bits * 128 + lane * 16;
           run < endStored * Bits * 128; run += 32 * 16)
        copyAsync16(stagedRun(pj, run), panelCodes[pj] + run,
                    panelValid[pj]);
    // Their own group, so that the operands can be waited for alone.
    copyAsyncCommit();
  }
  waitForPredecessor();
  allowSuccessorStart();
  if constexpr (KWarps > 1)
    stageFewRows<IntActivations>(p, m0, splitKb0, splitBlocks, staged);
  else
    stageActivations<IntActivations, MTiles>(p, m0, splitKb0, splitBlocks,
                                             staged);
  copyAsyncWait<StagedCodes ? 1 : 0>();
  __syncthreads();
  // Warps past the last panel compute on zeros (no loads) and stay for the
  // barriers of the split reduction.

  using Acc = std::conditional_t<IntActivations, int32_t, float>;
  Acc acc[MTiles][Tiles][4] = {};
  float total[MTiles][Tiles][4] = {}; // scaled group sums

  // The group of the block being unpacked (relative to the split's first)
  // and the (warp-relative) block where the next one starts. Its staged
  // operands: this lane's C columns' scales and B columns' zero biases or
  // column sums. (A k warp without blocks stays at the split's last.)
  const int64_t warpGroup =
      KWarps == 1 ? firstGroup
                  : min(kb0 / p.w.blocksPerGroup, firstGroup + span - 1);
  int group = KWarps == 1 ? 0 : int(warpGroup - firstGroup);
  int64_t nextGroupAt = (warpGroup + 1) * p.w.blocksPerGroup - kb0;
  // Where column `column` of n8 tile j's operands of the current group lie
  // (stageGroupOperands): its scale, and its zero bias or column sum.
  const int warpColumn = columnWarp * Panels * int(kPanelCols);
  auto stagedScale = [&](int j, int column) {
    return operands +
           group * streamGroupBytes(IntActivations, MTiles, KWarps) +
           (warpColumn + j * 8 + column) * 4;
  };
  auto stagedSecond = [&](int j, int column) {
    return operands +
           group * streamGroupBytes(IntActivations, MTiles, KWarps) +
           Columns * 4 +
           (warpColumn + j * 8 + column) *
               streamSecondOperandBytes(IntActivations);
  };
  float2 scale[Tiles];
  HalfZero zero[Tiles];
  auto enterGroup = [&] {
#pragma unroll
    for (int j = 0; j < Tiles; ++j) {
      scale[j] = *reinterpret_cast<const float2 *>(stagedScale(j, 2 * t));
      if constexpr (!IntActivations)
        zero[j] =
            halfZero(*reinterpret_cast<const __half *>(stagedSecond(j, g)));
    }
  };
  enterGroup();

  // Folds the sums of the current group into `total`, scaled per output
  // column. The integer path's activation zero-point correction
  // −a_zp·Σ(u − z) is linear, so the split holding the group's first block
  // applies it for the whole group.
  auto flushGroup = [&] {
    const bool correct =
        IntActivations && p.aZeroPoint != 0 && (KWarps == 1 || blocks > 0) &&
        (firstGroup + group) * p.w.groupSize >= kb0 * kBlockK;
#pragma unroll
    for (int j = 0; j < Tiles; ++j) {
      Acc correction[2] = {0, 0};
      if (correct) {
        const int2 sums =
            *reinterpret_cast<const int2 *>(stagedSecond(j, 2 * t));
        correction[0] = p.aZeroPoint * sums.x;
        correction[1] = p.aZeroPoint * sums.y;
      }
      const float columnScale[2] = {scale[j].x, scale[j].y};
#pragma unroll
      for (int c = 0; c < 2; ++c)
#pragma unroll
        for (int mt = 0; mt < MTiles; ++mt)
#pragma unroll
          for (int h = 0; h < 2; ++h) {
            total[mt][j][2 * h + c] +=
                float(acc[mt][j][2 * h + c] - correction[c]) *
                columnScale[c];
            acc[mt][j][2 * h + c] = 0;
          }
    }
  };

  auto compute = [&](int b0, const Codes &raw) {
#pragma unroll
    for (int u = 0; u < Unroll; ++u) {
      if (b0 + u >= blocks)
        break;
      if (b0 + u == nextGroupAt) {
        flushGroup();
        ++group;
        nextGroupAt += p.w.blocksPerGroup;
        enterGroup();
      }
#pragma unroll
      for (int step = 0; step < 2; ++step) {
        const int k = (b0 + u) * int(kBlockK) + step * 32;
        // A fragments of the step, shared by all n8 tiles.
        constexpr int subs = IntActivations ? 1 : 2;
        uint32_t a[MTiles][subs][4];
#pragma unroll
        for (int mt = 0; mt < MTiles; ++mt)
#pragma unroll
          for (int sub = 0; sub < subs; ++sub)
            loadShared16(
                a[mt][sub],
                pairAddress[mt] +
                    (IntActivations
                         ? (warpBlock0 + k / 64) * 128 + 32 * t + 16 * step
                         : (warpBlock0 + k / 64) * 256 +
                               16 * (8 * step + 2 * t + sub)));
#pragma unroll
        for (int j = 0; j < Tiles; ++j) {
          uint32_t lo, hi;
          stepCodeWords<Bits>(raw[u][j / 2], j % 2, step, lo, hi);
          if constexpr (IntActivations) {
            uint32_t b0r = lo, b1r = hi;
            if constexpr (Bits == 4)
              unpackS8FromNibbles(lo, b0r, b1r);
#pragma unroll
            for (int mt = 0; mt < MTiles; ++mt)
              mmaS8(acc[mt][j], a[mt][0], b0r, b1r);
          } else {
            uint32_t b[4];
            unpackF16<Bits>(lo, hi, zero[j], b);
#pragma unroll
            for (int mt = 0; mt < MTiles; ++mt)
#pragma unroll
              for (int sub = 0; sub < 2; ++sub)
                mmaF16(acc[mt][j], a[mt][sub], b[2 * sub], b[2 * sub + 1]);
          }
        }
      }
    }
  };

  // A set is refilled as soon as it is unpacked, so that both are in
  // flight while the warp waits.
  for (int b0 = 0; b0 < blocks; b0 += 2 * Unroll) {
    compute(b0, rawA);
    if (b0 + 2 * Unroll < blocks) {
      if (b0 == 0 && StagedCodes) {
        // The warp's staged codes (a lane reads other lanes' 8-bit runs).
        copyAsyncWait<0>();
        __syncwarp();
      }
      loadCodes(b0 + 2 * Unroll, rawA);
    }
    if (b0 + Unroll >= blocks)
      break;
    compute(b0 + Unroll, rawB);
    if (b0 + 3 * Unroll < blocks)
      loadCodes(b0 + 3 * Unroll, rawB);
  }
  flushGroup();
  if constexpr (KWarps > 1) {
    // The k warps of each column warp add their sums in k order, the later
    // ones through the shared memory the staged A and codes are done with
    // (a float4 a lane and n8 tile, lanes adjacent). A warp that never
    // refilled from its staged codes may still have 8-bit block pairs in
    // flight there.
    if constexpr (StagedCodes)
      copyAsyncWait<0>();
    __syncthreads();
    float4 *sums = reinterpret_cast<float4 *>(staged);
    auto sumOf = [&](int fromKWarp, int j) {
      return sums + (((fromKWarp - 1) * ColumnWarps + columnWarp) * Tiles + j) *
                        32 +
             lane;
    };
    if (kWarp > 0)
#pragma unroll
      for (int j = 0; j < Tiles; ++j)
        *sumOf(kWarp, j) = make_float4(total[0][j][0], total[0][j][1],
                                       total[0][j][2], total[0][j][3]);
    __syncthreads();
    if (kWarp == 0)
      for (int from = 1; from < KWarps; ++from)
#pragma unroll
        for (int j = 0; j < Tiles; ++j) {
          const float4 v = *sumOf(from, j);
          total[0][j][0] += v.x, total[0][j][1] += v.y;
          total[0][j][2] += v.z, total[0][j][3] += v.w;
        }
  }

  // Each output: this split's value, to C directly or, split, to its
  // slice of the partial sums. A slice gets its padding columns too,
  // which the reduction's 16-byte loads read: every byte it loads is
  // written (compute-sanitizer's initcheck reported them).
  float *out = p.C;
  int64_t ldOut = p.ldc, columnsOut = p.w.N;
  if (p.splits > 1) {
    out = p.partials + int64_t(blockIdx.y) * p.M * p.w.paddedN;
    ldOut = columnsOut = p.w.paddedN;
  }
#pragma unroll
  for (int mt = 0; mt < MTiles; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      int m = m0 + mt * 16 + g + 8 * h;
      if (m >= p.M || !active || kWarp != 0)
        continue;
      float rowScale = p.aScales ? p.aScales[m] : p.aScale;
#pragma unroll
      for (int j = 0; j < Tiles; ++j)
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          int64_t n = panel0 * kPanelCols + j * 8 + 2 * t + c;
          if (n < columnsOut)
            out[m * ldOut + n] = IntActivations
                                     ? total[mt][j][2 * h + c] * rowScale
                                     : total[mt][j][2 * h + c];
        }
    }
  if (p.splits == 1)
    return;

  // The CTA of this column tile that finishes last adds the splits'
  // partial sums in split order (a deterministic result, one write of C)
  // and re-arms the tile's arrival counter for the next launch. Memory
  // order without a fence a thread: the barrier puts the CTA's partial sums
  // before thread 0's release at the counter, and the last CTA's acquire
  // there, followed by a barrier, puts every split's before its loads
  // (measured, W4A16 at 4096², M = 16, against two __threadfence: 0.0155
  // → 0.0150 ms).
  __shared__ bool lastToArrive;
  __syncthreads();
  const int64_t tile = int64_t(blockIdx.z) * gridDim.x + blockIdx.x;
  if (threadIdx.x == 0)
    lastToArrive =
        arriveAcquireRelease(&p.arrivals[tile]) == unsigned(p.splits - 1);
  __syncthreads();
  if (!lastToArrive)
    return;
  // Four columns a thread at a time (16-byte loads from L2), its quads'
  // loads for one split all in flight before they are added.
  constexpr int quadsPerThread =
      (MTiles * 16 * Columns / 4 + kStreamWarps * 32 - 1) /
      (kStreamWarps * 32);
  const int64_t n0 = int64_t(blockIdx.x) * Columns;
  const int rows = min(MTiles * 16, p.M - m0);
  float4 sum[quadsPerThread] = {};
  for (int split = 0; split < p.splits; ++split) {
    const float *slice = p.partials + int64_t(split) * p.M * p.w.paddedN;
#pragma unroll
    for (int q = 0; q < quadsPerThread; ++q) {
      int i = (q * kStreamWarps * 32 + threadIdx.x) * 4;
      int64_t m = m0 + i / Columns, n = n0 + i % Columns;
      if (m - m0 < rows && n < p.w.paddedN) {
        float4 v = __ldcg(
            reinterpret_cast<const float4 *>(slice + m * p.w.paddedN + n));
        sum[q].x += v.x, sum[q].y += v.y, sum[q].z += v.z, sum[q].w += v.w;
      }
    }
  }
#pragma unroll
  for (int q = 0; q < quadsPerThread; ++q) {
    int i = (q * kStreamWarps * 32 + threadIdx.x) * 4;
    int64_t m = m0 + i / Columns, n = n0 + i % Columns;
    if (m - m0 >= rows)
      continue;
    const float values[4] = {sum[q].x, sum[q].y, sum[q].z, sum[q].w};
#pragma unroll
    for (int c = 0; c < 4; ++c)
      if (n + c < p.w.N)
        p.C[m * p.ldc + n + c] = values[c];
  }
  if (threadIdx.x == 0)
    p.arrivals[tile] = 0;
}

//===----------------------------------------------------------------------===//
// Tiled kernel (large M)
//===----------------------------------------------------------------------===//

/// A stage's A tile: 128 rows × 64 k of int8 (4 chunks of 16 bytes a row)
/// or f32 (16 chunks). A lane reads chunk t (int8) or 4t + c (f32, c the
/// same for the warp) of rows g; the f32 chunks are XOR-swizzled so that a
/// lane quarter's eight reads fall in distinct banks (int8 rows are 64
/// bytes: eight of them are 512 contiguous bytes already).
template <bool IntActivations>
__device__ __forceinline__ int tileChunkOffset(int row, int chunk) {
  if constexpr (IntActivations)
    return row * 64 + chunk * 16;
  else
    return row * 256 +
           ((chunk ^ ((chunk >> 2) & 3) ^ ((row & 1) << 2)) * 16);
}

/// Grid: (ceil(paddedN / Tile::kN), ceil(M / Tile::kM)); A rows 16-byte
/// aligned (lda and K multiples of 16 bytes' worth of elements). Warps of
/// Tile::kMTiles·16 × 32 outputs; A and the codes go through a
/// tileStages()-deep cp.async ring. Gathered (pillar convolutions): A's
/// rows are assembled from p.gather as they are copied, a k block lying in
/// one tap; a missing neighbour's chunks are stored as the zero point.
template <bool IntActivations, int Bits, bool Grouped, class Tile,
          bool Gathered>
__device__ void tiledMatmul(const MatmulArgs &p) {
  extern __shared__ __align__(128) uint8_t ring[];
  constexpr int stageBytes = tileStageBytes<Tile>(IntActivations, Bits);
  constexpr int aChunksPerRow = IntActivations ? 4 : 16;
  constexpr int aBytes = Tile::kM * aChunksPerRow * 16;
  constexpr int kElement = IntActivations ? 1 : 4;
  constexpr int stages = tileStages(IntActivations);
  constexpr int MT = Tile::kMTiles;
  const int panelBytes = Bits * 128;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;
  const int wm = warp / Tile::kWarpsN, wn = warp % Tile::kWarpsN;
  const int64_t m0 = int64_t(blockIdx.y) * Tile::kM;
  const int64_t panel0 = int64_t(blockIdx.x) * (Tile::kN / 16);
  const uint8_t *A = static_cast<const uint8_t *>(p.A);

  auto loadStage = [&](int stage, int64_t kb) {
    uint8_t *sa = ring + stage * stageBytes, *sb = sa + aBytes;
#pragma unroll
    for (int i = 0; i < Tile::kM * aChunksPerRow / Tile::kThreads; ++i) {
      int c = threadIdx.x + i * Tile::kThreads;
      int row = c / aChunksPerRow, chunk = c % aChunksPerRow;
      int64_t k = kb * kBlockK + chunk * (16 / kElement);
      bool in = m0 + row < p.M && k < p.w.K;
      uint8_t *dst = sa + tileChunkOffset<IntActivations>(row, chunk);
      int64_t source = m0 + row, column = k;
      if constexpr (Gathered) {
        const int64_t tap = kb * kBlockK / p.channels;
        const int32_t neighbour = in ? p.gather[source * p.taps + tap] : 0;
        if (neighbour < 0) {
          // A missing neighbour: the zero point (int8) or zeros (f32).
          if constexpr (IntActivations) {
            const uint32_t word = uint8_t(p.aZeroPoint) * 0x01010101u;
            *reinterpret_cast<uint4 *>(dst) = make_uint4(word, word, word, word);
          } else {
            copyAsync16(dst, A, false);
          }
          continue;
        }
        source = neighbour;
        column = k - tap * p.channels;
      }
      const uint8_t *src = in ? A + (source * p.lda + column) * kElement : A;
      copyAsync16(dst, src, in);
    }
    // The codes, in shared memory as one lane's 16 bytes after another (n8
    // tile by tile for 8-bit).
#pragma unroll
    for (int i = 0; i < (Tile::kN / 16) * Bits * 8 / Tile::kThreads; ++i) {
      int c = threadIdx.x + i * Tile::kThreads;
      int j = c / (panelBytes / 16), run = c % (panelBytes / 16);
      bool in = panel0 + j < p.w.panels();
      const uint8_t *src =
          in ? p.packed + p.w.codeRunOffset(panel0 + j, kb, run / 32, run % 32)
             : p.packed;
      copyAsync16(sb + j * panelBytes + run * 16, src, in);
    }
  };

  using Acc = std::conditional_t<IntActivations, int32_t, float>;
  Acc acc[MT][4][4] = {};
  float total[Grouped ? MT : 1][4][4] = {};
  const GroupColumnRegions regions = groupColumnRegions(p);
  // Output column c ∈ {0, 1} of this lane in n8 tile nt.
  auto column = [&](int nt, int c) {
    return (panel0 + wn * 2) * kPanelCols + nt * 8 + 2 * t + c;
  };
  // The column whose per-group operands column n uses: past paddedN (a
  // tile wider than the layer) there are none, and their rows would end
  // past the blob (compute-sanitizer's memcheck reported the reads); such
  // columns, never written, take the last one's.
  auto operandColumn = [&](int64_t n) { return min(n, p.w.paddedN - 1); };
  // The sums of one group, scaled per output column (integer sums less
  // the activation zero point's correction first).
  auto scaleGroup = [&](int64_t group, int mt, int nt, int r) {
    int64_t at = group * p.w.paddedN + operandColumn(column(nt, r % 2));
    if constexpr (IntActivations)
      return float(acc[mt][nt][r] - p.aZeroPoint * regions.columnSums[at]) *
             regions.scales[at];
    else
      return acc[mt][nt][r] * regions.scales[at];
  };
  // f16 unpacking operands of this lane's B columns (column g of each n8
  // tile), reloaded when the group changes.
  HalfZero zero[4];
  int64_t group = 0, nextGroupAt = p.w.blocksPerGroup;
  auto loadZero = [&] {
    if constexpr (!IntActivations) {
#pragma unroll
      for (int nt = 0; nt < 4; ++nt)
        zero[nt] = halfZero(
            regions.zeroBias[group * p.w.paddedN +
                             operandColumn((panel0 + wn * 2) * kPanelCols +
                                           nt * 8 + g)]);
    }
  };
  loadZero();

  const int64_t blocks = p.w.blocksK;
#pragma unroll
  for (int s = 0; s < stages - 1; ++s) {
    if (s < blocks)
      loadStage(s, s);
    copyAsyncCommit();
  }
  for (int64_t kb = 0; kb < blocks; ++kb) {
    copyAsyncWait<stages - 2>();
    __syncthreads();
    if (kb + stages - 1 < blocks)
      loadStage((kb + stages - 1) % stages, kb + stages - 1);
    copyAsyncCommit();

    if (kb == nextGroupAt) {
      ++group;
      nextGroupAt += p.w.blocksPerGroup;
      loadZero();
    }

    const uint8_t *sa = ring + (kb % stages) * stageBytes;
    const uint8_t *sb = sa + aBytes;
    // This lane's codes of the block: one 16-byte run a panel (4-bit) or
    // an n8 tile (8-bit).
    uint4 codes[Bits / 2];
#pragma unroll
    for (int c = 0; c < Bits / 2; ++c)
      codes[c] = *reinterpret_cast<const uint4 *>(
          sb + (wn * 2 + c / (Bits / 4)) * panelBytes + (c % (Bits / 4)) * 512 +
          lane * 16);
    // The code words of k32 step `step`, n8 tile nt of the warp's two
    // panels.
    auto stepCodes = [&](int step, int nt, uint32_t &lo, uint32_t &hi) {
      stepCodeWords<Bits>(&codes[(nt / 2) * (Bits / 4)], nt % 2, step, lo, hi);
    };
    if constexpr (IntActivations) {
      // Both steps' B fragments, then per m16 tile this lane's 16 bytes
      // (k 16t..16t + 15) of rows g and g + 8: the A fragments of both
      // steps, live for one tile at a time.
      uint32_t b[2][4][2];
#pragma unroll
      for (int step = 0; step < 2; ++step)
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) {
          stepCodes(step, nt, b[step][nt][0], b[step][nt][1]);
          if constexpr (Bits == 4)
            unpackS8FromNibbles(b[step][nt][0], b[step][nt][0],
                                b[step][nt][1]);
        }
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        uint32_t rows[2][4];
#pragma unroll
        for (int h = 0; h < 2; ++h)
          *reinterpret_cast<uint4 *>(rows[h]) =
              *reinterpret_cast<const uint4 *>(
                  sa + tileChunkOffset<true>(
                           wm * MT * 16 + mt * 16 + g + 8 * h, t));
#pragma unroll
        for (int step = 0; step < 2; ++step) {
          const uint32_t a[4] = {rows[0][2 * step], rows[1][2 * step],
                                 rows[0][2 * step + 1], rows[1][2 * step + 1]};
#pragma unroll
          for (int nt = 0; nt < 4; ++nt)
            mmaS8(acc[mt][nt], a, b[step][nt][0], b[step][nt][1]);
        }
      }
    } else {
#pragma unroll
      for (int step = 0; step < 2; ++step) {
        uint32_t b[4][4];
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) {
          uint32_t lo, hi;
          stepCodes(step, nt, lo, hi);
          unpackF16<Bits>(lo, hi, zero[nt], b[nt]);
        }
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
#pragma unroll
          for (int sub = 0; sub < 2; ++sub) {
            // Rows g and g + 8, k 16t + 8·step + 4·sub + [0, 4): f32 →
            // the (k0, k2), (k1, k3) f16 pairs of the B unpacking order.
            uint32_t a[4];
#pragma unroll
            for (int h = 0; h < 2; ++h) {
              int row = wm * MT * 16 + mt * 16 + g + 8 * h;
              float4 x = *reinterpret_cast<const float4 *>(
                  sa + tileChunkOffset<false>(row, 4 * t + 2 * step + sub));
              __half2 even = __floats2half2_rn(x.x, x.z),
                      odd = __floats2half2_rn(x.y, x.w);
              a[h] = *reinterpret_cast<uint32_t *>(&even);
              a[2 + h] = *reinterpret_cast<uint32_t *>(&odd);
            }
#pragma unroll
            for (int nt = 0; nt < 4; ++nt)
              mmaF16(acc[mt][nt], a, b[nt][2 * sub], b[nt][2 * sub + 1]);
          }
      }
    }

    if constexpr (Grouped) {
      if (kb + 1 == nextGroupAt || kb + 1 == blocks)
#pragma unroll
        for (int mt = 0; mt < MT; ++mt)
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
  for (int mt = 0; mt < MT; ++mt)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      int64_t m = m0 + wm * MT * 16 + mt * 16 + g + 8 * h;
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
          v = IntActivations ? v * rowScale : v;
          if constexpr (Gathered)
            v += p.bias ? p.bias[n] : 0.0f;
          p.C[m * p.ldc + n] = v;
        }
    }
}

} // namespace qr::gpu
