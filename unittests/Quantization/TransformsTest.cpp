//===- TransformsTest.cpp - smoothing and rotations against references ----===//

#include "Reference.h"

#include "quant/Quantization/Transforms.h"
#include "quant/Support/Hadamard.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iomanip>
#include <numeric>

using namespace quant;
using namespace quant::reference;

namespace {

/// s_j = max(a_j, 1e-5)^α / max(w_j, 1e-5)^(1−α); 1 for dead channels.
std::vector<double> referenceFactors(const Matrix &x, const Matrix &w,
                                     double alpha) {
  std::vector<double> factors(x.cols, 1.0);
  for (int64_t j = 0; j < x.cols; ++j) {
    double a = 0.0, b = 0.0;
    for (int64_t t = 0; t < x.rows; ++t)
      a = std::max(a, std::fabs(x(t, j)));
    for (int64_t n = 0; n < w.cols; ++n)
      b = std::max(b, std::fabs(w(j, n)));
    if (a > 0.0 && b > 0.0)
      factors[j] = std::pow(std::max(a, 1e-5), alpha) /
                   std::pow(std::max(b, 1e-5), 1.0 - alpha);
  }
  return factors;
}

/// X·diag(1/s).
Matrix divideColumns(const Matrix &x, const std::vector<double> &factors) {
  Matrix result = x;
  for (int64_t t = 0; t < x.rows; ++t)
    for (int64_t j = 0; j < x.cols; ++j)
      result(t, j) = x(t, j) / factors[j];
  return result;
}

/// diag(s)·W.
Matrix scaleRows(const Matrix &w, const std::vector<double> &factors) {
  Matrix result = w;
  for (int64_t j = 0; j < w.rows; ++j)
    for (int64_t n = 0; n < w.cols; ++n)
      result(j, n) = w(j, n) * factors[j];
  return result;
}

/// Tokens of an LLM hidden state as seen at width 4096: Gaussian channels,
/// 4 outlier channels at ×50–×100 and 3 tokens with massive activations
/// (×1000) on 2 fixed channels. Narrower widths scale every gain by
/// sqrt(channels / 4096) so that outliers and massive tokens keep the share
/// of the energy they have at 4096. Unscaled at 256 channels, the outlier
/// channels would carry 99% of every token, and W4A4 error would measure the
/// weight rows of those few channels rather than activation outliers.
struct LlmLikeActivations {
  Matrix x;
  std::vector<int64_t> massiveTokens;
};

LlmLikeActivations llmLikeActivations(int64_t tokens, int64_t channels,
                                      std::mt19937_64 &rng) {
  const double widthScale = std::sqrt(static_cast<double>(channels) / 4096.0);
  LlmLikeActivations result{gaussian(tokens, channels, rng), {}};

  std::vector<int64_t> channelOrder(channels), tokenOrder(tokens);
  std::iota(channelOrder.begin(), channelOrder.end(), 0);
  std::iota(tokenOrder.begin(), tokenOrder.end(), 0);
  std::shuffle(channelOrder.begin(), channelOrder.end(), rng);
  std::shuffle(tokenOrder.begin(), tokenOrder.end(), rng);

  std::uniform_real_distribution<double> outlierGain(50.0, 100.0);
  for (int i = 0; i < 4; ++i) {
    double gain = outlierGain(rng) * widthScale;
    for (int64_t t = 0; t < tokens; ++t)
      result.x(t, channelOrder[i]) *= gain;
  }
  std::uniform_real_distribution<double> massiveGain(700.0, 1000.0);
  std::bernoulli_distribution negative(0.5);
  for (int i = 0; i < 3; ++i) {
    int64_t t = tokenOrder[i];
    result.massiveTokens.push_back(t);
    for (int64_t c : {channelOrder[4], channelOrder[5]})
      result.x(t, c) =
          (negative(rng) ? -1.0 : 1.0) * massiveGain(rng) * widthScale;
  }
  return result;
}

TEST(TransformsTest, SmoothingFactorsMatchFormula) {
  std::mt19937_64 rng = freshGenerator();
  Matrix x = llmLikeActivations(64, 32, rng).x;
  Matrix w = gaussian(32, 16, rng);
  for (int64_t t = 0; t < x.rows; ++t)
    x(t, 4) = 0.0;
  for (int64_t n = 0; n < w.cols; ++n)
    w(9, n) = 0.0;
  for (int64_t t = 0; t < x.rows; ++t)
    x(t, 11) *= 1e-7; // tiny but alive: the 1e-5 floor applies
  for (double alpha : {0.0, 0.25, 0.5, 0.85, 1.0}) {
    std::vector<double> got =
        smoothingFactors(columnAbsMax(x), rowAbsMax(w), alpha);
    std::vector<double> expected = referenceFactors(x, w, alpha);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t j = 0; j < got.size(); ++j)
      EXPECT_NEAR(got[j], expected[j], 1e-14 * expected[j])
          << "alpha=" << alpha << " j=" << j;
    EXPECT_EQ(got[4], 1.0);
    EXPECT_EQ(got[9], 1.0);
  }
}

TEST(TransformsTest, SmoothingFoldIsExact) {
  std::mt19937_64 rng = freshGenerator();
  Matrix x = llmLikeActivations(128, 256, rng).x;
  Matrix w = gaussian(256, 64, rng);
  Matrix reference = multiply(x, w);
  for (double alpha : {0.3, 0.5, 0.8}) {
    std::vector<double> s =
        smoothingFactors(columnAbsMax(x), rowAbsMax(w), alpha);
    Matrix foldedInput = divideColumns(x, s);
    Matrix foldedWeight = scaleRows(w, s);
    EXPECT_LE(relativeError(reference, multiply(foldedInput, foldedWeight)),
              1e-12)
        << "alpha=" << alpha;

    // A float32 model stores the folded weight in float32.
    Matrix storedWeight = foldedWeight;
    for (double &v : storedWeight.data)
      v = static_cast<float>(v);
    EXPECT_LE(relativeError(reference, multiply(foldedInput, storedWeight)),
              1e-5)
        << "alpha=" << alpha;
  }
}

TEST(TransformsTest, RandomizedHadamardIsSignedNormalizedHadamard) {
  std::mt19937_64 rng = freshGenerator();
  for (int64_t n : {4, 12, 64, 256, 20 * 8, 28 * 4}) {
    uint64_t seed = rng();
    std::vector<int8_t> signs;
    Matrix r = randomizedHadamard(n, seed, &signs);
    ASSERT_EQ(static_cast<int64_t>(signs.size()), n);
    EXPECT_LT(orthogonalityError(r), 1e-12) << "n = " << n;
    EXPECT_EQ(randomizedHadamard(n, seed).data, r.data) << "not deterministic";

    // x·R = (x ⊙ signs)·H/√n, through the fast transform.
    Matrix x = gaussian(3, n, rng);
    Matrix rotated = multiply(x, r);
    for (int64_t t = 0; t < x.rows; ++t) {
      std::vector<double> row(n);
      for (int64_t i = 0; i < n; ++i)
        row[i] = x(t, i) * signs[i];
      fastHadamardTransform(row.data(), n);
      for (int64_t j = 0; j < n; ++j)
        ASSERT_NEAR(rotated(t, j), row[j], 1e-12) << "n = " << n;
    }
    int negative = 0;
    for (int8_t sign : signs) {
      ASSERT_TRUE(sign == 1 || sign == -1);
      negative += sign < 0;
    }
    if (n >= 64) {
      EXPECT_GT(negative, 0);
      EXPECT_LT(negative, n);
    }
  }
}

TEST(TransformsTest, RandomOrthogonalIsOrthogonalAndSeeded) {
  std::mt19937_64 rng = freshGenerator();
  for (int64_t n : {2, 17, 128, 256}) {
    uint64_t seed = rng();
    Matrix r = randomOrthogonal(n, seed);
    EXPECT_LT(orthogonalityError(r), 1e-12) << "n = " << n;
    EXPECT_EQ(randomOrthogonal(n, seed).data, r.data);
    EXPECT_NE(randomOrthogonal(n, seed + 1).data, r.data);
  }
}

TEST(TransformsTest, OrthogonalityErrorDetectsDeviation) {
  std::mt19937_64 rng = freshGenerator();
  // Stretching one column by (1 + ε) moves exactly one Gram entry, the
  // diagonal one, by (1 + ε)² − 1.
  Matrix r = randomOrthogonal(32, rng());
  const double stretch = 1e-4;
  for (int64_t i = 0; i < r.rows; ++i)
    r(i, 5) *= 1.0 + stretch;
  EXPECT_NEAR(orthogonalityError(r), stretch * (2.0 + stretch), 1e-12);
  EXPECT_EQ(orthogonalityError(Matrix::identity(8)), 0.0);
}

/// W4A4 output of one layer X·W after a transform of (X, W) that leaves
/// X·W unchanged in exact arithmetic.
struct W4A4Result {
  double sqnr, mse, massiveRowsError;
};

W4A4Result w4a4(const Matrix &reference, const Matrix &x, const Matrix &w,
                const std::vector<int64_t> &massiveTokens, int64_t group) {
  Matrix output = multiply(fakeQuantizeRows(x, 4),
                           quantizeWeight(w, 4, group, true).dequantized);
  double noise = squaredError(reference, output);
  double massive = 0.0;
  for (int64_t t : massiveTokens)
    for (int64_t n = 0; n < output.cols; ++n)
      massive +=
          (reference(t, n) - output(t, n)) * (reference(t, n) - output(t, n));
  return {10.0 * std::log10(sumOfSquares(reference) / noise),
          noise / static_cast<double>(output.data.size()), massive};
}

/// Σ over `tokens` of ‖(X·R)_t − Q_a(X·R)_t‖², the quantity DFRot targets.
double activationErrorOnTokens(const Matrix &x, const Matrix &rotation,
                               const std::vector<int64_t> &tokens) {
  Matrix rotated = multiply(x, rotation);
  Matrix quantized = fakeQuantizeRows(rotated, 4);
  double error = 0.0;
  for (int64_t t : tokens)
    for (int64_t c = 0; c < rotated.cols; ++c)
      error +=
          (rotated(t, c) - quantized(t, c)) * (rotated(t, c) - quantized(t, c));
  return error;
}

TEST(TransformsTest, W4A4OutlierHandlingOrdering) {
  std::mt19937_64 rng = freshGenerator();
  // An up-projection shape; the 4× wider output also averages out the
  // rotation-dependent weight rounding noise on the few massive rows.
  const int64_t tokens = 512, channels = 256, outputs = 1024;
  LlmLikeActivations activations = llmLikeActivations(tokens, channels, rng);
  const Matrix &x = activations.x;
  const std::vector<int64_t> &massive = activations.massiveTokens;
  Matrix w = gaussian(channels, outputs, rng);
  Matrix reference = multiply(x, w);

  std::vector<double> s = smoothingFactors(columnAbsMax(x), rowAbsMax(w), 0.5);
  Matrix hadamard = randomizedHadamard(channels, rng());
  // The massive tokens stand about 5–8× above the median token absmax here
  // (the outlier channels set the median), below the default threshold.
  Matrix procrustes = procrustesRefine(x, hadamard, 4, /*iterations=*/20,
                                       /*massiveWeight=*/50.0,
                                       /*massiveThreshold=*/3.0);
  EXPECT_LT(orthogonalityError(procrustes), 1e-12);

  double hadamardActivationError =
      activationErrorOnTokens(x, hadamard, massive);
  double procrustesActivationError =
      activationErrorOnTokens(x, procrustes, massive);
  std::cout << "[ w4a4     ] massive tokens' 4-bit activation error: hadamard "
            << hadamardActivationError << ", procrustes "
            << procrustesActivationError << "\n";
  EXPECT_LT(procrustesActivationError, hadamardActivationError);

  for (int64_t group : {int64_t(0), int64_t(128)}) {
    W4A4Result none = w4a4(reference, x, w, massive, group);
    W4A4Result smooth =
        w4a4(reference, divideColumns(x, s), scaleRows(w, s), massive, group);
    W4A4Result rotated =
        w4a4(reference, multiply(x, hadamard),
             multiply(hadamard.transposed(), w), massive, group);
    W4A4Result refined =
        w4a4(reference, multiply(x, procrustes),
             multiply(procrustes.transposed(), w), massive, group);

    std::cout << "[ w4a4     ] " << tokens << "x" << channels << " · "
              << channels << "x" << outputs << ", weights "
              << (group == 0 ? std::string("per-channel")
                             : "group " + std::to_string(group))
              << ", activations per-token, both 4-bit symmetric RTN\n";
    std::cout << "[ w4a4     ] " << std::setw(12) << "transform"
              << std::setw(10) << "SQNR dB" << std::setw(12) << "MSE"
              << std::setw(22) << "massive-rows SSE\n";
    for (auto [name, result] :
         {std::pair<const char *, const W4A4Result *>{"none", &none},
          {"smooth", &smooth},
          {"hadamard", &rotated},
          {"procrustes", &refined}})
      std::cout << "[ w4a4     ] " << std::setw(12) << name << std::fixed
                << std::setprecision(2) << std::setw(10) << result->sqnr
                << std::scientific << std::setprecision(3) << std::setw(12)
                << result->mse << std::setw(21) << result->massiveRowsError
                << std::defaultfloat << "\n";

    EXPECT_LT(none.sqnr, smooth.sqnr);
    EXPECT_LT(smooth.sqnr, rotated.sqnr);
    EXPECT_LT(refined.massiveRowsError, rotated.massiveRowsError);
  }
}

TEST(TransformsTest, ProcrustesRefineReducesWeightedActivationError) {
  std::mt19937_64 rng = freshGenerator();
  LlmLikeActivations activations = llmLikeActivations(256, 64, rng);
  const Matrix &x = activations.x;
  const double massiveWeight = 50.0, massiveThreshold = 3.0;

  std::vector<double> tokenAbsMax(x.rows, 0.0);
  for (int64_t t = 0; t < x.rows; ++t)
    for (int64_t c = 0; c < x.cols; ++c)
      tokenAbsMax[t] = std::max(tokenAbsMax[t], std::fabs(x(t, c)));
  std::vector<double> sorted = tokenAbsMax;
  std::sort(sorted.begin(), sorted.end());
  double median = sorted[sorted.size() / 2];
  auto weightedError = [&](const Matrix &r) {
    Matrix rotated = multiply(x, r);
    Matrix quantized = fakeQuantizeRows(rotated, 4);
    double error = 0.0;
    for (int64_t t = 0; t < x.rows; ++t) {
      double weight =
          tokenAbsMax[t] > massiveThreshold * median ? massiveWeight : 1.0;
      for (int64_t c = 0; c < x.cols; ++c)
        error += weight * (rotated(t, c) - quantized(t, c)) *
                 (rotated(t, c) - quantized(t, c));
    }
    return error;
  };

  for (const Matrix &start :
       {randomizedHadamard(64, rng()), randomOrthogonal(64, rng())}) {
    Matrix refined =
        procrustesRefine(x, start, 4, 10, massiveWeight, massiveThreshold);
    EXPECT_LT(orthogonalityError(refined), 1e-12);
    EXPECT_LT(weightedError(refined), weightedError(start));
    EXPECT_EQ(
        procrustesRefine(x, start, 4, 0, massiveWeight, massiveThreshold).data,
        start.data);
  }
}

TEST(TransformsTest, SearchSmoothingNoWorseThanFixedAlphas) {
  std::mt19937_64 rng = freshGenerator();
  Matrix x = llmLikeActivations(256, 128, rng).x;
  Matrix w = gaussian(128, 64, rng);
  Matrix reference = multiply(x, w);
  const int steps = 20;

  auto independentMse = [&](double alpha, unsigned activationBits,
                            int64_t group) {
    std::vector<double> s = referenceFactors(x, w, alpha);
    Matrix output =
        multiply(fakeQuantizeRows(divideColumns(x, s), activationBits),
                 quantizeWeight(scaleRows(w, s), 4, group, true).dequantized);
    return squaredError(reference, output) /
           static_cast<double>(output.data.size());
  };

  for (unsigned activationBits : {4u, 8u})
    for (int64_t group : {int64_t(0), int64_t(64)}) {
      SmoothingSearchResult result =
          searchSmoothing(x, w, activationBits, {4, group, true}, steps);
      double gridPosition = result.alpha * steps;
      EXPECT_NEAR(gridPosition, std::round(gridPosition), 1e-9);
      EXPECT_GE(result.alpha, 0.0);
      EXPECT_LE(result.alpha, 1.0);

      double atChosen = independentMse(result.alpha, activationBits, group);
      double atZero = independentMse(0.0, activationBits, group);
      double atHalf = independentMse(0.5, activationBits, group);
      std::cout << "[ search   ] a" << activationBits << " group " << group
                << ": alpha " << result.alpha << " MSE " << result.mse
                << " (alpha 0: " << atZero << ", alpha 0.5: " << atHalf
                << ")\n";
      EXPECT_NEAR(result.mse, atChosen, 1e-9 * atChosen);
      EXPECT_LE(atChosen, atZero * (1 + 1e-12));
      EXPECT_LE(atChosen, atHalf * (1 + 1e-12));
      std::vector<double> expected = referenceFactors(x, w, result.alpha);
      ASSERT_EQ(result.factors.size(), expected.size());
      for (size_t j = 0; j < expected.size(); ++j)
        EXPECT_NEAR(result.factors[j], expected[j], 1e-14 * expected[j]);
    }
}

} // namespace
