//===- quant-bench-cpu.cpp - CPU micro-kernels against oneDNN and OpenBLAS ===//
//
// One driver, one table: the CPU micro-kernels of include/quant/Runtime/
// UKernels.h against the peers named in the benchmark issue, every ratio
// taken from timings of the same run, interleaved repetition by repetition.
//
//   gemm-s8   qr_uk_matmul_s8 on 8-bit packed weights (per-output-channel
//             scales, per-token activation scales) vs oneDNN's matmul
//             primitive (int8 × int8 → f32 with per-N output scales; s8 and
//             u8 activations; weights in the layout oneDNN picks for
//             format_tag::any and, where that is plain row-major, also
//             K-contiguous; primitive and weight reorder outside timing) vs
//             OpenBLAS cblas_sgemm on the same values in fp32.
//             Throughput: 2·M·N·K / time.
//   gemv-w4   M = 1: qr_uk_matmul_s8 with 4-bit weights, group 128 (W4A8)
//             and qr_uk_matmul_f32 with the same weights (W4 with float
//             activations: the API's W4A16 path) vs oneDNN's int8 GEMV at the
//             same shape (and OpenBLAS sgemv for context). Throughput: weight
//             bytes streamed / time, each implementation counting its own
//             bytes (the whole packed blob for ours). "gemv-w4 cold" (4096²,
//             whose weights fit the last-level cache): every implementation
//             goes through copies of its weights in turn, so that each call
//             reads them from DRAM, as a decoder's layers do.
//   hadamard  qr_uk_hadamard_f32 in place over a batch of rows vs a copy of
//             the same bytes to another buffer by T threads that never
//             synchronise (the memory-bandwidth limit); both count
//             2 × bytes / time.
//
// Ours is the AVX-512 + VNNI variant (quant_ukernels) where the CPU has
// AVX-512 F/BW/VL/DQ/VNNI, else the portable C variant
// (quant_ukernels_generic, its symbols renamed qr_uk_generic_*); --variant
// forces one. Both use the same packed weights (quant_ukernels_pack).
//
// The ratio column is the peer's time over this implementation's time (the
// fastest oneDNN variant for GEMM and GEMV, the copy for Hadamard). Every
// implementation is checked once per case and thread count against an exact
// float64 reference (sampled entries for GEMM, every output for GEMV, direct
// sums over the Sylvester matrix for Hadamard), and ours is compared with
// oneDNN's whole output: a fast but wrong kernel is reported as FAIL and
// makes the exit status non-zero.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/Runtime.h"
#include "quant/Runtime/UKernels.h"

#include <cblas.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

// The portable variant of the kernels (quant_ukernels_generic): the same
// functions as UKernels.h under other names, so that one binary holds both.
extern "C" {
void qr_uk_generic_matmul_s8(int64_t M, int64_t N, int64_t K, const int8_t *A,
                             int64_t lda, const float *a_scales, float a_scale,
                             int32_t a_zero_point, const void *packed,
                             float *C, int64_t ldc);
void qr_uk_generic_matmul_f32(int64_t M, int64_t N, int64_t K, const float *A,
                              int64_t lda, const void *packed, float *C,
                              int64_t ldc);
void qr_uk_generic_hadamard_f32(float *X, int64_t rows, int64_t n, int64_t ld,
                                const int8_t *signs, const int8_t *base,
                                int64_t b);
}

namespace {

/// The kernel variant under test.
struct Kernels {
  const char *name;
  decltype(&qr_uk_matmul_s8) matmulS8;
  decltype(&qr_uk_matmul_f32) matmulF32;
  decltype(&qr_uk_hadamard_f32) hadamardF32;
};

const Kernels kAvx512 = {"AVX-512 VNNI", qr_uk_matmul_s8, qr_uk_matmul_f32,
                         qr_uk_hadamard_f32};
const Kernels kGeneric = {"portable C", qr_uk_generic_matmul_s8,
                          qr_uk_generic_matmul_f32,
                          qr_uk_generic_hadamard_f32};
const Kernels *uk = &kAvx512;

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

struct Options {
  std::vector<int> threads = {1, 2};
  std::vector<std::string> filters; // any substring of the case id matches
  bool quick = false;
  int repeat = 5;         // timed repetitions (median reported)
  int warmup = 1;         // untimed calls before the first repetition
  double minRepMs = 100;  // each repetition runs at least this long
  double settleMs = 150;  // pause before each implementation's block
  bool list = false;
  std::string variant = "auto"; // auto | avx512 | generic
};

[[noreturn]] void usage(const char *argv0, int status) {
  std::fprintf(
      status ? stderr : stdout,
      "usage: %s [--threads 1,2] [--filter SUBSTR[,SUBSTR...]] [--quick]\n"
      "          [--repeat N] [--warmup N] [--min-rep-ms MS] [--settle-ms MS] "
      "[--list]\n"
      "          [--variant auto|avx512|generic]\n"
      "  --threads     thread counts to measure (ours: qr_set_num_threads, "
      "oneDNN:\n"
      "                omp_set_num_threads, OpenBLAS: "
      "openblas_set_num_threads)\n"
      "  --filter      only the cases whose id contains one of the substrings "
      "(--list)\n"
      "  --quick       a small subset for smoke runs (3 repetitions of >= 30 "
      "ms)\n"
      "  --repeat      timed repetitions per implementation, median reported "
      "(default 5;\n"
      "                at most 3 when one call takes over 2 s)\n"
      "  --warmup      untimed calls before timing (default 1, at least 1)\n"
      "  --min-rep-ms  minimum duration of one repetition; short calls are "
      "looped (100)\n"
      "  --settle-ms   sleep before each implementation's timed block, so "
      "that the other\n"
      "                libraries' idle threads have stopped spinning "
      "(default 150;\n"
      "                OpenBLAS's spin for about 2^28 cycles)\n"
      "  --variant     our kernels: auto (AVX-512 VNNI when the CPU has it, "
      "else portable C),\n"
      "                avx512 or generic\n",
      argv0);
  std::exit(status);
}

std::vector<std::string> splitComma(const std::string &s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos)
      end = s.size();
    if (end > start)
      out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

Options parseOptions(int argc, char **argv) {
  Options o;
  bool repeatGiven = false, minGiven = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto is = [&](const char *name) {
      return a == name || a.rfind(std::string(name) + "=", 0) == 0;
    };
    auto value = [&]() -> std::string {
      size_t eq = a.find('=');
      if (eq != std::string::npos)
        return a.substr(eq + 1);
      if (i + 1 >= argc) {
        std::fprintf(stderr, "error: %s needs a value\n", a.c_str());
        usage(argv[0], 2);
      }
      return argv[++i];
    };
    auto number = [&](const std::string &v, double lo, double hi) {
      char *end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(d >= lo && d <= hi)) {
        std::fprintf(stderr, "error: bad value '%s' for %s\n", v.c_str(),
                     a.c_str());
        usage(argv[0], 2);
      }
      return d;
    };
    if (a == "-h" || a == "--help") {
      usage(argv[0], 0);
    } else if (is("--threads")) {
      o.threads.clear();
      for (const std::string &t : splitComma(value()))
        o.threads.push_back((int)number(t, 1, 1024));
      if (o.threads.empty())
        usage(argv[0], 2);
    } else if (is("--filter")) {
      o.filters = splitComma(value());
    } else if (a == "--quick") {
      o.quick = true;
    } else if (is("--repeat")) {
      o.repeat = (int)number(value(), 1, 1000);
      repeatGiven = true;
    } else if (is("--warmup")) {
      o.warmup = std::max(1, (int)number(value(), 0, 1000));
    } else if (is("--min-rep-ms")) {
      o.minRepMs = number(value(), 0, 1e6);
      minGiven = true;
    } else if (is("--settle-ms")) {
      o.settleMs = number(value(), 0, 1e5);
    } else if (is("--variant")) {
      o.variant = value();
      if (o.variant != "auto" && o.variant != "avx512" &&
          o.variant != "generic") {
        std::fprintf(stderr, "error: --variant is auto, avx512 or generic\n");
        usage(argv[0], 2);
      }
    } else if (a == "--list") {
      o.list = true;
    } else {
      std::fprintf(stderr, "error: unknown option '%s'\n", a.c_str());
      usage(argv[0], 2);
    }
  }
  if (o.quick) {
    if (!repeatGiven)
      o.repeat = 3;
    if (!minGiven)
      o.minRepMs = 30;
  }
  return o;
}

//===----------------------------------------------------------------------===//
// Buffers, random data, threads, clocks
//===----------------------------------------------------------------------===//

struct FreeDeleter {
  void operator()(void *p) const { std::free(p); }
};
template <typename T> using Buffer = std::unique_ptr<T[], FreeDeleter>;

template <typename T> Buffer<T> allocate(size_t count) {
  size_t bytes = (count * sizeof(T) + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, bytes ? bytes : 64);
  if (!p) {
    std::fprintf(stderr, "error: out of memory (%zu bytes)\n", bytes);
    std::exit(1);
  }
  return Buffer<T>(static_cast<T *>(p));
}

struct Rng { // xorshift64*: fast enough for hundreds of millions of values
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1Dull;
  }
  int64_t range(int64_t lo, int64_t hi) { // inclusive
    return lo + (int64_t)(next() % (uint64_t)(hi - lo + 1));
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
};

using OmpSetNumThreads = void (*)(int);

/// Debian's oneDNN is threaded with GNU OpenMP (DNNL_CPU_RUNTIME OMP), so
/// its thread count is OpenMP's; omp_set_num_threads is looked up in the
/// process (libgomp comes with libdnnl) rather than linked from a runtime
/// of this build's choosing.
OmpSetNumThreads ompSetNumThreads() {
  static OmpSetNumThreads fn =
      (OmpSetNumThreads)dlsym(RTLD_DEFAULT, "omp_set_num_threads");
  return fn;
}

void setThreads(int t) {
  if (qr_set_num_threads(t) != 0) {
    std::fprintf(stderr, "error: qr_set_num_threads(%d): %s\n", t,
                 qr_last_error());
    std::exit(1);
  }
  if (OmpSetNumThreads fn = ompSetNumThreads())
    fn(t);
  openblas_set_num_threads(t);
}

double nowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void sleepMs(double ms) {
  if (ms > 0)
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(ms));
}

//===----------------------------------------------------------------------===//
// Measurement and the table
//===----------------------------------------------------------------------===//

enum class Unit { GOPS, GBS };

struct Impl {
  std::string name;
  std::function<void()> run;        // one call
  std::function<void(int)> runMany; // `n` calls (optional)
  double work = 0;                  // operations or bytes per call
  std::string detail;               // e.g. oneDNN's implementation
  double err = -1;                  // normalised error (-1: not checked)
  double tol = 0;
  bool isPeer = false; // ratios are taken against the fastest peer
  bool isOurs = false;
  bool isBlas = false; // OpenBLAS: a second ratio in the summary
  std::vector<double> ms; // per-call time of each repetition
  double median = 0, lo = 0, hi = 0;

  void block(int n) {
    if (runMany)
      runMany(n);
    else
      for (int k = 0; k < n; ++k)
        run();
  }
  bool ok() const { return err < 0 || (std::isfinite(err) && err <= tol); }
};

Impl &addImpl(std::vector<Impl> &impls, std::string name,
              std::function<void()> run, double work, std::string detail) {
  impls.emplace_back();
  Impl &impl = impls.back();
  impl.name = std::move(name);
  impl.run = std::move(run);
  impl.work = work;
  impl.detail = std::move(detail);
  return impl;
}

double medianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Warm-up calls, `validate` (which reads the outputs of the last calls),
/// then `repeat` repetitions in which every implementation runs one block of
/// calls in turn: interleaving spreads the machine's drift over all of
/// them. A block lasts at least minRepMs; its time / calls is one sample.
void measure(std::vector<Impl> &impls, const Options &o,
             const std::function<void()> &validate) {
  double slowest = 0;
  std::vector<double> last(impls.size());
  for (size_t i = 0; i < impls.size(); ++i) {
    sleepMs(o.settleMs);
    for (int w = 0; w < o.warmup; ++w) {
      double t0 = nowMs();
      impls[i].run();
      last[i] = nowMs() - t0;
    }
    slowest = std::max(slowest, last[i]);
  }
  validate();
  std::vector<int> iters(impls.size(), 1);
  for (size_t i = 0; i < impls.size(); ++i) {
    double perCall = std::max(last[i], 1e-6);
    if (perCall * 8 < o.minRepMs) { // calibrate on a short block
      int n = std::max(1, (int)(o.minRepMs / (8 * perCall)));
      double t0 = nowMs();
      impls[i].block(n);
      perCall = std::max((nowMs() - t0) / n, 1e-6);
    }
    iters[i] = std::max(1, (int)std::ceil(o.minRepMs / perCall));
  }
  int repeat = slowest > 2000 ? std::min(o.repeat, 3) : o.repeat;
  for (Impl &impl : impls)
    impl.ms.clear();
  for (int r = 0; r < repeat; ++r)
    for (size_t i = 0; i < impls.size(); ++i) {
      sleepMs(o.settleMs);
      double t0 = nowMs();
      impls[i].block(iters[i]);
      impls[i].ms.push_back((nowMs() - t0) / iters[i]);
    }
  for (Impl &impl : impls) {
    impl.median = medianOf(impl.ms);
    impl.lo = *std::min_element(impl.ms.begin(), impl.ms.end());
    impl.hi = *std::max_element(impl.ms.begin(), impl.ms.end());
  }
}

struct SummaryRow {
  std::string id;
  int threads;
  std::string ours, peer;
  double ratio;     // peer time / ours
  double blasRatio; // OpenBLAS time / ours, or 0
  double target, goal;
  bool valid;
};

std::vector<SummaryRow> summary;
bool anyFailure = false;

std::string fmtErr(const Impl &impl) {
  if (impl.err < 0)
    return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s %.0e", impl.ok() ? "ok" : "**FAIL**",
                impl.err);
  return buf;
}

void printRows(const std::string &id, int threads, std::vector<Impl> &impls,
               Unit unit, double target, double goal) {
  const Impl *peer = nullptr, *blas = nullptr;
  for (const Impl &impl : impls) {
    if (impl.isPeer && (!peer || impl.median < peer->median))
      peer = &impl;
    if (impl.isBlas)
      blas = &impl;
  }
  for (const Impl &impl : impls) {
    double thr = impl.work / (impl.median * 1e-3) / 1e9;
    char ratio[32] = "—";
    if (peer == &impl)
      std::snprintf(ratio, sizeof ratio, "1 (peer)");
    else if (peer)
      std::snprintf(ratio, sizeof ratio, "%.2f×", peer->median / impl.median);
    if (!impl.ok())
      anyFailure = true;
    const char *b = impl.isOurs ? "**" : "";
    std::printf("| %s | %d | %s%s%s | %.3f | %.3f–%.3f | %s%.1f%s %s | %s%s%s "
                "| %s | %s |\n",
                id.c_str(), threads, b, impl.name.c_str(), b, impl.median,
                impl.lo, impl.hi, b, thr, b,
                unit == Unit::GOPS ? "GOP/s" : "GB/s", b, ratio, b,
                fmtErr(impl).c_str(), impl.detail.c_str());
  }
  std::fflush(stdout);
  if (!peer)
    return;
  for (const Impl &impl : impls)
    if (impl.isOurs)
      summary.push_back({id, threads, impl.name, peer->name,
                         peer->median / impl.median,
                         blas ? blas->median / impl.median : 0, target, goal,
                         impl.ok()});
}

//===----------------------------------------------------------------------===//
// oneDNN
//===----------------------------------------------------------------------===//

/// A matmul [M,K] × [K,N] → f32 [M,N] with per-N output scales. The
/// primitive is created and the weights are reordered from row-major into
/// its layout once, here.
struct DnnlMatmul {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  dnnl::matmul prim;
  dnnl::memory src, weights, dst;
  std::string impl;

  DnnlMatmul(int64_t M, int64_t N, int64_t K, dnnl::memory::data_type srcType,
             const void *srcData, const int8_t *w,
             const std::vector<float> &scales, float *out,
             dnnl::memory::format_tag weightsTag) {
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    dnnl::memory::desc srcMd({M, K}, srcType, tag::ab);
    dnnl::memory::desc wMd({K, N}, dt::s8, weightsTag);
    dnnl::memory::desc wUser({K, N}, dt::s8, tag::ab);
    dnnl::memory::desc wBa({K, N}, dt::s8, tag::ba);
    dnnl::memory::desc dstMd({M, N}, dt::f32, tag::ab);
    dnnl::primitive_attr attr;
    attr.set_output_scales(1 << 1, scales);
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(srcMd, wMd, dstMd),
                                    attr, engine);
    prim = dnnl::matmul(pd);
    src = dnnl::memory(srcMd, engine, const_cast<void *>(srcData));
    dst = dnnl::memory(dstMd, engine, out);
    dnnl::memory user(wUser, engine, const_cast<int8_t *>(w));
    const char *layout = pd.weights_desc() == wUser ? "ab (row-major)"
                         : pd.weights_desc() == wBa ? "ba (K-contiguous)"
                                                    : "blocked";
    impl = std::string(pd.impl_info_str()) + ", weights " + layout;
    if (pd.weights_desc() != wUser) {
      weights = dnnl::memory(pd.weights_desc(), engine);
      dnnl::reorder(user, weights).execute(stream, user, weights);
      stream.wait();
    } else {
      weights = user;
    }
  }

  void run() {
    const dnnl::memory &w =
        copies.empty() ? weights : copies[nextCopy++ % copies.size()];
    prim.execute(
        stream,
        {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_DST, dst}});
    stream.wait();
  }
  /// Calls then take the weights from `count` copies in turn (the cold GEMV).
  void replicateWeights(size_t count) {
    const size_t bytes = weights.get_desc().get_size();
    for (size_t c = 0; c < count; ++c) {
      copies.emplace_back(weights.get_desc(), engine);
      std::memcpy(copies.back().get_data_handle(), weights.get_data_handle(),
                  bytes);
    }
  }
  std::vector<dnnl::memory> copies;
  size_t nextCopy = 0;
  bool plainRowMajor() const {
    return weights.get_desc() == dnnl::memory::desc(
                                     weights.get_desc().dims(),
                                     dnnl::memory::data_type::s8,
                                     dnnl::memory::format_tag::ab);
  }
};

/// The oneDNN variants of one int8 matmul: s8 and u8 activations with the
/// weight layout format_tag::any picks, and u8 with K-contiguous weights
/// when `any` gives plain row-major (oneDNN's gemm path, which on AVX2 is
/// faster with K-contiguous weights). The fastest is the peer.
struct DnnlVariants {
  std::vector<std::unique_ptr<DnnlMatmul>> prims;
  std::vector<std::string> names;
  std::vector<float *> outs;
  std::vector<bool> u8;

  DnnlVariants(int64_t M, int64_t N, int64_t K, const int8_t *aS8,
               const uint8_t *aU8, const int8_t *w,
               const std::vector<float> &scales, float *outS8, float *outU8,
               float *outU8T) {
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    add(M, N, K, dt::s8, aS8, w, scales, outS8, tag::any, "s8×s8→f32", false);
    add(M, N, K, dt::u8, aU8, w, scales, outU8, tag::any, "u8×s8→f32", true);
    if (prims.back()->plainRowMajor())
      add(M, N, K, dt::u8, aU8, w, scales, outU8T, tag::ba,
          "u8×s8→f32, weights ba", true);
  }
  void add(int64_t M, int64_t N, int64_t K, dnnl::memory::data_type st,
           const void *a, const int8_t *w, const std::vector<float> &scales,
           float *out, dnnl::memory::format_tag t, const char *name,
           bool isU8) {
    prims.push_back(
        std::make_unique<DnnlMatmul>(M, N, K, st, a, w, scales, out, t));
    names.push_back(std::string("oneDNN ") + name);
    outs.push_back(out);
    u8.push_back(isU8);
  }
};

//===----------------------------------------------------------------------===//
// Shared helpers for the matmul cases
//===----------------------------------------------------------------------===//

/// max |got − ref| / max |ref| over the entries added.
struct ErrAcc {
  double maxDiff = 0, maxRef = 0;
  bool nan = false;
  void add(double got, double ref) {
    if (!std::isfinite(got))
      nan = true;
    maxDiff = std::max(maxDiff, std::fabs(got - ref));
    maxRef = std::max(maxRef, std::fabs(ref));
  }
  double value() const {
    if (nan)
      return INFINITY;
    return maxRef > 0 ? maxDiff / maxRef : maxDiff;
  }
};

std::vector<std::pair<int64_t, int64_t>> samplePairs(int64_t M, int64_t N,
                                                     size_t count, Rng &rng) {
  std::vector<std::pair<int64_t, int64_t>> s = {
      {0, 0}, {0, N - 1}, {M - 1, 0}, {M - 1, N - 1}, {M / 2, N / 2}};
  while (s.size() < count)
    s.push_back({rng.range(0, M - 1), rng.range(0, N - 1)});
  return s;
}

void *packWeights(int bits, int64_t K, int64_t N, int64_t group,
                  const uint8_t *codes, const float *scales,
                  const int32_t *zps, Buffer<uint8_t> &storage,
                  size_t &bytes) {
  bytes = qr_uk_packed_weights_bytes(bits, K, N, group);
  if (!bytes) {
    std::fprintf(stderr,
                 "error: qr_uk_packed_weights_bytes(%d, %lld, %lld, %lld) = "
                 "0\n",
                 bits, (long long)K, (long long)N, (long long)group);
    std::exit(1);
  }
  storage = allocate<uint8_t>(bytes);
  if (qr_uk_pack_weights(bits, K, N, group, codes, scales, zps,
                         storage.get()) != 0) {
    std::fprintf(stderr, "error: qr_uk_pack_weights failed: %s\n",
                 qr_last_error());
    std::exit(1);
  }
  return storage.get();
}

std::string shapeId(int64_t M, int64_t N, int64_t K) {
  return "M=" + std::to_string(M) + " N=" + std::to_string(N) +
         " K=" + std::to_string(K);
}

std::string mib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1 << 20));
  return buf;
}

void progress(const std::string &id, int t) {
  std::fprintf(stderr, "[quant-bench-cpu] %s, %d thread(s)\n", id.c_str(), t);
}

//===----------------------------------------------------------------------===//
// INT8 GEMM
//===----------------------------------------------------------------------===//

// Data: activations symmetric int8 in [−127, 127] (u8 variants: +127), as a
// per-token quantizer produces them; weights in [−63, 63]. Without VNNI,
// oneDNN's int8 GEMM multiplies u8 × s8 pairs with vpmaddubsw, whose 16-bit
// sums saturate beyond 7-bit weights (oneDNN documents this), so its results
// would not be exact with full-range weights; the kernels' speed does not
// depend on the values.
constexpr int kWeightMax8 = 63;

void benchGemmS8(const std::string &id, int64_t M, int64_t N, int64_t K,
                 const Options &o) {
  Rng rng(M * 1000003 + N * 101 + K);
  auto A = allocate<int8_t>(M * K);
  auto Au8 = allocate<uint8_t>(M * K);
  auto Af = allocate<float>(M * K);
  for (int64_t i = 0; i < M * K; ++i) {
    A[i] = (int8_t)rng.range(-127, 127);
    Au8[i] = (uint8_t)(A[i] + 127);
    Af[i] = A[i];
  }
  std::vector<float> aScales(M), wScales(N);
  for (float &s : aScales)
    s = (float)((0.5 + rng.uniform()) / 127);
  for (float &s : wScales)
    s = (float)((0.5 + rng.uniform()) / kWeightMax8);
  auto W = allocate<int8_t>(K * N);
  Buffer<uint8_t> packedStorage;
  size_t packedBytes;
  void *packed;
  {
    auto codes = allocate<uint8_t>(K * N);
    for (int64_t i = 0; i < K * N; ++i) {
      W[i] = (int8_t)rng.range(-kWeightMax8, kWeightMax8);
      codes[i] = (uint8_t)(W[i] + 128);
    }
    std::vector<int32_t> zps(N, 128);
    packed = packWeights(8, K, N, /*group=*/K, codes.get(), wScales.data(),
                         zps.data(), packedStorage, packedBytes);
  }
  auto Wf = allocate<float>(K * N);
  for (int64_t i = 0; i < K * N; ++i)
    Wf[i] = W[i];

  // Exact integer dot products on sampled entries, for the s8 and u8 data.
  auto samples = samplePairs(M, N, 1024, rng);
  std::vector<double> refDot(samples.size()), refDotU8(samples.size());
  for (size_t s = 0; s < samples.size(); ++s) {
    auto [m, n] = samples[s];
    int64_t dot = 0, dotU8 = 0;
    for (int64_t k = 0; k < K; ++k) {
      dot += (int64_t)A[m * K + k] * W[k * N + n];
      dotU8 += (int64_t)Au8[m * K + k] * W[k * N + n];
    }
    refDot[s] = (double)dot;
    refDotU8[s] = (double)dotU8;
  }

  auto Cours = allocate<float>(M * N), Cblas = allocate<float>(M * N);
  auto Cd0 = allocate<float>(M * N), Cd1 = allocate<float>(M * N),
       Cd2 = allocate<float>(M * N);
  double ops = 2.0 * M * N * K;

  for (int t : o.threads) {
    progress(id, t);
    setThreads(t);
    // Created per thread count: oneDNN plans its blocking for the threads
    // available when the primitive is created.
    DnnlVariants dnnl(M, N, K, A.get(), Au8.get(), W.get(), wScales, Cd0.get(),
                      Cd1.get(), Cd2.get());
    std::vector<Impl> impls;
    addImpl(impls, "ours qr_uk_matmul_s8 (W8A8)",
            [&] {
              uk->matmulS8(M, N, K, A.get(), K, aScales.data(), 0.f, 0,
                              packed, Cours.get(), N);
            },
            ops, "packed weights " + mib(packedBytes))
        .isOurs = true;
    for (size_t v = 0; v < dnnl.prims.size(); ++v)
      addImpl(impls, dnnl.names[v], [&, v] { dnnl.prims[v]->run(); }, ops,
              dnnl.prims[v]->impl)
          .isPeer = true;
    addImpl(impls, "OpenBLAS sgemm fp32",
            [&] {
              cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M,
                          (int)N, (int)K, 1.f, Af.get(), (int)K, Wf.get(),
                          (int)N, 0.f, Cblas.get(), (int)N);
            },
            ops, "")
        .isBlas = true;

    auto validate = [&] {
      ErrAcc eOurs, eBlas;
      std::vector<ErrAcc> eDnnl(dnnl.prims.size());
      for (size_t s = 0; s < samples.size(); ++s) {
        auto [m, n] = samples[s];
        double sc = wScales[n];
        eOurs.add(Cours[m * N + n], aScales[m] * sc * refDot[s]);
        eBlas.add(Cblas[m * N + n], refDot[s]);
        for (size_t v = 0; v < dnnl.prims.size(); ++v)
          eDnnl[v].add(dnnl.outs[v][m * N + n],
                       sc * (dnnl.u8[v] ? refDotU8[s] : refDot[s]));
      }
      Impl &ours = impls[0];
      ours.tol = 1e-5;
      ours.err = eOurs.value();
      for (size_t v = 0; v < dnnl.prims.size(); ++v) {
        impls[1 + v].err = eDnnl[v].value();
        impls[1 + v].tol = 1e-5;
      }
      // Ours against oneDNN s8×s8 over the whole output, when oneDNN is exact.
      if (impls[1].ok()) {
        ErrAcc all;
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n)
            all.add(Cours[m * N + n], (double)aScales[m] * Cd0[m * N + n]);
        ours.err = std::max(ours.err, all.value());
      }
      impls.back().err = eBlas.value();
      impls.back().tol = 1e-5; // integer-valued floats, |sums| < 2^24·…
    };
    measure(impls, o, validate);
    printRows(id, t, impls, Unit::GOPS, 0.8, 1.0);
  }
}

//===----------------------------------------------------------------------===//
// W4 GEMV (M = 1)
//===----------------------------------------------------------------------===//

/// Copies of `bytes` of weights that calls go through in turn so that each
/// call finds its weights in DRAM, as a decoder's layers do: 256 MiB in all,
/// eight times the 32 MiB L3 of a Zen 4 CCD (glibc's sysconf reports the
/// whole socket's).
size_t coldCopies(size_t bytes) {
  const size_t touched = size_t(256) << 20;
  return std::max<size_t>(2, (touched + bytes - 1) / bytes);
}

/// `cold`: every implementation rotates through copies of its weights
/// (coldCopies), the peers too; OpenBLAS is left out.
void benchGemvW4(const std::string &id, int64_t N, int64_t K, bool cold,
                 const Options &o) {
  const int64_t M = 1, group = 128, G = K / group;
  Rng rng(N * 7919 + K);
  // Symmetric 4-bit weights: codes 0..15 with zero point 8, one scale per
  // group of 128 along K and per output channel.
  auto codes = allocate<uint8_t>(K * N);
  for (int64_t i = 0; i < K * N; ++i)
    codes[i] = (uint8_t)rng.range(0, 15);
  std::vector<float> scales(G * N);
  for (float &s : scales)
    s = (float)((0.5 + rng.uniform()) / 7);
  std::vector<int32_t> zps(G * N, 8);
  Buffer<uint8_t> packedStorage;
  size_t packedBytes;
  void *packed = packWeights(4, K, N, group, codes.get(), scales.data(),
                             zps.data(), packedStorage, packedBytes);
  std::vector<Buffer<uint8_t>> packedCopies;
  if (cold)
    for (size_t c = 0, e = coldCopies(packedBytes); c < e; ++c) {
      packedCopies.push_back(allocate<uint8_t>(packedBytes));
      std::memcpy(packedCopies.back().get(), packed, packedBytes);
    }
  size_t nextPacked = 0;
  auto nextWeights = [&]() -> const void * {
    return cold ? packedCopies[nextPacked++ % packedCopies.size()].get()
                : packed;
  };

  auto A8 = allocate<int8_t>(K);
  auto A8u = allocate<uint8_t>(K);
  auto Af = allocate<float>(K);
  for (int64_t k = 0; k < K; ++k) {
    A8[k] = (int8_t)rng.range(-127, 127);
    A8u[k] = (uint8_t)(A8[k] + 127);
    Af[k] = (float)(2 * rng.uniform() - 1);
  }
  float aScale = (float)(1.0 / 127);
  // The int8 peer's weights (same shape, 7-bit range: see kWeightMax8) and
  // OpenBLAS's fp32 weights.
  auto W8 = allocate<int8_t>(K * N);
  auto Wf = allocate<float>(K * N);
  for (int64_t i = 0; i < K * N; ++i) {
    W8[i] = (int8_t)rng.range(-kWeightMax8, kWeightMax8);
    Wf[i] = (float)(rng.uniform() - 0.5);
  }
  std::vector<float> wScales(N);
  for (float &s : wScales)
    s = (float)((0.5 + rng.uniform()) / kWeightMax8);

  // Exact references for every output.
  std::vector<double> refW4A8(N, 0), refW4F(N, 0), refS8(N, 0), refU8(N, 0),
      refF(N, 0);
  {
    std::vector<int64_t> accI(N);
    std::vector<double> accF(N);
    for (int64_t g = 0; g < G; ++g) {
      std::fill(accI.begin(), accI.end(), 0);
      std::fill(accF.begin(), accF.end(), 0.0);
      for (int64_t k = g * group; k < (g + 1) * group; ++k)
        for (int64_t n = 0; n < N; ++n) {
          int64_t d = (int64_t)codes[k * N + n] - zps[g * N + n];
          accI[n] += A8[k] * d;
          accF[n] += (double)Af[k] * d;
        }
      for (int64_t n = 0; n < N; ++n) {
        refW4A8[n] += (double)aScale * scales[g * N + n] * accI[n];
        refW4F[n] += (double)scales[g * N + n] * accF[n];
      }
    }
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) {
        refS8[n] += (double)A8[k] * W8[k * N + n];
        refU8[n] += (double)A8u[k] * W8[k * N + n];
        refF[n] += (double)Af[k] * Wf[k * N + n];
      }
    for (int64_t n = 0; n < N; ++n) {
      refS8[n] *= wScales[n];
      refU8[n] *= wScales[n];
    }
  }
  codes.reset();

  auto C1 = allocate<float>(N), C2 = allocate<float>(N),
       Cblas = allocate<float>(N), Cd0 = allocate<float>(N),
       Cd1 = allocate<float>(N), Cd2 = allocate<float>(N);
  double int8Bytes = (double)K * N + 4.0 * N;
  for (int t : o.threads) {
    progress(id, t);
    setThreads(t);
    DnnlVariants dnnl(M, N, K, A8.get(), A8u.get(), W8.get(), wScales,
                      Cd0.get(), Cd1.get(), Cd2.get());
    const std::string copies =
        cold ? ", " + std::to_string(packedCopies.size()) + " copies" : "";
    std::vector<Impl> impls;
    addImpl(
        impls, "ours qr_uk_matmul_s8 (W4A8, g128)",
        [&] {
          uk->matmulS8(M, N, K, A8.get(), K, nullptr, aScale, 0, nextWeights(),
                       C1.get(), N);
        },
        (double)packedBytes, "packed weights " + mib(packedBytes) + copies)
        .isOurs = true;
    addImpl(
        impls, "ours qr_uk_matmul_f32 (W4A16 path, g128)",
        [&] {
          uk->matmulF32(M, N, K, Af.get(), K, nextWeights(), C2.get(), N);
        },
        (double)packedBytes, "fp32 activations" + copies)
        .isOurs = true;
    for (size_t v = 0; v < dnnl.prims.size(); ++v) {
      std::string detail = dnnl.prims[v]->impl;
      if (cold) {
        dnnl.prims[v]->replicateWeights(coldCopies(size_t(int8Bytes)));
        detail +=
            ", " + std::to_string(dnnl.prims[v]->copies.size()) + " copies";
      }
      addImpl(
          impls, dnnl.names[v], [&, v] { dnnl.prims[v]->run(); }, int8Bytes,
          detail)
          .isPeer = true;
    }
    if (!cold)
      addImpl(
          impls, "OpenBLAS sgemv fp32",
          [&] {
            cblas_sgemv(CblasRowMajor, CblasTrans, (int)K, (int)N, 1.f,
                        Wf.get(), (int)N, Af.get(), 1, 0.f, Cblas.get(), 1);
          },
          4.0 * K * N, "4 bytes per weight");

    auto validate = [&] {
      ErrAcc e1, e2, eBlas;
      std::vector<ErrAcc> eDnnl(dnnl.prims.size());
      for (int64_t n = 0; n < N; ++n) {
        e1.add(C1[n], refW4A8[n]);
        e2.add(C2[n], refW4F[n]);
        eBlas.add(Cblas[n], refF[n]);
        for (size_t v = 0; v < dnnl.prims.size(); ++v)
          eDnnl[v].add(dnnl.outs[v][n], dnnl.u8[v] ? refU8[n] : refS8[n]);
      }
      impls[0].err = e1.value();
      impls[0].tol = 1e-5;
      impls[1].err = e2.value();
      impls[1].tol = 1e-4; // float accumulation over K
      for (size_t v = 0; v < dnnl.prims.size(); ++v) {
        impls[2 + v].err = eDnnl[v].value();
        impls[2 + v].tol = 1e-5;
      }
      if (!cold) {
        impls.back().err = eBlas.value();
        impls.back().tol = 1e-4;
      }
    };
    measure(impls, o, validate);
    printRows(id, t, impls, Unit::GBS, 1.5, 1.5);
  }
}

//===----------------------------------------------------------------------===//
// Hadamard
//===----------------------------------------------------------------------===//

/// `calls` copies of rows × n floats by `threads` threads, each copying its
/// own contiguous share `calls` times with no synchronisation in between:
/// the streaming limit, not a parallel-for's.
void copyBlock(float *dst, const float *src, int64_t rows, int64_t n,
               int threads, int calls) {
  if (threads <= 1) {
    for (int c = 0; c < calls; ++c) {
      std::memcpy(dst, src, sizeof(float) * rows * n);
      asm volatile("" ::: "memory");
    }
    return;
  }
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([=] {
      int64_t b = rows * i / threads, e = rows * (i + 1) / threads;
      for (int c = 0; c < calls; ++c) {
        std::memcpy(dst + b * n, src + b * n, sizeof(float) * (e - b) * n);
        asm volatile("" ::: "memory");
      }
    });
  for (std::thread &th : pool)
    th.join();
}

void benchHadamard(const std::string &id, int64_t rows, int64_t n,
                   const Options &o) {
  Rng rng(rows * 31 + n);
  auto X = allocate<float>(rows * n);
  auto Y = allocate<float>(rows * n);
  for (int64_t i = 0; i < rows * n; ++i)
    X[i] = (float)(2 * rng.uniform() - 1);
  std::memset(Y.get(), 0, sizeof(float) * rows * n);
  double bytes = 2.0 * sizeof(float) * rows * n; // read + write
  const int64_t checkRows[] = {0, rows / 2, rows - 1};
  std::vector<int64_t> checkCols = {0, 1, n / 2, n - 1};
  while (checkCols.size() < 48)
    checkCols.push_back(rng.range(0, n - 1));

  for (int t : o.threads) {
    progress(id, t);
    setThreads(t);
    std::vector<Impl> impls;
    std::vector<std::vector<float>> before; // checked rows before the call
    addImpl(impls, "ours qr_uk_hadamard_f32 (in place)",
            [&] {
              before.clear();
              for (int64_t r : checkRows)
                before.emplace_back(X.get() + r * n, X.get() + (r + 1) * n);
              uk->hadamardF32(X.get(), rows, n, n, nullptr, nullptr, 1);
            },
            bytes, mib(sizeof(float) * rows * n) + " of rows")
        .isOurs = true;
    // Timed calls skip the bookkeeping of the rows to check.
    impls[0].runMany = [&](int calls) {
      for (int c = 0; c < calls; ++c)
        uk->hadamardF32(X.get(), rows, n, n, nullptr, nullptr, 1);
    };
    addImpl(impls, "copy (memcpy to another buffer)",
            [&] { copyBlock(Y.get(), X.get(), rows, n, t, 1); }, bytes,
            t > 1 ? "T threads, no sync per call" : "memcpy")
        .isPeer = true;
    impls[1].runMany = [&](int calls) {
      copyBlock(Y.get(), X.get(), rows, n, t, calls);
    };

    // y_j = Σ_i x_i (−1)^popcount(i&j) / √n from the rows before the last
    // call of ours (the warm-up), on sampled rows and columns.
    auto validate = [&] {
      ErrAcc e;
      double inv = 1.0 / std::sqrt((double)n);
      for (size_t ri = 0; ri < before.size(); ++ri)
        for (int64_t j : checkCols) {
          double y = 0;
          for (int64_t i = 0; i < n; ++i)
            y += (__builtin_popcountll((uint64_t)(i & j)) & 1)
                     ? -(double)before[ri][i]
                     : (double)before[ri][i];
          e.add(X[checkRows[ri] * n + j], y * inv);
        }
      impls[0].err = e.value();
      impls[0].tol = 1e-5;
      copyBlock(Y.get(), X.get(), rows, n, t, 1);
      impls[1].err =
          std::memcmp(X.get(), Y.get(), sizeof(float) * rows * n) ? INFINITY
                                                                  : 0;
    };
    measure(impls, o, validate);
    printRows(id, t, impls, Unit::GBS, 0.5, 0.5);
  }
}

//===----------------------------------------------------------------------===//
// Cases
//===----------------------------------------------------------------------===//

struct Case {
  std::string id;
  bool quick;
  std::function<void(const std::string &, const Options &)> run;
};

std::vector<Case> allCases() {
  std::vector<Case> cases;
  auto gemm = [&](int64_t M, int64_t N, int64_t K, bool quick) {
    cases.push_back({"gemm-s8 " + shapeId(M, N, K), quick,
                     [=](const std::string &id, const Options &o) {
                       benchGemmS8(id, M, N, K, o);
                     }});
  };
  gemm(4096, 4096, 4096, false);
  for (int64_t kn : {4096, 11008})
    for (int64_t m : {1, 16, 128, 2048})
      gemm(m, kn, kn, kn == 4096 && (m == 16 || m == 128));
  for (int64_t kn : {4096, 11008})
    cases.push_back({"gemv-w4 " + shapeId(1, kn, kn), kn == 4096,
                     [=](const std::string &id, const Options &o) {
                       benchGemvW4(id, kn, kn, false, o);
                     }});
  // 4096² fits the last-level cache (ours 9.5 MiB, oneDNN's 16 MiB);
  // 11008² (69 / 116 MiB) does not, cold or not.
  cases.push_back({"gemv-w4 cold " + shapeId(1, 4096, 4096), false,
                   [=](const std::string &id, const Options &o) {
                     benchGemvW4(id, 4096, 4096, true, o);
                   }});
  // 64 rows: 1, 2 and 4 MiB (in L3); 1024 rows: 16 to 64 MiB (DRAM).
  for (int64_t rows : {64, 1024})
    for (int64_t n : {4096, 8192, 16384})
      cases.push_back(
          {"hadamard rows=" + std::to_string(rows) + " n=" + std::to_string(n),
           rows == 64 && n != 8192,
           [=](const std::string &id, const Options &o) {
             benchHadamard(id, rows, n, o);
           }});
  return cases;
}

bool selected(const Case &c, const Options &o) {
  if (o.quick && !c.quick)
    return false;
  if (o.filters.empty())
    return true;
  for (const std::string &f : o.filters)
    if (c.id.find(f) != std::string::npos)
      return true;
  return false;
}

std::string cpuModel() {
  std::string model = "unknown";
  FILE *f = std::fopen("/proc/cpuinfo", "r");
  if (!f)
    return model;
  char line[512];
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "model name", 10) == 0) {
      if (const char *colon = std::strchr(line, ':')) {
        model = colon + 1;
        while (!model.empty() && model.front() == ' ')
          model.erase(model.begin());
        while (!model.empty() && (model.back() == '\n' || model.back() == ' '))
          model.pop_back();
      }
      break;
    }
  std::fclose(f);
  return model;
}

const char *isaName(dnnl::cpu_isa isa) {
  switch (isa) {
  case dnnl::cpu_isa::sse41:
    return "sse41";
  case dnnl::cpu_isa::avx:
    return "avx";
  case dnnl::cpu_isa::avx2:
    return "avx2";
  case dnnl::cpu_isa::avx2_vnni:
    return "avx2_vnni";
  case dnnl::cpu_isa::avx512_core:
    return "avx512_core";
  case dnnl::cpu_isa::avx512_core_vnni:
    return "avx512_core_vnni";
  case dnnl::cpu_isa::avx512_core_bf16:
    return "avx512_core_bf16";
  case dnnl::cpu_isa::avx512_core_amx:
    return "avx512_core_amx";
  default:
    return "other";
  }
}

} // namespace

int main(int argc, char **argv) {
  Options o = parseOptions(argc, argv);
  std::vector<Case> cases = allCases();
  if (o.list) {
    for (const Case &c : cases)
      std::printf("%s%s\n", c.id.c_str(), c.quick ? "   [--quick]" : "");
    return 0;
  }
  std::vector<const Case *> chosen;
  for (const Case &c : cases)
    if (selected(c, o))
      chosen.push_back(&c);
  if (chosen.empty()) {
    std::fprintf(stderr, "error: no case matches the filter (see --list)\n");
    return 2;
  }

  bool avx512 = qr_uk_cpu_supports_avx512_vnni();
  if (o.variant == "generic" || (o.variant == "auto" && !avx512))
    uk = &kGeneric;
  if (uk == &kAvx512 && !avx512) {
    std::fprintf(stderr, "error: --variant avx512 needs AVX-512 "
                         "F/BW/VL/DQ/VNNI, which this CPU lacks\n");
    return 2;
  }
  const dnnl_version_t *v = dnnl_version();
  std::string threads;
  for (int t : o.threads)
    threads += (threads.empty() ? "" : ",") + std::to_string(t);
  std::printf("# quant-bench-cpu\n\n");
  std::printf("- CPU: %s, %u hardware threads; AVX2 %s, AVX-512F %s, "
              "AVX512-VNNI %s\n",
              cpuModel().c_str(), std::thread::hardware_concurrency(),
              __builtin_cpu_supports("avx2") ? "yes" : "no",
              __builtin_cpu_supports("avx512f") ? "yes" : "no",
              __builtin_cpu_supports("avx512vnni") ? "yes" : "no");
  std::printf("- ours: the %s variant of the micro-kernels%s\n", uk->name,
              uk == &kGeneric && !avx512
                  ? " (this CPU has no AVX-512: the AVX-512 VNNI variant "
                    "cannot run here)"
                  : "");
  std::printf("- oneDNN %d.%d.%d, effective ISA %s, OpenMP threads; %s\n",
              v->major, v->minor, v->patch,
              isaName(dnnl::get_effective_cpu_isa()), openblas_get_config());
  std::printf("- threads %s%s; %d timed repetitions (median; at most 3 when "
              "a call takes over 2 s) of >= %.0f ms each, interleaved across "
              "implementations, %.0f ms pause before each; %d warm-up "
              "call(s)\n",
              threads.c_str(),
              ompSetNumThreads() ? "" : " (omp_set_num_threads NOT found)",
              o.repeat, o.minRepMs, o.settleMs, o.warmup);
  std::printf("- vs peer: peer time / this time (peer: the fastest oneDNN "
              "variant for GEMM and GEMV, the copy for Hadamard). check: "
              "max |error| / max |reference| against an exact float64 "
              "reference (ours' GEMM also against oneDNN's whole output)\n\n");
  std::printf("| case | T | implementation | ms (median) | ms min–max | "
              "throughput | vs peer | check | notes |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  std::fflush(stdout);

  for (const Case *c : chosen)
    c->run(c->id, o);

  std::printf("\n| case | T | ours | peer (fastest) | ours / peer | "
              "ours / OpenBLAS | target | status |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const SummaryRow &s : summary) {
    const char *status = !s.valid              ? "**WRONG RESULT**"
                         : s.ratio >= s.goal   ? "met"
                         : s.ratio >= s.target ? "met (below goal)"
                                               : "**missed**";
    char target[64], blas[32] = "—";
    if (s.goal > s.target)
      std::snprintf(target, sizeof target, "≥ %.2f (goal ≥ %.2f)", s.target,
                    s.goal);
    else
      std::snprintf(target, sizeof target, "≥ %.2f", s.target);
    if (s.blasRatio > 0)
      std::snprintf(blas, sizeof blas, "%.2f", s.blasRatio);
    std::printf("| %s | %d | %s | %s | %.2f | %s | %s | %s |\n", s.id.c_str(),
                s.threads, s.ours.c_str(), s.peer.c_str(), s.ratio, blas,
                target, status);
  }
  if (anyFailure)
    std::printf("\nFAIL: at least one implementation's result is wrong\n");
  return anyFailure ? 1 : 0;
}
