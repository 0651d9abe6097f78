//===- Driver.cpp - command-line driver for compiled models ---------------===//
//
// qr_driver_main: the command line of quant-run MODEL.so and of executables
// built with quant-translate --to-executable. It reads inputs from .npy
// files, checks them against the model's signature before running, writes
// or summarises the outputs and, with --bench, times repeated runs.
//
// With --device cuda it runs a GPU model (--qnn-lower-to-gpu): inputs are
// copied to device buffers, the model runs on them, outputs are copied back,
// and --bench times runs with CUDA events on the runtime's stream.
//
// With --compare, it also reports how close outputs are to reference .npy
// files (error norms, SQNR, cosine similarity, top-1 agreement).
//
// Exit status: 0 on success, 1 when a file or the model fails, 2 for a
// command line that cannot work (unknown option, missing input, ...).
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/CudaRuntime.h"
#include "quant/Runtime/Runtime.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int64_t kDefaultWarmupRuns = 3;
// Bench samples are kept to compute percentiles; this bounds their memory.
constexpr int64_t kMaxRuns = 10000000;

struct TensorDeleter {
  void operator()(qr_tensor *tensor) const { qr_tensor_destroy(tensor); }
};
using TensorPtr = std::unique_ptr<qr_tensor, TensorDeleter>;

// One input or output of the model's signature.
struct Port {
  std::string name;
  qr_dtype dtype;
  std::vector<int64_t> shape;
};

enum class Kind { Input, Output };

std::vector<Port> describePorts(const qr_model *model, Kind kind) {
  bool isInput = kind == Kind::Input;
  int32_t count =
      isInput ? qr_model_num_inputs(model) : qr_model_num_outputs(model);
  std::vector<Port> ports;
  for (int32_t i = 0; i < count; ++i) {
    const int64_t *shape = isInput ? qr_model_input_shape(model, i)
                                   : qr_model_output_shape(model, i);
    int32_t rank = isInput ? qr_model_input_rank(model, i)
                           : qr_model_output_rank(model, i);
    ports.push_back({isInput ? qr_model_input_name(model, i)
                             : qr_model_output_name(model, i),
                     isInput ? qr_model_input_dtype(model, i)
                             : qr_model_output_dtype(model, i),
                     std::vector<int64_t>(shape, shape + rank)});
  }
  return ports;
}

std::string formatShape(const int64_t *shape, size_t rank) {
  std::string text = "[";
  for (size_t d = 0; d < rank; ++d)
    text += (d ? ", " : "") + std::to_string(shape[d]);
  return text + "]";
}

std::string formatType(qr_dtype dtype, const int64_t *shape, size_t rank) {
  return std::string(qr_dtype_name(dtype)) + " " + formatShape(shape, rank);
}

std::string formatType(const Port &port) {
  return formatType(port.dtype, port.shape.data(), port.shape.size());
}

std::string formatType(qr_tensor *tensor) {
  return formatType(qr_tensor_dtype(tensor), qr_tensor_shape(tensor),
                    size_t(qr_tensor_rank(tensor)));
}

std::string joinNames(const std::vector<Port> &ports) {
  std::string names;
  for (const Port &port : ports)
    names += (names.empty() ? "" : ", ") + port.name;
  return names;
}

// One row per tensor, columns aligned: "input  x  float32 [2, 3]".
void printSignature(const std::vector<Port> &inputs,
                    const std::vector<Port> &outputs, const char *indent,
                    bool withSizes) {
  size_t nameWidth = 0, typeWidth = 0;
  for (const auto *ports : {&inputs, &outputs}) {
    for (const Port &port : *ports) {
      nameWidth = std::max(nameWidth, port.name.size());
      typeWidth = std::max(typeWidth, formatType(port).size());
    }
  }
  for (Kind kind : {Kind::Input, Kind::Output}) {
    for (const Port &port : kind == Kind::Input ? inputs : outputs) {
      std::string row = std::string(indent) +
                        (kind == Kind::Input ? "input  " : "output ") +
                        port.name;
      row.resize(std::strlen(indent) + 7 + nameWidth, ' ');
      row += "  " + formatType(port);
      if (withSizes) {
        int64_t elements = 1;
        for (int64_t size : port.shape)
          elements *= size;
        row.resize(std::strlen(indent) + 9 + nameWidth + typeWidth, ' ');
        row += "  (" + std::to_string(elements) + " elements, " +
               std::to_string(elements * int64_t(qr_dtype_size(port.dtype))) +
               " bytes)";
      }
      std::printf("%s\n", row.c_str());
    }
  }
}

// A numpy expression that creates a zero array of the port's type.
std::string numpyZeros(const Port &port) {
  std::string shape;
  for (int64_t size : port.shape)
    shape += (shape.empty() ? "" : ", ") + std::to_string(size);
  if (port.shape.size() == 1)
    shape += ","; // (n,) is a tuple, (n) is not
  return "np.zeros((" + shape + "), np." + qr_dtype_name(port.dtype) + ")";
}

void printHelp(const char *program, const char *device,
               const std::vector<Port> &inputs,
               const std::vector<Port> &outputs) {
  std::printf(
      "usage: %s [options]\n"
      "\n"
      "Runs the compiled model on inputs read from .npy files, then writes\n"
      "or summarises its outputs. The model's signature:\n"
      "\n",
      program);
  printSignature(inputs, outputs, "  ", /*withSizes=*/false);
  std::printf(
      "\n"
      "options:\n"
      "  --input [NAME=]FILE.npy   an input; repeat for each. Files without\n"
      "                            NAME= fill the inputs not named, in\n"
      "                            signature order\n"
      "  --output [NAME=]FILE.npy  write an output (same rules); outputs\n"
      "                            not written are summarised (shape, min,\n"
      "                            max, mean)\n"
      "  --compare [NAME=]REF.npy  compare an output (same rules) with a\n"
      "                            reference of its dtype and shape: max\n"
      "                            abs error, relative L2 error, SQNR,\n"
      "                            cosine similarity and, for [N, C] or [C]\n"
      "                            outputs, top-1 agreement\n"
      "  --bench N                 time N runs and print min, median, p90,\n"
      "                            p99 and mean latency and runs/s\n"
      "  --warmup W                untimed runs before the timed ones\n"
      "                            (default %lld)\n"
      "  --threads T               threads to run on, 0 = every CPU\n"
      "                            (default $QUANT_NUM_THREADS or every CPU;\n"
      "                            now %d)\n"
      "  --device cpu|cuda         where the model runs (default: cuda for a\n"
      "                            model compiled for the GPU, else cpu; this\n"
      "                            one: %s). With cuda, inputs and outputs "
      "are\n"
      "                            copied to and from the GPU and --bench\n"
      "                            times with CUDA events; $QUANT_CUDA_DEVICE\n"
      "                            picks the GPU (default 0)\n"
      "  --inspect                 print the signature and exit\n"
      "  --help                    print this text and exit\n"
      "\n"
      "examples:\n",
      static_cast<long long>(kDefaultWarmupRuns), int(qr_get_num_threads()),
      device);
  std::string named, positional;
  for (const Port &input : inputs) {
    named += " --input " + input.name + "=" + input.name + ".npy";
    positional += " --input " + input.name + ".npy";
  }
  std::string firstOutput = outputs.empty() ? "" : outputs.front().name;
  std::printf("  %s%s --output %s=%s.npy\n", program, named.c_str(),
              firstOutput.c_str(), firstOutput.c_str());
  std::printf("  %s%s --bench 100 --threads 1\n", program, positional.c_str());
  if (!inputs.empty())
    std::printf("  python3 -c \"import numpy as np; np.save('%s.npy', %s)\"\n",
                inputs.front().name.c_str(),
                numpyZeros(inputs.front()).c_str());
}

struct Options {
  std::vector<std::string> inputs;  // [NAME=]FILE, as given
  std::vector<std::string> outputs; // [NAME=]FILE, as given
  int64_t benchRuns = 0;            // 0: run once, untimed
  int64_t warmupRuns = kDefaultWarmupRuns;
  int64_t threads = -1; // -1: leave the thread pool as it is
  bool inspect = false;
  bool help = false;
  std::string device;                  // --device, "" for the model's
  bool cuda = false;                   // where the model runs
  std::vector<std::string> references; // --compare [NAME=]FILE, as given
};

// Device buffers of one run (--device cuda), freed with the driver.
class DeviceBuffers {
public:
  DeviceBuffers() = default;
  DeviceBuffers(const DeviceBuffers &) = delete;
  DeviceBuffers &operator=(const DeviceBuffers &) = delete;
  ~DeviceBuffers() {
    for (void *buffer : buffers)
      qr_cuda_free(buffer);
  }
  // A buffer of `bytes`, or NULL with qr_last_error().
  void *allocate(size_t bytes) {
    void *buffer = qr_cuda_malloc(bytes);
    if (buffer)
      buffers.push_back(buffer);
    return buffer;
  }
  std::vector<void *> buffers;
};

class Driver {
public:
  Driver(const char *program, qr_model *model)
      : program(program), model(model),
        inputs(describePorts(model, Kind::Input)),
        outputs(describePorts(model, Kind::Output)) {}

  int main(int argc, char **argv);

private:
  int error(int status, const std::string &message) const {
    std::fprintf(stderr, "%s: error: %s\n", program, message.c_str());
    return status;
  }
  int usageError(const std::string &message) const {
    std::fprintf(stderr, "%s: error: %s\n(run '%s --help' for usage)\n",
                 program, message.c_str(), program);
    return kExitUsage;
  }

  bool parseOptions(int argc, char **argv, std::string &message);
  bool assignFiles(Kind kind, const std::vector<std::string> &given,
                   const std::string &option, std::vector<std::string> &files,
                   std::string &message) const;
  std::string missingInputsMessage(const std::vector<std::string> &files) const;
  bool loadInputs(const std::vector<std::string> &files,
                  std::vector<TensorPtr> &tensors, std::string &message) const;
  bool loadReferences(const std::vector<std::string> &files,
                      std::vector<TensorPtr> &tensors,
                      std::string &message) const;
  void printBenchReport(std::vector<double> &runNs) const;
  bool prepareDevice(const std::vector<TensorPtr> &inputTensors,
                     const std::vector<TensorPtr> &outputTensors,
                     DeviceBuffers &device, std::string &message) const;

  const char *program;
  qr_model *model;
  std::vector<Port> inputs;
  std::vector<Port> outputs;
  Options options;
};

// Parses a decimal integer in [min, max].
bool parseInteger(std::string_view text, int64_t min, int64_t max,
                  int64_t &value) {
  std::string copy(text);
  char *end = nullptr;
  errno = 0;
  long long parsed = std::strtoll(copy.c_str(), &end, 10);
  if (copy.empty() || *end || errno || parsed < min || parsed > max)
    return false;
  value = parsed;
  return true;
}

bool Driver::parseOptions(int argc, char **argv, std::string &message) {
  struct IntegerOption {
    const char *name;
    int64_t *value;
    int64_t min, max;
  };
  const IntegerOption integerOptions[] = {
      {"--bench", &options.benchRuns, 1, kMaxRuns},
      {"--warmup", &options.warmupRuns, 0, kMaxRuns},
      // qr_set_num_threads checks the upper bound.
      {"--threads", &options.threads, 0, std::numeric_limits<int32_t>::max()},
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    // Both "--option value" and "--option=value".
    std::string_view name = arg, value;
    bool hasValue = false;
    size_t equals = arg.find('=');
    if (arg.substr(0, 2) == "--" && equals != std::string_view::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
      hasValue = true;
    }
    auto takeValue = [&] {
      if (!hasValue && i + 1 < argc) {
        value = argv[++i];
        hasValue = true;
      }
      if (!hasValue)
        message = std::string(name) + " needs a value";
      return hasValue;
    };

    if (name == "--help" || name == "-h" || name == "--inspect") {
      if (hasValue) {
        message = std::string(name) + " takes no value";
        return false;
      }
      if (name == "--inspect")
        options.inspect = true;
      else
        options.help = true;
      continue;
    }
    if (name == "--input" || name == "--output" || name == "--compare") {
      if (!takeValue())
        return false;
      if (name == "--input")
        options.inputs.emplace_back(value);
      else if (name == "--output")
        options.outputs.emplace_back(value);
      else
        options.references.emplace_back(value);
      continue;
    }
    const IntegerOption *integer = nullptr;
    for (const IntegerOption &candidate : integerOptions)
      if (name == candidate.name)
        integer = &candidate;
    if (integer) {
      if (!takeValue())
        return false;
      if (!parseInteger(value, integer->min, integer->max, *integer->value)) {
        message = "invalid value '" + std::string(value) + "' for " +
                  std::string(name) + ": expected an integer from " +
                  std::to_string(integer->min) + " to " +
                  std::to_string(integer->max);
        return false;
      }
      continue;
    }
    if (name == "--device") {
      if (!takeValue())
        return false;
      if (value != "cpu" && value != "cuda") {
        message = "invalid value '" + std::string(value) +
                  "' for --device: expected cpu or cuda";
        return false;
      }
      options.device = std::string(value);
      continue;
    }
    message = arg.substr(0, 1) == "-"
                  ? "unknown option '" + std::string(arg) + "'"
                  : "unexpected argument '" + std::string(arg) + "'";
    return false;
  }
  return true;
}

// Maps the arguments of `option` (--input, --output or --compare) to one
// file per port ("" for none): NAME=FILE names its port, a plain FILE takes
// the next port not named, in signature order.
bool Driver::assignFiles(Kind kind, const std::vector<std::string> &given,
                         const std::string &option,
                         std::vector<std::string> &files,
                         std::string &message) const {
  bool isInput = kind == Kind::Input;
  const std::vector<Port> &ports = isInput ? inputs : outputs;
  std::string kindName = isInput ? "input" : "output";
  files.assign(ports.size(), "");
  std::vector<std::string> positional;
  for (const std::string &argument : given) {
    size_t equals = argument.find('=');
    std::string file =
        equals == std::string::npos ? argument : argument.substr(equals + 1);
    if (file.empty()) {
      message = option + " '" + argument + "' names no file";
      return false;
    }
    if (equals == std::string::npos) {
      positional.push_back(file);
      continue;
    }
    std::string name = argument.substr(0, equals);
    auto port = std::find_if(ports.begin(), ports.end(),
                             [&](const Port &p) { return p.name == name; });
    if (port == ports.end()) {
      message = "unknown " + kindName + " '" + name + "' in " + option + " " +
                argument + "; the model's " + kindName + "s are " +
                (ports.empty() ? "none" : joinNames(ports));
      return false;
    }
    std::string &slot = files[size_t(port - ports.begin())];
    if (!slot.empty()) {
      message = kindName + " '" + name + "' is given twice";
      return false;
    }
    slot = file;
  }
  size_t next = 0;
  for (const std::string &file : positional) {
    while (next < files.size() && !files[next].empty())
      ++next;
    if (next == files.size()) {
      message = "too many " + option + " files: the model has " +
                std::to_string(ports.size()) + " " + kindName +
                (ports.size() == 1 ? "" : "s") +
                (ports.empty() ? "" : " (" + joinNames(ports) + ")");
      return false;
    }
    files[next] = file;
  }
  return true;
}

std::string
Driver::missingInputsMessage(const std::vector<std::string> &files) const {
  std::string missing;
  size_t count = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!files[i].empty())
      continue;
    missing += (count++ ? ", '" : "'") + inputs[i].name + "'";
  }
  size_t nameWidth = 0;
  for (const Port &input : inputs)
    nameWidth = std::max(nameWidth, input.name.size());
  std::string message = std::string("missing ") +
                        (count == 1 ? "input " : "inputs ") + missing +
                        "; the model takes:";
  for (const Port &input : inputs) {
    std::string argument = "--input " + input.name + "=FILE.npy";
    argument.resize(std::max(argument.size(), nameWidth + 17), ' ');
    message += "\n  " + argument + "  " + formatType(input);
  }
  return message;
}

bool Driver::loadInputs(const std::vector<std::string> &files,
                        std::vector<TensorPtr> &tensors,
                        std::string &message) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Port &input = inputs[i];
    TensorPtr tensor(qr_npy_load(files[i].c_str()));
    if (!tensor) {
      message = "input '" + input.name + "': " + qr_last_error();
      return false;
    }
    const int64_t *shape = qr_tensor_shape(tensor.get());
    size_t rank = size_t(qr_tensor_rank(tensor.get()));
    if (qr_tensor_dtype(tensor.get()) != input.dtype ||
        rank != input.shape.size() ||
        !std::equal(shape, shape + rank, input.shape.begin())) {
      message = "input '" + input.name + "': '" + files[i] + "' holds " +
                formatType(tensor.get()) + ", the model expects " +
                formatType(input);
      return false;
    }
    tensors.push_back(std::move(tensor));
  }
  return true;
}

bool Driver::loadReferences(const std::vector<std::string> &files,
                            std::vector<TensorPtr> &tensors,
                            std::string &message) const {
  for (size_t i = 0; i < outputs.size(); ++i) {
    tensors.emplace_back(files[i].empty() ? nullptr
                                          : qr_npy_load(files[i].c_str()));
    if (!files[i].empty() && !tensors.back()) {
      message =
          "reference for output '" + outputs[i].name + "': " + qr_last_error();
      return false;
    }
  }
  return true;
}

// --device cuda: one device buffer per input (filled from the host tensor)
// and per output (zeroed, as host outputs are), in signature order.
bool Driver::prepareDevice(const std::vector<TensorPtr> &inputTensors,
                           const std::vector<TensorPtr> &outputTensors,
                           DeviceBuffers &device, std::string &message) const {
  for (size_t i = 0; i < inputs.size(); ++i) {
    qr_tensor *input = inputTensors[i].get();
    size_t bytes = qr_tensor_num_bytes(input);
    void *buffer = device.allocate(bytes);
    if (!buffer || qr_cuda_memcpy_htod(buffer, qr_tensor_data(input), bytes)) {
      message = "input '" + inputs[i].name +
                "': copying to the GPU: " + qr_last_error();
      return false;
    }
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    size_t bytes = qr_tensor_num_bytes(outputTensors[i].get());
    void *buffer = device.allocate(bytes);
    if (!buffer || qr_cuda_memset_d8(buffer, 0, bytes)) {
      message =
          "output '" + outputs[i].name + "': on the GPU: " + qr_last_error();
      return false;
    }
  }
  return true;
}

double halfToDouble(uint16_t bits) {
  int exponent = (bits >> 10) & 0x1f;
  int mantissa = bits & 0x3ff;
  double magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(mantissa, -24);
  else if (exponent == 31)
    magnitude = mantissa ? std::numeric_limits<double>::quiet_NaN()
                         : std::numeric_limits<double>::infinity();
  else
    magnitude = std::ldexp(mantissa | 0x400, exponent - 25);
  return bits & 0x8000 ? -magnitude : magnitude;
}

double elementAsDouble(qr_tensor *tensor, int64_t index) {
  const void *data = qr_tensor_data(tensor);
  switch (qr_tensor_dtype(tensor)) {
  case QR_BOOL:
    return static_cast<const uint8_t *>(data)[index] != 0;
  case QR_I8:
    return static_cast<const int8_t *>(data)[index];
  case QR_I16:
    return static_cast<const int16_t *>(data)[index];
  case QR_I32:
    return static_cast<const int32_t *>(data)[index];
  case QR_I64:
    return double(static_cast<const int64_t *>(data)[index]);
  case QR_U8:
    return static_cast<const uint8_t *>(data)[index];
  case QR_U16:
    return static_cast<const uint16_t *>(data)[index];
  case QR_U32:
    return static_cast<const uint32_t *>(data)[index];
  case QR_U64:
    return double(static_cast<const uint64_t *>(data)[index]);
  case QR_F16:
    return halfToDouble(static_cast<const uint16_t *>(data)[index]);
  case QR_F32:
    return static_cast<const float *>(data)[index];
  case QR_F64:
    return static_cast<const double *>(data)[index];
  case QR_DTYPE_INVALID:
    break;
  }
  return std::numeric_limits<double>::quiet_NaN();
}

// "y: float32 [2, 3]  min -1  max 4.5  mean 0.75", NaNs counted apart.
void printSummary(const Port &output, qr_tensor *tensor) {
  std::printf("%s: %s", output.name.c_str(), formatType(output).c_str());
  int64_t count = qr_tensor_num_elements(tensor);
  double min = std::numeric_limits<double>::infinity(), max = -min, sum = 0;
  int64_t nans = 0;
  for (int64_t i = 0; i < count; ++i) {
    double value = elementAsDouble(tensor, i);
    if (std::isnan(value)) {
      ++nans;
      continue;
    }
    min = std::min(min, value);
    max = std::max(max, value);
    sum += value;
  }
  if (count == 0)
    std::printf("  (empty)");
  else if (nans < count)
    std::printf("  min %.6g  max %.6g  mean %.6g", min, max,
                sum / double(count - nans));
  if (nans)
    std::printf("  (%lld NaN)", static_cast<long long>(nans));
  std::printf("\n");
}

// The position of a row's largest value as numpy's argmax picks it: the
// first maximum, or the first NaN.
int64_t argmax(qr_tensor *tensor, int64_t rowStart, int64_t rowLength) {
  int64_t best = 0;
  double bestValue = elementAsDouble(tensor, rowStart);
  for (int64_t j = 1; j < rowLength && !std::isnan(bestValue); ++j) {
    double value = elementAsDouble(tensor, rowStart + j);
    if (std::isnan(value) || value > bestValue) {
      best = j;
      bestValue = value;
    }
  }
  return best;
}

// "[i, j, ...]" for the element at row-major position `flat`.
std::string formatIndex(int64_t flat, const int64_t *shape, size_t rank) {
  std::vector<int64_t> index(rank);
  for (size_t d = rank; d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= shape[d];
  }
  return formatShape(index.data(), rank);
}

// --compare: how close `actual` is to `reference` (of the same dtype and
// shape), accumulated in double. With y the output and r the reference:
// max |y - r|, ||y - r|| / ||r||, SQNR = 10 log10(||r||^2 / ||y - r||^2),
// cosine similarity and, for classifier-shaped outputs ([N, C] or [C],
// C >= 2), how many rows have the same argmax. A NaN in either makes the
// metrics NaN rather than hiding it.
void printComparison(const std::string &name, const std::string &path,
                     qr_tensor *actual, qr_tensor *reference) {
  std::printf("%s vs %s: %s\n", name.c_str(), path.c_str(),
              formatType(actual).c_str());
  int64_t count = qr_tensor_num_elements(actual);
  if (count == 0) {
    std::printf("  (empty)\n");
    return;
  }
  double maxError = 0, errorSquares = 0, referenceSquares = 0,
         actualSquares = 0, dot = 0;
  int64_t maxErrorAt = 0;
  for (int64_t i = 0; i < count; ++i) {
    double y = elementAsDouble(actual, i), r = elementAsDouble(reference, i);
    // Equal infinities agree.
    double error = y == r ? 0 : std::abs(y - r);
    if (!std::isnan(maxError) && !(error <= maxError)) {
      maxError = error;
      maxErrorAt = i;
    }
    errorSquares += error * error;
    referenceSquares += r * r;
    actualSquares += y * y;
    dot += y * r;
  }
  const double infinity = std::numeric_limits<double>::infinity();
  double relativeError =
      errorSquares == 0 ? 0 : std::sqrt(errorSquares / referenceSquares);
  double sqnrDb = errorSquares == 0
                      ? infinity
                      : 10 * std::log10(referenceSquares / errorSquares);
  const int64_t *shape = qr_tensor_shape(actual);
  size_t rank = size_t(qr_tensor_rank(actual));

  std::printf("  %-18s %.6g", "max abs error", maxError);
  if (maxError != 0)
    std::printf(" at %s", formatIndex(maxErrorAt, shape, rank).c_str());
  std::printf("\n  %-18s %.6g\n", "relative error", relativeError);
  std::printf("  %-18s %.6g dB\n", "SQNR", sqnrDb);
  if (actualSquares == 0 || referenceSquares == 0)
    std::printf("  %-18s undefined (a zero vector)\n", "cosine similarity");
  else
    std::printf("  %-18s %.6g\n", "cosine similarity",
                dot / (std::sqrt(actualSquares) * std::sqrt(referenceSquares)));
  if ((rank == 1 || rank == 2) && shape[rank - 1] >= 2) {
    int64_t classes = shape[rank - 1], rows = count / classes, agreeing = 0;
    for (int64_t row = 0; row < rows; ++row)
      agreeing += argmax(actual, row * classes, classes) ==
                  argmax(reference, row * classes, classes);
    std::printf("  %-18s %lld/%lld (%.1f%%)\n", "top-1 agreement",
                static_cast<long long>(agreeing), static_cast<long long>(rows),
                100.0 * double(agreeing) / double(rows));
  }
}

// The q-th quantile (0..1) of sorted samples, interpolated as numpy does.
double quantile(const std::vector<double> &sorted, double q) {
  double position = q * double(sorted.size() - 1);
  size_t below = size_t(position);
  size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

void Driver::printBenchReport(std::vector<double> &runNs) const {
  std::sort(runNs.begin(), runNs.end());
  double meanNs = 0;
  for (double ns : runNs)
    meanNs += ns / double(runNs.size());
  if (options.cuda)
    std::printf("bench: %lld runs after %lld warm-up runs, %s, CUDA event "
                "timing\n",
                static_cast<long long>(runNs.size()),
                static_cast<long long>(options.warmupRuns),
                qr_cuda_device_name());
  else
    std::printf("bench: %lld runs after %lld warm-up runs, %d thread%s\n",
                static_cast<long long>(runNs.size()),
                static_cast<long long>(options.warmupRuns),
                int(qr_get_num_threads()),
                qr_get_num_threads() == 1 ? "" : "s");
  const std::pair<const char *, double> rows[] = {
      {"min", runNs.front()},
      {"median", quantile(runNs, 0.5)},
      {"p90", quantile(runNs, 0.9)},
      {"p99", quantile(runNs, 0.99)},
      {"mean", meanNs},
  };
  for (const auto &[label, ns] : rows)
    std::printf("  %-7s %10.4f ms\n", label, ns * 1e-6);
  std::printf("  %-7s %10.1f\n", "runs/s", meanNs > 0 ? 1e9 / meanNs : 0.0);
}

int Driver::main(int argc, char **argv) {
  std::string message;
  if (!parseOptions(argc, argv, message))
    return usageError(message);
  if (options.help) {
    printHelp(program, qr_model_device(model), inputs, outputs);
    return 0;
  }
  if (options.inspect) {
    printSignature(inputs, outputs, "", /*withSizes=*/true);
    if (std::strcmp(qr_model_device(model), "cpu") != 0)
      std::printf("device %s\n", qr_model_device(model));
    return 0;
  }
  if (options.threads >= 0 && qr_set_num_threads(int32_t(options.threads)))
    return usageError(std::string("--threads: ") + qr_last_error());
  // A model compiled for the GPU takes device pointers, a CPU one host
  // pointers: the wrong kind would dereference the other's memory.
  bool gpuModel = std::strcmp(qr_model_device(model), "cuda") == 0;
  if (gpuModel && options.device == "cpu")
    return usageError("the model is compiled for the GPU (its signature says "
                      "'device cuda'); it cannot run with --device cpu");
  if (!gpuModel && options.device == "cuda")
    return usageError("the model is compiled for the CPU (its signature has "
                      "no 'device cuda' line); run it with --device cpu, or "
                      "compile it with --qnn-lower-to-gpu");
  options.cuda = options.device.empty() ? gpuModel : options.device == "cuda";
  // First, so that a machine without a GPU says so before files are read.
  if (options.cuda && qr_cuda_init() != 0)
    return error(kExitFailure,
                 std::string("--device cuda: ") + qr_last_error());

  std::vector<std::string> inputFiles, outputFiles, referenceFiles;
  if (!assignFiles(Kind::Input, options.inputs, "--input", inputFiles,
                   message) ||
      !assignFiles(Kind::Output, options.outputs, "--output", outputFiles,
                   message) ||
      !assignFiles(Kind::Output, options.references, "--compare",
                   referenceFiles, message))
    return usageError(message);
  if (std::count(inputFiles.begin(), inputFiles.end(), ""))
    return usageError(missingInputsMessage(inputFiles));

  std::vector<TensorPtr> inputTensors, outputTensors, referenceTensors;
  if (!loadInputs(inputFiles, inputTensors, message) ||
      !loadReferences(referenceFiles, referenceTensors, message))
    return error(kExitFailure, message);
  for (const Port &output : outputs) {
    outputTensors.emplace_back(qr_tensor_create(
        output.dtype, int32_t(output.shape.size()), output.shape.data()));
    if (!outputTensors.back())
      return error(kExitFailure,
                   "output '" + output.name + "': " + qr_last_error());
  }

  std::vector<qr_tensor *> inputArgs, outputArgs;
  for (const TensorPtr &tensor : inputTensors)
    inputArgs.push_back(tensor.get());
  for (const TensorPtr &tensor : outputTensors)
    outputArgs.push_back(tensor.get());
  DeviceBuffers device;
  if (options.cuda &&
      !prepareDevice(inputTensors, outputTensors, device, message))
    return error(kExitFailure, message);
  // A GPU model run on host buffers fails in its first GPU call (the
  // kernels cannot read host memory): say what to do instead.
  auto runFailure = [&] {
    std::string message = qr_last_error();
    if (!options.cuda && message.find(": mgpu") != std::string::npos)
      message += " (a GPU model runs with --device cuda)";
    return error(kExitFailure, message);
  };
  auto runOnce = [&] {
    if (options.cuda)
      return qr_model_run_buffers(model, int32_t(device.buffers.size()),
                                  device.buffers.data()) == 0;
    return qr_model_run(model, int32_t(inputArgs.size()), inputArgs.data(),
                        int32_t(outputArgs.size()), outputArgs.data()) == 0;
  };

  std::vector<double> runNs;
  int64_t warmupRuns = options.benchRuns ? options.warmupRuns : 0;
  for (int64_t run = 0; run < warmupRuns; ++run)
    if (!runOnce())
      return runFailure();
  for (int64_t run = 0; run < std::max<int64_t>(options.benchRuns, 1); ++run) {
    if (options.cuda) {
      // Device time from an event before to one after the run's work on
      // the stream (the host's launch overhead shows only where the GPU
      // waits for it).
      if (qr_cuda_timer_start() != 0)
        return error(kExitFailure, qr_last_error());
      if (!runOnce())
        return runFailure();
      double milliseconds = qr_cuda_timer_stop();
      if (milliseconds < 0)
        return error(kExitFailure, qr_last_error());
      runNs.push_back(milliseconds * 1e6);
      continue;
    }
    uint64_t start = qr_now_ns();
    if (!runOnce())
      return runFailure();
    runNs.push_back(double(qr_now_ns() - start));
  }
  if (options.cuda) {
    // Asynchronous errors of the last run surface here.
    if (qr_cuda_synchronize() != 0)
      return error(kExitFailure, std::string("--device cuda: the model "
                                             "failed on the GPU: ") +
                                     qr_last_error());
    for (size_t i = 0; i < outputs.size(); ++i) {
      qr_tensor *output = outputTensors[i].get();
      if (qr_cuda_memcpy_dtoh(qr_tensor_data(output),
                              device.buffers[inputs.size() + i],
                              qr_tensor_num_bytes(output)) != 0)
        return error(kExitFailure,
                     "output '" + outputs[i].name +
                         "': copying from the GPU: " + qr_last_error());
    }
  }

  for (size_t i = 0; i < outputs.size(); ++i) {
    if (outputFiles[i].empty()) {
      printSummary(outputs[i], outputTensors[i].get());
      continue;
    }
    if (qr_npy_save(outputFiles[i].c_str(), outputTensors[i].get()))
      return error(kExitFailure,
                   "output '" + outputs[i].name + "': " + qr_last_error());
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    qr_tensor *reference = referenceTensors[i].get();
    if (!reference)
      continue;
    // Checked after the run: the output tensor's shape is the one to match.
    // A float reference of another width (numpy's float64) compares too.
    qr_tensor *output = outputTensors[i].get();
    auto isFloat = [](qr_dtype dtype) {
      return dtype == QR_F16 || dtype == QR_F32 || dtype == QR_F64;
    };
    bool sameShape =
        qr_tensor_rank(reference) == qr_tensor_rank(output) &&
        std::equal(qr_tensor_shape(output),
                   qr_tensor_shape(output) + qr_tensor_rank(output),
                   qr_tensor_shape(reference));
    bool comparableTypes =
        qr_tensor_dtype(reference) == qr_tensor_dtype(output) ||
        (isFloat(qr_tensor_dtype(reference)) && isFloat(qr_tensor_dtype(output)));
    if (!sameShape || !comparableTypes)
      return error(kExitFailure,
                   "--compare: output '" + outputs[i].name + "' is " +
                       formatType(outputTensors[i].get()) + ", but '" +
                       referenceFiles[i] + "' holds " + formatType(reference));
    printComparison(outputs[i].name, referenceFiles[i], outputTensors[i].get(),
                    reference);
  }
  if (options.benchRuns)
    printBenchReport(runNs);
  return 0;
}

} // namespace

extern "C" int qr_driver_main(int argc, char **argv, qr_model *model) {
  const char *program = argc > 0 && argv && argv[0] ? argv[0] : "quant-model";
  if (!model) {
    const char *reason = qr_last_error();
    std::fprintf(stderr, "%s: error: %s\n", program,
                 *reason ? reason : "no model");
    return kExitFailure;
  }
  return Driver(program, model).main(argc, argv);
}
