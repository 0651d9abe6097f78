//===- NoKernels.cpp - the GpuKernels.h ABI in a runtime without CUDA -----===//
//
// A GPU model compiled elsewhere still loads against a runtime configured
// without CUDA; its kernel calls then fail the run with this message
// instead of the model failing to load on undefined symbols.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/GpuKernels.h"
#include "quant/Runtime/Runtime.h"

namespace {
void noCuda() {
  qr_report_kernel_error("GPU kernel called, but this runtime was built "
                         "without CUDA (no cuda.h found at configure time)");
}
} // namespace

extern "C" {
void qr_gpu_matmul_f16w(int64_t, int64_t, int64_t, int32_t, int64_t,
                        const float *, int64_t, const void *, float *,
                        int64_t) {
  noCuda();
}
void qr_gpu_matmul_s8(int64_t, int64_t, int64_t, int32_t, int64_t,
                      const int8_t *, int64_t, const float *, float, int32_t,
                      const void *, float *, int64_t) {
  noCuda();
}
void qr_gpu_gemm_f32(int64_t, int64_t, int64_t, int64_t, const float *, int64_t,
                     int64_t, const float *, int64_t, int64_t, int32_t, float *,
                     int64_t, int64_t) {
  noCuda();
}
void qr_gpu_hadamard_f32(float *, int64_t, int64_t, int64_t, const int8_t *,
                         const int8_t *, int64_t) {
  noCuda();
}
void qr_gpu_quantize_per_token_f32(int64_t, int64_t, const float *, int64_t,
                                   int32_t, int8_t *, int64_t, float *) {
  noCuda();
}
void qr_gpu_pillar_norms_f32(int64_t, int64_t, const float *, int64_t,
                             double *) {
  noCuda();
}
void qr_gpu_pillar_norms_s8(int64_t, int64_t, const int8_t *, int64_t, double,
                            int32_t, double *) {
  noCuda();
}
void qr_gpu_pillar_rulebook(int64_t, const int32_t *, int64_t, int64_t, int64_t,
                            int64_t, int32_t, const double *, double, double,
                            int64_t, int32_t *, int32_t *, int64_t *) {
  noCuda();
}
void qr_gpu_pillar_conv_f32(int64_t, int64_t, int64_t, int64_t, const float *,
                            const int32_t *, const float *, const float *,
                            float *) {
  noCuda();
}
void qr_gpu_pillar_conv_f16w(int64_t, int64_t, int64_t, int64_t, int32_t,
                             int64_t, const float *, const int32_t *,
                             const void *, const float *, float *) {
  noCuda();
}
void qr_gpu_pillar_conv_s8(int64_t, int64_t, int64_t, int64_t, int32_t, int64_t,
                           const int8_t *, float, int32_t, const int32_t *,
                           const void *, const float *, float *) {
  noCuda();
}
} // extern "C"
