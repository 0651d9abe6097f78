//===- GpuBuffers.cpp - a bufferized model's buffers in GPU memory --------===//
//
// The GPU model ABI passes device pointers for the model's inputs and
// outputs; this pass puts every other buffer of the host code on the device
// too, so that outlined kernels and the runtime's GPU kernels (called
// through qnn.ukernel) never see a host address. Constants stay in the
// model's data segment and are uploaded once by the runtime
// (qr_cuda_constant, include/quant/Runtime/CudaRuntime.h): the compiled
// model works with its device copy. Scalars the host itself reads or writes
// (a tensor.extract such as the row count a pillar conv's rulebook returns,
// or that count stored into a model output) go through a host stack slot
// that qr_cuda_read fills or qr_cuda_write copies out, in stream order.
//
//===----------------------------------------------------------------------===//

#include "quant/Conversion/Passes.h"

#include "mlir/Conversion/LLVMCommon/MemRefBuilder.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"

#include <type_traits>

namespace mlir {
namespace qnn {
#define GEN_PASS_DEF_QNNGPUBUFFERS
#include "quant/Conversion/Passes.h.inc"
} // namespace qnn
} // namespace mlir

using namespace mlir;

namespace {

constexpr StringLiteral kConstantFunction = "qr_cuda_constant";

constexpr StringLiteral kReadFunction = "qr_cuda_read";
constexpr StringLiteral kWriteFunction = "qr_cuda_write";

/// The runtime function `name` of `type`, declared in `module` on first use.
func::FuncOp getRuntimeFunction(ModuleOp module, SymbolTable &symbols,
                                StringRef name, FunctionType type) {
  if (auto existing = symbols.lookup<func::FuncOp>(name))
    return existing;
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto function = func::FuncOp::create(b, module.getLoc(), name, type);
  function.setPrivate();
  symbols.insert(function);
  return function;
}

/// `void *qr_cuda_constant(const void *host, size_t bytes)`.
func::FuncOp getConstantFunction(ModuleOp module, SymbolTable &symbols) {
  Builder b(module.getContext());
  auto pointer = LLVM::LLVMPointerType::get(module.getContext());
  return getRuntimeFunction(
      module, symbols, kConstantFunction,
      b.getFunctionType({pointer, b.getI64Type()}, {pointer}));
}

/// `void qr_cuda_read(void *host, const void *device, size_t bytes)` or
/// `void qr_cuda_write(void *device, const void *host, size_t bytes)`.
func::FuncOp getCopyFunction(ModuleOp module, SymbolTable &symbols,
                             StringRef name) {
  Builder b(module.getContext());
  auto pointer = LLVM::LLVMPointerType::get(module.getContext());
  return getRuntimeFunction(
      module, symbols, name,
      b.getFunctionType({pointer, pointer, b.getI64Type()}, {}));
}

/// The address of `buffer`'s aligned base plus `elements` elements.
Value addressOf(OpBuilder &b, Location loc, Value buffer, Value elements,
                int64_t elementBytes) {
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  Value bytes = arith::MulIOp::create(
      b, loc, elements, arith::ConstantIndexOp::create(b, loc, elementBytes));
  Value address = arith::IndexCastOp::create(
      b, loc, b.getI64Type(), arith::AddIOp::create(b, loc, base, bytes));
  return LLVM::IntToPtrOp::create(
      b, loc, LLVM::LLVMPointerType::get(b.getContext()), address);
}

/// A host load or store of a device buffer element → the same access of a
/// host stack slot, which qr_cuda_read fills before a load (waiting for the
/// stream) or qr_cuda_write copies out after a store (in stream order).
template <typename AccessOp>
void replaceHostAccess(AccessOp access, func::FuncOp copyFunction) {
  constexpr bool isLoad = std::is_same_v<AccessOp, memref::LoadOp>;
  OpBuilder b(access);
  Location loc = access.getLoc();
  Type element = access.getMemRefType().getElementType();
  int64_t bytes = DataLayout::closest(access).getTypeSize(element);
  auto metadata =
      memref::ExtractStridedMetadataOp::create(b, loc, access.getMemref());
  Value linear = metadata.getOffset();
  for (auto [index, stride] :
       llvm::zip(access.getIndices(), metadata.getStrides()))
    linear = arith::AddIOp::create(
        b, loc, linear, arith::MulIOp::create(b, loc, index, stride));
  Value slot = memref::AllocaOp::create(b, loc, MemRefType::get({}, element));
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value host = addressOf(b, loc, slot, zero, bytes);
  Value device = addressOf(b, loc, access.getMemref(), linear, bytes);
  Value size = arith::ConstantIntOp::create(b, loc, bytes, 64);
  if (!isLoad)
    b.setInsertionPointAfter(access);
  func::CallOp::create(b, loc, copyFunction,
                       isLoad ? ValueRange{host, device, size}
                              : ValueRange{device, host, size});
  access.getMemrefMutable().assign(slot);
  access.getIndicesMutable().clear();
}

/// `memref.get_global` of a constant → its device copy: the descriptor of
/// the pointer qr_cuda_constant returns, cast back to the memref type (the
/// cast cancels with the one the LLVM conversion inserts for its users).
LogicalResult replaceGlobal(memref::GetGlobalOp op, SymbolTable &symbols,
                            func::FuncOp constantFunction,
                            const LLVMTypeConverter &converter) {
  auto global = symbols.lookup<memref::GlobalOp>(op.getName());
  if (!global || !global.getConstant())
    return op.emitOpError("reads the writable global '")
           << op.getName()
           << "', which has no device copy; a GPU model's globals must be "
              "constants";
  MemRefType type = op.getType();
  if (!type.getLayout().isIdentity())
    return op.emitOpError("reads a global with a non-identity layout, which "
                          "the GPU lowering cannot upload");
  OpBuilder b(op);
  b.setInsertionPointAfter(op);
  Location loc = op.getLoc();
  auto pointer = LLVM::LLVMPointerType::get(b.getContext());
  Value base = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, op);
  Value address = arith::IndexCastOp::create(b, loc, b.getI64Type(), base);
  Value host = LLVM::IntToPtrOp::create(b, loc, pointer, address);
  uint64_t bytes = DataLayout::closest(op).getTypeSize(type.getElementType()) *
                   type.getNumElements();
  Value size = arith::ConstantIntOp::create(b, loc, bytes, 64);
  Value device =
      func::CallOp::create(b, loc, constantFunction, ValueRange{host, size})
          .getResult(0);
  Value descriptor =
      MemRefDescriptor::fromStaticShape(b, loc, converter, type, device);
  Value deviceBuffer =
      UnrealizedConversionCastOp::create(b, loc, type, descriptor).getResult(0);
  op.getResult().replaceAllUsesExcept(deviceBuffer, base.getDefiningOp());
  return success();
}

/// gpu-to-llvm lowers gpu.memcpy of identity-layout buffers only (one
/// contiguous block); strided copies become a kernel.
void replaceCopy(memref::CopyOp op) {
  OpBuilder b(op);
  auto source = cast<MemRefType>(op.getSource().getType());
  auto target = cast<MemRefType>(op.getTarget().getType());
  if (source.getLayout().isIdentity() && target.getLayout().isIdentity())
    gpu::MemcpyOp::create(b, op.getLoc(), /*asyncToken=*/Type(), ValueRange(),
                          op.getTarget(), op.getSource());
  else
    linalg::CopyOp::create(b, op.getLoc(), op.getSource(), op.getTarget());
  op.erase();
}

struct QNNGpuBuffersPass
    : public qnn::impl::QNNGpuBuffersBase<QNNGpuBuffersPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SymbolTable symbols(module);
    LLVMTypeConverter converter(&getContext());
    func::FuncOp constantFunction;
    // Host code only: a gpu.module's or gpu.launch's buffers already are
    // device buffers.
    SmallVector<Operation *> hostOps;
    module.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::GPUModuleOp, gpu::LaunchOp>(op))
        return WalkResult::skip();
      // Loads and stores in loops become kernels later in the pipeline;
      // only those in the straight-line host code are the host's own.
      bool hostScalar = isa<memref::LoadOp, memref::StoreOp>(op) &&
                        isa<func::FuncOp>(op->getParentOp());
      if (hostScalar ||
          isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp,
              memref::CopyOp, memref::GetGlobalOp>(op))
        hostOps.push_back(op);
      return WalkResult::advance();
    });
    for (Operation *op : hostOps) {
      OpBuilder b(op);
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        auto device = gpu::AllocOp::create(
            b, alloc.getLoc(), alloc.getType(), /*asyncToken=*/Type(),
            ValueRange(), alloc.getDynamicSizes(), alloc.getSymbolOperands());
        alloc.replaceAllUsesWith(device.getMemref());
        alloc.erase();
      } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        gpu::DeallocOp::create(b, dealloc.getLoc(), /*asyncToken=*/Type(),
                               ValueRange(), dealloc.getMemref());
        dealloc.erase();
      } else if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        replaceCopy(copy);
      } else if (auto alloca = dyn_cast<memref::AllocaOp>(op)) {
        alloca.emitOpError("allocates a host stack buffer, which GPU kernels "
                           "cannot access");
        return signalPassFailure();
      } else if (auto load = dyn_cast<memref::LoadOp>(op)) {
        replaceHostAccess(load, getCopyFunction(module, symbols, kReadFunction));
      } else if (auto store = dyn_cast<memref::StoreOp>(op)) {
        replaceHostAccess(store,
                          getCopyFunction(module, symbols, kWriteFunction));
      } else if (auto getGlobal = dyn_cast<memref::GetGlobalOp>(op)) {
        if (!constantFunction)
          constantFunction = getConstantFunction(module, symbols);
        if (failed(
                replaceGlobal(getGlobal, symbols, constantFunction, converter)))
          return signalPassFailure();
      }
    }
  }
};

} // namespace
