//===- MatrixTest.cpp - float64 linear algebra against naive references ---===//

#include "Reference.h"

#include "quant/Quantization/Matrix.h"

#include <gtest/gtest.h>

using namespace quant;
using namespace quant::reference;

namespace {

/// max |AᵀA − I| computed with naive loops.
double gramDeviation(const Matrix &a) {
  double worst = 0.0;
  for (int64_t i = 0; i < a.cols; ++i)
    for (int64_t j = 0; j < a.cols; ++j) {
      double dot = 0.0;
      for (int64_t k = 0; k < a.rows; ++k)
        dot += a(k, i) * a(k, j);
      worst = std::max(worst, std::fabs(dot - (i == j ? 1.0 : 0.0)));
    }
  return worst;
}

Matrix randomSymmetricPositiveDefinite(int64_t n, std::mt19937_64 &rng) {
  Matrix b = gaussian(n, n, rng);
  Matrix a(n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double sum = i == j ? 0.1 : 0.0;
      for (int64_t k = 0; k < n; ++k)
        sum += b(k, i) * b(k, j);
      a(i, j) = sum;
    }
  return a;
}

TEST(MatrixTest, ProductsMatchNaiveLoops) {
  std::mt19937_64 rng = freshGenerator();
  Matrix a = gaussian(37, 23, rng), b = gaussian(23, 19, rng);
  EXPECT_LE(relativeError(multiply(a, b), matmul(a, b)), 1e-14);

  Matrix c = gaussian(37, 11, rng);
  Matrix at(23, 37);
  for (int64_t i = 0; i < 37; ++i)
    for (int64_t j = 0; j < 23; ++j)
      at(j, i) = a(i, j);
  EXPECT_LE(relativeError(multiply(at, c), matmulTransposedLhs(a, c)), 1e-14);
  EXPECT_EQ(a.transposed().data, at.data);
  EXPECT_EQ(Matrix::identity(3).data,
            (std::vector<double>{1, 0, 0, 0, 1, 0, 0, 0, 1}));
}

TEST(MatrixTest, SqnrIsSignalOverNoiseInDecibels) {
  std::mt19937_64 rng = freshGenerator();
  Matrix ref = gaussian(16, 16, rng), noisy = ref;
  Matrix noise = gaussian(16, 16, rng, 0.01);
  for (size_t i = 0; i < noisy.data.size(); ++i)
    noisy.data[i] += noise.data[i];
  double expected = 10.0 * std::log10(sumOfSquares(ref) / sumOfSquares(noise));
  EXPECT_NEAR(sqnrDb(ref, noisy), expected, 1e-9);
  EXPECT_NEAR(squaredDistance(ref, noisy), sumOfSquares(noise),
              1e-12 * sumOfSquares(noise));
}

TEST(MatrixTest, CholeskyReconstructs) {
  std::mt19937_64 rng = freshGenerator();
  for (int64_t n : {1, 7, 64, 200}) {
    Matrix a = randomSymmetricPositiveDefinite(n, rng);
    std::optional<Matrix> l = cholesky(a);
    ASSERT_TRUE(l) << "n = " << n;
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_GT((*l)(i, i), 0.0);
      for (int64_t j = i + 1; j < n; ++j)
        ASSERT_EQ((*l)(i, j), 0.0)
            << "not lower-triangular at " << i << "," << j;
    }
    EXPECT_LE(relativeError(a, multiply(*l, l->transposed())), 1e-12)
        << "n = " << n;
  }
}

TEST(MatrixTest, CholeskyRejectsIndefinite) {
  std::mt19937_64 rng = freshGenerator();
  Matrix a = randomSymmetricPositiveDefinite(16, rng);
  a(5, 5) = -a(5, 5);
  EXPECT_FALSE(cholesky(a));
  EXPECT_FALSE(choleskyInverse(a));
}

TEST(MatrixTest, CholeskyInverseInverts) {
  std::mt19937_64 rng = freshGenerator();
  for (int64_t n : {1, 9, 128}) {
    Matrix a = randomSymmetricPositiveDefinite(n, rng);
    std::optional<Matrix> inverse = choleskyInverse(a);
    ASSERT_TRUE(inverse);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j)
        ASSERT_EQ((*inverse)(i, j), (*inverse)(j, i));
    // The residual scales with the condition number; n·ε·κ stays far below.
    EXPECT_LE(relativeError(Matrix::identity(n), multiply(a, *inverse)), 1e-8)
        << "n = " << n;
  }
}

TEST(MatrixTest, SvdReconstructsTallWideAndSquare) {
  std::mt19937_64 rng = freshGenerator();
  for (auto [rows, cols] :
       {std::pair<int64_t, int64_t>{40, 13}, {13, 40}, {64, 64}, {1, 5}}) {
    Matrix a = gaussian(rows, cols, rng);
    SVD d = svd(a);
    int64_t k = std::min(rows, cols);
    ASSERT_EQ(d.u.rows, rows);
    ASSERT_EQ(d.u.cols, k);
    ASSERT_EQ(d.vt.rows, k);
    ASSERT_EQ(d.vt.cols, cols);
    ASSERT_EQ(static_cast<int64_t>(d.s.size()), k);
    for (int64_t i = 0; i < k; ++i) {
      EXPECT_GE(d.s[i], 0.0);
      if (i > 0) {
        EXPECT_LE(d.s[i], d.s[i - 1]);
      }
    }
    Matrix us = d.u;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < k; ++j)
        us(i, j) *= d.s[j];
    EXPECT_LE(relativeError(a, multiply(us, d.vt)), 1e-13)
        << rows << "x" << cols;
    EXPECT_LE(gramDeviation(d.u), 1e-13);
    EXPECT_LE(gramDeviation(d.vt.transposed()), 1e-13);
  }
}

TEST(MatrixTest, OrthogonalFactorIsOrthogonalWithPositiveR) {
  std::mt19937_64 rng = freshGenerator();
  for (int64_t n : {1, 5, 96, 256}) {
    Matrix a = gaussian(n, n, rng);
    Matrix q = orthogonalFactor(a);
    EXPECT_LE(gramDeviation(q), 1e-12) << "n = " << n;
    // R = QᵀA must be upper-triangular with a positive diagonal.
    Matrix r = multiply(q.transposed(), a);
    double scale = std::sqrt(sumOfSquares(a));
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_GT(r(i, i), 0.0);
      for (int64_t j = 0; j < i; ++j)
        ASSERT_LE(std::fabs(r(i, j)), 1e-12 * scale)
            << "n = " << n << " at " << i << "," << j;
    }
  }
}

} // namespace
