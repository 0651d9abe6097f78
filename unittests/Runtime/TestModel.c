/*===- TestModel.c - a tiny compiled model for the runtime's tests --------===*
 *
 * Stands in for quant-translate --to-shared-lib output: y = x * s for
 * x float32 [2,3] and a scalar s, split over the runtime's thread pool the
 * way generated code does. Compile definitions build broken variants that
 * the loader must reject:
 *
 *   TEST_MODEL_BAD_VERSION, TEST_MODEL_UNKNOWN_DTYPE, TEST_MODEL_GARBAGE_LINE
 *                              a malformed signature
 *   TEST_MODEL_NO_RUN          no quant_model_run symbol
 *   TEST_MODEL_NO_SIGNATURE    no quant_model_signature symbol
 *   TEST_MODEL_FAILING         quant_model_run returns 7
 *
 * and TEST_MODEL_CUDA, whose signature says `device cuda` (for the
 * driver's CUDA checks; its run touches no buffer, which would be device
 * memory).
 *===----------------------------------------------------------------------===*/

#include "quant/Runtime/Runtime.h"

#if defined(TEST_MODEL_BAD_VERSION)
#define SIGNATURE_HEADER "quant-model 2\n"
#else
#define SIGNATURE_HEADER "quant-model 1\n"
#endif

#if defined(TEST_MODEL_UNKNOWN_DTYPE)
#define SIGNATURE_X "input x bfloat16 [2,3]\n"
#else
#define SIGNATURE_X "input x float32 [2,3]\n"
#endif

#if defined(TEST_MODEL_GARBAGE_LINE)
#define SIGNATURE_EXTRA "hello world\n"
#else
#define SIGNATURE_EXTRA ""
#endif

#if defined(TEST_MODEL_CUDA)
#define SIGNATURE_DEVICE "device cuda\n"
#else
#define SIGNATURE_DEVICE ""
#endif

#if !defined(TEST_MODEL_NO_SIGNATURE)
const char quant_model_signature[] =
    SIGNATURE_HEADER SIGNATURE_X "input s float32 []\n" SIGNATURE_EXTRA
                                 "output y float32 [2,3]\n" SIGNATURE_DEVICE;
#endif

#if defined(TEST_MODEL_FAILING)
int32_t quant_model_run(void **buffers) {
  (void)buffers;
  return 7;
}
#elif defined(TEST_MODEL_CUDA)
int32_t quant_model_run(void **buffers) {
  (void)buffers;
  return 0;
}
#elif !defined(TEST_MODEL_NO_RUN)
struct Scale {
  const float *x;
  float s;
  float *y;
};

static void scaleRange(void *context, int64_t begin, int64_t end) {
  const struct Scale *scale = (const struct Scale *)context;
  for (int64_t i = begin; i < end; ++i)
    scale->y[i] = scale->x[i] * scale->s;
}

int32_t quant_model_run(void **buffers) {
  struct Scale scale = {(const float *)buffers[0], *(const float *)buffers[1],
                        (float *)buffers[2]};
  qr_parallel_for(6, 1, scaleRange, &scale);
  return 0;
}
#endif
