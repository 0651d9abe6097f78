//===- Wgmma.cuh - Hopper warpgroup matmuls for prefill ---------*- CUDA -*-===//
//
// W8A8 at large M on sm_90a: each 128 × 256 output tile comes from wgmma
// (m64n256k32, int8 → int32) fed by TMA through a ring of shared-memory
// stages. Weight-only prefill takes 128 × 128 tiles of wgmma m64n128k16
// (f16 → f32) over f16 copies of A and of the codes' u − z, adding each
// quantization group's f32 sums times its scales into a second set of
// registers (wgmmaHalfConsume). Both are persistent (a CTA a
// multiprocessor walks the tiles) and warp-specialized: one thread of the
// producer warpgroup issues the copies, two consumer warpgroups compute
// 64 rows each and run the epilogue while the producer already fills the
// ring for the next tile. Everything but the tensor cores waits on
// mbarriers, so copies of later stages overlap the math of earlier ones.
//
// The 8-bit codes need no re-layout: they are stored by pairs of 64-k
// blocks, a column's 128 k of a pair contiguous and in k order
// (GpuWeights.h), which TMA copies with the 128-byte swizzle into wgmma's
// canonical K-major B layout; A's rows are copied the same way, and both
// operands are read from shared memory. The f16 copies are plain
// row-major [rows][k] arrays, 64 k (128 bytes) a shared-memory row.
//
//===----------------------------------------------------------------------===//

// After Matmul.cuh (Kernels.cu), whose helpers it uses.
#include "KernelArgs.h"

namespace qr::gpu {

//===----------------------------------------------------------------------===//
// PTX wrappers: mbarriers, TMA, wgmma
//===----------------------------------------------------------------------===//

__device__ __forceinline__ void barrierInit(uint64_t *barrier,
                                            unsigned arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(
                   sharedAddress(barrier)),
               "r"(arrivals));
}

/// Arrives and expects `bytes` of copies to complete on `barrier`.
__device__ __forceinline__ void barrierExpectBytes(uint64_t *barrier,
                                                   unsigned bytes) {
  asm volatile(
      "mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(
          sharedAddress(barrier)),
      "r"(bytes)
      : "memory");
}

__device__ __forceinline__ void barrierArrive(uint64_t *barrier) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(
                   sharedAddress(barrier))
               : "memory");
}

/// Waits for the phase of `barrier` with parity `parity` to complete.
__device__ __forceinline__ void barrierWait(uint64_t *barrier,
                                            unsigned parity) {
  unsigned done;
  do {
    asm volatile("{\n"
                 ".reg .pred complete;\n"
                 "mbarrier.try_wait.parity.shared::cta.b64 complete, [%1], "
                 "%2;\n"
                 "selp.u32 %0, 1, 0, complete;\n"
                 "}\n"
                 : "=r"(done)
                 : "r"(sharedAddress(barrier)), "r"(parity)
                 : "memory");
  } while (!done);
}

/// A box of the tensor `map` at coordinates `c` (innermost first) into
/// shared memory, completing bytes on `barrier`.
__device__ __forceinline__ void tensorLoad2d(void *shared, const void *map,
                                             int c0, int c1,
                                             uint64_t *barrier) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::"
               "complete_tx::bytes [%0], [%1, {%2, %3}], [%4];\n" ::"r"(
                   sharedAddress(shared)),
               "l"(map), "r"(c0), "r"(c1), "r"(sharedAddress(barrier))
               : "memory");
}
__device__ __forceinline__ void tensorLoad4d(void *shared, const void *map,
                                             int c0, int c1, int c2, int c3,
                                             uint64_t *barrier) {
  asm volatile("cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::"
               "complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], [%6];\n" ::"r"(
                   sharedAddress(shared)),
               "l"(map), "r"(c0), "r"(c1), "r"(c2), "r"(c3),
               "r"(sharedAddress(barrier))
               : "memory");
}

/// wgmma's descriptor of a K-major operand in shared memory with the
/// 128-byte swizzle: rows of 128 bytes, 8-row groups 1024 bytes apart.
__device__ __forceinline__ uint64_t swizzled128Descriptor(const void *shared) {
  const uint64_t address = sharedAddress(shared);
  return ((address & 0x3ffff) >> 4) | (uint64_t(1) << 16) |
         (uint64_t(1024 >> 4) << 32) | (uint64_t(1) << 62);
}

__device__ __forceinline__ void wgmmaFence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmmaCommit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int Pending> __device__ __forceinline__ void wgmmaWait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(Pending)
               : "memory");
}

/// Keeps the compiler from moving accesses of `d` across a wgmma wait.
template <int N>
__device__ __forceinline__ void wgmmaFenceOperands(int32_t (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i)
    asm volatile("" : "+r"(d[i])::"memory");
}

template <int N>
__device__ __forceinline__ void wgmmaFenceOperands(float (&d)[N]) {
#pragma unroll
  for (int i = 0; i < N; ++i)
    asm volatile("" : "+f"(d[i])::"memory");
}

#define QR_D4(i) "+r"(d[i]), "+r"(d[i + 1]), "+r"(d[i + 2]), "+r"(d[i + 3])
#define QR_D16(i) QR_D4(i), QR_D4(i + 4), QR_D4(i + 8), QR_D4(i + 12)
#define QR_D64(i) QR_D16(i), QR_D16(i + 16), QR_D16(i + 32), QR_D16(i + 48)

// The accumulator operand lists of the wgmma wrappers.
#define QR_OPERANDS_0_63                                                       \
  "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "    \
  "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, "    \
  "%30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, "    \
  "%44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, "    \
  "%58, %59, %60, %61, %62, %63"
#define QR_OPERANDS_64_127                                                     \
  "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, "    \
  "%78, %79, %80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, "    \
  "%92, %93, %94, %95, %96, %97, %98, %99, %100, %101, %102, %103, %104, "    \
  "%105, %106, %107, %108, %109, %110, %111, %112, %113, %114, %115, %116, "  \
  "%117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"

/// d[64 × N] = a[64 × 32] · b[32 × N] (s8, both in shared memory), plus
/// d if `accumulate`; N = 256 or 128.
template <int N>
__device__ __forceinline__ void wgmmaS8(int32_t (&d)[N / 2], uint64_t a,
                                        uint64_t b, bool accumulate) {
  if constexpr (N == 256) {
    asm volatile(
        "{\n"
        ".reg .pred accumulate;\n"
        "setp.ne.b32 accumulate, %130, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n256k32.s32.s8.s8 {"
        QR_OPERANDS_0_63 ", " QR_OPERANDS_64_127 "}, "
        "%128, %129, accumulate;\n"
        "}\n"
        : QR_D64(0), QR_D64(64)
        : "l"(a), "l"(b), "r"(int(accumulate)));
  } else {
    static_assert(N == 128, "m64n256k32 or m64n128k32");
    asm volatile(
        "{\n"
        ".reg .pred accumulate;\n"
        "setp.ne.b32 accumulate, %66, 0;\n"
        "wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8 {"
        QR_OPERANDS_0_63 "}, "
        "%64, %65, accumulate;\n"
        "}\n"
        : QR_D64(0)
        : "l"(a), "l"(b), "r"(int(accumulate)));
  }
}

#undef QR_D64
#undef QR_D16
#undef QR_D4

#define QR_F4(i) "+f"(d[i]), "+f"(d[i + 1]), "+f"(d[i + 2]), "+f"(d[i + 3])
#define QR_F16(i) QR_F4(i), QR_F4(i + 4), QR_F4(i + 8), QR_F4(i + 12)

/// d[64 × 128] = a[64 × 16] · b[16 × 128] (f16, both K-major in shared
/// memory, f32 sums), plus d if `accumulate`.
__device__ __forceinline__ void wgmmaF16(float (&d)[64], uint64_t a,
                                         uint64_t b, bool accumulate) {
  asm volatile(
      "{\n"
      ".reg .pred accumulate;\n"
      "setp.ne.b32 accumulate, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16 {"
      QR_OPERANDS_0_63 "}, "
      "%64, %65, accumulate, 1, 1, 0, 0;\n"
      "}\n"
      : QR_F16(0), QR_F16(16), QR_F16(32), QR_F16(48)
      : "l"(a), "l"(b), "r"(int(accumulate)));
}

#undef QR_F16
#undef QR_F4
#undef QR_OPERANDS_64_127
#undef QR_OPERANDS_0_63

//===----------------------------------------------------------------------===//
// The kernel
//===----------------------------------------------------------------------===//

/// The output's 128 × TileN tiles, taken in turn by the CTAs of the grid:
/// bands of kBandRows row tiles, each walked column tile by column tile,
/// so that the CTAs running at once read the A rows of one band and the
/// weights of a few column tiles, which L2 keeps between them. (Row by row,
/// weights larger than L2 would come from DRAM again for every row tile.)
template <int TileN> struct WgmmaTileWalk {
  static constexpr int kBandRows = 8;
  int columnTiles, rowTiles, tiles;

  __device__ explicit WgmmaTileWalk(const MatmulArgs &p)
      : columnTiles(int(wgmmaColumnTiles(p, TileN))),
        rowTiles(int((p.M + kWgmmaM - 1) / kWgmmaM)),
        tiles(int(wgmmaTiles(p, TileN))) {}
  __device__ int m0(int tile) const {
    const int band = tile / (kBandRows * columnTiles);
    return (band * kBandRows + tile % (kBandRows * columnTiles) % bandRows(band)) *
           kWgmmaM;
  }
  __device__ int panel0(int tile) const {
    const int band = tile / (kBandRows * columnTiles);
    return tile % (kBandRows * columnTiles) / bandRows(band) *
           (TileN / int(kPanelCols));
  }

private:
  __device__ int bandRows(int band) const {
    return min(kBandRows, rowTiles - band * kBandRows);
  }
};

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
/// The per-column operands of a tile's epilogue, staged in shared memory.
struct WgmmaColumn {
  float scale;
  int32_t correction; // a_zp · Σ(u − z)
};

/// The 256 consumer threads meet (named barrier 1; the producer is not in
/// it).
__device__ __forceinline__ void consumersSync() {
  asm volatile("bar.sync 1, 256;\n" ::: "memory");
}

/// C[m][n], and C[m][n + 1] where n + 1 < N, from v: one 8-byte store where
/// C allows (`pairs`).
__device__ __forceinline__ void storeColumnPair(const MatmulArgs &p, int64_t m,
                                                int64_t n, const float (&v)[2],
                                                bool pairs) {
  float *out = p.C + m * p.ldc + n;
  if (pairs && n + 1 < p.w.N) {
    *reinterpret_cast<float2 *>(out) = make_float2(v[0], v[1]);
  } else {
    out[0] = v[0];
    if (n + 1 < p.w.N)
      out[1] = v[1];
  }
}
__device__ __forceinline__ bool columnPairsAligned(const MatmulArgs &p) {
  return p.ldc % 2 == 0 && reinterpret_cast<uintptr_t>(p.C) % 8 == 0;
}

/// C = a_scale(m) · s(n) · (acc − a_zp · Σ(u − z)) for this thread's rows
/// `row`, `row` + 8 of the tile at (m0, panel0), a column pair at a time.
template <int TileN>
__device__ __forceinline__ void
wgmmaEpilogue(const MatmulArgs &p, const int32_t (&acc)[TileN / 2],
              const WgmmaColumn *columns, const float (&rowScale)[2], int m0,
              int panel0, int row, int t) {
  const bool pairs = columnPairsAligned(p);
#pragma unroll
  for (int j = 0; j < TileN / 8; ++j) {
    const int64_t n = int64_t(panel0) * kPanelCols + j * 8 + 2 * t;
    if (n >= p.w.N)
      break;
    const WgmmaColumn column[2] = {columns[j * 8 + 2 * t],
                                   columns[j * 8 + 2 * t + 1]};
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int64_t m = int64_t(m0) + row + 8 * h;
      if (m >= p.M)
        continue;
      float v[2];
#pragma unroll
      for (int c = 0; c < 2; ++c)
        v[c] = float(acc[4 * j + 2 * h + c] - column[c].correction) *
               column[c].scale * rowScale[h];
      storeColumnPair(p, m, n, v, pairs);
    }
  }
}

/// The consumer warpgroups' part of wgmmaMatmul: 64 rows × TileN columns
/// of each tile, then its epilogue, while the producer fills the ring for
/// the next tile.
template <int TileN>
__device__ __forceinline__ void
wgmmaConsume(const MatmulArgs &p, const WgmmaTileWalk<TileN> &walk,
             const uint8_t *ring, uint64_t *full, uint64_t *empty,
             WgmmaColumn *columns, int64_t stages) {
  const int lane = threadIdx.x % 32;
  const int rows0 = (threadIdx.x / 128 - 1) * 64;
  // This thread's rows g and g + 8 of its warp's 16.
  const int row = rows0 + (threadIdx.x / 32 % 4) * 16 + lane / 4;
  // A stage is free once all eight consumer warps have handed it back.
  auto release = [&](int64_t use) {
    if (lane == 0)
      barrierArrive(&empty[use % kWgmmaStages]);
  };
  const bool holdsColumn = TileN >= 32 * kWgmmaConsumerWarps ||
                           int(threadIdx.x) - 128 < TileN;
  int32_t acc[TileN / 2];
  int64_t use = 0; // stages consumed so far, over all tiles
  const GroupColumnRegions regions = groupColumnRegions(p);
  for (int tile = blockIdx.x; tile < walk.tiles; tile += gridDim.x) {
    const int m0 = walk.m0(tile), panel0 = walk.panel0(tile);
    // The epilogue's operands, requested now and used after the mainloop:
    // this thread's column of the tile (the first TileN consumer threads)
    // and its two rows' scales.
    const int64_t n = int64_t(panel0) * kPanelCols + (threadIdx.x - 128);
    WgmmaColumn column = {0.0f, 0};
    if (holdsColumn && n < p.w.N)
      column = {regions.scales[n],
                p.aZeroPoint ? p.aZeroPoint * regions.columnSums[n] : 0};
    float rowScale[2];
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int64_t m = int64_t(m0) + row + 8 * h;
      rowScale[h] = m < p.M ? (p.aScales ? p.aScales[m] : p.aScale) : 0.0f;
    }

    // Per stage four k32 wgmmas, 32 bytes apart in the swizzled rows; one
    // stage's wgmmas stay in flight while the next stage's are issued,
    // and a stage is handed back once its wgmmas have completed.
    for (int64_t kp = 0; kp < stages; ++kp, ++use) {
      const int s = int(use % kWgmmaStages);
      barrierWait(&full[s], unsigned(use / kWgmmaStages) & 1);
      const uint8_t *stage = ring + s * wgmmaStageBytes(TileN);
      const uint64_t a = swizzled128Descriptor(stage + rows0 * kWgmmaK);
      const uint64_t b = swizzled128Descriptor(stage + kWgmmaABytes);
      wgmmaFence();
#pragma unroll
      for (int step = 0; step < kWgmmaK / 32; ++step)
        wgmmaS8<TileN>(acc, a + 2 * step, b + 2 * step, kp > 0 || step > 0);
      wgmmaCommit();
      wgmmaWait<1>();
      if (kp > 0)
        release(use - 1);
    }
    wgmmaWait<0>();
    release(use - 1);
    wgmmaFenceOperands(acc);
    consumersSync(); // the previous tile's epilogue has read `columns`
    if (holdsColumn)
      columns[threadIdx.x - 128] = column;
    consumersSync();
    wgmmaEpilogue<TileN>(p, acc, columns, rowScale, m0, panel0, row,
                         lane % 4);
  }
}

/// The consumer warpgroups' part of wgmmaHalfMatmul: 64 rows × 128 columns
/// of each tile. A group's k blocks accumulate in `sums` (the first wgmma
/// of a group overwrites them), which are then added times the group's
/// scales into `total`: the group sums stay f32 products of f16 values
/// (A rounded, u − z exact), as in the mma.sync kernels. Within a group
/// one stage's wgmmas stay in flight while the next stage's are issued;
/// at its end all of them complete before the scaling, while the other
/// warpgroup keeps the tensor cores busy.
__device__ __forceinline__ void
wgmmaHalfConsume(const MatmulArgs &p, const WgmmaTileWalk<kWgmmaHalfN> &walk,
                 const uint8_t *ring, uint64_t *full, uint64_t *empty) {
  const int lane = threadIdx.x % 32, t = lane % 4;
  const int rows0 = (threadIdx.x / 128 - 1) * 64;
  const int row = rows0 + (threadIdx.x / 32 % 4) * 16 + lane / 4;
  auto release = [&](int64_t use) {
    if (lane == 0)
      barrierArrive(&empty[use % kWgmmaHalfStages]);
  };
  const bool pairs = columnPairsAligned(p);
  const float *groupScales = groupColumnRegions(p).scales;
  float sums[64], total[64];
  int64_t use = 0; // stages consumed so far, over all tiles
  for (int tile = blockIdx.x; tile < walk.tiles; tile += gridDim.x) {
    const int m0 = walk.m0(tile);
    const int64_t n0 = int64_t(walk.panel0(tile)) * kPanelCols;
#pragma unroll
    for (int i = 0; i < 64; ++i)
      total[i] = 0.0f;
    int64_t block = 0;
    for (int64_t group = 0; group < p.w.groups; ++group) {
      // This thread's columns n0 + 8j + 2t + c; the tile's columns past
      // paddedN (not written) read column 0's.
      float scale[32];
#pragma unroll
      for (int j = 0; j < 16; ++j)
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          const int64_t n = n0 + 8 * j + 2 * t + c;
          scale[2 * j + c] =
              groupScales[group * p.w.paddedN + (n < p.w.paddedN ? n : 0)];
        }
      const int64_t first = block,
                    end = group + 1 == p.w.groups
                              ? p.w.blocksK
                              : (group + 1) * p.w.blocksPerGroup;
      for (; block < end; ++block, ++use) {
        const int s = int(use % kWgmmaHalfStages);
        barrierWait(&full[s], unsigned(use / kWgmmaHalfStages) & 1);
        const uint8_t *stage = ring + s * wgmmaStageBytes(kWgmmaHalfN);
        const uint64_t a = swizzled128Descriptor(stage + rows0 * kWgmmaK);
        const uint64_t b = swizzled128Descriptor(stage + kWgmmaABytes);
        wgmmaFence();
#pragma unroll
        for (int step = 0; step < int(kBlockK) / 16; ++step)
          wgmmaF16(sums, a + 2 * step, b + 2 * step,
                   block > first || step > 0);
        wgmmaCommit();
        wgmmaWait<1>();
        if (block > first)
          release(use - 1);
      }
      wgmmaWait<0>();
      release(use - 1);
      wgmmaFenceOperands(sums);
#pragma unroll
      for (int i = 0; i < 64; ++i)
        total[i] = fmaf(sums[i], scale[i / 4 * 2 + i % 2], total[i]);
    }
#pragma unroll
    for (int j = 0; j < kWgmmaHalfN / 8; ++j) {
      const int64_t n = n0 + j * 8 + 2 * t;
      if (n >= p.w.N)
        break;
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int64_t m = int64_t(m0) + row + 8 * h;
        if (m < p.M)
          storeColumnPair(p, m, n,
                          {total[4 * j + 2 * h], total[4 * j + 2 * h + 1]},
                          pairs);
      }
    }
  }
}

/// The rings of the Hopper kernels in dynamic shared memory: `Stages`
/// stages of `StageBytes` on 1 KiB boundaries (the swizzle pattern follows
/// address bits), then their full and empty barriers. Thread 0 initializes
/// the barriers, for one producer arrival (with the copies' bytes) and the
/// eight consumer warps' hand-backs.
template <int Stages, int StageBytes> struct WgmmaRing {
  uint8_t *stages;
  uint64_t *full, *empty;

  __device__ explicit WgmmaRing(uint8_t *sharedBytes)
      : stages(sharedBytes + (1024 - sharedAddress(sharedBytes) % 1024) % 1024),
        full(reinterpret_cast<uint64_t *>(stages + Stages * StageBytes)),
        empty(full + Stages) {
    if (threadIdx.x == 0) {
      for (int s = 0; s < Stages; ++s) {
        barrierInit(&full[s], 1);
        barrierInit(&empty[s], kWgmmaConsumerWarps);
      }
      // The barriers are used by the async proxy (TMA) next.
      asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
    }
    __syncthreads();
  }
  /// End of the ring's barriers: room for the kernel's other shared data.
  __device__ uint8_t *end() const {
    return reinterpret_cast<uint8_t *>(empty + Stages);
  }

  /// The producer warpgroup: gives its registers to the consumers, and its
  /// thread 0 fills the stages in turn, `stagesPerTile` a tile of `walk`,
  /// with `load(stage, barrier, tile, kStage)` once a stage is free.
  template <class Walk, class Load>
  __device__ void produce(const Walk &walk, int64_t stagesPerTile,
                          Load load) const {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;\n");
    if (threadIdx.x != 0)
      return;
    int64_t use = 0; // stages filled so far, over all tiles
    for (int tile = blockIdx.x; tile < walk.tiles; tile += gridDim.x)
      for (int64_t k = 0; k < stagesPerTile; ++k, ++use) {
        const int s = int(use % Stages);
        if (use >= Stages)
          barrierWait(&empty[s], unsigned(use / Stages - 1) & 1);
        barrierExpectBytes(&full[s], StageBytes);
        load(stages + s * StageBytes, &full[s], tile, k);
      }
  }
};
#endif

/// Persistent: a grid of at most one CTA a multiprocessor walks the
/// 128 × TileN output tiles (WgmmaTileWalk); kWgmmaThreads threads,
/// wgmmaSharedBytes(TileN) of dynamic shared memory. One quantization
/// group (per-channel scales), symmetric 8-bit codes.
template <int TileN> __device__ void wgmmaMatmul(const WgmmaArgs &args) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  extern __shared__ uint8_t sharedBytes[];
  const WgmmaRing<kWgmmaStages, wgmmaStageBytes(TileN)> ring(sharedBytes);
  const MatmulArgs &p = args.p;
  const int64_t stages = p.w.storedBlocks() / 2; // block pairs
  const WgmmaTileWalk<TileN> walk(p);
  if (threadIdx.x / 128 == 0) {
    // The producer: one thread issues every copy.
    ring.produce(walk, stages,
                 [&](uint8_t *stage, uint64_t *full, int tile, int64_t kp) {
                   tensorLoad2d(stage, &args.a, int(kp * kWgmmaK),
                                walk.m0(tile), full);
                   tensorLoad4d(stage + kWgmmaABytes, &args.b, 0, 0, int(kp),
                                walk.panel0(tile), full);
                 });
    return;
  }
  asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n");
  wgmmaConsume<TileN>(p, walk, ring.stages, ring.full, ring.empty,
                      reinterpret_cast<WgmmaColumn *>(ring.end()), stages);
#else
  // Launched only on sm_90 (Launch.cpp), which runs the sm_90a image.
  __trap();
#endif
}

/// Weight-only prefill: as wgmmaMatmul, over 128 × 128 tiles of the f16
/// operands (WgmmaHalfArgs), a stage a k block, any group size.
__device__ void wgmmaHalfMatmul(const WgmmaHalfArgs &args) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  extern __shared__ uint8_t sharedBytes[];
  const WgmmaRing<kWgmmaHalfStages, wgmmaStageBytes(kWgmmaHalfN)> ring(
      sharedBytes);
  const MatmulArgs &p = args.p;
  const WgmmaTileWalk<kWgmmaHalfN> walk(p);
  if (threadIdx.x / 128 == 0) {
    ring.produce(walk, p.w.blocksK,
                 [&](uint8_t *stage, uint64_t *full, int tile, int64_t block) {
                   const int k = int(block * kBlockK);
                   tensorLoad2d(stage, &args.a, k, walk.m0(tile), full);
                   tensorLoad2d(stage + kWgmmaABytes, &args.b, k,
                                walk.panel0(tile) * int(kPanelCols), full);
                 });
    return;
  }
  asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n");
  wgmmaHalfConsume(p, walk, ring.stages, ring.full, ring.empty);
#else
  __trap();
#endif
}

} // namespace qr::gpu
