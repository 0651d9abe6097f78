//===- PackingTest.cpp - sub-byte packing layout --------------------------===//

#include "quant/Support/Packing.h"

#include <gtest/gtest.h>

#include <random>

using namespace quant;

namespace {

/// Independent bit-by-bit reference of the documented layout.
std::vector<uint8_t> referencePack(const std::vector<int32_t> &values,
                                   unsigned bits) {
  std::vector<uint8_t> out((values.size() * bits + 7) / 8, 0);
  for (size_t i = 0; i < values.size(); ++i)
    for (unsigned t = 0; t < bits; ++t)
      if ((static_cast<uint32_t>(values[i]) >> t) & 1u) {
        size_t bit = i * bits + t;
        out[bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
      }
  return out;
}

TEST(PackingTest, IntegerRanges) {
  EXPECT_EQ(integerMin(4, true), -8);
  EXPECT_EQ(integerMax(4, true), 7);
  EXPECT_EQ(integerMin(3, false), 0);
  EXPECT_EQ(integerMax(3, false), 7);
  EXPECT_EQ(integerMin(8, true), -128);
  EXPECT_EQ(integerMax(2, true), 1);
}

TEST(PackingTest, Int4NibbleOrder) {
  auto packed = packRow({1, -2, 7, -8}, 4, /*isSigned=*/true);
  ASSERT_TRUE(packed);
  EXPECT_EQ(*packed, (std::vector<uint8_t>{0xE1, 0x87}));
}

TEST(PackingTest, Int3FillsThreeBytesWithEightValues) {
  auto packed = packRow({0, 1, 2, 3, 4, 5, 6, 7}, 3, /*isSigned=*/false);
  ASSERT_TRUE(packed);
  EXPECT_EQ(packed->size(), 3u);
  EXPECT_EQ(*packed, referencePack({0, 1, 2, 3, 4, 5, 6, 7}, 3));
}

TEST(PackingTest, RoundTripsEveryBitWidth) {
  uint64_t seed = std::random_device{}();
  std::cout << "[ seed     ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  for (unsigned bits : {2u, 3u, 4u, 8u})
    for (bool isSigned : {true, false})
      for (int64_t count : {1, 2, 7, 8, 31, 64, 129}) {
        std::uniform_int_distribution<int32_t> dist(
            integerMin(bits, isSigned), integerMax(bits, isSigned));
        std::vector<int32_t> values(count);
        for (int32_t &v : values)
          v = dist(rng);
        auto packed = packRow(values, bits, isSigned);
        ASSERT_TRUE(packed);
        ASSERT_EQ(static_cast<int64_t>(packed->size()),
                  packedRowBytes(count, bits));
        EXPECT_EQ(*packed, referencePack(values, bits))
            << bits << " bits, count " << count;
        EXPECT_EQ(unpackRow(packed->data(), count, bits, isSigned), values)
            << bits << " bits, signed " << isSigned << ", count " << count;
      }
}

TEST(PackingTest, RejectsOutOfRangeValuesAndWidths) {
  EXPECT_FALSE(packRow({8}, 4, /*isSigned=*/true));
  EXPECT_FALSE(packRow({-9}, 4, /*isSigned=*/true));
  EXPECT_FALSE(packRow({-1}, 3, /*isSigned=*/false));
  EXPECT_FALSE(packRow({4}, 2, /*isSigned=*/false));
  EXPECT_FALSE(packRow({0}, 0, /*isSigned=*/false));
  EXPECT_FALSE(packRow({0}, 9, /*isSigned=*/true));
}

} // namespace
