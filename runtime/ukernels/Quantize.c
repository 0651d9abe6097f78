/*===- Quantize.c - symmetric per-token quantization ----------------------===*
 *
 * Bit-exact with the float64 reference evaluator: NaN never raises the
 * absmax, the scale is the double quotient rounded to float, each code is
 * the double quotient x / scale rounded half to even and clamped, and NaN
 * quotients (NaN or infinite inputs over an infinite scale) give 0.
 *
 *===----------------------------------------------------------------------===*/

#include "UKernelsInternal.h"

#include "quant/Runtime/Runtime.h"

typedef struct QuantizeProblem {
  int64_t K;
  const float *X;
  int64_t ldx;
  int8_t *Q;
  int64_t ldq;
  float *scales;
  int32_t bits;
} QuantizeProblem;

#if UK_AVX512

static float row_absmax(const float *x, int64_t K) {
  __m512 absmax = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; k += 16) {
    __mmask16 lanes =
        K - k >= 16 ? 0xFFFF : (__mmask16)((1u << (K - k)) - 1);
    /* vmaxps returns its second operand when either is NaN. */
    absmax = _mm512_max_ps(_mm512_abs_ps(_mm512_maskz_loadu_ps(lanes, x + k)),
                           absmax);
  }
  return _mm512_reduce_max_ps(absmax);
}

/* Eight codes of x[0, 8) masked by `lanes`. */
UK_INLINE void quantize_eight(const float *x, int8_t *q, __mmask8 lanes,
                              __m512d scale, __m512d qmin, __m512d qmax) {
  __m512d quotient = _mm512_div_pd(
      _mm512_cvtps_pd(_mm256_maskz_loadu_ps(lanes, x)), scale);
  __m512d rounded = _mm512_roundscale_pd(
      quotient, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512d clamped = _mm512_min_pd(_mm512_max_pd(rounded, qmin), qmax);
  __mmask8 is_number = _mm512_cmp_pd_mask(rounded, rounded, _CMP_ORD_Q);
  __m256i codes = _mm512_maskz_cvtpd_epi32(is_number, clamped);
  _mm_mask_storeu_epi8(q, lanes, _mm256_cvtepi32_epi8(codes));
}

static void quantize_row(const QuantizeProblem *p, const float *x, int8_t *q,
                         double scale) {
  const double qmax = (double)((1 << (p->bits - 1)) - 1);
  const __m512d vscale = _mm512_set1_pd(scale);
  const __m512d vmin = _mm512_set1_pd(-qmax - 1), vmax = _mm512_set1_pd(qmax);
  for (int64_t k = 0; k < p->K; k += 8) {
    __mmask8 lanes =
        p->K - k >= 8 ? 0xFF : (__mmask8)((1u << (p->K - k)) - 1);
    quantize_eight(x + k, q + k, lanes, vscale, vmin, vmax);
  }
}

#else

static float row_absmax(const float *x, int64_t K) {
  float absmax = 0;
  for (int64_t k = 0; k < K; ++k) {
    float magnitude = x[k] < 0 ? -x[k] : x[k];
    if (magnitude > absmax) /* false for NaN */
      absmax = magnitude;
  }
  return absmax;
}

/* Round half to even of a double in [−2^30, 2^30], independent of the
 * floating-point environment and without libm. */
static int32_t round_half_even(double x) {
  int32_t truncated = (int32_t)x;
  double fraction = x - truncated; /* exact */
  if (fraction > 0.5 || (fraction == 0.5 && (truncated & 1)))
    return truncated + 1;
  if (fraction < -0.5 || (fraction == -0.5 && (truncated & 1)))
    return truncated - 1;
  return truncated;
}

static void quantize_row(const QuantizeProblem *p, const float *x, int8_t *q,
                         double scale) {
  const double qmax = (double)((1 << (p->bits - 1)) - 1);
  for (int64_t k = 0; k < p->K; ++k) {
    double quotient = (double)x[k] / scale;
    if (quotient != quotient) {
      q[k] = 0;
      continue;
    }
    /* Clamping first keeps the conversion in range; it cannot change the
     * rounded, clamped code. */
    if (quotient < -qmax - 1)
      quotient = -qmax - 1;
    if (quotient > qmax)
      quotient = qmax;
    q[k] = (int8_t)round_half_even(quotient);
  }
}

#endif

static void quantize_task(void *context, int64_t begin, int64_t end) {
  const QuantizeProblem *p = (const QuantizeProblem *)context;
  const double qmax = (double)((1 << (p->bits - 1)) - 1);
  for (int64_t m = begin; m < end; ++m) {
    const float *x = p->X + m * p->ldx;
    int8_t *q = p->Q + m * p->ldq;
    float scale = (float)((double)row_absmax(x, p->K) / qmax);
    p->scales[m] = scale;
    if (scale == 0)
      memset(q, 0, (size_t)p->K);
    else
      quantize_row(p, x, q, (double)scale);
  }
}

void qr_uk_quantize_per_token_f32(int64_t M, int64_t K, const float *X,
                                  int64_t ldx, int32_t bits, int8_t *Q,
                                  int64_t ldq, float *scales) {
  QuantizeProblem p = {
      .K = K,
      .X = X,
      .ldx = ldx,
      .Q = Q,
      .ldq = ldq,
      .scales = scales,
      .bits = bits,
  };
  /* About 16 Ki elements per task. */
  qr_parallel_for(M, uk_max(1, 16384 / K), quantize_task, &p);
}
