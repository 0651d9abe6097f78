//===- Packing.cpp - sub-byte integer packing -----------------------------===//

#include "quant/Support/Packing.h"

namespace quant {

int32_t integerMin(unsigned bits, bool isSigned) {
  return isSigned ? -(int32_t(1) << (bits - 1)) : 0;
}

int32_t integerMax(unsigned bits, bool isSigned) {
  return isSigned ? (int32_t(1) << (bits - 1)) - 1 : (int32_t(1) << bits) - 1;
}

std::optional<std::vector<uint8_t>> packRow(const std::vector<int32_t> &values,
                                            unsigned bits, bool isSigned) {
  if (bits < 1 || bits > 8)
    return std::nullopt;
  int32_t lo = integerMin(bits, isSigned), hi = integerMax(bits, isSigned);
  uint32_t mask = (1u << bits) - 1;
  std::vector<uint8_t> packed(packedRowBytes(values.size(), bits), 0);
  uint64_t bitPos = 0;
  for (int32_t v : values) {
    if (v < lo || v > hi)
      return std::nullopt;
    uint32_t field = static_cast<uint32_t>(v) & mask;
    // A field of at most 8 bits spans at most two bytes.
    uint64_t byte = bitPos / 8, shift = bitPos % 8;
    uint32_t spread = field << shift;
    packed[byte] |= static_cast<uint8_t>(spread);
    if (shift + bits > 8)
      packed[byte + 1] |= static_cast<uint8_t>(spread >> 8);
    bitPos += bits;
  }
  return packed;
}

std::vector<int32_t> unpackRow(const uint8_t *packed, int64_t count,
                               unsigned bits, bool isSigned) {
  std::vector<int32_t> values(count);
  uint32_t mask = (1u << bits) - 1;
  uint64_t bitPos = 0;
  for (int64_t i = 0; i < count; ++i, bitPos += bits) {
    uint64_t byte = bitPos / 8, shift = bitPos % 8;
    uint32_t window = packed[byte];
    if (shift + bits > 8)
      window |= static_cast<uint32_t>(packed[byte + 1]) << 8;
    uint32_t field = (window >> shift) & mask;
    int32_t v = static_cast<int32_t>(field);
    if (isSigned && (field >> (bits - 1)))
      v -= int32_t(1) << bits;
    values[i] = v;
  }
  return values;
}

} // namespace quant
