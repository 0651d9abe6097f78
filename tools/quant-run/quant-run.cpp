//===- quant-run.cpp - quant's runtime driver -----------------------------===//
//
//   quant-run MODEL.so [options]   runs a compiled model (qr_driver_main)
//   quant-run --inspect FILE       describes a .npy file or a compiled model
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/Runtime.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

static const char kUsage[] =
    "usage: quant-run MODEL.so [options]   run a compiled model\n"
    "       quant-run --inspect FILE       describe a .npy file or a compiled "
    "model\n"
    "\n"
    "options (after MODEL.so):\n"
    "  --input [NAME=]FILE.npy   an input; repeat for each. Files without\n"
    "                            NAME= fill the inputs not named, in\n"
    "                            signature order\n"
    "  --output [NAME=]FILE.npy  write an output (same rules); outputs not\n"
    "                            written are summarised (shape, min, max,\n"
    "                            mean)\n"
    "  --compare [NAME=]REF.npy  compare an output (same rules) with a\n"
    "                            reference of its dtype and shape: max abs\n"
    "                            error, relative L2 error, SQNR, cosine\n"
    "                            similarity and, for [N, C] or [C] outputs,\n"
    "                            top-1 agreement\n"
    "  --bench N                 time N runs and print min, median, p90, p99\n"
    "                            and mean latency and runs/s\n"
    "  --warmup W                untimed runs before the timed ones\n"
    "                            (default 3)\n"
    "  --threads T               threads to run on, 0 = every CPU\n"
    "                            (default $QUANT_NUM_THREADS or every CPU)\n"
    "  --device cpu|cuda         where the model runs (default: cuda for a\n"
    "                            model compiled for the GPU, whose signature\n"
    "                            says 'device cuda', else cpu). With cuda,\n"
    "                            inputs are copied to the GPU, outputs back,\n"
    "                            and --bench times with CUDA events;\n"
    "                            $QUANT_CUDA_DEVICE picks the GPU (default 0)\n"
    "  --inspect                 print the model's inputs and outputs\n"
    "  --help                    this text; after MODEL.so, followed by\n"
    "                            the model's signature\n"
    "\n"
    "examples:\n"
    "  quant-run --inspect model.so\n"
    "  quant-run model.so --input x=x.npy --output y=y.npy\n"
    "  quant-run model.so --input x.npy --bench 100 --threads 1\n"
    "  quant-run model.so --input x.npy --compare y=y_float.npy\n"
    "  quant-run gpu_model.so --device cuda --input x.npy --bench 100\n"
    "  quant-run --inspect y.npy\n"
    "\n"
    "Exit status: 0 on success, 1 when a file or the model fails, 2 for a\n"
    "usage error.\n";

static int reportError(const char *message, int status) {
  std::fprintf(stderr, "quant-run: error: %s\n", message);
  return status;
}

static bool endsWith(const std::string &text, const char *suffix) {
  size_t length = std::strlen(suffix);
  return text.size() >= length &&
         text.compare(text.size() - length, length, suffix) == 0;
}

// A compiled model by name (x.so, x.so.1) or by content (ELF magic).
static bool looksLikeSharedLibrary(const std::string &path) {
  if (endsWith(path, ".so") || path.find(".so.") != std::string::npos)
    return true;
  char magic[4] = {};
  std::ifstream file(path, std::ios::binary);
  const char elfMagic[4] = {0x7f, 'E', 'L', 'F'};
  return file.read(magic, sizeof(magic)) &&
         std::memcmp(magic, elfMagic, sizeof(magic)) == 0;
}

// Runs the driver on `model` with `arguments` after the program name.
static int runDriver(qr_model *model, std::vector<const char *> arguments) {
  arguments.insert(arguments.begin(), "quant-run");
  arguments.push_back(nullptr);
  return qr_driver_main(int(arguments.size() - 1),
                        const_cast<char **>(arguments.data()), model);
}

static int inspectModel(const char *path) {
  qr_model *model = qr_model_load(path);
  if (!model)
    return reportError(qr_last_error(), 1);
  int32_t inputs = qr_model_num_inputs(model);
  int32_t outputs = qr_model_num_outputs(model);
  std::printf("%s: quant model, %d input%s, %d output%s\n", path, int(inputs),
              inputs == 1 ? "" : "s", int(outputs), outputs == 1 ? "" : "s");
  std::fflush(stdout);
  int status = runDriver(model, {"--inspect"});
  qr_model_destroy(model);
  return status;
}

static int inspectNpy(const char *path) {
  qr_tensor *tensor = qr_npy_load(path);
  if (!tensor)
    return reportError(qr_last_error(), 1);
  std::string shape = "[";
  for (int32_t d = 0; d < qr_tensor_rank(tensor); ++d)
    shape += (d ? ", " : "") + std::to_string(qr_tensor_shape(tensor)[d]);
  shape += "]";
  std::printf("%s: %s %s (%lld elements, %zu bytes)\n", path,
              qr_dtype_name(qr_tensor_dtype(tensor)), shape.c_str(),
              static_cast<long long>(qr_tensor_num_elements(tensor)),
              qr_tensor_num_bytes(tensor));
  qr_tensor_destroy(tensor);
  return 0;
}

static int runModel(const char *path, int argc, char **argv) {
  qr_model *model = qr_model_load(path);
  if (!model) {
    std::string message = qr_last_error();
    if (endsWith(path, ".npy"))
      message += "; to describe a .npy file, run: quant-run --inspect " +
                 std::string(path);
    return reportError(message.c_str(), 1);
  }
  std::vector<const char *> arguments(argv, argv + argc);
  int status;
  bool wantsHelp = false;
  for (const char *argument : arguments)
    wantsHelp |=
        !std::strcmp(argument, "--help") || !std::strcmp(argument, "-h");
  if (wantsHelp) {
    // The driver's own help is written for compiled executables, whose
    // command line has no MODEL argument.
    std::printf("%s\n%s:\n", kUsage, path);
    std::fflush(stdout);
    status = runDriver(model, {"--inspect"});
  } else {
    status = runDriver(model, arguments);
  }
  qr_model_destroy(model);
  return status;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string first = argv[1];
  if (first == "--help" || first == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (first == "--inspect") {
    if (argc != 3)
      return reportError("--inspect takes exactly one file", 2);
    return looksLikeSharedLibrary(argv[2]) ? inspectModel(argv[2])
                                           : inspectNpy(argv[2]);
  }
  if (first[0] == '-') {
    for (const char *option : {"--input", "--output", "--compare", "--bench",
                               "--warmup", "--threads", "--device"}) {
      if (first == option || first.rfind(std::string(option) + "=", 0) == 0) {
        std::string message =
            "the model comes first: quant-run MODEL.so " + first + " ...";
        return reportError(message.c_str(), 2);
      }
    }
    std::fprintf(stderr, "quant-run: error: unknown option '%s'\n%s",
                 first.c_str(), kUsage);
    return 2;
  }
  return runModel(argv[1], argc - 2, argv + 2);
}
