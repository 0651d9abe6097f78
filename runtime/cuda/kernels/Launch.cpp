//===- Launch.cpp - the GpuKernels.h C ABI: checks, shapes, launches ------===//
//
// Picks the kernel variant and grid for each call (how K is split, which
// row tiling), validates what the kernels assume, and launches on the
// runtime's stream. Invalid arguments are reported through
// qr_report_kernel_error, so the compiled model calling in fails cleanly.
//
//===----------------------------------------------------------------------===//

#include "Launch.h"
#include "KernelArgs.h"

#include "../CudaDriver.h"

#include "quant/Runtime/CudaRuntime.h"
#include "quant/Runtime/GpuKernels.h"
#include "quant/Runtime/Runtime.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

using namespace qr::gpu;

bool qr::gpu::fail(const std::string &message) {
  qr_report_kernel_error(message.c_str());
  return false;
}

bool qr::gpu::launch(const char *name, unsigned gx, unsigned gy, unsigned gz,
                     unsigned threads, unsigned sharedBytes, void *args,
                     qr::cuda::LaunchOrder order) {
  CUfunction function = qr::cuda::kernel(name);
  if (!function)
    return false;
  void *params[] = {args};
  return qr::cuda::launch(function, gx, gy, gz, threads, 1, 1, sharedBytes,
                          params, name, order);
}

bool qr::gpu::aligned16(const void *p) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

unsigned qr::gpu::blocksFor(long long items, int threads) {
  return unsigned(std::max(1ll, (items + threads - 1) / threads));
}

void *DeviceScratch::reserve(size_t bytes, bool zeroed) {
  std::lock_guard<std::mutex> lock(mutex);
  if (bytes <= size)
    return buffer;
  if (qr_cuda_synchronize() != 0) {
    fail(qr_last_error());
    return nullptr;
  }
  qr_cuda_free(buffer);
  buffer = qr_cuda_malloc(bytes);
  size = buffer ? bytes : 0;
  if (!buffer)
    fail(std::string("GPU kernel scratch: ") + qr_last_error());
  else if (zeroed && qr_cuda_memset_d8(buffer, 0, bytes) != 0)
    fail(qr_last_error());
  return buffer;
}

namespace {

/// Ways K is split at most for decode-sized M, and the k blocks a split
/// takes at least once every multiprocessor has a CTA: shorter splits add
/// more to the split-K tail than their extra CTAs hide (measured at 4096²,
/// M = 16, 8 splits of 8 blocks against 16 of 4: W4A16 0.0129 → 0.0121 ms,
/// W8A8 0.0161 → 0.0150, W4A8 0.0133 → 0.0123; M = 1 unchanged). Narrow
/// layers keep their splits: with 2 splits instead of 16, a model of one
/// N = 256, K = 1024 layer at M = 1 took 0.0125 ms (0.0105 the run before).
constexpr int64_t kMaxStreamSplits = 16;
constexpr int64_t kMinStreamSplitBlocks = 8;

/// Shared memory a streaming CTA may take: two still fit a multiprocessor.
constexpr int64_t kStreamSharedBytes = 96 * 1024;

/// Launches the streaming kernel: rows in chunks of up to 64 (grid z), K
/// split into as many parts (at most kMaxStreamSplits, and of at least
/// kMinStreamSplitBlocks blocks beyond a CTA a multiprocessor) as make one wave
/// of CTAs at the kernel's register bound (streamMinBlocks), with shorter
/// splits where A's slice and the groups' operands would not fit
/// kStreamSharedBytes. One wave: a CTA's start-up (staging A and the group
/// operands) and the partial sums are paid once a multiprocessor. Launched
/// to overlap the previous kernel: back to back (a decoder's q/k/v or
/// gate/up projections), a CTA requests its group operands and is ready to
/// stage A while the previous matmul's split-K tail runs (measured on an
/// H100, back to back against one after another: W4A16 at M = 1, 4096²
/// 0.0108 → 0.0096 ms, 11008² 0.0328 → 0.0307; unchanged alone).
///
/// A row or two take the k-warps variant (KernelArgs.h) where its narrower
/// column tiles alone make at most one CTA a multiprocessor: then K is
/// split only across the warps of a CTA, which add their sums in shared
/// memory, and the split-K tail through global memory (partial sums, an
/// arrival counter, the last CTA's reduction) is gone. Each CTA stages all
/// of its rows of A instead of a slice, which a row or two afford
/// (measured on an H100, CUDA graph, 4096², ms, against the split-K
/// kernels: W4A16 M = 1 0.0069 → 0.0056–0.0057, M = 2 0.0069 → 0.0061;
/// W4A8 M = 1 0.0077 → 0.0064, W8A8 0.0101 → 0.0091; integer calls at
/// M = 2 unchanged. Where the tail went: the split-K kernels without their
/// reduction, wrong but timed, took 0.0051 ms at M = 1.)
bool launchStream(const char *activation, MatmulArgs args, bool integer) {
  const int mTiles = args.M <= 16 ? 1 : args.M <= 32 ? 2 : 4;
  const int64_t chunkRows = 16 * mTiles;
  const int64_t chunks = (args.M + chunkRows - 1) / chunkRows;
  const int64_t panels = args.w.panels(), blocks = args.w.blocksK;
  const int64_t warps =
      (panels + streamPanels(mTiles) - 1) / streamPanels(mTiles);
  const int64_t multiprocessors = qr::cuda::multiprocessorCount();
  // Column tiles (CTAs of one split) with `kWarps` k warps a CTA.
  auto columnTiles = [&](int kWarps) {
    const int64_t columnWarps = kStreamWarps / kWarps;
    return (warps + columnWarps - 1) / columnWarps;
  };
  const int kWarps = args.M <= kStreamKWarpsMaxRows &&
                             columnTiles(kStreamKWarps) <= multiprocessors
                         ? kStreamKWarps
                         : 1;
  const int64_t gridX = columnTiles(kWarps);
  const int64_t residentCtas =
      multiprocessors * (kWarps > 1 ? 1 : streamMinBlocks(mTiles));
  const int64_t tiles = gridX * chunks;
  const int64_t mostSplits = std::min<int64_t>(
      {blocks, kMaxStreamSplits,
       std::max<int64_t>(blocks / kMinStreamSplitBlocks,
                         (multiprocessors + tiles - 1) / tiles)});
  int64_t splits = std::clamp<int64_t>(residentCtas / tiles, 1, mostSplits);
  int64_t perSplit = (blocks + splits - 1) / splits;
  auto sharedBytes = [&](int64_t blocksPerSplit) {
    return streamSharedBytes(integer, mTiles, kWarps, args.M, blocksPerSplit,
                             args.w.blocksPerGroup, args.w.groups);
  };
  while (perSplit > 1 && sharedBytes(perSplit) > kStreamSharedBytes)
    --perSplit;
  splits = (blocks + perSplit - 1) / perSplit;
  if (splits > 65535 || chunks > 65535)
    return fail("GPU matmul: shape too large for one launch");
  args.blocksPerSplit = int32_t(perSplit);
  args.splits = int32_t(splits);
  // A weight-only call stages the codes past a warp's two register sets
  // in shared memory where they fit (the "_staged" kernels): all of a
  // split's codes are then in flight before the predecessor has finished.
  // Measured on an H100 in one run, CUDA graph, ms, registers only against
  // staged: W4A16 at 4096², M = 1 0.0082 / 0.0067–0.0068, M = 16 0.0095 /
  // 0.0094–0.0095. Integer calls keep to registers: W4A8 at 4096², M = 16
  // 0.0106 / 0.0120 (M = 1 0.0077 / 0.0069).
  int64_t shared = sharedBytes(perSplit);
  const int64_t stagedBlocks = streamWarpBlocks(perSplit, kWarps) -
                               streamRegisterBlocks(args.w.bits, mTiles);
  const int64_t codeBytes =
      streamStagedCodeBytes(args.w.bits, mTiles, stagedBlocks);
  const bool stagedCodes =
      !integer && stagedBlocks > 0 && shared + codeBytes <= kStreamSharedBytes;
  if (stagedCodes)
    shared += codeBytes;
  if (kWarps > 1)
    shared = std::max(shared, streamKWarpSumBytes(kWarps));
  // The split-K reduction's partial sums and one arrival counter a column
  // tile (zeroed once, re-armed by the kernel).
  static DeviceScratch partials, arrivals;
  if (splits > 1) {
    args.partials = static_cast<float *>(partials.reserve(
        size_t(splits * args.M * args.w.paddedN) * sizeof(float)));
    args.arrivals = static_cast<uint32_t *>(
        arrivals.reserve(size_t(gridX * chunks) * sizeof(uint32_t), true));
    if (!args.partials || !args.arrivals)
      return false;
  }
  std::string name = std::string("qr_gpu_stream_") + activation + "_w" +
                     std::to_string(args.w.bits) + "_m" +
                     std::to_string(mTiles) + (kWarps > 1 ? "_kwarps" : "") +
                     (stagedCodes ? "_staged" : "");
  return launch(name.c_str(), unsigned(gridX), unsigned(splits),
                unsigned(chunks), kStreamWarps * 32, unsigned(shared), &args,
                qr::cuda::LaunchOrder::OverlapsPredecessor);
}

} // namespace

template <class Tile>
static bool launchTileShape(const char *prefix, const char *activation,
                            const MatmulArgs &args) {
  const bool integer = std::strcmp(activation, "s8") == 0;
  std::string name = std::string(prefix) + activation + "_w" +
                     std::to_string(args.w.bits) +
                     (args.w.groups > 1 ? "_grouped" : "");
  int64_t rowTiles = (args.M + Tile::kM - 1) / Tile::kM;
  if (rowTiles > 65535)
    return fail("GPU matmul: too many rows for one launch");
  return launch(
      name.c_str(), unsigned((args.w.paddedN + Tile::kN - 1) / Tile::kN),
      unsigned(rowTiles), 1, Tile::kThreads,
      tileStages(integer) * tileStageBytes<Tile>(integer, args.w.bits),
      const_cast<MatmulArgs *>(&args));
}

bool qr::gpu::launchTiled(const char *activation, const MatmulArgs &args) {
  if (args.gather)
    return launchTileShape<SmallTile>("qr_gpu_pillar_tiled_", activation, args);
  // Integer calls whose 128 × 128 tiles would be fewer than the
  // multiprocessors take 64 × 64 ones. Measured on an H100 (CUDA graph, ms,
  // 128 × 128 against 64 × 64): W8A8 4096², M = 128 0.0534–0.0540 /
  // 0.0238, M = 256 0.0536–0.0538 / 0.0307–0.0308, 11008², M = 128
  // 0.1308–0.1309 / 0.0958–0.0977 (W4A8 alike); weight-only 11008², M =
  // 128 0.3103–0.3112 / 0.4499–0.4511, so those keep the large tiles.
  if (std::strcmp(activation, "s8") == 0 &&
      largeTiles(args) < qr::cuda::multiprocessorCount())
    return launchTileShape<SmallTile>("qr_gpu_small_tiled_", activation, args);
  return launchTileShape<LargeTile>("qr_gpu_tiled_", activation, args);
}

bool qr::gpu::prepareMatmul(const char *what, int64_t M, int64_t N, int64_t K,
                            int32_t bits, int64_t groupSize, const void *A,
                            int64_t lda, const void *packed, float *C,
                            int64_t ldc, MatmulArgs &args) {
  if (!qr::cuda::ensureInitialized())
    return fail(qr_last_error());
  if (!makeWeightGeometry(bits, K, N, groupSize, &args.w))
    return fail(std::string(what) + ": unsupported weights (bits " +
                std::to_string(bits) + ", group " + std::to_string(groupSize) +
                ", K " + std::to_string(K) +
                "): bits must be 4 or 8, the group K or a multiple of 64");
  if (M < 1 || M > INT32_MAX || lda < K || ldc < N || !A || !packed || !C)
    return fail(std::string(what) + ": invalid operands");
  // The kernels read the codes by 16-byte loads and TMA.
  if (!aligned16(packed))
    return fail(std::string(what) + ": packed weights must be 16-byte aligned");
  args.A = A;
  args.lda = lda;
  args.packed = static_cast<const uint8_t *>(packed);
  args.C = C;
  args.ldc = ldc;
  args.M = int32_t(M);
  return true;
}

namespace {

/// The tile width with which the Hopper kernel (Wgmma.cuh) takes an
/// integer call that the tiled kernels could (so A's rows are 16-byte
/// aligned, as TMA needs), or 0: an sm_90 device (its sm_90a image), 8-bit
/// codes in one group, and enough 128 × 256
/// tiles to give every multiprocessor one, or else enough 128 × 128 ones;
/// smaller grids run the mma.sync tiles, which make more CTAs.
int wgmmaTileN(const MatmulArgs &args) {
  if (qr::cuda::computeCapability() != 90 || args.w.bits != 8 ||
      args.w.groups != 1 || args.M < kWgmmaM || args.w.K < kBlockK ||
      wgmmaTiles(args, kWgmmaNarrowN) > INT32_MAX)
    return 0;
  const int64_t multiprocessors = qr::cuda::multiprocessorCount();
  if (wgmmaTiles(args, kWgmmaN) >= multiprocessors)
    return kWgmmaN;
  return wgmmaTiles(args, kWgmmaNarrowN) >= multiprocessors ? kWgmmaNarrowN : 0;
}

const cuuint32_t kUnitStrides[4] = {1, 1, 1, 1};

/// A TMA map of `rows` rows of `columns` elements, `pitch` bytes apart,
/// read in boxes of 128 bytes × 128 rows with the 128-byte swizzle (zeros
/// past either end): the Hopper kernels' A, and the f16 weights.
bool encodeRowTiles(CUtensorMap *map, CUtensorMapDataType type,
                    int elementBytes, const void *base, int64_t columns,
                    int64_t rows, int64_t pitch, const char *what) {
  const cuuint64_t dims[2] = {cuuint64_t(columns), cuuint64_t(rows)};
  const cuuint64_t strides[1] = {cuuint64_t(pitch)};
  const cuuint32_t box[2] = {cuuint32_t(128 / elementBytes),
                             cuuint32_t(kWgmmaM)};
  return qr::cuda::checkInModel(
      qr::cuda::driver().tensorMapEncodeTiled(
          map, type, 2, const_cast<void *>(base), dims, strides, box,
          kUnitStrides, CU_TENSOR_MAP_INTERLEAVE_NONE,
          CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_128B,
          CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
      what);
}

bool launchWgmma(const MatmulArgs &args, int tileN) {
  WgmmaArgs wgmma{};
  wgmma.p = args;
  if (!encodeRowTiles(&wgmma.a, CU_TENSOR_MAP_DATA_TYPE_UINT8, 1, args.A,
                      args.w.K, args.M, args.lda,
                      "cuTensorMapEncodeTiled(qr_gpu_matmul_s8 activations)"))
    return false;
  // The codes, innermost first: a column's 128 bytes of a block pair, the
  // 16 columns of a panel, block pairs, panels.
  const qr::cuda::Driver &driver = qr::cuda::driver();
  const int64_t pairs = args.w.storedBlocks() / 2;
  const cuuint64_t bDims[4] = {cuuint64_t(kWgmmaK), cuuint64_t(kPanelCols),
                               cuuint64_t(pairs), cuuint64_t(args.w.panels())};
  const cuuint64_t bStrides[3] = {cuuint64_t(kWgmmaK),
                                  cuuint64_t(kPanelCols * kWgmmaK),
                                  cuuint64_t(pairs * kPanelCols * kWgmmaK)};
  const cuuint32_t bBox[4] = {cuuint32_t(kWgmmaK), cuuint32_t(kPanelCols), 1,
                              cuuint32_t(tileN / kPanelCols)};
  if (!qr::cuda::checkInModel(
          driver.tensorMapEncodeTiled(
              &wgmma.b, CU_TENSOR_MAP_DATA_TYPE_UINT8, 4,
              const_cast<uint8_t *>(args.packed), bDims, bStrides, bBox,
              kUnitStrides, CU_TENSOR_MAP_INTERLEAVE_NONE,
              CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
              CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
          "cuTensorMapEncodeTiled(qr_gpu_matmul_s8 weights)"))
    return false;
  // Persistent: one CTA a multiprocessor at most, walking the tiles
  // (WgmmaTileWalk in Wgmma.cuh).
  const unsigned grid = unsigned(std::min<int64_t>(
      wgmmaTiles(args, tileN), qr::cuda::multiprocessorCount()));
  return launch(
      tileN == kWgmmaN ? "qr_gpu_wgmma_s8_w8" : "qr_gpu_wgmma_s8_w8_n128", grid,
      1, 1, kWgmmaThreads, unsigned(wgmmaSharedBytes(tileN)), &wgmma);
}

/// The tile width with which the Hopper kernel would take a 4-bit call's
/// weights as 8-bit ones (one group, enough tiles), and their 8-bit
/// geometry: W4A8 prefill then widens the codes into a scratch blob (one
/// pass over both blobs) and runs it. Measured on an H100 (W4A8, M = 4096,
/// CUDA graph, ms, mma.sync tiles against widened): 4096² 0.316 / 0.132,
/// 11008² 2.12 / 0.974 (W8A8 itself 0.114 / 0.850: the widening takes
/// 18 µs / 0.12 ms).
int widenedWgmmaTileN(const MatmulArgs &args, WeightGeometry &wide) {
  if (args.w.bits != 4 ||
      !makeWeightGeometry(8, args.w.K, args.w.N, args.w.groupSize, &wide))
    return 0;
  MatmulArgs widened = args;
  widened.w = wide;
  return wgmmaTileN(widened);
}

bool launchWidenedWgmma(MatmulArgs args, const WeightGeometry &wide,
                        int tileN) {
  static DeviceScratch scratch;
  WidenArgs widen{args.packed, nullptr, args.w, wide};
  widen.to = static_cast<uint8_t *>(scratch.reserve(size_t(wide.totalBytes)));
  if (!widen.to)
    return false;
  const int64_t items = wide.codeBytes() / 8 + args.w.operandBytes() / 16;
  const int64_t grid =
      std::min<int64_t>((items + kWidenThreads - 1) / kWidenThreads,
                        16 * qr::cuda::multiprocessorCount());
  if (!launch("qr_gpu_widen_w4_codes", unsigned(grid), 1, 1, kWidenThreads, 0,
              &widen))
    return false;
  args.w = wide;
  args.packed = widen.to;
  return launchWgmma(args, tileN);
}

/// Whether a weight-only call that the tiled kernels could take (A's rows
/// 16-byte runs) takes the Hopper f16 kernel instead: an sm_90 device and
/// enough 128 × 128 tiles to give every multiprocessor one.
bool wgmmaHalfApplies(const MatmulArgs &args) {
  const int64_t tiles = wgmmaTiles(args, kWgmmaHalfN);
  return qr::cuda::computeCapability() == 90 && args.M >= kWgmmaM &&
         tiles >= qr::cuda::multiprocessorCount() && tiles <= INT32_MAX;
}

/// Weight-only prefill on the Hopper kernel: A and the codes' u − z are
/// first written as f16 into scratch buffers (one pass over A and the
/// blob), which the kernel reads by TMA. Measured on an H100 (W4A16 g128,
/// M = 4096, CUDA graph, ms, mma.sync tiles against this): 4096² 0.8708 /
/// 0.4424–0.4702, 11008² 6.237 / 2.96–3.43 (cuBLAS f16: 0.19–0.22 and
/// 1.48–1.52).
bool launchWgmmaHalf(const MatmulArgs &args) {
  static DeviceScratch halfA, halfW;
  const int64_t paddedK = args.w.paddedK();
  HalfOperandsArgs half{static_cast<const float *>(args.A),
                        args.lda,
                        args.M,
                        nullptr,
                        args.packed,
                        args.w,
                        nullptr};
  half.halfA = static_cast<uint16_t *>(
      halfA.reserve(size_t(args.M * paddedK) * sizeof(uint16_t)));
  half.halfW = static_cast<uint16_t *>(
      halfW.reserve(size_t(args.w.paddedN * paddedK) * sizeof(uint16_t)));
  if (!half.halfA || !half.halfW)
    return false;
  const int64_t items =
      int64_t(args.M) * (args.w.K / 4) + args.w.codeBytes() / args.w.bits;
  const int64_t grid =
      std::min<int64_t>((items + kHalfOperandThreads - 1) / kHalfOperandThreads,
                        16 * qr::cuda::multiprocessorCount());
  if (!launch("qr_gpu_half_operands", unsigned(grid), 1, 1, kHalfOperandThreads,
              0, &half))
    return false;
  WgmmaHalfArgs wgmma{};
  wgmma.p = args;
  const int64_t pitch = paddedK * int64_t(sizeof(uint16_t));
  if (!encodeRowTiles(
          &wgmma.a, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2, half.halfA, args.w.K,
          args.M, pitch,
          "cuTensorMapEncodeTiled(qr_gpu_matmul_f16w activations)") ||
      !encodeRowTiles(&wgmma.b, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2, half.halfW,
                      args.w.K, args.w.paddedN, pitch,
                      "cuTensorMapEncodeTiled(qr_gpu_matmul_f16w weights)"))
    return false;
  const unsigned ctas = unsigned(std::min<int64_t>(
      wgmmaTiles(args, kWgmmaHalfN), qr::cuda::multiprocessorCount()));
  return launch("qr_gpu_wgmma_f16", ctas, 1, 1, kWgmmaThreads,
                kWgmmaHalfSharedBytes, &wgmma);
}

/// Whether a weight-only call of up to kStreamFillRows rows would leave
/// most multiprocessors without a 128 × 128 tile: the streaming kernel then
/// splits K to fill them. Measured on an H100 (W4A16 g128, CUDA graph, ms,
/// tiles against streaming): 4096² M = 128 0.1223 / 0.0445 (32 tiles), M =
/// 256 0.1168 / 0.0896 (64 tiles); 11008² M = 128 0.3074 / 0.3177 (86
/// tiles), M = 256 0.629 / 0.624. Integer calls keep the tiles: streaming
/// was slower at each of those shapes (W8A8 at 4096², M = 128: 0.0536 /
/// 0.0672).
constexpr int64_t kStreamFillRows = 256;
bool tilesLeaveMostIdle(const MatmulArgs &args) {
  return args.M <= kStreamFillRows &&
         2 * largeTiles(args) < qr::cuda::multiprocessorCount();
}

/// Tiles past 64 rows when A's rows are whole 16-byte runs (the tiled
/// kernels' cp.async) and, for weight-only calls, the tiles keep most
/// multiprocessors busy; the streaming kernel otherwise.
void dispatchMatmul(const char *activation, const MatmulArgs &args,
                    int64_t elementBytes) {
  const int64_t run = 16 / elementBytes;
  if (args.M > 64 && args.w.K % run == 0 && args.lda % run == 0 &&
      aligned16(args.A) && (elementBytes == 1 || !tilesLeaveMostIdle(args))) {
    WeightGeometry wide;
    if (elementBytes == 1) {
      if (const int tileN = wgmmaTileN(args))
        return (void)launchWgmma(args, tileN);
      if (const int tileN = widenedWgmmaTileN(args, wide))
        return (void)launchWidenedWgmma(args, wide, tileN);
    } else if (wgmmaHalfApplies(args)) {
      return (void)launchWgmmaHalf(args);
    }
    launchTiled(activation, args);
    return;
  }
  launchStream(activation, args, elementBytes == 1);
}

} // namespace

extern "C" void qr_gpu_matmul_f16w(int64_t M, int64_t N, int64_t K,
                                   int32_t bits, int64_t group_size,
                                   const float *A, int64_t lda,
                                   const void *packed, float *C, int64_t ldc) {
  MatmulArgs args{};
  if (prepareMatmul("qr_gpu_matmul_f16w", M, N, K, bits, group_size, A, lda,
                    packed, C, ldc, args))
    dispatchMatmul("f16", args, sizeof(float));
}

extern "C" void qr_gpu_matmul_s8(int64_t M, int64_t N, int64_t K, int32_t bits,
                                 int64_t group_size, const int8_t *A,
                                 int64_t lda, const float *a_scales,
                                 float a_scale, int32_t a_zero_point,
                                 const void *packed, float *C, int64_t ldc) {
  MatmulArgs args{};
  if (!prepareMatmul("qr_gpu_matmul_s8", M, N, K, bits, group_size, A, lda,
                     packed, C, ldc, args))
    return;
  // Group sums stay exact in int32: |A − a_zp| ≤ 255, |u − z| ≤ 128.
  if (args.w.groupSize > 32768)
    return (void)fail("qr_gpu_matmul_s8: quantization groups over 32768 k "
                      "could overflow the int32 sums");
  args.aScales = a_scales;
  args.aScale = a_scale;
  args.aZeroPoint = a_zero_point;
  dispatchMatmul("s8", args, sizeof(int8_t));
}

extern "C" void qr_gpu_gemm_f32(int64_t batch, int64_t M, int64_t N, int64_t K,
                                const float *A, int64_t lda, int64_t stride_a,
                                const float *B, int64_t ldb, int64_t stride_b,
                                int32_t transpose_b, float *C, int64_t ldc,
                                int64_t stride_c) {
  if (!qr::cuda::ensureInitialized())
    return (void)fail(qr_last_error());
  if (batch < 1 || batch > 65535 || M < 1 || N < 1 || K < 1 || !A || !B || !C ||
      lda < K || ldc < N || ldb < (transpose_b ? K : N))
    return (void)fail("qr_gpu_gemm_f32: invalid operands");
  GemmF32Args args{A,   B,   C,        M,        N,        K,          lda,
                   ldb, ldc, stride_a, stride_b, stride_c, transpose_b};
  launch("qr_gpu_gemm_f32_kernel", unsigned((N + kGemmTile - 1) / kGemmTile),
         unsigned((M + kGemmTile - 1) / kGemmTile), unsigned(batch),
         kGemmThreads, 0, &args);
}

extern "C" void qr_gpu_hadamard_f32(float *X, int64_t rows, int64_t n,
                                    int64_t ld, const int8_t *signs,
                                    const int8_t *base, int64_t b) {
  if (!qr::cuda::ensureInitialized())
    return (void)fail(qr_last_error());
  const int64_t runs = b >= 1 && n % b == 0 ? n / b : 0;
  if (runs < 1 || (runs & (runs - 1)) != 0 || b > 28 || (b > 1 && !base) ||
      rows < 1 || rows > INT32_MAX || ld < n || !X)
    return (void)fail("qr_gpu_hadamard_f32: n must be 2^k · b (b ≤ 28, with "
                      "its base matrix when b > 1), rows ≥ 1, ld ≥ n");
  const int logRuns = __builtin_ctzll(uint64_t(runs));
  HadamardArgs args{
      X,       rows, ld,        signs, float(1.0 / std::sqrt(double(n))),
      logRuns, base, int32_t(b)};
  if (b > 1) {
    if (n > kHadamardKroneckerMaxN)
      return (void)fail("qr_gpu_hadamard_f32: Kronecker sizes up to " +
                        std::to_string(kHadamardKroneckerMaxN));
    launch("qr_gpu_hadamard_kronecker", unsigned(rows), 1, 1,
           kHadamardKroneckerThreads, unsigned((n + b * b) * sizeof(float)),
           &args);
    return;
  }
  if (n > 32768)
    return (void)fail("qr_gpu_hadamard_f32: powers of two up to 32768");
  if (logRuns <= 6) {
    std::string name = "qr_gpu_hadamard_small_" + std::to_string(logRuns);
    launch(name.c_str(), unsigned((rows + 127) / 128), 1, 1, 128, 0, &args);
    return;
  }
  if (!aligned16(X) || ld % 4 != 0 ||
      (signs && reinterpret_cast<uintptr_t>(signs) % 4 != 0))
    return (void)fail("qr_gpu_hadamard_f32: rows must be 16-byte aligned");
  const int threads = hadamardThreads(logRuns);
  const unsigned shared = threads > 32 ? unsigned(n * sizeof(float)) : 0;
  std::string name = "qr_gpu_hadamard_" + std::to_string(logRuns);
  launch(name.c_str(), unsigned(rows), 1, 1, unsigned(threads), shared, &args);
}

extern "C" void qr_gpu_quantize_per_token_f32(int64_t M, int64_t K,
                                              const float *X, int64_t ldx,
                                              int32_t bits, int8_t *Q,
                                              int64_t ldq, float *scales) {
  if (!qr::cuda::ensureInitialized())
    return (void)fail(qr_last_error());
  if (M < 1 || M > INT32_MAX || K < 1 || bits < 2 || bits > 8 || !X || !Q ||
      !scales || ldx < K || ldq < K)
    return (void)fail("qr_gpu_quantize_per_token_f32: invalid operands");
  QuantizeArgs args{X, Q, scales, M, K, ldx, ldq, bits};
  launch("qr_gpu_quantize_per_token_kernel", unsigned(M), 1, 1,
         kQuantizeThreads, 0, &args);
}
