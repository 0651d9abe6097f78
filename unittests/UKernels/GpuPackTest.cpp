//===- GpuPackTest.cpp - the GPU weight blob, decoded independently -------===//
//
// The GPU kernels only run on a GPU machine; the packer runs in the
// compiler everywhere. These tests read every code, scale, zero point and
// column sum back out of the blob by following the layout as documented in
// GpuKernels.h / GpuWeights.h (not by calling the packer's helpers), on
// fresh random weights, so a layout change that the kernels would not
// expect fails here first.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/GpuKernels.h"

#include "GpuWeights.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

namespace {

struct Case {
  int bits;
  int64_t K, N, group;
};

class GpuPackTest : public ::testing::TestWithParam<Case> {};

int64_t roundUp(int64_t x, int64_t to) { return (x + to - 1) / to * to; }

/// Fresh random weights of `c`: codes [K][N], scales and zero points
/// [K / group][N].
struct RandomWeights {
  std::vector<uint8_t> codes;
  std::vector<float> scales;
  std::vector<int32_t> zeros;

  RandomWeights(std::mt19937_64 &rng, const Case &c)
      : codes(c.K * c.N), scales(c.K / c.group * c.N),
        zeros(c.K / c.group * c.N) {
    std::uniform_int_distribution<int> code(0, (1 << c.bits) - 1);
    std::uniform_real_distribution<float> scale(1e-4f, 2.0f);
    for (auto &u : codes)
      u = uint8_t(code(rng));
    for (size_t i = 0; i < zeros.size(); ++i) {
      scales[i] = scale(rng);
      zeros[i] = code(rng);
    }
  }
};

TEST_P(GpuPackTest, EveryValueIsWhereTheKernelsReadIt) {
  const Case c = GetParam();
  const int64_t G = c.K / c.group, N16 = roundUp(c.N, 16);
  const int64_t blocks = roundUp(c.K, 64) / 64, panelBytes = c.bits * 128;
  std::mt19937_64 rng(std::random_device{}());
  const RandomWeights random(rng, c);
  const std::vector<uint8_t> &codes = random.codes;
  const std::vector<float> &scales = random.scales;
  const std::vector<int32_t> &zeros = random.zeros;
  size_t bytes = qr_gpu_packed_weights_bytes(c.bits, c.K, c.N, c.group);
  ASSERT_GT(bytes, 0u);
  std::vector<uint8_t> blob(bytes);
  ASSERT_EQ(qr_gpu_pack_weights(c.bits, c.K, c.N, c.group, codes.data(),
                                scales.data(), zeros.data(), blob.data()),
            0);

  // Codes: lane (g, t) of the warp reading panel p, block b holds, for k32
  // step s and n8 tile τ, column 16p + 8τ + g and k = 64b + 16t + 8s + j.
  // 4-bit: 512 bytes a (panel, block), lane-major; 8-bit: by block pairs,
  // each column's 128 k of a pair contiguous in k order (the K-major rows
  // TMA hands to wgmma), an odd block count padded by a block.
  const int64_t storedBlocks = c.bits == 8 ? roundUp(blocks, 2) : blocks;
  for (int64_t k = 0; k < storedBlocks * 64; ++k)
    for (int64_t n = 0; n < c.N; ++n) {
      int64_t p = n / 16, tile = (n % 16) / 8, g = n % 8;
      int64_t b = k / 64, r = k % 64;
      int64_t t = r / 16, s = (r % 16) / 8, j = r % 8;
      int64_t lane = 4 * g + t;
      uint32_t stored;
      if (c.bits == 4) {
        const uint8_t *base = blob.data() + (p * blocks + b) * panelBytes;
        uint8_t byte = base[lane * 16 + (s * 2 + tile) * 4 + j % 4];
        stored = j < 4 ? byte & 15 : byte >> 4;
      } else {
        const uint8_t *column =
            blob.data() + ((p * storedBlocks / 2 + b / 2) * 2 + tile) * 1024 +
            g * 128;
        stored = column[k % 128] ^ 0x80u;
      }
      // Padding k holds the last group's zero point: (u − z) = 0.
      uint32_t want = k < c.K ? codes[k * c.N + n] : zeros[(G - 1) * c.N + n];
      ASSERT_EQ(stored, want) << "k " << k << " n " << n;
    }

  // Per-group regions, each 256-byte aligned after the codes.
  int64_t offset = roundUp(N16 / 16 * storedBlocks * panelBytes, 256);
  auto region = [&](int64_t elementBytes) {
    int64_t at = offset;
    offset = roundUp(offset + elementBytes * G * N16, 256);
    return blob.data() + at;
  };
  const uint8_t *zeroBias = region(2), *scalesF32 = region(4),
                *sums = region(4);
  EXPECT_EQ(int64_t(bytes), offset);
  for (int64_t grp = 0; grp < G; ++grp)
    for (int64_t n = 0; n < c.N; ++n) {
      int64_t at = grp * N16 + n, src = grp * c.N + n;
      _Float16 bias = _Float16(1024.0f + zeros[src]);
      EXPECT_EQ(std::memcmp(zeroBias + 2 * at, &bias, 2), 0);
      EXPECT_EQ(std::memcmp(scalesF32 + 4 * at, &scales[src], 4), 0);
      int32_t sum = 0, stored;
      for (int64_t k = grp * c.group; k < (grp + 1) * c.group; ++k)
        sum += codes[k * c.N + n] - zeros[src];
      std::memcpy(&stored, sums + 4 * at, 4);
      EXPECT_EQ(stored, sum);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GpuPackTest,
    ::testing::Values(Case{4, 128, 16, 128}, Case{4, 320, 333, 64},
                      Case{4, 1024, 40, 128}, Case{4, 96, 7, 96},
                      Case{8, 128, 16, 128}, Case{8, 320, 333, 64},
                      Case{8, 200, 130, 200}, Case{8, 1024, 24, 256}));

// W4A8 prefill widens a 4-bit blob into the 8-bit layout (widenCodeRun):
// every code, read back at its 8-bit place as above, is its symmetric value
// u − 8, padding k included; the per-group operands are copied as they are,
// the 8-bit blob's own.
TEST(GpuPackTest, WidenedCodesAreTheSymmetricValuesInTheEightBitLayout) {
  std::mt19937_64 rng(std::random_device{}());
  for (Case c : {Case{4, 320, 333, 320}, Case{4, 64, 40, 64},
                 Case{4, 1024, 24, 1024}, Case{4, 384, 17, 128}}) {
    SCOPED_TRACE("K " + std::to_string(c.K) + " N " + std::to_string(c.N) +
                 " group " + std::to_string(c.group));
    const int64_t G = c.K / c.group;
    const RandomWeights random(rng, c);
    const std::vector<uint8_t> &codes = random.codes;
    const std::vector<float> &scales = random.scales;
    const std::vector<int32_t> &zeros = random.zeros;
    qr::gpu::WeightGeometry narrow, wide;
    ASSERT_TRUE(qr::gpu::makeWeightGeometry(4, c.K, c.N, c.group, &narrow));
    ASSERT_TRUE(qr::gpu::makeWeightGeometry(8, c.K, c.N, c.group, &wide));
    std::vector<uint8_t> from(narrow.totalBytes), to(wide.totalBytes, 0xee);
    ASSERT_EQ(qr_gpu_pack_weights(4, c.K, c.N, c.group, codes.data(),
                                  scales.data(), zeros.data(), from.data()),
              0);
    for (int64_t run = 0; run < wide.codeBytes() / 8; ++run)
      qr::gpu::widenCodeRun(from.data(), to.data(), narrow, wide, run);
    const int64_t storedBlocks = wide.storedBlocks();
    for (int64_t k = 0; k < storedBlocks * 64; ++k)
      for (int64_t n = 0; n < c.N; ++n) {
        int64_t p = n / 16, tile = (n % 16) / 8, g = n % 8;
        const uint8_t *column =
            to.data() + ((p * storedBlocks / 2 + k / 128) * 2 + tile) * 1024 +
            g * 128;
        int32_t want = k < c.K ? codes[k * c.N + n] : zeros[(G - 1) * c.N + n];
        ASSERT_EQ(int8_t(column[k % 128]), want - 8) << "k " << k << " n " << n;
      }
    // The 8-bit blob of the same weights has the same operand bytes, which
    // the widening kernel copies.
    std::vector<uint8_t> packed8(wide.totalBytes);
    ASSERT_EQ(qr_gpu_pack_weights(8, c.K, c.N, c.group, codes.data(),
                                  scales.data(), zeros.data(), packed8.data()),
              0);
    EXPECT_EQ(std::memcmp(packed8.data() + wide.zeroBiasF16,
                          from.data() + narrow.zeroBiasF16,
                          narrow.operandBytes()),
              0);
  }
}

// Weight-only prefill on Hopper reads the codes as f16 u − z at [n][k]
// (codeRunValues): every stored run, placed and valued that way, gives
// each (k, n) of the weights once with its group's zero point taken off,
// and the padding k and columns 0.
TEST(GpuPackTest, CodeRunsGiveEveryWeightsDifferenceFromItsZeroPoint) {
  std::mt19937_64 rng(std::random_device{}());
  for (Case c :
       {Case{4, 320, 333, 64}, Case{4, 96, 7, 96}, Case{8, 200, 130, 200},
        Case{8, 384, 40, 128}, Case{4, 1024, 24, 1024}}) {
    SCOPED_TRACE("bits " + std::to_string(c.bits) + " K " +
                 std::to_string(c.K) + " N " + std::to_string(c.N) + " group " +
                 std::to_string(c.group));
    const RandomWeights random(rng, c);
    const std::vector<uint8_t> &codes = random.codes;
    const std::vector<int32_t> &zeros = random.zeros;
    qr::gpu::WeightGeometry w;
    ASSERT_TRUE(qr::gpu::makeWeightGeometry(c.bits, c.K, c.N, c.group, &w));
    std::vector<uint8_t> blob(w.totalBytes);
    ASSERT_EQ(qr_gpu_pack_weights(c.bits, c.K, c.N, c.group, codes.data(),
                                  random.scales.data(), zeros.data(),
                                  blob.data()),
              0);
    const int64_t paddedK = roundUp(c.K, 64), paddedN = roundUp(c.N, 16);
    EXPECT_EQ(w.paddedK(), paddedK);
    std::vector<int> seen(paddedN * paddedK, 0);
    for (int64_t run = 0; run < w.codeBytes() / c.bits; ++run) {
      int64_t n, k;
      int32_t values[8];
      qr::gpu::codeRunValues(blob.data(), w, run, n, k, values);
      ASSERT_TRUE(n >= 0 && n < paddedN && k >= 0 && k % 8 == 0) << run;
      if (k >= paddedK) { // the 8-bit blob's block completing a pair
        ASSERT_EQ(c.bits, 8);
        continue;
      }
      for (int j = 0; j < 8; ++j) {
        ++seen[n * paddedK + k + j];
        int32_t want = 0;
        if (n < c.N && k + j < c.K)
          want = codes[(k + j) * c.N + n] - zeros[(k + j) / c.group * c.N + n];
        ASSERT_EQ(values[j], want) << "k " << k + j << " n " << n;
      }
    }
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), int64_t(seen.size()));
  }
}

TEST(GpuPackTest, RejectsWhatTheKernelsCannotTake) {
  std::vector<uint8_t> codes(128 * 16, 1), blob(1 << 16);
  std::vector<float> scales(4 * 16, 1.0f);
  std::vector<int32_t> zeros(4 * 16, 0);
  EXPECT_EQ(qr_gpu_packed_weights_bytes(3, 128, 16, 128), 0u);
  EXPECT_EQ(qr_gpu_packed_weights_bytes(4, 128, 16, 32), 0u); // group < 64
  EXPECT_EQ(qr_gpu_packed_weights_bytes(4, 128, 16, 96), 0u); // not dividing
  EXPECT_EQ(qr_gpu_packed_weights_bytes(4, 0, 16, 1), 0u);
  EXPECT_EQ(qr_gpu_pack_weights(4, 128, 16, 64, codes.data(), scales.data(),
                                zeros.data(), nullptr),
            -1);
  codes[5] = 16; // not a 4-bit code
  EXPECT_EQ(qr_gpu_pack_weights(4, 128, 16, 128, codes.data(), scales.data(),
                                zeros.data(), blob.data()),
            -1);
  codes[5] = 1;
  zeros[3] = 16;
  EXPECT_EQ(qr_gpu_pack_weights(4, 128, 16, 128, codes.data(), scales.data(),
                                zeros.data(), blob.data()),
            -1);
}

} // namespace
