/*===- CudaRuntime.h - quant runtime, CUDA part -------------------*- C -*-===*
 *
 * The GPU half of the runtime, on the CUDA driver API only (no CUDA runtime
 * library, no MLIR runtime wrappers). libcuda is dlopen()ed on first use, so
 * the runtime loads and runs CPU models on machines without a driver; every
 * call below then fails with a message saying why ("no CUDA driver:
 * libcuda.so.1: cannot open shared object file").
 *
 * $QUANT_CUDA_DRIVER names another library to load instead of libcuda.so.1
 * (tests use it to act out a machine without a driver).
 *
 * One process-wide context (device 0, or $QUANT_CUDA_DEVICE) and one stream:
 * compiled GPU models, the kernels of GpuKernels.h and the `mgpu*` ABI that
 * MLIR's gpu-to-llvm lowering calls all work on it. Errors are checked on
 * every driver call and reported with the call's name
 * ("cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (out of memory)"), through
 * qr_last_error() for the functions here and qr_report_kernel_error() (which
 * makes qr_model_run fail) for calls from compiled code.
 *
 *===----------------------------------------------------------------------===*/

#ifndef QUANT_RUNTIME_CUDARUNTIME_H
#define QUANT_RUNTIME_CUDARUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Loads the driver and creates the context; 0 on success, -1 (with
 * qr_last_error) when there is no driver, no device, or the runtime was
 * built without CUDA. Every function below calls it. */
int qr_cuda_init(void);
/* "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)", or NULL before a successful
 * qr_cuda_init. */
const char *qr_cuda_device_name(void);

/* Device memory; NULL / -1 with qr_last_error on failure. malloc(0) gives
 * a valid pointer, free(NULL) does nothing. Host copies (htod, dtoh) are
 * ordered after the work queued on the stream and complete on return; dtod
 * and memset are queued on the stream. */
void *qr_cuda_malloc(size_t bytes);
void qr_cuda_free(void *device_ptr);
int qr_cuda_memcpy_htod(void *device_dst, const void *host_src, size_t bytes);
int qr_cuda_memcpy_dtoh(void *host_dst, const void *device_src, size_t bytes);
int qr_cuda_memcpy_dtod(void *device_dst, const void *device_src,
                        size_t bytes);
int qr_cuda_memset_d8(void *device_dst, uint8_t value, size_t bytes);
/* Waits for the stream; returns -1 with the first asynchronous error. */
int qr_cuda_synchronize(void);
/* The stream (a CUstream) every launch goes to. */
void *qr_cuda_stream(void);

/* Device-side copy of read-only host data (a compiled model's weights),
 * uploaded on the first call for `host` and returned from a cache keyed by
 * the host address afterwards; NULL with qr_report_kernel_error on failure.
 * qr_cuda_release_constants frees the copies of [begin, end) (a model's
 * data segment) when the model is unloaded. */
void *qr_cuda_constant(const void *host, size_t bytes);
void qr_cuda_release_constants(const void *begin, const void *end);

/* Copies `bytes` of device memory to the host after the work queued on the
 * stream and waits for it: how a compiled GPU model reads a scalar its host
 * code needs (a pillar conv's row count). Failures go to
 * qr_report_kernel_error (the host bytes are then zero). */
void qr_cuda_read(void *host, const void *device, size_t bytes);
/* Copies `bytes` from the host to device memory in stream order (the host
 * bytes may be reused on return): how a compiled GPU model stores a scalar
 * its host code computed (a row count into a model output). */
void qr_cuda_write(void *device, const void *host, size_t bytes);

/* Timing with device events on the stream: the milliseconds taken by the
 * work enqueued between qr_cuda_timer_start and qr_cuda_timer_stop
 * (which synchronizes); negative with qr_last_error on failure. */
int qr_cuda_timer_start(void);
double qr_cuda_timer_stop(void);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_RUNTIME_CUDARUNTIME_H */
