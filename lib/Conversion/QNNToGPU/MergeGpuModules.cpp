//===- MergeGpuModules.cpp - one gpu.module for a model's kernels ---------===//
//
// gpu-kernel-outlining puts each kernel in a module of its own; a model
// with a dozen element-wise kernels would then embed a dozen GPU binaries,
// load each with its own cuModuleLoadData, and give quant-translate
// --to-cubin a dozen cubins to write. One module holds them all.
//
//===----------------------------------------------------------------------===//

#include "quant/Conversion/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir {
namespace qnn {
#define GEN_PASS_DEF_QNNMERGEGPUMODULES
#include "quant/Conversion/Passes.h.inc"
} // namespace qnn
} // namespace mlir

using namespace mlir;

namespace {

constexpr StringLiteral kMergedName = "quant_kernels";

struct QNNMergeGpuModulesPass
    : public qnn::impl::QNNMergeGpuModulesBase<QNNMergeGpuModulesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> sources(module.getOps<gpu::GPUModuleOp>());
    if (sources.empty())
      return;
    OpBuilder b(sources.front());
    auto merged =
        gpu::GPUModuleOp::create(b, sources.front().getLoc(), kMergedName);
    SymbolTable(module).insert(merged);
    SymbolTable kernels(merged);

    // Where each (module, kernel) pair went.
    llvm::DenseMap<SymbolRefAttr, SymbolRefAttr> moved;
    for (gpu::GPUModuleOp source : sources) {
      bool single = llvm::range_size(source.getOps<gpu::GPUFuncOp>()) == 1;
      for (Operation &op : llvm::make_early_inc_range(source.getOps())) {
        auto symbol = dyn_cast<SymbolOpInterface>(&op);
        if (!symbol) {
          op.emitOpError("cannot be moved out of its gpu.module");
          return signalPassFailure();
        }
        StringAttr oldName = symbol.getNameAttr();
        // The module's name is unique and says where the kernel came from.
        if (single && isa<gpu::GPUFuncOp>(op))
          symbol.setName(source.getSymNameAttr());
        op.moveBefore(merged.getBody(), merged.getBody()->end());
        StringAttr newName = kernels.insert(&op);
        moved[SymbolRefAttr::get(source.getSymNameAttr(),
                                 FlatSymbolRefAttr::get(oldName))] =
            SymbolRefAttr::get(merged.getSymNameAttr(),
                               FlatSymbolRefAttr::get(newName));
      }
    }
    module.walk([&](gpu::LaunchFuncOp launch) {
      if (SymbolRefAttr target = moved.lookup(launch.getKernel()))
        launch.setKernelAttr(target);
    });
    for (gpu::GPUModuleOp source : sources)
      source.erase();
  }
};

} // namespace
