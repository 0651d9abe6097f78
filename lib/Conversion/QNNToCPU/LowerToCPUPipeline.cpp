//===- LowerToCPUPipeline.cpp - --qnn-lower-to-cpu ------------------------===//
//
// qnn → micro-kernel calls and linalg on tensors → buffers → loops → llvm.
// The pipeline is written as the textual pipeline a user would pass to
// quant-opt, so `--qnn-lower-to-cpu` can be reproduced (and bisected) step
// by step; --mlir-print-ir-after-all shows each stage.
//
//===----------------------------------------------------------------------===//

#include "quant/Conversion/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace {

struct LowerToCPUOptions : PassPipelineOptions<LowerToCPUOptions> {
  Option<std::string> entry{
      *this, "entry",
      llvm::cl::desc("function exported as the model (default: the only "
                     "public function)"),
      llvm::cl::init("")};
};

/// The stages, in order; see the pass descriptions for each qnn step.
std::string pipelineText(const LowerToCPUOptions &options) {
  return qnn::modelToBuffersPipeline(qnn::KernelTarget::cpu,
                                     options.entry.getValue()) +
         ","
         "func.func(convert-linalg-to-loops),"
         "qnn-lower-ukernel-calls,"
         "convert-math-to-llvm,"
         "convert-math-to-libm,"
         "expand-strided-metadata,"
         "lower-affine,"
         "convert-scf-to-cf,"
         "finalize-memref-to-llvm,"
         "convert-arith-to-llvm,"
         "convert-index-to-llvm,"
         "convert-func-to-llvm,"
         "convert-cf-to-llvm,"
         "reconcile-unrealized-casts";
}

void buildLowerToCPUPipeline(OpPassManager &pm,
                             const LowerToCPUOptions &options) {
  if (failed(parsePassPipeline(pipelineText(options), pm)))
    llvm::report_fatal_error("--qnn-lower-to-cpu: malformed internal pipeline");
}

} // namespace

std::string qnn::modelToBuffersPipeline(KernelTarget target, StringRef entry) {
  const bool gpu = target == KernelTarget::gpu;
  std::string entryOptions = gpu ? "device=cuda" : "";
  if (!entry.empty())
    entryOptions += (gpu ? " entry=" : "entry=") + entry.str();
  return llvm::formatv(
      "qnn-lower-to-ukernels{0},"
      "canonicalize,"
      "qnn-bound-dynamic-results,"
      "one-shot-bufferize{{bufferize-function-boundaries "
      "function-boundary-type-conversion=identity-layout-map},"
      "buffer-results-to-out-params{{add-result-attr hoist-static-allocs "
      "modify-public-functions},"
      "buffer-deallocation-pipeline,"
      "qnn-emit-model-entry{1}",
      gpu ? "{target=gpu}" : "",
      entryOptions.empty() ? std::string() : "{" + entryOptions + "}");
}

void qnn::registerLowerToCPUPipeline() {
  PassPipelineRegistration<LowerToCPUOptions>(
      "qnn-lower-to-cpu",
      "Lower a qnn/linalg model to the llvm dialect for the CPU: "
      "micro-kernel calls, one-shot bufferization, the model ABI entry "
      "(quant_model_run), loops, and upstream conversions to llvm",
      buildLowerToCPUPipeline);
}
