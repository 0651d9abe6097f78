//===- quant-bench-pillar.cpp - sparse pillar conv vs dense oneDNN --------===//
//
// One PointPillars-sized layer (a [H, W] BEV grid, C_in → C_out, 3×3,
// stride 1, f32) at several occupancies: the pillar kernels
// (qr_uk_pillar_rulebook + qr_uk_pillar_conv_f32, the calls a compiled
// model makes) against oneDNN's dense convolution of the scattered
// pseudo-image (NHWC activations, weights in the layout oneDNN picks,
// reordered outside timing; one primitive per thread count). The sparse
// time includes the rulebook build, whose share is reported. Sites are
// clustered like objects on a ground plane. Both results are checked
// against each other at the active sites.
//
//   quant-bench-pillar [--grid HxW] [--channels CIN,COUT]
//                      [--occupancy 0.03,0.08,0.2] [--threads 1,2]
//                      [--repeat N] [--seed S]
//
//===----------------------------------------------------------------------===//

#include "../common/ClusteredSites.h"

#include "quant/Runtime/Runtime.h"
#include "quant/Runtime/UKernels.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <random>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#define DECLARE_GENERIC(name) decltype(qr_uk_##name) qr_uk_generic_##name;
DECLARE_GENERIC(pillar_rulebook)
DECLARE_GENERIC(pillar_conv_f32)
#undef DECLARE_GENERIC
}

namespace {

struct Options {
  int64_t height = 496, width = 432, cin = 64, cout = 64;
  std::vector<double> occupancies = {0.03, 0.08, 0.20};
  std::vector<int> threads = {1, 2};
  int repeat = 7;
  uint64_t seed = 1;
};

[[noreturn]] void usage(const char *message) {
  std::fprintf(stderr,
               "error: %s\nusage: quant-bench-pillar [--grid HxW] "
               "[--channels CIN,COUT] [--occupancy F,...] [--threads T,...] "
               "[--repeat N] [--seed S]\n",
               message);
  std::exit(2);
}

std::vector<double> numberList(const char *text) {
  std::vector<double> values;
  for (const char *p = text; *p;) {
    char *end;
    values.push_back(std::strtod(p, &end));
    if (end == p)
      usage("expected a comma-separated list of numbers");
    p = *end == ',' ? end + 1 : end;
  }
  return values;
}

Options parse(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc)
      usage(("missing value for " + flag).c_str());
    const char *value = argv[++i];
    if (flag == "--grid") {
      if (std::sscanf(value, "%ldx%ld", &o.height, &o.width) != 2 ||
          o.height < 1 || o.width < 1)
        usage("--grid is HxW");
    } else if (flag == "--channels") {
      if (std::sscanf(value, "%ld,%ld", &o.cin, &o.cout) != 2 || o.cin < 1 ||
          o.cout < 1)
        usage("--channels is CIN,COUT");
    } else if (flag == "--occupancy") {
      o.occupancies = numberList(value);
    } else if (flag == "--threads") {
      o.threads.clear();
      for (double t : numberList(value))
        o.threads.push_back(static_cast<int>(t));
    } else if (flag == "--repeat") {
      o.repeat = std::max(1, std::atoi(value));
    } else if (flag == "--seed") {
      o.seed = std::strtoull(value, nullptr, 10);
    } else {
      usage(("unknown option " + flag).c_str());
    }
  }
  return o;
}

using OmpSetNumThreads = void (*)(int);

void setThreads(int t) {
  if (qr_set_num_threads(t) != 0) {
    std::fprintf(stderr, "error: %s\n", qr_last_error());
    std::exit(1);
  }
  // Debian's oneDNN runs on GNU OpenMP.
  static auto omp = (OmpSetNumThreads)dlsym(RTLD_DEFAULT, "omp_set_num_threads");
  if (omp)
    omp(t);
}

double nowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

template <typename Fn> double medianMs(int repeat, Fn &&fn) {
  fn(); // warm-up
  std::vector<double> times;
  for (int r = 0; r < repeat; ++r) {
    double start = nowMs();
    fn();
    times.push_back(nowMs() - start);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

/// oneDNN's f32 3×3 convolution, stride 1, padding 1, on an NHWC image.
struct DenseConv {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::convolution_forward prim;
  dnnl::memory src, weights, dst;
  std::string implementation;

  DenseConv(const Options &o, float *image, const float *hwio, float *out) {
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    dnnl::memory::dims srcDims = {1, o.cin, o.height, o.width};
    dnnl::memory::dims dstDims = {1, o.cout, o.height, o.width};
    dnnl::memory::dims wDims = {o.cout, o.cin, 3, 3};
    dnnl::memory::desc srcMd(srcDims, dt::f32, tag::nhwc);
    dnnl::memory::desc dstMd(dstDims, dt::f32, tag::nhwc);
    dnnl::memory::desc wAny(wDims, dt::f32, tag::any);
    dnnl::memory::desc wUser(wDims, dt::f32, tag::hwio);
    dnnl::convolution_forward::primitive_desc pd(
        dnnl::convolution_forward::desc(
            dnnl::prop_kind::forward_inference,
            dnnl::algorithm::convolution_direct, srcMd, wAny, dstMd, {1, 1},
            {1, 1}, {1, 1}),
        engine);
    implementation = pd.impl_info_str();
    prim = dnnl::convolution_forward(pd);
    src = dnnl::memory(srcMd, engine, image);
    dst = dnnl::memory(dstMd, engine, out);
    dnnl::memory user(wUser, engine, const_cast<float *>(hwio));
    weights = dnnl::memory(pd.weights_desc(), engine);
    dnnl::reorder(user, weights).execute(stream, user, weights);
    stream.wait();
  }

  void run() {
    prim.execute(stream, {{DNNL_ARG_SRC, src},
                          {DNNL_ARG_WEIGHTS, weights},
                          {DNNL_ARG_DST, dst}});
    stream.wait();
  }
};

} // namespace

int main(int argc, char **argv) {
  Options o = parse(argc, argv);
  bool avx512 = qr_uk_cpu_supports_avx512_vnni();
  auto rulebook = avx512 ? qr_uk_pillar_rulebook : qr_uk_generic_pillar_rulebook;
  auto conv = avx512 ? qr_uk_pillar_conv_f32 : qr_uk_generic_pillar_conv_f32;
  std::printf("pillar conv %ldx%ld grid, %ld -> %ld channels, 3x3, f32; "
              "kernels: %s; median of %d\n\n",
              o.height, o.width, o.cin, o.cout,
              avx512 ? "AVX-512" : "portable C", o.repeat);
  std::printf("| occupancy | pillars | threads | rulebook | sparse conv | "
              "sparse total | rulebook share | oneDNN dense | speed-up | "
              "max rel. diff |\n|---|---|---|---|---|---|---|---|---|---|\n");

  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> hwio(9 * o.cin * o.cout);
  for (float &w : hwio)
    w = normal(rng) / std::sqrt(9.0f * o.cin);
  std::string implementation;

  for (double occupancy : o.occupancies) {
    std::vector<int32_t> coords = clusteredSites(o.height, o.width, occupancy, rng);
    int64_t n = coords.size() / 3;
    std::vector<float> features(n * o.cin);
    for (float &f : features)
      f = normal(rng);
    std::vector<float> image(o.height * o.width * o.cin, 0.0f),
        dense(o.height * o.width * o.cout);
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(&image[(coords[3 * i + 1] * o.width + coords[3 * i + 2]) *
                         o.cin],
                  &features[i * o.cin], o.cin * sizeof(float));
    std::vector<int32_t> outCoords(3 * n), neighbours(9 * n);
    std::vector<float> sparse(n * o.cout);
    int64_t counts[2];

    for (int t : o.threads) {
      setThreads(t);
      // oneDNN fixes its thread partition when the primitive is created.
      DenseConv dnnl(o, image.data(), hwio.data(), dense.data());
      implementation = dnnl.implementation;
      auto buildRulebook = [&] {
        rulebook(n, coords.data(), o.height, o.width, 3, 1, 0, nullptr, 0.0,
                 0.0, n, outCoords.data(), neighbours.data(), counts);
      };
      auto runConv = [&] {
        conv(n, 9, o.cin, o.cout, features.data(), neighbours.data(),
             hwio.data(), nullptr, sparse.data());
      };
      double rulebookMs = medianMs(o.repeat, buildRulebook);
      double convMs = medianMs(o.repeat, runConv);
      double totalMs = medianMs(o.repeat, [&] {
        buildRulebook();
        runConv();
      });
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      double denseMs = medianMs(o.repeat, [&] { dnnl.run(); });
      if (counts[1] != QR_PILLAR_OK || counts[0] != n) {
        std::fprintf(stderr, "error: rulebook failed (%ld)\n", counts[1]);
        return 1;
      }
      double maxDiff = 0.0, scale = 1e-30;
      for (int64_t i = 0; i < n; ++i) {
        const float *d =
            &dense[(coords[3 * i + 1] * o.width + coords[3 * i + 2]) * o.cout];
        for (int64_t c = 0; c < o.cout; ++c) {
          maxDiff = std::max(maxDiff,
                             double(std::abs(sparse[i * o.cout + c] - d[c])));
          scale = std::max(scale, double(std::abs(d[c])));
        }
      }
      std::printf("| %.0f %% | %ld | %d | %.3f ms | %.3f ms | %.3f ms | "
                  "%.0f %% | %.3f ms | **%.1f×** | %.1e |\n",
                  occupancy * 100, n, t, rulebookMs, convMs, totalMs,
                  100.0 * rulebookMs / (rulebookMs + convMs), denseMs,
                  denseMs / totalMs, maxDiff / scale);
      if (maxDiff / scale > 1e-4) {
        std::fprintf(stderr, "error: sparse and dense results differ\n");
        return 1;
      }
    }
  }
  std::printf("\noneDNN implementation: %s\n", implementation.c_str());
  return 0;
}
