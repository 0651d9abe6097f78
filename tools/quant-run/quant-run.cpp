//===- quant-run.cpp - quant's runtime driver -----------------------------===//
//
// Today: `quant-run --inspect FILE` prints an .npy file's dtype and shape
// and rejects malformed files. Running compiled models (model.so --input
// --output --bench) arrives with the CPU code-generation path.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/Runtime.h"

#include <cstdio>
#include <cstring>
#include <string>

static const char kUsage[] =
    "usage: quant-run --inspect FILE\n"
    "       quant-run MODEL --input [NAME=]X.npy ... --output Y.npy "
    "[--bench N] [--threads T]\n"
    "\n"
    "  --inspect FILE   print a .npy file's dtype and shape (or reject it)\n"
    "  --help           this text\n";

static int inspect(const char *path) {
  qr_tensor *tensor = qr_npy_load(path);
  if (!tensor) {
    std::fprintf(stderr, "quant-run: error: %s\n", qr_last_error());
    return 1;
  }
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

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!std::strcmp(argv[1], "--inspect")) {
    if (argc != 3) {
      std::fputs("quant-run: error: --inspect takes exactly one file\n",
                 stderr);
      return 2;
    }
    return inspect(argv[2]);
  }
  if (argv[1][0] == '-') {
    std::fprintf(stderr, "quant-run: error: unknown option '%s'\n%s", argv[1],
                 kUsage);
    return 2;
  }
  std::fprintf(stderr,
               "quant-run: error: running compiled models ('%s') is not "
               "implemented in this build yet; --inspect works on .npy files\n",
               argv[1]);
  return 1;
}
