//===- Packing.h - sub-byte integer packing ----------------------*- C++ -*-===//
//
// The packed layout used for weights of 2, 3, 4 and 8 bits everywhere in
// quant (passes, CPU/GPU lowerings, runtime):
//
//   A row of n values of b bits is one little-endian bit stream of
//   ceil(n·b/8) bytes: value i occupies bits [i·b, i·b + b) of the stream,
//   least significant bit first, as two's complement for signed storage.
//   For b = 4, value 2j sits in the low nibble of byte j and value 2j+1 in
//   the high nibble; for b = 3, eight values fill three bytes. Rows start on
//   a byte boundary.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_SUPPORT_PACKING_H
#define QUANT_SUPPORT_PACKING_H

#include <cstdint>
#include <optional>
#include <vector>

namespace quant {

/// Inclusive range of a `bits`-wide signed or unsigned integer.
int32_t integerMin(unsigned bits, bool isSigned);
int32_t integerMax(unsigned bits, bool isSigned);

/// Bytes one packed row of `count` values of `bits` bits occupies.
inline int64_t packedRowBytes(int64_t count, unsigned bits) {
  return (count * bits + 7) / 8;
}

/// Packs `values` into the layout above. Returns std::nullopt if `bits` is
/// not in [1, 8] or a value does not fit the range of the storage type.
std::optional<std::vector<uint8_t>> packRow(const std::vector<int32_t> &values,
                                            unsigned bits, bool isSigned);

/// Inverse of packRow: reads `count` values from `packed`.
std::vector<int32_t> unpackRow(const uint8_t *packed, int64_t count,
                               unsigned bits, bool isSigned);

} // namespace quant

#endif // QUANT_SUPPORT_PACKING_H
