//===- NpyFuzzer.cpp - libFuzzer target for the .npy reader ---------------===//
//
// Any byte string must either parse into an array whose byte count matches
// its shape and type, or be rejected with a message; never crash.
//
//===----------------------------------------------------------------------===//

#include "quant/Support/Npy.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  std::optional<quant::NpyArray> array = quant::parseNpy(data, size, error);
  if (!array) {
    if (error.empty())
      std::abort();
    return 0;
  }
  if (static_cast<int64_t>(array->bytes.size()) !=
      array->numElements() * quant::npyTypeSize(array->type))
    std::abort();
  // Widening every element must stay in bounds.
  (void)array->toDoubles();
  std::vector<uint8_t> again = quant::serializeNpy(*array);
  std::optional<quant::NpyArray> reparsed =
      quant::parseNpy(again.data(), again.size(), error);
  if (!reparsed || reparsed->bytes != array->bytes)
    std::abort();
  return 0;
}
