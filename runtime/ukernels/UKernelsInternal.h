/*===- UKernelsInternal.h - shared pieces of the micro-kernels ----*- C -*-===*
 *
 * Private to runtime/ukernels: the packed-weight layout, the variant
 * selection and small helpers. Everything here is `static inline` so that
 * the only external symbols of a kernel library are those of UKernels.h
 * (the host build links two variants into one binary under two names).
 *
 *===----------------------------------------------------------------------===*/

#ifndef QUANT_RUNTIME_UKERNELS_INTERNAL_H
#define QUANT_RUNTIME_UKERNELS_INTERNAL_H

#include "quant/Runtime/UKernels.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The AVX-512 variant is compiled when the target has everything it uses;
 * every other target gets the portable loops: C, and SSE2 where a kernel
 * needs vectors (baseline x86-64, the only target the variants are built
 * for). */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__) && \
    defined(__AVX512DQ__) && defined(__AVX512VNNI__)
#define UK_AVX512 1
#include <immintrin.h>
#else
#define UK_AVX512 0
#include <emmintrin.h>
#endif

#define UK_INLINE static inline __attribute__((always_inline))
/* Register tiles are arrays indexed by loop counters: only fully unrolled
 * loops (constant indices) keep them in registers, and GCC needs asking. */
#define UK_UNROLL _Pragma("GCC unroll 16")

UK_INLINE int64_t uk_min(int64_t a, int64_t b) { return a < b ? a : b; }
UK_INLINE int64_t uk_max(int64_t a, int64_t b) { return a > b ? a : b; }
UK_INLINE int64_t uk_ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
UK_INLINE int64_t uk_round_up(int64_t a, int64_t b) {
  return uk_ceil_div(a, b) * b;
}

/* Scratch buffers are allocated once per parallel task, never per call of
 * an inner loop; 64-byte alignment for full-vector loads and stores. */
#define UK_ALIGNMENT 64
UK_INLINE void *uk_alloc(size_t bytes) {
  return aligned_alloc(UK_ALIGNMENT,
                       (size_t)uk_round_up((int64_t)bytes + 1, UK_ALIGNMENT));
}

/*===----------------------------------------------------------------------===*
 * Packed weights.
 *
 *   [header: 128 bytes]
 *   [codes: num_panels panels of 16 columns, each panel_bytes]
 *   [group parameters: UkGroupParams [num_panels][G]]
 *   [code sums: int32_t [num_panels][G · blocks_per_group][16]]
 *
 * Every section starts on a 64-byte boundary; padded_n = 16 · num_panels
 * and padded columns hold code 0, scale 0, zero point 0. The parameters
 * and code sums are panel-major, so that a tile over a few panels reads
 * each section as one sequential stream a panel, like its codes: a GEMV
 * streams its weights from DRAM, and with the parameters in [G][padded_n]
 * arrays (three streams a panel, each a line per group at a stride of
 * padded_n) W4A8 at M = 1, 11008², on one Zen 4 thread took 2.46–2.49 ms
 * against 1.96–2.28 this way.
 *
 * Inside a panel, k runs over the groups in order, each group padded with
 * code 0 to padded_group_size (a multiple of UK_K_BLOCK), in blocks of 16 k
 * × 16 columns. Codes are stored in bit planes of width plane_bits (8, 4 or
 * 2; 3-bit codes use a 2-bit plane for their low bits). A 64-byte plane
 * vector covers `quads_per_vector` = 8 / plane_bits quads of 4 consecutive
 * k: byte 4·c + j holds, at bit offset plane_bits · s, the code of column c
 * and k = 4·(quads_per_vector · v + s) + j of the block. Byte 4·c + j of a
 * vector is exactly the lane layout of vpdpbusd (16 dwords = 16 columns, 4
 * k per dword), so one shift and one AND give the operand of one vpdpbusd.
 * For 3-bit codes the panel's plane vectors are followed by its high bits:
 * 4 little-endian 64-bit masks per block, bit 4·c + j of mask s being bit
 * 2 of the code of column c at k = 4·s + j.
 *
 * Groups of more than UK_MAX_BLOCK_K codes are summed in slices (blocks) of
 * UK_MAX_BLOCK_K so that every int32 block sum Σ(a − za)(u − z), at most
 * 255 · 255 · UK_MAX_BLOCK_K in magnitude, is exact.
 *===----------------------------------------------------------------------===*/

#define UK_PACKED_MAGIC 0x324b5551u /* "QUK2": panel-major parameters */
#define UK_HEADER_BYTES 128
#define UK_PANEL_COLS 16
#define UK_K_BLOCK 16
#define UK_PLANE_VECTOR_BYTES 64
#define UK_MAX_BLOCK_K 32768

typedef struct UkPackedHeader {
  uint32_t magic;
  int32_t bits;
  int64_t K;
  int64_t N;
  int64_t group_size;
  uint64_t codes_offset;
  uint64_t params_offset;
  uint64_t code_sums_offset;
} UkPackedHeader;

_Static_assert(sizeof(UkPackedHeader) <= UK_HEADER_BYTES,
               "the header must fit before the codes");

/* The scales and zero points of one group of one panel's 16 columns. */
typedef struct UkGroupParams {
  float scales[UK_PANEL_COLS];
  int32_t zero_points[UK_PANEL_COLS];
} UkGroupParams;

/* The geometry derived from (bits, K, N, group_size), shared by the packer
 * and the kernels, plus the section pointers of one blob. */
typedef struct UkWeights {
  int32_t bits;
  int32_t plane_bits;
  int64_t K, N, group_size;
  int64_t num_groups;
  int64_t padded_group_size; /* group_size rounded up to UK_K_BLOCK */
  int64_t blocks_per_group;  /* ceil(group_size / UK_MAX_BLOCK_K) */
  int64_t padded_k;          /* num_groups · padded_group_size */
  int64_t num_panels;
  int64_t padded_n;
  int64_t panel_bytes;
  const uint8_t *codes;
  const UkGroupParams *params;
  const int32_t *code_sums;
} UkWeights;

UK_INLINE bool uk_is_supported_bits(int32_t bits) {
  return bits == 2 || bits == 3 || bits == 4 || bits == 8;
}

UK_INLINE int32_t uk_plane_bits(int32_t bits) { return bits == 3 ? 2 : bits; }

/* Fills the geometry; false for invalid arguments or sizes that overflow. */
UK_INLINE bool uk_weights_geometry(int32_t bits, int64_t K, int64_t N,
                                   int64_t group_size, UkWeights *w) {
  /* 2^40 codes per dimension keeps every byte count below 2^63. */
  const int64_t kMaxDim = (int64_t)1 << 40;
  memset(w, 0, sizeof(*w));
  if (!uk_is_supported_bits(bits) || K < 1 || N < 1 || K > kMaxDim ||
      N > kMaxDim || group_size < 1 || K % group_size != 0)
    return false;
  w->bits = bits;
  w->plane_bits = uk_plane_bits(bits);
  w->K = K;
  w->N = N;
  w->group_size = group_size;
  w->num_groups = K / group_size;
  w->padded_group_size = uk_round_up(group_size, UK_K_BLOCK);
  w->blocks_per_group = uk_ceil_div(group_size, UK_MAX_BLOCK_K);
  w->padded_k = w->num_groups * w->padded_group_size;
  w->num_panels = uk_ceil_div(N, UK_PANEL_COLS);
  w->padded_n = w->num_panels * UK_PANEL_COLS;
  /* 16 k × 16 columns × bits / 8 bytes per block. */
  w->panel_bytes = w->padded_k / UK_K_BLOCK * 32 * bits;
  if ((double)w->num_panels * (double)w->panel_bytes > 0x1p62)
    return false;
  return true;
}

typedef struct UkSections {
  uint64_t codes, params, code_sums, total;
} UkSections;

UK_INLINE UkSections uk_sections(const UkWeights *w) {
  UkSections s;
  uint64_t params =
      (uint64_t)w->num_panels * (uint64_t)w->num_groups * sizeof(UkGroupParams);
  uint64_t sums = (uint64_t)w->num_groups * (uint64_t)w->padded_n * 4 *
                  (uint64_t)w->blocks_per_group;
  s.codes = UK_HEADER_BYTES;
  s.params = s.codes + (uint64_t)uk_round_up(w->num_panels * w->panel_bytes,
                                             UK_ALIGNMENT);
  s.code_sums = s.params + (uint64_t)uk_round_up(params, UK_ALIGNMENT);
  s.total = s.code_sums + (uint64_t)uk_round_up(sums, UK_ALIGNMENT);
  return s;
}

/* The view of a blob made by qr_uk_pack_weights (trusted: the kernels are
 * called by generated code on blobs the compiler packed). */
UK_INLINE UkWeights uk_weights_view(const void *packed) {
  const UkPackedHeader *h = (const UkPackedHeader *)packed;
  const uint8_t *base = (const uint8_t *)packed;
  UkWeights w;
  uk_weights_geometry(h->bits, h->K, h->N, h->group_size, &w);
  w.codes = base + h->codes_offset;
  w.params = (const UkGroupParams *)(base + h->params_offset);
  w.code_sums = (const int32_t *)(base + h->code_sums_offset);
  return w;
}

/* Where the packer writes, and the kernels read, the parameters of (panel,
 * group) in the parameter section (in records) and the code sums of
 * (panel, accumulation block) in the code-sum section (in int32). */
UK_INLINE int64_t uk_group_params_index(const UkWeights *w, int64_t panel,
                                        int64_t group) {
  return panel * w->num_groups + group;
}
UK_INLINE int64_t uk_code_sums_offset(const UkWeights *w, int64_t panel,
                                      int64_t block) {
  return (panel * w->num_groups * w->blocks_per_group + block) * UK_PANEL_COLS;
}

UK_INLINE const UkGroupParams *uk_group_params(const UkWeights *w,
                                               int64_t panel, int64_t group) {
  return w->params + uk_group_params_index(w, panel, group);
}

/* Σu of accumulation block `block` for the panel's 16 columns. */
UK_INLINE const int32_t *uk_code_sums(const UkWeights *w, int64_t panel,
                                      int64_t block) {
  return w->code_sums + uk_code_sums_offset(w, panel, block);
}

/* The k range [begin, begin + size) of accumulation block `block` (global
 * index g · blocks_per_group + slice) in padded k, and its real length. */
typedef struct UkBlock {
  int64_t group;
  int64_t padded_begin; /* in the padded k of the panels */
  int64_t padded_size;  /* multiple of UK_K_BLOCK */
  int64_t real_begin;   /* in the caller's k */
  int64_t real_size;
} UkBlock;

UK_INLINE UkBlock uk_block(const UkWeights *w, int64_t block) {
  UkBlock b;
  /* Kernels call this per block: no divisions in the common case. */
  int64_t slice = 0;
  b.group = block;
  if (w->blocks_per_group > 1) {
    slice = block % w->blocks_per_group;
    b.group = block / w->blocks_per_group;
  }
  int64_t offset = slice * UK_MAX_BLOCK_K;
  b.padded_begin = b.group * w->padded_group_size + offset;
  b.padded_size = uk_min(UK_MAX_BLOCK_K, w->padded_group_size - offset);
  b.real_begin = b.group * w->group_size + offset;
  b.real_size = uk_min(UK_MAX_BLOCK_K, w->group_size - offset);
  return b;
}

/* Where the plane field of code (k, c) of a block lives, k, c < 16. */
UK_INLINE int64_t uk_plane_byte(int32_t plane_bits, int64_t k, int64_t c) {
  int64_t quads_per_vector = 8 / plane_bits;
  int64_t quad = k / 4;
  return quad / quads_per_vector * UK_PLANE_VECTOR_BYTES + 4 * c + k % 4;
}
UK_INLINE int uk_plane_shift(int32_t plane_bits, int64_t k) {
  int64_t quads_per_vector = 8 / plane_bits;
  return (int)(plane_bits * (k / 4 % quads_per_vector));
}

/* Bytes of one block's plane vectors, and where a panel's 3-bit high-bit
 * masks start. */
UK_INLINE int64_t uk_block_plane_bytes(int32_t plane_bits) {
  return UK_K_BLOCK * UK_PANEL_COLS * plane_bits / 8;
}
UK_INLINE int64_t uk_high_bits_offset(const UkWeights *w) {
  return w->padded_k / UK_K_BLOCK * uk_block_plane_bytes(w->plane_bits);
}

/* The plane fields of one block as codes[k][c]; PB is a constant at each
 * call site so that the index arithmetic folds. */
UK_INLINE void uk_decode_plane(const int PB, const uint8_t *plane,
                               uint8_t codes[UK_K_BLOCK][UK_PANEL_COLS]) {
  const int quads_per_vector = 8 / PB;
  for (int v = 0; v < UK_K_BLOCK / 4 / quads_per_vector; ++v)
    for (int s = 0; s < quads_per_vector; ++s)
      for (int c = 0; c < UK_PANEL_COLS; ++c)
        for (int j = 0; j < 4; ++j)
          codes[4 * (quads_per_vector * v + s) + j][c] =
              (uint8_t)(plane[UK_PLANE_VECTOR_BYTES * v + 4 * c + j] >>
                        (PB * s)) &
              (uint8_t)((1u << PB) - 1);
}

/* The codes [k][c] of padded k-block `kb` of `panel` (portable decoder,
 * the reference of the layout for the generic kernels). */
UK_INLINE void uk_decode_block(const UkWeights *w, const uint8_t *panel,
                               int64_t kb,
                               uint8_t codes[UK_K_BLOCK][UK_PANEL_COLS]) {
  const uint8_t *plane = panel + kb * uk_block_plane_bytes(w->plane_bits);
  switch (w->plane_bits) {
  case 2:
    uk_decode_plane(2, plane, codes);
    break;
  case 4:
    uk_decode_plane(4, plane, codes);
    break;
  default:
    uk_decode_plane(8, plane, codes);
    break;
  }
  if (w->bits != 3)
    return;
  const uint8_t *high_bits = panel + uk_high_bits_offset(w) + kb * 32;
  for (int s = 0; s < UK_K_BLOCK / 4; ++s) {
    uint64_t mask;
    memcpy(&mask, high_bits + 8 * s, sizeof(mask));
    for (int c = 0; c < UK_PANEL_COLS; ++c)
      for (int j = 0; j < 4; ++j)
        codes[4 * s + j][c] |= (uint8_t)(((mask >> (4 * c + j)) & 1) << 2);
  }
}

#if UK_AVX512
/* The vpdpbusd operand of quad `quad` (k = 4·quad .. 4·quad + 3) of a
 * 16-k block: one load per plane vector, then a shift and a mask. */
UK_INLINE __m512i uk_quad_codes(const int bits, const uint8_t *plane,
                                const uint8_t *high_bits, int quad) {
  if (bits == 8)
    return _mm512_loadu_si512(plane + UK_PLANE_VECTOR_BYTES * quad);
  const int plane_bits = bits == 3 ? 2 : bits;
  const int quads_per_vector = 8 / plane_bits;
  __m512i vector = _mm512_loadu_si512(
      plane + UK_PLANE_VECTOR_BYTES * (quad / quads_per_vector));
  __m512i codes = _mm512_and_si512(
      _mm512_srli_epi16(vector, plane_bits * (quad % quads_per_vector)),
      _mm512_set1_epi8((char)((1 << plane_bits) - 1)));
  if (bits != 3)
    return codes;
  __mmask64 high;
  memcpy(&high, high_bits + 8 * quad, sizeof(high));
  return _mm512_mask_add_epi8(codes, high, codes, _mm512_set1_epi8(4));
}
#endif

#endif /* QUANT_RUNTIME_UKERNELS_INTERNAL_H */
