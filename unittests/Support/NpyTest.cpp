//===- NpyTest.cpp - .npy reading, writing and validation -----------------===//

#include "quant/Support/Npy.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

using namespace quant;

namespace {

std::vector<uint8_t> image(const std::string &header,
                           const std::vector<uint8_t> &data, uint8_t major = 1) {
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', major, 0};
  if (major == 1) {
    out.push_back(header.size() & 0xff);
    out.push_back(header.size() >> 8);
  } else {
    for (int i = 0; i < 4; ++i)
      out.push_back((header.size() >> (8 * i)) & 0xff);
  }
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string parseError(const std::vector<uint8_t> &bytes) {
  std::string error;
  EXPECT_FALSE(parseNpy(bytes.data(), bytes.size(), error));
  return error;
}

TEST(NpyTest, RoundTripsEveryType) {
  uint64_t seed = std::random_device{}();
  std::cout << "[ seed     ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> small(-100, 100);
  for (NpyType type : {NpyType::Bool, NpyType::I8, NpyType::I16, NpyType::I32,
                       NpyType::I64, NpyType::U8, NpyType::U16, NpyType::U32,
                       NpyType::U64, NpyType::F16, NpyType::F32, NpyType::F64}) {
    std::vector<double> values(6);
    for (double &v : values) {
      v = small(rng);
      if (type == NpyType::Bool)
        v = v > 0;
      else if (type >= NpyType::U8 && type <= NpyType::U64)
        v = std::abs(v);
      else if (type >= NpyType::F16)
        v /= 4.0; // exactly representable in every float type
    }
    NpyArray array = NpyArray::fromDoubles(type, {2, 3}, values);
    std::vector<uint8_t> bytes = serializeNpy(array);
    // Data starts 64-byte aligned, as numpy writes it.
    EXPECT_EQ((bytes.size() - array.bytes.size()) % 64, 0u);
    std::string error;
    std::optional<NpyArray> parsed = parseNpy(bytes.data(), bytes.size(), error);
    ASSERT_TRUE(parsed) << error;
    EXPECT_EQ(parsed->type, type);
    EXPECT_EQ(parsed->shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(parsed->toDoubles(), values) << npyDescriptor(type);
  }
}

TEST(NpyTest, ParsesNumpyHeadersIncludingScalarsAndVersion2) {
  std::string error;
  float value = 2.5f;
  std::vector<uint8_t> data(4);
  std::memcpy(data.data(), &value, 4);
  auto scalar =
      image("{'descr': '<f4', 'fortran_order': False, 'shape': (), }   \n", data);
  std::optional<NpyArray> parsed = parseNpy(scalar.data(), scalar.size(), error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_TRUE(parsed->shape.empty());
  EXPECT_EQ(parsed->toDoubles(), std::vector<double>{2.5});

  auto v2 = image("{'shape': (1,), 'fortran_order': False, 'descr': '<f4'}\n",
                  data, 2);
  parsed = parseNpy(v2.data(), v2.size(), error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->shape, std::vector<int64_t>{1});
}

TEST(NpyTest, RejectsMalformedFiles) {
  std::vector<uint8_t> four(4, 0);
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }\n";
  EXPECT_EQ(parseError({'P', 'K', 3, 4}), "not a .npy file (bad magic)");
  auto wrongMagic = image(good, four);
  wrongMagic[1] = 'X';
  EXPECT_EQ(parseError(wrongMagic), "not a .npy file (bad magic)");
  EXPECT_EQ(parseError(image(good, four, 9)),
            "unsupported .npy format version 9");
  auto truncatedHeader = image(good, {});
  truncatedHeader.resize(20);
  EXPECT_EQ(parseError(truncatedHeader), "truncated .npy header");
  EXPECT_NE(parseError(image(good, {1, 2})).find("truncated or oversized"),
            std::string::npos);
  EXPECT_NE(parseError(image(good, std::vector<uint8_t>(8))).find(
                "truncated or oversized"),
            std::string::npos);
  EXPECT_EQ(parseError(image("{'descr': '<c8', 'fortran_order': False, "
                             "'shape': (1,), }\n",
                             four)),
            "unsupported .npy dtype '<c8'");
  EXPECT_EQ(parseError(image("{'descr': '>f4', 'fortran_order': False, "
                             "'shape': (1,), }\n",
                             four)),
            "unsupported .npy dtype '>f4'");
  EXPECT_EQ(parseError(image("{'descr': '<f4', 'fortran_order': True, "
                             "'shape': (1,), }\n",
                             four)),
            "Fortran-ordered .npy arrays are not supported");
  EXPECT_NE(parseError(image("{'descr': '<f4', 'shape': (1,), }\n", four))
                .find("malformed .npy header"),
            std::string::npos);
  EXPECT_NE(parseError(image("{'descr': '<f4', 'fortran_order': False, "
                             "'shape': (-1,), }\n",
                             four))
                .find("malformed .npy header"),
            std::string::npos);
  EXPECT_EQ(parseError(image("{'descr': '<f4', 'fortran_order': False, "
                             "'shape': (4294967296, 4294967296, 4294967296), "
                             "}\n",
                             four)),
            ".npy shape is too large");
}

TEST(NpyTest, ReportsMissingFiles) {
  std::string error;
  EXPECT_FALSE(readNpyFile("/nonexistent/x.npy", error));
  EXPECT_EQ(error, "cannot open '/nonexistent/x.npy'");
}

} // namespace
