/*===- Hadamard.c - in-place fast Walsh–Hadamard transform ----------------===*
 *
 * x ← (x ∘ signs) · (H_{2^k} ⊗ H_b) / sqrt(n) per row, in the order of
 * quant::fastHadamardTransform (signs, then the b×b base product of every
 * block of b elements, then the Sylvester butterflies from the smallest
 * stride up, then the normalisation), so that both give the same floats.
 *
 * The butterfly stage of stride h pairs element i with i + h·b. The
 * AVX-512 variant does, for b == 1, the strides below 16 elements with
 * in-register shuffles and, in the same pass, the strides of 16 to 128
 * elements between the 16 vectors of a chunk; for b > 1, the base product
 * and the strides of one and two blocks in registers, chunk by chunk of
 * four blocks (one or two vectors each); then the longer strides with
 * vectors over the contiguous runs of h·b elements, up to four stages per
 * pass. Rows longer than HADAMARD_L1_ELEMENTS first finish every stage
 * inside each L1-sized sub-block, then do the few remaining long strides.
 * The portable variant does the stages two a pass.
 *
 *===----------------------------------------------------------------------===*/

#include "UKernelsInternal.h"

#include "quant/Runtime/Runtime.h"

#include <math.h>

#define HADAMARD_MAX_BASE 28
/* 16 KiB of floats: a sub-block and its passes stay in L1. */
#define HADAMARD_L1_ELEMENTS 4096

typedef struct HadamardProblem {
  float *X;
  int64_t n, ld, b;
  const int8_t *signs;
  const int8_t *base;
  float scale;
} HadamardProblem;

#if UK_AVX512

/* Negates the lanes whose sign byte is negative. */
UK_INLINE __m512 apply_signs(__m512 v, const int8_t *signs, __mmask16 lanes) {
  __mmask16 negative =
      _mm_movepi8_mask(_mm_maskz_loadu_epi8(lanes, signs)) & lanes;
  return _mm512_mask_xor_ps(v, negative, v, _mm512_set1_ps(-0.0f));
}

/* The butterfly stage of stride h < 16 inside one vector: lanes with bit h
 * clear get x[i] + x[i + h], the others x[i − h] − x[i], both as
 * partner ± x in one FMA (a product by ±1 is exact, so the sum is rounded
 * once, as by an addition): one shuffle and one FMA a stage. */
UK_INLINE __m512 butterfly_in_vector(__m512 v, __m512 partner,
                                     __mmask16 upper) {
  const __m512 signs =
      _mm512_mask_blend_ps(upper, _mm512_set1_ps(1.0f), _mm512_set1_ps(-1.0f));
  return _mm512_fmadd_ps(v, signs, partner);
}

/* The strides 1, 2, 4 and 8 inside one vector. */
UK_INLINE __m512 small_strides(__m512 v) {
  v = butterfly_in_vector(v, _mm512_permute_ps(v, 0xB1), 0xAAAA);
  v = butterfly_in_vector(v, _mm512_permute_ps(v, 0x4E), 0xCCCC);
  v = butterfly_in_vector(v, _mm512_shuffle_f32x4(v, v, 0xB1), 0xF0F0);
  return butterfly_in_vector(v, _mm512_shuffle_f32x4(v, v, 0x4E), 0xFF00);
}

/* The LEVELS stages between the 2^LEVELS vectors v[t] (partners t, t ^ 1,
 * t ^ 2, ...), smallest stride first. The difference is an FMA by 1 (exact
 * as above), which Zen 4 can issue beside the additions (64 × 4096 on one
 * thread: 0.0640 → 0.0606 ms; half FMAs, half subtractions measured the
 * same as all FMAs). The empty asm keeps the compiler from folding the FMA
 * back into a subtraction. */
UK_INLINE void butterflies_across(__m512 *v, const int LEVELS) {
  const int ways = 1 << LEVELS;
  __m512 one = _mm512_set1_ps(1.0f);
  __asm__("" : "+v"(one));
  UK_UNROLL
  for (int h = 1; h < ways; h *= 2)
    UK_UNROLL
    for (int t = 0; t < ways; ++t)
      if (!(t & h)) {
        __m512 u = v[t], w = v[t + h];
        v[t] = _mm512_add_ps(u, w);
        v[t + h] = _mm512_fnmadd_ps(w, one, u);
      }
}

UK_INLINE __m512 normalized(__m512 v, bool last, float scale) {
  return last ? _mm512_mul_ps(v, _mm512_set1_ps(scale)) : v;
}

/* Signs, the strides 1 to 8 inside every vector and the LEVELS strides of
 * 16, 32, ... elements between the 2^LEVELS vectors of each chunk: the
 * first 4 + LEVELS stages in one pass over x[0, len), so that a row of
 * 4096 takes two passes instead of three. */
UK_INLINE void first_stages_pass(float *x, int64_t len, const int8_t *signs,
                                 const int LEVELS, bool last, float scale) {
  const int ways = 1 << LEVELS;
  for (int64_t base = 0; base < len; base += 16 * ways) {
    __m512 v[16];
    UK_UNROLL
    for (int t = 0; t < ways; ++t) {
      v[t] = _mm512_loadu_ps(x + base + 16 * t);
      if (signs)
        v[t] = apply_signs(v[t], signs + base + 16 * t, 0xFFFF);
      v[t] = small_strides(v[t]);
    }
    butterflies_across(v, LEVELS);
    UK_UNROLL
    for (int t = 0; t < ways; ++t)
      _mm512_storeu_ps(x + base + 16 * t, normalized(v[t], last, scale));
  }
}

/* LEVELS consecutive stages of strides span, 2·span, ... (in elements) on
 * x[0, len): 2^LEVELS vectors, one per partner, per 16 elements of a run. */
UK_INLINE void butterfly_pass(float *x, int64_t len, int64_t span,
                              const int LEVELS, bool last, float scale) {
  const int ways = 1 << LEVELS;
  for (int64_t base = 0; base < len; base += span * ways)
    for (int64_t j = 0; j < span; j += 16) {
      __mmask16 lanes =
          span - j >= 16 ? 0xFFFF : (__mmask16)((1u << (span - j)) - 1);
      float *p = x + base + j;
      __m512 v[16];
      UK_UNROLL
      for (int t = 0; t < ways; ++t)
        v[t] = _mm512_maskz_loadu_ps(lanes, p + t * span);
      butterflies_across(v, LEVELS);
      UK_UNROLL
      for (int t = 0; t < ways; ++t)
        _mm512_mask_storeu_ps(p + t * span, lanes,
                              normalized(v[t], last, scale));
    }
}

/* The stages of strides span, 2·span, ... below `end` on x[0, len), four
 * per pass; the normalisation rides on the last pass when `normalize`. */
static void butterfly_stages(float *x, int64_t len, int64_t span,
                             int64_t end, bool normalize, float scale) {
  while (span < end) {
    int levels = 1;
    while (levels < 4 && span << levels < end)
      ++levels;
    bool last = normalize && span << levels >= end;
    switch (levels) {
    case 1:
      butterfly_pass(x, len, span, 1, last, scale);
      break;
    case 2:
      butterfly_pass(x, len, span, 2, last, scale);
      break;
    case 3:
      butterfly_pass(x, len, span, 3, last, scale);
      break;
    default:
      butterfly_pass(x, len, span, 4, last, scale);
      break;
    }
    span <<= levels;
  }
}

/* Negates x[i] where signs[i] < 0, over x[0, len). */
static void signs_pass(float *x, int64_t len, const int8_t *signs) {
  for (int64_t i = 0; i < len; i += 16) {
    __mmask16 lanes =
        len - i >= 16 ? 0xFFFF : (__mmask16)((1u << (len - i)) - 1);
    _mm512_mask_storeu_ps(
        x + i, lanes,
        apply_signs(_mm512_maskz_loadu_ps(lanes, x + i), signs + i, lanes));
  }
}

/* y = x · H_b for every block of b elements of x[0, len), then the
 * butterfly stages between the ROWS consecutive blocks of each chunk
 * (strides of one and two blocks): one block is VECTORS vectors with the
 * columns in lanes, so those stages are plain vector additions. */
UK_INLINE void base_pass(float *x, int64_t len, int64_t b,
                         const float base_rows[HADAMARD_MAX_BASE][32],
                         const int ROWS, const int VECTORS, bool last,
                         float scale) {
  const __mmask16 low = (__mmask16)((1u << uk_min(b, 16)) - 1);
  const __mmask16 high = (__mmask16)((1u << uk_max(b - 16, 0)) - 1);
  for (float *chunk = x; chunk < x + len; chunk += ROWS * b) {
    __m512 y[4][2];
    UK_UNROLL
    for (int row = 0; row < ROWS; ++row) {
      y[row][0] = y[row][1] = _mm512_setzero_ps();
      for (int64_t i = 0; i < b; ++i) {
        __m512 xi = _mm512_set1_ps(chunk[row * b + i]);
        UK_UNROLL
        for (int v = 0; v < VECTORS; ++v)
          y[row][v] = _mm512_fmadd_ps(
              xi, _mm512_loadu_ps(base_rows[i] + 16 * v), y[row][v]);
      }
    }
    UK_UNROLL
    for (int h = 1; h < ROWS; h *= 2)
      UK_UNROLL
      for (int row = 0; row < ROWS; ++row)
        if (!(row & h))
          UK_UNROLL
          for (int v = 0; v < VECTORS; ++v) {
            __m512 u = y[row][v], w = y[row + h][v];
            y[row][v] = _mm512_add_ps(u, w);
            y[row + h][v] = _mm512_sub_ps(u, w);
          }
    UK_UNROLL
    for (int row = 0; row < ROWS; ++row)
      UK_UNROLL
      for (int v = 0; v < VECTORS; ++v)
        _mm512_mask_storeu_ps(chunk + row * b + 16 * v, v ? high : low,
                              normalized(y[row][v], last, scale));
  }
}

static void transform_row(const HadamardProblem *p, float *x,
                          const float base_rows[HADAMARD_MAX_BASE][32]) {
  const int64_t n = p->n, b = p->b;
  /* The largest b·2^j that fits in L1 (at least b). */
  int64_t sub = b;
  while (sub * 2 <= uk_max(HADAMARD_L1_ELEMENTS, b) && sub * 2 <= n)
    sub *= 2;
  for (int64_t start = 0; start < n; start += sub) {
    float *xs = x + start;
    const int8_t *signs = p->signs ? p->signs + start : NULL;
    bool whole = sub == n;
    if (b == 1) {
      /* Chunks of up to 16 vectors (sub / 16 is a power of two). */
      int64_t ways = uk_min(16, sub / 16);
      bool last = whole && ways * 16 == sub;
      switch (ways) {
#define FIRST_STAGES_CASE(WAYS, LEVELS)                                        \
  case WAYS:                                                                   \
    first_stages_pass(xs, sub, signs, LEVELS, last, p->scale);                 \
    break;
        FIRST_STAGES_CASE(1, 0) FIRST_STAGES_CASE(2, 1) FIRST_STAGES_CASE(4, 2)
        FIRST_STAGES_CASE(8, 3) FIRST_STAGES_CASE(16, 4)
#undef FIRST_STAGES_CASE
      }
      butterfly_stages(xs, sub, ways * 16, sub, whole, p->scale);
    } else {
      if (signs)
        signs_pass(xs, sub, signs);
      /* Chunks of up to 4 blocks (sub / b is a power of two). */
      int64_t rows = uk_min(4, sub / b);
      bool last = whole && rows * b == sub;
      switch (rows * 10 + (b > 16 ? 2 : 1)) {
#define BASE_PASS_CASE(ROWS, VECTORS)                                          \
  case ROWS * 10 + VECTORS:                                                    \
    base_pass(xs, sub, b, base_rows, ROWS, VECTORS, last, p->scale);           \
    break;
        BASE_PASS_CASE(1, 1) BASE_PASS_CASE(1, 2) BASE_PASS_CASE(2, 1)
        BASE_PASS_CASE(2, 2) BASE_PASS_CASE(4, 1) BASE_PASS_CASE(4, 2)
#undef BASE_PASS_CASE
      }
      butterfly_stages(xs, sub, rows * b, sub, whole, p->scale);
    }
  }
  if (sub < n)
    butterfly_stages(x, n, sub, n, true, p->scale);
}

static void hadamard_task(void *context, int64_t begin, int64_t end) {
  const HadamardProblem *p = (const HadamardProblem *)context;
  float base_rows[HADAMARD_MAX_BASE][32] = {{0}};
  if (p->b > 1)
    for (int64_t i = 0; i < p->b; ++i)
      for (int64_t j = 0; j < p->b; ++j)
        base_rows[i][j] = (float)p->base[i * p->b + j];
  for (int64_t row = begin; row < end; ++row)
    transform_row(p, p->X + row * p->ld, base_rows);
}

#endif

/* The scalar transform of one row: the portable variant, and the AVX-512
 * variant's path for rows of fewer than 16 elements. */
static void transform_row_scalar(const HadamardProblem *p, float *x) {
  const int64_t n = p->n, b = p->b, blocks = n / b;
  if (p->signs)
    for (int64_t i = 0; i < n; ++i)
      if (p->signs[i] < 0)
        x[i] = -x[i];
  if (b > 1) {
    float y[HADAMARD_MAX_BASE];
    for (float *block = x; block < x + n; block += b) {
      for (int64_t j = 0; j < b; ++j) {
        float acc = 0;
        for (int64_t i = 0; i < b; ++i)
          acc += block[i] * (float)p->base[i * b + j];
        y[j] = acc;
      }
      memcpy(block, y, (size_t)b * sizeof(float));
    }
  }
  /* The stages two at a time (a pass instead of two; each element sees
   * the same additions in the same order), the last one alone when their
   * count is odd. The four runs of a pass are contiguous, so the compiler
   * vectorizes them. */
  int64_t h = 1;
  for (; h * 4 <= blocks; h *= 4) {
    const int64_t s = h * b;
    for (float *q = x; q < x + n; q += 4 * s)
      for (int64_t i = 0; i < s; ++i) {
        float y0 = q[i] + q[i + s], y1 = q[i] - q[i + s];
        float y2 = q[i + 2 * s] + q[i + 3 * s],
              y3 = q[i + 2 * s] - q[i + 3 * s];
        q[i] = y0 + y2;
        q[i + s] = y1 + y3;
        q[i + 2 * s] = y0 - y2;
        q[i + 3 * s] = y1 - y3;
      }
  }
  if (h < blocks) {
    const int64_t s = h * b;
    for (int64_t i = 0; i < s; ++i) {
      float u = x[i], v = x[i + s];
      x[i] = u + v;
      x[i + s] = u - v;
    }
  }
  for (int64_t i = 0; i < n; ++i)
    x[i] *= p->scale;
}

static void hadamard_scalar_task(void *context, int64_t begin, int64_t end) {
  const HadamardProblem *p = (const HadamardProblem *)context;
  for (int64_t row = begin; row < end; ++row)
    transform_row_scalar(p, p->X + row * p->ld);
}

static qr_task_fn hadamard_task_for(int64_t n) {
#if UK_AVX512
  /* Rows shorter than a vector take the scalar path. */
  if (n >= 16)
    return hadamard_task;
#endif
  (void)n;
  return hadamard_scalar_task;
}

void qr_uk_hadamard_f32(float *X, int64_t rows, int64_t n, int64_t ld,
                        const int8_t *signs, const int8_t *base, int64_t b) {
  HadamardProblem p = {
      .X = X,
      .n = n,
      .ld = ld,
      .b = b > 1 ? b : 1,
      .signs = signs,
      .base = base,
      .scale = (float)(1.0 / sqrt((double)n)),
  };
  /* About 64 Ki elements per task. */
  int64_t grain = uk_max(1, 65536 / n);
  qr_parallel_for(rows, grain, hadamard_task_for(n), &p);
}
