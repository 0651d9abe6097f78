/*===- MatmulF32.c - float GEMM and weight-only quantized matmul ----------===*
 *
 * One BLIS-style driver for both entry points. B is copied block by block
 * (GEMM_KC × GEMM_NC, kept in L2) into panels of GEMM_NR columns; for
 * qr_uk_matmul_f32 that copy is where the packed codes are dequantized, so
 * the weights are expanded one cache-sized block at a time and reused by
 * every row of the task. A is copied GEMM_MC rows at a time into k-major
 * micro-panels of GEMM_MR rows for the broadcasts. The register tile
 * walks the A micro-panels (from L2) under one B panel (in L1).
 *
 * Tasks are (batch, GEMM_NC columns, GEMM_MC rows), column-major so that
 * consecutive tasks of a thread share one packed B block.
 *
 *===----------------------------------------------------------------------===*/

#include "UKernelsInternal.h"

#include "quant/Runtime/Runtime.h"

#include <math.h>

#if UK_AVX512
/* 14 × 2 accumulators + 2 B vectors fill the 32 zmm registers; the A
 * values are broadcast from memory operands. */
#define GEMM_MR 14
#define GEMM_NR 32
#else
#define GEMM_MR 4
#define GEMM_NR 16
#endif
/* A B panel (GEMM_KC × GEMM_NR, 24 KiB) stays in L1, the B block
 * (GEMM_KC × GEMM_NC, 384 KiB) and the A block (GEMM_MC × GEMM_KC) in L2. */
#define GEMM_KC 192
#define GEMM_NC 512
#define GEMM_MC (GEMM_MR * 8)

_Static_assert(GEMM_NC % GEMM_NR == 0 && GEMM_NR % UK_PANEL_COLS == 0,
               "B panels are whole blob panels");

typedef enum BSource { B_ROW_MAJOR, B_TRANSPOSED, B_PACKED_WEIGHTS } BSource;

typedef struct FloatGemm {
  int64_t M, N, K;
  const float *A;
  int64_t lda, stride_a;
  BSource b_source;
  const float *B;
  int64_t ldb, stride_b;
  UkWeights weights;
  float *C;
  int64_t ldc, stride_c;
  /* A row-major B is read in place when few rows would reuse a copy. */
  bool pack_b;
  int64_t row_tasks, col_tasks;
} FloatGemm;

/*===----------------------------------------------------------------------===*
 * Dequantization of packed weights into B panels.
 *===----------------------------------------------------------------------===*/

#if UK_AVX512

/* A vpdpbusd-ordered quad (byte 4·c + j: column c, k offset j) reordered
 * so that 128-bit lane j holds the 16 columns of k offset j: an in-lane
 * byte shuffle and a dword permutation. */
UK_INLINE __m512i quad_by_k(__m512i codes) {
  const __m512i column_to_k_bytes = _mm512_broadcast_i32x4(_mm_setr_epi8(
      0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
  const __m512i column_to_k_dwords = _mm512_setr_epi32(
      0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  return _mm512_permutexvar_epi32(
      column_to_k_dwords, _mm512_shuffle_epi8(codes, column_to_k_bytes));
}

/* Rows k = 0..15 of block `kb` of a blob panel as floats (u − z) · s. */
UK_INLINE void dequantize_block(const UkWeights *w, const uint8_t *panel,
                                int64_t kb, __m512i zero_points,
                                __m512 scales, const int BITS,
                                float out[UK_K_BLOCK][UK_PANEL_COLS]) {
  const uint8_t *plane = panel + kb * uk_block_plane_bytes(w->plane_bits);
  const uint8_t *high_bits = panel + uk_high_bits_offset(w) + kb * 32;
  UK_UNROLL
  for (int quad = 0; quad < UK_K_BLOCK / 4; ++quad) {
    __m512i by_k = quad_by_k(uk_quad_codes(BITS, plane, high_bits, quad));
#define UK_DEQUANTIZE_ROW(J)                                                   \
  _mm512_storeu_ps(                                                            \
      out[4 * quad + (J)],                                                     \
      _mm512_mul_ps(                                                           \
          _mm512_cvtepi32_ps(_mm512_sub_epi32(                                 \
              _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(by_k, (J))),      \
              zero_points)),                                                   \
          scales))
    UK_DEQUANTIZE_ROW(0);
    UK_DEQUANTIZE_ROW(1);
    UK_DEQUANTIZE_ROW(2);
    UK_DEQUANTIZE_ROW(3);
#undef UK_DEQUANTIZE_ROW
  }
}

static void dequantize_group_block(const UkWeights *w, int64_t panel_index,
                                   const uint8_t *panel, int64_t kb,
                                   int64_t group,
                                   float out[UK_K_BLOCK][UK_PANEL_COLS]) {
  const UkGroupParams *params = uk_group_params(w, panel_index, group);
  __m512i zero_points = _mm512_loadu_si512(params->zero_points);
  __m512 scales = _mm512_loadu_ps(params->scales);
  switch (w->bits) {
  case 2:
    dequantize_block(w, panel, kb, zero_points, scales, 2, out);
    return;
  case 3:
    dequantize_block(w, panel, kb, zero_points, scales, 3, out);
    return;
  case 4:
    dequantize_block(w, panel, kb, zero_points, scales, 4, out);
    return;
  default:
    dequantize_block(w, panel, kb, zero_points, scales, 8, out);
    return;
  }
}

#else

static void dequantize_group_block(const UkWeights *w, int64_t panel_index,
                                   const uint8_t *panel, int64_t kb,
                                   int64_t group,
                                   float out[UK_K_BLOCK][UK_PANEL_COLS]) {
  uint8_t codes[UK_K_BLOCK][UK_PANEL_COLS];
  uk_decode_block(w, panel, kb, codes);
  const UkGroupParams *params = uk_group_params(w, panel_index, group);
  for (int k = 0; k < UK_K_BLOCK; ++k)
    for (int c = 0; c < UK_PANEL_COLS; ++c)
      out[k][c] =
          (float)(codes[k][c] - params->zero_points[c]) * params->scales[c];
}

#endif

/* Columns [col, col + 16) of the weights for caller rows [k0, k0 + kc),
 * written with row stride GEMM_NR. Groups are padded inside the blob, so a
 * run of caller rows stops at the end of its group or of its k-block. */
static void dequantize_panel(const UkWeights *w, int64_t k0, int64_t kc,
                             int64_t col, float *dst) {
  const int64_t panel_index = col / UK_PANEL_COLS;
  const uint8_t *panel = w->codes + panel_index * w->panel_bytes;
  float rows[UK_K_BLOCK][UK_PANEL_COLS];
  for (int64_t k = k0; k < k0 + kc;) {
    int64_t group = k / w->group_size, offset = k % w->group_size;
    int64_t padded_row = group * w->padded_group_size + offset;
    int64_t first = padded_row % UK_K_BLOCK;
    int64_t run = uk_min(uk_min(UK_K_BLOCK - first, w->group_size - offset),
                         k0 + kc - k);
    dequantize_group_block(w, panel_index, panel, padded_row / UK_K_BLOCK,
                           group, rows);
    for (int64_t i = 0; i < run; ++i)
      memcpy(dst + (k - k0 + i) * GEMM_NR, rows[first + i], sizeof(rows[0]));
    k += run;
  }
}

/*===----------------------------------------------------------------------===*
 * Packing.
 *===----------------------------------------------------------------------===*/

/* B[k0 .. k0+kc][n0 .. n0+nc] as ceil(nc / GEMM_NR) panels [kc][GEMM_NR],
 * zero beyond nc. */
static void pack_b_block(const FloatGemm *g, const float *B, int64_t k0,
                         int64_t kc, int64_t n0, int64_t nc, float *dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += GEMM_NR) {
    float *panel = dst + j0 * kc;
    int64_t cols = uk_min(GEMM_NR, nc - j0);
    if (cols < GEMM_NR)
      memset(panel, 0, (size_t)(kc * GEMM_NR) * sizeof(float));
    switch (g->b_source) {
    case B_ROW_MAJOR:
      for (int64_t k = 0; k < kc; ++k)
        memcpy(panel + k * GEMM_NR, B + (k0 + k) * g->ldb + n0 + j0,
               (size_t)cols * sizeof(float));
      break;
    case B_TRANSPOSED:
      for (int64_t j = 0; j < cols; ++j) {
        const float *column = B + (n0 + j0 + j) * g->ldb + k0;
        for (int64_t k = 0; k < kc; ++k)
          panel[k * GEMM_NR + j] = column[k];
      }
      break;
    case B_PACKED_WEIGHTS:
      for (int64_t c = 0; c < cols; c += UK_PANEL_COLS)
        dequantize_panel(&g->weights, k0, kc, n0 + j0 + c, panel + c);
      break;
    }
  }
}

/* Rows [i0, i0 + rows) × [k0, k0 + kc) of A as ceil(rows / GEMM_MR)
 * micro-panels [kc][GEMM_MR], zero rows beyond `rows`. */
static void pack_a_block(const float *A, int64_t lda, int64_t i0,
                         int64_t rows, int64_t k0, int64_t kc, float *dst) {
  for (int64_t p0 = 0; p0 < rows; p0 += GEMM_MR) {
    float *panel = dst + p0 * kc;
    int64_t panel_rows = uk_min(GEMM_MR, rows - p0);
    if (panel_rows < GEMM_MR)
      memset(panel, 0, (size_t)(kc * GEMM_MR) * sizeof(float));
    for (int64_t r = 0; r < panel_rows; ++r) {
      const float *src = A + (i0 + p0 + r) * lda + k0;
      for (int64_t k = 0; k < kc; ++k)
        panel[k * GEMM_MR + r] = src[k];
    }
  }
}

/*===----------------------------------------------------------------------===*
 * Micro-kernels: C[rows][cols] (+)= A panel · B panel over kc.
 *===----------------------------------------------------------------------===*/

#if UK_AVX512

/* ROWS and VECTORS (16-column halves of the panel) are constants at every
 * call site, so the accumulators are registers. */
UK_INLINE void gemm_tile(const int ROWS, const int VECTORS, int64_t kc,
                         const float *a, const float *b, int64_t ldb,
                         int64_t cols, float *c, int64_t ldc,
                         bool accumulate) {
  const __mmask16 masks[2] = {
      (__mmask16)((1u << uk_min(cols, 16)) - 1),
      (__mmask16)((1u << uk_max(cols - 16, 0)) - 1)};
  __m512 acc[GEMM_MR][2];
  UK_UNROLL
  for (int r = 0; r < ROWS; ++r)
    UK_UNROLL
    for (int v = 0; v < VECTORS; ++v)
      acc[r][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 bv[2];
    UK_UNROLL
    for (int v = 0; v < VECTORS; ++v)
      bv[v] = _mm512_maskz_loadu_ps(masks[v], b + k * ldb + 16 * v);
    UK_UNROLL
    for (int r = 0; r < ROWS; ++r) {
      __m512 av = _mm512_set1_ps(a[k * GEMM_MR + r]);
      UK_UNROLL
      for (int v = 0; v < VECTORS; ++v)
        acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
  UK_UNROLL
  for (int r = 0; r < ROWS; ++r)
    UK_UNROLL
    for (int v = 0; v < VECTORS; ++v) {
      float *dst = c + r * ldc + 16 * v;
      __m512 sum = acc[r][v];
      if (accumulate)
        sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(masks[v], dst));
      _mm512_mask_storeu_ps(dst, masks[v], sum);
    }
}

#define GEMM_CASE(ROWS)                                                        \
  case ROWS:                                                                   \
    if (cols > 16)                                                             \
      gemm_tile(ROWS, 2, kc, a, b, ldb, cols, c, ldc, accumulate);             \
    else                                                                       \
      gemm_tile(ROWS, 1, kc, a, b, ldb, cols, c, ldc, accumulate);             \
    return;

static void run_gemm_tile(int64_t rows, int64_t kc, const float *a,
                          const float *b, int64_t ldb, int64_t cols, float *c,
                          int64_t ldc, bool accumulate) {
  switch (rows) {
    GEMM_CASE(1) GEMM_CASE(2) GEMM_CASE(3) GEMM_CASE(4) GEMM_CASE(5)
    GEMM_CASE(6) GEMM_CASE(7) GEMM_CASE(8) GEMM_CASE(9) GEMM_CASE(10)
    GEMM_CASE(11) GEMM_CASE(12) GEMM_CASE(13) GEMM_CASE(14)
  default:
    __builtin_unreachable();
  }
}

#else

static void run_gemm_tile(int64_t rows, int64_t kc, const float *a,
                          const float *b, int64_t ldb, int64_t cols, float *c,
                          int64_t ldc, bool accumulate) {
  float acc[GEMM_MR][GEMM_NR] = {{0}};
  /* Rows past `rows` are zero in the A panel; the full-width loop has
   * constant bounds the compiler vectorises. */
  if (cols == GEMM_NR) {
    for (int64_t k = 0; k < kc; ++k)
      for (int r = 0; r < GEMM_MR; ++r)
        for (int j = 0; j < GEMM_NR; ++j)
          acc[r][j] += a[k * GEMM_MR + r] * b[k * ldb + j];
  } else {
    for (int64_t k = 0; k < kc; ++k)
      for (int r = 0; r < GEMM_MR; ++r)
        for (int64_t j = 0; j < cols; ++j)
          acc[r][j] += a[k * GEMM_MR + r] * b[k * ldb + j];
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j)
      c[r * ldc + j] = accumulate ? c[r * ldc + j] + acc[r][j] : acc[r][j];
}

#endif

/*===----------------------------------------------------------------------===*
 * Driver.
 *===----------------------------------------------------------------------===*/

static void gemm_task(void *context, int64_t begin, int64_t end) {
  const FloatGemm *g = (const FloatGemm *)context;
  float *b_block =
      g->pack_b ? (float *)uk_alloc(sizeof(float) * GEMM_KC * GEMM_NC) : NULL;
  float *a_block = (float *)uk_alloc(sizeof(float) * GEMM_MC * GEMM_KC);
  if (!a_block || (g->pack_b && !b_block)) {
    qr_report_kernel_error("gemm_f32: out of memory");
    free(b_block);
    free(a_block);
    return;
  }
  /* One (batch, column block) at a time, over this range's row tasks. */
  for (int64_t task = begin; task < end;) {
    int64_t column_task = task / g->row_tasks;
    int64_t row_end = uk_min(end, (column_task + 1) * g->row_tasks);
    int64_t batch = column_task / g->col_tasks;
    int64_t n0 = column_task % g->col_tasks * GEMM_NC;
    int64_t nc = uk_min(GEMM_NC, g->N - n0);
    int64_t m_begin = (task - column_task * g->row_tasks) * GEMM_MC;
    int64_t m_end =
        uk_min(g->M, (row_end - column_task * g->row_tasks) * GEMM_MC);
    const float *A = g->A + batch * g->stride_a;
    const float *B = g->B ? g->B + batch * g->stride_b : NULL;
    float *C = g->C + batch * g->stride_c;
    for (int64_t k0 = 0; k0 < g->K; k0 += GEMM_KC) {
      int64_t kc = uk_min(GEMM_KC, g->K - k0);
      if (g->pack_b)
        pack_b_block(g, B, k0, kc, n0, nc, b_block);
      for (int64_t i0 = m_begin; i0 < m_end; i0 += GEMM_MC) {
        int64_t mc = uk_min(GEMM_MC, m_end - i0);
        pack_a_block(A, g->lda, i0, mc, k0, kc, a_block);
        for (int64_t j0 = 0; j0 < nc; j0 += GEMM_NR) {
          const float *b_panel =
              g->pack_b ? b_block + j0 * kc : B + k0 * g->ldb + n0 + j0;
          for (int64_t p0 = 0; p0 < mc; p0 += GEMM_MR)
            run_gemm_tile(uk_min(GEMM_MR, mc - p0), kc, a_block + p0 * kc,
                          b_panel, g->pack_b ? GEMM_NR : g->ldb,
                          uk_min(GEMM_NR, nc - j0),
                          C + (i0 + p0) * g->ldc + n0 + j0, g->ldc, k0 > 0);
        }
      }
    }
    task = row_end;
  }
  free(b_block);
  free(a_block);
}

static void run_gemm(FloatGemm *g, int64_t batch) {
  g->row_tasks = uk_ceil_div(g->M, GEMM_MC);
  g->col_tasks = uk_ceil_div(g->N, GEMM_NC);
  qr_parallel_for(batch * g->col_tasks * g->row_tasks, 1, gemm_task, g);
}

void qr_uk_gemm_f32(int64_t batch, int64_t M, int64_t N, int64_t K,
                    const float *A, int64_t lda, int64_t stride_a,
                    const float *B, int64_t ldb, int64_t stride_b,
                    int32_t transpose_b, float *C, int64_t ldc,
                    int64_t stride_c) {
  FloatGemm g = {
      .M = M,
      .N = N,
      .K = K,
      .A = A,
      .lda = lda,
      .stride_a = stride_a,
      .b_source = transpose_b ? B_TRANSPOSED : B_ROW_MAJOR,
      .B = B,
      .ldb = ldb,
      .stride_b = stride_b,
      .C = C,
      .ldc = ldc,
      .stride_c = stride_c,
      .pack_b = transpose_b || M > 2 * GEMM_MR,
  };
  run_gemm(&g, batch);
}

/*===----------------------------------------------------------------------===*
 * Weight-only matmul of a few rows (decoding).
 *===----------------------------------------------------------------------===*/

/* Rows up to which the limbs beat dequantizing into the f32 GEMM. W4A16
 * g128 on one Zen 4 thread, 4096² (f32 GEMM against limbs, ms): M = 8
 * 4.80 / 2.97, 16 7.64 / 5.58, 64 24.2 / 22.0, 128 45.2 / 43.9; M = 16 at
 * 11008² 54.8 / 39.3. The portable variant's limbs lose from M = 8 on
 * (30.7 / 32.6, and 51.4 / 66.4 at M = 16). */
#if UK_AVX512
#define LIMB_MAX_ROWS 64
#else
#define LIMB_MAX_ROWS 4
#endif

/* On the integer kernel: each float row a is split into int8 rows q_l,
 *
 *   a = Σ_l u_l · q_l + r,   u_l = s · 254^(−l),   s = max|a| / 127,
 *
 * q_0 taking |a| ≤ 127·s and each later limb the remainder before it,
 * |r| ≤ u_(l−1) / 2 = 127·u_l, so that after L limbs |r| ≤ u_(L−1) / 2:
 * 2^−24·max|a| for three, 2^−32·max|a| for four. qr_uk_matmul_s8 takes
 * them as rows of scale u_l, its sums exact in int32. An output's error is
 * then at most Σ_k |r_k|·|w_k| ≤ |r|max · Σ|w|, which against mean|a|·Σ|w|
 * (Σ|a|·|w| for weights independent of the activations) is
 *
 * - 2^−24·max|a|/mean|a| ≤ 2^−24·LIMB_SPREAD_MAX ≈ 3.8e-6 for the rows
 *   whose largest |a| is at most LIMB_SPREAD_MAX times their mean, which
 *   take three limbs;
 * - 2^−32·max|a|/mean|a| ≤ 2^−32·K (2.6e-6 at K = 11008) for the others
 *   (massive activations: LLM tokens with a value 1000 times the rest),
 *   which take four.
 *
 * One vpdpbusd multiplies 64 codes by four k of a limb (one pmaddwd, in the
 * portable variant, two codes by four k), so the limbs cost less than
 * converting each code to float (measured on an AVX-512 VNNI Xeon and, for
 * the portable variant, on an AVX2 VM: bench/RESULTS.md), and three limbs
 * cost less than four (one Zen 4 thread, M = 1, W4A16 g128, two runs each:
 * 4096² 0.342–0.386 → 0.289–0.297 ms, 11008² 3.23–3.31 → 2.73–2.90 ms).
 * Rows holding Inf or NaN give NaN. */
#define MAX_LIMBS 4
#define LIMB_SPREAD_MAX 64

/* max |a[k]| over k < K, Σ|a[k]|, and whether every a[k] is finite. */
static float magnitudes(const float *a, int64_t K, double *sum, bool *finite) {
  float largest = 0.0f;
  double total = 0.0;
  bool all_finite = true;
  int64_t k = 0;
#if UK_AVX512
  __m512 largest16 = _mm512_setzero_ps(), total16 = _mm512_setzero_ps();
  __mmask16 not_finite = 0;
  for (; k + 16 <= K; k += 16) {
    const __m512 x = _mm512_loadu_ps(a + k);
    /* QNaN, +Inf, −Inf, SNaN. */
    not_finite |= _mm512_fpclass_ps_mask(x, 0x99);
    largest16 = _mm512_max_ps(largest16, _mm512_abs_ps(x));
    total16 = _mm512_add_ps(total16, _mm512_abs_ps(x));
  }
  largest = _mm512_reduce_max_ps(largest16);
  total = (double)_mm512_reduce_add_ps(total16);
  all_finite = not_finite == 0;
#endif
  for (; k < K; ++k) {
    all_finite = all_finite && isfinite(a[k]);
    largest = fmaxf(largest, fabsf(a[k]));
    total += fabsf(a[k]);
  }
  *sum = total;
  *finite = all_finite;
  return largest;
}

/* Splits a[k < K], all finite, into the int8 rows limbs[l·K + k], l <
 * `count`, of units units[l] (floats): q_l = round(rest / units[l]) within
 * ±127, then rest −= q_l · units[l], in double, where the product (32
 * significant bits) and so the remainder are exact. The AVX-512 variant
 * takes eight k at a time, with the same limbs (one Zen 4 thread, M = 1 and
 * N = 16, where the split dominates, four limbs: K = 4096 13.0 → 8.7 µs a
 * call, 11008 34.6 → 22.8). */
static void split_into_limbs(const float *a, int64_t K, const float *units,
                             int count, int8_t *limbs) {
  int64_t k = 0;
#if UK_AVX512
  for (; k + 8 <= K; k += 8) {
    __m512d rest = _mm512_cvtps_pd(_mm256_loadu_ps(a + k));
    for (int l = 0; l < count; ++l) {
      const __m512d unit = _mm512_set1_pd((double)units[l]);
      __m512d q =
          _mm512_roundscale_pd(_mm512_div_pd(rest, unit),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      q = _mm512_min_pd(_mm512_max_pd(q, _mm512_set1_pd(-127.0)),
                        _mm512_set1_pd(127.0));
      _mm_storel_epi64((__m128i *)(limbs + l * K + k),
                       _mm256_cvtepi32_epi8(_mm512_cvtpd_epi32(q)));
      rest = _mm512_fnmadd_pd(q, unit, rest);
    }
  }
#endif
  for (; k < K; ++k) {
    double rest = (double)a[k];
    for (int l = 0; l < count; ++l) {
      const double unit = (double)units[l];
      const double q = fmin(fmax(nearbyint(rest / unit), -127.0), 127.0);
      limbs[l * K + k] = (int8_t)q;
      rest -= q * unit;
    }
  }
}

static void matmul_f32_by_limbs(int64_t M, const float *A, int64_t lda,
                                const void *packed, float *C, int64_t ldc) {
  /* 254^−l. */
  static const float limb_weights[MAX_LIMBS] = {
      1.0f, (float)(1.0 / 254), (float)(1.0 / 64516), (float)(1.0 / 16387064)};
  const UkWeights w = uk_weights_view(packed);
  int8_t *limbs = (int8_t *)uk_alloc((size_t)(M * MAX_LIMBS * w.K));
  float *scales = (float *)uk_alloc((size_t)(M * MAX_LIMBS) * sizeof(float));
  float *partial =
      (float *)uk_alloc((size_t)(M * MAX_LIMBS * w.N) * sizeof(float));
  /* Row m's limbs are rows [first[m], first[m + 1]) of the integer call. */
  int64_t first[LIMB_MAX_ROWS + 1] = {0};
  bool finite[LIMB_MAX_ROWS];
  if (!limbs || !scales || !partial) {
    qr_report_kernel_error("matmul_f32: out of memory");
    goto done;
  }
  for (int64_t m = 0; m < M; ++m) {
    const float *a = A + m * lda;
    double sum;
    const float largest = magnitudes(a, w.K, &sum, &finite[m]);
    const int count =
        largest <= LIMB_SPREAD_MAX * (sum / (double)w.K) ? 3 : MAX_LIMBS;
    const float scale = largest > 0.0f && finite[m] ? largest / 127.0f : 1.0f;
    first[m + 1] = first[m] + count;
    for (int l = 0; l < count; ++l)
      scales[first[m] + l] = scale * limb_weights[l];
    int8_t *row_limbs = limbs + first[m] * w.K;
    if (finite[m])
      split_into_limbs(a, w.K, scales + first[m], count, row_limbs);
    else
      memset(row_limbs, 0, (size_t)(count * w.K));
  }
  qr_uk_matmul_s8(first[M], w.N, w.K, limbs, w.K, scales, 0.0f, 0, packed,
                  partial, w.N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < w.N; ++n) {
      /* Smallest limb first. */
      float sum = 0.0f;
      for (int64_t row = first[m + 1] - 1; row >= first[m]; --row)
        sum += partial[row * w.N + n];
      C[m * ldc + n] = finite[m] ? sum : NAN;
    }
done:
  free(limbs);
  free(scales);
  free(partial);
}

void qr_uk_matmul_f32(int64_t M, int64_t N, int64_t K, const float *A,
                      int64_t lda, const void *packed, float *C,
                      int64_t ldc) {
  (void)N;
  (void)K; /* the blob's sizes are authoritative */
  UkWeights w = uk_weights_view(packed);
  if (M <= LIMB_MAX_ROWS) {
    matmul_f32_by_limbs(M, A, lda, packed, C, ldc);
    return;
  }
  FloatGemm g = {
      .M = M,
      .N = w.N,
      .K = w.K,
      .A = A,
      .lda = lda,
      .b_source = B_PACKED_WEIGHTS,
      .weights = w,
      .C = C,
      .ldc = ldc,
      .pack_b = true,
  };
  run_gemm(&g, 1);
}
