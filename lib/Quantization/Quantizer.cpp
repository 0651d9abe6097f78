//===- Quantizer.cpp - uniform quantization of weights and activations ----===//

#include "quant/Quantization/Quantizer.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace quant {

namespace {

struct IntegerRange {
  int32_t min, max;
};

IntegerRange integerRange(unsigned bits, bool isSigned) {
  assert(bits >= 1 && bits <= 16 && "unsupported bit-width");
  if (isSigned)
    return {-(1 << (bits - 1)), (1 << (bits - 1)) - 1};
  return {0, (1 << bits) - 1};
}

/// Group length along the reduction dimension for `scheme` on `rows` rows.
int64_t groupLength(const WeightQuantScheme &scheme, int64_t rows) {
  int64_t length = scheme.group == 0 ? rows : scheme.group;
  assert(length > 0 && rows % length == 0 &&
         "group size must divide the reduction dimension");
  return length;
}

QuantizedWeight emptyQuantizedWeight(int64_t rows, int64_t cols,
                                     int64_t groups) {
  QuantizedWeight result;
  result.rows = rows;
  result.cols = cols;
  result.groups = groups;
  result.values.assign(rows * cols, 0);
  result.scales.assign(groups * cols, 1.0);
  result.zeroPoints.assign(groups * cols, 0);
  return result;
}

/// Grid of column `col` over rows [begin, end) of a row-major matrix.
QuantGrid columnGrid(const double *data, int64_t cols, int64_t col,
                     int64_t begin, int64_t end,
                     const WeightQuantScheme &scheme) {
  double lo = 0.0, hi = 0.0;
  for (int64_t r = begin; r < end; ++r) {
    double v = data[r * cols + col];
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  return chooseGrid(lo, hi, scheme.bits, scheme.symmetric);
}

} // namespace

double roundHalfToEven(double x) {
  // Explicit rather than std::nearbyint so that the result does not depend
  // on the floating-point environment's rounding mode.
  double floor = std::floor(x);
  double fraction = x - floor; // exact for every finite double
  if (fraction < 0.5)
    return floor;
  if (fraction > 0.5)
    return floor + 1.0;
  return std::fmod(floor, 2.0) == 0.0 ? floor : floor + 1.0;
}

int32_t quantizeValue(double x, double scale, int32_t zeroPoint, unsigned bits,
                      bool isSigned) {
  IntegerRange range = integerRange(bits, isSigned);
  double q = roundHalfToEven(x / scale) + zeroPoint;
  if (std::isnan(q))
    return zeroPoint;
  // Clamp in double: the unclamped value may not fit an int32.
  q = std::clamp(q, static_cast<double>(range.min),
                 static_cast<double>(range.max));
  return static_cast<int32_t>(q);
}

QuantGrid chooseGrid(double lo, double hi, unsigned bits, bool symmetric) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  QuantGrid grid;
  if (symmetric) {
    double absMax = std::max(-lo, hi);
    if (absMax > 0.0)
      grid.scale = absMax / integerRange(bits, /*isSigned=*/true).max;
    return grid;
  }
  IntegerRange range = integerRange(bits, /*isSigned=*/false);
  if (hi - lo > 0.0) {
    grid.scale = (hi - lo) / range.max;
    grid.zeroPoint =
        static_cast<int32_t>(std::clamp(roundHalfToEven(-lo / grid.scale), 0.0,
                                        static_cast<double>(range.max)));
  }
  return grid;
}

Matrix QuantizedWeight::dequantize() const {
  Matrix result(rows, cols);
  int64_t length = rows / groups;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t g = r / length;
    for (int64_t c = 0; c < cols; ++c)
      result(r, c) = (values[r * cols + c] - zeroPoints[g * cols + c]) *
                     scales[g * cols + c];
  }
  return result;
}

QuantizedWeight quantizeRTN(const Matrix &weight,
                            const WeightQuantScheme &scheme) {
  int64_t length = groupLength(scheme, weight.rows);
  int64_t groups = weight.rows / length;
  QuantizedWeight result =
      emptyQuantizedWeight(weight.rows, weight.cols, groups);
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t c = 0; c < weight.cols; ++c) {
      QuantGrid grid = columnGrid(weight.data.data(), weight.cols, c,
                                  g * length, (g + 1) * length, scheme);
      result.scales[g * weight.cols + c] = grid.scale;
      result.zeroPoints[g * weight.cols + c] = grid.zeroPoint;
      for (int64_t r = g * length; r < (g + 1) * length; ++r)
        result.values[r * weight.cols + c] =
            quantizeValue(weight(r, c), grid.scale, grid.zeroPoint, scheme.bits,
                          scheme.symmetric);
    }
  }
  return result;
}

QuantizedWeight quantizeGPTQ(const Matrix &weight, const Matrix &hessian,
                             const WeightQuantScheme &scheme, double dampRatio,
                             int64_t blockSize) {
  assert(hessian.rows == weight.rows && hessian.cols == weight.rows &&
         "GPTQ needs a K×K Hessian for a K×N weight");
  assert(blockSize > 0 && "block size must be positive");
  const int64_t rows = weight.rows, cols = weight.cols;
  int64_t length = groupLength(scheme, rows);
  bool perChannel = length == rows;
  QuantizedWeight result = emptyQuantizedWeight(rows, cols, rows / length);

  // Inputs that never fire carry no information: their weights are zeroed
  // and their Hessian diagonal set to 1 so that H stays invertible.
  Matrix w = weight;
  Matrix h = hessian;
  double meanDiagonal = 0.0;
  for (int64_t k = 0; k < rows; ++k) {
    if (h(k, k) == 0.0) {
      h(k, k) = 1.0;
      std::fill_n(&w.data[k * cols], cols, 0.0);
    }
    meanDiagonal += h(k, k);
  }
  meanDiagonal /= rows;

  // Upper Cholesky factor U of (H + damp·I)⁻¹ = UᵀU: row k of U holds the
  // coefficients that spread row k's rounding error over rows > k. When
  // calibration data is too scarce for H to be positive definite, stronger
  // damping moves GPTQ towards RTN; U = I (no propagation) is exactly RTN,
  // the answer for a Hessian beyond repair (non-finite entries).
  Matrix upper = Matrix::identity(rows);
  const int maxDampingAttempts = 6;
  for (int attempt = 0; attempt < maxDampingAttempts; ++attempt) {
    double ratio = attempt == 0
                       ? dampRatio
                       : std::max(dampRatio, 0.01) * std::pow(10.0, attempt);
    Matrix damped = h;
    for (int64_t k = 0; k < rows; ++k)
      damped(k, k) += ratio * meanDiagonal;
    std::optional<Matrix> inverse = choleskyInverse(damped);
    std::optional<Matrix> lower =
        inverse ? cholesky(*inverse) : std::optional<Matrix>();
    if (lower) {
      upper = lower->transposed();
      break;
    }
  }

  std::vector<QuantGrid> grids(cols);
  auto chooseGrids = [&](int64_t begin, int64_t end) {
    for (int64_t c = 0; c < cols; ++c)
      grids[c] = columnGrid(w.data.data(), cols, c, begin, end, scheme);
  };
  if (perChannel)
    chooseGrids(0, rows);

  std::vector<double> blockErrors;
  for (int64_t blockBegin = 0; blockBegin < rows; blockBegin += blockSize) {
    int64_t blockEnd = std::min(blockBegin + blockSize, rows);
    blockErrors.assign((blockEnd - blockBegin) * cols, 0.0);
    for (int64_t k = blockBegin; k < blockEnd; ++k) {
      if (!perChannel && k % length == 0) {
        // Rows of this block are up to date; rows past it still lack this
        // block's updates (only matters when the group crosses the block).
        chooseGrids(k, std::min(k + length, rows));
        for (int64_t c = 0; c < cols; ++c) {
          result.scales[(k / length) * cols + c] = grids[c].scale;
          result.zeroPoints[(k / length) * cols + c] = grids[c].zeroPoint;
        }
      }
      double diagonal = upper(k, k);
      double *errors = &blockErrors[(k - blockBegin) * cols];
      for (int64_t c = 0; c < cols; ++c) {
        int32_t q = quantizeValue(w(k, c), grids[c].scale, grids[c].zeroPoint,
                                  scheme.bits, scheme.symmetric);
        result.values[k * cols + c] = q;
        double dequantized = (q - grids[c].zeroPoint) * grids[c].scale;
        errors[c] = (w(k, c) - dequantized) / diagonal;
      }
      // Eager update of the rest of the block only; rows past the block get
      // all of the block's errors at once below, which is the same sum.
      for (int64_t j = k + 1; j < blockEnd; ++j) {
        double coefficient = upper(k, j);
        double *row = &w.data[j * cols];
        for (int64_t c = 0; c < cols; ++c)
          row[c] -= errors[c] * coefficient;
      }
    }
    for (int64_t j = blockEnd; j < rows; ++j) {
      double *row = &w.data[j * cols];
      for (int64_t k = blockBegin; k < blockEnd; ++k) {
        double coefficient = upper(k, j);
        const double *errors = &blockErrors[(k - blockBegin) * cols];
        for (int64_t c = 0; c < cols; ++c)
          row[c] -= errors[c] * coefficient;
      }
    }
  }

  if (perChannel)
    for (int64_t c = 0; c < cols; ++c) {
      result.scales[c] = grids[c].scale;
      result.zeroPoints[c] = grids[c].zeroPoint;
    }
  return result;
}

Matrix fakeQuantizePerToken(const Matrix &x, unsigned bits) {
  Matrix result(x.rows, x.cols);
  for (int64_t r = 0; r < x.rows; ++r) {
    double absMax = 0.0;
    for (int64_t c = 0; c < x.cols; ++c)
      absMax = std::max(absMax, std::abs(x(r, c)));
    QuantGrid grid = chooseGrid(-absMax, absMax, bits, /*symmetric=*/true);
    for (int64_t c = 0; c < x.cols; ++c)
      result(r, c) =
          quantizeValue(x(r, c), grid.scale, 0, bits, /*isSigned=*/true) *
          grid.scale;
  }
  return result;
}

std::vector<double> columnAbsMax(const Matrix &x) {
  std::vector<double> result(x.cols, 0.0);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t c = 0; c < x.cols; ++c)
      result[c] = std::max(result[c], std::abs(x(r, c)));
  return result;
}

std::vector<double> rowAbsMax(const Matrix &w) {
  std::vector<double> result(w.rows, 0.0);
  for (int64_t r = 0; r < w.rows; ++r)
    for (int64_t c = 0; c < w.cols; ++c)
      result[r] = std::max(result[r], std::abs(w(r, c)));
  return result;
}

} // namespace quant
