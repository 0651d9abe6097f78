//===- BoundDynamicResults.cpp - static model outputs for dynamic rows ----===//
//
// The model ABI (include/quant/Runtime/Runtime.h) has static shapes: the
// caller allocates every output. A public function returning a tensor whose
// leading dimension is only known at run time (the active sites of a
// strided or dilating qnn.pillar_conv) instead returns it zero-padded to a
// static upper bound of that dimension, followed by an i64 scalar holding
// the actual row count. The bound comes from the value-bounds analysis, so
// it is exact for whatever the lowering wrote (for pillar convs, N or N·k·k
// per layer).
//
//===----------------------------------------------------------------------===//

#include "quant/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ValueBoundsOpInterface.h"

namespace mlir {
namespace qnn {
#define GEN_PASS_DEF_QNNBOUNDDYNAMICRESULTS
#include "quant/Conversion/Passes.h.inc"
} // namespace qnn
} // namespace mlir

using namespace mlir;

namespace {

/// A static upper bound of dimension 0 of `value`, or a diagnostic.
FailureOr<int64_t> boundRows(func::FuncOp function, unsigned index,
                             Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  for (int64_t d = 1; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      return function.emitError("result #")
             << index << " of type " << type
             << " is dynamic beyond its leading dimension; the model ABI "
                "supports dynamic rows only";
  FailureOr<int64_t> bound = ValueBoundsConstraintSet::computeConstantBound(
      presburger::BoundType::UB, ValueBoundsConstraintSet::Variable(value, 0),
      /*stopCondition=*/nullptr, /*closedUB=*/true);
  if (failed(bound) || *bound < 0)
    return function.emitError("result #")
           << index << " of type " << type
           << " has no static upper bound on its rows; the model ABI needs "
              "one to allocate the output";
  return *bound;
}

LogicalResult boundResults(func::FuncOp function) {
  auto terminator =
      cast<func::ReturnOp>(function.getBody().back().getTerminator());
  OpBuilder b(terminator);
  Location loc = terminator.getLoc();
  SmallVector<Value> results;
  SmallVector<DictionaryAttr> resultAttrs;
  bool changed = false;
  for (auto [index, value] : llvm::enumerate(terminator.getOperands())) {
    DictionaryAttr attrs = function.getResultAttrDict(index);
    auto type = dyn_cast<RankedTensorType>(value.getType());
    if (!type || type.hasStaticShape()) {
      results.push_back(value);
      resultAttrs.push_back(attrs);
      continue;
    }
    FailureOr<int64_t> bound = boundRows(function, index, value);
    if (failed(bound))
      return failure();
    changed = true;
    Type element = type.getElementType();
    SmallVector<int64_t> shape(type.getShape());
    shape[0] = *bound;
    Value zero =
        arith::ConstantOp::create(b, loc, element, b.getZeroAttr(element));
    Value padded =
        linalg::FillOp::create(
            b, loc, zero,
            tensor::EmptyOp::create(b, loc, shape, element).getResult())
            .getResult(0);
    Value rows = tensor::DimOp::create(b, loc, value, 0);
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes = {rows};
    for (int64_t d = 1; d < type.getRank(); ++d)
      sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
    SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
    // A bound of 0 rows (a model on no pillars) leaves nothing to insert.
    results.push_back(*bound == 0 ? padded
                                  : tensor::InsertSliceOp::create(
                                        b, loc, value, padded, offsets, sizes,
                                        strides)
                                        .getResult());
    resultAttrs.push_back(attrs);
    Value count = arith::IndexCastOp::create(b, loc, b.getI64Type(), rows);
    results.push_back(tensor::FromElementsOp::create(
        b, loc, RankedTensorType::get({}, b.getI64Type()), count));
    resultAttrs.push_back(DictionaryAttr::get(b.getContext()));
  }
  if (!changed)
    return success();
  terminator->setOperands(results);
  function.setType(FunctionType::get(function.getContext(),
                                     function.getArgumentTypes(),
                                     ValueRange(results).getTypes()));
  function.setAllResultAttrs(resultAttrs);
  return success();
}

struct QNNBoundDynamicResultsPass
    : public qnn::impl::QNNBoundDynamicResultsBase<QNNBoundDynamicResultsPass> {
  void runOnOperation() override {
    for (auto function : getOperation().getOps<func::FuncOp>()) {
      if (function.isExternal() || function.isPrivate())
        continue;
      if (!SymbolTable::symbolKnownUseEmpty(function, getOperation())) {
        function.emitError("a model entry must not be called from the "
                           "module: bounding its results changes its type");
        return signalPassFailure();
      }
      if (!function.getBody().hasOneBlock()) {
        function.emitError("a model entry with several blocks cannot have "
                           "its dynamic results bounded");
        return signalPassFailure();
      }
      if (failed(boundResults(function)))
        return signalPassFailure();
    }
  }
};

} // namespace
