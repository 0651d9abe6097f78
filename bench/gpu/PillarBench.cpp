//===- PillarBench.cpp - GPU pillar convolution: checks and timings -------===//
//
// Checks: the GPU rulebook against the CPU one (qr_uk_pillar_rulebook,
// portable variant) element for element, statuses and messages included,
// on random grids (borders, batches, every kernel/stride/dilation mode);
// the three GPU convolutions against a float64 dense convolution of the
// scattered pseudo-image read at the output sites (its own site lookup,
// not the neighbour map); the importance norms against float64.
// Timings: one PointPillars layer (496 × 432, 64 → 64, 3 × 3, submanifold)
// at 3, 8 and 20 % occupancy; bench/gpu/torch_pillar_peer.py times cuDNN's
// dense convolution of the same layer and prints the ratios.
//
//===----------------------------------------------------------------------===//

#include "GpuBench.h"

#include "../common/ClusteredSites.h"

#include "quant/Runtime/GpuKernels.h"
#include "quant/Runtime/UKernels.h"

#include <cuda_fp16.h>

#include <map>
#include <numeric>
#include <random>
#include <tuple>

extern "C" decltype(qr_uk_pillar_rulebook) qr_uk_generic_pillar_rulebook;

namespace qbench {
namespace {

struct Rulebook {
  int64_t rows = 0, status = 0;
  std::vector<int32_t> outCoords, neighbours; // the first `rows` rows
  std::string message;
};

struct RulebookCase {
  int64_t height, width, kernel, stride;
  int32_t dilate;
  double threshold, topkRatio;
  std::vector<int32_t> coords;
  std::vector<double> importance;
  int64_t pillars() const { return int64_t(coords.size()) / 3; }
  int64_t taps() const { return kernel * kernel; }
  int64_t capacity() const { return dilate ? pillars() * taps() : pillars(); }
};

/// The message a kernel reported during `call`, or "".
std::string reportedBy(const std::function<void()> &call) {
  qr_take_kernel_error();
  call();
  const char *message = qr_take_kernel_error();
  return message ? message : "";
}

Rulebook cpuRulebook(const RulebookCase &c) {
  Rulebook r;
  int64_t cap = std::max<int64_t>(c.capacity(), 1), counts[2];
  r.outCoords.resize(cap * 3);
  r.neighbours.resize(cap * c.taps());
  r.message = reportedBy([&] {
    qr_uk_generic_pillar_rulebook(
        c.pillars(), c.coords.data(), c.height, c.width, c.kernel, c.stride,
        c.dilate, c.importance.data(), c.threshold, c.topkRatio, c.capacity(),
        r.outCoords.data(), r.neighbours.data(), counts);
  });
  r.rows = counts[0];
  r.status = counts[1];
  r.outCoords.resize(r.rows * 3);
  r.neighbours.resize(r.rows * c.taps());
  return r;
}

Rulebook gpuRulebook(const RulebookCase &c) {
  Rulebook r;
  int64_t cap = std::max<int64_t>(c.capacity(), 1), counts[2];
  DeviceBuffer coords =
      toDevice(c.coords.empty() ? std::vector<int32_t>(3) : c.coords);
  DeviceBuffer importance =
      toDevice(c.importance.empty() ? std::vector<double>(1) : c.importance);
  DeviceBuffer out(cap * 3 * sizeof(int32_t));
  DeviceBuffer neighbours(cap * c.taps() * sizeof(int32_t));
  DeviceBuffer dCounts(sizeof counts);
  out.poison();
  neighbours.poison();
  dCounts.poison();
  r.message = reportedBy([&] {
    qr_gpu_pillar_rulebook(c.pillars(), coords.as<int32_t>(), c.height, c.width,
                           c.kernel, c.stride, c.dilate,
                           importance.as<double>(), c.threshold, c.topkRatio,
                           c.capacity(), out.as<int32_t>(),
                           neighbours.as<int32_t>(), dCounts.as<int64_t>());
    // An invalid input is reported once the stream has been waited for.
    checkKernels("qr_gpu_pillar_rulebook");
  });
  dCounts.download(counts);
  r.rows = counts[0];
  r.status = counts[1];
  std::vector<int32_t> all(cap * 3), map(cap * c.taps());
  out.download(all.data());
  neighbours.download(map.data());
  r.outCoords.assign(all.begin(), all.begin() + r.rows * 3);
  r.neighbours.assign(map.begin(), map.begin() + r.rows * c.taps());
  return r;
}

/// `count` distinct sites of a batches × height × width grid, in random
/// order (borders included as often as any site).
std::vector<int32_t> randomSites(int64_t batches, int64_t height, int64_t width,
                                 int64_t count, std::mt19937_64 &rng) {
  std::vector<int64_t> all(batches * height * width);
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  std::vector<int32_t> coords;
  for (int64_t i = 0; i < count; ++i) {
    int64_t s = all[i];
    coords.insert(coords.end(),
                  {int32_t(s / (height * width)), int32_t(s / width % height),
                   int32_t(s % width)});
  }
  return coords;
}

/// Importance with ties (multiples of 1/4) and the odd NaN.
std::vector<double> randomImportance(int64_t n, std::mt19937_64 &rng) {
  std::uniform_int_distribution<int> level(0, 8);
  std::vector<double> values(n);
  for (double &v : values)
    v = rng() % 50 == 0 ? NAN : level(rng) / 4.0;
  return values;
}

struct Tally {
  int failures = 0, checks = 0;
  void expect(bool ok, const std::string &what) {
    ++checks;
    if (!ok) {
      ++failures;
      std::printf("FAIL %s\n", what.c_str());
    }
  }
};

std::string describe(const RulebookCase &c) {
  char text[160];
  std::snprintf(text, sizeof text,
                "rulebook N=%lld grid %lldx%lld k%lld s%lld %s",
                (long long)c.pillars(), (long long)c.height, (long long)c.width,
                (long long)c.kernel, (long long)c.stride,
                !c.dilate         ? "submanifold"
                : c.topkRatio > 0 ? "dilate top-k"
                                  : "dilate threshold");
  return text;
}

void compareRulebooks(const RulebookCase &c, Tally &t) {
  Rulebook cpu = cpuRulebook(c), gpu = gpuRulebook(c);
  bool same = cpu.rows == gpu.rows && cpu.status == gpu.status &&
              cpu.outCoords == gpu.outCoords &&
              cpu.neighbours == gpu.neighbours;
  bool sameMessage = cpu.message == gpu.message;
  t.expect(same && sameMessage, describe(c) + ": M " +
                                    std::to_string(gpu.rows) + " vs CPU " +
                                    std::to_string(cpu.rows) + ", status " +
                                    std::to_string(gpu.status) + " vs " +
                                    std::to_string(cpu.status) + ", message '" +
                                    gpu.message + "' vs '" + cpu.message + "'");
}

void checkRulebooks(std::mt19937_64 &rng, Tally &t) {
  int cases = 0;
  for (int64_t kernel : {1, 3, 5})
    for (int64_t stride : {1, 2})
      for (int mode = 0; mode < 3; ++mode)
        for (int trial = 0; trial < 6; ++trial) {
          RulebookCase c;
          c.height = 1 + rng() % 23;
          c.width = 1 + rng() % 29;
          c.kernel = kernel;
          c.stride = stride;
          c.dilate = mode > 0;
          c.threshold = 1.0;
          c.topkRatio = mode == 2 ? 0.05 + (rng() % 50) / 100.0 : 0.0;
          int64_t batches = 1 + rng() % 3, sites = batches * c.height * c.width;
          int64_t n = trial == 0 ? 0 : trial == 1 ? 1 : rng() % (sites + 1);
          c.coords = randomSites(batches, c.height, c.width, n, rng);
          c.importance = randomImportance(n, rng);
          compareRulebooks(c, t);
          ++cases;
        }
  // Many CTAs in every compaction: a KITTI-sized grid.
  for (int mode = 0; mode < 3; ++mode)
    for (int64_t stride : {1, 2}) {
      RulebookCase c{496, 432, 3, stride, mode > 0, 0.6, mode == 2 ? 0.1 : 0.0};
      c.coords = clusteredSites(496, 432, 0.08, rng);
      std::uniform_real_distribution<double> unit(0, 1);
      for (int64_t i = 0; i < c.pillars(); ++i)
        c.importance.push_back(unit(rng));
      compareRulebooks(c, t);
      ++cases;
    }
  // Invalid inputs: the same status and message as the CPU.
  for (int defect = 0; defect < 4; ++defect) {
    RulebookCase c{9, 11, 3, 1, 0, 0.0, 0.0};
    c.coords = randomSites(2, 9, 11, 40, rng);
    int64_t at = 5 + rng() % 30;
    if (defect == 0) // a duplicate of an earlier pillar
      std::copy_n(&c.coords[3 * (rng() % at)], 3, &c.coords[3 * at]);
    else if (defect == 1)
      c.coords[3 * at + 2] = 11; // x past the grid
    else if (defect == 2)
      c.coords[3 * at] = -1; // negative batch
    else                     // both: the grid error wins, as on the CPU
      std::copy_n(&c.coords[0], 3, &c.coords[3 * at]),
          c.coords[3 * (at + 3) + 1] = -2;
    compareRulebooks(c, t);
    ++cases;
  }
  std::printf("pillar rulebook: %d cases vs the CPU rulebook\n", cases);
}

//===----------------------------------------------------------------------===//
// Convolutions against float64
//===----------------------------------------------------------------------===//

enum class ConvKind { F32, F16W, S8 };

struct ConvCase {
  ConvKind kind;
  int bits;
  int64_t cin, cout, kernel, stride, groupSize; // groupSize along C_in
  bool bias;
};

/// A random conv of `c` on a 2-batch grid; returns the relative L2 error.
double checkConv(const ConvCase &c, std::mt19937_64 &rng) {
  const int64_t H = 37, W = 41, taps = c.kernel * c.kernel;
  RulebookCase rc{H, W, c.kernel, c.stride, 0, 0.0, 0.0};
  rc.coords = randomSites(2, H, W, 2 * H * W / 10, rng);
  const int64_t N = rc.pillars();
  Rulebook book = cpuRulebook(rc);
  const int64_t M = book.rows, K = taps * c.cin;
  std::normal_distribution<double> normal;

  // Features: f32, or int8 codes with a scale and zero point.
  const float aScale = 0.05f;
  const int32_t aZero = 3;
  std::vector<float> features(N * c.cin);
  std::vector<int8_t> codes(N * c.cin);
  std::vector<double> a(N * c.cin); // what the kernel computes with
  for (int64_t i = 0; i < N * c.cin; ++i) {
    features[i] = float(normal(rng));
    codes[i] = int8_t(int(rng() % 256) - 128);
    a[i] = c.kind == ConvKind::S8 ? (codes[i] - aZero) * double(aScale)
           : c.kind == ConvKind::F16W
               ? __half2float(__float2half_rn(features[i]))
               : features[i];
  }
  // Weights [taps · C_in][C_out]: f32, or codes with per-group scales.
  std::vector<float> wf(K * c.cout);
  std::vector<double> w(K * c.cout);
  std::vector<uint8_t> wq(K * c.cout);
  const int64_t groupK = c.groupSize ? c.groupSize : K, groups = K / groupK;
  std::vector<float> scales(groups * c.cout);
  std::vector<int32_t> zeros(groups * c.cout);
  const int levels = 1 << c.bits;
  for (int64_t g = 0; g < groups * c.cout; ++g) {
    scales[g] = float(0.01 + 0.02 * (rng() % 100) / 100.0);
    zeros[g] = c.kind == ConvKind::S8 ? levels / 2 : int(rng() % levels);
  }
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < c.cout; ++n) {
      int64_t i = k * c.cout + n, g = (k / groupK) * c.cout + n;
      wf[i] = float(normal(rng) * 0.1);
      wq[i] = uint8_t(rng() % levels);
      w[i] = c.kind == ConvKind::F32 ? wf[i]
                                     : double(scales[g]) * (wq[i] - zeros[g]);
    }
  std::vector<float> bias(c.cout);
  for (float &b : bias)
    b = float(normal(rng));

  // float64: the dense convolution at the output sites.
  std::map<std::tuple<int32_t, int64_t, int64_t>, int64_t> site;
  for (int64_t i = 0; i < N; ++i)
    site[{rc.coords[3 * i], rc.coords[3 * i + 1], rc.coords[3 * i + 2]}] = i;
  std::vector<double> want(M * c.cout);
  const int64_t r = c.kernel / 2;
  for (int64_t m = 0; m < M; ++m) {
    const int32_t *o = &book.outCoords[3 * m];
    for (int64_t n = 0; n < c.cout; ++n)
      want[m * c.cout + n] = c.bias ? bias[n] : 0.0;
    for (int64_t t = 0; t < taps; ++t) {
      auto it = site.find({o[0], c.stride * o[1] + t / c.kernel - r,
                           c.stride * o[2] + t % c.kernel - r});
      if (it == site.end())
        continue;
      for (int64_t ch = 0; ch < c.cin; ++ch)
        for (int64_t n = 0; n < c.cout; ++n)
          want[m * c.cout + n] +=
              a[it->second * c.cin + ch] * w[(t * c.cin + ch) * c.cout + n];
    }
  }

  // GPU.
  DeviceBuffer dNeighbours = toDevice(book.neighbours);
  DeviceBuffer dBias = toDevice(bias);
  DeviceBuffer dOut(std::max<int64_t>(M, 1) * c.cout * sizeof(float));
  dOut.poison();
  const float *biasPtr = c.bias ? dBias.as<float>() : nullptr;
  std::string error;
  if (c.kind == ConvKind::F32) {
    DeviceBuffer dF = toDevice(features), dW = toDevice(wf);
    error = reportedBy([&] {
      qr_gpu_pillar_conv_f32(M, taps, c.cin, c.cout, dF.as<float>(),
                             dNeighbours.as<int32_t>(), dW.as<float>(), biasPtr,
                             dOut.as<float>());
    });
  } else {
    std::vector<uint8_t> packed(
        qr_gpu_packed_weights_bytes(c.bits, K, c.cout, groupK));
    if (qr_gpu_pack_weights(c.bits, K, c.cout, groupK, wq.data(), scales.data(),
                            zeros.data(), packed.data()) != 0)
      die("qr_gpu_pack_weights failed");
    DeviceBuffer dW = toDevice(packed);
    if (c.kind == ConvKind::F16W) {
      DeviceBuffer dF = toDevice(features);
      error = reportedBy([&] {
        qr_gpu_pillar_conv_f16w(M, taps, c.cin, c.cout, c.bits, groupK,
                                dF.as<float>(), dNeighbours.as<int32_t>(),
                                dW.ptr, biasPtr, dOut.as<float>());
      });
    } else {
      DeviceBuffer dF = toDevice(codes);
      error = reportedBy([&] {
        qr_gpu_pillar_conv_s8(M, taps, c.cin, c.cout, c.bits, groupK,
                              dF.as<int8_t>(), aScale, aZero,
                              dNeighbours.as<int32_t>(), dW.ptr, biasPtr,
                              dOut.as<float>());
      });
    }
  }
  checkKernels("pillar conv");
  if (!error.empty())
    die("pillar conv: " + error);
  std::vector<float> got(M * c.cout);
  checkCuda(qr_cuda_memcpy_dtoh(got.data(), dOut.ptr, got.size() * 4),
            "download");
  return relativeError(got, want);
}

void checkConvs(std::mt19937_64 &rng, Tally &t) {
  const ConvCase cases[] = {
      {ConvKind::F32, 0, 64, 64, 3, 1, 0, true},
      {ConvKind::F32, 0, 37, 19, 3, 2, 0, false},
      {ConvKind::F32, 0, 16, 96, 5, 1, 0, true},
      {ConvKind::F16W, 4, 64, 64, 3, 1, 0, true},
      {ConvKind::F16W, 4, 128, 64, 3, 2, 64, false},
      {ConvKind::F16W, 8, 64, 48, 3, 1, 0, true},
      {ConvKind::S8, 8, 64, 64, 3, 1, 0, true},
      {ConvKind::S8, 4, 64, 64, 3, 2, 0, true},
      {ConvKind::S8, 8, 128, 32, 3, 1, 64, false},
      // C_in not a multiple of 64: gathered into scratch first.
      {ConvKind::F16W, 4, 32, 64, 3, 1, 0, true},
      {ConvKind::S8, 8, 48, 40, 3, 2, 0, true},
  };
  const char *names[] = {"f32", "W4A16/W8A16 (f16w)", "W8A8/W4A8 (s8)"};
  for (const ConvCase &c : cases) {
    double error = checkConv(c, rng);
    char what[160];
    std::snprintf(what, sizeof what,
                  "pillar conv %s w%d %lld->%lld k%lld s%lld group %lld%s",
                  names[int(c.kind)], c.bits, (long long)c.cin,
                  (long long)c.cout, (long long)c.kernel, (long long)c.stride,
                  (long long)c.groupSize, c.bias ? " bias" : "");
    std::printf("%-60s rel. L2 error %.1e\n", what, error);
    t.expect(error <= 1e-5, what);
  }
}

void checkNorms(std::mt19937_64 &rng, Tally &t) {
  const int64_t N = 1000, C = 37, ld = 40;
  std::vector<float> f(N * ld);
  std::vector<int8_t> q(N * ld);
  std::normal_distribution<double> normal;
  for (int64_t i = 0; i < N * ld; ++i) {
    f[i] = float(normal(rng));
    q[i] = int8_t(int(rng() % 256) - 128);
  }
  const double scale = 0.07;
  const int32_t zero = -5;
  std::vector<double> wantF(N), wantQ(N);
  for (int64_t i = 0; i < N; ++i) {
    long double sf = 0, sq = 0;
    for (int64_t c = 0; c < C; ++c) {
      long double vf = f[i * ld + c], vq = (q[i * ld + c] - zero) * scale;
      sf += vf * vf;
      sq += vq * vq;
    }
    wantF[i] = double(std::sqrt(sf));
    wantQ[i] = double(std::sqrt(sq));
  }
  DeviceBuffer dF = toDevice(f), dQ = toDevice(q), dOut(N * sizeof(double));
  std::vector<double> got(N);
  double worst = 0;
  qr_gpu_pillar_norms_f32(N, C, dF.as<float>(), ld, dOut.as<double>());
  dOut.download(got.data());
  for (int64_t i = 0; i < N; ++i)
    worst = std::max(worst, std::abs(got[i] - wantF[i]) / wantF[i]);
  qr_gpu_pillar_norms_s8(N, C, dQ.as<int8_t>(), ld, scale, zero,
                         dOut.as<double>());
  dOut.download(got.data());
  for (int64_t i = 0; i < N; ++i)
    worst = std::max(worst, std::abs(got[i] - wantQ[i]) / wantQ[i]);
  std::printf("pillar norms (f32, int8) max rel. error %.1e\n", worst);
  t.expect(worst <= 1e-14, "pillar norms");
}

} // namespace

int runPillarChecks(uint64_t seed) {
  std::mt19937_64 rng(seed);
  Tally t;
  checkNorms(rng, t);
  checkRulebooks(rng, t);
  checkConvs(rng, t);
  std::printf("pillar checks: %d, failures: %d\n", t.checks, t.failures);
  return t.failures ? 1 : 0;
}

//===----------------------------------------------------------------------===//
// Timings
//===----------------------------------------------------------------------===//

void benchPillars(bool quick) {
  const int64_t H = 496, W = 432, C = 64, taps = 9, K = taps * C;
  std::printf("\nSparse pillar conv, %lldx%lld grid, %lld -> %lld, 3x3, "
              "submanifold, stride 1 (ms, device-event medians)\n",
              (long long)H, (long long)W, (long long)C, (long long)C);
  std::printf("%-10s %-8s %-9s %-9s %-9s %-9s %-9s %-9s %-9s\n", "occupancy",
              "pillars", "rulebook", "conv f32", "conv W8A8", "conv W4A16",
              "total f32", "total W8A8", "rb share");
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal;
  std::vector<float> wf(K * C);
  for (float &v : wf)
    v = float(normal(rng) * 0.05);
  std::vector<uint8_t> wq(K * C);
  for (uint8_t &v : wq)
    v = uint8_t(rng() % 256);
  std::vector<float> scales(C, 0.01f);
  std::vector<int32_t> zeros8(C, 128), zeros4(C, 8);
  std::vector<uint8_t> packed8(qr_gpu_packed_weights_bytes(8, K, C, K)),
      packed4(qr_gpu_packed_weights_bytes(4, K, C, K)), wq4(K * C);
  for (int64_t i = 0; i < K * C; ++i)
    wq4[i] = wq[i] % 16;
  qr_gpu_pack_weights(8, K, C, K, wq.data(), scales.data(), zeros8.data(),
                      packed8.data());
  qr_gpu_pack_weights(4, K, C, K, wq4.data(), scales.data(), zeros4.data(),
                      packed4.data());
  DeviceBuffer dWf = toDevice(wf), dW8 = toDevice(packed8),
               dW4 = toDevice(packed4), dBias = toDevice(scales);
  const int reps = quick ? 10 : 30;
  for (double occupancy : {0.03, 0.08, 0.20}) {
    std::vector<int32_t> coords = clusteredSites(H, W, occupancy, rng);
    const int64_t N = int64_t(coords.size()) / 3;
    std::vector<float> features(N * C);
    std::vector<int8_t> codes(N * C);
    for (int64_t i = 0; i < N * C; ++i) {
      features[i] = float(normal(rng));
      codes[i] = int8_t(int(rng() % 256) - 128);
    }
    DeviceBuffer dCoords = toDevice(coords), dF = toDevice(features),
                 dQ = toDevice(codes), dOut(N * 3 * 4),
                 dNeighbours(N * taps * 4), dCounts(16),
                 dY(N * C * sizeof(float));
    // As a compiled model: the rulebook, then the row count read back.
    auto rulebook = [&](int) {
      qr_gpu_pillar_rulebook(N, dCoords.as<int32_t>(), H, W, 3, 1, 0, nullptr,
                             0.0, 0.0, N, dOut.as<int32_t>(),
                             dNeighbours.as<int32_t>(), dCounts.as<int64_t>());
      int64_t rows = 0;
      qr_cuda_read(&rows, dCounts.ptr, sizeof rows);
    };
    auto convF32 = [&](int) {
      qr_gpu_pillar_conv_f32(N, taps, C, C, dF.as<float>(),
                             dNeighbours.as<int32_t>(), dWf.as<float>(),
                             dBias.as<float>(), dY.as<float>());
    };
    auto convS8 = [&](int) {
      qr_gpu_pillar_conv_s8(N, taps, C, C, 8, K, dQ.as<int8_t>(), 0.05f, 0,
                            dNeighbours.as<int32_t>(), dW8.ptr,
                            dBias.as<float>(), dY.as<float>());
    };
    auto convF16w = [&](int) {
      qr_gpu_pillar_conv_f16w(N, taps, C, C, 4, K, dF.as<float>(),
                              dNeighbours.as<int32_t>(), dW4.ptr,
                              dBias.as<float>(), dY.as<float>());
    };
    const double tr = medianMs(rulebook, reps, 1);
    const double tf = medianMs(convF32, reps), t8 = medianMs(convS8, reps),
                 t4 = medianMs(convF16w, reps);
    std::printf("%-10.0f %-8lld %-9.4f %-9.4f %-9.4f %-9.4f %-9.4f %-9.4f "
                "%.0f %%\n",
                occupancy * 100, (long long)N, tr, tf, t8, t4, tr + tf, tr + t8,
                100 * tr / (tr + tf));
    // For torch_pillar_peer.py.
    std::printf("pillar-row %.2f %lld %.5f %.5f %.5f %.5f\n", occupancy,
                (long long)N, tr, tf, t8, t4);
  }
}

} // namespace qbench
