//===- BufferizableOpInterfaceImpl.cpp - qnn bufferization ----------------===//
//
// qnn.ukernel is destination-passing style, so the upstream DPS model gives
// its read/write/aliasing facts; bufferizing it only swaps every tensor
// operand for its buffer.
//
//===----------------------------------------------------------------------===//

#include "quant/Dialect/QNN/Transforms/BufferizableOpInterfaceImpl.h"
#include "quant/Dialect/QNN/IR/QNN.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {

struct UKernelOpInterface
    : public DstBufferizableOpInterfaceExternalModel<UKernelOpInterface,
                                                     qnn::UKernelOp> {
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto ukernel = cast<qnn::UKernelOp>(op);
    auto toBuffers =
        [&](ValueRange values) -> FailureOr<SmallVector<Value>> {
      SmallVector<Value> buffers;
      for (Value value : values) {
        if (!isa<TensorType>(value.getType())) {
          buffers.push_back(value);
          continue;
        }
        FailureOr<Value> buffer = getBuffer(rewriter, value, options, state);
        if (failed(buffer))
          return failure();
        buffers.push_back(*buffer);
      }
      return buffers;
    };
    FailureOr<SmallVector<Value>> inputs = toBuffers(ukernel.getInputs());
    FailureOr<SmallVector<Value>> outputs = toBuffers(ukernel.getOutputs());
    if (failed(inputs) || failed(outputs))
      return failure();
    rewriter.setInsertionPoint(op);
    qnn::UKernelOp::create(rewriter, op->getLoc(), TypeRange(),
                           ukernel.getNameAttr(), *inputs, *outputs,
                           ukernel.getOutputPositionsAttr());
    replaceOpWithBufferizedValues(rewriter, op, *outputs);
    return success();
  }
};

} // namespace

void qnn::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, qnn::QNNDialect *) {
    qnn::UKernelOp::attachInterface<UKernelOpInterface>(*context);
  });
}
