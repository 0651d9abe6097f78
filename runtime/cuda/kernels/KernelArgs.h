//===- KernelArgs.h - parameter blocks of the GPU kernels -------*- C++ -*-===//
//
// Each kernel takes one struct by value; the launchers (Launch.cpp) fill it
// and pass its address as the single cuLaunchKernel parameter, so the host
// and device sides cannot disagree on argument order.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_RUNTIME_CUDA_KERNELS_KERNELARGS_H
#define QUANT_RUNTIME_CUDA_KERNELS_KERNELARGS_H

#include "GpuWeights.h"

#include <cuda.h>

namespace qr::gpu {

// Launch geometry, shared by the kernels and their launchers.

/// Streaming matmul: warps a CTA, panels a warp covers (two for one m16
/// tile: the A fragments and group bookkeeping are shared by more codes).
constexpr int kStreamWarps = 8;
/// The "k warps" variant for a row or two: the CTA's warps share its
/// columns and split its k range among themselves, and add their sums in
/// shared memory, so that a CTA can take all of K and no partial sums go
/// through global memory. The others give each warp its own columns
/// (kWarps = 1).
constexpr int kStreamKWarps = 8;
/// Rows up to which the launcher takes it: each CTA stages all of them.
constexpr int kStreamKWarpsMaxRows = 2;
QR_HOST_DEVICE constexpr int streamPanels(int mTiles) {
  return mTiles == 1 ? 2 : 1;
}
/// k blocks of codes a buffer holds: 2 KiB a warp.
QR_HOST_DEVICE constexpr int streamUnroll(int bits, int mTiles) {
  int blocks = 2048 / (streamPanels(mTiles) * bits * 128);
  return blocks > 0 ? blocks : 1;
}
/// k blocks of a split whose codes a warp holds in its two register sets;
/// the staged kernels keep the rest in shared memory.
QR_HOST_DEVICE constexpr int streamRegisterBlocks(int bits, int mTiles) {
  return 2 * streamUnroll(bits, mTiles);
}
/// CTAs a multiprocessor should hold (a register cap): the streaming
/// kernels are latency-bound, so the smaller variants trade registers for
/// warps in flight, as far as they fit without spilling.
QR_HOST_DEVICE constexpr int streamMinBlocks(int mTiles) {
  return mTiles <= 2 ? 2 : 1;
}
/// Bytes of one staged row pair of A for `blocks` k blocks (Matmul.cuh);
/// a CTA stages mTiles·8 pairs.
QR_HOST_DEVICE constexpr int streamStagedPairBytes(bool intActivations,
                                                   int blocks) {
  return blocks * int(kBlockK) * 2 * (intActivations ? 1 : 2) + 16;
}
/// Output columns of a streaming CTA, and the per-column operands of a
/// quantization group it stages after A: the f32 scales, then the f16
/// zero biases (weight-only) or the i32 column sums (integer), of
/// streamSecondOperandBytes each.
QR_HOST_DEVICE constexpr int streamColumns(int mTiles, int kWarps) {
  return kStreamWarps / kWarps * streamPanels(mTiles) * int(kPanelCols);
}
QR_HOST_DEVICE constexpr int streamSecondOperandBytes(bool intActivations) {
  return intActivations ? 4 : 2;
}
QR_HOST_DEVICE constexpr int streamGroupBytes(bool intActivations, int mTiles,
                                              int kWarps) {
  return streamColumns(mTiles, kWarps) *
         (4 + streamSecondOperandBytes(intActivations));
}
/// Groups a split of `blocks` k blocks spans at most, wherever it starts.
QR_HOST_DEVICE constexpr int64_t
streamGroupSpan(int64_t blocks, int64_t blocksPerGroup, int64_t groups) {
  const int64_t span = (blocks + blocksPerGroup - 2) / blocksPerGroup + 1;
  return span < groups ? span : groups;
}
/// Row pairs of A a streaming CTA stages: every pair of its m16 tiles, or
/// in the k-warps variant (one tile, M ≤ 8) only those holding a row below
/// M, the others aliasing the last (they feed only rows past M).
QR_HOST_DEVICE constexpr int streamStagedPairs(int mTiles, int kWarps, int M) {
  return kWarps == 1 ? 8 * mTiles : M < 8 ? M : 8;
}
/// k blocks each k warp of a split of `blocks` takes (the last ones fewer).
QR_HOST_DEVICE constexpr int streamWarpBlocks(int64_t blocks, int kWarps) {
  return int((blocks + kWarps - 1) / kWarps);
}
/// Dynamic shared memory of a streaming CTA whose split has `blocks` k
/// blocks: A's row pairs, then the spanned groups' operands.
QR_HOST_DEVICE constexpr int64_t
streamSharedBytes(bool intActivations, int mTiles, int kWarps, int M,
                  int64_t blocks, int64_t blocksPerGroup, int64_t groups) {
  return streamStagedPairs(mTiles, kWarps, M) *
             streamStagedPairBytes(intActivations, int(blocks)) +
         streamGroupSpan(blocks, blocksPerGroup, groups) *
             streamGroupBytes(intActivations, mTiles, kWarps);
}
/// Shared memory the k warps past the first of each column add their sums
/// through (over the staged A and codes, once done with): a float4 a lane
/// for each of its n8 tiles.
QR_HOST_DEVICE constexpr int64_t streamKWarpSumBytes(int kWarps) {
  return int64_t(kWarps - 1) * (kStreamWarps / kWarps) * 2 * streamPanels(1) *
         32 * 16;
}
/// Bytes `blocks` k blocks of a panel's codes take staged in shared memory:
/// its runs, 8-bit ones from the start of the first block's pair to the end
/// of the last one's. A streaming CTA stages its panels' codes after the
/// group operands.
QR_HOST_DEVICE constexpr int64_t streamStagedPanelBytes(int bits,
                                                        int64_t blocks) {
  return (bits == 8 ? blocks + 2 : blocks) * bits * 128;
}
QR_HOST_DEVICE constexpr int64_t streamStagedCodeBytes(int bits, int mTiles,
                                                       int64_t blocks) {
  return kStreamWarps * streamPanels(mTiles) *
         streamStagedPanelBytes(bits, blocks);
}
/// Tiled matmul CTA tiles: WarpsM × WarpsN warps, each covering two
/// panels (32 columns) and M / WarpsM rows.
template <int M, int N, int WarpsM, int WarpsN> struct TileShape {
  static constexpr int kM = M, kN = N, kWarpsN = WarpsN;
  static constexpr int kThreads = 32 * WarpsM * WarpsN;
  static constexpr int kMTiles = M / WarpsM / 16; // m16 tiles a warp
  static_assert(N / WarpsN == 32, "a warp covers two panels");
};
/// Large matmuls: 128 × 128, 2 × 4 warps of 64 × 32.
using LargeTile = TileShape<128, 128, 2, 4>;
/// Integer matmuls whose 128 × 128 tiles would be fewer than the
/// multiprocessors (a prefill chunk of 128 rows: Launch.cpp), and pillar
/// convolutions, whose output channels are few (64 typical) and whose rows
/// are gathered: 64 × 64, 2 × 2 warps of 32 × 32, four times the CTAs.
using SmallTile = TileShape<64, 64, 2, 2>;
/// CTAs a multiprocessor a tiled kernel is compiled for: two for the large
/// integer tiles in one group, whose registers fit in 128 a thread (the
/// second CTA hides the ring's latency; measured: W4A8 at 4096² takes 0.39
/// instead of 0.26 ms with one); one otherwise, where ptxas would spill
/// under a cap of 128 (qr_gpu_pillar_tiled_f16_w4 did, left to its
/// occupancy heuristic).
template <class Tile>
QR_HOST_DEVICE constexpr int tiledMinBlocks(bool intActivations, bool grouped) {
  return Tile::kM == LargeTile::kM && Tile::kN == LargeTile::kN &&
                 intActivations && !grouped
             ? 2
             : 1;
}
/// The ring depth (the f32 A tiles of the weight-only kernel are four
/// times the int8 ones) and the bytes of a stage.
QR_HOST_DEVICE constexpr int tileStages(bool intActivations) {
  return intActivations ? 4 : 3;
}
template <class Tile>
QR_HOST_DEVICE constexpr int tileStageBytes(bool intActivations, int bits) {
  return Tile::kM * int(kBlockK) * (intActivations ? 1 : 4) +
         (Tile::kN / 16) * bits * 128;
}
/// f32 GEMM tile and threads; per-token quantization threads.
constexpr int kGemmTile = 64, kGemmK = 16, kGemmThreads = 256;
constexpr int kQuantizeThreads = 1024;
/// 16-byte runs of a row a quantize thread keeps in registers: rows up to
/// 16384 values are read once.
constexpr int kQuantizeCachedRuns = 4;
/// Hadamard on n = 2^logN, 7 ≤ logN ≤ 15: values a thread holds in
/// registers (the CTA has n / that many threads, at most 512 so that the
/// 64 values of n = 32768 stay in registers).
QR_HOST_DEVICE constexpr int hadamardValuesPerThread(int logN) {
  return logN <= 8 ? (1 << logN) / 32 : logN <= 13 ? 16 : logN == 14 ? 32 : 64;
}
/// Kronecker sizes n = 2^logN · b: threads of the shared-memory kernel,
/// and the largest n it takes (n + b² floats of shared memory).
constexpr int kHadamardKroneckerThreads = 256;
constexpr int64_t kHadamardKroneckerMaxN = 28 * 1024;
QR_HOST_DEVICE constexpr int hadamardThreads(int logN) {
  return (1 << logN) / hadamardValuesPerThread(logN);
}

struct MatmulArgs {
  const void *A; // float (weight-only kernels) or int8 rows
  int64_t lda;
  const uint8_t *packed;
  float *C;
  int64_t ldc;
  const float *aScales; // per token, or null for aScale
  float aScale;
  int32_t aZeroPoint;
  int32_t M;
  /// k blocks (kBlockK) per split of the streaming kernels. With more than
  /// one split, each writes its partial sums to partials[split][M][paddedN]
  /// and the last CTA of a column tile to arrive (counted in arrivals, one
  /// zeroed counter a tile, re-armed by that CTA) adds them into C.
  int32_t blocksPerSplit;
  int32_t splits;
  float *partials;
  uint32_t *arrivals;
  WeightGeometry w;
  /// Pillar convolutions (the tiled kernels' Gathered variant): row m of A
  /// is the concatenation over taps t of row gather[m · taps + t] of A
  /// (`channels` values each, a multiple of kBlockK), the zero point where
  /// the index is −1; bias[n] is added to C (may be null).
  const int32_t *gather;
  int32_t taps, channels;
  const float *bias;
};

/// The Hopper W8A8 kernel (Wgmma.cuh): a 128 × TileN CTA tile (kWgmmaN,
/// or kWgmmaNarrowN where wide tiles would leave multiprocessors without
/// one), one producer and two consumer warpgroups, a ring of stages of a
/// pair of k blocks each (A's 128 rows, then the TileN / 16 panels' codes,
/// 128-byte rows).
constexpr int kWgmmaM = 128, kWgmmaN = 256, kWgmmaNarrowN = 128;
constexpr int kWgmmaK = 2 * int(kBlockK);
constexpr int kWgmmaThreads = 384, kWgmmaConsumerWarps = 8;
constexpr int kWgmmaStages = 4;
constexpr int kWgmmaABytes = kWgmmaM * kWgmmaK;
QR_HOST_DEVICE constexpr int wgmmaStageBytes(int tileN) {
  return kWgmmaABytes + tileN * kWgmmaK;
}
/// The ring, its full and empty barriers, the epilogue's column operands
/// (8 bytes a column) and slack to align the ring to 1 KiB.
QR_HOST_DEVICE constexpr int wgmmaSharedBytes(int tileN) {
  return kWgmmaStages * (wgmmaStageBytes(tileN) + 16) + tileN * 8 + 1024;
}

struct WgmmaArgs {
  /// A: int8 [M][K] (rows lda bytes apart), boxes of 128 k × kWgmmaM rows,
  /// 128-byte swizzled.
  CUtensorMap a;
  /// The codes as [panels][block pairs][16 columns][128 bytes], boxes of
  /// one pair of TileN / 16 panels, 128-byte swizzled.
  CUtensorMap b;
  MatmulArgs p;
};

/// The Hopper kernels' output tiles: `tileN`-column tiles across, and all
/// of them (the launcher sizes the grid by these, the kernel walks them).
QR_HOST_DEVICE inline int64_t wgmmaColumnTiles(const MatmulArgs &p,
                                               int tileN = kWgmmaN) {
  return (p.w.paddedN + tileN - 1) / tileN;
}
QR_HOST_DEVICE inline int64_t wgmmaTiles(const MatmulArgs &p,
                                         int tileN = kWgmmaN) {
  return wgmmaColumnTiles(p, tileN) * ((p.M + kWgmmaM - 1) / kWgmmaM);
}

/// Weight-only prefill on Hopper (Wgmma.cuh): a 128 × 128 CTA tile from
/// wgmma m64n128k16 (f16 → f32), one producer and two consumer warpgroups
/// as above, a ring of stages of one k block: the same 128-byte rows as the
/// W8A8 kernel's (wgmmaStageBytes), 64 f16 each. Both operands are f16
/// copies made for the call (WidenCodes.cuh): A rounded as the mma.sync
/// kernels round it, the weights as their exact u − z, the group scales
/// applied to each group's f32 sums.
constexpr int kWgmmaHalfN = 128;
constexpr int kWgmmaHalfStages = 6;
static_assert(kWgmmaK == 2 * int(kBlockK), "a k block of f16 is a row");
/// The ring, its barriers and slack to align the ring to 1 KiB.
constexpr int kWgmmaHalfSharedBytes =
    kWgmmaHalfStages * (wgmmaStageBytes(kWgmmaHalfN) + 16) + 1024;

struct WgmmaHalfArgs {
  /// A as f16 [M][K], the weights as f16 [paddedN][K] (u − z), both with
  /// rows paddedK() values apart; boxes of 64 k × 128 rows, 128-byte
  /// swizzled, zeros past K and past the rows.
  CUtensorMap a, b;
  /// The call, whose blob gives the group scales.
  MatmulArgs p;
};

/// The f16 operands of the weight-only prefill kernel, written before it
/// runs: A's rows [M][K] f32 → [M][paddedK] f16 (k < K), and each 8-code run
/// of the blob → its u − z at [n][k] of [paddedN][paddedK] (codeRunValues).
struct HalfOperandsArgs {
  const float *A;
  int64_t lda;
  int32_t M;
  uint16_t *halfA; // f16 bits
  const uint8_t *packed;
  WeightGeometry w;
  uint16_t *halfW;
};
constexpr int kHalfOperandThreads = 256;

/// The output's 128 × 128 tiles (LargeTile), by which the launchers choose
/// between kernels.
QR_HOST_DEVICE inline int64_t largeTiles(const MatmulArgs &p) {
  return (p.w.paddedN + LargeTile::kN - 1) / LargeTile::kN *
         ((p.M + LargeTile::kM - 1) / LargeTile::kM);
}

/// W4A8 prefill on the Hopper kernel (WidenCodes.cuh): a 4-bit blob of one
/// quantization group rewritten as the 8-bit blob of the same values.
struct WidenArgs {
  const uint8_t *from;
  uint8_t *to;
  WeightGeometry narrow, wide;
};
constexpr int kWidenThreads = 256;

struct HadamardArgs {
  float *X;
  int64_t rows, ld;
  const int8_t *signs; // n values, or null
  float scale;         // 1/sqrt(n)
  int32_t logN;        // n = 2^logN · b
  const int8_t *base;  // b×b ±1, row-major (b > 1)
  int32_t b;
};

struct GemmF32Args {
  const float *A, *B;
  float *C;
  int64_t M, N, K, lda, ldb, ldc, strideA, strideB, strideC;
  int32_t transposeB;
  /// Pillar convolution (gemmF32<true>): row m of A is the concatenation
  /// over taps t of A[gather[m · taps + t]] (C_in = K / taps values each),
  /// zeros where the index is −1; bias[n] is added to C (may be null).
  const int32_t *gather;
  int32_t taps;
  const float *bias;
};

struct QuantizeArgs {
  const float *X;
  int8_t *Q;
  float *scales;
  int64_t M, K, ldx, ldq;
  int32_t bits;
};

/// Pillar rulebook: threads of its kernels, ordinals one compaction CTA
/// ranks (kRulebookThreads × kCompactPerThread, consecutive a thread).
constexpr int kRulebookThreads = 256, kCompactPerThread = 4;
constexpr int kCompactBlock = kRulebookThreads * kCompactPerThread;
/// The radix select of top-k importance: one CTA.
constexpr int kTopkThreads = 1024;
/// Element-wise pillar kernels (norms, gather, bias).
constexpr int kPillarThreads = 256;
/// The f32 pillar conv for C_in % 16 == 0 and C_out % 4 == 0: 64 × 64
/// output tiles, 16 k a step (one tap's channels), 8 × 4 outputs a thread.
constexpr int kPillarTile = 64, kPillarTileK = 16, kPillarConvThreads = 128;

/// An open-addressing table of grid sites in device memory: 64-bit site
/// keys (kEmptySite marks a free slot) and, under each, the smallest
/// ordinal any thread inserted. Both start as all one bits, so one fill
/// clears a table; ordinals stay below kMaxOrdinals.
constexpr unsigned long long kEmptySite = ~0ull;
constexpr int64_t kMaxOrdinals = int64_t(1) << 31;
struct SiteTable {
  unsigned long long *keys;
  unsigned int *ordinals;
  uint64_t mask; // slots − 1, slots a power of two
};

/// What the rulebook kernels found, read back once by the launcher.
struct RulebookStatus {
  unsigned long long outOfGrid; // smallest offending pillar, or ~0
  unsigned long long duplicate; // (pillar << 32) | earlier pillar, or ~0
  long long candidates;         // sites on the input grid (before stride 2)
  long long outputs;            // M
};

/// What the host needs to name an invalid input: the status words and the
/// offending pillar's coordinates, written by the last rulebook kernel into
/// page-locked host memory (the coordinates' buffer may be gone by the time
/// the host reads it).
struct RulebookReport {
  unsigned long long outOfGrid, duplicate;
  int32_t coords[3];
};

struct RulebookArgs {
  const int32_t *coords; // [N][3] (batch, y, x)
  int64_t N, height, width, outHeight, outWidth;
  int32_t kernel, stride, taps;
  const double *importance; // [N] (dilation)
  double threshold;
  int64_t topk; // pillars selected by rank, or 0 for the threshold
  uint8_t *important;
  SiteTable inputs, candidates, outputs;
  int32_t *candidateCoords; // out_coords with stride 1
  int32_t *outCoords;
  int32_t *neighbours;
  int64_t *counts; // the caller's {M, QR_PILLAR_*}
  RulebookStatus *status;
  RulebookReport *report; // device address of the host's report slot
  int32_t *blockCounts; // compaction: per-CTA counts, then offsets
  int64_t blocks;       // CTAs of the current compaction
};

struct PillarNormsArgs {
  const void *features; // float or int8
  double *norms;
  int64_t N, C, ld;
  double scale;
  int32_t zeroPoint;
};

struct PillarGatherArgs {
  const void *features; // [N][C_in] float or int8
  const int32_t *neighbours;
  void *gathered; // [M][taps · C_in]
  int64_t M, taps, C;
  int32_t fill; // the value of a missing neighbour (int8 zero point)
};

struct BiasArgs {
  float *C;
  const float *bias;
  int64_t M, N;
};

} // namespace qr::gpu

#endif // QUANT_RUNTIME_CUDA_KERNELS_KERNELARGS_H
