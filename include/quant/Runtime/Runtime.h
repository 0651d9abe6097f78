/*===- Runtime.h - quant runtime C API ----------------------------*- C -*-===*
 *
 * The stable C ABI of quant's runtime: aligned tensor buffers and .npy I/O
 * with validation. Compiled models and the tools (quant-run) link it; it
 * has no MLIR dependency. Every call that can fail returns NULL or non-zero
 * and leaves a one-line, thread-local message in qr_last_error().
 *
 *===----------------------------------------------------------------------===*/

#ifndef QUANT_RUNTIME_RUNTIME_H
#define QUANT_RUNTIME_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Element types, numbered as in the model ABI. */
typedef enum qr_dtype {
  QR_BOOL = 0,
  QR_I8 = 1,
  QR_I16 = 2,
  QR_I32 = 3,
  QR_I64 = 4,
  QR_U8 = 5,
  QR_U16 = 6,
  QR_U32 = 7,
  QR_U64 = 8,
  QR_F16 = 9,
  QR_F32 = 10,
  QR_F64 = 11,
} qr_dtype;

/* Buffers start on this boundary (a cache line; an AVX-512 vector). */
#define QR_TENSOR_ALIGNMENT 64

typedef struct qr_tensor qr_tensor;

/* Allocates a zero-filled tensor; rank may be 0 (a scalar). */
qr_tensor *qr_tensor_create(qr_dtype dtype, int32_t rank, const int64_t *shape);
void qr_tensor_destroy(qr_tensor *tensor);

qr_dtype qr_tensor_dtype(const qr_tensor *tensor);
int32_t qr_tensor_rank(const qr_tensor *tensor);
const int64_t *qr_tensor_shape(const qr_tensor *tensor);
int64_t qr_tensor_num_elements(const qr_tensor *tensor);
size_t qr_tensor_num_bytes(const qr_tensor *tensor);
void *qr_tensor_data(qr_tensor *tensor);

/* numpy's name of a dtype ("float32", "int8", ...) and its size in bytes. */
const char *qr_dtype_name(qr_dtype dtype);
size_t qr_dtype_size(qr_dtype dtype);

/* Reads a .npy file (format 1-3, little endian, C order). NULL on a missing,
 * malformed, truncated or unsupported file. */
qr_tensor *qr_npy_load(const char *path);
/* Writes a tensor as a format 1.0 .npy file; 0 on success. */
int qr_npy_save(const char *path, const qr_tensor *tensor);

/* The message of the last failed call on this thread ("" if none). */
const char *qr_last_error(void);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_RUNTIME_RUNTIME_H */
