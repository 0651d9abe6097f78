//===- CheckHostMemoryAccess.cpp - no device memory access on the host ----===//
//
// In a GPU model every buffer is a device buffer (qnn-gpu-buffers), so what
// reads or writes a buffer must run in a kernel. Loops the GPU mapping could
// not turn into kernels would otherwise compile into host code that
// dereferences device pointers and crashes the model at run time; this check
// turns them into a compile-time error at their location.
//
//===----------------------------------------------------------------------===//

#include "quant/Conversion/Passes.h"
#include "quant/Dialect/QNN/IR/QNN.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir {
namespace qnn {
#define GEN_PASS_DEF_QNNCHECKHOSTMEMORYACCESS
#include "quant/Conversion/Passes.h.inc"
} // namespace qnn
} // namespace mlir

using namespace mlir;

namespace {

/// Whether `op` reads or writes the contents of a device buffer. The host
/// stack slots qnn-gpu-buffers reads device scalars into are host memory
/// (it rejects every other memref.alloca).
bool accessesDeviceBuffer(Operation *op) {
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return false;
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  return llvm::any_of(instances, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Read, MemoryEffects::Write>(e.getEffect()) &&
           e.getValue() && isa<BaseMemRefType>(e.getValue().getType()) &&
           !e.getValue().getDefiningOp<memref::AllocaOp>();
  });
}

struct QNNCheckHostMemoryAccessPass
    : public qnn::impl::QNNCheckHostMemoryAccessBase<
          QNNCheckHostMemoryAccessPass> {
  void runOnOperation() override {
    bool failed = false;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      // Device code, and host ops that take device buffers by design.
      if (isa_and_nonnull<gpu::GPUDialect>(op->getDialect()) ||
          isa<qnn::UKernelOp>(op))
        return WalkResult::skip();
      if (accessesDeviceBuffer(op)) {
        op->emitError("reads or writes a device buffer in host code; only "
                      "loops mapped to GPU kernels may access buffers");
        failed = true;
      }
      return WalkResult::advance();
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
