//===- Matrix.cpp - dense float64 matrices for quantization math ----------===//
//
// LAPACK works on column-major storage. A row-major matrix read as
// column-major is its transpose, which every wrapper below exploits instead
// of copying into a transposed buffer where it can.
//
//===----------------------------------------------------------------------===//

#include "quant/Quantization/Matrix.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <limits>

// Fortran LAPACK as shipped by OpenBLAS (32-bit integers). gfortran passes
// the length of each CHARACTER argument as a trailing hidden size_t; leaving
// them out breaks when the callee tail-calls with them on the stack.
extern "C" {
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda,
             int *info, size_t uploLength);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda,
             int *info, size_t uploLength);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a,
             const int *lda, double *s, double *u, const int *ldu, double *vt,
             const int *ldvt, double *work, const int *lwork, int *iwork,
             int *info, size_t jobzLength);
void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau,
             double *work, const int *lwork, int *info);
void dorgqr_(const int *m, const int *n, const int *k, double *a,
             const int *lda, const double *tau, double *work, const int *lwork,
             int *info);
}

namespace quant {

Matrix Matrix::identity(int64_t n) {
  Matrix result(n, n);
  for (int64_t i = 0; i < n; ++i)
    result(i, i) = 1.0;
  return result;
}

Matrix Matrix::transposed() const {
  Matrix result(cols, rows);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      result(c, r) = (*this)(r, c);
  return result;
}

Matrix matmul(const Matrix &a, const Matrix &b) {
  assert(a.cols == b.rows && "matmul shape mismatch");
  Matrix result(a.rows, b.cols);
  // i-k-j order streams rows of b and of the result, which vectorizes.
  for (int64_t i = 0; i < a.rows; ++i) {
    double *out = &result.data[i * result.cols];
    for (int64_t k = 0; k < a.cols; ++k) {
      double aik = a(i, k);
      const double *bRow = &b.data[k * b.cols];
      for (int64_t j = 0; j < b.cols; ++j)
        out[j] += aik * bRow[j];
    }
  }
  return result;
}

Matrix matmulTransposedLhs(const Matrix &a, const Matrix &b) {
  assert(a.rows == b.rows && "matmulTransposedLhs shape mismatch");
  Matrix result(a.cols, b.cols);
  for (int64_t k = 0; k < a.rows; ++k) {
    const double *bRow = &b.data[k * b.cols];
    for (int64_t i = 0; i < a.cols; ++i) {
      double aki = a(k, i);
      double *out = &result.data[i * result.cols];
      for (int64_t j = 0; j < b.cols; ++j)
        out[j] += aki * bRow[j];
    }
  }
  return result;
}

double squaredDistance(const Matrix &a, const Matrix &b) {
  assert(a.rows == b.rows && a.cols == b.cols && "shape mismatch");
  double sum = 0.0;
  for (size_t i = 0; i < a.data.size(); ++i) {
    double diff = a.data[i] - b.data[i];
    sum += diff * diff;
  }
  return sum;
}

double sqnrDb(const Matrix &reference, const Matrix &approximation) {
  double signal = 0.0;
  for (double v : reference.data)
    signal += v * v;
  double noise = squaredDistance(reference, approximation);
  if (noise == 0.0)
    return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal / noise);
}

std::optional<Matrix> cholesky(const Matrix &a) {
  assert(a.rows == a.cols && "cholesky needs a square matrix");
  // A symmetric row-major matrix is the same column-major; the column-major
  // upper factor U (A = UᵀU) reads row-major as L = Uᵀ.
  Matrix factor = a;
  int n = static_cast<int>(a.rows), info = 0;
  dpotrf_("U", &n, factor.data.data(), &n, &info, 1);
  if (info != 0)
    return std::nullopt;
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t c = r + 1; c < a.cols; ++c)
      factor(r, c) = 0.0;
  return factor;
}

std::optional<Matrix> choleskyInverse(const Matrix &a) {
  assert(a.rows == a.cols && "choleskyInverse needs a square matrix");
  Matrix inverse = a;
  int n = static_cast<int>(a.rows), info = 0;
  dpotrf_("U", &n, inverse.data.data(), &n, &info, 1);
  if (info != 0)
    return std::nullopt;
  dpotri_("U", &n, inverse.data.data(), &n, &info, 1);
  if (info != 0)
    return std::nullopt;
  // dpotri fills only the column-major upper (row-major lower) triangle.
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t c = r + 1; c < a.cols; ++c)
      inverse(r, c) = inverse(c, r);
  return inverse;
}

SVD svd(const Matrix &a) {
  // LAPACK sees Aᵀ (cols × rows). From Aᵀ = U'·S·V'ᵀ follows A = V'·S·U'ᵀ,
  // and the column-major buffers of V'ᵀ and U' read row-major as exactly
  // A's U (rows × k) and Vᵀ (k × cols).
  int m = static_cast<int>(a.cols), n = static_cast<int>(a.rows);
  int k = std::min(m, n), info = 0;
  Matrix work = a;
  SVD result;
  result.s.resize(k);
  result.vt = Matrix(k, a.cols);
  result.u = Matrix(a.rows, k);
  std::vector<int> integerWork(8 * static_cast<size_t>(k));
  int lwork = -1;
  double optimalWork = 0.0;
  dgesdd_("S", &m, &n, work.data.data(), &m, result.s.data(),
          result.vt.data.data(), &m, result.u.data.data(), &k, &optimalWork,
          &lwork, integerWork.data(), &info, 1);
  lwork = static_cast<int>(optimalWork);
  std::vector<double> scratch(std::max(lwork, 1));
  dgesdd_("S", &m, &n, work.data.data(), &m, result.s.data(),
          result.vt.data.data(), &m, result.u.data.data(), &k, scratch.data(),
          &lwork, integerWork.data(), &info, 1);
  assert(info == 0 && "dgesdd did not converge");
  return result;
}

Matrix orthogonalFactor(const Matrix &a) {
  assert(a.rows >= a.cols && "orthogonalFactor needs rows >= cols");
  int m = static_cast<int>(a.rows), n = static_cast<int>(a.cols), info = 0;
  std::vector<double> columnMajor(a.data.size());
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t c = 0; c < a.cols; ++c)
      columnMajor[c * a.rows + r] = a(r, c);

  std::vector<double> tau(n);
  int lwork = -1;
  double optimalWork = 0.0;
  dgeqrf_(&m, &n, columnMajor.data(), &m, tau.data(), &optimalWork, &lwork,
          &info);
  lwork = static_cast<int>(optimalWork);
  std::vector<double> scratch(std::max(lwork, 1));
  dgeqrf_(&m, &n, columnMajor.data(), &m, tau.data(), scratch.data(), &lwork,
          &info);
  assert(info == 0 && "dgeqrf failed");

  // Q·D·D·R with D = sign(diag R) makes the factorization unique, and only
  // then is Q Haar-distributed for a Gaussian input.
  std::vector<double> signs(n);
  for (int j = 0; j < n; ++j)
    signs[j] = columnMajor[static_cast<size_t>(j) * m + j] < 0.0 ? -1.0 : 1.0;

  lwork = -1;
  dorgqr_(&m, &n, &n, columnMajor.data(), &m, tau.data(), &optimalWork, &lwork,
          &info);
  lwork = static_cast<int>(optimalWork);
  scratch.assign(std::max(lwork, 1), 0.0);
  dorgqr_(&m, &n, &n, columnMajor.data(), &m, tau.data(), scratch.data(),
          &lwork, &info);
  assert(info == 0 && "dorgqr failed");

  Matrix q(a.rows, a.cols);
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t c = 0; c < a.cols; ++c)
      q(r, c) = columnMajor[c * a.rows + r] * signs[c];
  return q;
}

} // namespace quant
