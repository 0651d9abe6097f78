//===- LowerUKernelCalls.cpp - bufferized qnn.ukernel to C calls ----------===//
//
// After bufferization a qnn.ukernel names a C function and its arguments;
// buffers cross as bare pointers to their first element, which is what
// the micro-kernels' C signatures take (their sizes and leading dimensions
// are explicit scalar arguments).
//
//===----------------------------------------------------------------------===//

#include "quant/Conversion/Passes.h"
#include "quant/Dialect/QNN/IR/QNN.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir {
namespace qnn {
#define GEN_PASS_DEF_QNNLOWERUKERNELCALLS
#include "quant/Conversion/Passes.h.inc"
} // namespace qnn
} // namespace mlir

using namespace mlir;
using namespace mlir::qnn;

namespace {

/// Pointer to the first element of `buffer` (its aligned base plus offset).
Value firstElementPointer(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  auto pointerType = LLVM::LLVMPointerType::get(b.getContext());
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  Value address = arith::IndexCastOp::create(b, loc, b.getI64Type(), base);
  Value pointer = LLVM::IntToPtrOp::create(b, loc, pointerType, address);
  int64_t offset;
  SmallVector<int64_t> strides;
  if (succeeded(type.getStridesAndOffset(strides, offset)) && offset == 0)
    return pointer;
  auto metadata = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
  Value elementOffset = arith::IndexCastOp::create(
      b, loc, b.getI64Type(), metadata.getOffset());
  return LLVM::GEPOp::create(b, loc, pointerType, type.getElementType(),
                             pointer, ValueRange{elementOffset});
}

struct QNNLowerUKernelCallsPass
    : public qnn::impl::QNNLowerUKernelCallsBase<QNNLowerUKernelCallsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    WalkResult result = module.walk([&](UKernelOp op) {
      if (!op.getResults().empty()) {
        op.emitOpError("must be bufferized before it is lowered to a call");
        return WalkResult::interrupt();
      }
      OpBuilder b(op);
      Location loc = op.getLoc();
      SmallVector<Value> arguments;
      auto inputs = op.getInputs().begin();
      auto outputs = op.getOutputs().begin();
      ArrayRef<int64_t> positions = op.getOutputPositions();
      int64_t count = op.getInputs().size() + op.getOutputs().size();
      for (int64_t position = 0, nextOutput = 0; position < count;
           ++position) {
        bool isOutput = nextOutput < static_cast<int64_t>(positions.size()) &&
                        positions[nextOutput] == position;
        Value operand = isOutput ? *outputs++ : *inputs++;
        nextOutput += isOutput;
        if (isa<MemRefType>(operand.getType()))
          operand = firstElementPointer(b, loc, operand);
        arguments.push_back(operand);
      }
      auto type = b.getFunctionType(ValueRange(arguments).getTypes(), {});
      auto callee = symbols.lookup<func::FuncOp>(op.getName());
      if (!callee) {
        OpBuilder moduleBuilder = OpBuilder::atBlockEnd(module.getBody());
        callee = func::FuncOp::create(moduleBuilder, loc, op.getName(), type);
        callee.setPrivate();
        symbols.insert(callee);
      } else if (callee.getFunctionType() != type) {
        op.emitOpError("calls '")
            << op.getName() << "' as " << type << " but it is declared as "
            << callee.getFunctionType();
        return WalkResult::interrupt();
      }
      func::CallOp::create(b, loc, callee, arguments);
      op.erase();
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
