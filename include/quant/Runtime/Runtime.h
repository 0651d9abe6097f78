/*===- Runtime.h - quant runtime C API ----------------------------*- C -*-===*
 *
 * The stable C ABI of quant's runtime: aligned tensor buffers, .npy I/O with
 * validation, the thread pool, timing and compiled-model loading. Compiled
 * models and the tools (quant-run) link it; it has no MLIR dependency. Every
 * call that can fail returns NULL or non-zero and leaves a one-line,
 * thread-local message in qr_last_error().
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
  QR_DTYPE_INVALID = -1, /* returned for a tensor that does not exist */
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

/*===----------------------------------------------------------------------===*
 * Thread pool. One process-wide pool; compiled models and the micro-kernels
 * split their work with qr_parallel_for. The calling thread takes part, so
 * one thread means no worker threads and no synchronisation.
 *===----------------------------------------------------------------------===*/

/* Sets the number of threads, the caller included (1 to 1024; 0 = every CPU
 * this process may run on); 0 on success. Must not be called from inside
 * qr_parallel_for. The default is $QUANT_NUM_THREADS when that is a
 * non-negative integer, else every CPU. */
int qr_set_num_threads(int32_t threads);
int32_t qr_get_num_threads(void);

typedef void (*qr_task_fn)(void *context, int64_t begin, int64_t end);

/* Calls fn(context, begin, end) on disjoint ranges covering [0, n), each at
 * least `grain` long (except the last), and returns when all are done.
 * Nested calls, and calls made while another thread's call is running, run
 * serially on the calling thread. fn must not throw or longjmp. */
void qr_parallel_for(int64_t n, int64_t grain, qr_task_fn fn, void *context);

/* Monotonic clock in nanoseconds. */
uint64_t qr_now_ns(void);

/*===----------------------------------------------------------------------===*
 * Compiled models. A model is a shared library (quant-translate
 * --to-shared-lib) exporting two symbols:
 *
 *   const char quant_model_signature[];   the signature text below
 *   int32_t quant_model_run(void **buffers);
 *
 * `buffers` holds one pointer per input, then one per output, each to a
 * dense row-major buffer of the signature's dtype and shape (outputs are
 * written, never allocated by the model). It returns 0 on success.
 *
 * The signature is line-oriented text, version 1 (a NUL-terminated char
 * array, not a pointer):
 *
 *   quant-model 1
 *   input <name> <numpy dtype> [<d0>,<d1>,...]
 *   output <name> <numpy dtype> [<d0>,...]
 *   device cuda                        (optional, at most once)
 *
 * e.g. "input x float32 [4,512]"; a scalar's shape is "[]". Inputs and
 * outputs are numbered in the order they appear. Names hold no blanks and
 * no '=' and are unique among the inputs and among the outputs; dtypes are
 * qr_dtype_name()'s; dimensions are static, non-negative integers; blank
 * lines are ignored. A model has at least one output. A model compiled for
 * the GPU (--qnn-lower-to-gpu) says `device cuda`: its buffers are device
 * pointers (qr_model_run_buffers); `device cpu` is the default.
 *
 * Results whose row count is only known at run time (e.g. the active sites
 * of a strided or dilating qnn.pillar_conv) keep static shapes: the
 * compiler (--qnn-bound-dynamic-results) returns such a result zero-padded
 * to a static upper bound of its rows, followed by an int64 scalar output
 * holding the actual row count; the caller reads that many rows.
 *===----------------------------------------------------------------------===*/

#define QR_MODEL_ABI_VERSION 1

typedef int32_t (*qr_model_entry)(void **buffers);

typedef struct qr_model qr_model;

/* dlopen()s a compiled model (RTLD_NOW | RTLD_LOCAL; a path without '/' is
 * relative to the current directory) and validates its signature. */
qr_model *qr_model_load(const char *path);
/* A model linked into the executable itself (quant-translate
 * --to-executable). */
qr_model *qr_model_from_symbols(const char *signature, qr_model_entry entry);
void qr_model_destroy(qr_model *model);

/* "cuda" for a model whose signature says `device cuda`, else "cpu". */
const char *qr_model_device(const qr_model *model);
int32_t qr_model_num_inputs(const qr_model *model);
int32_t qr_model_num_outputs(const qr_model *model);
/* Describe input/output `index`: NULL, QR_DTYPE_INVALID or -1 when it is
 * out of range. A scalar has rank 0 and a non-NULL (empty) shape. */
const char *qr_model_input_name(const qr_model *model, int32_t index);
qr_dtype qr_model_input_dtype(const qr_model *model, int32_t index);
int32_t qr_model_input_rank(const qr_model *model, int32_t index);
const int64_t *qr_model_input_shape(const qr_model *model, int32_t index);
const char *qr_model_output_name(const qr_model *model, int32_t index);
qr_dtype qr_model_output_dtype(const qr_model *model, int32_t index);
int32_t qr_model_output_rank(const qr_model *model, int32_t index);
const int64_t *qr_model_output_shape(const qr_model *model, int32_t index);

/* Runs the model on its inputs and outputs in signature order. The counts
 * and every tensor's dtype and shape must match the signature (a mismatch is
 * an error naming the tensor, with expected and actual); outputs must not
 * share a tensor with an input or another output. 0 on success. */
int qr_model_run(qr_model *model, int32_t num_inputs, qr_tensor *const *inputs,
                 int32_t num_outputs, qr_tensor *const *outputs);

/* Runs the model on raw buffers: `num_buffers` pointers, the inputs then
 * the outputs in signature order, each to a dense row-major buffer of the
 * signature's dtype and shape (the caller's guarantee: the runtime cannot
 * check sizes). This is how a GPU model (--qnn-lower-to-gpu) runs, on
 * device buffers from qr_cuda_malloc. The count must match, no buffer may
 * be NULL, and an output must not share its buffer with another input or
 * output. 0 on success. qr_model_run refuses a `device cuda` model. */
int qr_model_run_buffers(qr_model *model, int32_t num_buffers,
                         void *const *buffers);

/* Called by micro-kernels on invalid runtime data (duplicate or out-of-grid
 * pillar coordinates, ...): the first message of a run is kept and the
 * qr_model_run in progress returns non-zero with it. The kernel itself
 * carries on with an empty result, so the model finishes without reading
 * out of bounds. */
void qr_report_kernel_error(const char *message);

/* The kernel error reported since the last qr_model_run or call of this
 * function, cleared, or NULL: for programs that call the kernels directly
 * (tests, benchmarks). Valid until the next call on this thread. */
const char *qr_take_kernel_error(void);

/* The command-line driver shared by quant-run and compiled executables:
 *
 *   PROGRAM [--input [NAME=]X.npy]... [--output [NAME=]Y.npy]...
 *           [--bench N] [--warmup W] [--threads T] [--device cpu|cuda]
 *           [--inspect]
 *
 * `argv[0]` is the program name used in messages; `--help` explains the
 * rest. Returns the process exit status: 0, 1 for a failure (unreadable or
 * mismatching .npy file, failed run), 2 for a usage error. A NULL model
 * (e.g. from a failed qr_model_from_symbols) reports qr_last_error() and
 * returns 1. Takes ownership of nothing. */
int qr_driver_main(int argc, char **argv, qr_model *model);

#ifdef __cplusplus
}
#endif

#endif /* QUANT_RUNTIME_RUNTIME_H */
