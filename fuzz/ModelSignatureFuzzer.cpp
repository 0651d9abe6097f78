//===- ModelSignatureFuzzer.cpp - libFuzzer target for model signatures ---===//
//
// Feeds arbitrary text as a compiled model's quant_model_signature through
// the public loader for linked-in models. A signature must either be
// rejected with a message or describe what Runtime.h promises: at least one
// output, non-empty names without blanks or '=', unique per kind, valid
// dtypes, shapes whose byte sizes do not overflow. Small accepted models
// are also run (on a stub entry) with tensors built from their signature.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/Runtime.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

// Tensors larger than this are not allocated to run the model.
constexpr int64_t kMaxRunBytes = 1 << 20;

int32_t stubEntry(void **) { return 0; }

struct TensorDeleter {
  void operator()(qr_tensor *tensor) const { qr_tensor_destroy(tensor); }
};
using TensorPtr = std::unique_ptr<qr_tensor, TensorDeleter>;

struct Port {
  const char *name;
  qr_dtype dtype;
  int32_t rank;
  const int64_t *shape;
};

// Checks one input or output's description; returns its size in bytes.
int64_t checkPort(const Port &port, std::set<std::string> &names) {
  if (!port.name || !*port.name || std::strpbrk(port.name, " \t\r\n=") ||
      !names.insert(port.name).second)
    std::abort();
  if (port.dtype < QR_BOOL || port.dtype > QR_F64 || port.rank < 0 ||
      !port.shape)
    std::abort();
  int64_t bytes = int64_t(qr_dtype_size(port.dtype));
  for (int32_t d = 0; d < port.rank; ++d)
    if (port.shape[d] < 0 ||
        __builtin_mul_overflow(bytes, port.shape[d], &bytes))
      std::abort();
  return bytes;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A signature is a C string: anything after a NUL byte is not part of it.
  std::string signature(reinterpret_cast<const char *>(data), size);
  qr_model *model = qr_model_from_symbols(signature.c_str(), stubEntry);
  if (!model) {
    if (!*qr_last_error())
      std::abort();
    return 0;
  }
  int32_t numInputs = qr_model_num_inputs(model);
  int32_t numOutputs = qr_model_num_outputs(model);
  if (numInputs < 0 || numOutputs < 1)
    std::abort();

  std::vector<Port> ports;
  std::set<std::string> inputNames, outputNames;
  int64_t totalBytes = 0;
  for (int32_t i = 0; i < numInputs + numOutputs; ++i) {
    bool isInput = i < numInputs;
    int32_t index = isInput ? i : i - numInputs;
    Port port = isInput ? Port{qr_model_input_name(model, index),
                               qr_model_input_dtype(model, index),
                               qr_model_input_rank(model, index),
                               qr_model_input_shape(model, index)}
                        : Port{qr_model_output_name(model, index),
                               qr_model_output_dtype(model, index),
                               qr_model_output_rank(model, index),
                               qr_model_output_shape(model, index)};
    int64_t bytes = checkPort(port, isInput ? inputNames : outputNames);
    // Saturates just above the limit, so the sum cannot overflow.
    totalBytes = std::min(totalBytes + std::min(bytes, kMaxRunBytes + 1),
                          kMaxRunBytes + 1);
    ports.push_back(port);
  }
  if (qr_model_input_name(model, numInputs) ||
      qr_model_output_name(model, numOutputs))
    std::abort();

  if (totalBytes <= kMaxRunBytes) {
    std::vector<TensorPtr> tensors;
    std::vector<qr_tensor *> arguments;
    for (const Port &port : ports) {
      tensors.emplace_back(qr_tensor_create(port.dtype, port.rank, port.shape));
      if (!tensors.back())
        std::abort();
      arguments.push_back(tensors.back().get());
    }
    if (qr_model_run(model, numInputs, arguments.data(), numOutputs,
                     arguments.data() + numInputs) != 0)
      std::abort();
  }
  qr_model_destroy(model);
  return 0;
}
