//===- Reference.h - naive float64 references for the numeric tests -------===//
//
// Written from the semantics in Quantizer.h and Transforms.h, independently
// of the code under test: plain loops, std::nearbyint for ties-to-even, and
// nothing from lib/Quantization beyond the Matrix container.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_UNITTESTS_QUANTIZATION_REFERENCE_H
#define QUANT_UNITTESTS_QUANTIZATION_REFERENCE_H

#include "quant/Quantization/Matrix.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <random>
#include <vector>

namespace quant::reference {

inline std::mt19937_64 freshGenerator() {
  uint64_t seed = std::random_device{}();
  std::cout << "[ seed     ] " << seed << "\n";
  return std::mt19937_64(seed);
}

inline Matrix gaussian(int64_t rows, int64_t cols, std::mt19937_64 &rng,
                       double stddev = 1.0) {
  std::normal_distribution<double> normal(0.0, stddev);
  Matrix m(rows, cols);
  for (double &v : m.data)
    v = normal(rng);
  return m;
}

inline Matrix multiply(const Matrix &a, const Matrix &b) {
  Matrix c(a.rows, b.cols);
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t k = 0; k < a.cols; ++k)
      for (int64_t j = 0; j < b.cols; ++j)
        c(i, j) += a(i, k) * b(k, j);
  return c;
}

inline double sumOfSquares(const Matrix &a) {
  double sum = 0.0;
  for (double v : a.data)
    sum += v * v;
  return sum;
}

inline double squaredError(const Matrix &a, const Matrix &b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.data.size(); ++i)
    sum += (a.data[i] - b.data[i]) * (a.data[i] - b.data[i]);
  return sum;
}

/// ‖a − b‖_F / ‖a‖_F.
inline double relativeError(const Matrix &a, const Matrix &b) {
  return std::sqrt(squaredError(a, b) / sumOfSquares(a));
}

/// The default floating-point environment rounds to nearest, ties to even.
inline double roundEven(double x) { return std::nearbyint(x); }

struct Range {
  int64_t min, max;
};

inline Range signedRange(unsigned bits) {
  return {-(int64_t(1) << (bits - 1)), (int64_t(1) << (bits - 1)) - 1};
}
inline Range unsignedRange(unsigned bits) {
  return {0, (int64_t(1) << bits) - 1};
}

inline int32_t quantize(double x, double scale, int32_t zeroPoint,
                        unsigned bits, bool isSigned) {
  Range range = isSigned ? signedRange(bits) : unsignedRange(bits);
  double q = roundEven(x / scale) + zeroPoint;
  if (q < range.min)
    return static_cast<int32_t>(range.min);
  if (q > range.max)
    return static_cast<int32_t>(range.max);
  return static_cast<int32_t>(q);
}

struct Grid {
  double scale;
  int32_t zeroPoint;
};

inline Grid grid(double lo, double hi, unsigned bits, bool symmetric) {
  if (lo > 0)
    lo = 0;
  if (hi < 0)
    hi = 0;
  if (symmetric) {
    double absMax = std::max(std::fabs(lo), std::fabs(hi));
    if (absMax == 0)
      return {1.0, 0};
    return {absMax / static_cast<double>(signedRange(bits).max), 0};
  }
  if (hi == lo)
    return {1.0, 0};
  double levels = static_cast<double>(unsignedRange(bits).max);
  double scale = (hi - lo) / levels;
  double zeroPoint = roundEven(-lo / scale);
  zeroPoint = std::min(std::max(zeroPoint, 0.0), levels);
  return {scale, static_cast<int32_t>(zeroPoint)};
}

/// RTN of a K×N weight, groups of `group` rows (0: all K rows).
struct Quantized {
  std::vector<int32_t> values;
  std::vector<double> scales;
  std::vector<int32_t> zeroPoints;
  Matrix dequantized;
};

inline Quantized quantizeWeight(const Matrix &w, unsigned bits, int64_t group,
                                bool symmetric) {
  int64_t length = group == 0 ? w.rows : group;
  int64_t groups = w.rows / length;
  Quantized result;
  result.values.resize(w.rows * w.cols);
  result.scales.resize(groups * w.cols);
  result.zeroPoints.resize(groups * w.cols);
  result.dequantized = Matrix(w.rows, w.cols);
  for (int64_t n = 0; n < w.cols; ++n)
    for (int64_t g = 0; g < groups; ++g) {
      double lo = w(g * length, n), hi = lo;
      for (int64_t k = g * length; k < (g + 1) * length; ++k) {
        lo = std::min(lo, w(k, n));
        hi = std::max(hi, w(k, n));
      }
      Grid gr = grid(lo, hi, bits, symmetric);
      result.scales[g * w.cols + n] = gr.scale;
      result.zeroPoints[g * w.cols + n] = gr.zeroPoint;
      for (int64_t k = g * length; k < (g + 1) * length; ++k) {
        int32_t q = quantize(w(k, n), gr.scale, gr.zeroPoint, bits, symmetric);
        result.values[k * w.cols + n] = q;
        result.dequantized(k, n) =
            static_cast<double>(q - gr.zeroPoint) * gr.scale;
      }
    }
  return result;
}

/// Dynamic symmetric per-row fake quantization.
inline Matrix fakeQuantizeRows(const Matrix &x, unsigned bits) {
  Matrix result(x.rows, x.cols);
  for (int64_t r = 0; r < x.rows; ++r) {
    double absMax = 0.0;
    for (int64_t c = 0; c < x.cols; ++c)
      absMax = std::max(absMax, std::fabs(x(r, c)));
    Grid gr = grid(-absMax, absMax, bits, /*symmetric=*/true);
    for (int64_t c = 0; c < x.cols; ++c)
      result(r, c) = quantize(x(r, c), gr.scale, 0, bits, true) * gr.scale;
  }
  return result;
}

} // namespace quant::reference

#endif // QUANT_UNITTESTS_QUANTIZATION_REFERENCE_H
