//===- RuntimeTest.cpp - the runtime C API --------------------------------===//

#include "quant/Runtime/Runtime.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <unistd.h>
#include <string>

namespace {

std::string temporaryPath(const char *suffix) {
  static int counter = 0;
  return "/tmp/quant-runtime-test-" + std::to_string(getpid()) + "-" +
         std::to_string(counter++) + suffix;
}

TEST(RuntimeTest, TensorsAreAlignedAndZeroed) {
  const int64_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {64, 1, 33}};
  for (qr_dtype dtype : {QR_I8, QR_F16, QR_F32, QR_F64}) {
    for (const auto &shape : shapes) {
      qr_tensor *t = qr_tensor_create(dtype, 3, shape);
      ASSERT_NE(t, nullptr) << qr_last_error();
      EXPECT_EQ(reinterpret_cast<uintptr_t>(qr_tensor_data(t)) %
                    QR_TENSOR_ALIGNMENT,
                0u);
      EXPECT_EQ(qr_tensor_num_elements(t), shape[0] * shape[1] * shape[2]);
      EXPECT_EQ(qr_tensor_num_bytes(t),
                size_t(qr_tensor_num_elements(t)) * qr_dtype_size(dtype));
      const auto *bytes = static_cast<const uint8_t *>(qr_tensor_data(t));
      for (size_t i = 0; i < qr_tensor_num_bytes(t); ++i)
        ASSERT_EQ(bytes[i], 0);
      qr_tensor_destroy(t);
    }
  }
  qr_tensor *scalar = qr_tensor_create(QR_F32, 0, nullptr);
  ASSERT_NE(scalar, nullptr);
  EXPECT_EQ(qr_tensor_num_elements(scalar), 1);
  qr_tensor_destroy(scalar);
}

TEST(RuntimeTest, RejectsInvalidTensors) {
  const int64_t negative[] = {2, -1};
  EXPECT_EQ(qr_tensor_create(QR_F32, 2, negative), nullptr);
  EXPECT_STREQ(qr_last_error(), "negative dimension -1");
  const int64_t huge[] = {int64_t(1) << 40, int64_t(1) << 40};
  EXPECT_EQ(qr_tensor_create(QR_F32, 2, huge), nullptr);
  EXPECT_STREQ(qr_last_error(), "tensor size overflows");
  EXPECT_EQ(qr_tensor_create(qr_dtype(42), 0, nullptr), nullptr);
  EXPECT_STREQ(qr_last_error(), "unknown dtype 42");
  EXPECT_EQ(qr_tensor_create(QR_F32, 2, nullptr), nullptr);
}

TEST(RuntimeTest, NpyRoundTripOfRandomTensors) {
  uint64_t seed = std::random_device{}();
  std::cout << "[ seed     ] " << seed << "\n";
  std::mt19937_64 rng(seed);
  const int64_t shape[] = {3, 4};
  qr_tensor *t = qr_tensor_create(QR_F32, 2, shape);
  auto *values = static_cast<float *>(qr_tensor_data(t));
  std::normal_distribution<float> normal;
  for (int i = 0; i < 12; ++i)
    values[i] = normal(rng) + 0.25f;
  std::string path = temporaryPath(".npy");
  ASSERT_EQ(qr_npy_save(path.c_str(), t), 0) << qr_last_error();
  qr_tensor *back = qr_npy_load(path.c_str());
  ASSERT_NE(back, nullptr) << qr_last_error();
  EXPECT_EQ(qr_tensor_dtype(back), QR_F32);
  ASSERT_EQ(qr_tensor_rank(back), 2);
  EXPECT_EQ(qr_tensor_shape(back)[0], 3);
  EXPECT_EQ(qr_tensor_shape(back)[1], 4);
  EXPECT_EQ(std::memcmp(qr_tensor_data(back), values, 48), 0);
  qr_tensor_destroy(back);
  qr_tensor_destroy(t);
  std::remove(path.c_str());
}

TEST(RuntimeTest, NpyLoadReportsBadFiles) {
  EXPECT_EQ(qr_npy_load("/nonexistent/dir/x.npy"), nullptr);
  EXPECT_STREQ(qr_last_error(), "cannot open '/nonexistent/dir/x.npy'");

  std::string path = temporaryPath(".npy");
  {
    std::ofstream out(path, std::ios::binary);
    out << "definitely not numpy";
  }
  EXPECT_EQ(qr_npy_load(path.c_str()), nullptr);
  EXPECT_EQ(std::string(qr_last_error()), path + ": not a .npy file (bad magic)");

  // A valid header promising more data than the file holds.
  const int64_t shape[] = {8};
  qr_tensor *t = qr_tensor_create(QR_F64, 1, shape);
  ASSERT_EQ(qr_npy_save(path.c_str(), t), 0);
  qr_tensor_destroy(t);
  {
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes.substr(0, bytes.size() - 5);
  }
  EXPECT_EQ(qr_npy_load(path.c_str()), nullptr);
  EXPECT_NE(std::string(qr_last_error()).find("truncated or oversized"),
            std::string::npos);
  std::remove(path.c_str());
}

} // namespace
