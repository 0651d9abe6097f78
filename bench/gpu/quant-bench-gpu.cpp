//===- quant-bench-gpu.cpp - GPU kernels: checks and speed vs cuBLAS ------===//
//
//   quant-bench-gpu check [--seed S]   every kernel of GpuKernels.h against a
//                                      float64 host reference, fresh random
//                                      inputs, outputs poisoned with NaN
//   quant-bench-gpu bench [--quick | --decode | --rows M,M...]
//                                      speed against cuBLAS fp16 (W4A16),
//                                      cuBLASLt int8 (W8A8, W4A8) and a
//                                      device-to-device copy (Hadamard);
//                                      --decode: the matmuls at M ≤ 64 and
//                                      a rotated W4A8 decode step only;
//                                      --rows: the matmuls at those M only
//   quant-bench-gpu pillar [--quick]   sparse pillar conv timings
//                                      (PillarBench.cpp; cuDNN's dense conv
//                                      in bench/gpu/torch_pillar_peer.py)
//
// Both print a table; check exits non-zero on any failure. Timings are
// device-event medians; weight buffers rotate through more copies than L2
// holds, so the numbers are for weights streamed from HBM, as in decoding.
// Matmuls are timed twice: launched back to back on the stream, and
// replayed in a CUDA graph (no host launch cost on either side), next to
// the host time a call takes to enqueue.
//
//===----------------------------------------------------------------------===//

#include "GpuBench.h"

#include "quant/Runtime/GpuKernels.h"
#include "quant/Support/Hadamard.h"

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace qbench;

namespace {

void checkCublas(cublasStatus_t status, const char *what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    die(std::string(what) + ": cuBLAS status " + std::to_string(status));
}


/// Whether the launchers (Launch.cpp) may take 128×128 tiles: past 64 rows;
/// up to 64 they stream.
bool usesTiledKernel(int64_t M) { return M > 64; }

/// The weight-only launcher's choice (Launch.cpp) on a 132-multiprocessor
/// H100/H200: up to 256 rows, the streaming kernel also where the tiles
/// would be fewer than half the multiprocessors; the f16 wgmma kernel where
/// they are at least as many as the multiprocessors.
const char *weightOnlyKernel(int64_t M, int64_t N, int64_t K) {
  const int64_t tiles = (M + 127) / 128 * (((N + 15) / 16 * 16 + 127) / 128);
  if (!usesTiledKernel(M) || K % 4 != 0 || (M <= 256 && 2 * tiles < 132))
    return "(stream) ";
  return M >= 128 && tiles >= 132 ? "(wgmma f16) " : "(tiled) ";
}

/// The integer launcher's choice (Launch.cpp) on a 132-multiprocessor
/// H100/H200: the wgmma kernel for per-channel codes (4-bit ones widened
/// to 8 first) when its 128 × 256 tiles, or else its 128 × 128 ones, give
/// every multiprocessor one; otherwise 64 × 64 tiles where 128 × 128 ones
/// would be fewer than the multiprocessors.
const char *integerKernel(int64_t M, int64_t N, int64_t K, int bits,
                          int64_t group) {
  if (!usesTiledKernel(M) || K % 16 != 0)
    return "(stream)";
  const int64_t rowTiles = (M + 127) / 128, paddedN = (N + 15) / 16 * 16;
  const int64_t wide = rowTiles * ((paddedN + 255) / 256),
                narrow = rowTiles * ((paddedN + 127) / 128);
  if (group != K || M < 128 || K < 64 || narrow < 132)
    return narrow < 132 ? "(64×64 tiles)" : "(tiled)";
  if (wide >= 132)
    return bits == 8 ? "(wgmma)" : "(widened, wgmma)";
  return bits == 8 ? "(wgmma n128)" : "(widened, wgmma n128)";
}

float roundToHalf(float x) { return __half2float(__float2half_rn(x)); }

//===----------------------------------------------------------------------===//
// Quantized weights and their references
//===----------------------------------------------------------------------===//

struct Weights {
  int bits;
  int64_t K, N, group;
  std::vector<uint8_t> codes; // [K][N]
  std::vector<float> scales;  // [G][N]
  std::vector<int32_t> zeros; // [G][N]
  std::vector<uint8_t> packed;

  Weights(std::mt19937_64 &rng, int bits, int64_t K, int64_t N, int64_t group,
          bool symmetric)
      : bits(bits), K(K), N(N), group(group) {
    const int64_t G = K / group;
    std::uniform_int_distribution<int> code(0, (1 << bits) - 1);
    std::uniform_real_distribution<float> scale(0.002f, 0.02f);
    codes.resize(K * N);
    for (auto &c : codes)
      c = uint8_t(code(rng));
    scales.resize(G * N);
    zeros.resize(G * N);
    for (int64_t i = 0; i < G * N; ++i) {
      scales[i] = scale(rng);
      zeros[i] = symmetric ? 1 << (bits - 1) : code(rng);
    }
    packed.resize(qr_gpu_packed_weights_bytes(bits, K, N, group));
    if (packed.empty() ||
        qr_gpu_pack_weights(bits, K, N, group, codes.data(), scales.data(),
                            zeros.data(), packed.data()) != 0)
      die("qr_gpu_pack_weights rejected valid weights");
  }

  int64_t at(int64_t k, int64_t n) const { return (k / group) * N + n; }
  double exactWeight(int64_t k, int64_t n) const {
    return double(int(codes[k * N + n]) - zeros[at(k, n)]) * scales[at(k, n)];
  }
};

std::vector<float> randomFloats(std::mt19937_64 &rng, size_t count,
                                float spread = 1.0f) {
  std::normal_distribution<float> normal(0.0f, spread);
  std::vector<float> v(count);
  for (auto &x : v)
    x = normal(rng);
  return v;
}

//===----------------------------------------------------------------------===//
// Checks
//===----------------------------------------------------------------------===//

struct CheckTable {
  int failures = 0;
  void row(const std::string &what, double error, double bound,
           const std::string &note = "") {
    bool ok = error <= bound;
    failures += !ok;
    std::printf("%-52s %10.2e %9.0e  %s %s\n", what.c_str(), error, bound,
                ok ? "ok  " : "FAIL", note.c_str());
  }
};

/// A (M × K, row-major) times the weights' exact values in float64, with
/// A rounded to f16 as the weight-only kernels take it, or as given.
std::vector<double> weightOnlyProduct(const std::vector<float> &A, int64_t M,
                                      const Weights &w, bool halfActivations) {
  std::vector<double> C(M * w.N, 0.0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < w.K; ++k) {
      const double a =
          halfActivations ? roundToHalf(A[m * w.K + k]) : A[m * w.K + k];
      for (int64_t n = 0; n < w.N; ++n)
        C[m * w.N + n] += a * w.exactWeight(k, n);
    }
  return C;
}

void checkWeightOnly(std::mt19937_64 &rng, CheckTable &table, int64_t M,
                     int64_t N, int64_t K, int bits, int64_t group) {
  Weights w(rng, bits, K, N, group, /*symmetric=*/false);
  std::vector<float> A = randomFloats(rng, M * K);
  const std::vector<double> ref = weightOnlyProduct(A, M, w, true),
                            exact = weightOnlyProduct(A, M, w, false);
  DeviceBuffer dA = toDevice(A), dW = toDevice(w.packed), dC(M * N * 4);
  // Twice: the split-K reduction must re-arm itself and add in a fixed
  // order, so the second run repeats the first bit for bit.
  std::vector<float> C(M * N), again(M * N);
  for (std::vector<float> *result : {&C, &again}) {
    dC.poison();
    qr_gpu_matmul_f16w(M, N, K, bits, group, dA.as<float>(), K, dW.ptr,
                       dC.as<float>(), N);
    checkKernels("qr_gpu_matmul_f16w");
    dC.download(result->data());
  }
  if (std::memcmp(C.data(), again.data(), C.size() * sizeof(float)) != 0)
    C.assign(C.size(), NAN);
  char what[128], note[64];
  std::snprintf(what, sizeof what, "f16w W%dA16 M=%ld N=%ld K=%ld g=%ld", bits,
                long(M), long(N), long(K), long(group));
  std::snprintf(note, sizeof note, "(vs unrounded f64: %.1e)",
                relativeError(C, exact));
  table.row(what, relativeError(C, ref), 1e-5,
            std::string(weightOnlyKernel(M, N, K)) + note);
}

/// A chain of weight-only layers, each reading the previous one's output,
/// launched back to back with no synchronization: the streaming kernel
/// starts before its predecessor has finished (programmatic dependent
/// launch) and must wait for it before it reads A. Every buffer starts as
/// NaN, and each link is checked against a float64 reference computed from
/// the input it was given, read back at the end.
void checkWeightOnlyChain(std::mt19937_64 &rng, CheckTable &table, int64_t M,
                          int64_t NK, int bits, int64_t group, int links) {
  std::vector<Weights> weights;
  std::vector<DeviceBuffer> packed, outputs;
  for (int i = 0; i < links; ++i) {
    weights.emplace_back(rng, bits, NK, NK, group, /*symmetric=*/false);
    packed.push_back(toDevice(weights.back().packed));
    outputs.emplace_back(M * NK * 4);
    outputs.back().poison();
  }
  std::vector<float> input = randomFloats(rng, M * NK);
  DeviceBuffer dInput = toDevice(input);
  checkKernels("chain set-up");
  for (int i = 0; i < links; ++i)
    qr_gpu_matmul_f16w(M, NK, NK, bits, group,
                       (i == 0 ? dInput : outputs[i - 1]).as<float>(), NK,
                       packed[i].ptr, outputs[i].as<float>(), NK);
  checkKernels("qr_gpu_matmul_f16w chain");
  double worst = 0;
  for (int i = 0; i < links; ++i) {
    std::vector<float> C(M * NK);
    outputs[i].download(C.data());
    worst = std::max(
        worst, relativeError(C, weightOnlyProduct(input, M, weights[i], true)));
    input = std::move(C);
  }
  char what[128];
  std::snprintf(what, sizeof what, "f16w W%dA16 chain of %d M=%ld N=K=%ld",
                bits, links, long(M), long(NK));
  table.row(what, worst, 1e-5, "(stream, back to back)");
}

void checkInteger(std::mt19937_64 &rng, CheckTable &table, int64_t M, int64_t N,
                  int64_t K, int bits, int64_t group, bool perToken,
                  int32_t aZero) {
  Weights w(rng, bits, K, N, group, /*symmetric=*/true);
  std::uniform_int_distribution<int> act(-128, 127);
  std::vector<int8_t> A(M * K);
  for (auto &a : A)
    a = int8_t(act(rng));
  std::vector<float> aScales(M);
  for (auto &s : aScales)
    s = std::uniform_real_distribution<float>(0.01f, 0.1f)(rng);
  const float aScale = 0.05f;
  std::vector<double> ref(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double sum = 0;
      for (int64_t g = 0; g < K / group; ++g) {
        int64_t exact = 0; // the int32 sums, exactly
        for (int64_t k = g * group; k < (g + 1) * group; ++k)
          exact += int64_t(A[m * K + k] - aZero) *
                   (int64_t(w.codes[k * N + n]) - w.zeros[g * N + n]);
        sum += double(exact) * w.scales[g * N + n];
      }
      ref[m * N + n] = sum * (perToken ? aScales[m] : aScale);
    }
  DeviceBuffer dA = toDevice(A), dS = toDevice(aScales),
               dW = toDevice(w.packed), dC(M * N * 4);
  dC.poison();
  qr_gpu_matmul_s8(M, N, K, bits, group, dA.as<int8_t>(), K,
                   perToken ? dS.as<float>() : nullptr, aScale, aZero, dW.ptr,
                   dC.as<float>(), N);
  checkKernels("qr_gpu_matmul_s8");
  std::vector<float> C(M * N);
  dC.download(C.data());
  char what[128];
  std::snprintf(what, sizeof what, "s8 W%dA8 M=%ld N=%ld K=%ld g=%ld %s zp=%d",
                bits, long(M), long(N), long(K), long(group),
                perToken ? "token" : "tensor", aZero);
  table.row(what, relativeError(C, ref), 1e-6,
            integerKernel(M, N, K, bits, group));
}

void checkHadamard(std::mt19937_64 &rng, CheckTable &table, int64_t rows,
                   int64_t n, bool withSigns) {
  std::vector<float> X = randomFloats(rng, rows * n);
  std::vector<int8_t> signs(n);
  for (auto &s : signs)
    s = (rng() & 1) ? 1 : -1;
  const int64_t b = quant::hadamardBaseOrder(n);
  // Reference: y = x · H / √n with H the stored matrix (Kronecker sizes)
  // or y_j = Σ_i x_i (−1)^popcount(i & j) (powers of two), dense; large
  // powers of two by an independent float64 butterfly.
  std::vector<int8_t> dense =
      b > 1 ? quant::hadamardMatrix(n) : std::vector<int8_t>();
  std::vector<double> ref(rows * n);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> x(n);
    for (int64_t i = 0; i < n; ++i)
      x[i] = double(X[r * n + i]) * (withSigns ? signs[i] : 1);
    if (b > 1 || n <= 1024) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t i = 0; i < n; ++i) {
          int sign = b > 1 ? dense[i * n + j]
                           : (__builtin_popcountll(i & j) % 2 ? -1 : 1);
          sum += sign * x[i];
        }
        ref[r * n + j] = sum / std::sqrt(double(n));
      }
    } else {
      for (int64_t h = n / 2; h >= 1; h /= 2)
        for (int64_t i = 0; i < n; i += 2 * h)
          for (int64_t j = i; j < i + h; ++j) {
            double a = x[j], c = x[j + h];
            x[j] = a + c;
            x[j + h] = a - c;
          }
      for (int64_t i = 0; i < n; ++i)
        ref[r * n + i] = x[i] / std::sqrt(double(n));
    }
  }
  std::vector<int8_t> base =
      b > 1 ? quant::hadamardMatrix(b) : std::vector<int8_t>(1, 1);
  DeviceBuffer dX = toDevice(X), dS = toDevice(signs), dB = toDevice(base);
  qr_gpu_hadamard_f32(dX.as<float>(), rows, n, n,
                      withSigns ? dS.as<int8_t>() : nullptr,
                      b > 1 ? dB.as<int8_t>() : nullptr, b);
  checkKernels("qr_gpu_hadamard_f32");
  std::vector<float> Y(rows * n);
  dX.download(Y.data());
  char what[128];
  std::snprintf(what, sizeof what, "hadamard rows=%ld n=%ld%s", long(rows),
                long(n), withSigns ? " signs" : "");
  table.row(what, relativeError(Y, ref), 1e-6,
            b > 1 ? "(" + std::to_string(b) + "·2^k)" : "");
}

void checkGemmF32(std::mt19937_64 &rng, CheckTable &table, int64_t batch,
                  int64_t M, int64_t N, int64_t K, bool transposeB) {
  std::vector<float> A = randomFloats(rng, batch * M * K),
                     B = randomFloats(rng, batch * K * N);
  std::vector<double> ref(batch * M * N, 0.0);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double sum = 0;
        for (int64_t k = 0; k < K; ++k)
          sum += double(A[b * M * K + m * K + k]) *
                 B[b * K * N + (transposeB ? n * K + k : k * N + n)];
        ref[b * M * N + m * N + n] = sum;
      }
  DeviceBuffer dA = toDevice(A), dB = toDevice(B), dC(batch * M * N * 4);
  dC.poison();
  qr_gpu_gemm_f32(batch, M, N, K, dA.as<float>(), K, M * K, dB.as<float>(),
                  transposeB ? K : N, K * N, transposeB, dC.as<float>(), N,
                  M * N);
  checkKernels("qr_gpu_gemm_f32");
  std::vector<float> C(batch * M * N);
  dC.download(C.data());
  char what[128];
  std::snprintf(what, sizeof what, "gemm f32 batch=%ld M=%ld N=%ld K=%ld%s",
                long(batch), long(M), long(N), long(K),
                transposeB ? " B^T" : "");
  table.row(what, relativeError(C, ref), 1e-5);
}

void checkQuantize(std::mt19937_64 &rng, CheckTable &table, int64_t M,
                   int64_t K, int bits) {
  std::vector<float> X = randomFloats(rng, M * K, 3.0f);
  X[1] = NAN; // NaN is skipped by absmax and quantizes to 0
  DeviceBuffer dX = toDevice(X), dQ(M * K), dS(M * 4);
  dQ.poison();
  dS.poison();
  qr_gpu_quantize_per_token_f32(M, K, dX.as<float>(), K, bits, dQ.as<int8_t>(),
                                K, dS.as<float>());
  checkKernels("qr_gpu_quantize_per_token_f32");
  std::vector<int8_t> Q(M * K);
  std::vector<float> S(M);
  dQ.download(Q.data());
  dS.download(S.data());
  int64_t mismatches = 0;
  const double qmax = (1 << (bits - 1)) - 1;
  for (int64_t m = 0; m < M; ++m) {
    float absmax = 0;
    for (int64_t k = 0; k < K; ++k)
      if (std::fabs(X[m * K + k]) > absmax)
        absmax = std::fabs(X[m * K + k]);
    float scale = float(double(absmax) / qmax);
    mismatches += std::memcmp(&scale, &S[m], 4) != 0;
    for (int64_t k = 0; k < K; ++k) {
      double r = std::nearbyint(double(X[m * K + k]) / double(scale));
      int code =
          std::isnan(r) || scale == 0 ? 0 : int(std::clamp(r, -qmax - 1, qmax));
      mismatches += code != Q[m * K + k];
    }
  }
  char what[128];
  std::snprintf(what, sizeof what, "quantize per-token M=%ld K=%ld bits=%d",
                long(M), long(K), bits);
  table.row(what, double(mismatches), 0, "(mismatching codes/scales)");
}

/// Calls the kernels cannot take are refused with a message naming the
/// entry point (qr_take_kernel_error) and launch nothing: C, poisoned,
/// stays NaN. Counts the calls that did otherwise.
void checkRejections(CheckTable &table) {
  // Every call here is refused before anything is read.
  DeviceBuffer dA(8 * 256 * 4), dQ(8 * 256), dC(8 * 64 * 4),
      dW(qr_gpu_packed_weights_bytes(4, 256, 64, 128) + 16);
  dC.poison();
  qr_take_kernel_error();
  const auto *A = dA.as<float>();
  const auto *Q = static_cast<const int8_t *>(dQ.ptr);
  float *C = dC.as<float>();
  const auto *misaligned = static_cast<const uint8_t *>(dW.ptr) + 4;
  struct Rejection {
    const char *what, *expected;
    std::function<void()> call;
  };
  const Rejection rejections[] = {
      {"3-bit weights", "unsupported weights",
       [&] { qr_gpu_matmul_f16w(8, 64, 256, 3, 128, A, 256, dW.ptr, C, 64); }},
      {"a group not dividing K", "unsupported weights",
       [&] { qr_gpu_matmul_f16w(8, 64, 256, 4, 96, A, 256, dW.ptr, C, 64); }},
      {"lda < K", "invalid operands",
       [&] { qr_gpu_matmul_f16w(8, 64, 256, 4, 128, A, 200, dW.ptr, C, 64); }},
      {"packed weights off 16 bytes", "16-byte aligned",
       [&] {
         qr_gpu_matmul_f16w(8, 64, 256, 4, 128, A, 256, misaligned, C, 64);
       }},
      {"int8 packed weights off 16 bytes", "16-byte aligned",
       [&] {
         qr_gpu_matmul_s8(8, 64, 256, 4, 128, Q, 256, nullptr, 1.0f, 0,
                          misaligned, C, 64);
       }},
      {"Hadamard of 24", "2^k",
       [&] { qr_gpu_hadamard_f32(C, 8, 24, 24, nullptr, nullptr, 1); }},
  };
  int mismatches = 0;
  for (const Rejection &r : rejections) {
    r.call();
    checkKernels(r.what);
    const char *error = qr_take_kernel_error();
    if (!error || !std::strstr(error, r.expected)) {
      std::printf("  %s: %s\n", r.what, error ? error : "(no error)");
      ++mismatches;
    }
  }
  std::vector<float> C8(8 * 64);
  dC.download(C8.data());
  for (float c : C8)
    mismatches += !std::isnan(c);
  table.row("rejected calls (6), their messages, C untouched",
            double(mismatches), 0, "(mismatches)");
}

int runChecks(uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::printf("seed %llu\n%-52s %10s %9s\n", (unsigned long long)seed,
              "check (vs float64)", "rel err", "bound");
  CheckTable t;
  for (int bits : {4, 8}) {
    checkWeightOnly(rng, t, 1, 4096, 4096, bits, 128);
    checkWeightOnly(rng, t, 5, 333, 320, bits, 64);
    checkWeightOnly(rng, t, 16, 1000, 1024, bits, 1024);
    checkWeightOnly(rng, t, 37, 256, 768, bits, 128);
    checkWeightOnly(rng, t, 130, 200, 384, bits, 384);
    checkWeightOnly(rng, t, 300, 272, 640, bits, 128);
    checkWeightOnly(rng, t, 1056, 1920, 192, bits, 64);
    checkWeightOnly(rng, t, 129, 100, 250, bits, 250);
    checkWeightOnly(rng, t, 257, 1056, 256, bits, 128); // tiles, few of them
    checkInteger(rng, t, 1, 4096, 4096, bits, 4096, true, 0);
    checkInteger(rng, t, 7, 333, 320, bits, 64, true, 0);
    checkInteger(rng, t, 16, 257, 1024, bits, 128, false, -3);
    checkInteger(rng, t, 61, 128, 200, bits, 200, true, 5);
    checkInteger(rng, t, 200, 300, 512, bits, 512, true, 0);
    checkInteger(rng, t, 256, 256, 1024, bits, 128, false, 7);
    checkInteger(rng, t, 1056, 1920, 256, bits, 128, false, 7);
    checkInteger(rng, t, 1100, 2000, 320, bits, 320, true, 0);
    checkInteger(rng, t, 300, 130, 96, bits, 96, true, -2);
    // Streaming splits long enough that A is staged an m16 tile's rows a
    // run (M ≤ 16) or eight (two and four m16 tiles), across many groups.
    checkWeightOnly(rng, t, 3, 80, 16384, bits, 128);
    checkWeightOnly(rng, t, 40, 64, 4096, bits, 128);
    checkInteger(rng, t, 9, 48, 16384, bits, 128, false, 4);
    checkInteger(rng, t, 24, 96, 8192, bits, 8192, true, -1);
    // A row or two (the k-warps kernels): warps without k blocks, groups
    // across warps and splits, activation zero points, and rows that are
    // not 4-aligned, staged element by element, with K not a multiple of
    // the 64-k block.
    checkWeightOnly(rng, t, 2, 4096, 4096, bits, 128);
    checkWeightOnly(rng, t, 1, 1000, 1088, bits, 64);
    checkInteger(rng, t, 2, 96, 1280, bits, 128, false, 5);
    checkInteger(rng, t, 1, 333, 640, bits, 640, true, -3);
    checkWeightOnly(rng, t, 1, 200, 250, bits, 250);
    checkInteger(rng, t, 2, 100, 250, bits, 250, true, 3);
  }
  // Weight-only splits whose codes past the register sets are staged in
  // shared memory (Launch.cpp): one, two and four m16 tiles, odd splits
  // (8-bit block pairs split between registers and shared memory), last
  // splits shorter than the register sets, partial panels.
  checkWeightOnly(rng, t, 2, 80, 4160, 4, 64);
  checkWeightOnly(rng, t, 20, 2056, 4160, 4, 64);
  checkWeightOnly(rng, t, 33, 2056, 4160, 4, 64);
  checkWeightOnly(rng, t, 2, 80, 2304, 8, 64);
  checkWeightOnly(rng, t, 20, 2056, 2304, 8, 64);
  checkWeightOnly(rng, t, 33, 80, 4160, 8, 64);
  // k warps, 8-bit, staged: the last warp's two blocks start at an odd
  // block, so a block pair past its register sets is copied and never
  // read, and must land before the warps' sums reuse the shared memory.
  checkWeightOnly(rng, t, 1, 4096, 1472, 8, 64);
  checkWeightOnlyChain(rng, t, 1, 2048, 4, 128, 4);
  checkWeightOnlyChain(rng, t, 16, 1024, 8, 1024, 2);
  // The wgmma kernel: partial row and column tiles, K not a multiple of
  // the 64-k block, a single block, an odd ldc (scalar stores); 4-bit
  // codes widened, with an odd count of blocks (a block of zero points
  // added) and padding columns.
  // The f16 wgmma kernel (weight-only, enough 128 × 128 tiles): partial
  // row and column tiles, per-channel with K not a multiple of the 64-k
  // block, groups of 128 with an odd ldc (scalar stores); one block a
  // group is the 1056-row case above.
  for (int bits : {8, 4}) {
    checkWeightOnly(rng, t, 1030, 2050, 520, bits, 520);
    checkWeightOnly(rng, t, 1300, 1701, 384, bits, 128);
  }
  // 128 × 128 wgmma tiles (too few 128 × 256 ones): partial tiles, an odd
  // ldc; the 1100 × 2000 case above takes them too.
  for (int bits : {8, 4})
    checkInteger(rng, t, 1200, 1701, 448, bits, 448, true, -4);
  for (int bits : {8, 4}) {
    checkInteger(rng, t, 1100, 4000, 320, bits, 320, true, 0);
    checkInteger(rng, t, 640, 8000, 64, bits, 64, true, 3);
    checkInteger(rng, t, 1300, 3599, 400, bits, 400, false, -5);
  }
  for (int64_t n : {1, 2, 16, 64, 128, 256, 1024, 4096, 8192, 16384, 32768})
    checkHadamard(rng, t, n >= 8192 ? 3 : 7, n, n % 3 != 0);
  for (int64_t n : {12, 1536, 1280, 7168})
    checkHadamard(rng, t, 3, n, n != 1280);
  checkGemmF32(rng, t, 1, 70, 130, 257, false);
  checkGemmF32(rng, t, 2, 64, 64, 64, true);
  checkQuantize(rng, t, 5, 1000, 8);
  checkQuantize(rng, t, 3, 4096, 4);
  // A decode row held in registers; a row too long for them; a row of
  // odd length (element by element).
  checkQuantize(rng, t, 1, 11008, 8);
  checkQuantize(rng, t, 2, 20000, 8);
  checkQuantize(rng, t, 2, 999, 4);
  checkRejections(t);
  std::printf("%d failure(s)\n", t.failures);
  return t.failures ? 1 : 0;
}

//===----------------------------------------------------------------------===//
// Benchmarks
//===----------------------------------------------------------------------===//

constexpr size_t kRotationBytes = size_t(256) << 20; // well over L2

int copiesFor(size_t bytes) {
  return int(std::max<size_t>(1, (kRotationBytes + bytes - 1) / bytes));
}

struct Cublas {
  cublasHandle_t handle;
  cublasLtHandle_t lt;
  DeviceBuffer workspace{size_t(32) << 20};
  Cublas() {
    checkCublas(cublasCreate(&handle), "cublasCreate");
    checkCublas(cublasSetStream(handle, cudaStream_t(qr_cuda_stream())),
                "cublasSetStream");
    checkCublas(cublasLtCreate(&lt), "cublasLtCreate");
    // Its own workspace, so that graph capture allocates nothing.
    checkCublas(cublasSetWorkspace(handle, workspace.ptr, workspace.bytes),
                "cublasSetWorkspace");
  }
  ~Cublas() {
    cublasLtDestroy(lt);
    cublasDestroy(handle);
  }

  /// C[M][N] (f16, row-major) = A[M][K] · W[N][K]ᵀ, f32 accumulation.
  void gemmF16(int64_t M, int64_t N, int64_t K, const void *A, const void *W,
               void *C) {
    const float one = 1, zero = 0;
    checkCublas(cublasGemmEx(handle, CUBLAS_OP_T, CUBLAS_OP_N, int(N), int(M),
                             int(K), &one, W, CUDA_R_16F, int(K), A, CUDA_R_16F,
                             int(K), &zero, C, CUDA_R_16F, int(N),
                             CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                "cublasGemmEx");
  }

  /// The int8 "TN" matmul: C[M][N] (int32) = A[M][K] · W[N][K]ᵀ; the plan
  /// (descriptors and heuristic's algorithm) is built once per shape.
  struct Int8Plan {
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t w, a, c;
    cublasLtMatmulAlgo_t algo;
  };
  Int8Plan planInt8(int64_t M, int64_t N, int64_t K) {
    Int8Plan p;
    checkCublas(cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32I, CUDA_R_32I),
                "cublasLtMatmulDescCreate");
    cublasOperation_t t = CUBLAS_OP_T;
    checkCublas(cublasLtMatmulDescSetAttribute(
                    p.op, CUBLASLT_MATMUL_DESC_TRANSA, &t, sizeof t),
                "TRANSA");
    checkCublas(cublasLtMatrixLayoutCreate(&p.w, CUDA_R_8I, K, N, K), "w");
    checkCublas(cublasLtMatrixLayoutCreate(&p.a, CUDA_R_8I, K, M, K), "a");
    checkCublas(cublasLtMatrixLayoutCreate(&p.c, CUDA_R_32I, N, M, N), "c");
    cublasLtMatmulPreference_t pref;
    checkCublas(cublasLtMatmulPreferenceCreate(&pref), "preference");
    size_t ws = workspace.bytes;
    checkCublas(
        cublasLtMatmulPreferenceSetAttribute(
            pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws),
        "workspace");
    cublasLtMatmulHeuristicResult_t result;
    int found = 0;
    checkCublas(cublasLtMatmulAlgoGetHeuristic(lt, p.op, p.w, p.a, p.c, p.c,
                                               pref, 1, &result, &found),
                "cublasLtMatmulAlgoGetHeuristic");
    if (!found)
      die("cuBLASLt has no int8 algorithm for this shape");
    p.algo = result.algo;
    cublasLtMatmulPreferenceDestroy(pref);
    return p;
  }
  void gemmInt8(const Int8Plan &p, const void *A, const void *W, void *C) {
    const int32_t one = 1, zero = 0;
    checkCublas(cublasLtMatmul(lt, p.op, &one, W, p.w, A, p.a, &zero, C, p.c, C,
                               p.c, &p.algo, workspace.ptr, workspace.bytes,
                               cudaStream_t(qr_cuda_stream())),
                "cublasLtMatmul");
  }
};

void checkCudart(cudaError_t status, const char *what) {
  if (status != cudaSuccess)
    die(std::string(what) + ": " + cudaGetErrorString(status));
}

/// Median device time a call of `work` takes inside a CUDA graph of
/// `calls` calls captured from the runtime's stream, as a decoder replays
/// its steps (vLLM, TensorRT-LLM): no host launch cost on either side, so
/// peers whose enqueue takes longer than their kernel are timed fairly.
double graphMedianMs(const std::function<void(int)> &work, int calls = 32,
                     int reps = 20) {
  for (int i = 0; i < 3; ++i) // allocations happen outside the capture
    work(i);
  checkKernels("graph warm-up");
  cudaStream_t stream = cudaStream_t(qr_cuda_stream());
  cudaGraph_t graph;
  checkCudart(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal),
              "cudaStreamBeginCapture");
  for (int i = 0; i < calls; ++i)
    work(i);
  checkCudart(cudaStreamEndCapture(stream, &graph), "cudaStreamEndCapture");
  cudaGraphExec_t exec;
  checkCudart(cudaGraphInstantiate(&exec, graph, 0), "cudaGraphInstantiate");
  // One replay a timing; medianMs's warm-up replays upload the graph.
  const double ms = medianMs(
      [&](int) {
        checkCudart(cudaGraphLaunch(exec, stream), "cudaGraphLaunch");
      },
      reps, 1);
  checkCudart(cudaGraphExecDestroy(exec), "cudaGraphExecDestroy");
  checkCudart(cudaGraphDestroy(graph), "cudaGraphDestroy");
  return ms / calls;
}

/// `copies` device buffers of `bytes` each, holding the same data.
struct Rotation {
  std::vector<std::unique_ptr<DeviceBuffer>> buffers;
  Rotation(const void *host, size_t bytes, int copies) {
    for (int i = 0; i < copies; ++i) {
      buffers.push_back(std::make_unique<DeviceBuffer>(bytes));
      buffers.back()->upload(host);
    }
  }
  void *operator[](int i) const { return buffers[i % buffers.size()]->ptr; }
};

std::vector<uint8_t> randomBytes(std::mt19937_64 &rng, size_t count) {
  std::vector<uint8_t> v(count);
  for (auto &b : v)
    b = uint8_t(rng());
  return v;
}

/// Packed symmetric weights of random codes and a fixed scale: the kernels'
/// speed depends on the shapes, not on the values (as long as they are not
/// all zero).
std::vector<uint8_t> randomPackedWeights(std::mt19937_64 &rng, int bits,
                                         int64_t K, int64_t N, int64_t group) {
  std::vector<uint8_t> codes = randomBytes(rng, K * N);
  for (auto &c : codes)
    c &= uint8_t((1 << bits) - 1);
  std::vector<float> scales((K / group) * N, 0.01f);
  std::vector<int32_t> zeros((K / group) * N, 1 << (bits - 1));
  std::vector<uint8_t> packed(qr_gpu_packed_weights_bytes(bits, K, N, group));
  if (qr_gpu_pack_weights(bits, K, N, group, codes.data(), scales.data(),
                          zeros.data(), packed.data()) != 0)
    die("qr_gpu_pack_weights rejected valid weights");
  return packed;
}

/// One implementation's timings of a call: launched back to back on the
/// stream, replayed in a CUDA graph, and the host's cost to enqueue it.
struct CallTimes {
  double streamMs, graphMs, enqueueUs;
};
CallTimes timeCalls(const std::function<void(int)> &call) {
  return {medianMs(call), graphMedianMs(call), enqueueMicros(call)};
}

void printMatmulRow(const char *what, int64_t M, int64_t NK,
                    const CallTimes &ours, const CallTimes &peer,
                    const std::string &note = "") {
  std::printf("%-24s %5ld %6ld %9.4f %9.4f %7.2fx %9.4f %9.4f %7.2fx %6.1f "
              "%6.1f  %s\n",
              what, long(M), long(NK), ours.streamMs, peer.streamMs,
              peer.streamMs / ours.streamMs, ours.graphMs, peer.graphMs,
              peer.graphMs / ours.graphMs, ours.enqueueUs, peer.enqueueUs,
              note.c_str());
}

void benchMatmuls(Cublas &cublas, const std::vector<int64_t> &rows) {
  std::mt19937_64 rng(7);
  std::printf("\n%-24s %5s %6s %27s %27s %13s\n", "matmul (ms, median)", "", "",
              "stream, back to back", "CUDA graph", "host us/call");
  std::printf("%-24s %5s %6s %9s %9s %8s %9s %9s %8s %6s %6s\n", "", "M", "N=K",
              "quant", "peer", "speed-up", "quant", "peer", "speed-up", "quant",
              "peer");
  const std::vector<int64_t> sizes = {4096, 11008};
  for (int64_t NK : sizes)
    for (int64_t M : rows) {
      const int64_t N = NK, K = NK;
      // Random inputs: the kernels' speed does not depend on the
      // values, only that they are not all zero.
      std::vector<float> A = randomFloats(rng, M * K);
      std::vector<uint8_t> a8 = randomBytes(rng, M * K);
      DeviceBuffer dA = toDevice(A), dA8 = toDevice(a8), dC(M * N * 4),
                   dAh(M * K * 2), dCh(M * N * 2), dCi(M * N * 4);
      std::vector<__half> Ah(M * K);
      for (int64_t i = 0; i < M * K; ++i)
        Ah[i] = __float2half_rn(A[i]);
      dAh.upload(Ah.data());

      // W4A16 vs cuBLAS fp16.
      std::vector<uint8_t> packed4 = randomPackedWeights(rng, 4, K, N, 128);
      Rotation w4(packed4.data(), packed4.size(), copiesFor(packed4.size()));
      std::vector<__half> Wh(N * K);
      for (auto &w : Wh)
        w = __float2half_rn(std::normal_distribution<float>(0, 0.02f)(rng));
      Rotation wh(Wh.data(), Wh.size() * 2, copiesFor(Wh.size() * 2));
      printMatmulRow("W4A16 g128 / cuBLAS f16", M, NK, timeCalls([&](int i) {
                       qr_gpu_matmul_f16w(M, N, K, 4, 128, dA.as<float>(), K,
                                          w4[i], dC.as<float>(), N);
                     }),
                     timeCalls([&](int i) {
                       cublas.gemmF16(M, N, K, dAh.ptr, wh[i], dCh.ptr);
                     }));

      // W8A8 and W4A8 vs cuBLASLt int8 (int32 out; ours writes f32 with
      // the scales applied).
      std::vector<uint8_t> codes8 = randomBytes(rng, K * N),
                           packed8 = randomPackedWeights(rng, 8, K, N, K),
                           packed4c = randomPackedWeights(rng, 4, K, N, K);
      Rotation w8(packed8.data(), packed8.size(), copiesFor(packed8.size()));
      Rotation w4c(packed4c.data(), packed4c.size(),
                   copiesFor(packed4c.size()));
      Rotation wi8(codes8.data(), codes8.size(), copiesFor(codes8.size()));
      DeviceBuffer dScales = toDevice(std::vector<float>(M, 0.02f));
      auto integer = [&](int bits, const Rotation &weights) {
        return timeCalls([&, bits](int i) {
          qr_gpu_matmul_s8(M, N, K, bits, K, dA8.as<int8_t>(), K,
                           dScales.as<float>(), 0, 0, weights[i],
                           dC.as<float>(), N);
        });
      };
      const CallTimes ours8 = integer(8, w8), ours4 = integer(4, w4c);
      Cublas::Int8Plan plan = cublas.planInt8(M, N, K);
      const CallTimes peer8 = timeCalls(
          [&](int i) { cublas.gemmInt8(plan, dA8.ptr, wi8[i], dCi.ptr); });
      char tops[32];
      std::snprintf(tops, sizeof tops, "%.0f TOPS",
                    2.0 * M * N * K / (ours8.streamMs * 1e-3) / 1e12);
      printMatmulRow("W8A8 / cuBLASLt int8", M, NK, ours8, peer8, tops);
      printMatmulRow("W4A8 / cuBLASLt int8", M, NK, ours4, peer8);
    }
}

/// A W4A8 decode step with an online rotation (QuaRot's down projection):
/// Hadamard of the activation row, per-token int8 quantization, then the
/// W4A8 matmul, launched back to back; against the three kernels timed
/// alone. The activation transforms let the matmul start early, so the
/// chain can take less than the sum.
void benchDecodeStep() {
  std::mt19937_64 rng(13);
  std::printf("\n%-44s %9s %9s %9s\n", "decode step at M = 1 (ms, CUDA graph)",
              "N=K", "chain", "alone");
  for (int64_t NK : {4096, 11008}) {
    // The rotation's size: the largest power of two that divides K, in
    // blocks (11008 = 43 · 256).
    const int64_t n = NK & -NK;
    DeviceBuffer dX = toDevice(randomFloats(rng, NK)), dQ(NK),
                 dScale(sizeof(float)), dC(NK * sizeof(float));
    std::vector<uint8_t> packed = randomPackedWeights(rng, 4, NK, NK, NK);
    Rotation w(packed.data(), packed.size(), copiesFor(packed.size()));
    auto rotate = [&](int) {
      qr_gpu_hadamard_f32(dX.as<float>(), NK / n, n, n, nullptr, nullptr, 1);
    };
    auto quantize = [&](int) {
      qr_gpu_quantize_per_token_f32(1, NK, dX.as<float>(), NK, 8,
                                    dQ.as<int8_t>(), NK, dScale.as<float>());
    };
    auto matmul = [&](int i) {
      qr_gpu_matmul_s8(1, NK, NK, 4, NK, dQ.as<int8_t>(), NK,
                       dScale.as<float>(), 0, 0, w[i], dC.as<float>(), NK);
    };
    const double chain = graphMedianMs([&](int i) {
      rotate(i);
      quantize(i);
      matmul(i);
    });
    const double parts[3] = {graphMedianMs(rotate), graphMedianMs(quantize),
                             graphMedianMs(matmul)};
    std::printf("%-44s %9ld %9.4f %9.4f  (hadamard %.4f, quantize %.4f, "
                "W4A8 %.4f)\n",
                "hadamard + quantize + W4A8 matmul", long(NK), chain,
                parts[0] + parts[1] + parts[2], parts[0], parts[1], parts[2]);
  }
}

void benchHadamard() {
  std::mt19937_64 rng(11);
  std::printf("\n%-26s %8s %8s %10s %10s %10s %8s\n", "hadamard f32 in place",
              "rows", "n", "ms", "GB/s", "copy GB/s", "of copy");
  for (int64_t n : {4096, 8192, 16384}) {
    const int64_t rows = (int64_t(256) << 20) / (n * 4);
    const size_t bytes = size_t(rows * n * 4);
    std::vector<float> X = randomFloats(rng, rows * n);
    DeviceBuffer dX = toDevice(X), dY(bytes);
    double ms = medianMs(
        [&](int) {
          qr_gpu_hadamard_f32(dX.as<float>(), rows, n, n, nullptr, nullptr, 1);
        },
        20, 3);
    // The peer: a device-to-device copy of the same bytes (read + write).
    double copyMs = medianMs(
        [&](int) {
          checkCuda(qr_cuda_memcpy_dtod(dY.ptr, dX.ptr, bytes), "dtod");
        },
        20, 3);
    double gbs = 2.0 * bytes / (ms * 1e-3) / 1e9;
    double copyGbs = 2.0 * bytes / (copyMs * 1e-3) / 1e9;
    std::printf("%-26s %8ld %8ld %10.4f %10.0f %10.0f %7.0f%%\n", "",
                long(rows), long(n), ms, gbs, copyGbs, 100.0 * gbs / copyGbs);
  }
}

/// One call of each decode-sized weight-only shape, for a profiler
/// (`ncu -k regex:qr_gpu_stream quant-bench-gpu profile`).
void profileDecode() {
  std::mt19937_64 rng(5);
  for (int64_t NK : {4096, 11008})
    for (int64_t M : {1, 16}) {
      std::vector<uint8_t> packed = randomPackedWeights(rng, 4, NK, NK, 128);
      DeviceBuffer dW = toDevice(packed),
                   dA = toDevice(randomFloats(rng, M * NK)), dC(M * NK * 4);
      qr_gpu_matmul_f16w(M, NK, NK, 4, 128, dA.as<float>(), NK, dW.ptr,
                         dC.as<float>(), NK);
      checkKernels("profile");
    }
  // Prefill: W8A8 (the wgmma kernel) and W4A8 (widened, the same).
  const int64_t M = 4096, NK = 4096;
  std::vector<int8_t> A(M * NK);
  for (auto &a : A)
    a = int8_t(rng());
  DeviceBuffer dA = toDevice(A), dC(M * NK * 4);
  for (int bits : {8, 4}) {
    DeviceBuffer dW = toDevice(randomPackedWeights(rng, bits, NK, NK, NK));
    qr_gpu_matmul_s8(M, NK, NK, bits, NK, dA.as<int8_t>(), NK, nullptr, 0.01f,
                     0, dW.ptr, dC.as<float>(), NK);
    checkKernels("profile");
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || (std::strcmp(argv[1], "check") != 0 &&
                   std::strcmp(argv[1], "bench") != 0 &&
                   std::strcmp(argv[1], "pillar") != 0 &&
                   std::strcmp(argv[1], "profile") != 0)) {
    std::fprintf(stderr,
                 "usage: quant-bench-gpu check [--seed S]\n"
                 "       quant-bench-gpu bench [--quick | --decode | --rows "
                 "M,M...]\n"
                 "       quant-bench-gpu pillar [--quick]  (sparse pillar "
                 "conv timings)\n"
                 "       quant-bench-gpu profile   (one W4A16 decode call a "
                 "shape, W8A8 and W4A8 at 4096³, for ncu)\n"
                 "check runs every GPU kernel against a float64 reference on "
                 "fresh random inputs;\nbench times them against cuBLAS / "
                 "cuBLASLt and a device copy, each matmul back to back on\n"
                 "the stream and replayed in a CUDA graph (no host launch "
                 "cost), with the host's\nenqueue time a call, and a rotated "
                 "W4A8 decode step (Hadamard, quantize, matmul;\nnot with "
                 "--rows) against its kernels timed alone.\n");
    return 2;
  }
  if (qr_cuda_init() != 0) {
    std::fprintf(stderr, "quant-bench-gpu: no GPU: %s\n", qr_last_error());
    return 77;
  }
  std::printf("device: %s\n", qr_cuda_device_name());
  if (std::strcmp(argv[1], "check") == 0) {
    uint64_t seed =
        uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
    for (int i = 2; i + 1 < argc; ++i)
      if (std::strcmp(argv[i], "--seed") == 0)
        seed = std::strtoull(argv[i + 1], nullptr, 10);
    int failed = runChecks(seed);
    return runPillarChecks(seed) | failed;
  }
  if (std::strcmp(argv[1], "profile") == 0) {
    profileDecode();
    return 0;
  }
  bool quick = argc > 2 && std::strcmp(argv[2], "--quick") == 0;
  if (std::strcmp(argv[1], "pillar") == 0) {
    benchPillars(quick);
    return 0;
  }
  Cublas cublas;
  if (argc > 2 && std::strcmp(argv[2], "--decode") == 0) {
    benchMatmuls(cublas, {1, 16, 32, 64});
    benchDecodeStep();
    return 0;
  }
  if (argc > 2 && std::strcmp(argv[2], "--rows") == 0) {
    if (argc < 4)
      die("--rows: expected a list of M, such as --rows 1,16");
    std::vector<int64_t> rows;
    for (const char *at = argv[3]; *at;) {
      char *end;
      const long long M = std::strtoll(at, &end, 10);
      if (end == at || M < 1 || (*end && *end != ','))
        die(std::string("--rows: expected positive integers separated by "
                        "commas, got '") +
            argv[3] + "'");
      rows.push_back(M);
      at = *end ? end + 1 : end;
    }
    benchMatmuls(cublas, rows);
    return 0;
  }
  benchMatmuls(cublas, quick ? std::vector<int64_t>{1, 16, 4096}
                             : std::vector<int64_t>{1, 16, 128, 4096});
  benchDecodeStep();
  benchHadamard();
  return 0;
}
