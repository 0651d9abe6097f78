/*===- Pack.c - packing integer weights for the micro-kernels -------------===*
 *
 * Portable code shared by both kernel variants and by the compiler (which
 * packs constant weights at compile time): the layout is described in
 * UKernelsInternal.h.
 *
 *===----------------------------------------------------------------------===*/

#include "UKernelsInternal.h"

size_t qr_uk_packed_weights_bytes(int32_t bits, int64_t K, int64_t N,
                                  int64_t group_size) {
  UkWeights w;
  if (!uk_weights_geometry(bits, K, N, group_size, &w))
    return 0;
  return (size_t)uk_sections(&w).total;
}

static bool codes_in_range(const UkWeights *w, const uint8_t *codes,
                           const int32_t *zero_points) {
  const int32_t limit = 1 << w->bits;
  for (int64_t i = 0, e = w->K * w->N; i < e; ++i)
    if (codes[i] >= limit)
      return false;
  for (int64_t i = 0, e = w->num_groups * w->N; i < e; ++i)
    if (zero_points[i] < 0 || zero_points[i] >= limit)
      return false;
  return true;
}

/* Writes code `code` of padded row k (within the panel) and column c. PB
 * (the plane width) is a constant at each call site, so that the index
 * arithmetic folds: packing runs at compile time over whole models. */
UK_INLINE void store_code(const UkWeights *w, const int PB, uint8_t *panel,
                          int64_t k, int64_t c, uint8_t code) {
  int64_t kb = k / UK_K_BLOCK, kk = k % UK_K_BLOCK;
  uint8_t *plane = panel + kb * uk_block_plane_bytes(PB);
  uint8_t field = code & (uint8_t)((1u << PB) - 1);
  plane[uk_plane_byte(PB, kk, c)] |= (uint8_t)(field
                                               << uk_plane_shift(PB, kk));
  if (w->bits == 3 && (code & 4)) {
    uint8_t *masks = panel + uk_high_bits_offset(w) + kb * 32;
    int bit = (int)(4 * c + kk % 4);
    masks[8 * (kk / 4) + bit / 8] |= (uint8_t)(1u << (bit % 8));
  }
}

/* The codes into the panels, and their sums per block and column. */
UK_INLINE void pack_codes(const UkWeights *w, const int PB,
                          const uint8_t *codes, uint8_t *panels,
                          int32_t *code_sums) {
  for (int64_t k = 0; k < w->K; ++k) {
    int64_t group = k / w->group_size, offset = k % w->group_size;
    int64_t padded_row = group * w->padded_group_size + offset;
    int64_t block = group * w->blocks_per_group + offset / UK_MAX_BLOCK_K;
    for (int64_t n = 0; n < w->N; ++n) {
      uint8_t code = codes[k * w->N + n];
      store_code(w, PB, panels + n / UK_PANEL_COLS * w->panel_bytes,
                 padded_row, n % UK_PANEL_COLS, code);
      code_sums[uk_code_sums_offset(w, n / UK_PANEL_COLS, block) +
                n % UK_PANEL_COLS] += code;
    }
  }
}

int qr_uk_pack_weights(int32_t bits, int64_t K, int64_t N, int64_t group_size,
                       const uint8_t *codes, const float *scales,
                       const int32_t *zero_points, void *packed) {
  UkWeights w;
  if (!codes || !scales || !zero_points || !packed ||
      !uk_weights_geometry(bits, K, N, group_size, &w) ||
      !codes_in_range(&w, codes, zero_points))
    return -1;
  UkSections sections = uk_sections(&w);
  uint8_t *base = (uint8_t *)packed;
  /* Padding (codes, parameters of padded columns) must read as zero. */
  memset(base, 0, (size_t)sections.total);

  UkPackedHeader header = {
      .magic = UK_PACKED_MAGIC,
      .bits = bits,
      .K = K,
      .N = N,
      .group_size = group_size,
      .codes_offset = sections.codes,
      .params_offset = sections.params,
      .code_sums_offset = sections.code_sums,
  };
  memcpy(base, &header, sizeof(header));

  uint8_t *panels = base + sections.codes;
  UkGroupParams *params = (UkGroupParams *)(base + sections.params);
  int32_t *code_sums = (int32_t *)(base + sections.code_sums);
  switch (w.plane_bits) {
  case 2:
    pack_codes(&w, 2, codes, panels, code_sums);
    break;
  case 4:
    pack_codes(&w, 4, codes, panels, code_sums);
    break;
  default:
    pack_codes(&w, 8, codes, panels, code_sums);
    break;
  }
  for (int64_t g = 0; g < w.num_groups; ++g)
    for (int64_t n = 0; n < N; ++n) {
      UkGroupParams *record =
          &params[uk_group_params_index(&w, n / UK_PANEL_COLS, g)];
      record->scales[n % UK_PANEL_COLS] = scales[g * N + n];
      record->zero_points[n % UK_PANEL_COLS] = zero_points[g * N + n];
    }
  return 0;
}
