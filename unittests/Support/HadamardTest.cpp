//===- HadamardTest.cpp - Hadamard matrices and fast transform ------------===//

#include "quant/Support/Hadamard.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace quant;

namespace {

const int64_t kSupportedSizes[] = {1,  2,  4,  8,   64,  12,  24,  96,
                                   20, 40, 80, 28, 56, 112, 4096, 5120};

std::mt19937_64 freshGenerator() {
  uint64_t seed = std::random_device{}();
  std::cout << "[ seed     ] " << seed << "\n";
  return std::mt19937_64(seed);
}

TEST(HadamardTest, BaseOrderOfSupportedSizes) {
  EXPECT_EQ(hadamardBaseOrder(1), 1);
  EXPECT_EQ(hadamardBaseOrder(4096), 1);
  EXPECT_EQ(hadamardBaseOrder(12), 12);
  EXPECT_EQ(hadamardBaseOrder(11008 / 43 * 43), 0); // 11008 = 43 · 256
  EXPECT_EQ(hadamardBaseOrder(5120), 20);
  EXPECT_EQ(hadamardBaseOrder(28 * 128), 28);
  EXPECT_EQ(hadamardBaseOrder(12 * 1024), 12);
}

TEST(HadamardTest, RejectsUnsupportedSizes) {
  for (int64_t n : {0, -4, 3, 6, 36, 44, 60, 100, 11008})
    EXPECT_FALSE(isSupportedHadamardSize(n)) << n;
}

TEST(HadamardTest, MatricesAreOrthogonal) {
  for (int64_t n : kSupportedSizes) {
    if (n > 256)
      continue;
    std::vector<int8_t> h = hadamardMatrix(n);
    ASSERT_EQ(static_cast<int64_t>(h.size()), n * n);
    for (int8_t v : h)
      ASSERT_TRUE(v == 1 || v == -1) << "n = " << n;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        int64_t dot = 0;
        for (int64_t k = 0; k < n; ++k)
          dot += h[i * n + k] * h[j * n + k];
        ASSERT_EQ(dot, i == j ? n : 0) << "n = " << n << " rows " << i << ","
                                       << j;
      }
  }
}

/// Independent dense reference: y_j = Σ_i x_i H_ij / sqrt(n) in float64.
std::vector<double> denseReference(const std::vector<double> &x, int64_t n) {
  std::vector<int8_t> h = hadamardMatrix(n);
  std::vector<double> y(n, 0.0);
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t i = 0; i < n; ++i)
      y[j] += x[i] * h[i * n + j];
    y[j] /= std::sqrt(static_cast<double>(n));
  }
  return y;
}

double relativeError(const std::vector<double> &ref,
                     const std::vector<double> &got) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    num += (ref[i] - got[i]) * (ref[i] - got[i]);
    den += ref[i] * ref[i];
  }
  return std::sqrt(num / den);
}

TEST(HadamardTest, FastTransformMatchesDenseReference) {
  std::mt19937_64 rng = freshGenerator();
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int64_t n : kSupportedSizes) {
    std::vector<double> x(n);
    for (double &v : x)
      v = normal(rng) + 0.5;
    std::vector<double> ref = denseReference(x, n);

    std::vector<double> y64 = x;
    fastHadamardTransform(y64.data(), n);
    EXPECT_LE(relativeError(ref, y64), 1e-12) << "n = " << n;

    std::vector<float> y32(x.begin(), x.end());
    fastHadamardTransform(y32.data(), n);
    EXPECT_LE(relativeError(ref, std::vector<double>(y32.begin(), y32.end())),
              1e-5)
        << "n = " << n;
  }
}

TEST(HadamardTest, FastTransformPreservesNorm) {
  std::mt19937_64 rng = freshGenerator();
  std::uniform_real_distribution<double> uniform(-3.0, 3.0);
  for (int64_t n : {4096, 28 * 64}) {
    std::vector<double> x(n);
    double before = 0, after = 0;
    for (double &v : x) {
      v = uniform(rng);
      before += v * v;
    }
    fastHadamardTransform(x.data(), n);
    for (double v : x)
      after += v * v;
    EXPECT_NEAR(after / before, 1.0, 1e-12) << "n = " << n;
  }
}

} // namespace
