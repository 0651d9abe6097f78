//===- PillarConvTest.cpp - rulebook and sparse conv against dense --------===//
//
// The pillar kernels of both variants against a float64 dense convolution
// of the scattered pseudo-image, read at the output active set; the active
// set itself against a std::map transcription of the ordering rule in
// UKernels.h. Coordinates are drawn fresh every run from a printed seed and
// include the grid borders; every case runs with 1 and 2 threads.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/Runtime.h"
#include "quant/Runtime/UKernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <vector>

extern "C" {
#define DECLARE_GENERIC(name) decltype(qr_uk_##name) qr_uk_generic_##name;
DECLARE_GENERIC(pillar_rulebook)
DECLARE_GENERIC(pillar_conv_f32)
DECLARE_GENERIC(pillar_conv_s8)
DECLARE_GENERIC(pillar_norms_f32)
#undef DECLARE_GENERIC
}

namespace {

struct Variant {
  const char *name;
  int (*supported)();
  decltype(&qr_uk_pillar_rulebook) rulebook;
  decltype(&qr_uk_pillar_conv_f32) conv_f32;
  decltype(&qr_uk_pillar_conv_s8) conv_s8;
  decltype(&qr_uk_pillar_norms_f32) norms_f32;
};

int always() { return 1; }

const Variant kVariants[] = {
    {"avx512", qr_uk_cpu_supports_avx512_vnni, qr_uk_pillar_rulebook,
     qr_uk_pillar_conv_f32, qr_uk_pillar_conv_s8, qr_uk_pillar_norms_f32},
    {"generic", always, qr_uk_generic_pillar_rulebook,
     qr_uk_generic_pillar_conv_f32, qr_uk_generic_pillar_conv_s8,
     qr_uk_generic_pillar_norms_f32},
};

std::mt19937_64 freshGenerator() {
  uint64_t seed = std::random_device{}();
  std::cout << "[ seed     ] " << seed << "\n";
  return std::mt19937_64(seed);
}

using Site = std::array<int32_t, 3>; // batch, y, x

struct Layer {
  int64_t height, width, kernel, stride;
  bool dilate = false;
  double threshold = 0.0, topkRatio = 0.0;
  int64_t taps() const { return kernel * kernel; }
};

/// `count` distinct sites over `batches`, about a quarter drawn on the
/// border.
std::vector<Site> randomSites(std::mt19937_64 &rng, const Layer &layer,
                              int64_t count, int32_t batches) {
  std::map<Site, bool> seen;
  std::vector<Site> sites;
  std::uniform_int_distribution<int32_t> batch(0, batches - 1);
  std::uniform_int_distribution<int32_t> y(0, layer.height - 1),
      x(0, layer.width - 1), side(0, 15);
  while (static_cast<int64_t>(sites.size()) < count) {
    Site site{batch(rng), y(rng), x(rng)};
    switch (side(rng)) { // pin to a border
    case 0: site[1] = 0; break;
    case 1: site[1] = layer.height - 1; break;
    case 2: site[2] = 0; break;
    case 3: site[2] = layer.width - 1; break;
    default: break;
    }
    if (seen.emplace(site, true).second)
      sites.push_back(site);
  }
  return sites;
}

/// The output sites by the rule of UKernels.h, written with std::map.
std::vector<Site> referenceActiveSet(const Layer &layer,
                                     const std::vector<Site> &inputs,
                                     const std::vector<bool> &important) {
  std::vector<Site> candidates = inputs;
  std::map<Site, bool> present;
  for (const Site &s : inputs)
    present[s] = true;
  int32_t r = layer.kernel / 2;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!layer.dilate || !important[i])
      continue;
    for (int32_t dy = -r; dy <= r; ++dy)
      for (int32_t dx = -r; dx <= r; ++dx) {
        Site s{inputs[i][0], inputs[i][1] + dy, inputs[i][2] + dx};
        if (s[1] < 0 || s[1] >= layer.height || s[2] < 0 ||
            s[2] >= layer.width || present.count(s))
          continue;
        present[s] = true;
        candidates.push_back(s);
      }
  }
  if (layer.stride == 1)
    return candidates;
  std::vector<Site> outputs;
  std::map<Site, bool> halved;
  for (const Site &s : candidates) {
    Site h{s[0], s[1] / 2, s[2] / 2};
    if (halved.emplace(h, true).second)
      outputs.push_back(h);
  }
  return outputs;
}

/// Dense float64 convolution (pad k/2, the layer's stride) of the
/// pseudo-image holding `features` at `inputs`, read at `outputs`.
std::vector<double> referenceConv(const Layer &layer,
                                  const std::vector<Site> &inputs,
                                  const std::vector<double> &features,
                                  const std::vector<double> &weights,
                                  int64_t cin, int64_t cout,
                                  const std::vector<Site> &outputs) {
  int32_t batches = 0;
  for (const Site &s : inputs)
    batches = std::max(batches, s[0] + 1);
  std::vector<double> image(batches * layer.height * layer.width * cin, 0.0);
  auto pixel = [&](int64_t b, int64_t y, int64_t x) {
    return ((b * layer.height + y) * layer.width + x) * cin;
  };
  for (size_t i = 0; i < inputs.size(); ++i)
    for (int64_t c = 0; c < cin; ++c)
      image[pixel(inputs[i][0], inputs[i][1], inputs[i][2]) + c] =
          features[i * cin + c];
  int64_t r = layer.kernel / 2;
  std::vector<double> result(outputs.size() * cout, 0.0);
  for (size_t o = 0; o < outputs.size(); ++o)
    for (int64_t ky = 0; ky < layer.kernel; ++ky)
      for (int64_t kx = 0; kx < layer.kernel; ++kx) {
        int64_t y = layer.stride * outputs[o][1] + ky - r;
        int64_t x = layer.stride * outputs[o][2] + kx - r;
        if (y < 0 || y >= layer.height || x < 0 || x >= layer.width ||
            outputs[o][0] >= batches)
          continue;
        for (int64_t c = 0; c < cin; ++c) {
          double v = image[pixel(outputs[o][0], y, x) + c];
          if (v == 0.0)
            continue;
          for (int64_t n = 0; n < cout; ++n)
            result[o * cout + n] +=
                v * weights[((ky * layer.kernel + kx) * cin + c) * cout + n];
        }
      }
  return result;
}

struct Rulebook {
  std::vector<Site> sites;
  std::vector<int32_t> neighbours;
  int64_t status = 0;
};

Rulebook buildRulebook(const Variant &v, const Layer &layer,
                       const std::vector<Site> &inputs,
                       const std::vector<double> &importance) {
  int64_t n = inputs.size();
  int64_t capacity = layer.dilate ? n * layer.taps() : n;
  std::vector<int32_t> coords(3 * n), outCoords(3 * std::max<int64_t>(capacity, 1));
  for (int64_t i = 0; i < n; ++i)
    std::copy(inputs[i].begin(), inputs[i].end(), coords.begin() + 3 * i);
  std::vector<int32_t> neighbours(std::max<int64_t>(capacity, 1) *
                                  layer.taps());
  int64_t counts[2] = {-1, -1};
  v.rulebook(n, coords.data(), layer.height, layer.width, layer.kernel,
             layer.stride, layer.dilate,
             layer.dilate ? importance.data() : nullptr, layer.threshold,
             layer.topkRatio, capacity, outCoords.data(), neighbours.data(),
             counts);
  Rulebook result;
  result.status = counts[1];
  for (int64_t o = 0; o < counts[0]; ++o)
    result.sites.push_back({outCoords[3 * o], outCoords[3 * o + 1],
                            outCoords[3 * o + 2]});
  neighbours.resize(counts[0] * layer.taps());
  result.neighbours = std::move(neighbours);
  return result;
}

/// Which pillars dilate, by the rule of UKernels.h.
std::vector<bool> referenceImportant(const Layer &layer,
                                     const std::vector<double> &importance) {
  std::vector<bool> important(importance.size(), false);
  if (layer.topkRatio <= 0.0) {
    for (size_t i = 0; i < importance.size(); ++i)
      important[i] = importance[i] >= layer.threshold;
    return important;
  }
  std::vector<size_t> order(importance.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return importance[a] > importance[b];
  });
  int64_t k = qr_uk_pillar_topk_count(importance.size(), layer.topkRatio);
  for (int64_t i = 0; i < k; ++i)
    important[order[i]] = true;
  return important;
}

class PillarConvTest : public ::testing::TestWithParam<int> {
protected:
  void SetUp() override { ASSERT_EQ(qr_set_num_threads(GetParam()), 0); }
};

/// Runs `layer` on `count` random pillars over `batches` with every
/// supported variant: rulebook against the reference active set, f32
/// conv against the dense float64 conv.
void checkLayer(std::mt19937_64 &rng, const Layer &layer, int64_t count,
                int32_t batches, int64_t cin = 24, int64_t cout = 40) {
  std::vector<Site> inputs = randomSites(rng, layer, count, batches);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> features(count * cin);
  for (float &f : features)
    f = value(rng);
  std::vector<float> weights(layer.taps() * cin * cout), bias(cout);
  for (float &w : weights)
    w = value(rng);
  for (float &b : bias)
    b = value(rng);
  std::vector<double> importance(count);

  for (const Variant &v : kVariants) {
    if (!v.supported())
      continue;
    SCOPED_TRACE(v.name);
    v.norms_f32(count, cin, features.data(), cin, importance.data());
    Rulebook book = buildRulebook(v, layer, inputs, importance);
    ASSERT_EQ(book.status, QR_PILLAR_OK);
    std::vector<Site> expected =
        referenceActiveSet(layer, inputs, referenceImportant(layer, importance));
    ASSERT_EQ(book.sites, expected);

    int64_t m = book.sites.size();
    std::vector<float> out(m * cout, NAN);
    v.conv_f32(m, layer.taps(), cin, cout, features.data(),
               book.neighbours.data(), weights.data(), bias.data(), out.data());
    std::vector<double> f64(features.begin(), features.end()),
        w64(weights.begin(), weights.end());
    std::vector<double> reference =
        referenceConv(layer, inputs, f64, w64, cin, cout, book.sites);
    double scale = 1e-30;
    for (double r : reference)
      scale = std::max(scale, std::abs(r));
    for (int64_t i = 0; i < m * cout; ++i)
      ASSERT_NEAR(out[i], reference[i] + bias[i % cout], 1e-5 * scale)
          << "output " << i / cout << " channel " << i % cout;
  }
}

TEST_P(PillarConvTest, SubmanifoldMatchesMaskedDenseConv) {
  std::mt19937_64 rng = freshGenerator();
  checkLayer(rng, {13, 17, 3, 1}, 60, 1);
  checkLayer(rng, {9, 11, 5, 1}, 40, 1);
  // Several blocks of output rows, so that several tasks run.
  checkLayer(rng, {64, 48, 3, 1}, 700, 1, 16, 16);
}

TEST_P(PillarConvTest, StrideTwoDeduplicatesHalvedSites) {
  std::mt19937_64 rng = freshGenerator();
  // Odd sizes: the last output row and column see one input row/column.
  checkLayer(rng, {13, 17, 3, 2}, 80, 2);
  checkLayer(rng, {8, 8, 3, 2}, 64, 1); // every site active
}

TEST_P(PillarConvTest, BatchesStayApart) {
  std::mt19937_64 rng = freshGenerator();
  checkLayer(rng, {7, 9, 3, 1}, 90, 4);
}

TEST_P(PillarConvTest, SelectiveDilationByThreshold) {
  std::mt19937_64 rng = freshGenerator();
  Layer layer{15, 12, 3, 1, /*dilate=*/true, /*threshold=*/2.8};
  checkLayer(rng, layer, 30, 2);
  layer.stride = 2;
  checkLayer(rng, layer, 30, 2);
}

TEST_P(PillarConvTest, SelectiveDilationByTopK) {
  std::mt19937_64 rng = freshGenerator();
  Layer layer{15, 12, 3, 1, /*dilate=*/true, 0.0, /*topkRatio=*/0.25};
  checkLayer(rng, layer, 30, 1);
  layer.kernel = 5;
  checkLayer(rng, layer, 30, 2);
}

TEST_P(PillarConvTest, SelectiveDilationGrowsExactlyTheNeighbourhood) {
  // One important pillar in a corner and one unimportant one: outputs are
  // both inputs, then the corner's 3 new in-grid neighbours in raster order.
  Layer layer{6, 6, 3, 1, /*dilate=*/true, /*threshold=*/1.0};
  std::vector<Site> inputs = {{0, 0, 0}, {0, 4, 4}};
  for (const Variant &v : kVariants) {
    if (!v.supported())
      continue;
    Rulebook book = buildRulebook(v, layer, inputs, {2.0, 0.5});
    ASSERT_EQ(book.status, QR_PILLAR_OK);
    std::vector<Site> expected = {
        {0, 0, 0}, {0, 4, 4}, {0, 0, 1}, {0, 1, 0}, {0, 1, 1}};
    EXPECT_EQ(book.sites, expected);
    // NaN importance never dilates, whatever the threshold.
    book = buildRulebook(v, layer, inputs, {NAN, 0.5});
    EXPECT_EQ(book.sites.size(), 2u);
  }
}

TEST_P(PillarConvTest, TopKTiesGoToTheLowerIndex) {
  Layer layer{5, 20, 1, 1, /*dilate=*/true, 0.0, /*topkRatio=*/0.5};
  EXPECT_EQ(qr_uk_pillar_topk_count(4, 0.5), 2);
  EXPECT_EQ(qr_uk_pillar_topk_count(30, 0.1), 3);
  EXPECT_EQ(qr_uk_pillar_topk_count(10, 0.01), 1);
  EXPECT_EQ(qr_uk_pillar_topk_count(0, 0.5), 0);
  // A 3x3 kernel makes dilation visible; ties at 1.0 between pillars 1-3.
  layer.kernel = 3;
  std::vector<Site> inputs = {{0, 2, 1}, {0, 2, 6}, {0, 2, 11}, {0, 2, 16}};
  for (const Variant &v : kVariants) {
    if (!v.supported())
      continue;
    Rulebook book = buildRulebook(v, layer, inputs, {0.5, 1.0, 1.0, 1.0});
    ASSERT_EQ(book.status, QR_PILLAR_OK);
    // Pillars 1 and 2 dilate (8 new sites each), pillar 3 does not.
    ASSERT_EQ(book.sites.size(), 4u + 16u);
    EXPECT_EQ(book.sites[4], (Site{0, 1, 5}));
    EXPECT_EQ(book.sites[12], (Site{0, 1, 10}));
  }
}

TEST_P(PillarConvTest, SinglePillarSeesOnlyItsCentreTap) {
  std::mt19937_64 rng = freshGenerator();
  checkLayer(rng, {1, 1, 3, 1}, 1, 1, 8, 8);
  checkLayer(rng, {432, 496, 3, 1}, 1, 1, 8, 8);
}

TEST_P(PillarConvTest, EmptyInputGivesEmptyOutput) {
  Layer layer{4, 4, 3, 2, /*dilate=*/true, /*threshold=*/0.0};
  for (const Variant &v : kVariants) {
    if (!v.supported())
      continue;
    Rulebook book = buildRulebook(v, layer, {}, {});
    EXPECT_EQ(book.status, QR_PILLAR_OK);
    EXPECT_TRUE(book.sites.empty());
    v.conv_f32(0, 9, 4, 4, nullptr, nullptr, nullptr, nullptr, nullptr);
  }
}

TEST_P(PillarConvTest, DuplicatesAreRejected) {
  Layer layer{8, 8, 3, 1};
  std::vector<Site> inputs = {{0, 1, 2}, {1, 1, 2}, {0, 5, 5}, {0, 1, 2}};
  for (const Variant &v : kVariants) {
    if (!v.supported())
      continue;
    Rulebook book = buildRulebook(v, layer, inputs, {});
    EXPECT_EQ(book.status, QR_PILLAR_DUPLICATE);
    EXPECT_TRUE(book.sites.empty());
  }
}

TEST_P(PillarConvTest, OutOfGridCoordinatesAreRejected) {
  Layer layer{8, 8, 3, 1};
  for (Site bad : {Site{0, 8, 0}, Site{0, 0, -1}, Site{-1, 0, 0}})
    for (const Variant &v : kVariants) {
      if (!v.supported())
        continue;
      Rulebook book = buildRulebook(v, layer, {{0, 1, 1}, bad}, {});
      EXPECT_EQ(book.status, QR_PILLAR_OUT_OF_GRID);
      EXPECT_TRUE(book.sites.empty());
    }
}

/// Packs `codes` [taps][C_in][C_out] (8- or 4-bit, per-channel scales shared
/// by the taps) as one blob per tap; returns the stride between blobs.
struct PackedTaps {
  std::vector<uint8_t> storage;
  uint8_t *base = nullptr;
  int64_t stride = 0;
};

PackedTaps packTaps(int32_t bits, int64_t taps, int64_t cin, int64_t cout,
                    const std::vector<uint8_t> &codes,
                    const std::vector<float> &scales,
                    const std::vector<int32_t> &zeroPoints) {
  PackedTaps packed;
  size_t bytes = qr_uk_packed_weights_bytes(bits, cin, cout, cin);
  packed.stride = (bytes + 63) / 64 * 64;
  packed.storage.resize(packed.stride * taps + 64);
  packed.base = reinterpret_cast<uint8_t *>(
      (reinterpret_cast<uintptr_t>(packed.storage.data()) + 63) & ~uintptr_t(63));
  for (int64_t t = 0; t < taps; ++t)
    EXPECT_EQ(qr_uk_pack_weights(bits, cin, cout, cin,
                                 codes.data() + t * cin * cout, scales.data(),
                                 zeroPoints.data(),
                                 packed.base + t * packed.stride),
              0);
  return packed;
}

TEST_P(PillarConvTest, QuantizedWeightsMatchDequantizedDenseConv) {
  std::mt19937_64 rng = freshGenerator();
  Layer layer{11, 13, 3, 1};
  int64_t count = 50, cin = 32, cout = 24, taps = layer.taps();
  std::vector<Site> inputs = randomSites(rng, layer, count, 2);
  double aScale = 0.05;
  int32_t aZero = 3;
  std::uniform_int_distribution<int32_t> act(-128, 127);
  std::vector<int8_t> q(count * cin);
  std::vector<double> dequantized(count * cin);
  for (size_t i = 0; i < q.size(); ++i) {
    q[i] = static_cast<int8_t>(act(rng));
    dequantized[i] = (q[i] - aZero) * static_cast<double>(float(aScale));
  }
  for (int32_t bits : {8, 4}) {
    SCOPED_TRACE(bits);
    std::uniform_int_distribution<int32_t> code(0, (1 << bits) - 1);
    std::vector<uint8_t> codes(taps * cin * cout);
    for (uint8_t &c : codes)
      c = code(rng);
    std::vector<float> scales(cout);
    std::vector<int32_t> zeroPoints(cout, 1 << (bits - 1));
    for (float &s : scales)
      s = std::uniform_real_distribution<float>(0.01f, 0.1f)(rng);
    PackedTaps packed =
        packTaps(bits, taps, cin, cout, codes, scales, zeroPoints);
    std::vector<double> weights(codes.size());
    for (size_t i = 0; i < codes.size(); ++i)
      weights[i] = (double(codes[i]) - zeroPoints[i % cout]) * scales[i % cout];
    for (const Variant &v : kVariants) {
      if (!v.supported())
        continue;
      SCOPED_TRACE(v.name);
      Rulebook book = buildRulebook(v, layer, inputs, {});
      ASSERT_EQ(book.status, QR_PILLAR_OK);
      std::vector<float> out(count * cout);
      v.conv_s8(count, taps, cin, cout, q.data(), float(aScale), aZero,
                book.neighbours.data(), packed.base, packed.stride, nullptr,
                out.data());
      std::vector<double> reference =
          referenceConv(layer, inputs, dequantized, weights, cin, cout, inputs);
      double scale = 1e-30;
      for (double r : reference)
        scale = std::max(scale, std::abs(r));
      for (int64_t i = 0; i < count * cout; ++i)
        ASSERT_NEAR(out[i], reference[i], 1e-5 * scale) << "element " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, PillarConvTest, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<int> &info) {
                           return std::to_string(info.param) + "Threads";
                         });

} // namespace
