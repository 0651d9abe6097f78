//===- GpuPack.cpp - packing weights for the GPU kernels ------------------===//
//
// Run by the compiler when it lowers a model for the GPU (no CUDA needed):
// codes go into the tensor-core fragment order of GpuWeights.h so that a
// warp streams them with 16-byte loads and unpacks them in registers.
//
//===----------------------------------------------------------------------===//

#include "GpuWeights.h"

#include "quant/Runtime/GpuKernels.h"

#include <cstring>

using namespace qr::gpu;

namespace {

/// Column `n` of panel `panel`, tile `tile` (n8), lane group `laneGroup`.
int64_t fragmentColumn(int64_t panel, int tile, int laneGroup) {
  return panel * kPanelCols + tile * 8 + laneGroup;
}

/// k of fragment value j ∈ [0, 8) of lane quad `quad` in k32 step `step` of
/// block `block`. mma.sync m16n8k32 takes any k order A shares; this one
/// gives each lane 16 consecutive k of a block, so that A's fragments are
/// 16-byte runs of its rows and 8-bit columns are in natural k order.
int64_t fragmentK(int64_t block, int step, int quad, int j) {
  return block * kBlockK + 16 * quad + 8 * step + j;
}

} // namespace

extern "C" size_t qr_gpu_packed_weights_bytes(int32_t bits, int64_t K,
                                              int64_t N, int64_t group_size) {
  WeightGeometry g;
  return makeWeightGeometry(bits, K, N, group_size, &g) ? g.totalBytes : 0;
}

extern "C" int qr_gpu_pack_weights(int32_t bits, int64_t K, int64_t N,
                                   int64_t group_size, const uint8_t *codes,
                                   const float *scales,
                                   const int32_t *zero_points, void *packed) {
  WeightGeometry g;
  if (!makeWeightGeometry(bits, K, N, group_size, &g) || !codes || !scales ||
      !zero_points || !packed)
    return -1;
  const int32_t maxCode = (1 << bits) - 1;
  for (int64_t i = 0; i < K * N; ++i)
    if (codes[i] > maxCode)
      return -1;
  for (int64_t i = 0; i < g.groups * N; ++i)
    if (zero_points[i] < 0 || zero_points[i] > maxCode)
      return -1;

  auto *blob = static_cast<uint8_t *>(packed);
  std::memset(blob, 0, g.totalBytes);
  // Padding k gets the group's zero point (u − z = 0); padding columns get
  // code 0 with scale 0.
  auto code = [&](int64_t k, int64_t n) -> uint32_t {
    if (n >= N)
      return 0;
    if (k >= K)
      return zero_points[(g.groups - 1) * N + n];
    return codes[k * N + n];
  };

  for (int64_t panel = 0; panel < g.panels(); ++panel)
    for (int64_t block = 0; block < g.storedBlocks(); ++block)
      for (int lane = 0; lane < 32; ++lane)
        for (int step = 0; step < 2; ++step)
          for (int tile = 0; tile < 2; ++tile) {
            int64_t n = fragmentColumn(panel, tile, lane / 4);
            uint32_t value[8];
            for (int j = 0; j < 8; ++j)
              value[j] = code(fragmentK(block, step, lane % 4, j), n);
            uint8_t *run = blob + g.codeRunOffset(panel, block, tile, lane);
            if (bits == 4) {
              // Byte i: b_i low, b_{4+i} high, so that `w & 0x0f0f0f0f` and
              // `(w >> 4) & 0x0f0f0f0f` are the two int8 fragment words and
              // `(w >> 4j) & 0x000f000f` pairs for the f16 kernels.
              uint8_t *word = run + (step * 2 + tile) * 4;
              for (int i = 0; i < 4; ++i)
                word[i] = static_cast<uint8_t>(value[i] | value[4 + i] << 4);
            } else {
              // u − 128 as int8 (the symmetric value), u recovered by ^0x80.
              // A lane's 16 bytes are 16 consecutive k of one column, so
              // each column's block pair is 128 bytes in k order: the
              // K-major rows Hopper's wgmma reads B from (Wgmma.cuh).
              uint8_t *words = run + step * 8;
              for (int j = 0; j < 8; ++j)
                words[j] = static_cast<uint8_t>(value[j] ^ 0x80u);
            }
          }

  auto *zeroBiasF16 = reinterpret_cast<uint16_t *>(blob + g.zeroBiasF16);
  auto *scalesF32 = reinterpret_cast<float *>(blob + g.scalesF32);
  auto *columnSums = reinterpret_cast<int32_t *>(blob + g.columnSums);
  for (int64_t group = 0; group < g.groups; ++group)
    for (int64_t n = 0; n < N; ++n) {
      int64_t at = group * g.paddedN + n;
      int32_t zero = zero_points[group * N + n];
      // 0x6400 | u is the half 1024 + u; subtracting 1024 + z is exact.
      zeroBiasF16[at] = static_cast<uint16_t>(0x6400 | zero);
      scalesF32[at] = scales[group * N + n];
      int32_t sum = 0;
      for (int64_t k = group * group_size; k < (group + 1) * group_size; ++k)
        sum += static_cast<int32_t>(codes[k * N + n]) - zero;
      columnSums[at] = sum;
    }
  return 0;
}
