//===- GpuTileLoops.cpp - parallel loops shaped as GPU thread blocks ------===//
//
// gpu-map-parallel-loops maps an outermost scf.parallel to the grid and a
// nested one to the threads of a block; linalg's loops have no nested
// level, which would give one-thread blocks. Collapsing before tiling gives
// every loop, whatever its rank, one dimension of `threads`-wide blocks
// along the contiguous end of its buffers.
//
//===----------------------------------------------------------------------===//

#include "quant/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/PatternMatch.h"

#include <numeric>

namespace mlir {
namespace qnn {
#define GEN_PASS_DEF_QNNGPUTILELOOPS
#include "quant/Conversion/Passes.h.inc"
} // namespace qnn
} // namespace mlir

using namespace mlir;

namespace {

struct QNNGpuTileLoopsPass
    : public qnn::impl::QNNGpuTileLoopsBase<QNNGpuTileLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (threads < 1 || threads > 1024) {
      getOperation().emitError("threads=")
          << threads.getValue() << " is not a CUDA block size (1 to 1024)";
      return signalPassFailure();
    }
    SmallVector<scf::ParallelOp> outermost;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::GPUModuleOp, gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
        outermost.push_back(loop);
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
    IRRewriter rewriter(&getContext());
    for (scf::ParallelOp loop : outermost) {
      unsigned rank = loop.getNumLoops();
      if (rank > 1) {
        // collapseParallelLoops replaces the loop in place.
        Operation *next = loop->getNextNode();
        std::vector<unsigned> all(rank);
        std::iota(all.begin(), all.end(), 0);
        rewriter.setInsertionPoint(loop);
        collapseParallelLoops(rewriter, loop, {all});
        loop = cast<scf::ParallelOp>(next->getPrevNode());
      }
      // Constant tile bounds (an scf.if guards the last tile) keep the
      // block size static, as convert-parallel-loops-to-gpu needs.
      scf::tileParallelLoop(loop, {threads}, /*noMinMaxBounds=*/true);
    }
  }
};

} // namespace
