//===- Matrix.h - dense float64 matrices for quantization math ---*- C++ -*-===//
//
// The numeric core of the transformation passes works on row-major float64
// matrices, independent of MLIR, so that the algorithms are testable on
// their own and reusable by the runtime.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_QUANTIZATION_MATRIX_H
#define QUANT_QUANTIZATION_MATRIX_H

#include <cstdint>
#include <optional>
#include <vector>

namespace quant {

struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<double> data; // row-major, rows * cols

  Matrix() = default;
  Matrix(int64_t rows, int64_t cols, double fill = 0.0)
      : rows(rows), cols(cols), data(rows * cols, fill) {}

  double &operator()(int64_t r, int64_t c) { return data[r * cols + c]; }
  double operator()(int64_t r, int64_t c) const { return data[r * cols + c]; }

  static Matrix identity(int64_t n);
  Matrix transposed() const;
};

/// a · b.
Matrix matmul(const Matrix &a, const Matrix &b);
/// aᵀ · b without forming aᵀ.
Matrix matmulTransposedLhs(const Matrix &a, const Matrix &b);

/// Frobenius norm of a − b, squared.
double squaredDistance(const Matrix &a, const Matrix &b);
/// Signal-to-quantization-noise ratio 10·log10(‖ref‖² / ‖ref − got‖²), dB.
double sqnrDb(const Matrix &reference, const Matrix &approximation);

/// Lower-triangular Cholesky factor L with a = L·Lᵀ (LAPACK dpotrf), or
/// nullopt when `a` is not positive definite.
std::optional<Matrix> cholesky(const Matrix &a);

/// Inverse of a symmetric positive definite matrix through its Cholesky
/// factor (LAPACK dpotrf + dpotri), or nullopt when `a` is not positive
/// definite.
std::optional<Matrix> choleskyInverse(const Matrix &a);

/// Thin SVD a = U·diag(s)·Vᵀ (LAPACK dgesdd: divide and conquer, an order of
/// magnitude faster than dgesvd's QR iteration from n ≈ 256 on).
struct SVD {
  Matrix u;              // rows × k
  std::vector<double> s; // k = min(rows, cols)
  Matrix vt;             // k × cols
};
SVD svd(const Matrix &a);

/// Q of the QR decomposition of a square matrix, with the signs fixed so
/// that diag(R) > 0 (Haar-distributed when `a` is Gaussian).
Matrix orthogonalFactor(const Matrix &a);

} // namespace quant

#endif // QUANT_QUANTIZATION_MATRIX_H
