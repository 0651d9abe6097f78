//===- NpzFuzzer.cpp - libFuzzer target for the .npz reader ---------------===//
//
// Any byte string must either parse into uniquely, non-emptily named arrays
// whose byte counts match their shapes and types, or be rejected with a
// one-line message; never crash, and never allocate more than deflate can
// expand the input to.
//
//===----------------------------------------------------------------------===//

#include "quant/Support/Npz.h"

#include <cstdlib>
#include <set>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string error;
  std::optional<std::vector<quant::NpzEntry>> entries =
      quant::parseNpz(data, size, error);
  if (!entries) {
    if (error.empty() || error.find('\n') != std::string::npos)
      std::abort();
    return 0;
  }
  std::set<std::string> names;
  for (const quant::NpzEntry &entry : *entries) {
    if (entry.name.empty() || !names.insert(entry.name).second)
      std::abort();
    const quant::NpyArray &array = entry.array;
    if (static_cast<int64_t>(array.bytes.size()) !=
        array.numElements() * quant::npyTypeSize(array.type))
      std::abort();
    (void)array.toDoubles();
  }
  return 0;
}
