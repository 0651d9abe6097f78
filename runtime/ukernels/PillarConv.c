/*===- PillarConv.c - sparse pillar convolution (qnn.pillar_conv) ---------===*
 *
 * Two steps, as in spconv and PillarAcc: a rulebook builder that maps every
 * output site to the input row under each kernel tap (open-addressing hash
 * tables over the active sites, so time and memory are linear in the number
 * of pillars, not in the grid), then gather → GEMM per tap → scatter-add.
 * The convolution splits the output rows into blocks, one parallel task per
 * block; a task gathers, for each tap, the input rows its own outputs need,
 * multiplies them by that tap's weights with the existing GEMM kernels and
 * adds the products into its own rows only, so no two tasks write the same
 * output and the result does not depend on the number of threads.
 *
 * The output order and the selection rules are those of the op description
 * (include/quant/Dialect/QNN/IR/QNNOps.td), which the float64 evaluator
 * implements independently.
 *
 *===----------------------------------------------------------------------===*/

#include "UKernelsInternal.h"

#include "quant/Runtime/Runtime.h"

#include <math.h>
#include <stdio.h>

/*===----------------------------------------------------------------------===*
 * Site hash: (batch, y, x) on a grid of `width` columns and `height` rows →
 * row index, open addressing with linear probing.
 *===----------------------------------------------------------------------===*/

typedef struct SiteTable {
  int64_t *keys; /* -1 marks an empty slot */
  int32_t *rows;
  uint64_t mask;
} SiteTable;

static int site_table_init(SiteTable *t, int64_t capacity) {
  uint64_t slots = 16;
  while (slots < (uint64_t)capacity * 2)
    slots <<= 1;
  t->mask = slots - 1;
  t->keys = malloc(slots * sizeof(int64_t));
  t->rows = malloc(slots * sizeof(int32_t));
  if (!t->keys || !t->rows)
    return -1;
  memset(t->keys, 0xFF, slots * sizeof(int64_t));
  return 0;
}

static void site_table_free(SiteTable *t) {
  free(t->keys);
  free(t->rows);
}

UK_INLINE uint64_t site_slot(const SiteTable *t, int64_t key) {
  /* Fibonacci hashing spreads raster-adjacent keys over the table. */
  return ((uint64_t)key * 0x9E3779B97F4A7C15ull >> 20) & t->mask;
}

/* The row stored under `key`, or -1. */
UK_INLINE int32_t site_find(const SiteTable *t, int64_t key) {
  for (uint64_t s = site_slot(t, key);; s = (s + 1) & t->mask) {
    if (t->keys[s] == key)
      return t->rows[s];
    if (t->keys[s] < 0)
      return -1;
  }
}

/* Inserts `key` → `row` unless present; returns the row stored under key. */
UK_INLINE int32_t site_insert(SiteTable *t, int64_t key, int32_t row) {
  for (uint64_t s = site_slot(t, key);; s = (s + 1) & t->mask) {
    if (t->keys[s] == key)
      return t->rows[s];
    if (t->keys[s] < 0) {
      t->keys[s] = key;
      t->rows[s] = row;
      return row;
    }
  }
}

UK_INLINE int64_t site_key(int64_t batch, int64_t y, int64_t x, int64_t height,
                           int64_t width) {
  return (batch * height + y) * width + x;
}

/*===----------------------------------------------------------------------===*
 * Importance and selection.
 *===----------------------------------------------------------------------===*/

void qr_uk_pillar_norms_f32(int64_t N, int64_t C, const float *features,
                            int64_t ld, double *norms) {
  for (int64_t i = 0; i < N; ++i) {
    double sum = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      double v = features[i * ld + c];
      sum += v * v;
    }
    norms[i] = sqrt(sum);
  }
}

void qr_uk_pillar_norms_s8(int64_t N, int64_t C, const int8_t *features,
                           int64_t ld, double scale, int32_t zero_point,
                           double *norms) {
  for (int64_t i = 0; i < N; ++i) {
    double sum = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      double v = (double)(features[i * ld + c] - zero_point) * scale;
      sum += v * v;
    }
    norms[i] = sqrt(sum);
  }
}

typedef struct RankedPillar {
  double importance; /* NaN already replaced by -inf */
  int64_t index;
} RankedPillar;

/* Importance descending, then index ascending: a total order. */
static int compare_ranked(const void *a, const void *b) {
  const RankedPillar *x = a, *y = b;
  if (x->importance != y->importance)
    return x->importance > y->importance ? -1 : 1;
  return x->index < y->index ? -1 : (x->index > y->index);
}

/* important[i] = 1 for the pillars that dilate. */
static int select_important(int64_t N, const double *importance,
                            double threshold, double topk_ratio,
                            uint8_t *important) {
  if (topk_ratio <= 0.0) {
    for (int64_t i = 0; i < N; ++i)
      important[i] = importance[i] >= threshold; /* false for NaN */
    return 0;
  }
  int64_t k = qr_uk_pillar_topk_count(N, topk_ratio);
  RankedPillar *ranked = malloc((size_t)uk_max(N, 1) * sizeof(RankedPillar));
  if (!ranked)
    return -1;
  for (int64_t i = 0; i < N; ++i) {
    ranked[i].importance = isnan(importance[i]) ? -INFINITY : importance[i];
    ranked[i].index = i;
  }
  qsort(ranked, (size_t)N, sizeof(RankedPillar), compare_ranked);
  memset(important, 0, (size_t)N);
  for (int64_t i = 0; i < k; ++i)
    important[ranked[i].index] = 1;
  free(ranked);
  return 0;
}

/*===----------------------------------------------------------------------===*
 * Rulebook.
 *===----------------------------------------------------------------------===*/

static void fail(int64_t *counts, int64_t status, const char *message) {
  counts[0] = 0;
  counts[1] = status;
  qr_report_kernel_error(message);
}

typedef struct NeighbourProblem {
  const SiteTable *inputs;
  const int32_t *out_coords;
  int32_t *neighbours;
  int64_t height, width, kernel, stride;
} NeighbourProblem;

static void neighbour_task(void *context, int64_t begin, int64_t end) {
  const NeighbourProblem *p = context;
  int64_t radius = p->kernel / 2, taps = p->kernel * p->kernel;
  for (int64_t o = begin; o < end; ++o) {
    const int32_t *site = p->out_coords + 3 * o;
    int32_t *row = p->neighbours + o * taps;
    for (int64_t ky = 0; ky < p->kernel; ++ky) {
      int64_t y = p->stride * site[1] + ky - radius;
      for (int64_t kx = 0; kx < p->kernel; ++kx) {
        int64_t x = p->stride * site[2] + kx - radius;
        bool inside = y >= 0 && y < p->height && x >= 0 && x < p->width;
        row[ky * p->kernel + kx] =
            inside ? site_find(p->inputs, site_key(site[0], y, x, p->height,
                                                   p->width))
                   : -1;
      }
    }
  }
}

void qr_uk_pillar_rulebook(int64_t N, const int32_t *coords, int64_t height,
                           int64_t width, int64_t kernel, int64_t stride,
                           int32_t dilate, const double *importance,
                           double threshold, double topk_ratio,
                           int64_t capacity, int32_t *out_coords,
                           int32_t *neighbours, int64_t *counts) {
  char message[192];
  counts[0] = counts[1] = 0;
  if (N < 0 || N > INT32_MAX || height < 1 || width < 1 || kernel < 1 ||
      kernel % 2 == 0 || (stride != 1 && stride != 2) ||
      (dilate && N > 0 && !importance) ||
      capacity < (dilate ? N * kernel * kernel : N)) {
    fail(counts, QR_PILLAR_INVALID_ARGUMENTS,
         "pillar_conv: invalid rulebook arguments");
    return;
  }
  for (int64_t i = 0; i < N; ++i) {
    const int32_t *c = coords + 3 * i;
    if (c[0] < 0 || c[1] < 0 || c[1] >= height || c[2] < 0 || c[2] >= width) {
      snprintf(message, sizeof message,
               "pillar_conv: pillar %lld at (batch %d, y %d, x %d) is outside "
               "the %lldx%lld grid",
               (long long)i, c[0], c[1], c[2], (long long)height,
               (long long)width);
      fail(counts, QR_PILLAR_OUT_OF_GRID, message);
      return;
    }
  }

  SiteTable inputs, candidates = {0}, outputs = {0};
  uint8_t *important = dilate ? malloc((size_t)uk_max(N, 1)) : NULL;
  int32_t *candidate_coords =
      stride == 2 ? malloc((size_t)uk_max(capacity, 1) * 3 * sizeof(int32_t))
                  : out_coords;
  bool ok = site_table_init(&inputs, N) == 0 && (!dilate || important) &&
            candidate_coords &&
            (!dilate || site_table_init(&candidates, capacity) == 0) &&
            (stride == 1 || site_table_init(&outputs, capacity) == 0);
  if (!ok) {
    fail(counts, QR_PILLAR_OUT_OF_MEMORY, "pillar_conv: out of memory");
    goto done;
  }

  /* Inputs, rejecting duplicates. */
  for (int64_t i = 0; i < N; ++i) {
    const int32_t *c = coords + 3 * i;
    int32_t first = site_insert(
        &inputs, site_key(c[0], c[1], c[2], height, width), (int32_t)i);
    if (first != i) {
      snprintf(message, sizeof message,
               "pillar_conv: pillars %d and %lld share coordinates (batch %d, "
               "y %d, x %d)",
               first, (long long)i, c[0], c[1], c[2]);
      fail(counts, QR_PILLAR_DUPLICATE, message);
      goto done;
    }
  }

  /* Candidate sites on the input grid: the active sites in input order,
   * then, with selective dilation, the new sites of each important pillar's
   * neighbourhood, pillars in input order, taps in raster order. */
  memcpy(candidate_coords, coords, (size_t)N * 3 * sizeof(int32_t));
  int64_t num_candidates = N;
  if (dilate) {
    if (select_important(N, importance, threshold, topk_ratio, important)) {
      fail(counts, QR_PILLAR_OUT_OF_MEMORY, "pillar_conv: out of memory");
      goto done;
    }
    for (int64_t i = 0; i < N; ++i)
      site_insert(&candidates,
                  site_key(coords[3 * i], coords[3 * i + 1], coords[3 * i + 2],
                           height, width),
                  (int32_t)i);
    int64_t radius = kernel / 2;
    for (int64_t i = 0; i < N; ++i) {
      if (!important[i])
        continue;
      const int32_t *c = coords + 3 * i;
      for (int64_t dy = -radius; dy <= radius; ++dy)
        for (int64_t dx = -radius; dx <= radius; ++dx) {
          int64_t y = c[1] + dy, x = c[2] + dx;
          if (y < 0 || y >= height || x < 0 || x >= width)
            continue;
          int64_t key = site_key(c[0], y, x, height, width);
          if (site_insert(&candidates, key, (int32_t)num_candidates) !=
              num_candidates)
            continue;
          int32_t *site = candidate_coords + 3 * num_candidates++;
          site[0] = c[0];
          site[1] = (int32_t)y;
          site[2] = (int32_t)x;
        }
    }
  }

  /* Outputs: the candidates, or with stride 2 their halved coordinates,
   * deduplicated in candidate order. */
  int64_t num_outputs = num_candidates;
  if (stride == 2) {
    int64_t out_height = (height + 1) / 2, out_width = (width + 1) / 2;
    num_outputs = 0;
    for (int64_t i = 0; i < num_candidates; ++i) {
      const int32_t *c = candidate_coords + 3 * i;
      int64_t key = site_key(c[0], c[1] / 2, c[2] / 2, out_height, out_width);
      if (site_insert(&outputs, key, (int32_t)num_outputs) != num_outputs)
        continue;
      int32_t *site = out_coords + 3 * num_outputs++;
      site[0] = c[0];
      site[1] = c[1] / 2;
      site[2] = c[2] / 2;
    }
  }

  NeighbourProblem p = {&inputs, out_coords, neighbours, height, width,
                        kernel, stride};
  qr_parallel_for(num_outputs, 256, neighbour_task, &p);
  counts[0] = num_outputs;

done:
  site_table_free(&inputs);
  site_table_free(&candidates);
  site_table_free(&outputs);
  free(important);
  if (candidate_coords != out_coords)
    free(candidate_coords);
}

/*===----------------------------------------------------------------------===*
 * Gather → GEMM per tap → scatter-add.
 *===----------------------------------------------------------------------===*/

/* Output rows per task: up to 1024, so that each tap's GEMM has hundreds of
 * rows to amortise its packing over, but at least four tasks per thread
 * (down to 128 rows) so that tasks of uneven density balance. */
#define PILLAR_MAX_BLOCK_ROWS 1024
#define PILLAR_MIN_BLOCK_ROWS 128

typedef enum PillarWeights {
  PILLAR_FLOAT,       /* f32 activations, f32 weights [taps][C_in][C_out] */
  PILLAR_WEIGHT_ONLY, /* f32 activations, one packed blob per tap */
  PILLAR_INTEGER,     /* int8 activations, one packed blob per tap */
} PillarWeights;

typedef struct ConvProblem {
  PillarWeights kind;
  int64_t M, taps, C_in, C_out;
  int64_t block_rows;
  const void *features; /* [N][C_in], f32 or int8 */
  const int32_t *neighbours;
  const float *weights;      /* PILLAR_FLOAT */
  const uint8_t *packed;     /* others: blob t at packed + t · packed_stride */
  int64_t packed_stride;
  float a_scale;
  int32_t a_zero_point;
  const float *bias;
  float *out;
} ConvProblem;

static void conv_task(void *context, int64_t begin, int64_t end) {
  const ConvProblem *p = context;
  size_t element = p->kind == PILLAR_INTEGER ? 1 : sizeof(float);
  int64_t first = begin * p->block_rows;
  int64_t rows = uk_min(p->M, end * p->block_rows) - first;
  int32_t *pairs = malloc((size_t)rows * sizeof(int32_t));
  char *gathered = uk_alloc((size_t)rows * p->C_in * element);
  float *products = uk_alloc((size_t)rows * p->C_out * sizeof(float));
  if (!pairs || !gathered || !products) {
    qr_report_kernel_error("pillar_conv: out of memory");
    goto done;
  }

  for (int64_t m = first; m < first + rows; ++m)
    for (int64_t n = 0; n < p->C_out; ++n)
      p->out[m * p->C_out + n] = p->bias ? p->bias[n] : 0.0f;

  for (int64_t t = 0; t < p->taps; ++t) {
    int64_t count = 0;
    for (int64_t m = first; m < first + rows; ++m) {
      int32_t input = p->neighbours[m * p->taps + t];
      if (input < 0)
        continue;
      memcpy(gathered + (size_t)count * p->C_in * element,
             (const char *)p->features + (size_t)input * p->C_in * element,
             (size_t)p->C_in * element);
      pairs[count++] = (int32_t)m;
    }
    if (!count)
      continue;
    const uint8_t *blob = p->packed + t * p->packed_stride;
    switch (p->kind) {
    case PILLAR_FLOAT:
      qr_uk_gemm_f32(1, count, p->C_out, p->C_in, (const float *)gathered,
                     p->C_in, 0, p->weights + t * p->C_in * p->C_out,
                     p->C_out, 0, 0, products, p->C_out, 0);
      break;
    case PILLAR_WEIGHT_ONLY:
      qr_uk_matmul_f32(count, p->C_out, p->C_in, (const float *)gathered,
                       p->C_in, blob, products, p->C_out);
      break;
    case PILLAR_INTEGER:
      qr_uk_matmul_s8(count, p->C_out, p->C_in, (const int8_t *)gathered,
                      p->C_in, NULL, p->a_scale, p->a_zero_point, blob,
                      products, p->C_out);
      break;
    }
    for (int64_t i = 0; i < count; ++i) {
      float *row = p->out + (int64_t)pairs[i] * p->C_out;
      const float *product = products + i * p->C_out;
      for (int64_t n = 0; n < p->C_out; ++n)
        row[n] += product[n];
    }
  }

done:
  free(pairs);
  free(gathered);
  free(products);
}

static void pillar_conv(ConvProblem *p) {
  if (p->M <= 0)
    return;
  int64_t per_thread = uk_ceil_div(p->M, 4 * (int64_t)qr_get_num_threads());
  p->block_rows = uk_min(PILLAR_MAX_BLOCK_ROWS,
                         uk_max(PILLAR_MIN_BLOCK_ROWS, per_thread));
  qr_parallel_for(uk_ceil_div(p->M, p->block_rows), 1, conv_task, p);
}

void qr_uk_pillar_conv_f32(int64_t M, int64_t taps, int64_t C_in,
                           int64_t C_out, const float *features,
                           const int32_t *neighbours, const float *weights,
                           const float *bias, float *out) {
  ConvProblem p = {.kind = PILLAR_FLOAT, .M = M, .taps = taps, .C_in = C_in,
                   .C_out = C_out, .features = features,
                   .neighbours = neighbours, .weights = weights,
                   .bias = bias, .out = out};
  pillar_conv(&p);
}

void qr_uk_pillar_conv_packed_f32(int64_t M, int64_t taps, int64_t C_in,
                                  int64_t C_out, const float *features,
                                  const int32_t *neighbours,
                                  const void *packed, int64_t packed_stride,
                                  const float *bias, float *out) {
  ConvProblem p = {.kind = PILLAR_WEIGHT_ONLY, .M = M, .taps = taps,
                   .C_in = C_in, .C_out = C_out, .features = features,
                   .neighbours = neighbours, .packed = packed,
                   .packed_stride = packed_stride, .bias = bias, .out = out};
  pillar_conv(&p);
}

void qr_uk_pillar_conv_s8(int64_t M, int64_t taps, int64_t C_in, int64_t C_out,
                          const int8_t *features, float a_scale,
                          int32_t a_zero_point, const int32_t *neighbours,
                          const void *packed, int64_t packed_stride,
                          const float *bias, float *out) {
  ConvProblem p = {.kind = PILLAR_INTEGER, .M = M, .taps = taps, .C_in = C_in,
                   .C_out = C_out, .features = features,
                   .neighbours = neighbours, .packed = packed,
                   .packed_stride = packed_stride, .a_scale = a_scale,
                   .a_zero_point = a_zero_point, .bias = bias, .out = out};
  pillar_conv(&p);
}
