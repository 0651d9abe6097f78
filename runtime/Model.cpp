//===- Model.cpp - loading and running compiled models --------------------===//
//
// A compiled model is a shared library exporting `quant_model_signature`
// (text, format in Runtime.h) and `quant_model_run`. Everything read from
// the library is validated before use, so a wrong file, a model built for
// another ABI version or a tensor of the wrong shape is an error message,
// never a crash inside the model.
//
//===----------------------------------------------------------------------===//

#include "RuntimeInternal.h"
#include "quant/Runtime/CudaRuntime.h"
#include "quant/Runtime/Runtime.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <limits>
#include <link.h>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using quant::runtime::setLastError;

namespace {

/// The first micro-kernel error of the model run in progress. Kernels may
/// report from any pool thread, so it is process-wide rather than
/// thread-local; runs of one model are not concurrent (the pool serialises
/// nested and concurrent parallel regions anyway). A fixed buffer (longer
/// messages are cut): reporting must not allocate, since running out of
/// memory is one of the reports.
std::mutex kernelErrorMutex;
char kernelErrorText[512];
bool hasKernelError = false;

void clearKernelError() {
  std::lock_guard<std::mutex> lock(kernelErrorMutex);
  hasKernelError = false;
}

std::optional<std::string> takeKernelError() {
  std::lock_guard<std::mutex> lock(kernelErrorMutex);
  if (!hasKernelError)
    return std::nullopt;
  hasKernelError = false;
  return std::string(kernelErrorText);
}

struct TensorSpec {
  std::string name;
  qr_dtype dtype;
  std::vector<int64_t> shape;
};

} // namespace

struct qr_model {
  // The dlopen() handle; null for a model linked into the executable.
  void *library = nullptr;
  // How messages refer to the model: "model 'PATH'" or "linked-in model".
  std::string description;
  qr_model_entry entry = nullptr;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  // The signature's `device cuda`: the buffers are device pointers.
  bool cuda = false;
  bool sawDevice = false;
};

namespace {

template <typename T> T fail(T result, std::string message) {
  setLastError(std::move(message));
  return result;
}

std::string formatShape(const int64_t *shape, size_t rank) {
  std::string text = "[";
  for (size_t d = 0; d < rank; ++d)
    text += (d ? ", " : "") + std::to_string(shape[d]);
  return text + "]";
}

// Quotes untrusted text for a message: escapes control bytes, keeps it short.
std::string quote(std::string_view text) {
  constexpr size_t kMaxQuoted = 60;
  std::string quoted = "'";
  for (size_t i = 0; i < text.size() && i < kMaxQuoted; ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f) {
      quoted += char(byte);
    } else {
      static const char kHex[] = "0123456789abcdef";
      quoted += {'\\', 'x', kHex[byte >> 4], kHex[byte & 15]};
    }
  }
  return quoted + (text.size() > kMaxQuoted ? "...'" : "'");
}

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && isBlank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && isBlank(text.back()))
    text.remove_suffix(1);
  return text;
}

// Splits off the first blank-separated word of `text`.
std::string_view takeWord(std::string_view &text) {
  text = trim(text);
  size_t end = 0;
  while (end < text.size() && !isBlank(text[end]))
    ++end;
  std::string_view word = text.substr(0, end);
  text.remove_prefix(end);
  return word;
}

// A non-negative decimal integer without sign or blanks.
bool parseCount(std::string_view text, int64_t &value) {
  if (text.empty() || text.size() > 18)
    return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

bool parseDtype(std::string_view name, qr_dtype &dtype) {
  for (int i = QR_BOOL; i <= QR_F64; ++i) {
    if (name == qr_dtype_name(qr_dtype(i))) {
      dtype = qr_dtype(i);
      return true;
    }
  }
  return false;
}

std::string dtypeNames() {
  std::string names;
  for (int i = QR_BOOL; i <= QR_F64; ++i)
    names += (i ? ", " : "") + std::string(qr_dtype_name(qr_dtype(i)));
  return names;
}

// Parses "[d0,d1,...]" (blanks allowed around dimensions; "[]" is a scalar).
bool parseShape(std::string_view text, qr_dtype dtype,
                std::vector<int64_t> &shape, std::string &error) {
  if (text.size() < 2 || text.front() != '[' || text.back() != ']') {
    error = "malformed shape " + quote(text) +
            " (expected e.g. [4,512], or [] for a scalar)";
    return false;
  }
  std::string_view dims = trim(text.substr(1, text.size() - 2));
  int64_t elements = 1;
  const int64_t maxElements =
      std::numeric_limits<int64_t>::max() / int64_t(qr_dtype_size(dtype));
  while (!dims.empty()) {
    size_t comma = dims.find(',');
    std::string_view dim = trim(dims.substr(0, comma));
    int64_t size;
    if (!parseCount(dim, size)) {
      error = "malformed dimension " + quote(dim) + " in shape " + quote(text) +
              " (dimensions are non-negative integers)";
      return false;
    }
    if (size != 0 && elements > maxElements / size) {
      error = "shape " + quote(text) + " is too large";
      return false;
    }
    elements *= size;
    shape.push_back(size);
    if (comma == std::string_view::npos)
      break;
    dims.remove_prefix(comma + 1);
    if (trim(dims).empty()) {
      error = "malformed shape " + quote(text) + " (trailing ',')";
      return false;
    }
  }
  return true;
}

// Parses one "input|output NAME DTYPE SHAPE" line into `inputs`/`outputs`.
bool parseTensorLine(std::string_view line, std::vector<TensorSpec> &inputs,
                     std::vector<TensorSpec> &outputs, std::string &error) {
  std::string_view rest = line;
  std::string_view kind = takeWord(rest);
  std::string_view name = takeWord(rest);
  std::string_view dtypeName = takeWord(rest);
  std::string_view shapeText = trim(rest);
  if (kind != "input" && kind != "output") {
    error = "expected 'input' or 'output', got " + quote(line);
    return false;
  }
  if (shapeText.empty()) {
    error = "expected '" + std::string(kind) + " NAME DTYPE [DIMS]', got " +
            quote(line);
    return false;
  }
  // quant-run takes inputs as NAME=FILE.
  if (name.find('=') != std::string_view::npos) {
    error = "tensor name " + quote(name) + " contains '='";
    return false;
  }
  TensorSpec spec{std::string(name), QR_F32, {}};
  if (!parseDtype(dtypeName, spec.dtype)) {
    error = "unknown dtype " + quote(dtypeName) + " for " + quote(name) +
            " (expected one of " + dtypeNames() + ")";
    return false;
  }
  if (!parseShape(shapeText, spec.dtype, spec.shape, error))
    return false;
  std::vector<TensorSpec> &specs = kind == "input" ? inputs : outputs;
  for (const TensorSpec &other : specs) {
    if (other.name == spec.name) {
      error = "duplicate " + std::string(kind) + " " + quote(name);
      return false;
    }
  }
  specs.push_back(std::move(spec));
  return true;
}

// Parses signature text (version QR_MODEL_ABI_VERSION) into `model`.
bool parseSignature(std::string_view text, qr_model &model,
                    std::string &error) {
  bool sawHeader = false;
  for (int lineNumber = 1; !text.empty(); ++lineNumber) {
    size_t newline = text.find('\n');
    std::string_view line = trim(text.substr(0, newline));
    text.remove_prefix(newline == std::string_view::npos ? text.size()
                                                         : newline + 1);
    if (line.empty())
      continue;
    std::string where = "line " + std::to_string(lineNumber) + ": ";
    if (!sawHeader) {
      std::string_view rest = line;
      std::string_view magic = takeWord(rest);
      int64_t version;
      if (magic != "quant-model" || !parseCount(trim(rest), version)) {
        error = where + "expected 'quant-model " +
                std::to_string(QR_MODEL_ABI_VERSION) + "', got " + quote(line);
        return false;
      }
      if (version != QR_MODEL_ABI_VERSION) {
        error = where + "unsupported signature version " +
                std::to_string(version) + " (this runtime reads version " +
                std::to_string(QR_MODEL_ABI_VERSION) + ")";
        return false;
      }
      sawHeader = true;
      continue;
    }
    std::string_view rest = line;
    if (takeWord(rest) == "device") {
      std::string_view device = trim(rest);
      if (device != "cpu" && device != "cuda") {
        error = where + "unknown device " + quote(device) +
                " (expected cpu or cuda)";
        return false;
      }
      if (model.sawDevice) {
        error = where + "duplicate device line";
        return false;
      }
      model.sawDevice = true;
      model.cuda = device == "cuda";
      continue;
    }
    if (!parseTensorLine(line, model.inputs, model.outputs, error)) {
      error = where + error;
      return false;
    }
  }
  if (!sawHeader) {
    error = "empty signature";
    return false;
  }
  if (model.outputs.empty()) {
    error = "the model declares no outputs";
    return false;
  }
  return true;
}

// dlerror() text without the leading "PATH: " that repeats our own path.
std::string dlErrorText(const std::string &path) {
  const char *text = dlerror();
  std::string message = text ? text : "unknown dlopen error";
  if (message.compare(0, path.size() + 2, path + ": ") == 0)
    message.erase(0, path.size() + 2);
  return message;
}

bool hasElfMagic(const char *path) {
  char magic[4] = {};
  std::ifstream file(path, std::ios::binary);
  const char elfMagic[4] = {0x7f, 'E', 'L', 'F'};
  return file.read(magic, sizeof(magic)) &&
         std::memcmp(magic, elfMagic, sizeof(magic)) == 0;
}

// Where the dynamic linker records the symbol's size (it does for symbols
// defined in C), checks that the signature ends within it, so that a
// malformed model cannot make us read past its data.
bool isTerminatedWithinSymbol(const char *signature) {
#ifdef RTLD_DL_SYMENT
  Dl_info info;
  const ElfW(Sym) *symbol = nullptr;
  if (dladdr1(signature, &info, reinterpret_cast<void **>(&symbol),
              RTLD_DL_SYMENT) &&
      symbol && symbol->st_size > 0)
    return strnlen(signature, symbol->st_size) < symbol->st_size;
#endif
  return true;
}

enum class Kind { Input, Output };

const char *kindName(Kind kind) {
  return kind == Kind::Input ? "input" : "output";
}

const TensorSpec *findSpec(const qr_model *model, Kind kind, int32_t index) {
  if (!model)
    return fail<const TensorSpec *>(nullptr, "null model");
  const std::vector<TensorSpec> &specs =
      kind == Kind::Input ? model->inputs : model->outputs;
  if (index >= 0 && size_t(index) < specs.size())
    return &specs[size_t(index)];
  return fail<const TensorSpec *>(
      nullptr, std::string(kindName(kind)) + " index " + std::to_string(index) +
                   " out of range (the model has " +
                   std::to_string(specs.size()) + " " + kindName(kind) + "s)");
}

// A scalar's shape is an empty array, but still a valid pointer: NULL means
// "no such tensor".
const int64_t *shapeData(const TensorSpec &spec) {
  static const int64_t kScalarShape[1] = {0};
  return spec.shape.empty() ? kScalarShape : spec.shape.data();
}

// Checks the tensors given for `specs`; outputs must also not alias inputs
// or each other, since the model reads inputs while it writes outputs.
bool checkTensors(const qr_model &model, Kind kind, int32_t count,
                  qr_tensor *const *tensors, std::vector<void *> &buffers) {
  const std::vector<TensorSpec> &specs =
      kind == Kind::Input ? model.inputs : model.outputs;
  const std::string kindText = kindName(kind);
  if (count < 0 || size_t(count) != specs.size() || (count && !tensors)) {
    std::string names;
    for (const TensorSpec &spec : specs)
      names += (names.empty() ? "" : ", ") + spec.name;
    return fail(
        false,
        model.description + " takes " + std::to_string(specs.size()) + " " +
            kindText + "s (" + names + "), got " +
            (count && !tensors ? "a null array" : std::to_string(count)));
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    const TensorSpec &spec = specs[i];
    qr_tensor *tensor = tensors[i];
    std::string expected = std::string(qr_dtype_name(spec.dtype)) + " " +
                           formatShape(spec.shape.data(), spec.shape.size());
    if (!tensor)
      return fail(false, kindText + " '" + spec.name + "' is null, expected " +
                             expected);
    const int64_t *shape = qr_tensor_shape(tensor);
    size_t rank = size_t(qr_tensor_rank(tensor));
    if (qr_tensor_dtype(tensor) != spec.dtype || rank != spec.shape.size() ||
        !std::equal(shape, shape + rank, spec.shape.begin()))
      return fail(false, kindText + " '" + spec.name + "': expected " +
                             expected + ", got " +
                             qr_dtype_name(qr_tensor_dtype(tensor)) + " " +
                             formatShape(shape, rank));
    void *data = qr_tensor_data(tensor);
    if (kind == Kind::Output) {
      for (size_t j = 0; j < buffers.size(); ++j) {
        if (buffers[j] != data)
          continue;
        bool isInput = j < model.inputs.size();
        const TensorSpec &other =
            isInput ? model.inputs[j] : model.outputs[j - model.inputs.size()];
        return fail(false, "output '" + spec.name + "' is the same tensor as " +
                               (isInput ? "input" : "output") + " '" +
                               other.name + "'");
      }
    }
    buffers.push_back(data);
  }
  return true;
}

qr_model *finishModel(qr_model *model, std::string_view signature,
                      const std::string &context) {
  std::string error;
  if (!parseSignature(signature, *model, error)) {
    qr_model_destroy(model);
    return fail<qr_model *>(nullptr, context + error);
  }
  return model;
}

// Runs the model's entry and collects the first kernel error of the run.
int runEntry(qr_model &model, void **buffers) {
  clearKernelError();
  int32_t status = model.entry(buffers);
  if (status != 0)
    return fail(-1, model.description + " failed: quant_model_run returned " +
                        std::to_string(status));
  if (std::optional<std::string> error = takeKernelError())
    return fail(-1, model.description + " failed: " + *error);
  return 0;
}

// The address range a loaded library's segments occupy, for
// releasing the device copies of its constants before it is unmapped
// (another library mapped there later must not hit the cache).
bool libraryAddressRange(void *library, uintptr_t &begin, uintptr_t &end) {
  struct link_map *map = nullptr;
  if (dlinfo(library, RTLD_DI_LINKMAP, &map) != 0 || !map)
    return false;
  struct Search {
    ElfW(Addr) base;
    uintptr_t begin = UINTPTR_MAX, end = 0;
  } search{map->l_addr};
  dl_iterate_phdr(
      [](struct dl_phdr_info *info, size_t, void *data) {
        auto *search = static_cast<Search *>(data);
        if (info->dlpi_addr != search->base)
          return 0;
        for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr) &segment = info->dlpi_phdr[i];
          if (segment.p_type != PT_LOAD)
            continue;
          uintptr_t start = info->dlpi_addr + segment.p_vaddr;
          search->begin = std::min(search->begin, start);
          search->end = std::max(search->end, start + segment.p_memsz);
        }
        return 1;
      },
      &search);
  begin = search.begin;
  end = search.end;
  return begin < end;
}

} // namespace

extern "C" {

qr_model *qr_model_load(const char *path) {
  if (!path || !*path)
    return fail<qr_model *>(nullptr, "empty model path");
  struct stat status;
  if (stat(path, &status) != 0)
    return fail<qr_model *>(nullptr, "cannot open model '" + std::string(path) +
                                         "': " + std::strerror(errno));
  if (S_ISDIR(status.st_mode))
    return fail<qr_model *>(nullptr, "cannot load model '" + std::string(path) +
                                         "': it is a directory");
  if (access(path, R_OK) != 0)
    return fail<qr_model *>(nullptr, "cannot open model '" + std::string(path) +
                                         "': " + std::strerror(errno));
  // Without a '/', dlopen() would search the library path, not the
  // current directory.
  std::string loadPath =
      std::strchr(path, '/') ? path : "./" + std::string(path);
  dlerror();
  void *library = dlopen(loadPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    std::string reason = dlErrorText(loadPath);
    if (!hasElfMagic(path))
      reason = "not a shared library (" + reason + ")";
    return fail<qr_model *>(nullptr, "cannot load model '" + std::string(path) +
                                         "': " + reason);
  }

  auto *model = new (std::nothrow) qr_model;
  if (!model) {
    dlclose(library);
    return fail<qr_model *>(nullptr, "out of memory");
  }
  model->library = library;
  model->description = "model '" + std::string(path) + "'";
  auto notAModel = [&](const char *symbol) {
    qr_model_destroy(model);
    return fail<qr_model *>(nullptr, "not a quant model: '" +
                                         std::string(path) + "' has no " +
                                         symbol + " symbol");
  };
  const auto *signature =
      static_cast<const char *>(dlsym(library, "quant_model_signature"));
  if (!signature)
    return notAModel("quant_model_signature");
  model->entry =
      reinterpret_cast<qr_model_entry>(dlsym(library, "quant_model_run"));
  if (!model->entry)
    return notAModel("quant_model_run");
  if (!isTerminatedWithinSymbol(signature)) {
    qr_model_destroy(model);
    return fail<qr_model *>(nullptr, "invalid model '" + std::string(path) +
                                         "': quant_model_signature is not a "
                                         "NUL-terminated char array");
  }
  return finishModel(model, signature,
                     "invalid signature in model '" + std::string(path) +
                         "': ");
}

qr_model *qr_model_from_symbols(const char *signature, qr_model_entry entry) {
  if (!signature || !entry)
    return fail<qr_model *>(nullptr,
                            "qr_model_from_symbols: null signature or entry");
  auto *model = new (std::nothrow) qr_model;
  if (!model)
    return fail<qr_model *>(nullptr, "out of memory");
  model->description = "linked-in model";
  model->entry = entry;
  return finishModel(model, signature, "invalid model signature: ");
}

void qr_model_destroy(qr_model *model) {
  if (!model)
    return;
  if (model->library) {
    uintptr_t begin, end;
    if (libraryAddressRange(model->library, begin, end))
      qr_cuda_release_constants(reinterpret_cast<const void *>(begin),
                                reinterpret_cast<const void *>(end));
    dlclose(model->library);
  }
  delete model;
}

const char *qr_model_device(const qr_model *model) {
  if (!model)
    return fail<const char *>(nullptr, "null model");
  return model->cuda ? "cuda" : "cpu";
}

int32_t qr_model_num_inputs(const qr_model *model) {
  return model ? int32_t(model->inputs.size()) : fail(-1, "null model");
}

int32_t qr_model_num_outputs(const qr_model *model) {
  return model ? int32_t(model->outputs.size()) : fail(-1, "null model");
}

const char *qr_model_input_name(const qr_model *model, int32_t index) {
  const TensorSpec *input = findSpec(model, Kind::Input, index);
  return input ? input->name.c_str() : nullptr;
}

qr_dtype qr_model_input_dtype(const qr_model *model, int32_t index) {
  const TensorSpec *input = findSpec(model, Kind::Input, index);
  return input ? input->dtype : QR_DTYPE_INVALID;
}

int32_t qr_model_input_rank(const qr_model *model, int32_t index) {
  const TensorSpec *input = findSpec(model, Kind::Input, index);
  return input ? int32_t(input->shape.size()) : -1;
}

const int64_t *qr_model_input_shape(const qr_model *model, int32_t index) {
  const TensorSpec *input = findSpec(model, Kind::Input, index);
  return input ? shapeData(*input) : nullptr;
}

const char *qr_model_output_name(const qr_model *model, int32_t index) {
  const TensorSpec *output = findSpec(model, Kind::Output, index);
  return output ? output->name.c_str() : nullptr;
}

qr_dtype qr_model_output_dtype(const qr_model *model, int32_t index) {
  const TensorSpec *output = findSpec(model, Kind::Output, index);
  return output ? output->dtype : QR_DTYPE_INVALID;
}

int32_t qr_model_output_rank(const qr_model *model, int32_t index) {
  const TensorSpec *output = findSpec(model, Kind::Output, index);
  return output ? int32_t(output->shape.size()) : -1;
}

const int64_t *qr_model_output_shape(const qr_model *model, int32_t index) {
  const TensorSpec *output = findSpec(model, Kind::Output, index);
  return output ? shapeData(*output) : nullptr;
}

int qr_model_run(qr_model *model, int32_t num_inputs, qr_tensor *const *inputs,
                 int32_t num_outputs, qr_tensor *const *outputs) {
  if (!model)
    return fail(-1, std::string("qr_model_run: null model"));
  if (model->cuda)
    return fail(-1, model->description +
                        " runs on the GPU (its signature says 'device "
                        "cuda'): run it on device buffers with "
                        "qr_model_run_buffers, or with quant-run --device "
                        "cuda");
  std::vector<void *> buffers;
  buffers.reserve(model->inputs.size() + model->outputs.size());
  if (!checkTensors(*model, Kind::Input, num_inputs, inputs, buffers) ||
      !checkTensors(*model, Kind::Output, num_outputs, outputs, buffers))
    return -1;
  return runEntry(*model, buffers.data());
}

int qr_model_run_buffers(qr_model *model, int32_t num_buffers,
                         void *const *buffers) {
  if (!model)
    return fail(-1, std::string("qr_model_run_buffers: null model"));
  size_t inputs = model->inputs.size();
  size_t expected = inputs + model->outputs.size();
  if (num_buffers < 0 || size_t(num_buffers) != expected ||
      (num_buffers && !buffers))
    return fail(-1,
                model->description + " takes " + std::to_string(expected) +
                    " buffers (" + std::to_string(inputs) + " inputs, then " +
                    std::to_string(model->outputs.size()) + " outputs), got " +
                    (num_buffers && !buffers ? std::string("a null array")
                                             : std::to_string(num_buffers)));
  auto nameOf = [&](size_t i) {
    return i < inputs ? "input '" + model->inputs[i].name + "'"
                      : "output '" + model->outputs[i - inputs].name + "'";
  };
  for (size_t i = 0; i < expected; ++i) {
    if (!buffers[i])
      return fail(-1, "the buffer of " + nameOf(i) + " is null");
    for (size_t j = std::max(i + 1, inputs); j < expected; ++j)
      if (buffers[j] == buffers[i])
        return fail(-1, nameOf(j) + " has the same buffer as " + nameOf(i));
  }
  std::vector<void *> copy(buffers, buffers + expected);
  return runEntry(*model, copy.data());
}

void qr_report_kernel_error(const char *message) {
  std::lock_guard<std::mutex> lock(kernelErrorMutex);
  if (hasKernelError)
    return;
  std::snprintf(kernelErrorText, sizeof(kernelErrorText), "%s",
                message ? message : "micro-kernel failure");
  hasKernelError = true;
}

const char *qr_take_kernel_error(void) {
  thread_local std::string taken;
  std::optional<std::string> error = takeKernelError();
  if (!error)
    return nullptr;
  taken = std::move(*error);
  return taken.c_str();
}

} // extern "C"
