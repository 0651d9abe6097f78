//===- GpuWeights.h - geometry of the GPU weight blob -----------*- C++ -*-===//
//
// Shared by the packer (host C++), the launchers and the CUDA kernels, so
// the three agree on one layout (described in include/quant/Runtime/
// GpuKernels.h). Plain C++: no CUDA or runtime headers.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_RUNTIME_CUDA_KERNELS_GPUWEIGHTS_H
#define QUANT_RUNTIME_CUDA_KERNELS_GPUWEIGHTS_H

#include <stdint.h>

#ifdef __CUDACC__
#define QR_HOST_DEVICE __host__ __device__
#else
#define QR_HOST_DEVICE
#endif

namespace qr::gpu {

/// Columns of a panel, k of a block: one panel × block of codes is what a
/// warp reads with one (4-bit) or two (8-bit) 16-byte loads per lane.
constexpr int64_t kPanelCols = 16;
constexpr int64_t kBlockK = 64;
constexpr int64_t kRegionAlign = 256;

QR_HOST_DEVICE inline int64_t roundUp(int64_t x, int64_t to) {
  return (x + to - 1) / to * to;
}

struct WeightGeometry {
  int32_t bits;
  int64_t K, N, groupSize;
  int64_t paddedN, blocksK, groups;
  /// k blocks a quantization group spans (blocksK for one group): kernels
  /// walk blocks in order and cross group boundaries by counting, not
  /// dividing.
  int64_t blocksPerGroup;
  /// Byte offsets of the regions, from the blob's start.
  int64_t zeroBiasF16, scalesF32, columnSums, totalBytes;

  QR_HOST_DEVICE int64_t panelBytes() const { return bits * 128; }
  /// K rounded up to whole k blocks.
  QR_HOST_DEVICE int64_t paddedK() const { return blocksK * kBlockK; }
  QR_HOST_DEVICE int64_t panels() const { return paddedN / kPanelCols; }
  /// Bytes of the codes region, and of the per-group operands after it
  /// (from zeroBiasF16 to the end, laid out alike for 4- and 8-bit codes).
  QR_HOST_DEVICE int64_t codeBytes() const {
    return panels() * storedBlocks() * panelBytes();
  }
  QR_HOST_DEVICE int64_t operandBytes() const {
    return totalBytes - zeroBiasF16;
  }
  /// k blocks stored a panel: 8-bit codes go by pairs of blocks, so that a
  /// column's 128 k of a pair are contiguous (the rows of Hopper's wgmma
  /// stages, Wgmma.cuh); an odd count gets a block of zero points.
  QR_HOST_DEVICE int64_t storedBlocks() const {
    return bits == 8 ? roundUp(blocksK, 2) : blocksK;
  }
  /// Byte offset of lane `lane`'s 16 bytes of codes of block `block` of
  /// panel `panel`: both n8 tiles' (4-bit), or n8 tile `tile`'s (8-bit,
  /// [panel][block pair][tile][8 columns][128 k]).
  QR_HOST_DEVICE int64_t codeRunOffset(int64_t panel, int64_t block, int tile,
                                       int lane) const {
    return panelCodeOffset(panel) + blockRunOffset(bits, block, tile, lane);
  }
  /// codeRunOffset's two terms, for kernels that walk a panel's blocks:
  /// where the panel's codes start, and where the run lies within them.
  QR_HOST_DEVICE int64_t panelCodeOffset(int64_t panel) const {
    return panel * storedBlocks() * panelBytes();
  }
  QR_HOST_DEVICE static int64_t blockRunOffset(int bits, int64_t block,
                                               int tile, int lane) {
    if (bits == 4)
      return block * 512 + lane * 16;
    return ((block / 2) * 2 + tile) * 1024 + (lane / 4) * 128 +
           (block % 2) * 64 + (lane % 4) * 16;
  }
};

/// Writes 8-byte run `run` of the codes of `wide` (8-bit) from those of
/// `narrow` (4-bit, the same K, N and group), for the Hopper kernel's W4A8
/// prefill (WidenCodes.cuh): the codes' symmetric values, which the integer
/// kernels take (weights with z = 2^(bits − 1)), as bytes. Runs are in
/// blob order; run r is lane (4g + t)'s k32 step s of n8 tile τ of a block
/// (blockRunOffset), whose eight codes are, in the 4-bit blob, the low and
/// high nibbles of that lane's word for (s, τ). The block of zero points
/// that completes an odd block count comes from the zero biases.
QR_HOST_DEVICE inline void widenCodeRun(const uint8_t *narrowBlob,
                                        uint8_t *wideBlob,
                                        const WeightGeometry &narrow,
                                        const WeightGeometry &wide,
                                        int64_t run) {
  const int64_t panelRuns = wide.storedBlocks() * wide.panelBytes() / 8;
  const int64_t panel = run / panelRuns;
  const int offset = int(run % panelRuns) * 8;
  const int pair = offset / 2048, tile = offset / 1024 % 2,
            g = offset / 128 % 8, odd = offset / 64 % 2, t = offset / 16 % 4,
            step = offset / 8 % 2;
  const int64_t block = 2 * int64_t(pair) + odd;
  uint32_t low, high;
  if (block < narrow.blocksK) {
    const uint32_t word = *reinterpret_cast<const uint32_t *>(
        narrowBlob + narrow.codeRunOffset(panel, block, tile, 4 * g + t) +
        (step * 2 + tile) * 4);
    low = word & 0x0f0f0f0fu;
    high = (word >> 4) & 0x0f0f0f0fu;
  } else {
    // The low byte of the f16 1024 + z of the last group; padding columns
    // hold code 0.
    const int64_t n = panel * kPanelCols + tile * 8 + g;
    const uint16_t *zeroBias =
        reinterpret_cast<const uint16_t *>(narrowBlob + narrow.zeroBiasF16);
    const uint32_t zero =
        n < narrow.N
            ? zeroBias[(narrow.groups - 1) * narrow.paddedN + n] & 0xffu
            : 0u;
    low = high = zero * 0x01010101u;
  }
  // u − 8 as int8, a byte at a time: u + 120 stays below 256 and ^0x80
  // subtracts 128 (unpackS8FromNibbles in Matmul.cuh).
  *reinterpret_cast<uint64_t *>(wideBlob + wide.panelCodeOffset(panel) +
                                offset) =
      uint64_t((low + 0x78787878u) ^ 0x80808080u) |
      uint64_t((high + 0x78787878u) ^ 0x80808080u) << 32;
}

/// The eight codes of run `run` (blob order: bits bytes a run) as their
/// u − z, and where they lie: column `n`, k from `k` on. A run is lane
/// (4g + t)'s k32 step s of n8 tile τ of a block (blockRunOffset): 4-bit,
/// the low then high nibbles of the lane's word (s, τ); 8-bit, eight bytes
/// u ^ 0x80 of a column's block pair. Padding k holds the last group's zero
/// point and padding columns code 0 with zero point 0, so both give 0.
QR_HOST_DEVICE inline void codeRunValues(const uint8_t *blob,
                                         const WeightGeometry &w, int64_t run,
                                         int64_t &n, int64_t &k,
                                         int32_t (&values)[8]) {
  const int64_t panelBytes = w.storedBlocks() * w.panelBytes();
  const int64_t offset = run * w.bits;
  const int64_t panel = offset / panelBytes;
  const int at = int(offset % panelBytes);
  uint32_t u[8];
  if (w.bits == 4) {
    const int lane = at % 512 / 16, word = at % 16 / 4;
    n = panel * kPanelCols + (word % 2) * 8 + lane / 4;
    k = int64_t(at / 512) * kBlockK + (lane % 4) * 16 + (word / 2) * 8;
    const uint32_t codes = *reinterpret_cast<const uint32_t *>(blob + offset);
    for (int i = 0; i < 4; ++i) {
      u[i] = codes >> 8 * i & 15u;
      u[4 + i] = codes >> (8 * i + 4) & 15u;
    }
  } else {
    n = panel * kPanelCols + (at / 1024 % 2) * 8 + at / 128 % 8;
    k = int64_t(at / 2048) * 2 * kBlockK + at % 128;
    const uint64_t codes = *reinterpret_cast<const uint64_t *>(blob + offset);
    for (int i = 0; i < 8; ++i)
      u[i] = uint32_t(codes >> 8 * i & 0xffu) ^ 0x80u;
  }
  const int64_t group =
      w.groups == 1 || k >= w.K ? w.groups - 1 : k / w.groupSize;
  const uint16_t *zeroBias =
      reinterpret_cast<const uint16_t *>(blob + w.zeroBiasF16);
  // The low byte of the half 1024 + z; padding columns hold 0.
  const int32_t zero = zeroBias[group * w.paddedN + n] & 0xff;
  for (int i = 0; i < 8; ++i)
    values[i] = int32_t(u[i]) - zero;
}

/// False for what the kernels cannot take: bits not 4 or 8, a group size
/// that neither is K nor a multiple of kBlockK dividing K, empty shapes.
QR_HOST_DEVICE inline bool makeWeightGeometry(int32_t bits, int64_t K,
                                              int64_t N, int64_t groupSize,
                                              WeightGeometry *g) {
  if ((bits != 4 && bits != 8) || K < 1 || N < 1 || groupSize < 1 ||
      K % groupSize != 0 || (groupSize != K && groupSize % kBlockK != 0))
    return false;
  g->bits = bits;
  g->K = K;
  g->N = N;
  g->groupSize = groupSize;
  g->paddedN = roundUp(N, kPanelCols);
  g->blocksK = roundUp(K, kBlockK) / kBlockK;
  g->groups = K / groupSize;
  g->blocksPerGroup = g->groups == 1 ? g->blocksK : groupSize / kBlockK;
  int64_t perGroup = g->groups * g->paddedN;
  g->zeroBiasF16 = roundUp(g->codeBytes(), kRegionAlign);
  g->scalesF32 = roundUp(g->zeroBiasF16 + 2 * perGroup, kRegionAlign);
  g->columnSums = roundUp(g->scalesF32 + 4 * perGroup, kRegionAlign);
  g->totalBytes = roundUp(g->columnSums + 4 * perGroup, kRegionAlign);
  return true;
}

} // namespace qr::gpu

#endif // QUANT_RUNTIME_CUDA_KERNELS_GPUWEIGHTS_H
