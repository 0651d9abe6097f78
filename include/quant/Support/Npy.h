//===- Npy.h - NumPy .npy file reading and writing ---------------*- C++ -*-===//
//
// Format 1.0/2.0/3.0 .npy files with little-endian (or byte-order-free)
// bool, int8/16/32/64, uint8/16/32/64, float16/32/64 data in C order.
// Every malformed input (bad magic, unknown version, unparsable header,
// Fortran order, unsupported dtype, shape/size overflow, truncated data)
// yields an error message, never a crash.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_SUPPORT_NPY_H
#define QUANT_SUPPORT_NPY_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quant {

enum class NpyType { Bool, I8, I16, I32, I64, U8, U16, U32, U64, F16, F32, F64 };

/// Size in bytes and numpy descriptor ("<f4", "|i1", ...) of a type.
int64_t npyTypeSize(NpyType type);
const char *npyDescriptor(NpyType type);

struct NpyArray {
  NpyType type = NpyType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes; // C order, little endian

  int64_t numElements() const;
  /// Every element widened to double (exact for all types but (u)int64
  /// beyond 2^53).
  std::vector<double> toDoubles() const;
  static NpyArray fromDoubles(NpyType type, std::vector<int64_t> shape,
                              const std::vector<double> &values);
};

/// Parses an in-memory .npy image; on failure returns nullopt and sets
/// `error` to a one-line reason.
std::optional<NpyArray> parseNpy(const uint8_t *data, size_t size,
                                 std::string &error);
std::optional<NpyArray> readNpyFile(const std::string &path,
                                    std::string &error);

/// Serializes as format 1.0; returns false and sets `error` on I/O failure.
std::vector<uint8_t> serializeNpy(const NpyArray &array);
bool writeNpyFile(const std::string &path, const NpyArray &array,
                  std::string &error);

} // namespace quant

#endif // QUANT_SUPPORT_NPY_H
