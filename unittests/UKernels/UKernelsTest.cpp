//===- UKernelsTest.cpp - the CPU micro-kernels against references --------===//
//
// Every kernel of both variants (AVX-512 and portable C, linked side by side)
// against references written here: exact int64 sums for the integer matmul,
// float64 for the float paths, a dense float64 product for the Hadamard
// transform and a double-precision transcription of the evaluator's
// semantics for per-token quantization. Inputs are drawn fresh every run
// from a printed seed; every kernel runs with 1 and 2 threads.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/Runtime.h"
#include "quant/Runtime/UKernels.h"
#include "quant/Support/Hadamard.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

// The portable variant's kernels, renamed at build time.
extern "C" {
#define DECLARE_GENERIC(name) decltype(qr_uk_##name) qr_uk_generic_##name;
DECLARE_GENERIC(matmul_s8)
DECLARE_GENERIC(matmul_f32)
DECLARE_GENERIC(gemm_f32)
DECLARE_GENERIC(hadamard_f32)
DECLARE_GENERIC(quantize_per_token_f32)
#undef DECLARE_GENERIC
}

namespace {

struct Variant {
  const char *name;
  int (*supported)();
  decltype(&qr_uk_matmul_s8) matmul_s8;
  decltype(&qr_uk_matmul_f32) matmul_f32;
  decltype(&qr_uk_gemm_f32) gemm_f32;
  decltype(&qr_uk_hadamard_f32) hadamard_f32;
  decltype(&qr_uk_quantize_per_token_f32) quantize_per_token_f32;
};

int always() { return 1; }

const Variant kVariants[] = {
    {"avx512", qr_uk_cpu_supports_avx512_vnni, qr_uk_matmul_s8,
     qr_uk_matmul_f32, qr_uk_gemm_f32, qr_uk_hadamard_f32,
     qr_uk_quantize_per_token_f32},
    {"generic", always, qr_uk_generic_matmul_s8, qr_uk_generic_matmul_f32,
     qr_uk_generic_gemm_f32, qr_uk_generic_hadamard_f32,
     qr_uk_generic_quantize_per_token_f32},
};

std::mt19937_64 freshGenerator() {
  uint64_t seed = std::random_device{}();
  std::cout << "[ seed     ] " << seed << "\n";
  return std::mt19937_64(seed);
}

int64_t uniformInt(std::mt19937_64 &rng, int64_t lo, int64_t hi) {
  return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
}
float uniformFloat(std::mt19937_64 &rng, float lo, float hi) {
  return std::uniform_real_distribution<float>(lo, hi)(rng);
}

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};
using AlignedBlob = std::unique_ptr<uint8_t[], FreeDeleter>;

AlignedBlob allocateBlob(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  return AlignedBlob(static_cast<uint8_t *>(std::aligned_alloc(64, rounded)));
}

/// A weight matrix in the unpacked form of the UKernels.h contract.
struct Weights {
  int32_t bits;
  int64_t K, N, groupSize;
  std::vector<uint8_t> codes;     // [K][N]
  std::vector<float> scales;      // [G][N]
  std::vector<int32_t> zeroPoints; // [G][N]
  AlignedBlob packed;

  int64_t groups() const { return K / groupSize; }
  int32_t code(int64_t k, int64_t n) const { return codes[k * N + n]; }
  int32_t zeroPoint(int64_t k, int64_t n) const {
    return zeroPoints[k / groupSize * N + n];
  }
  float scale(int64_t k, int64_t n) const {
    return scales[k / groupSize * N + n];
  }
};

Weights randomWeights(std::mt19937_64 &rng, int32_t bits, int64_t K,
                      int64_t N, int64_t groupSize, bool symmetric,
                      bool unitScales = false) {
  Weights w{bits, K, N, groupSize, {}, {}, {}, nullptr};
  int32_t maxCode = (1 << bits) - 1;
  w.codes.resize(K * N);
  for (uint8_t &c : w.codes)
    c = static_cast<uint8_t>(uniformInt(rng, 0, maxCode));
  w.scales.resize(w.groups() * N);
  w.zeroPoints.resize(w.groups() * N);
  for (int64_t i = 0; i < w.groups() * N; ++i) {
    w.scales[i] = unitScales ? 1.0f
                             : uniformFloat(rng, 0.5f, 2.0f) *
                                   (uniformInt(rng, 0, 1) ? 1.0f : -1.0f) *
                                   std::ldexp(1.0f, int(uniformInt(rng, -8, 2)));
    w.zeroPoints[i] = symmetric ? 1 << (bits - 1)
                                : int32_t(uniformInt(rng, 0, maxCode));
  }
  size_t bytes = qr_uk_packed_weights_bytes(bits, K, N, groupSize);
  EXPECT_GT(bytes, 0u);
  w.packed = allocateBlob(bytes);
  EXPECT_EQ(qr_uk_pack_weights(bits, K, N, groupSize, w.codes.data(),
                               w.scales.data(), w.zeroPoints.data(),
                               w.packed.get()),
            0);
  return w;
}

/// Tracks the worst error relative to the magnitude of the summed terms.
struct ErrorStats {
  double worst = 0;
  int64_t checked = 0;
  void add(double got, double expected, double magnitude) {
    double error = std::fabs(got - expected) / std::max(magnitude, 1e-30);
    worst = std::max(worst, error);
    ++checked;
  }
};

class UKernelsTest
    : public ::testing::TestWithParam<std::tuple<int, int32_t>> {
protected:
  void SetUp() override {
    if (!variant().supported())
      GTEST_SKIP() << "this CPU lacks AVX-512 VNNI";
    ASSERT_EQ(qr_set_num_threads(std::get<1>(GetParam())), 0);
  }
  void TearDown() override { qr_set_num_threads(1); }
  const Variant &variant() const { return kVariants[std::get<0>(GetParam())]; }
};

//===----------------------------------------------------------------------===//
// Integer matmul
//===----------------------------------------------------------------------===//

struct S8Case {
  int32_t bits;
  bool symmetric;
  int64_t K, groupSize;
  int32_t aZeroPoint;
  int64_t M, N;
  bool perToken;
};

std::string describe(const S8Case &c) {
  return "bits=" + std::to_string(c.bits) +
         (c.symmetric ? " symmetric" : " asymmetric") +
         " K=" + std::to_string(c.K) + " group=" + std::to_string(c.groupSize) +
         " za=" + std::to_string(c.aZeroPoint) + " M=" + std::to_string(c.M) +
         " N=" + std::to_string(c.N) + (c.perToken ? " per-token" : "");
}

/// Runs one integer matmul and checks it against exact int64 group sums;
/// with `exact`, scales are 1 and the output must equal the integer sum.
void checkMatmulS8(const Variant &v, std::mt19937_64 &rng, const S8Case &c,
                   ErrorStats &stats, bool exact = false) {
  SCOPED_TRACE(describe(c));
  Weights w = randomWeights(rng, c.bits, c.K, c.N, c.groupSize, c.symmetric,
                            exact);
  const int64_t lda = c.K + 3, ldc = c.N + 5;
  std::vector<int8_t> A(c.M * lda);
  for (int8_t &a : A)
    a = static_cast<int8_t>(uniformInt(rng, -128, 127));
  std::vector<float> aScales(c.M);
  for (float &s : aScales)
    s = exact ? 1.0f : uniformFloat(rng, 0.01f, 1.0f);
  float aScale = exact ? 1.0f : uniformFloat(rng, 0.01f, 1.0f);
  const float sentinel = -12345.0f;
  std::vector<float> C(c.M * ldc, sentinel);
  v.matmul_s8(c.M, c.N, c.K, A.data(), lda,
              c.perToken ? aScales.data() : nullptr, aScale, c.aZeroPoint,
              w.packed.get(), C.data(), ldc);

  for (int64_t m = 0; m < c.M; ++m) {
    double rowScale = c.perToken ? aScales[m] : aScale;
    for (int64_t n = 0; n < c.N; ++n) {
      double expected = 0, magnitude = 0;
      int64_t integerTotal = 0;
      for (int64_t g = 0; g < w.groups(); ++g) {
        int64_t sum = 0;
        for (int64_t k = g * c.groupSize; k < (g + 1) * c.groupSize; ++k)
          sum += int64_t(A[m * lda + k] - c.aZeroPoint) *
                 (w.code(k, n) - w.zeroPoint(k, n));
        double term = rowScale * double(w.scales[g * c.N + n]) * double(sum);
        expected += term;
        magnitude += std::fabs(term);
        integerTotal += sum;
      }
      float got = C[m * ldc + n];
      if (exact) {
        ASSERT_EQ(got, float(integerTotal)) << "m=" << m << " n=" << n;
      }
      stats.add(got, expected, magnitude);
      ASSERT_LE(std::fabs(got - expected), 1e-6 * magnitude + 1e-30)
          << "m=" << m << " n=" << n << " got " << got << " expected "
          << expected;
    }
    for (int64_t n = c.N; n < ldc; ++n)
      ASSERT_EQ(C[m * ldc + n], sentinel) << "wrote past N";
  }
}

/// (K, group) of the weight matrices the matmul tests pack: per-channel
/// with K not a multiple of 16, group sizes 32, 64, 128, a group size that
/// is not a multiple of 16 either, and an odd K (the vector loops' scalar
/// tails).
const std::pair<int64_t, int64_t> kWeightShapes[] = {
    {200, 200}, {256, 32}, {256, 64}, {256, 128}, {200, 40}, {205, 41}};

TEST_P(UKernelsTest, MatmulS8MatchesExactIntegerReference) {
  std::mt19937_64 rng = freshGenerator();
  ErrorStats stats;
  int64_t cases = 0;
  for (int32_t bits : {2, 3, 4, 8})
    for (bool symmetric : {true, false})
      for (auto [K, group] : kWeightShapes)
        for (int32_t za : {0, 1})
          for (int64_t M : {1, 3, 16, 67}) {
            int32_t aZeroPoint = za ? int32_t(uniformInt(rng, -128, 127)) : 0;
            checkMatmulS8(variant(), rng,
                          {bits, symmetric, K, group, aZeroPoint, M, 37,
                           cases % 2 == 0},
                          stats);
            ++cases;
            if (HasFatalFailure())
              return;
          }
  std::cout << "[ stats    ] " << cases << " cases, " << stats.checked
            << " outputs, max error / Σ|terms| = " << stats.worst << "\n";
}

TEST_P(UKernelsTest, MatmulS8IntegerSumsAreExact) {
  std::mt19937_64 rng = freshGenerator();
  ErrorStats stats;
  // Unit scales: the output is the integer sum itself (|sum| < 2^24).
  for (int32_t bits : {2, 3, 4, 8})
    for (int64_t M : {1, 5, 9})
      checkMatmulS8(variant(), rng,
                    {bits, false, 256, 64, int32_t(uniformInt(rng, -128, 127)),
                     M, 53, false},
                    stats, /*exact=*/true);
}

TEST_P(UKernelsTest, MatmulS8LargeShapesAndHugeGroups) {
  std::mt19937_64 rng = freshGenerator();
  ErrorStats stats;
  // Several tasks in both dimensions.
  checkMatmulS8(variant(), rng, {4, true, 512, 128, 0, 130, 300, true}, stats);
  checkMatmulS8(variant(), rng, {8, false, 384, 384, -7, 70, 161, false},
                stats);
  // More than one row tile: K is cut into chunks, inside blocks too.
  checkMatmulS8(variant(), rng, {8, false, 1200, 1200, 5, 20, 40, true},
                stats);
  checkMatmulS8(variant(), rng, {3, false, 3000, 1000, 0, 9, 17, false},
                stats);
  checkMatmulS8(variant(), rng, {2, true, 4096, 256, -3, 12, 33, true}, stats);
  // A per-channel group longer than one int32 accumulation block.
  checkMatmulS8(variant(), rng, {8, false, 33000, 33000, 100, 2, 21, true},
                stats);
}

TEST(UKernelsPackTest, RejectsInvalidArguments) {
  const int64_t K = 64, N = 8, G = 2;
  std::vector<uint8_t> codes(K * N, 1);
  std::vector<float> scales(G * N, 1.0f);
  std::vector<int32_t> zeroPoints(G * N, 2);
  size_t bytes = qr_uk_packed_weights_bytes(4, K, N, K / G);
  ASSERT_GT(bytes, 0u);
  AlignedBlob blob = allocateBlob(bytes);

  for (int32_t bits : {0, 1, 5, 6, 7, 9, 16}) {
    EXPECT_EQ(qr_uk_packed_weights_bytes(bits, K, N, 32), 0u) << bits;
    EXPECT_EQ(qr_uk_pack_weights(bits, K, N, 32, codes.data(), scales.data(),
                                 zeroPoints.data(), blob.get()),
              -1)
        << bits;
  }
  EXPECT_EQ(qr_uk_packed_weights_bytes(4, 0, N, 1), 0u);
  EXPECT_EQ(qr_uk_packed_weights_bytes(4, K, 0, 32), 0u);
  EXPECT_EQ(qr_uk_packed_weights_bytes(4, K, N, 0), 0u);
  EXPECT_EQ(qr_uk_packed_weights_bytes(4, K, N, 48), 0u) << "48 ∤ 64";
  EXPECT_EQ(qr_uk_packed_weights_bytes(4, K, N, 128), 0u);
  EXPECT_EQ(qr_uk_pack_weights(4, K, N, 48, codes.data(), scales.data(),
                               zeroPoints.data(), blob.get()),
            -1);
  EXPECT_EQ(qr_uk_pack_weights(4, K, N, 32, nullptr, scales.data(),
                               zeroPoints.data(), blob.get()),
            -1);
  EXPECT_EQ(qr_uk_pack_weights(4, K, N, 32, codes.data(), scales.data(),
                               zeroPoints.data(), nullptr),
            -1);

  // Codes and zero points must fit in `bits`.
  EXPECT_EQ(qr_uk_pack_weights(4, K, N, 32, codes.data(), scales.data(),
                               zeroPoints.data(), blob.get()),
            0);
  codes[K * N - 1] = 16;
  EXPECT_EQ(qr_uk_pack_weights(4, K, N, 32, codes.data(), scales.data(),
                               zeroPoints.data(), blob.get()),
            -1);
  codes[K * N - 1] = 15;
  zeroPoints[G * N - 1] = 16;
  EXPECT_EQ(qr_uk_pack_weights(4, K, N, 32, codes.data(), scales.data(),
                               zeroPoints.data(), blob.get()),
            -1);
  zeroPoints[G * N - 1] = -1;
  EXPECT_EQ(qr_uk_pack_weights(4, K, N, 32, codes.data(), scales.data(),
                               zeroPoints.data(), blob.get()),
            -1);
  zeroPoints[G * N - 1] = 0;
  codes[K * N - 1] = 1;
  codes[0] = 4;
  EXPECT_EQ(qr_uk_pack_weights(2, K, N, 32, codes.data(), scales.data(),
                               zeroPoints.data(), blob.get()),
            -1);
  codes[0] = 7;
  EXPECT_EQ(qr_uk_pack_weights(3, K, N, 32, codes.data(), scales.data(),
                               zeroPoints.data(), blob.get()),
            0);
}

TEST(UKernelsPackTest, SubByteCodesTakeTheirBitWidth) {
  const int64_t K = 4096, N = 4096;
  size_t codes8 = qr_uk_packed_weights_bytes(8, K, N, 128);
  for (int32_t bits : {2, 3, 4}) {
    size_t bytes = qr_uk_packed_weights_bytes(bits, K, N, 128);
    size_t codeBytes = size_t(K * N * bits / 8);
    size_t parameterBytes = codes8 - size_t(K * N);
    EXPECT_EQ(bytes, codeBytes + parameterBytes) << bits;
  }
}

//===----------------------------------------------------------------------===//
// Weight-only float matmul
//===----------------------------------------------------------------------===//

TEST_P(UKernelsTest, MatmulF32MatchesFloat64Reference) {
  std::mt19937_64 rng = freshGenerator();
  ErrorStats stats;
  int64_t cases = 0;
  for (int32_t bits : {2, 3, 4, 8})
    for (bool symmetric : {true, false})
      for (auto [K, group] : kWeightShapes)
        // 64 and 67: either side of the AVX-512 variant's limb limit.
        for (int64_t M : {1, 3, 16, 64, 67}) {
          const int64_t N = 37, lda = K + 2, ldc = N + 3;
          SCOPED_TRACE("bits=" + std::to_string(bits) + " K=" +
                       std::to_string(K) + " group=" + std::to_string(group) +
                       " M=" + std::to_string(M));
          Weights w = randomWeights(rng, bits, K, N, group, symmetric);
          std::vector<float> A(M * lda);
          for (float &a : A)
            a = uniformFloat(rng, -2.0f, 2.0f);
          // LLM-style massive activations: every other row has one value
          // a thousand times the rest (the limbs' scale follows max|a|, and
          // such rows take four limbs), and every fourth one a value 60
          // times their mean |a| of 1: the largest spread that takes three.
          for (int64_t m = 1; m < M; m += 2)
            A[m * lda + int64_t(rng() % uint64_t(K))] *= 1000.0f;
          for (int64_t m = 2; m < M; m += 4)
            A[m * lda + int64_t(rng() % uint64_t(K))] = 60.0f;
          std::vector<float> C(M * ldc, -1.0f);
          variant().matmul_f32(M, N, K, A.data(), lda, w.packed.get(),
                               C.data(), ldc);
          for (int64_t m = 0; m < M; ++m)
            for (int64_t n = 0; n < N; ++n) {
              double expected = 0, magnitude = 0;
              for (int64_t k = 0; k < K; ++k) {
                double term = double(A[m * lda + k]) *
                              (w.code(k, n) - w.zeroPoint(k, n)) *
                              double(w.scale(k, n));
                expected += term;
                magnitude += std::fabs(term);
              }
              stats.add(C[m * ldc + n], expected, magnitude);
              ASSERT_LE(std::fabs(C[m * ldc + n] - expected),
                        1e-5 * magnitude + 1e-30)
                  << "m=" << m << " n=" << n;
            }
          ++cases;
        }
  std::cout << "[ stats    ] " << cases << " cases, " << stats.checked
            << " outputs, max error / Σ|terms| = " << stats.worst << "\n";
}

TEST_P(UKernelsTest, MatmulF32RowsWithInfOrNaNStayApart) {
  std::mt19937_64 rng = freshGenerator();
  const int64_t K = 256, N = 40, M = 3;
  Weights w = randomWeights(rng, 4, K, N, 128, false);
  std::vector<float> A(M * K);
  for (float &a : A)
    a = uniformFloat(rng, -2.0f, 2.0f);
  std::vector<float> finite(N);
  variant().matmul_f32(1, N, K, A.data() + K, K, w.packed.get(), finite.data(),
                       N);
  A[5] = std::numeric_limits<float>::infinity();
  A[2 * K + 7] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> C(M * N);
  variant().matmul_f32(M, N, K, A.data(), K, w.packed.get(), C.data(), N);
  for (int64_t n = 0; n < N; ++n) {
    EXPECT_FALSE(std::isfinite(C[n])) << n;
    EXPECT_NEAR(C[N + n], finite[n], 1e-5 * (std::fabs(finite[n]) + 1.0f)) << n;
    EXPECT_TRUE(std::isnan(C[2 * N + n])) << n;
  }
}

//===----------------------------------------------------------------------===//
// Float GEMM
//===----------------------------------------------------------------------===//

TEST_P(UKernelsTest, GemmF32MatchesFloat64Reference) {
  std::mt19937_64 rng = freshGenerator();
  struct Shape {
    int64_t batch, M, N, K;
  };
  const Shape shapes[] = {{1, 1, 1, 1},     {3, 5, 37, 19},
                          {2, 67, 100, 300}, {1, 1, 600, 513},
                          {2, 29, 33, 17},   {1, 130, 530, 260}};
  ErrorStats stats;
  int64_t cases = 0;
  for (const Shape &s : shapes)
    for (int32_t transpose : {0, 1}) {
      SCOPED_TRACE("batch=" + std::to_string(s.batch) + " M=" +
                   std::to_string(s.M) + " N=" + std::to_string(s.N) + " K=" +
                   std::to_string(s.K) + " transpose=" +
                   std::to_string(transpose));
      // Leading dimensions and batch strides larger than needed.
      const int64_t lda = s.K + 3, ldc = s.N + 2;
      const int64_t ldb = transpose ? s.K + 5 : s.N + 7;
      const int64_t strideA = s.M * lda + 11, strideC = s.M * ldc + 13;
      const int64_t strideB = (transpose ? s.N : s.K) * ldb + 17;
      std::vector<float> A(s.batch * strideA), B(s.batch * strideB);
      for (float &a : A)
        a = uniformFloat(rng, -1.0f, 1.0f);
      for (float &b : B)
        b = uniformFloat(rng, -1.0f, 1.0f);
      const float sentinel = 777.0f;
      std::vector<float> C(s.batch * strideC, sentinel);
      variant().gemm_f32(s.batch, s.M, s.N, s.K, A.data(), lda, strideA,
                         B.data(), ldb, strideB, transpose, C.data(), ldc,
                         strideC);
      for (int64_t b = 0; b < s.batch; ++b)
        for (int64_t m = 0; m < s.M; ++m) {
          for (int64_t n = 0; n < s.N; ++n) {
            double expected = 0, magnitude = 0;
            for (int64_t k = 0; k < s.K; ++k) {
              double bkn = transpose ? B[b * strideB + n * ldb + k]
                                     : B[b * strideB + k * ldb + n];
              double term = double(A[b * strideA + m * lda + k]) * bkn;
              expected += term;
              magnitude += std::fabs(term);
            }
            float got = C[b * strideC + m * ldc + n];
            stats.add(got, expected, magnitude);
            ASSERT_LE(std::fabs(got - expected), 1e-5 * magnitude + 1e-30)
                << "b=" << b << " m=" << m << " n=" << n;
          }
          for (int64_t n = s.N; n < ldc; ++n)
            ASSERT_EQ(C[b * strideC + m * ldc + n], sentinel);
        }
      ++cases;
    }
  std::cout << "[ stats    ] " << cases << " cases, " << stats.checked
            << " outputs, max error / Σ|terms| = " << stats.worst << "\n";
}

//===----------------------------------------------------------------------===//
// Hadamard transform
//===----------------------------------------------------------------------===//

TEST_P(UKernelsTest, HadamardMatchesDenseFloat64Product) {
  std::mt19937_64 rng = freshGenerator();
  ErrorStats stats;
  int64_t cases = 0;
  for (int64_t n : {1, 2, 8, 12, 16, 20, 32, 64, 128, 256, 28 * 4, 20 * 8,
                    12 * 64, 4096, 28 * 512, 16384, 65536})
    for (bool withSigns : {false, true}) {
      SCOPED_TRACE("n=" + std::to_string(n) +
                   (withSigns ? " signs" : " no signs"));
      int64_t b = quant::hadamardBaseOrder(n);
      ASSERT_NE(b, 0);
      std::vector<int8_t> base =
          b > 1 ? quant::hadamardMatrix(b) : std::vector<int8_t>();
      std::vector<int8_t> signs(n);
      for (int8_t &s : signs)
        s = uniformInt(rng, 0, 1) ? 1 : -1;
      const int64_t rows = n >= 16384 ? 2 : 3, ld = n + 5;
      std::vector<float> X(rows * ld);
      for (float &x : X)
        x = uniformFloat(rng, -1.0f, 1.0f);
      std::vector<float> Y = X;
      variant().hadamard_f32(Y.data(), rows, n, ld,
                             withSigns ? signs.data() : nullptr,
                             b > 1 ? base.data() : nullptr, b);

      // Dense float64 reference, skipped for the largest sizes (n² work)
      // where the bitwise comparison below stands in for it.
      std::vector<int8_t> H;
      if (n <= 4096)
        H = quant::hadamardMatrix(n);
      for (int64_t r = 0; r < rows; ++r) {
        std::vector<double> x(n);
        for (int64_t i = 0; i < n; ++i)
          x[i] = double(X[r * ld + i]) * (withSigns ? signs[i] : 1);
        // The same transform in quant::fastHadamardTransform's order: the
        // kernels do the same float operations, so the floats are equal.
        std::vector<float> fast(n);
        for (int64_t i = 0; i < n; ++i)
          fast[i] = float(x[i]);
        quant::fastHadamardTransform(fast.data(), n);
        for (int64_t j = 0; j < n; ++j)
          ASSERT_EQ(Y[r * ld + j], fast[j]) << "row " << r << " j=" << j;
        if (H.empty())
          continue;
        for (int64_t j = 0; j < n; ++j) {
          double expected = 0, magnitude = 0;
          for (int64_t i = 0; i < n; ++i) {
            expected += x[i] * H[i * n + j];
            magnitude += std::fabs(x[i]);
          }
          expected /= std::sqrt(double(n));
          magnitude /= std::sqrt(double(n));
          stats.add(Y[r * ld + j], expected, magnitude);
          ASSERT_LE(std::fabs(Y[r * ld + j] - expected), 1e-5 * magnitude)
              << "row " << r << " j=" << j;
        }
        for (int64_t j = n; j < ld && r + 1 < rows; ++j)
          ASSERT_EQ(Y[r * ld + j], X[r * ld + j]) << "wrote past n";
      }
      ++cases;
    }
  std::cout << "[ stats    ] " << cases << " cases, " << stats.checked
            << " outputs, max error / Σ|terms| = " << stats.worst << "\n";
}

//===----------------------------------------------------------------------===//
// Per-token quantization
//===----------------------------------------------------------------------===//

/// The evaluator's semantics (lib/Evaluator/QuantOps.cpp), in double.
void quantizeReference(const float *x, int64_t K, int32_t bits, int8_t *q,
                       float *scale) {
  double qmax = std::ldexp(1.0, bits - 1) - 1.0, qmin = -qmax - 1.0;
  double absmax = 0.0;
  for (int64_t k = 0; k < K; ++k)
    absmax = std::max(absmax, std::fabs(double(x[k])));
  *scale = float(absmax / qmax);
  for (int64_t k = 0; k < K; ++k) {
    double v = *scale == 0.0f ? 0.0 : std::nearbyint(double(x[k]) / *scale);
    q[k] = std::isnan(v) ? 0 : int8_t(std::clamp(v, qmin, qmax));
  }
}

TEST_P(UKernelsTest, QuantizePerTokenIsBitExact) {
  std::mt19937_64 rng = freshGenerator();
  int64_t rowsChecked = 0;
  for (int32_t bits = 2; bits <= 8; ++bits)
    for (int64_t K : {1, 7, 37, 100, 4099}) {
      SCOPED_TRACE("bits=" + std::to_string(bits) + " K=" + std::to_string(K));
      const int64_t M = 9, ldx = K + 3, ldq = K + 1;
      const int32_t qmax = (1 << (bits - 1)) - 1;
      std::vector<float> X(M * ldx);
      for (float &x : X)
        x = uniformFloat(rng, -3.0f, 3.0f) *
            std::ldexp(1.0f, int(uniformInt(rng, -10, 10)));
      // Row 0 all zeros, row 1 with NaNs, row 2 with an infinity.
      std::fill(X.begin(), X.begin() + K, 0.0f);
      X[ldx] = std::numeric_limits<float>::quiet_NaN();
      X[ldx + K / 2] = -std::numeric_limits<float>::quiet_NaN();
      X[2 * ldx + K - 1] = -std::numeric_limits<float>::infinity();
      // Rows 3..5: exact ties (k + 1/2) · scale, |k + 1/2| < qmax, with a
      // scale of few significant bits, so that every quotient is exact.
      for (int64_t r = 3; r < 6; ++r) {
        float scale = std::ldexp(float(uniformInt(rng, 1, 255)),
                                 int(uniformInt(rng, -20, 0)));
        for (int64_t k = 0; k < K; ++k)
          X[r * ldx + k] =
              (float(uniformInt(rng, -qmax, qmax - 1)) + 0.5f) * scale;
        X[r * ldx] = float(qmax) * scale; // pins absmax, so scale is exact
      }
      std::vector<int8_t> Q(M * ldq, 99), expectedQ(K);
      std::vector<float> scales(M), expectedScale(1);
      variant().quantize_per_token_f32(M, K, X.data(), ldx, bits, Q.data(),
                                       ldq, scales.data());
      for (int64_t m = 0; m < M; ++m) {
        quantizeReference(&X[m * ldx], K, bits, expectedQ.data(),
                          expectedScale.data());
        ASSERT_EQ(std::memcmp(&scales[m], &expectedScale[0], sizeof(float)),
                  0)
            << "row " << m << ": " << scales[m] << " vs " << expectedScale[0];
        for (int64_t k = 0; k < K; ++k)
          ASSERT_EQ(Q[m * ldq + k], expectedQ[k])
              << "row " << m << " k=" << k << " x=" << X[m * ldx + k];
        for (int64_t k = K; k < ldq && m + 1 < M; ++k)
          ASSERT_EQ(Q[m * ldq + k], 99) << "wrote past K";
        ++rowsChecked;
      }
    }
  std::cout << "[ stats    ] " << rowsChecked << " rows bit-exact\n";
}

std::string parameterName(
    const ::testing::TestParamInfo<std::tuple<int, int32_t>> &info) {
  return std::string(kVariants[std::get<0>(info.param)].name) + "_" +
         std::to_string(std::get<1>(info.param)) + "threads";
}

INSTANTIATE_TEST_SUITE_P(Variants, UKernelsTest,
                         ::testing::Combine(::testing::Values(0, 1),
                                            ::testing::Values(1, 2)),
                         parameterName);

//===----------------------------------------------------------------------===//
// Allocation failures
//===----------------------------------------------------------------------===//

/// Pages of the process's address space, read without allocating.
long addressSpacePages() {
  char text[64] = {};
  int fd = open("/proc/self/statm", O_RDONLY);
  if (fd < 0)
    return 0;
  ssize_t bytes = read(fd, text, sizeof(text) - 1);
  close(fd);
  return bytes > 0 ? std::strtol(text, nullptr, 10) : 0;
}

/// Runs `call` in a child process whose address space is capped at what it
/// holds once its inputs exist, so that the kernel's scratch allocations
/// fail, as does anything that would grow the heap; malloc is told to map
/// requests from 16 KiB up and to keep no free memory at the top of its
/// heap, where they could otherwise be carved from. Expects the failure
/// reported through qr_take_kernel_error (read once the cap is lifted)
/// instead of a crash.
void expectOutOfMemoryReported(const Variant &variant,
                               const std::function<void()> &call,
                               const char *message) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto child = [&] {
    // One thread: the pool's workers would need stacks under the cap too.
    if (qr_set_num_threads(1) != 0)
      std::_Exit(2);
    mallopt(M_MMAP_THRESHOLD, 16 * 1024);
    mallopt(M_TOP_PAD, 0);
    malloc_trim(0);
    long pages = addressSpacePages();
    if (pages == 0)
      std::_Exit(3);
    rlimit original{};
    if (getrlimit(RLIMIT_AS, &original) != 0)
      std::_Exit(4);
    rlimit capped{rlim_t(pages) * rlim_t(sysconf(_SC_PAGESIZE)),
                  original.rlim_max};
    if (setrlimit(RLIMIT_AS, &capped) != 0)
      std::_Exit(4);
    call();
    if (setrlimit(RLIMIT_AS, &original) != 0)
      std::_Exit(4);
    const char *error = qr_take_kernel_error();
    std::fprintf(stderr, "%s: %s (expected %s)\n", variant.name,
                 error ? error : "no error", message);
    std::_Exit(error && std::strstr(error, message) ? 0 : 1);
  };
  EXPECT_EXIT(child(), ::testing::ExitedWithCode(0), message) << variant.name;
}

TEST(UKernelsOutOfMemoryTest, KernelsReportAllocationFailures) {
  std::mt19937_64 rng = freshGenerator();
  // Every kernel's scratch below takes over 16 KiB at this size.
  const int64_t K = 4096, N = 2048;
  Weights w = randomWeights(rng, 4, K, N, 128, /*symmetric=*/true);
  for (const Variant &variant : kVariants) {
    if (!variant.supported())
      continue;
    const int64_t M = 300;
    std::vector<int8_t> a8(M * K, 1);
    std::vector<float> a(M * K, 0.5f), b(K * N, 0.25f), c(M * N);
    // The integer matmul's packed activations (M · K bytes).
    expectOutOfMemoryReported(
        variant,
        [&] {
          variant.matmul_s8(M, N, K, a8.data(), K, nullptr, 0.1f, 0,
                            w.packed.get(), c.data(), N);
        },
        "matmul_s8: out of memory");
    // The int8 limbs of two float rows.
    expectOutOfMemoryReported(
        variant,
        [&] {
          variant.matmul_f32(2, N, K, a.data(), K, w.packed.get(), c.data(), N);
        },
        "matmul_f32: out of memory");
    // The GEMM's packed blocks, dequantized weights or runtime operands.
    expectOutOfMemoryReported(
        variant,
        [&] {
          variant.matmul_f32(M, N, K, a.data(), K, w.packed.get(), c.data(), N);
        },
        "gemm_f32: out of memory");
    expectOutOfMemoryReported(
        variant,
        [&] {
          variant.gemm_f32(1, M, N, K, a.data(), K, 0, b.data(), N, 0, 0,
                           c.data(), N, 0);
        },
        "gemm_f32: out of memory");
  }
}

} // namespace
