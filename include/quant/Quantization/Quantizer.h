//===- Quantizer.h - uniform quantization of weights and activations -*- C++ -*-===//
//
// Reference semantics of quant's integer grid, shared by passes, lowerings'
// reference checks and the runtime:
//
//   q = clamp(roundeven(x / scale) + zero_point, qmin, qmax)
//   x ≈ (q − zero_point) · scale
//
// Symmetric: signed storage, zero_point = 0, scale = absmax / qmax
// (qmax = 2^(b−1) − 1, so −2^(b−1) is never produced by rounding of in-range
// values but is accepted on saturation). Asymmetric: unsigned storage
// [0, 2^b − 1], scale = (max − min) / (2^b − 1), zero_point =
// clamp(roundeven(−min / scale)), with the range widened to include 0.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_QUANTIZATION_QUANTIZER_H
#define QUANT_QUANTIZATION_QUANTIZER_H

#include "quant/Quantization/Matrix.h"

#include <cstdint>
#include <vector>

namespace quant {

/// Round half to even, as IEEE roundeven / std::nearbyint in FE_TONEAREST.
double roundHalfToEven(double x);

/// One value onto the grid above (saturating).
int32_t quantizeValue(double x, double scale, int32_t zeroPoint, unsigned bits,
                      bool isSigned);

/// Scale and zero point for values in [lo, hi] (lo ≤ 0 ≤ hi is enforced by
/// widening). A zero range yields scale 1 so that dequantization is exact.
struct QuantGrid {
  double scale = 1.0;
  int32_t zeroPoint = 0;
};
QuantGrid chooseGrid(double lo, double hi, unsigned bits, bool symmetric);

/// Weight quantization scheme: `group == 0` means one group per output
/// channel (the whole reduction dimension).
struct WeightQuantScheme {
  unsigned bits = 4;
  int64_t group = 128;
  bool symmetric = true;
};

/// A K×N weight on the integer grid with [G, N] scales (G = K / group).
struct QuantizedWeight {
  int64_t rows = 0, cols = 0, groups = 1;
  std::vector<int32_t> values;     // K × N, row-major
  std::vector<double> scales;      // G × N
  std::vector<int32_t> zeroPoints; // G × N (all 0 when symmetric)

  Matrix dequantize() const;
};

/// Round-to-nearest quantization of a K×N weight (reduction along rows).
QuantizedWeight quantizeRTN(const Matrix &weight,
                            const WeightQuantScheme &scheme);

/// GPTQ: quantize the rows of W (reduction index k) one at a time, in
/// blocks, compensating each rounding error on the not-yet-quantized rows
/// with the inverse Hessian of H = XᵀX (K×K) — the Cholesky factor of the
/// damped inverse (damp = `dampRatio` · mean(diag H)). Group scales are
/// chosen from the error-updated weights when a group starts, as in the
/// reference implementation.
QuantizedWeight quantizeGPTQ(const Matrix &weight, const Matrix &hessian,
                             const WeightQuantScheme &scheme,
                             double dampRatio = 0.01, int64_t blockSize = 128);

/// Dynamic per-token (per-row) symmetric fake quantization of activations.
Matrix fakeQuantizePerToken(const Matrix &x, unsigned bits);

/// Largest |x| per column (channel).
std::vector<double> columnAbsMax(const Matrix &x);
/// Largest |w| per row (input channel) of a K×N weight.
std::vector<double> rowAbsMax(const Matrix &w);

} // namespace quant

#endif // QUANT_QUANTIZATION_QUANTIZER_H
