//===- PillarLaunch.cpp - the pillar convolution's GPU launchers ----------===//
//
// qr_gpu_pillar_* of GpuKernels.h: the rulebook's kernel sequence
// (PillarConv.cuh) over site tables in scratch the runtime keeps, and the
// convolution as one GEMM over gathered rows.
//
//===----------------------------------------------------------------------===//

#include "KernelArgs.h"
#include "Launch.h"

#include "../CudaDriver.h"

#include "quant/Runtime/CudaRuntime.h"
#include "quant/Runtime/GpuKernels.h"
#include "quant/Runtime/Runtime.h"
#include "quant/Runtime/UKernels.h" // QR_PILLAR_*, qr_uk_pillar_topk_count

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

using namespace qr::gpu;

namespace {

/// Writes the caller's device counts {M, status}.
void setCounts(int64_t *counts, int64_t rows, int64_t status) {
  const int64_t values[2] = {rows, status};
  if (counts)
    qr_cuda_memcpy_htod(counts, values, sizeof values);
}

void failRulebook(int64_t *counts, int64_t status, const std::string &message) {
  fail(message);
  setCounts(counts, 0, status);
}

/// Bump allocation of the rulebook's scratch, 16-byte aligned pieces.
class ScratchLayout {
public:
  size_t take(size_t bytes) {
    size_t at = end;
    end += (bytes + 15) / 16 * 16;
    return at;
  }
  size_t size() const { return end; }

private:
  size_t end = 0;
};

uint64_t tableSlots(int64_t entries) {
  uint64_t slots = 16;
  while (slots < uint64_t(entries) * 2)
    slots <<= 1;
  return slots;
}

/// The status, the three site tables' keys and their ordinals lie together:
/// one 0xFF fill empties the tables and sets "none found" in the status.
struct RulebookScratch {
  size_t status, keys, ordinals, cleared, important, candidateCoords,
      blockCounts, total;
};

RulebookScratch layOut(int64_t N, int64_t taps, bool dilate, bool strided,
                       uint64_t (&slots)[3], int64_t candidateBound,
                       int64_t compactBlocks) {
  slots[0] = tableSlots(N);
  slots[1] = dilate ? tableSlots(N * taps) : 0;
  slots[2] = strided ? tableSlots(candidateBound) : 0;
  const uint64_t allSlots = slots[0] + slots[1] + slots[2];
  ScratchLayout l;
  RulebookScratch r{};
  r.status = l.take(sizeof(RulebookStatus));
  r.keys = l.take(allSlots * 8);
  r.ordinals = l.take(allSlots * 4);
  r.cleared = l.size();
  r.important = l.take(dilate ? size_t(N) : 0);
  r.candidateCoords = l.take(strided ? size_t(candidateBound) * 12 : 0);
  r.blockCounts = l.take(size_t(compactBlocks) * 4);
  r.total = l.size();
  return r;
}

/// Launches rulebook kernel `name` (a literal: the runtime caches kernels
/// by the name's address).
bool runRulebook(const char *name, int64_t threads, RulebookArgs &args,
                 int threadsPerBlock = kRulebookThreads) {
  return launch(name, blocksFor(threads, threadsPerBlock), 1, 1,
                unsigned(threadsPerBlock), 0, &args);
}

/// Selected ordinals in order: kept ordinals a CTA, their offsets, then
/// each to its rank.
bool compact(const char *const (&stages)[3], int64_t ordinals,
             RulebookArgs &args) {
  args.blocks = (ordinals + kCompactBlock - 1) / kCompactBlock;
  const int64_t threads = args.blocks * kRulebookThreads;
  return runRulebook(stages[0], threads, args) &&
         runRulebook(stages[1], kRulebookThreads, args) &&
         runRulebook(stages[2], threads, args);
}

/// The message the CPU rulebook gives for what the kernels found.
void reportInvalidInput(const RulebookReport &report, int64_t height,
                        int64_t width) {
  const bool outside = report.outOfGrid != ~0ull;
  const int64_t pillar =
      outside ? int64_t(report.outOfGrid) : int64_t(report.duplicate >> 32);
  const int32_t *c = report.coords;
  char message[192];
  if (outside)
    std::snprintf(message, sizeof message,
                  "pillar_conv: pillar %lld at (batch %d, y %d, x %d) is "
                  "outside the %lldx%lld grid",
                  (long long)pillar, c[0], c[1], c[2], (long long)height,
                  (long long)width);
  else
    std::snprintf(message, sizeof message,
                  "pillar_conv: pillars %d and %lld share coordinates (batch "
                  "%d, y %d, x %d)",
                  int(report.duplicate & 0xffffffffu), (long long)pillar, c[0],
                  c[1], c[2]);
  fail(message);
}

/// Page-locked report slots the rulebook kernels write and the host reads
/// once the stream has been waited for (qr::cuda::deferUntilWait), so that
/// a rulebook needs no wait of its own: the compiled model's read of the
/// row count is the only one.
class ReportSlots {
public:
  /// A free slot (waiting for the stream when all are pending), or -1
  /// with the error reported.
  int take(RulebookReport **host, RulebookReport **device) {
    std::unique_lock<std::mutex> lock(mutex);
    if (!slots && !allocate())
      return -1;
    if (busy[next]) {
      lock.unlock();
      if (!qr::cuda::waitForStream("cuStreamSynchronize", true))
        return -1;
      lock.lock();
    }
    const int slot = next;
    next = (next + 1) % kSlots;
    busy[slot] = true;
    *host = slots + slot;
    *device = deviceSlots + slot;
    return slot;
  }
  void release(int slot) {
    std::lock_guard<std::mutex> lock(mutex);
    busy[slot] = false;
  }

private:
  static constexpr int kSlots = 64;

  bool allocate() {
    const qr::cuda::Driver &d = qr::cuda::driver();
    void *host = nullptr;
    CUdeviceptr device = 0;
    if (!qr::cuda::checkInModel(d.memHostAlloc(&host,
                                               kSlots * sizeof(RulebookReport),
                                               CU_MEMHOSTALLOC_DEVICEMAP),
                                "cuMemHostAlloc(pillar rulebook reports)"))
      return false;
    if (!qr::cuda::checkInModel(d.memHostGetDevicePointer(&device, host, 0),
                                "cuMemHostGetDevicePointer")) {
      d.memFreeHost(host);
      return false;
    }
    slots = static_cast<RulebookReport *>(host);
    deviceSlots = reinterpret_cast<RulebookReport *>(device);
    return true;
  }

  std::mutex mutex;
  RulebookReport *slots = nullptr, *deviceSlots = nullptr;
  bool busy[kSlots] = {};
  int next = 0;
};

} // namespace

extern "C" void qr_gpu_pillar_rulebook(int64_t N, const int32_t *coords,
                                       int64_t height, int64_t width,
                                       int64_t kernel, int64_t stride,
                                       int32_t dilate, const double *importance,
                                       double threshold, double topk_ratio,
                                       int64_t capacity, int32_t *out_coords,
                                       int32_t *neighbours, int64_t *counts) {
  if (!qr::cuda::ensureInitialized())
    return (void)fail(qr_last_error());
  const int64_t taps = kernel * kernel;
  if (N < 0 || height < 1 || width < 1 || kernel < 1 || kernel % 2 == 0 ||
      (stride != 1 && stride != 2) || (dilate && N > 0 && !importance) ||
      capacity < (dilate ? N * taps : N) || !counts ||
      (N > 0 && (!coords || !out_coords || !neighbours)))
    return failRulebook(counts, QR_PILLAR_INVALID_ARGUMENTS,
                        "pillar_conv: invalid rulebook arguments");
  if (N * (1 + taps) >= kMaxOrdinals)
    return failRulebook(counts, QR_PILLAR_INVALID_ARGUMENTS,
                        "pillar_conv: too many pillars for the GPU rulebook (" +
                            std::to_string(N) + ")");
  if (N == 0)
    return setCounts(counts, 0, QR_PILLAR_OK);

  const bool strided = stride == 2;
  const int64_t candidateBound = dilate ? N * taps : N;
  const int64_t compactBlocks =
      (std::max(dilate ? N * (1 + taps) : 0, strided ? candidateBound : 0) +
       kCompactBlock - 1) /
      kCompactBlock;
  uint64_t slots[3];
  const RulebookScratch layout =
      layOut(N, taps, dilate, strided, slots, candidateBound, compactBlocks);
  static DeviceScratch scratch;
  auto *base = static_cast<uint8_t *>(scratch.reserve(layout.total));
  if (!base)
    return setCounts(counts, 0, QR_PILLAR_OUT_OF_MEMORY);
  // The kernels set the status' two counts before any reads them.
  if (qr_cuda_memset_d8(base + layout.status, 0xFF, layout.cleared) != 0)
    return (void)fail(qr_last_error());

  RulebookArgs args{};
  args.coords = coords;
  args.N = N;
  args.height = height;
  args.width = width;
  args.outHeight = (height + 1) / 2;
  args.outWidth = (width + 1) / 2;
  args.kernel = int32_t(kernel);
  args.stride = int32_t(stride);
  args.taps = int32_t(taps);
  args.importance = importance;
  args.threshold = threshold;
  args.topk = topk_ratio > 0.0 ? qr_uk_pillar_topk_count(N, topk_ratio) : 0;
  args.important = base + layout.important;
  auto keys = reinterpret_cast<unsigned long long *>(base + layout.keys);
  auto ordinals = reinterpret_cast<unsigned *>(base + layout.ordinals);
  SiteTable *tables[3] = {&args.inputs, &args.candidates, &args.outputs};
  for (int t = 0; t < 3; ++t) {
    if (slots[t])
      *tables[t] = SiteTable{keys, ordinals, slots[t] - 1};
    keys += slots[t];
    ordinals += slots[t];
  }
  args.outCoords = out_coords;
  args.candidateCoords =
      strided ? reinterpret_cast<int32_t *>(base + layout.candidateCoords)
              : out_coords;
  args.neighbours = neighbours;
  args.counts = counts;
  args.status = reinterpret_cast<RulebookStatus *>(base + layout.status);
  args.blockCounts = reinterpret_cast<int32_t *>(base + layout.blockCounts);

  bool ok = runRulebook("qr_gpu_pillar_insert_inputs", N, args);
  if (ok && !dilate && !strided) {
    ok = runRulebook("qr_gpu_pillar_submanifold", N * taps, args);
  } else if (ok) {
    ok = runRulebook("qr_gpu_pillar_find_duplicates", N, args);
    if (ok && dilate)
      ok = (args.topk
                ? runRulebook("qr_gpu_pillar_select_topk", kTopkThreads, args,
                              kTopkThreads)
                : runRulebook("qr_gpu_pillar_select_by_threshold", N, args)) &&
           runRulebook("qr_gpu_pillar_insert_dilated", N * taps, args) &&
           compact({"qr_gpu_pillar_candidates_count",
                    "qr_gpu_pillar_candidates_scan",
                    "qr_gpu_pillar_candidates_write"},
                   N * (1 + taps), args);
    else if (ok)
      ok = runRulebook("qr_gpu_pillar_copy_sites", 3 * N, args);
    if (ok && strided)
      ok = runRulebook("qr_gpu_pillar_insert_halved", candidateBound, args) &&
           compact({"qr_gpu_pillar_halved_count", "qr_gpu_pillar_halved_scan",
                    "qr_gpu_pillar_halved_write"},
                   candidateBound, args);
    ok = ok &&
         runRulebook("qr_gpu_pillar_neighbours", candidateBound * taps, args);
  }
  static ReportSlots reports;
  RulebookReport *report = nullptr;
  const int slot = ok ? reports.take(&report, &args.report) : -1;
  if (slot < 0 || !runRulebook("qr_gpu_pillar_finish", 1, args, 32)) {
    if (slot >= 0)
      reports.release(slot);
    return setCounts(counts, 0, QR_PILLAR_INVALID_ARGUMENTS);
  }
  qr::cuda::deferUntilWait([report, slot, height, width] {
    if (report->outOfGrid != ~0ull || report->duplicate != ~0ull)
      reportInvalidInput(*report, height, width);
    reports.release(slot);
  });
}

namespace {

void launchNorms(const char *kernel, int64_t N, int64_t C, const void *features,
                 int64_t ld, double scale, int32_t zeroPoint, double *norms) {
  if (!qr::cuda::ensureInitialized())
    return (void)fail(qr_last_error());
  if (N < 0 || C < 0 || ld < C || (N > 0 && (!features || !norms)))
    return (void)fail("pillar_conv: invalid importance arguments");
  if (N == 0)
    return;
  PillarNormsArgs args{features, norms, N, C, ld, scale, zeroPoint};
  launch(kernel, blocksFor(N, kPillarThreads), 1, 1, kPillarThreads, 0, &args);
}

/// M, taps, channels and pointers every pillar conv checks; false (with
/// the error reported) when the call cannot run, or when M == 0.
bool checkConv(const char *what, int64_t M, int64_t taps, int64_t cin,
               int64_t cout, const void *features, const int32_t *neighbours,
               const void *weights, float *out) {
  if (!qr::cuda::ensureInitialized())
    return fail(qr_last_error());
  if (M < 0 || taps < 1 || cin < 1 || cout < 1 ||
      (M > 0 && (!features || !neighbours || !weights || !out)))
    return fail(std::string(what) + ": invalid operands");
  return M > 0;
}

/// gathered [M][taps · C_in] in the launcher's scratch, or null.
void *gatherRows(const char *kernel, size_t elementBytes, int64_t M,
                 int64_t taps, int64_t cin, const void *features,
                 const int32_t *neighbours, int32_t fill) {
  static DeviceScratch scratch;
  void *gathered = scratch.reserve(size_t(M * taps * cin) * elementBytes);
  if (!gathered)
    return nullptr;
  PillarGatherArgs args{features, neighbours, gathered, M, taps, cin, fill};
  if (!launch(kernel, blocksFor(M * taps * cin, kPillarThreads), 1, 1,
              kPillarThreads, 0, &args))
    return nullptr;
  return gathered;
}

void addBias(float *out, const float *bias, int64_t M, int64_t N) {
  if (!bias)
    return;
  BiasArgs args{out, bias, M, N};
  launch("qr_gpu_add_bias_kernel", blocksFor(M * N, kPillarThreads), 1, 1,
         kPillarThreads, 0, &args);
}

} // namespace

extern "C" void qr_gpu_pillar_norms_f32(int64_t N, int64_t C,
                                        const float *features, int64_t ld,
                                        double *norms) {
  launchNorms("qr_gpu_pillar_norms_f32_kernel", N, C, features, ld, 1.0, 0,
              norms);
}

extern "C" void qr_gpu_pillar_norms_s8(int64_t N, int64_t C,
                                       const int8_t *features, int64_t ld,
                                       double scale, int32_t zero_point,
                                       double *norms) {
  launchNorms("qr_gpu_pillar_norms_s8_kernel", N, C, features, ld, scale,
              zero_point, norms);
}

extern "C" void qr_gpu_pillar_conv_f32(int64_t M, int64_t taps, int64_t C_in,
                                       int64_t C_out, const float *features,
                                       const int32_t *neighbours,
                                       const float *weights, const float *bias,
                                       float *out) {
  if (!checkConv("qr_gpu_pillar_conv_f32", M, taps, C_in, C_out, features,
                 neighbours, weights, out))
    return;
  GemmF32Args args{features, weights,    out,           M,   C_out, taps * C_in,
                   C_in,     C_out,      C_out,         0,   0,     0,
                   0,        neighbours, int32_t(taps), bias};
  const bool tiled = C_in % kPillarTileK == 0 && C_out % 4 == 0 &&
                     aligned16(features) && aligned16(weights) &&
                     aligned16(out) && aligned16(bias);
  const int64_t tile = tiled ? kPillarTile : kGemmTile;
  const int64_t rowTiles = (M + tile - 1) / tile;
  if (rowTiles > 65535)
    return (void)fail("qr_gpu_pillar_conv_f32: too many output sites for "
                      "one launch");
  const unsigned columnTiles = unsigned((C_out + tile - 1) / tile);
  if (tiled)
    launch("qr_gpu_pillar_conv_f32_tiled", columnTiles, unsigned(rowTiles), 1,
           kPillarConvThreads, 0, &args);
  else
    launch("qr_gpu_pillar_conv_f32_kernel", columnTiles, unsigned(rowTiles), 1,
           kGemmThreads, 0, &args);
}

namespace {

/// The tensor-core conv: the tiled matmul with its A rows gathered from the
/// neighbour map, when a 64-k block lies in one tap and the rows are
/// 16-byte aligned; otherwise the rows gathered into scratch first and the
/// general matmul (which also takes the remaining shapes).
void packedConv(const char *activation, int64_t M, int64_t taps, int64_t cin,
                int64_t cout, int32_t bits, int64_t groupSize,
                const void *features, size_t elementBytes,
                const int32_t *neighbours, const void *packed, float aScale,
                int32_t aZeroPoint, const float *bias, float *out) {
  const int64_t K = taps * cin;
  const bool integer = elementBytes == 1;
  if (cin % kBlockK == 0 && aligned16(features)) {
    MatmulArgs args{};
    // A is gathered: prepareMatmul's checks see the gathered rows (K
    // long); the features' own rows are C_in long.
    if (!prepareMatmul(
            integer ? "qr_gpu_pillar_conv_s8" : "qr_gpu_pillar_conv_f16w", M,
            cout, K, bits, groupSize, features, K, packed, out, cout, args))
      return;
    args.lda = cin;
    args.gather = neighbours;
    args.taps = int32_t(taps);
    args.channels = int32_t(cin);
    args.bias = bias;
    args.aScale = aScale;
    args.aZeroPoint = aZeroPoint;
    launchTiled(activation, args);
    return;
  }
  const void *gathered = gatherRows(
      integer ? "qr_gpu_pillar_gather_s8" : "qr_gpu_pillar_gather_f32",
      elementBytes, M, taps, cin, features, neighbours, aZeroPoint);
  if (!gathered)
    return;
  if (integer)
    qr_gpu_matmul_s8(M, cout, K, bits, groupSize,
                     static_cast<const int8_t *>(gathered), K, nullptr, aScale,
                     aZeroPoint, packed, out, cout);
  else
    qr_gpu_matmul_f16w(M, cout, K, bits, groupSize,
                       static_cast<const float *>(gathered), K, packed, out,
                       cout);
  addBias(out, bias, M, cout);
}

} // namespace

extern "C" void
qr_gpu_pillar_conv_f16w(int64_t M, int64_t taps, int64_t C_in, int64_t C_out,
                        int32_t bits, int64_t group_size, const float *features,
                        const int32_t *neighbours, const void *packed,
                        const float *bias, float *out) {
  if (checkConv("qr_gpu_pillar_conv_f16w", M, taps, C_in, C_out, features,
                neighbours, packed, out))
    packedConv("f16", M, taps, C_in, C_out, bits, group_size, features,
               sizeof(float), neighbours, packed, 1.0f, 0, bias, out);
}

extern "C" void
qr_gpu_pillar_conv_s8(int64_t M, int64_t taps, int64_t C_in, int64_t C_out,
                      int32_t bits, int64_t group_size, const int8_t *features,
                      float a_scale, int32_t a_zero_point,
                      const int32_t *neighbours, const void *packed,
                      const float *bias, float *out) {
  if (!checkConv("qr_gpu_pillar_conv_s8", M, taps, C_in, C_out, features,
                 neighbours, packed, out))
    return;
  // Group sums stay exact in int32 (as qr_gpu_matmul_s8).
  if (group_size > 32768)
    return (void)fail("qr_gpu_pillar_conv_s8: quantization groups over "
                      "32768 k could overflow the int32 sums");
  packedConv("s8", M, taps, C_in, C_out, bits, group_size, features,
             sizeof(int8_t), neighbours, packed, a_scale, a_zero_point, bias,
             out);
}
