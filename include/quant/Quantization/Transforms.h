//===- Transforms.h - exact transforms: smoothing and rotations --*- C++ -*-===//

#ifndef QUANT_QUANTIZATION_TRANSFORMS_H
#define QUANT_QUANTIZATION_TRANSFORMS_H

#include "quant/Quantization/Matrix.h"
#include "quant/Quantization/Quantizer.h"

#include <cstdint>
#include <vector>

namespace quant {

/// SmoothQuant migration strength per input channel j:
///   s_j = max|X_j|^α / max|W_j|^(1−α),
/// with both maxima clamped below at 1e-5; a channel dead on either side
/// (maximum 0) keeps s = 1 rather than 0 or ∞.
/// X·W == (X·diag(1/s))·(diag(s)·W).
std::vector<double> smoothingFactors(const std::vector<double> &activationAbsMax,
                                     const std::vector<double> &weightAbsMax,
                                     double alpha);

/// AWQ-style search: the α on the grid {0, 1/steps, …, 1} whose smoothed,
/// quantized layer output Q_a(X·diag(1/s))·Q_w(diag(s)·W) is closest (MSE) to
/// X·W. Ties keep the smaller α.
struct SmoothingSearchResult {
  double alpha = 0.5;
  double mse = 0.0;
  std::vector<double> factors;
};
SmoothingSearchResult searchSmoothing(const Matrix &x, const Matrix &weight,
                                      unsigned activationBits,
                                      const WeightQuantScheme &weightScheme,
                                      int steps = 20);

/// Randomized Hadamard rotation R = diag(signs)·H/√n with signs drawn from
/// `seed` (n must be a supported Hadamard size). Also returns the signs.
Matrix randomizedHadamard(int64_t n, uint64_t seed,
                          std::vector<int8_t> *signs = nullptr);

/// Haar-random orthogonal matrix: Q of the QR decomposition of a Gaussian
/// matrix drawn from `seed`.
Matrix randomOrthogonal(int64_t n, uint64_t seed);

/// DFRot refinement: starting from R0, alternate Q = Q_a(X·R) (per-token,
/// `bits`) and the orthogonal Procrustes update R = U·Vᵀ from the SVD of
/// Xᵀ·W·Q, where W weights token t by `massiveWeight` when its absmax is
/// above `massiveThreshold` times the median token absmax, else 1. Stops
/// after `iterations` or when the weighted error stops decreasing; returns
/// the best R seen.
Matrix procrustesRefine(const Matrix &x, const Matrix &initial, unsigned bits,
                        int iterations = 20, double massiveWeight = 50.0,
                        double massiveThreshold = 20.0);

/// Checks RᵀR ≈ I: max |(RᵀR − I)_ij|.
double orthogonalityError(const Matrix &r);

} // namespace quant

#endif // QUANT_QUANTIZATION_TRANSFORMS_H
