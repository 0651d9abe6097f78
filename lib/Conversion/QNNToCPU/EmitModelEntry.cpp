//===- EmitModelEntry.cpp - the compiled model's C ABI --------------------===//
//
// A compiled model exports `quant_model_signature` and
// `quant_model_run(void **buffers)` (include/quant/Runtime/Runtime.h) so
// that the runtime can dlopen it without knowing MLIR's memref descriptor
// convention. The wrapper is written at the memref level: the descriptors
// it builds are cast to memrefs, and the casts cancel with the ones the
// LLVM conversion inserts for the call.
//
//===----------------------------------------------------------------------===//

#include "quant/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir {
namespace qnn {
#define GEN_PASS_DEF_QNNEMITMODELENTRY
#include "quant/Conversion/Passes.h.inc"
} // namespace qnn
} // namespace mlir

using namespace mlir;

namespace {

constexpr StringLiteral kEntryName = "quant_model_main";
constexpr StringLiteral kRunName = "quant_model_run";
constexpr StringLiteral kSignatureName = "quant_model_signature";
/// Set on out-parameters by buffer-results-to-out-params{add-result-attr}.
constexpr StringLiteral kResultAttrName = "bufferize.result";

/// numpy's name of a memref element type, or "" when the ABI has none.
StringRef numpyName(Type type) {
  if (type.isF32())
    return "float32";
  if (type.isF64())
    return "float64";
  if (type.isF16())
    return "float16";
  if (type.isInteger(1))
    return "bool";
  if (type.isInteger(8))
    return "int8";
  if (type.isInteger(16))
    return "int16";
  if (type.isInteger(32))
    return "int32";
  if (type.isInteger(64))
    return "int64";
  return "";
}

struct QNNEmitModelEntryPass
    : public qnn::impl::QNNEmitModelEntryBase<QNNEmitModelEntryPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    func::FuncOp function = qnn::findModelEntry(module, entry, "export");
    if (!function)
      return signalPassFailure();
    if (failed(SymbolTable::replaceAllSymbolUses(
            function, StringAttr::get(&getContext(), kEntryName), module)))
      return signalPassFailure();
    function.setName(kEntryName);

    if (device != "cpu" && device != "cuda") {
      module.emitError("unknown model device '")
          << device << "' (expected cpu or cuda)";
      return signalPassFailure();
    }
    std::string signature = "quant-model 1\n";
    int inputs = 0, outputs = 0;
    for (auto [index, type] :
         llvm::enumerate(function.getFunctionType().getInputs())) {
      auto memref = dyn_cast<MemRefType>(type);
      StringRef dtype = memref ? numpyName(memref.getElementType()) : "";
      if (!memref || !memref.hasStaticShape() ||
          !memref.getLayout().isIdentity() || dtype.empty()) {
        function.emitError("model argument ")
            << index << " of type " << type
            << " has no runtime ABI: expected a static, dense buffer of a "
               "float, integer or bool element type";
        return signalPassFailure();
      }
      bool isOutput = static_cast<bool>(function.getArgAttr(index, kResultAttrName));
      std::string line = isOutput ? "output output" + std::to_string(outputs++)
                                  : "input input" + std::to_string(inputs++);
      line += " " + dtype.str() + " [";
      for (auto [d, size] : llvm::enumerate(memref.getShape()))
        line += (d ? "," : "") + std::to_string(size);
      signature += line + "]\n";
    }
    if (!function.getFunctionType().getResults().empty()) {
      function.emitError("model entry still returns values; run "
                         "buffer-results-to-out-params first");
      return signalPassFailure();
    }

    if (device == "cuda")
      signature += "device cuda\n";

    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    Location loc = function.getLoc();
    signature.push_back('\0');
    auto arrayType = LLVM::LLVMArrayType::get(b.getI8Type(), signature.size());
    LLVM::GlobalOp::create(b, loc, arrayType, /*isConstant=*/true,
                           LLVM::Linkage::External, kSignatureName,
                           b.getStringAttr(signature));
    emitRunFunction(b, loc, function);
  }


  /// int32_t quant_model_run(void **buffers): buffers[i] → memref arg i.
  void emitRunFunction(OpBuilder &b, Location loc, func::FuncOp function) {
    MLIRContext *ctx = b.getContext();
    auto pointerType = LLVM::LLVMPointerType::get(ctx);
    auto run = func::FuncOp::create(
        b, loc, kRunName, b.getFunctionType({pointerType}, {b.getI32Type()}));
    OpBuilder body = OpBuilder::atBlockBegin(run.addEntryBlock());
    Value buffers = run.getArgument(0);
    Type i64 = body.getI64Type();
    SmallVector<Value> arguments;
    for (auto [index, type] :
         llvm::enumerate(function.getFunctionType().getInputs())) {
      auto memref = cast<MemRefType>(type);
      Value slot = LLVM::GEPOp::create(
          body, loc, pointerType, pointerType, buffers,
          ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(index)});
      Value data = LLVM::LoadOp::create(body, loc, pointerType, slot);

      int64_t rank = memref.getRank();
      SmallVector<Type> fields = {pointerType, pointerType, i64};
      if (rank > 0)
        fields.append(2, LLVM::LLVMArrayType::get(i64, rank));
      auto descriptorType = LLVM::LLVMStructType::getLiteral(ctx, fields);
      Value descriptor = LLVM::PoisonOp::create(body, loc, descriptorType);
      auto insert = [&](Value value, ArrayRef<int64_t> position) {
        descriptor = LLVM::InsertValueOp::create(body, loc, descriptor, value,
                                                 position);
      };
      auto constant = [&](int64_t value) {
        return LLVM::ConstantOp::create(body, loc, i64,
                                        body.getI64IntegerAttr(value));
      };
      insert(data, {0});
      insert(data, {1});
      insert(constant(0), {2});
      int64_t stride = 1;
      for (int64_t d = rank - 1; d >= 0; --d) {
        insert(constant(memref.getDimSize(d)), {3, d});
        insert(constant(stride), {4, d});
        stride *= memref.getDimSize(d);
      }
      arguments.push_back(
          UnrealizedConversionCastOp::create(body, loc, memref, descriptor)
              .getResult(0));
    }
    func::CallOp::create(body, loc, function, arguments);
    Value ok = arith::ConstantIntOp::create(body, loc, 0, 32);
    func::ReturnOp::create(body, loc, ok);
  }
};

} // namespace

func::FuncOp qnn::findModelEntry(ModuleOp module, StringRef entry,
                                 StringRef purpose) {
  if (!entry.empty()) {
    auto function = module.lookupSymbol<func::FuncOp>(entry);
    if (!function || function.isExternal())
      module.emitError("no function '") << entry << "' to " << purpose;
    return function && !function.isExternal() ? function : nullptr;
  }
  func::FuncOp found;
  for (auto function : module.getOps<func::FuncOp>()) {
    if (function.isExternal() || function.isPrivate())
      continue;
    if (found) {
      module.emitError("several public functions ('")
          << found.getName() << "', '" << function.getName()
          << "'); choose the model with entry=NAME";
      return nullptr;
    }
    found = function;
  }
  if (!found)
    module.emitError("no public function to ") << purpose << " as the model";
  return found;
}

