//===- PillarConv.cuh - pillar rulebook and gather kernels -----*- CUDA -*-===//
//
// The rulebook of qr_gpu_pillar_rulebook in kernels whose work is linear in
// the number of pillars. Every "first occurrence in order" rule of the op
// (UKernels.h) becomes: give each candidate site an ordinal in that order,
// insert all of them into a site table at once where each slot keeps the
// smallest ordinal (atomicMin), then keep the ordinals that won their slot
// and compact them with a prefix sum. The result is the CPU rulebook's,
// element for element, whatever order the threads run in.
//
//===----------------------------------------------------------------------===//

#include "KernelArgs.h"

namespace qr::gpu {

//===----------------------------------------------------------------------===//
// Site tables
//===----------------------------------------------------------------------===//

__device__ __forceinline__ unsigned long long
siteKey(int64_t batch, int64_t y, int64_t x, int64_t height, int64_t width) {
  return (unsigned long long)((batch * height + y) * width + x);
}

__device__ __forceinline__ uint64_t siteSlot(const SiteTable &t,
                                             unsigned long long key) {
  // Fibonacci hashing, as the CPU table: raster neighbours spread out.
  return (key * 0x9E3779B97F4A7C15ull >> 20) & t.mask;
}

/// Claims (or finds) the slot of `key` and lowers its ordinal to `ordinal`.
__device__ void siteInsert(const SiteTable &t, unsigned long long key,
                           int32_t ordinal) {
  for (uint64_t s = siteSlot(t, key);; s = (s + 1) & t.mask) {
    unsigned long long seen = atomicCAS(&t.keys[s], kEmptySite, key);
    if (seen == kEmptySite || seen == key) {
      atomicMin(&t.ordinals[s], unsigned(ordinal));
      return;
    }
  }
}

/// The ordinal stored under `key`, or −1.
__device__ int32_t siteFind(const SiteTable &t, unsigned long long key) {
  for (uint64_t s = siteSlot(t, key);; s = (s + 1) & t.mask) {
    unsigned long long seen = t.keys[s];
    if (seen == key)
      return int32_t(t.ordinals[s]);
    if (seen == kEmptySite)
      return -1;
  }
}

__device__ __forceinline__ bool inGrid(int64_t y, int64_t x, int64_t height,
                                       int64_t width) {
  return y >= 0 && y < height && x >= 0 && x < width;
}

__device__ __forceinline__ bool validPillar(const RulebookArgs &p, int64_t i) {
  const int32_t *c = p.coords + 3 * i;
  return c[0] >= 0 && inGrid(c[1], c[2], p.height, p.width);
}

__device__ __forceinline__ int64_t globalThread() {
  return int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
}

//===----------------------------------------------------------------------===//
// Inputs: the site table, the validity checks
//===----------------------------------------------------------------------===//

/// Pillars into the input table (and, with dilation, into the candidate
/// table as ordinals 0..N−1); the first pillar outside the grid.
__device__ void pillarInsertInputs(const RulebookArgs &p) {
  const int64_t i = globalThread();
  if (i >= p.N)
    return;
  if (!validPillar(p, i)) {
    atomicMin(&p.status->outOfGrid, (unsigned long long)i);
    return;
  }
  const int32_t *c = p.coords + 3 * i;
  const unsigned long long key = siteKey(c[0], c[1], c[2], p.height, p.width);
  siteInsert(p.inputs, key, int32_t(i));
  if (p.candidates.keys)
    siteInsert(p.candidates, key, int32_t(i));
}

/// A pillar that lost its slot to an earlier one is a duplicate; the
/// smallest such pair is the CPU's message.
__device__ void checkDuplicate(const RulebookArgs &p, int64_t i) {
  if (!validPillar(p, i))
    return;
  const int32_t *c = p.coords + 3 * i;
  const int32_t first =
      siteFind(p.inputs, siteKey(c[0], c[1], c[2], p.height, p.width));
  if (first != i)
    atomicMin(&p.status->duplicate,
              (unsigned long long)i << 32 | (unsigned long long)first);
}

__device__ void pillarFindDuplicates(const RulebookArgs &p) {
  const int64_t i = globalThread();
  if (i < p.N)
    checkDuplicate(p, i);
}

//===----------------------------------------------------------------------===//
// Importance
//===----------------------------------------------------------------------===//

__device__ void pillarNorms(const PillarNormsArgs &p, bool int8) {
  const int64_t i = globalThread();
  if (i >= p.N)
    return;
  double sum = 0.0;
  for (int64_t c = 0; c < p.C; ++c) {
    double v =
        int8 ? double(static_cast<const int8_t *>(p.features)[i * p.ld + c] -
                      p.zeroPoint) *
                   p.scale
             : double(static_cast<const float *>(p.features)[i * p.ld + c]);
    sum = __dadd_rn(sum, __dmul_rn(v, v)); // not fused, as the evaluator
  }
  p.norms[i] = sqrt(sum);
}

__device__ void pillarSelectByThreshold(const RulebookArgs &p) {
  const int64_t i = globalThread();
  if (i < p.N)
    p.important[i] = p.importance[i] >= p.threshold; // false for NaN
}

/// Ascending keys for descending importance (NaN as −∞, −0 as +0).
__device__ __forceinline__ unsigned long long rankKey(double importance) {
  if (importance != importance)
    importance = -INFINITY;
  if (importance == 0.0)
    importance = 0.0;
  unsigned long long bits = __double_as_longlong(importance);
  unsigned long long ascending =
      bits >> 63 ? ~bits : bits | 0x8000000000000000ull;
  return ~ascending;
}

/// Prefix sum across the CTA (blockDim.x a multiple of 32, at most 1024);
/// returns the exclusive sum and sets `total`.
__device__ int64_t blockExclusiveSum(int64_t value, int64_t &total) {
  __shared__ int64_t warpSums[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const int warps = blockDim.x / 32;
  int64_t inclusive = value;
#pragma unroll
  for (int d = 1; d < 32; d *= 2) {
    int64_t up = __shfl_up_sync(0xffffffffu, inclusive, d);
    if (lane >= d)
      inclusive += up;
  }
  __syncthreads(); // warpSums of a previous call are read
  if (lane == 31)
    warpSums[warp] = inclusive;
  __syncthreads();
  int64_t before = 0;
  total = 0;
  for (int w = 0; w < warps; ++w) {
    if (w < warp)
      before += warpSums[w];
    total += warpSums[w];
  }
  return before + inclusive - value;
}

/// One CTA: the topk pillars of highest importance, ties to the lower
/// index. A radix select finds the topk-th key byte by byte; the ties at
/// that key are then taken in index order.
__device__ void pillarSelectTopk(const RulebookArgs &p) {
  __shared__ unsigned int histogram[256];
  __shared__ unsigned long long prefix, prefixMask;
  __shared__ long long wanted; // among the keys under prefix
  if (threadIdx.x == 0) {
    prefix = prefixMask = 0;
    wanted = p.topk;
  }
  for (int shift = 56; shift >= 0; shift -= 8) {
    for (int b = threadIdx.x; b < 256; b += blockDim.x)
      histogram[b] = 0;
    __syncthreads();
    for (int64_t i = threadIdx.x; i < p.N; i += blockDim.x) {
      unsigned long long key = rankKey(p.importance[i]);
      if ((key & prefixMask) == prefix)
        atomicAdd(&histogram[(key >> shift) & 255], 1u);
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      long long below = 0;
      int b = 0;
      while (below + histogram[b] < wanted)
        below += histogram[b++];
      wanted -= below;
      prefix |= (unsigned long long)b << shift;
      prefixMask |= 255ull << shift;
    }
    __syncthreads();
  }
  // prefix is the topk-th smallest key; take all smaller keys and the
  // first `wanted` pillars holding it.
  long long tiesBefore = 0;
  for (int64_t base = 0; base < p.N; base += blockDim.x) {
    const int64_t i = base + threadIdx.x;
    unsigned long long key = i < p.N ? rankKey(p.importance[i]) : ~0ull;
    const bool tie = i < p.N && key == prefix;
    int64_t tiesInChunk;
    const int64_t rank = tiesBefore + blockExclusiveSum(tie, tiesInChunk);
    if (i < p.N)
      p.important[i] = key < prefix || (tie && rank < wanted);
    tiesBefore += tiesInChunk;
  }
}

//===----------------------------------------------------------------------===//
// Candidates and strided outputs: selection and compaction
//===----------------------------------------------------------------------===//

/// Candidate ordinals: pillars 0..N−1, then N + i · taps + t for tap t of
/// pillar i's neighbourhood (raster order), the CPU's insertion order.
struct DilatedCandidates {
  __device__ static int64_t count(const RulebookArgs &p) {
    return p.N * (1 + p.taps);
  }
  /// The site of ordinal o, or false when it is not a candidate at all.
  __device__ static bool site(const RulebookArgs &p, int64_t o, int32_t *out) {
    if (o < p.N) {
      const int32_t *c = p.coords + 3 * o;
      out[0] = c[0], out[1] = c[1], out[2] = c[2];
      return true;
    }
    const int64_t i = (o - p.N) / p.taps, t = (o - p.N) % p.taps;
    if (!p.important[i] || !validPillar(p, i))
      return false;
    const int32_t *c = p.coords + 3 * i, radius = p.kernel / 2;
    const int64_t y = c[1] + t / p.kernel - radius,
                  x = c[2] + t % p.kernel - radius;
    if (!inGrid(y, x, p.height, p.width))
      return false;
    out[0] = c[0], out[1] = int32_t(y), out[2] = int32_t(x);
    return true;
  }
  __device__ static bool keep(const RulebookArgs &p, int64_t o) {
    int32_t s[3];
    if (!site(p, o, s))
      return false;
    return o < p.N || siteFind(p.candidates, siteKey(s[0], s[1], s[2], p.height,
                                                     p.width)) == o;
  }
  __device__ static void write(const RulebookArgs &p, int64_t o, int64_t at) {
    int32_t s[3];
    site(p, o, s);
    int32_t *to = p.candidateCoords + 3 * at;
    to[0] = s[0], to[1] = s[1], to[2] = s[2];
  }
  __device__ static void setTotal(const RulebookArgs &p, int64_t total) {
    p.status->candidates = total;
    if (p.stride == 1)
      p.status->outputs = total;
  }
};

/// Stride 2: candidate j at (b, y/2, x/2), first occurrences.
struct HalvedOutputs {
  __device__ static int64_t count(const RulebookArgs &p) {
    return p.status->candidates;
  }
  __device__ static unsigned long long key(const RulebookArgs &p, int64_t j) {
    const int32_t *c = p.candidateCoords + 3 * j;
    return siteKey(c[0], c[1] / 2, c[2] / 2, p.outHeight, p.outWidth);
  }
  __device__ static bool keep(const RulebookArgs &p, int64_t j) {
    return siteFind(p.outputs, key(p, j)) == j;
  }
  __device__ static void write(const RulebookArgs &p, int64_t j, int64_t at) {
    const int32_t *c = p.candidateCoords + 3 * j;
    int32_t *to = p.outCoords + 3 * at;
    to[0] = c[0], to[1] = c[1] / 2, to[2] = c[2] / 2;
  }
  __device__ static void setTotal(const RulebookArgs &p, int64_t total) {
    p.status->outputs = total;
  }
};

__device__ void pillarInsertDilated(const RulebookArgs &p) {
  const int64_t o = p.N + globalThread();
  int32_t s[3];
  if (o < DilatedCandidates::count(p) && DilatedCandidates::site(p, o, s))
    siteInsert(p.candidates, siteKey(s[0], s[1], s[2], p.height, p.width),
               int32_t(o));
}

__device__ void pillarInsertHalved(const RulebookArgs &p) {
  const int64_t j = globalThread();
  if (j < HalvedOutputs::count(p))
    siteInsert(p.outputs, HalvedOutputs::key(p, j), int32_t(j));
}

/// Kept ordinals of this thread's kCompactPerThread consecutive ones.
template <class Selection>
__device__ int64_t keptOrdinals(const RulebookArgs &p, int64_t first,
                                bool *kept) {
  const int64_t count = Selection::count(p);
  int64_t n = 0;
#pragma unroll
  for (int e = 0; e < kCompactPerThread; ++e) {
    kept[e] = first + e < count && Selection::keep(p, first + e);
    n += kept[e];
  }
  return n;
}

/// Compaction, pass 1: kept ordinals a CTA.
template <class Selection> __device__ void compactCount(const RulebookArgs &p) {
  bool kept[kCompactPerThread];
  const int64_t first = globalThread() * kCompactPerThread;
  int64_t total;
  blockExclusiveSum(keptOrdinals<Selection>(p, first, kept), total);
  if (threadIdx.x == 0)
    p.blockCounts[blockIdx.x] = int32_t(total);
}

/// Pass 2, one CTA: the CTA counts become offsets; the total is recorded.
template <class Selection> __device__ void compactScan(const RulebookArgs &p) {
  int64_t carried = 0;
  for (int64_t base = 0; base < p.blocks; base += blockDim.x) {
    const int64_t b = base + threadIdx.x;
    const int64_t count = b < p.blocks ? p.blockCounts[b] : 0;
    int64_t chunk;
    const int64_t offset = carried + blockExclusiveSum(count, chunk);
    if (b < p.blocks)
      p.blockCounts[b] = int32_t(offset);
    carried += chunk;
  }
  if (threadIdx.x == 0)
    Selection::setTotal(p, carried);
}

/// Pass 3: each kept ordinal to its rank.
template <class Selection> __device__ void compactWrite(const RulebookArgs &p) {
  bool kept[kCompactPerThread];
  const int64_t first = globalThread() * kCompactPerThread;
  int64_t total;
  int64_t at =
      p.blockCounts[blockIdx.x] +
      blockExclusiveSum(keptOrdinals<Selection>(p, first, kept), total);
#pragma unroll
  for (int e = 0; e < kCompactPerThread; ++e)
    if (kept[e])
      Selection::write(p, first + e, at++);
}

//===----------------------------------------------------------------------===//
// Neighbour map and result
//===----------------------------------------------------------------------===//

/// Without dilation the candidates are the pillars.
__device__ void pillarCopySites(const RulebookArgs &p) {
  const int64_t i = globalThread();
  if (i < 3 * p.N)
    p.candidateCoords[i] = p.coords[i];
  if (i == 0)
    p.status->outputs = p.status->candidates = p.N;
}

/// The input row under tap t of output site `site`, or −1.
__device__ int32_t neighbour(const RulebookArgs &p, const int32_t *site,
                             int64_t t) {
  const int64_t radius = p.kernel / 2;
  const int64_t y = int64_t(p.stride) * site[1] + t / p.kernel - radius;
  const int64_t x = int64_t(p.stride) * site[2] + t % p.kernel - radius;
  return inGrid(y, x, p.height, p.width)
             ? siteFind(p.inputs, siteKey(site[0], y, x, p.height, p.width))
             : -1;
}

/// neighbours[m][t] for m < M; the grid covers the capacity.
__device__ void pillarNeighbours(const RulebookArgs &p) {
  const int64_t id = globalThread(), m = id / p.taps;
  if (m < p.status->outputs)
    p.neighbours[id] = neighbour(p, p.outCoords + 3 * m, id % p.taps);
}

/// Stride 1 without dilation, the common case, after the inputs are in
/// their table: the output sites are the pillars, so one thread a (pillar,
/// tap) checks, copies and maps in a single pass.
__device__ void pillarSubmanifold(const RulebookArgs &p) {
  const int64_t id = globalThread(), i = id / p.taps, t = id % p.taps;
  if (i >= p.N)
    return;
  if (t == 0)
    checkDuplicate(p, i);
  for (int64_t c = t; c < 3; c += p.taps)
    p.outCoords[3 * i + c] = p.coords[3 * i + c];
  p.neighbours[id] = neighbour(p, p.coords + 3 * i, t);
  if (id == 0)
    p.status->outputs = p.status->candidates = p.N;
}

/// The caller's counts, {M, QR_PILLAR_OK} or {0, the failure}, and the
/// host's report.
__device__ void pillarFinish(const RulebookArgs &p) {
  const RulebookStatus &s = *p.status;
  const bool outside = s.outOfGrid != ~0ull;
  const int64_t failure = outside                ? 2 // QR_PILLAR_OUT_OF_GRID
                          : s.duplicate != ~0ull ? 3 // QR_PILLAR_DUPLICATE
                                                 : 0;
  p.counts[0] = failure ? 0 : s.outputs;
  p.counts[1] = failure;
  RulebookReport &r = *p.report;
  r.outOfGrid = s.outOfGrid;
  r.duplicate = s.duplicate;
  const int64_t pillar = !failure  ? 0
                         : outside ? int64_t(s.outOfGrid)
                                   : int64_t(s.duplicate >> 32);
  for (int c = 0; c < 3; ++c)
    r.coords[c] = failure ? p.coords[3 * pillar + c] : 0;
}

//===----------------------------------------------------------------------===//
// Convolution pieces around the GEMMs
//===----------------------------------------------------------------------===//

/// gathered[m][t · C + c] = features[neighbours[m][t]][c], or the fill.
template <class T> __device__ void pillarGather(const PillarGatherArgs &p) {
  const int64_t id = globalThread(), width = p.taps * p.C;
  if (id >= p.M * width)
    return;
  const int64_t m = id / width, k = id % width, t = k / p.C;
  const int32_t row = p.neighbours[m * p.taps + t];
  static_cast<T *>(p.gathered)[id] =
      row >= 0 ? static_cast<const T *>(p.features)[row * p.C + (k - t * p.C)]
               : T(p.fill);
}

/// out = bias + gathered rows × W in f32 FFMA, for C_in % 16 == 0,
/// C_out % 4 == 0 and 16-byte aligned operands. A 16-wide k step lies in
/// one tap, so a row's neighbour is looked up once a step and its channels
/// load as float4; the next step's tiles load into registers while this
/// one's are multiplied (two shared buffers, one barrier a step).
/// Grid: (ceil(C_out / 64), ceil(M / 64)).
__device__ void pillarConvF32Tiled(const GemmF32Args &p) {
  __shared__ __align__(16) float As[2][kPillarTileK][kPillarTile];
  __shared__ __align__(16) float Bs[2][kPillarTileK][kPillarTile];
  const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
  const int64_t m0 = int64_t(blockIdx.y) * kPillarTile;
  const int64_t n0 = int64_t(blockIdx.x) * kPillarTile;
  const int64_t channels = p.K / p.taps;

  // Loads: A as 2 float4 a thread (row r, channels q..q+3), B as 2.
  float4 a[2], b[2];
  auto load = [&](int64_t k0) {
    const int64_t tap = k0 / channels, c0 = k0 - tap * channels;
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      const int e = tid + j * kPillarConvThreads, r = e / 4, q = (e % 4) * 4;
      const int64_t m = m0 + r;
      const int32_t row = m < p.M ? p.gather[m * p.taps + tap] : -1;
      a[j] = row >= 0
                 ? *reinterpret_cast<const float4 *>(p.A + row * p.lda + c0 + q)
                 : make_float4(0, 0, 0, 0);
      const int k = e / 16, n = (e % 16) * 4;
      b[j] = n0 + n < p.N ? *reinterpret_cast<const float4 *>(
                                p.B + (k0 + k) * p.ldb + n0 + n)
                          : make_float4(0, 0, 0, 0);
    }
  };
  auto store = [&](int buffer) {
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      const int e = tid + j * kPillarConvThreads, r = e / 4, q = (e % 4) * 4;
      As[buffer][q + 0][r] = a[j].x;
      As[buffer][q + 1][r] = a[j].y;
      As[buffer][q + 2][r] = a[j].z;
      As[buffer][q + 3][r] = a[j].w;
      *reinterpret_cast<float4 *>(&Bs[buffer][e / 16][(e % 16) * 4]) = b[j];
    }
  };

  float acc[8][4] = {};
  load(0);
  store(0);
  __syncthreads();
  const int64_t steps = p.K / kPillarTileK;
  for (int64_t s = 0; s < steps; ++s) {
    const int buffer = int(s & 1);
    if (s + 1 < steps)
      load((s + 1) * kPillarTileK);
#pragma unroll
    for (int k = 0; k < kPillarTileK; ++k) {
      const float4 a0 =
          *reinterpret_cast<const float4 *>(&As[buffer][k][ty * 8]);
      const float4 a1 =
          *reinterpret_cast<const float4 *>(&As[buffer][k][ty * 8 + 4]);
      const float4 bv =
          *reinterpret_cast<const float4 *>(&Bs[buffer][k][tx * 4]);
      const float av[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float bw[4] = {bv.x, bv.y, bv.z, bv.w};
#pragma unroll
      for (int i = 0; i < 8; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
          acc[i][j] = fmaf(av[i], bw[j], acc[i][j]);
    }
    if (s + 1 < steps)
      store(buffer ^ 1);
    __syncthreads();
  }

  const int64_t n = n0 + tx * 4;
  if (n >= p.N)
    return;
  const float4 bias = p.bias ? *reinterpret_cast<const float4 *>(p.bias + n)
                             : make_float4(0, 0, 0, 0);
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int64_t m = m0 + ty * 8 + i;
    if (m < p.M)
      __stcg(reinterpret_cast<float4 *>(p.C + m * p.ldc + n),
             make_float4(acc[i][0] + bias.x, acc[i][1] + bias.y,
                         acc[i][2] + bias.z, acc[i][3] + bias.w));
  }
}

__device__ void addBias(const BiasArgs &p) {
  const int64_t id = globalThread();
  if (id < p.M * p.N)
    p.C[id] += p.bias[id % p.N];
}

} // namespace qr::gpu
