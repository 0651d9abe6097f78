//===- LowerToGPUPipeline.cpp - --qnn-lower-to-gpu ------------------------===//
//
// qnn → GPU kernel calls and linalg on tensors → buffers → device buffers →
// loops mapped to GPU kernels → NVVM and a GPU binary, host side → llvm.
// Like --qnn-lower-to-cpu it is written as the textual pipeline a user would
// pass to quant-opt, so it can be reproduced (and bisected) step by step.
//
//===----------------------------------------------------------------------===//

#include "quant/Conversion/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace {

struct LowerToGPUOptions : PassPipelineOptions<LowerToGPUOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("GPU architecture (sm_80, sm_90)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features; LLVM's default PTX 6.0 cannot target "
                     "sm_90, hence +ptx80"),
      llvm::cl::init("+ptx80")};
  Option<std::string> cudaPath{
      *this, "cuda-path",
      llvm::cl::desc("CUDA toolkit whose libdevice (math functions) is linked "
                     "into the kernels and whose ptxas builds bin and fatbin "
                     "binaries"),
      llvm::cl::init("/usr/local/cuda")};
  Option<std::string> entry{
      *this, "entry",
      llvm::cl::desc("function exported as the model (default: the only "
                     "public function)"),
      llvm::cl::init("")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("GPU binary embedded in the host module: fatbin, bin "
                     "(cubin) or isa (PTX, JIT-compiled by the driver; what "
                     "quant-translate --to-ptx/--to-cubin read)"),
      llvm::cl::init("fatbin")};
};

/// The stages, in order; see the pass descriptions for each qnn step.
std::string pipelineText(const LowerToGPUOptions &options) {
  // Tensors: kernel calls and element-wise generics, as for the CPU.
  return qnn::modelToBuffersPipeline(qnn::KernelTarget::gpu,
                                     options.entry.getValue()) +
         llvm::formatv(
             ","
             // Buffers: on the device; loops: kernels.
             "qnn-gpu-buffers,"
             "qnn-gpu-reduction-loops,"
             "func.func(convert-linalg-to-parallel-loops),"
             "qnn-gpu-tile-loops,"
             "func.func(gpu-map-parallel-loops,"
             "convert-parallel-loops-to-gpu),"
             // Folds the loop bounds to constants and moves them into the
             // kernels (a constant divisor instead of a 64-bit division by an
             // argument); canonicalizing loops before the mapping would merge
             // the tiles back into one loop.
             "canonicalize,"
             "func.func(gpu-launch-sink-index-computations),"
             "qnn-check-host-memory-access,"
             "gpu-kernel-outlining,"
             "qnn-merge-gpu-modules,"
             "qnn-gpu-stream-order,"
             "qnn-lower-ukernel-calls,"
             // Kernels: NVVM, then a binary for the chip.
             "convert-scf-to-cf,"
             "expand-strided-metadata,"
             "lower-affine,"
             "nvvm-attach-target{{chip={0} features={1} O=3},"
             "gpu.module(convert-gpu-to-nvvm,canonicalize,cse,"
             "reconcile-unrealized-casts),"
             // Host: llvm, with the mgpu* calls the runtime implements.
             "gpu-to-llvm,"
             "gpu-module-to-binary{{format={2} toolkit={3}},"
             "convert-arith-to-llvm,"
             "convert-index-to-llvm,"
             "convert-func-to-llvm,"
             "convert-cf-to-llvm,"
             "canonicalize,"
             "cse,"
             "reconcile-unrealized-casts",
             options.chip.getValue(), options.features.getValue(),
             options.format.getValue(), options.cudaPath.getValue())
             .str();
}

/// The oldest PTX ISA version (as in +ptxNN) that targets each chip the
/// GPU path supports; LLVM aborts instead of reporting an older one.
std::optional<unsigned> minimumPTXVersion(StringRef chip) {
  return llvm::StringSwitch<std::optional<unsigned>>(chip)
      .Case("sm_80", 70)
      .Case("sm_86", 71)
      .Case("sm_87", 74)
      .Cases("sm_89", "sm_90", 78)
      .Case("sm_90a", 80)
      .Cases("sm_100", "sm_100a", 86)
      .Cases("sm_120", "sm_120a", 87)
      .Default(std::nullopt);
}

/// Options the nested passes would only reject after lowering the whole
/// model, or with an LLVM abort: one error each, before anything runs.
LogicalResult verifyOptions(const LowerToGPUOptions &options,
                            function_ref<LogicalResult(const Twine &)> error) {
  StringRef format = options.format.getValue();
  if (format != "fatbin" && format != "bin" && format != "isa")
    return error("--qnn-lower-to-gpu: unknown format '" + format +
                 "' (expected fatbin, bin or isa)");
  StringRef chip = options.chip.getValue();
  std::optional<unsigned> minimum = minimumPTXVersion(chip);
  if (!minimum)
    return error("--qnn-lower-to-gpu: unsupported chip '" + chip +
                 "' (expected sm_80, sm_86, sm_87, sm_89, sm_90, sm_90a, "
                 "sm_100, sm_100a, sm_120 or sm_120a)");
  unsigned ptx = 0;
  SmallVector<StringRef> features;
  StringRef(options.features.getValue()).split(features, ',');
  for (StringRef feature : features)
    if (feature.consume_front("+ptx") && feature.getAsInteger(10, ptx))
      return error("--qnn-lower-to-gpu: malformed PTX feature '+ptx" + feature +
                   "'");
  if (ptx < *minimum)
    return error("--qnn-lower-to-gpu: " + chip + " needs PTX " +
                 Twine(*minimum / 10) + "." + Twine(*minimum % 10) +
                 " or later: add +ptx" + Twine(*minimum) +
                 " (or newer) to features" +
                 (ptx ? " instead of +ptx" + Twine(ptx) : Twine()));
  return success();
}

LogicalResult
buildLowerToGPUPipeline(OpPassManager &pm, StringRef optionText,
                        function_ref<LogicalResult(const Twine &)> error) {
  LowerToGPUOptions options;
  if (failed(options.parseFromString(optionText)) ||
      failed(verifyOptions(options, error)))
    return failure();
  std::string text = pipelineText(options);
  std::string message;
  llvm::raw_string_ostream stream(message);
  if (failed(parsePassPipeline(text, pm, stream)))
    return error("--qnn-lower-to-gpu: cannot build '" + text + "': " + message);
  return success();
}

} // namespace

void qnn::registerLowerToGPUPipeline() {
  // registerPassPipeline rather than PassPipelineRegistration: its builder
  // can reject options with an error instead of aborting.
  registerPassPipeline(
      "qnn-lower-to-gpu",
      "Lower a qnn/linalg model for NVIDIA GPUs: CUDA kernel calls, "
      "one-shot bufferization, the model ABI entry (quant_model_run, on "
      "device buffers), loops mapped to GPU kernels compiled through NVVM "
      "into a GPU binary, and the host side to llvm",
      buildLowerToGPUPipeline,
      [](function_ref<void(const detail::PassOptions &)> describe) {
        describe(LowerToGPUOptions());
      });
}
