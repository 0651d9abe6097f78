//===- Transforms.cpp - exact transforms: smoothing and rotations ---------===//

#include "quant/Quantization/Transforms.h"

#include "quant/Support/Hadamard.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <random>

namespace quant {

namespace {

/// Quantized layer output Q_a(X·diag(1/s)) · Q_w(diag(s)·W).
Matrix smoothedQuantizedOutput(const Matrix &x, const Matrix &weight,
                               const std::vector<double> &factors,
                               unsigned activationBits,
                               const WeightQuantScheme &weightScheme) {
  Matrix scaledInput = x;
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t c = 0; c < x.cols; ++c)
      scaledInput(r, c) /= factors[c];
  Matrix scaledWeight = weight;
  for (int64_t r = 0; r < weight.rows; ++r)
    for (int64_t c = 0; c < weight.cols; ++c)
      scaledWeight(r, c) *= factors[r];
  return matmul(fakeQuantizePerToken(scaledInput, activationBits),
                quantizeRTN(scaledWeight, weightScheme).dequantize());
}

/// Σ_t weight_t · ‖Y_t − Q_t‖².
double weightedQuantizationError(const Matrix &y, const Matrix &quantized,
                                 const std::vector<double> &tokenWeights) {
  double error = 0.0;
  for (int64_t r = 0; r < y.rows; ++r) {
    double rowError = 0.0;
    for (int64_t c = 0; c < y.cols; ++c) {
      double diff = y(r, c) - quantized(r, c);
      rowError += diff * diff;
    }
    error += tokenWeights[r] * rowError;
  }
  return error;
}

/// `massiveWeight` for tokens whose absmax exceeds `threshold` times the
/// median token absmax, 1 for the rest.
std::vector<double> massiveTokenWeights(const Matrix &x, double massiveWeight,
                                        double threshold) {
  std::vector<double> absMax(x.rows, 0.0);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t c = 0; c < x.cols; ++c)
      absMax[r] = std::max(absMax[r], std::abs(x(r, c)));
  std::vector<double> sorted = absMax;
  auto middle = sorted.begin() + sorted.size() / 2;
  std::nth_element(sorted.begin(), middle, sorted.end());
  double median = sorted.empty() ? 0.0 : *middle;

  std::vector<double> weights(x.rows, 1.0);
  for (int64_t r = 0; r < x.rows; ++r)
    if (absMax[r] > threshold * median)
      weights[r] = massiveWeight;
  return weights;
}

} // namespace

std::vector<double>
smoothingFactors(const std::vector<double> &activationAbsMax,
                 const std::vector<double> &weightAbsMax, double alpha) {
  assert(activationAbsMax.size() == weightAbsMax.size() &&
         "one activation and one weight maximum per channel");
  const double floor = 1e-5;
  std::vector<double> factors(activationAbsMax.size(), 1.0);
  for (size_t j = 0; j < factors.size(); ++j) {
    // A channel that is dead on either side contributes nothing to X·W; any
    // factor is exact there, and 1 keeps the other side's values unchanged.
    if (!(activationAbsMax[j] > 0.0) || !(weightAbsMax[j] > 0.0))
      continue;
    factors[j] = std::pow(std::max(activationAbsMax[j], floor), alpha) /
                 std::pow(std::max(weightAbsMax[j], floor), 1.0 - alpha);
  }
  return factors;
}

SmoothingSearchResult searchSmoothing(const Matrix &x, const Matrix &weight,
                                      unsigned activationBits,
                                      const WeightQuantScheme &weightScheme,
                                      int steps) {
  assert(steps > 0 && "the alpha grid needs at least one step");
  Matrix reference = matmul(x, weight);
  std::vector<double> activationAbsMax = columnAbsMax(x);
  std::vector<double> weightAbsMax = rowAbsMax(weight);
  double elements = static_cast<double>(reference.rows * reference.cols);

  SmoothingSearchResult best;
  best.mse = std::numeric_limits<double>::infinity();
  for (int step = 0; step <= steps; ++step) {
    double alpha = static_cast<double>(step) / steps;
    std::vector<double> factors =
        smoothingFactors(activationAbsMax, weightAbsMax, alpha);
    double mse =
        squaredDistance(reference,
                        smoothedQuantizedOutput(x, weight, factors,
                                                activationBits, weightScheme)) /
        elements;
    if (mse < best.mse) {
      best.alpha = alpha;
      best.mse = mse;
      best.factors = std::move(factors);
    }
  }
  return best;
}

Matrix randomizedHadamard(int64_t n, uint64_t seed,
                          std::vector<int8_t> *signs) {
  assert(isSupportedHadamardSize(n) && "unsupported Hadamard size");
  std::mt19937_64 generator(seed);
  std::vector<int8_t> drawnSigns(n);
  for (int8_t &sign : drawnSigns)
    sign = (generator() >> 63) ? -1 : 1;

  std::vector<int8_t> hadamard = hadamardMatrix(n);
  double normalization = 1.0 / std::sqrt(static_cast<double>(n));
  Matrix rotation(n, n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j)
      rotation(i, j) = drawnSigns[i] * hadamard[i * n + j] * normalization;
  if (signs)
    *signs = std::move(drawnSigns);
  return rotation;
}

Matrix randomOrthogonal(int64_t n, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Matrix gaussian(n, n);
  for (double &v : gaussian.data)
    v = normal(generator);
  return orthogonalFactor(gaussian);
}

Matrix procrustesRefine(const Matrix &x, const Matrix &initial, unsigned bits,
                        int iterations, double massiveWeight,
                        double massiveThreshold) {
  assert(initial.rows == x.cols && initial.cols == x.cols &&
         "rotation must be square over the channels of x");
  std::vector<double> tokenWeights =
      massiveTokenWeights(x, massiveWeight, massiveThreshold);

  Matrix rotation = initial;
  Matrix best = initial;
  double bestError = std::numeric_limits<double>::infinity();
  for (int iteration = 0; iteration <= iterations; ++iteration) {
    Matrix rotated = matmul(x, rotation);
    Matrix quantized = fakeQuantizePerToken(rotated, bits);
    double error = weightedQuantizationError(rotated, quantized, tokenWeights);
    if (!(error < bestError))
      break;
    best = rotation;
    bestError = error;
    if (iteration == iterations)
      break;

    // With Q fixed, min_R Σ_t w_t ‖X_t·R − Q_t‖² over orthogonal R is the
    // Procrustes problem: R = U·Vᵀ for Xᵀ·diag(w)·Q = U·Σ·Vᵀ.
    for (int64_t r = 0; r < quantized.rows; ++r)
      for (int64_t c = 0; c < quantized.cols; ++c)
        quantized(r, c) *= tokenWeights[r];
    SVD decomposition = svd(matmulTransposedLhs(x, quantized));
    rotation = matmul(decomposition.u, decomposition.vt);
  }
  return best;
}

double orthogonalityError(const Matrix &r) {
  Matrix gram = matmulTransposedLhs(r, r);
  double error = 0.0;
  for (int64_t i = 0; i < gram.rows; ++i)
    for (int64_t j = 0; j < gram.cols; ++j)
      error = std::max(error, std::abs(gram(i, j) - (i == j ? 1.0 : 0.0)));
  return error;
}

} // namespace quant
