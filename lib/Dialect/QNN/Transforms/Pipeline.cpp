//===- Pipeline.cpp - the standard quantization pipeline ------------------===//

#include "quant/Dialect/QNN/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::qnn;

namespace {

struct QNNPipelineOptions : PassPipelineOptions<QNNPipelineOptions> {
  Option<unsigned> wbits{*this, "wbits", llvm::cl::desc("weight bits"),
                         llvm::cl::init(4)};
  Option<int64_t> group{*this, "group",
                        llvm::cl::desc("weight group size (0 = per channel)"),
                        llvm::cl::init(128)};
  Option<bool> symmetric{*this, "symmetric",
                         llvm::cl::desc("symmetric weight grid"),
                         llvm::cl::init(true)};
  Option<std::string> method{*this, "method", llvm::cl::desc("rtn | gptq"),
                             llvm::cl::init("rtn")};
  Option<unsigned> abits{*this, "abits",
                         llvm::cl::desc("activation bits (0 = keep float)"),
                         llvm::cl::init(8)};
  Option<std::string> act{*this, "act",
                          llvm::cl::desc("activation scales: dynamic | static"),
                          llvm::cl::init("dynamic")};
  Option<std::string> smooth{
      *this, "smooth",
      llvm::cl::desc("outlier smoothing: off, an alpha in [0, 1] (uses "
                     "qnn.calib_stats), or 'search' (AWQ, uses calibration)"),
      llvm::cl::init("off")};
  Option<std::string> rotate{
      *this, "rotate",
      llvm::cl::desc("none | hadamard | random-orthogonal | procrustes"),
      llvm::cl::init("none")};
  Option<bool> refineOnline{
      *this, "refine-online",
      llvm::cl::desc("rotate=procrustes: also refine the rotations that stay "
                     "online, as dense qnn.rotate products"),
      llvm::cl::init(false)};
  Option<uint64_t> seed{*this, "seed", llvm::cl::desc("rotation seed"),
                        llvm::cl::init(0)};
  Option<double> budgetMiB{*this, "budget-mib",
                           llvm::cl::desc("weight size budget: allocate bits "
                                          "per layer by ILP (0 = uniform)"),
                           llvm::cl::init(0)};
  Option<double> budgetBops{*this, "budget-bops",
                            llvm::cl::desc("BOPs budget for the bit "
                                           "allocation (0 = none)"),
                            llvm::cl::init(0)};
  Option<std::string> calibration{
      *this, "calibration",
      llvm::cl::desc(".npy sample of the model input for smooth=search, "
                     "rotate=procrustes, method=gptq and sensitivities"),
      llvm::cl::init("")};
};

void buildQNNPipeline(OpPassManager &pm, const QNNPipelineOptions &options) {
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(createQNNImportLinalg());
  if (options.smooth != "off") {
    QNNSmoothOutliersOptions smooth;
    smooth.abits = options.abits == 0 ? 8 : unsigned(options.abits);
    smooth.wbits = options.wbits;
    smooth.group = options.group;
    smooth.calibration = options.calibration;
    if (options.smooth == "search") {
      smooth.search = true;
    } else if (StringRef(options.smooth).getAsDouble(smooth.alpha)) {
      // The pass rejects the NaN with its range diagnostic.
      llvm::errs() << "qnn-pipeline: smooth must be off, search or an alpha "
                      "in [0, 1], got '"
                   << options.smooth << "'\n";
      smooth.alpha = std::nan("");
    }
    func.addPass(createQNNSmoothOutliers(smooth));
  }
  if (options.rotate != "none") {
    QNNRotateOptions rotate;
    rotate.kind = options.rotate;
    rotate.seed = options.seed;
    rotate.calibration = options.calibration;
    rotate.refineOnline = options.refineOnline;
    rotate.abits = options.abits == 8 ? 8 : 4;
    func.addPass(createQNNRotate(rotate));
  }
  if (options.budgetMiB > 0 || options.budgetBops > 0) {
    QNNAllocateBitsOptions allocate;
    allocate.budgetMiB = options.budgetMiB;
    allocate.budgetBops = options.budgetBops;
    allocate.group = options.group;
    allocate.symmetric = options.symmetric;
    allocate.abits = options.abits == 0 ? 16 : unsigned(options.abits);
    allocate.calibration = options.calibration;
    func.addPass(createQNNAllocateBits(allocate));
  }
  QNNQuantizeWeightsOptions quantize;
  quantize.bits = options.wbits;
  quantize.group = options.group;
  quantize.symmetric = options.symmetric;
  quantize.method = options.method;
  quantize.calibration = options.calibration;
  quantize.abits = options.abits;
  quantize.act = options.act;
  func.addPass(createQNNQuantizeWeights(quantize));
  func.addPass(createQNNFuse());
  func.addPass(createCanonicalizerPass());
  func.addPass(createCSEPass());
}

} // namespace

void mlir::qnn::registerQNNPipeline() {
  PassPipelineRegistration<QNNPipelineOptions>(
      "qnn-pipeline",
      "The standard quantization pipeline: import-linalg, [smooth-outliers], "
      "[rotate], [allocate-bits], quantize-weights, fuse, canonicalize, cse",
      buildQNNPipeline);
}
