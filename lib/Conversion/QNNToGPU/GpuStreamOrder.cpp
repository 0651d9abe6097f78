//===- GpuStreamOrder.cpp - a model's GPU work on one stream --------------===//
//
// Upstream's gpu-async-region synchronizes the host before every op with
// side effects, which in a GPU model means before every call of a runtime
// kernel: a host round trip per matmul that also stops the host from
// queueing ahead. The runtime enqueues its kernels on the stream the mgpu*
// ABI hands out (one stream per process), so ordering on that stream is all
// a model needs; the host waits once, at the end.
//
//===----------------------------------------------------------------------===//

#include "quant/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir {
namespace qnn {
#define GEN_PASS_DEF_QNNGPUSTREAMORDER
#include "quant/Conversion/Passes.h.inc"
} // namespace qnn
} // namespace mlir

using namespace mlir;

namespace {

/// The synchronous GPU ops of host code that gpu-to-llvm lowers only in
/// their async form (or, for launches, with a stream of their own).
bool isSynchronousGpuOp(Operation *op) {
  auto async = dyn_cast<gpu::AsyncOpInterface>(op);
  return async && !async.getAsyncToken() &&
         isa<gpu::LaunchFuncOp, gpu::AllocOp, gpu::DeallocOp, gpu::MemcpyOp,
             gpu::MemsetOp>(op);
}

/// `op` made async after `token`: the same op with a token result added
/// (last, as the gpu ops declare it). Returns the new token.
Value makeAsync(Operation *op, Value token) {
  cast<gpu::AsyncOpInterface>(op).addAsyncDependency(token);
  SmallVector<Type> resultTypes(op->getResultTypes());
  resultTypes.push_back(token.getType());
  Operation *async = Operation::create(
      op->getLoc(), op->getName(), resultTypes, op->getOperands(),
      op->getDiscardableAttrDictionary(), op->getPropertiesStorage(),
      op->getSuccessors(), /*numRegions=*/0);
  OpBuilder(op).insert(async);
  op->replaceAllUsesWith(async->getResults().drop_back());
  op->erase();
  return async->getResults().back();
}

LogicalResult orderOnOneStream(func::FuncOp function) {
  SmallVector<Operation *> gpuOps;
  function.walk([&](Operation *op) {
    if (isSynchronousGpuOp(op))
      gpuOps.push_back(op);
  });
  if (gpuOps.empty())
    return success();
  Block &body = function.getBody().front();
  for (Operation *op : gpuOps)
    if (op->getBlock() != &body || !function.getBody().hasOneBlock())
      return op->emitOpError("is inside control flow; the GPU lowering "
                             "orders the GPU work of straight-line host code "
                             "only");

  OpBuilder b(gpuOps.front());
  auto tokenType = b.getType<gpu::AsyncTokenType>();
  Value token =
      gpu::WaitOp::create(b, function.getLoc(), tokenType, ValueRange())
          .getAsyncToken();
  for (Operation *op : gpuOps)
    token = makeAsync(op, token);
  b.setInsertionPoint(body.getTerminator());
  gpu::WaitOp::create(b, function.getLoc(), Type(), ValueRange{token});
  return success();
}

struct QNNGpuStreamOrderPass
    : public qnn::impl::QNNGpuStreamOrderBase<QNNGpuStreamOrderPass> {
  void runOnOperation() override {
    for (auto function : getOperation().getOps<func::FuncOp>())
      if (failed(orderOnOneStream(function)))
        return signalPassFailure();
  }
};

} // namespace
