//===- Runtime.cpp - quant runtime C API ----------------------------------===//

#include "quant/Runtime/Runtime.h"
#include "RuntimeInternal.h"
#include "quant/Support/Npy.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <string>
#include <vector>

struct qr_tensor {
  qr_dtype dtype;
  std::vector<int64_t> shape;
  int64_t numElements;
  size_t numBytes;
  void *data;
};

namespace {

thread_local std::string lastError;

template <typename T> T fail(T result, std::string message) {
  lastError = std::move(message);
  return result;
}

// qr_dtype and quant::NpyType list the same types in the same order.
static_assert(int(quant::NpyType::Bool) == QR_BOOL &&
                  int(quant::NpyType::I8) == QR_I8 &&
                  int(quant::NpyType::U8) == QR_U8 &&
                  int(quant::NpyType::F16) == QR_F16 &&
                  int(quant::NpyType::F64) == QR_F64,
              "qr_dtype must mirror quant::NpyType");
quant::NpyType toNpy(qr_dtype dtype) { return quant::NpyType(int(dtype)); }
qr_dtype fromNpy(quant::NpyType type) { return qr_dtype(int(type)); }

bool isValid(qr_dtype dtype) { return dtype >= QR_BOOL && dtype <= QR_F64; }

} // namespace

namespace quant::runtime {
void setLastError(std::string message) { lastError = std::move(message); }
} // namespace quant::runtime

extern "C" {

qr_tensor *qr_tensor_create(qr_dtype dtype, int32_t rank,
                            const int64_t *shape) {
  if (!isValid(dtype))
    return fail<qr_tensor *>(nullptr, "unknown dtype " +
                                          std::to_string(int(dtype)));
  if (rank < 0 || (rank > 0 && !shape))
    return fail<qr_tensor *>(nullptr, "invalid rank or null shape");
  int64_t count = 1;
  size_t elementSize = qr_dtype_size(dtype);
  for (int32_t d = 0; d < rank; ++d) {
    if (shape[d] < 0)
      return fail<qr_tensor *>(nullptr, "negative dimension " +
                                            std::to_string(shape[d]));
    if (shape[d] != 0 &&
        count > std::numeric_limits<int64_t>::max() / int64_t(elementSize) /
                    shape[d])
      return fail<qr_tensor *>(nullptr, "tensor size overflows");
    count *= shape[d];
  }
  size_t bytes = size_t(count) * elementSize;
  // aligned_alloc needs a multiple of the alignment, and a non-zero size.
  size_t allocated =
      std::max<size_t>(QR_TENSOR_ALIGNMENT,
                       (bytes + QR_TENSOR_ALIGNMENT - 1) /
                           QR_TENSOR_ALIGNMENT * QR_TENSOR_ALIGNMENT);
  void *data = std::aligned_alloc(QR_TENSOR_ALIGNMENT, allocated);
  if (!data)
    return fail<qr_tensor *>(nullptr, "out of memory allocating " +
                                          std::to_string(bytes) + " bytes");
  std::memset(data, 0, allocated);
  auto *tensor = new (std::nothrow) qr_tensor{
      dtype, std::vector<int64_t>(shape, shape + rank), count, bytes, data};
  if (!tensor) {
    std::free(data);
    return fail<qr_tensor *>(nullptr, "out of memory");
  }
  return tensor;
}

void qr_tensor_destroy(qr_tensor *tensor) {
  if (!tensor)
    return;
  std::free(tensor->data);
  delete tensor;
}

qr_dtype qr_tensor_dtype(const qr_tensor *tensor) { return tensor->dtype; }
int32_t qr_tensor_rank(const qr_tensor *tensor) {
  return int32_t(tensor->shape.size());
}
const int64_t *qr_tensor_shape(const qr_tensor *tensor) {
  return tensor->shape.data();
}
int64_t qr_tensor_num_elements(const qr_tensor *tensor) {
  return tensor->numElements;
}
size_t qr_tensor_num_bytes(const qr_tensor *tensor) { return tensor->numBytes; }
void *qr_tensor_data(qr_tensor *tensor) { return tensor->data; }

const char *qr_dtype_name(qr_dtype dtype) {
  static const char *const names[] = {
      "bool",   "int8",   "int16",  "int32",   "int64",   "uint8",
      "uint16", "uint32", "uint64", "float16", "float32", "float64"};
  return isValid(dtype) ? names[dtype] : "invalid";
}

size_t qr_dtype_size(qr_dtype dtype) {
  return isValid(dtype) ? size_t(quant::npyTypeSize(toNpy(dtype))) : 0;
}

qr_tensor *qr_npy_load(const char *path) {
  if (!path)
    return fail<qr_tensor *>(nullptr, "null path");
  std::string error;
  std::optional<quant::NpyArray> array = quant::readNpyFile(path, error);
  if (!array)
    return fail<qr_tensor *>(nullptr, error);
  qr_tensor *tensor = qr_tensor_create(
      fromNpy(array->type), int32_t(array->shape.size()), array->shape.data());
  if (!tensor)
    return nullptr;
  std::memcpy(tensor->data, array->bytes.data(), tensor->numBytes);
  return tensor;
}

int qr_npy_save(const char *path, const qr_tensor *tensor) {
  if (!path || !tensor)
    return fail(-1, std::string("null path or tensor"));
  quant::NpyArray array;
  array.type = toNpy(tensor->dtype);
  array.shape = tensor->shape;
  const auto *bytes = static_cast<const uint8_t *>(tensor->data);
  array.bytes.assign(bytes, bytes + tensor->numBytes);
  std::string error;
  if (!quant::writeNpyFile(path, array, error))
    return fail(-1, error);
  return 0;
}

const char *qr_last_error(void) { return lastError.c_str(); }

} // extern "C"
