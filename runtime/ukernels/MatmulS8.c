/*===- MatmulS8.c - integer activations × packed integer weights ----------===*
 *
 * C = a_scale(m) · Σ_block s · Σ_{k∈block} (a − za)(u − z), computed as
 *
 *   Σ (a − za)(u − z) = Σ a·u − z·Σ(a − za) − za·Σu,
 *
 * with Σ a·u on vpdpbusd (codes u on its unsigned side, activations a on its
 * signed side, four k per 32-bit lane), Σ(a − za) per row and block from the
 * packed activations and Σu per column and block from the blob. The block
 * sums are exact int32; each one is converted to float and scaled once.
 *
 * Work split: the activations are packed once, all rows in parallel; then
 * tasks of S8_TASK_ROWS rows × S8_TASK_PANELS panels, ordered panel-major
 * so that consecutive tasks of one thread reuse the same weights from
 * cache. Inside a task, register tiles of up to 8 rows × 2 panels of 16
 * columns (4 panels for up to four rows), each over the whole of K: the row
 * tiles of a task after the first read its panels' codes from L2. Cutting
 * K in chunks whose codes stay in L1 was slower on Zen 4 (32 KiB L1; W8A8
 * on one thread, M = 16 / 128 / 2048 at 4096²: 1.68 / 11.1 / 177 ms
 * against 1.37 / 10.1 / 165 unchunked).
 *
 *===----------------------------------------------------------------------===*/

#include "UKernelsInternal.h"

#include "quant/Runtime/Runtime.h"

#define S8_TASK_ROWS 64
#define S8_TASK_PANELS 8
#define S8_TASK_COLS (S8_TASK_PANELS * UK_PANEL_COLS)
#define S8_TILE_MAX_ROWS 8
#define S8_TILE_MAX_PANELS 4
/* Rows a packing task takes at least: fewer are not worth a dispatch. */
#define S8_PACK_ROWS 16

typedef struct S8Problem {
  int64_t M, N;
  const int8_t *A;
  int64_t lda;
  const float *a_scales;
  float a_scale;
  int32_t a_zero_point;
  UkWeights w;
  int64_t num_blocks; /* accumulation blocks: groups · blocks_per_group */
  /* Bytes between packed rows: padded_k plus a cache line, so that rows
   * 4 KiB apart do not all fall into one L1 set. */
  int64_t a_stride;
  /* The activations with every group zero-padded to the weights' padded
   * group size (so each 16-k block of codes meets its 16 activations and
   * padding contributes 0), and Σ_{k∈block}(a − za) of each row. Packed
   * before any task runs: a task of rows repacked its rows each time its
   * thread moved to another row task, which at M ≥ 128 was every task. */
  int8_t *packed_a;  /* [M][a_stride] */
  int32_t *row_sums; /* [M][num_blocks] */
  float *C;
  int64_t ldc;
  int64_t row_tasks;
  int64_t panel_tasks;
} S8Problem;

/* A task's view of the packed rows, starting at its first row, and its
 * scratch. */
typedef struct S8Scratch {
  const int8_t *a;     /* [S8_TASK_ROWS][a_stride] */
  const int32_t *sums; /* [S8_TASK_ROWS][num_blocks] */
  float row_scales[S8_TASK_ROWS];
#if UK_AVX512
  float *result; /* [S8_TASK_ROWS][S8_TASK_COLS]: Σ over finished blocks */
#endif
} S8Scratch;

static void pack_rows_task(void *context, int64_t begin, int64_t end) {
  const S8Problem *p = (const S8Problem *)context;
  const UkWeights *w = &p->w;
  for (int64_t m = begin; m < end; ++m) {
    const int8_t *src = p->A + m * p->lda;
    int8_t *dst = p->packed_a + m * p->a_stride;
    for (int64_t g = 0; g < w->num_groups; ++g) {
      memcpy(dst + g * w->padded_group_size, src + g * w->group_size,
             (size_t)w->group_size);
      memset(dst + g * w->padded_group_size + w->group_size, 0,
             (size_t)(w->padded_group_size - w->group_size));
    }
    for (int64_t block = 0; block < p->num_blocks; ++block) {
      UkBlock b = uk_block(w, block);
      int64_t sum = 0;
      for (int64_t k = 0; k < b.real_size; ++k)
        sum += src[b.real_begin + k];
      /* Modulo 2^32 like the vector arithmetic that consumes it. */
      p->row_sums[m * p->num_blocks + block] =
          (int32_t)(uint32_t)(sum - (int64_t)p->a_zero_point * b.real_size);
    }
  }
}

/* Lanes of the last panel that hold real columns. */
static inline int64_t valid_columns(const S8Problem *p, int64_t panel) {
  return uk_min(UK_PANEL_COLS, p->N - panel * UK_PANEL_COLS);
}

#if UK_AVX512

/* One register tile: rows [r0, r0 + R) of the task × panels [panel0,
 * panel0 + P), the task's panels starting at `first_panel`. BITS, R and P
 * are constants at every call site, so the loops over them unroll and the
 * arrays live in registers. */
UK_INLINE void s8_tile(const S8Problem *p, S8Scratch *s, int64_t r0,
                       int64_t first_panel, int64_t panel0, const int BITS,
                       const int R, const int P) {
  const UkWeights *w = &p->w;
  const int64_t plane_block_bytes = uk_block_plane_bytes(w->plane_bits);
  const uint8_t *plane[S8_TILE_MAX_PANELS], *high_bits[S8_TILE_MAX_PANELS];
  UK_UNROLL
  for (int pp = 0; pp < P; ++pp) {
    plane[pp] = w->codes + (panel0 + pp) * w->panel_bytes;
    high_bits[pp] = plane[pp] + uk_high_bits_offset(w);
  }
  const int8_t *a[S8_TILE_MAX_ROWS];
  UK_UNROLL
  for (int r = 0; r < R; ++r)
    a[r] = s->a + (r0 + r) * p->a_stride;
  const __m512i za = _mm512_set1_epi32(p->a_zero_point);
  const int64_t tile_col0 = (panel0 - first_panel) * UK_PANEL_COLS;

  for (int64_t block = 0; block < p->num_blocks; ++block) {
    UkBlock b = uk_block(w, block);

    /* Start at −za·Σu so that only −z·Σ(a − za) is left. Symmetric
     * activations (za = 0, per-token quantization) skip the code sums: a
     * GEMV streams its weights from DRAM, and they are a third of the
     * per-group bytes (W4A8 at M = 1, 11008², 1 Zen 4 thread: 3.16–3.27 →
     * 2.46–2.49 ms with the parameters then in [G][padded_n] arrays). */
    __m512i acc[S8_TILE_MAX_ROWS][S8_TILE_MAX_PANELS];
    UK_UNROLL
    for (int pp = 0; pp < P; ++pp) {
      __m512i start = _mm512_setzero_si512();
      if (p->a_zero_point != 0)
        start = _mm512_sub_epi32(
            start,
            _mm512_mullo_epi32(
                _mm512_loadu_si512(uk_code_sums(w, panel0 + pp, block)), za));
      UK_UNROLL
      for (int r = 0; r < R; ++r)
        acc[r][pp] = start;
    }

    const int64_t kb_begin = b.padded_begin / UK_K_BLOCK;
    for (int64_t kb = kb_begin; kb < kb_begin + b.padded_size / UK_K_BLOCK;
         ++kb) {
      UK_UNROLL
      for (int quad = 0; quad < UK_K_BLOCK / 4; ++quad) {
        /* Keeps each quad's loads in place: compilers otherwise hoist all
         * R × 4 broadcasts of the block ahead of the dot products and
         * spill them. */
        __asm__ volatile("" ::: "memory");
        __m512i codes[S8_TILE_MAX_PANELS];
        UK_UNROLL
        for (int pp = 0; pp < P; ++pp)
          codes[pp] = uk_quad_codes(BITS, plane[pp] + kb * plane_block_bytes,
                                    high_bits[pp] + kb * 32, quad);
        UK_UNROLL
        for (int r = 0; r < R; ++r) {
          int32_t four;
          memcpy(&four, a[r] + kb * UK_K_BLOCK + 4 * quad, sizeof(four));
          __m512i activations = _mm512_set1_epi32(four);
          UK_UNROLL
          for (int pp = 0; pp < P; ++pp)
            acc[r][pp] = _mm512_dpbusd_epi32(acc[r][pp], codes[pp],
                                             activations);
        }
      }
    }

    UK_UNROLL
    for (int pp = 0; pp < P; ++pp) {
      const UkGroupParams *params = uk_group_params(w, panel0 + pp, b.group);
      __m512i zero_points = _mm512_loadu_si512(params->zero_points);
      __m512 scales = _mm512_loadu_ps(params->scales);
      UK_UNROLL
      for (int r = 0; r < R; ++r) {
        int64_t at = (r0 + r) * S8_TASK_COLS + tile_col0 + UK_PANEL_COLS * pp;
        __m512i row_sum =
            _mm512_set1_epi32(s->sums[(r0 + r) * p->num_blocks + block]);
        __m512i exact = _mm512_sub_epi32(
            acc[r][pp], _mm512_mullo_epi32(zero_points, row_sum));
        _mm512_storeu_ps(s->result + at,
                         _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), scales,
                                         _mm512_loadu_ps(s->result + at)));
      }
    }
  }
}

/* Instantiates s8_tile for every (bits, rows, panels) the task loop uses:
 * panels 4 for up to four rows, 2 otherwise, and 1 for leftover panels. */
#define S8_KEY(BITS, R, P) ((BITS) * 100 + (R) * 10 + (P))
#define S8_CASE(BITS, R, P)                                                    \
  case S8_KEY(BITS, R, P):                                                     \
    s8_tile(p, s, r0, first_panel, panel0, BITS, R, P);                        \
    return;
#define S8_CASES(R, P)                                                         \
  S8_CASE(2, R, P) S8_CASE(3, R, P) S8_CASE(4, R, P) S8_CASE(8, R, P)

static void run_tile(const S8Problem *p, S8Scratch *s, int64_t r0,
                     int64_t first_panel, int64_t panel0, int R, int P) {
  switch (S8_KEY(p->w.bits, R, P)) {
    S8_CASES(1, 4) S8_CASES(2, 4) S8_CASES(3, 4) S8_CASES(4, 4)
    S8_CASES(1, 2) S8_CASES(2, 2) S8_CASES(3, 2) S8_CASES(4, 2)
    S8_CASES(5, 2) S8_CASES(6, 2) S8_CASES(7, 2) S8_CASES(8, 2)
    S8_CASES(1, 1) S8_CASES(2, 1) S8_CASES(3, 1) S8_CASES(4, 1)
    S8_CASES(5, 1) S8_CASES(6, 1) S8_CASES(7, 1) S8_CASES(8, 1)
  default:
    __builtin_unreachable();
  }
}

static void run_task_tile(const S8Problem *p, S8Scratch *s, int64_t m0,
                          int64_t num_rows, int64_t panel_begin,
                          int64_t panel_end) {
  const int64_t cols = (panel_end - panel_begin) * UK_PANEL_COLS;
  for (int64_t r = 0; r < num_rows; ++r)
    memset(s->result + r * S8_TASK_COLS, 0, (size_t)cols * sizeof(float));
  /* Few rows leave registers for more panels (more independent sums, the
   * packed rows read once per four panels: qr_uk_matmul_f32's four limbs of
   * a row, W4A16 at M = 1 and 11008², 2 threads, on an AVX-512 VNNI Xeon:
   * 3.33 ms, 5.70 with two panels in an earlier run). */
  const int P = num_rows <= 4 ? 4 : 2;
  for (int64_t panel0 = panel_begin; panel0 < panel_end;) {
    int tile_panels = panel_end - panel0 >= P ? P : 1;
    for (int64_t r0 = 0; r0 < num_rows; r0 += S8_TILE_MAX_ROWS)
      run_tile(p, s, r0, panel_begin, panel0,
               (int)uk_min(S8_TILE_MAX_ROWS, num_rows - r0), tile_panels);
    panel0 += tile_panels;
  }
  for (int64_t panel = panel_begin; panel < panel_end; ++panel) {
    __mmask16 columns = (__mmask16)((1u << valid_columns(p, panel)) - 1);
    for (int64_t r = 0; r < num_rows; ++r) {
      const float *result = s->result + r * S8_TASK_COLS +
                            (panel - panel_begin) * UK_PANEL_COLS;
      _mm512_mask_storeu_ps(
          p->C + (m0 + r) * p->ldc + panel * UK_PANEL_COLS, columns,
          _mm512_mul_ps(_mm512_loadu_ps(result),
                        _mm512_set1_ps(s->row_scales[r])));
    }
  }
}

#else /* portable C */

/* Σ a·u over k blocks [kb, kb_end) of one packed row × one panel whose
 * plane holds whole codes (2, 4 or 8 bits), in place in the plane layout:
 * the 16 bytes of four columns × four k of a quad, widened to 16 bits,
 * meet the row's four activations (twice) in pmaddwd, which leaves each
 * column's two pair sums side by side until the end. SSE2 only: baseline
 * x86-64, which the portable variant is compiled for. */
static void dot_plane_sse2(const UkWeights *w, const uint8_t *panel,
                           const int8_t *a, int64_t kb, int64_t kb_end,
                           int32_t acc[UK_PANEL_COLS]) {
  const int pb = w->plane_bits, quads_per_vector = 8 / pb;
  const __m128i mask = _mm_set1_epi8((char)((1u << pb) - 1));
  const __m128i zero = _mm_setzero_si128();
  __m128i pairs[UK_PANEL_COLS / 2];
  for (int i = 0; i < UK_PANEL_COLS / 2; ++i)
    pairs[i] = zero;
  for (; kb < kb_end; ++kb) {
    const uint8_t *plane = panel + kb * uk_block_plane_bytes(pb);
    for (int quad = 0; quad < UK_K_BLOCK / 4; ++quad) {
      int32_t four;
      memcpy(&four, a + kb * UK_K_BLOCK + 4 * quad, sizeof(four));
      /* a0..a3 sign-extended to 16 bits, twice. */
      __m128i bytes = _mm_cvtsi32_si128(four);
      __m128i activations = _mm_srai_epi16(_mm_unpacklo_epi8(bytes, bytes), 8);
      activations = _mm_unpacklo_epi64(activations, activations);
      const uint8_t *vector =
          plane + UK_PLANE_VECTOR_BYTES * (quad / quads_per_vector);
      const int shift = pb * (quad % quads_per_vector);
      for (int chunk = 0; chunk < 4; ++chunk) {
        __m128i codes = _mm_loadu_si128((const __m128i *)(vector + 16 * chunk));
        if (pb < 8)
          codes = _mm_and_si128(_mm_srli_epi16(codes, shift), mask);
        pairs[2 * chunk] = _mm_add_epi32(
            pairs[2 * chunk],
            _mm_madd_epi16(_mm_unpacklo_epi8(codes, zero), activations));
        pairs[2 * chunk + 1] = _mm_add_epi32(
            pairs[2 * chunk + 1],
            _mm_madd_epi16(_mm_unpackhi_epi8(codes, zero), activations));
      }
    }
  }
  /* Lanes (c, pair 0), (c, pair 1), (c + 1, pair 0), (c + 1, pair 1). */
  for (int i = 0; i < UK_PANEL_COLS / 4; ++i) {
    __m128i low =
        _mm_add_epi32(pairs[2 * i], _mm_shuffle_epi32(pairs[2 * i], 0xB1));
    __m128i high = _mm_add_epi32(pairs[2 * i + 1],
                                 _mm_shuffle_epi32(pairs[2 * i + 1], 0xB1));
    __m128i sums = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(low),
                                                   _mm_castsi128_ps(high),
                                                   _MM_SHUFFLE(2, 0, 2, 0)));
    _mm_storeu_si128(
        (__m128i *)(acc + 4 * i),
        _mm_add_epi32(_mm_loadu_si128((__m128i *)(acc + 4 * i)), sums));
  }
}

/* Rows [r0, r0 + R) of the task (R <= S8_TILE_MAX_ROWS) × one panel. */
static void run_tile(const S8Problem *p, const S8Scratch *s, int64_t m0,
                     int64_t r0, int R, int64_t panel) {
  const UkWeights *w = &p->w;
  const int64_t col0 = panel * UK_PANEL_COLS;
  const uint8_t *codes_of_panel = w->codes + panel * w->panel_bytes;
  float result[S8_TILE_MAX_ROWS][UK_PANEL_COLS] = {{0}};
  for (int64_t block = 0; block < p->num_blocks; ++block) {
    UkBlock b = uk_block(w, block);
    int32_t acc[S8_TILE_MAX_ROWS][UK_PANEL_COLS] = {{0}};
    const int64_t kb_begin = b.padded_begin / UK_K_BLOCK,
                  kb_end = kb_begin + b.padded_size / UK_K_BLOCK;
    if (w->bits == w->plane_bits) {
      for (int r = 0; r < R; ++r)
        dot_plane_sse2(w, codes_of_panel, s->a + (r0 + r) * p->a_stride,
                       kb_begin, kb_end, acc[r]);
    } else {
      /* 3-bit: a plane of 2 and a mask of high bits, decoded. */
      for (int64_t kb = kb_begin; kb < kb_end; ++kb) {
        uint8_t codes[UK_K_BLOCK][UK_PANEL_COLS];
        uk_decode_block(w, codes_of_panel, kb, codes);
        for (int r = 0; r < R; ++r) {
          const int8_t *a = s->a + (r0 + r) * p->a_stride + kb * UK_K_BLOCK;
          for (int k = 0; k < UK_K_BLOCK; ++k)
            for (int c = 0; c < UK_PANEL_COLS; ++c)
              acc[r][c] += a[k] * codes[k][c];
        }
      }
    }
    const UkGroupParams *params = uk_group_params(w, panel, b.group);
    const int32_t *code_sums = uk_code_sums(w, panel, block);
    for (int c = 0; c < UK_PANEL_COLS; ++c) {
      int64_t za_code_sum = (int64_t)p->a_zero_point * code_sums[c];
      for (int r = 0; r < R; ++r) {
        int64_t row_sum = s->sums[(r0 + r) * p->num_blocks + block];
        int32_t exact =
            (int32_t)(uint32_t)(acc[r][c] - params->zero_points[c] * row_sum -
                                za_code_sum);
        result[r][c] += (float)exact * params->scales[c];
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    float *c = p->C + (m0 + r0 + r) * p->ldc + col0;
    for (int64_t j = 0, e = valid_columns(p, panel); j < e; ++j)
      c[j] = result[r][j] * s->row_scales[r0 + r];
  }
}

static void run_task_tile(const S8Problem *p, S8Scratch *s, int64_t m0,
                          int64_t num_rows, int64_t panel_begin,
                          int64_t panel_end) {
  for (int64_t panel = panel_begin; panel < panel_end; ++panel)
    for (int64_t r0 = 0; r0 < num_rows; r0 += S8_TILE_MAX_ROWS)
      run_tile(p, s, m0, r0, (int)uk_min(S8_TILE_MAX_ROWS, num_rows - r0),
               panel);
}

#endif

static void matmul_s8_task(void *context, int64_t begin, int64_t end) {
  const S8Problem *p = (const S8Problem *)context;
  S8Scratch s;
#if UK_AVX512
  s.result = (float *)uk_alloc(S8_TASK_ROWS * S8_TASK_COLS * sizeof(float));
  if (!s.result) {
    qr_report_kernel_error("matmul_s8: out of memory");
    return;
  }
#endif
  for (int64_t task = begin; task < end; ++task) {
    int64_t row_task = task % p->row_tasks, panel_task = task / p->row_tasks;
    int64_t m0 = row_task * S8_TASK_ROWS;
    int64_t num_rows = uk_min(S8_TASK_ROWS, p->M - m0);
    s.a = p->packed_a + m0 * p->a_stride;
    s.sums = p->row_sums + m0 * p->num_blocks;
    for (int64_t r = 0; r < num_rows; ++r)
      s.row_scales[r] = p->a_scales ? p->a_scales[m0 + r] : p->a_scale;
    int64_t panel_begin = panel_task * S8_TASK_PANELS;
    run_task_tile(p, &s, m0, num_rows, panel_begin,
                  uk_min(panel_begin + S8_TASK_PANELS, p->w.num_panels));
  }
#if UK_AVX512
  free(s.result);
#endif
}

void qr_uk_matmul_s8(int64_t M, int64_t N, int64_t K, const int8_t *A,
                     int64_t lda, const float *a_scales, float a_scale,
                     int32_t a_zero_point, const void *packed, float *C,
                     int64_t ldc) {
  S8Problem p = {
      .M = M,
      .N = N,
      .A = A,
      .lda = lda,
      .a_scales = a_scales,
      .a_scale = a_scale,
      .a_zero_point = a_zero_point,
      .w = uk_weights_view(packed),
      .C = C,
      .ldc = ldc,
  };
  (void)K; /* the blob's K is authoritative */
  p.num_blocks = p.w.num_groups * p.w.blocks_per_group;
  p.a_stride = p.w.padded_k + UK_ALIGNMENT;
  p.row_tasks = uk_ceil_div(M, S8_TASK_ROWS);
  p.panel_tasks = uk_ceil_div(p.w.num_panels, S8_TASK_PANELS);
  p.packed_a = (int8_t *)uk_alloc((size_t)(M * p.a_stride));
  p.row_sums =
      (int32_t *)uk_alloc((size_t)(M * p.num_blocks) * sizeof(int32_t));
  if (p.packed_a && p.row_sums) {
    qr_parallel_for(M, S8_PACK_ROWS, pack_rows_task, &p);
    qr_parallel_for(p.row_tasks * p.panel_tasks, 1, matmul_s8_task, &p);
  } else {
    qr_report_kernel_error("matmul_s8: out of memory");
  }
  free(p.packed_a);
  free(p.row_sums);
}
