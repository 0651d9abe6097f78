//===- TensorBuilders.cpp - linalg/tensor building blocks -----------------===//

#include "TensorBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

#include <limits>
#include <numeric>

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::onnx_import;

std::optional<SmallVector<int64_t>>
onnx_import::broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      return std::nullopt;
    result[i] = da == 1 ? db : da;
  }
  return result;
}

Value onnx_import::buildScalar(OpBuilder &b, Location loc, Type type,
                               double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, floatType,
                                     b.getFloatAttr(floatType, value));
  return arith::ConstantOp::create(
      b, loc, type, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

Value onnx_import::buildFilled(OpBuilder &b, Location loc,
                               ArrayRef<int64_t> shape, Type elementType,
                               double value) {
  Value empty = tensor::EmptyOp::create(b, loc, shape, elementType);
  return linalg::FillOp::create(b, loc, buildScalar(b, loc, elementType, value),
                                empty)
      .getResult(0);
}

/// A parallel linalg.generic writing a new tensor of `shape`; `body` maps
/// the scalars read through `inputMaps` to the result.
static Value buildParallelGeneric(OpBuilder &b, Location loc,
                                  ArrayRef<int64_t> shape, Type elementType,
                                  ValueRange inputs,
                                  ArrayRef<AffineMap> inputMaps,
                                  ScalarBody body) {
  int64_t rank = shape.size();
  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = tensor::EmptyOp::create(b, loc, shape, elementType);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), inputs, init, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

Value onnx_import::buildElementwise(OpBuilder &b, Location loc,
                                    ArrayRef<int64_t> shape, Type elementType,
                                    ValueRange inputs, ScalarBody body) {
  int64_t rank = shape.size();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value input : inputs) {
    ArrayRef<int64_t> inputShape =
        cast<RankedTensorType>(input.getType()).getShape();
    int64_t offset = rank - static_cast<int64_t>(inputShape.size());
    SmallVector<AffineExpr> results;
    for (auto [d, size] : llvm::enumerate(inputShape)) {
      int64_t loop = offset + static_cast<int64_t>(d);
      results.push_back(size == 1 && shape[loop] != 1
                            ? getAffineConstantExpr(0, ctx)
                            : getAffineDimExpr(loop, ctx));
    }
    maps.push_back(AffineMap::get(rank, 0, results, ctx));
  }
  return buildParallelGeneric(b, loc, shape, elementType, inputs, maps, body);
}

Value onnx_import::buildIndexedGeneric(OpBuilder &b, Location loc,
                                       ArrayRef<int64_t> shape,
                                       Type elementType, ValueRange inputs,
                                       ArrayRef<AffineMap> inputMaps,
                                       IndexedBody body) {
  return buildParallelGeneric(
      b, loc, shape, elementType, inputs, inputMaps,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        SmallVector<Value> indices;
        for (int64_t d = 0, e = shape.size(); d < e; ++d)
          indices.push_back(linalg::IndexOp::create(nested, nestedLoc, d));
        return body(nested, nestedLoc, indices, args);
      });
}

Value onnx_import::buildReduction(OpBuilder &b, Location loc, Value input,
                                  ArrayRef<int64_t> axes, ReductionKind kind) {
  auto inputType = cast<RankedTensorType>(input.getType());
  Type elementType = inputType.getElementType();
  int64_t rank = inputType.getRank();
  MLIRContext *ctx = b.getContext();

  SmallVector<int64_t> reducedShape, keptShape;
  SmallVector<AffineExpr> outputExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0; d < rank; ++d) {
    bool reduced = llvm::is_contained(axes, d);
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    keptShape.push_back(reduced ? 1 : inputType.getDimSize(d));
    if (!reduced) {
      reducedShape.push_back(inputType.getDimSize(d));
      outputExprs.push_back(getAffineDimExpr(d, ctx));
    }
  }
  double identity = 0.0;
  if (kind == ReductionKind::Max)
    identity = isa<FloatType>(elementType)
                   ? -std::numeric_limits<double>::infinity()
                   : static_cast<double>(
                         APInt::getSignedMinValue(
                             elementType.getIntOrFloatBitWidth())
                             .getSExtValue());
  Value init = buildFilled(b, loc, reducedShape, elementType, identity);
  SmallVector<AffineMap> maps = {
      b.getMultiDimIdentityMap(rank),
      AffineMap::get(rank, 0, outputExprs, ctx)};
  bool isFloat = isa<FloatType>(elementType);
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), input, init, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result;
        if (kind == ReductionKind::Sum)
          result = isFloat ? arith::AddFOp::create(nested, nestedLoc, args[0],
                                                   args[1])
                                 .getResult()
                           : arith::AddIOp::create(nested, nestedLoc, args[0],
                                                   args[1])
                                 .getResult();
        else
          result = isFloat ? arith::MaximumFOp::create(nested, nestedLoc,
                                                       args[0], args[1])
                                 .getResult()
                           : arith::MaxSIOp::create(nested, nestedLoc, args[0],
                                                    args[1])
                                 .getResult();
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return buildReshape(b, loc, generic.getResult(0), keptShape);
}

Value onnx_import::buildReshape(OpBuilder &b, Location loc, Value input,
                                ArrayRef<int64_t> shape) {
  auto inputType = cast<RankedTensorType>(input.getType());
  if (inputType.getShape() == shape)
    return input;
  Type elementType = inputType.getElementType();
  auto allDims = [](int64_t rank) {
    ReassociationIndices group(rank);
    std::iota(group.begin(), group.end(), 0);
    return SmallVector<ReassociationIndices>{group};
  };
  auto flatType = RankedTensorType::get({inputType.getNumElements()},
                                        elementType);
  Value flat = input;
  if (inputType.getRank() == 0)
    flat = tensor::ExpandShapeOp::create(b, loc, flatType, input,
                                         ArrayRef<ReassociationIndices>{});
  else if (inputType.getRank() > 1)
    flat = tensor::CollapseShapeOp::create(b, loc, input,
                                           allDims(inputType.getRank()));
  auto resultType = RankedTensorType::get(shape, elementType);
  if (shape.empty())
    return tensor::CollapseShapeOp::create(b, loc, resultType, flat,
                                           ArrayRef<ReassociationIndices>{});
  if (shape.size() == 1)
    return flat;
  return tensor::ExpandShapeOp::create(b, loc, resultType, flat,
                                       allDims(shape.size()));
}

Value onnx_import::buildTranspose(OpBuilder &b, Location loc, Value input,
                                  ArrayRef<int64_t> permutation) {
  auto inputType = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  for (int64_t d : permutation)
    shape.push_back(inputType.getDimSize(d));
  Value init =
      tensor::EmptyOp::create(b, loc, shape, inputType.getElementType());
  return linalg::TransposeOp::create(b, loc, input, init, permutation)
      .getResult()[0];
}

Value onnx_import::buildPad(OpBuilder &b, Location loc, Value input,
                            ArrayRef<int64_t> low, ArrayRef<int64_t> high,
                            double value) {
  if (llvm::all_of(low, [](int64_t v) { return v == 0; }) &&
      llvm::all_of(high, [](int64_t v) { return v == 0; }))
    return input;
  auto inputType = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(inputType.getShape());
  SmallVector<OpFoldResult> lowSizes, highSizes;
  for (size_t d = 0; d < shape.size(); ++d) {
    shape[d] += low[d] + high[d];
    lowSizes.push_back(b.getIndexAttr(low[d]));
    highSizes.push_back(b.getIndexAttr(high[d]));
  }
  auto resultType = RankedTensorType::get(shape, inputType.getElementType());
  Value padValue = buildScalar(b, loc, inputType.getElementType(), value);
  return tensor::PadOp::create(b, loc, resultType, input, lowSizes, highSizes,
                               padValue);
}
