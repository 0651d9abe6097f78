//===- QuantizerTest.cpp - grid, RTN and GPTQ against naive references ----===//

#include "Reference.h"

#include "quant/Quantization/Quantizer.h"

#include <gtest/gtest.h>

using namespace quant;
using namespace quant::reference;

namespace {

const unsigned kBitWidths[] = {2, 3, 4, 8};
const int64_t kGroups[] = {0, 32, 64, 128};

TEST(QuantizerTest, RoundHalfToEvenOnExactTies) {
  std::mt19937_64 rng = freshGenerator();
  std::uniform_int_distribution<int64_t> integer(-100000, 100000);
  std::normal_distribution<double> normal(0.0, 1000.0);
  for (int i = 0; i < 10000; ++i) {
    int64_t m = integer(rng);
    double tie = static_cast<double>(m) + 0.5;
    double even = (m % 2 == 0) ? static_cast<double>(m) : m + 1.0;
    ASSERT_EQ(roundHalfToEven(tie), even) << tie;
    ASSERT_EQ(roundHalfToEven(-tie), -even) << -tie;
    double x = normal(rng);
    ASSERT_EQ(roundHalfToEven(x), roundEven(x)) << x;
  }
  EXPECT_EQ(roundHalfToEven(0.5), 0.0);
  EXPECT_EQ(roundHalfToEven(1.5), 2.0);
  EXPECT_EQ(roundHalfToEven(2.5), 2.0);
  EXPECT_EQ(roundHalfToEven(-2.5), -2.0);
  EXPECT_EQ(roundHalfToEven(0.49999999999999994), 0.0);
  EXPECT_EQ(roundHalfToEven(4503599627370497.0), 4503599627370497.0);
}

TEST(QuantizerTest, QuantizeValueBitExactWithTiesAndSaturation) {
  std::mt19937_64 rng = freshGenerator();
  std::uniform_real_distribution<double> logScale(-6.0, 2.0);
  std::uniform_int_distribution<int> exponent(-6, 3);
  for (unsigned bits : kBitWidths)
    for (bool isSigned : {true, false}) {
      Range range = isSigned ? signedRange(bits) : unsignedRange(bits);
      std::uniform_int_distribution<int32_t> zeroPoint(
          isSigned ? 0 : static_cast<int32_t>(range.min),
          isSigned ? 0 : static_cast<int32_t>(range.max));
      // Steps reach twice past either end of the grid to force saturation.
      std::uniform_int_distribution<int64_t> step(2 * range.min - 2,
                                                  2 * range.max + 2);
      int ties = 0, saturated = 0;
      for (int i = 0; i < 4000; ++i) {
        // A power-of-two scale makes (m + 0.5)·scale / scale an exact tie.
        double scale = std::ldexp(1.0, exponent(rng));
        int32_t zp = zeroPoint(rng);
        double x = (static_cast<double>(step(rng)) + 0.5) * scale;
        int32_t expected = quantize(x, scale, zp, bits, isSigned);
        ASSERT_EQ(quantizeValue(x, scale, zp, bits, isSigned), expected)
            << "x=" << x << " scale=" << scale << " zp=" << zp
            << " bits=" << bits;
        ++ties;
        saturated += expected == range.min || expected == range.max;

        double arbitraryScale = std::pow(10.0, logScale(rng));
        double y = (static_cast<double>(step(rng)) +
                    std::uniform_real_distribution<double>(-1, 1)(rng)) *
                   arbitraryScale;
        ASSERT_EQ(quantizeValue(y, arbitraryScale, zp, bits, isSigned),
                  quantize(y, arbitraryScale, zp, bits, isSigned))
            << "y=" << y << " scale=" << arbitraryScale << " zp=" << zp
            << " bits=" << bits;
      }
      EXPECT_GT(ties, 0);
      EXPECT_GT(saturated, 100) << "bits=" << bits;
    }
  // Far outside int32 must saturate, not overflow.
  EXPECT_EQ(quantizeValue(1e300, 1e-10, 0, 8, true), 127);
  EXPECT_EQ(quantizeValue(-1e300, 1e-10, 0, 8, true), -128);
  EXPECT_EQ(quantizeValue(-1e300, 1e-10, 7, 4, false), 0);
}

TEST(QuantizerTest, ChooseGridMatchesReference) {
  std::mt19937_64 rng = freshGenerator();
  std::normal_distribution<double> normal(0.0, 3.0);
  for (unsigned bits : kBitWidths)
    for (bool symmetric : {true, false})
      for (int i = 0; i < 500; ++i) {
        double a = normal(rng), b = normal(rng) + (i % 3) * 4.0;
        double lo = std::min(a, b), hi = std::max(a, b);
        Grid expected = grid(lo, hi, bits, symmetric);
        QuantGrid got = chooseGrid(lo, hi, bits, symmetric);
        ASSERT_EQ(got.scale, expected.scale) << lo << " " << hi;
        ASSERT_EQ(got.zeroPoint, expected.zeroPoint) << lo << " " << hi;
      }
  QuantGrid zeroRange = chooseGrid(0.0, 0.0, 4, false);
  EXPECT_EQ(zeroRange.scale, 1.0);
  EXPECT_EQ(zeroRange.zeroPoint, 0);
}

/// Gaussian weight where about half of the (group, column) slices are built
/// so that the grid's scale is a power of two and every value is an exact
/// tie x/scale = m + 0.5, the end points included to pin the range.
Matrix weightWithTies(int64_t rows, int64_t cols, int64_t group, unsigned bits,
                      bool symmetric, std::mt19937_64 &rng) {
  Matrix w = gaussian(rows, cols, rng);
  int64_t length = group == 0 ? rows : group;
  std::uniform_int_distribution<int> exponent(-5, 2);
  std::bernoulli_distribution coin(0.5);
  for (int64_t c = 0; c < cols; ++c)
    for (int64_t begin = 0; begin < rows; begin += length) {
      if (!coin(rng))
        continue;
      double scale = std::ldexp(1.0, exponent(rng));
      int64_t lowStep, highStep; // grid range in units of scale
      if (symmetric) {
        highStep = signedRange(bits).max;
        lowStep = -highStep;
      } else {
        int64_t levels = unsignedRange(bits).max;
        lowStep = -std::uniform_int_distribution<int64_t>(0, levels)(rng);
        highStep = lowStep + levels;
      }
      std::uniform_int_distribution<int64_t> step(lowStep, highStep - 1);
      for (int64_t r = begin; r < begin + length; ++r)
        w(r, c) = (static_cast<double>(step(rng)) + 0.5) * scale;
      w(begin, c) = static_cast<double>(lowStep) * scale;
      w(begin + 1, c) = static_cast<double>(highStep) * scale;
    }
  return w;
}

TEST(QuantizerTest, RtnBitExactEveryWidthSchemeAndGroup) {
  std::mt19937_64 rng = freshGenerator();
  const int64_t rows = 256, cols = 24;
  for (unsigned bits : kBitWidths)
    for (bool symmetric : {true, false})
      for (int64_t group : kGroups) {
        Matrix w = weightWithTies(rows, cols, group, bits, symmetric, rng);
        Quantized expected = quantizeWeight(w, bits, group, symmetric);
        QuantizedWeight got =
            quantizeRTN(w, WeightQuantScheme{bits, group, symmetric});
        std::string where = "bits=" + std::to_string(bits) +
                            " symmetric=" + std::to_string(symmetric) +
                            " group=" + std::to_string(group);
        ASSERT_EQ(got.rows, rows) << where;
        ASSERT_EQ(got.cols, cols) << where;
        ASSERT_EQ(got.groups, group == 0 ? 1 : rows / group) << where;
        ASSERT_EQ(got.values, expected.values) << where;
        ASSERT_EQ(got.scales, expected.scales) << where;
        ASSERT_EQ(got.zeroPoints, expected.zeroPoints) << where;
        ASSERT_EQ(got.dequantize().data, expected.dequantized.data) << where;

        int ties = 0;
        int64_t length = group == 0 ? rows : group;
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c) {
            double ratio = w(r, c) / expected.scales[(r / length) * cols + c];
            ties += ratio - std::floor(ratio) == 0.5;
          }
        EXPECT_GT(ties, 0) << where;
      }
}

TEST(QuantizerTest, FakeQuantizePerTokenMatchesReference) {
  std::mt19937_64 rng = freshGenerator();
  Matrix x = gaussian(64, 96, rng);
  for (int64_t c = 0; c < x.cols; ++c)
    x(7, c) = 0.0; // an all-zero token must stay exactly zero
  for (unsigned bits : {4u, 8u}) {
    Matrix got = fakeQuantizePerToken(x, bits);
    ASSERT_EQ(got.data, fakeQuantizeRows(x, bits).data) << "bits=" << bits;
    for (int64_t c = 0; c < x.cols; ++c)
      ASSERT_EQ(got(7, c), 0.0);
  }
}

TEST(QuantizerTest, AbsMaxPerColumnAndRow) {
  std::mt19937_64 rng = freshGenerator();
  Matrix x = gaussian(33, 17, rng);
  std::vector<double> columns = columnAbsMax(x), rows = rowAbsMax(x);
  ASSERT_EQ(columns.size(), 17u);
  ASSERT_EQ(rows.size(), 33u);
  for (int64_t c = 0; c < 17; ++c) {
    double expected = 0.0;
    for (int64_t r = 0; r < 33; ++r)
      expected = std::max(expected, std::fabs(x(r, c)));
    EXPECT_EQ(columns[c], expected);
  }
  for (int64_t r = 0; r < 33; ++r) {
    double expected = 0.0;
    for (int64_t c = 0; c < 17; ++c)
      expected = std::max(expected, std::fabs(x(r, c)));
    EXPECT_EQ(rows[r], expected);
  }
}

/// Tokens with covariance LᵀL for a random L, the setting where GPTQ's error
/// feedback pays off over independent rounding.
Matrix correlatedActivations(int64_t tokens, int64_t channels,
                             std::mt19937_64 &rng) {
  Matrix z = gaussian(tokens, channels, rng);
  Matrix l = gaussian(channels, channels, rng,
                      1.0 / std::sqrt(static_cast<double>(channels)));
  for (int64_t i = 0; i < channels; ++i)
    l(i, i) += 0.2;
  return multiply(z, l);
}

TEST(QuantizerTest, GptqBeatsRtnOnCorrelatedInputs) {
  std::mt19937_64 rng = freshGenerator();
  const int64_t tokens = 512, channels = 256, outputs = 96;
  Matrix x = correlatedActivations(tokens, channels, rng);
  Matrix w = gaussian(channels, outputs, rng);
  Matrix hessian = multiply(x.transposed(), x);
  Matrix reference = multiply(x, w);

  for (unsigned bits : {3u, 4u})
    for (int64_t group : {int64_t(0), int64_t(128)})
      for (bool symmetric : {true, false}) {
        WeightQuantScheme scheme{bits, group, symmetric};
        QuantizedWeight gptq = quantizeGPTQ(w, hessian, scheme);
        Quantized rtn = quantizeWeight(w, bits, group, symmetric);

        std::string where = "bits=" + std::to_string(bits) +
                            " group=" + std::to_string(group) +
                            " symmetric=" + std::to_string(symmetric);
        // GPTQ changes which grid point each weight lands on, never the
        // grid's shape: values stay in range, and per-channel scales are
        // RTN's (chosen once, before any error feedback).
        Range range = symmetric ? signedRange(bits) : unsignedRange(bits);
        for (int32_t v : gptq.values)
          ASSERT_TRUE(v >= range.min && v <= range.max) << where;
        if (group == 0) {
          EXPECT_EQ(gptq.scales, rtn.scales) << where;
          EXPECT_EQ(gptq.zeroPoints, rtn.zeroPoints) << where;
        }

        Matrix dequantized(channels, outputs);
        int64_t length = group == 0 ? channels : group;
        for (int64_t k = 0; k < channels; ++k)
          for (int64_t n = 0; n < outputs; ++n) {
            int64_t slot = (k / length) * outputs + n;
            dequantized(k, n) =
                (gptq.values[k * outputs + n] - gptq.zeroPoints[slot]) *
                gptq.scales[slot];
          }
        double gptqError = squaredError(reference, multiply(x, dequantized));
        double rtnError = squaredError(reference, multiply(x, rtn.dequantized));
        std::cout << "[ gptq     ] " << where << "  output MSE rtn "
                  << rtnError / (tokens * outputs) << "  gptq "
                  << gptqError / (tokens * outputs) << "\n";
        EXPECT_LT(gptqError, rtnError) << where;
      }
}

TEST(QuantizerTest, GptqEqualsRtnForWeightsOnTheGrid) {
  std::mt19937_64 rng = freshGenerator();
  // No rounding error means nothing to feed back.
  const int64_t channels = 64, outputs = 8;
  Matrix w(channels, outputs);
  std::uniform_int_distribution<int> level(-7, 7);
  for (double &v : w.data)
    v = level(rng) * 0.125;
  for (int64_t n = 0; n < outputs; ++n)
    w(0, n) = 7 * 0.125;
  Matrix x = correlatedActivations(128, channels, rng);
  QuantizedWeight gptq =
      quantizeGPTQ(w, multiply(x.transposed(), x), {4, 0, true});
  EXPECT_EQ(gptq.values, quantizeWeight(w, 4, 0, true).values);
}

TEST(QuantizerTest, GptqHandlesDeadInputs) {
  std::mt19937_64 rng = freshGenerator();
  const int64_t channels = 128, outputs = 16;
  Matrix x = correlatedActivations(256, channels, rng);
  for (int64_t t = 0; t < x.rows; ++t)
    x(t, 3) = 0.0;
  Matrix w = gaussian(channels, outputs, rng);
  QuantizedWeight gptq =
      quantizeGPTQ(w, multiply(x.transposed(), x), {4, 32, true});
  for (int64_t n = 0; n < outputs; ++n)
    EXPECT_EQ(gptq.values[3 * outputs + n], 0);
  Matrix reference = multiply(x, w);
  EXPECT_LT(
      squaredError(reference, multiply(x, gptq.dequantize())),
      squaredError(reference,
                   multiply(x, quantizeWeight(w, 4, 32, true).dequantized)));
}

} // namespace
