//===- ShapeOps.cpp - ONNX shape and data-movement ops ---------------------===//
//
// Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Concat, Slice, Gather,
// Shape and Constant. Every one folds when its data is known at import
// time, which resolves the Shape → Gather → Concat → Reshape chains that
// exporters emit for static models.
//
//===----------------------------------------------------------------------===//

#include "ONNXImporter.h"
#include "TensorBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::onnx_import;

namespace {

SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// A constant of `shape` whose element at each multi-index is `source`'s
/// element at the flat index `sourceIndex` returns.
ConstTensor
gatherConstant(const ConstTensor &source, ArrayRef<int64_t> shape,
               llvm::function_ref<int64_t(ArrayRef<int64_t>)> sourceIndex) {
  ConstTensor result;
  result.type = source.type;
  result.shape.assign(shape.begin(), shape.end());
  int64_t n = ShapedType::getNumElements(shape);
  SmallVector<int64_t> index(shape.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t from = sourceIndex(index);
    if (source.isFloat())
      result.floats.push_back(source.floats[from]);
    else
      result.ints.push_back(source.ints[from]);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  return result;
}

/// Sets the output to `input` in `shape`: same elements, new dimensions.
void setReshaped(NodeContext &node, ArrayRef<int64_t> shape) {
  if (const ConstTensor *value = node.constantInput(0))
    node.setConstantOutput(0, value->reshaped(shape));
  else
    node.setOutput(0,
                   buildReshape(node.builder, node.loc, node.input(0), shape));
}

/// Axes from the `axes` attribute (before `inputOpset`) or the constant
/// input 1, normalized against `rank`; `present` tells whether any were
/// given.
FailureOr<SmallVector<int64_t>> readAxes(NodeContext &node, int64_t inputOpset,
                                         int64_t rank, bool &present) {
  SmallVector<int64_t> axes;
  if (node.opset < inputOpset) {
    present = node.hasAttr("axes");
    axes = node.getInts("axes");
  } else {
    present = node.hasInput(1);
    if (present) {
      FailureOr<const ConstTensor *> value =
          node.requireConstant(1, "'axes'");
      if (failed(value))
        return failure();
      for (int64_t i = 0; i < (*value)->numElements(); ++i)
        axes.push_back((*value)->getInt(i));
    }
  }
  if (failed(normalizeAxes(node, axes, rank)))
    return failure();
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return node.fail("'axes' repeats an axis");
  return axes;
}

LogicalResult convertReshape(NodeContext &node) {
  FailureOr<const ConstTensor *> target = node.requireConstant(1, "'shape'");
  if (failed(target))
    return failure();
  ArrayRef<int64_t> inputShape = node.inputShape(0);
  bool allowZero = node.getInt("allowzero", 0) != 0;
  SmallVector<int64_t> shape;
  int64_t inferred = -1;
  for (int64_t d = 0; d < (*target)->numElements(); ++d) {
    int64_t size = (*target)->getInt(d);
    if (size == 0 && !allowZero) {
      if (d >= static_cast<int64_t>(inputShape.size()))
        return node.fail("shape copies dimension " + Twine(d) +
                         " the input does not have");
      size = inputShape[d];
    } else if (size == -1) {
      if (inferred >= 0)
        return node.fail("shape has more than one -1");
      inferred = d;
      size = 1;
    } else if (size <= 0) {
      return node.fail("invalid target size " + Twine(size));
    }
    shape.push_back(size);
  }
  int64_t known = 1, total = ShapedType::getNumElements(inputShape);
  for (int64_t size : shape)
    if (llvm::MulOverflow(known, size, known))
      return node.fail("target shape overflows the element count");
  if (inferred >= 0) {
    if (known == 0 || total % known != 0)
      return node.fail("cannot infer the -1 dimension");
    shape[inferred] = total / known;
  } else if (known != total) {
    return node.fail("cannot reshape " + Twine(total) + " elements into " +
                     Twine(known));
  }
  setReshaped(node, shape);
  return success();
}

LogicalResult convertFlatten(NodeContext &node) {
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t rank = shape.size();
  int64_t axis = node.getInt("axis", 1);
  if (axis < -rank || axis > rank)
    return node.fail("axis " + Twine(axis) + " is out of range");
  if (axis < 0)
    axis += rank;
  setReshaped(node, {ShapedType::getNumElements(shape.take_front(axis)),
                     ShapedType::getNumElements(shape.drop_front(axis))});
  return success();
}

LogicalResult convertSqueeze(NodeContext &node) {
  ArrayRef<int64_t> shape = node.inputShape(0);
  bool present;
  FailureOr<SmallVector<int64_t>> axes =
      readAxes(node, /*inputOpset=*/13, shape.size(), present);
  if (failed(axes))
    return failure();
  SmallVector<int64_t> result;
  for (auto [d, size] : llvm::enumerate(shape)) {
    bool listed = llvm::is_contained(*axes, static_cast<int64_t>(d));
    if (listed && size != 1)
      return node.fail("cannot squeeze dimension " + Twine(d) + " of size " +
                       Twine(size));
    if (!(listed || (!present && size == 1)))
      result.push_back(size);
  }
  setReshaped(node, result);
  return success();
}

LogicalResult convertUnsqueeze(NodeContext &node) {
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t rank = shape.size();
  // Axes index the output, whose rank depends on how many there are.
  SmallVector<int64_t> axes =
      node.opset < 13 ? node.getInts("axes") : SmallVector<int64_t>();
  if (node.opset >= 13) {
    FailureOr<const ConstTensor *> value = node.requireConstant(1, "'axes'");
    if (failed(value))
      return failure();
    for (int64_t i = 0; i < (*value)->numElements(); ++i)
      axes.push_back((*value)->getInt(i));
  }
  int64_t outRank = rank + axes.size();
  if (failed(normalizeAxes(node, axes, outRank)))
    return failure();
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    return node.fail("'axes' repeats an axis");
  SmallVector<int64_t> result;
  for (int64_t d = 0, next = 0; d < outRank; ++d)
    result.push_back(llvm::is_contained(axes, d) ? 1 : shape[next++]);
  setReshaped(node, result);
  return success();
}

LogicalResult convertTranspose(NodeContext &node) {
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t rank = shape.size();
  SmallVector<int64_t> identity(rank);
  std::iota(identity.rbegin(), identity.rend(), 0);
  SmallVector<int64_t> permutation = node.getInts("perm", identity);
  SmallVector<int64_t> sorted = permutation;
  llvm::sort(sorted);
  std::iota(identity.begin(), identity.end(), 0);
  if (sorted != identity)
    return node.fail("'perm' is not a permutation of the input dimensions");
  if (const ConstTensor *value = node.constantInput(0)) {
    SmallVector<int64_t> resultShape, strides = stridesOf(shape);
    for (int64_t d : permutation)
      resultShape.push_back(shape[d]);
    node.setConstantOutput(
        0, gatherConstant(*value, resultShape, [&](ArrayRef<int64_t> index) {
          int64_t from = 0;
          for (int64_t d = 0; d < rank; ++d)
            from += index[d] * strides[permutation[d]];
          return from;
        }));
    return success();
  }
  node.setOutput(
      0, buildTranspose(node.builder, node.loc, node.input(0), permutation));
  return success();
}

LogicalResult convertConcat(NodeContext &node) {
  ArrayRef<int64_t> first = node.inputShape(0);
  FailureOr<int64_t> axis =
      normalizeAxis(node, node.getInt("axis", 0), first.size());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(first);
  shape[*axis] = 0;
  bool allConstant = true;
  for (unsigned i = 0; i < node.numInputs(); ++i) {
    ArrayRef<int64_t> inputShape = node.inputShape(i);
    if (inputShape.size() != first.size() ||
        node.inputType(i) != node.inputType(0))
      return node.fail("inputs differ in rank or type");
    for (size_t d = 0; d < first.size(); ++d)
      if (static_cast<int64_t>(d) != *axis && inputShape[d] != first[d])
        return node.fail("inputs differ outside the concatenation axis");
    shape[*axis] += inputShape[*axis];
    allConstant &= node.constantInput(i) != nullptr;
  }

  if (allConstant) {
    ConstTensor result;
    result.type = node.inputType(0);
    result.shape = shape;
    int64_t outer =
        ShapedType::getNumElements(ArrayRef<int64_t>(shape).take_front(*axis));
    for (int64_t o = 0; o < outer; ++o)
      for (unsigned i = 0; i < node.numInputs(); ++i) {
        const ConstTensor *part = node.constantInput(i);
        int64_t chunk = ShapedType::getNumElements(
            ArrayRef<int64_t>(part->shape).drop_front(*axis));
        for (int64_t k = o * chunk; k < (o + 1) * chunk; ++k) {
          if (part->isFloat())
            result.floats.push_back(part->floats[k]);
          else
            result.ints.push_back(part->ints[k]);
        }
      }
    node.setConstantOutput(0, std::move(result));
    return success();
  }

  OpBuilder &b = node.builder;
  Value first0 = node.input(0);
  Type elementType = cast<RankedTensorType>(first0.getType()).getElementType();
  Value result = tensor::EmptyOp::create(b, node.loc, shape, elementType);
  int64_t offset = 0;
  for (unsigned i = 0; i < node.numInputs(); ++i) {
    ArrayRef<int64_t> inputShape = node.inputShape(i);
    if (inputShape[*axis] == 0)
      continue;
    SmallVector<OpFoldResult> offsets(shape.size(), b.getIndexAttr(0));
    offsets[*axis] = b.getIndexAttr(offset);
    SmallVector<OpFoldResult> sizes, strides(shape.size(), b.getIndexAttr(1));
    for (int64_t size : inputShape)
      sizes.push_back(b.getIndexAttr(size));
    result = tensor::InsertSliceOp::create(b, node.loc, node.input(i), result,
                                           offsets, sizes, strides);
    offset += inputShape[*axis];
  }
  node.setOutput(0, result);
  return success();
}

/// One sliced dimension: elements start, start+step, ... (count of them).
struct SliceRange {
  int64_t start = 0, step = 1, count = 0;
};

LogicalResult convertSlice(NodeContext &node) {
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t rank = shape.size();
  SmallVector<int64_t> starts, ends, axes, steps;
  if (node.opset < 10) {
    starts = node.getInts("starts");
    ends = node.getInts("ends");
    axes = node.getInts("axes");
  } else {
    auto read = [&](unsigned index, StringRef what,
                    SmallVector<int64_t> &values) -> LogicalResult {
      if (!node.hasInput(index))
        return success();
      FailureOr<const ConstTensor *> value = node.requireConstant(index, what);
      if (failed(value))
        return failure();
      for (int64_t i = 0; i < (*value)->numElements(); ++i)
        values.push_back((*value)->getInt(i));
      return success();
    };
    if (failed(read(1, "'starts'", starts)) ||
        failed(read(2, "'ends'", ends)) || failed(read(3, "'axes'", axes)) ||
        failed(read(4, "'steps'", steps)))
      return failure();
  }
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i)
      axes.push_back(i);
  if (steps.empty())
    steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return node.fail("'starts', 'ends', 'axes' and 'steps' differ in length");

  SmallVector<SliceRange> ranges;
  for (int64_t size : shape)
    ranges.push_back({0, 1, size});
  for (size_t i = 0; i < starts.size(); ++i) {
    FailureOr<int64_t> axis = normalizeAxis(node, axes[i], rank);
    if (failed(axis))
      return failure();
    int64_t size = shape[*axis], step = steps[i];
    if (step == 0)
      return node.fail("slice step 0");
    auto clampIndex = [&](int64_t v, int64_t low, int64_t high) {
      if (v < 0)
        v = v < -size ? low : v + size;
      return std::clamp(v, low, high);
    };
    int64_t start = step > 0 ? clampIndex(starts[i], 0, size)
                             : clampIndex(starts[i], 0, size - 1);
    int64_t end = step > 0 ? clampIndex(ends[i], 0, size)
                           : (ends[i] < -size ? -1
                                              : clampIndex(ends[i], -1,
                                                           size - 1));
    int64_t count =
        step > 0 ? (end - start + step - 1) / step : (start - end - step - 1) / -step;
    ranges[*axis] = {start, step, std::max<int64_t>(count, 0)};
  }
  SmallVector<int64_t> resultShape;
  for (const SliceRange &range : ranges) {
    if (range.count == 0)
      return node.fail("the slice is empty");
    resultShape.push_back(range.count);
  }

  if (const ConstTensor *value = node.constantInput(0)) {
    SmallVector<int64_t> strides = stridesOf(shape);
    node.setConstantOutput(
        0, gatherConstant(*value, resultShape, [&](ArrayRef<int64_t> index) {
          int64_t from = 0;
          for (int64_t d = 0; d < rank; ++d)
            from += (ranges[d].start + index[d] * ranges[d].step) * strides[d];
          return from;
        }));
    return success();
  }

  OpBuilder &b = node.builder;
  Value x = node.input(0);
  if (llvm::all_of(ranges, [](const SliceRange &r) { return r.step > 0; })) {
    SmallVector<OpFoldResult> offsets, sizes, strides;
    for (const SliceRange &range : ranges) {
      offsets.push_back(b.getIndexAttr(range.start));
      sizes.push_back(b.getIndexAttr(range.count));
      strides.push_back(b.getIndexAttr(range.step));
    }
    auto type = RankedTensorType::get(
        resultShape, cast<RankedTensorType>(x.getType()).getElementType());
    node.setOutput(0, tensor::ExtractSliceOp::create(b, node.loc, type, x,
                                                     offsets, sizes, strides));
    return success();
  }
  // Reversed dimensions read element start + i·step of the input.
  Type elementType = cast<RankedTensorType>(x.getType()).getElementType();
  node.setOutput(0, buildIndexedGeneric(
                        b, node.loc, resultShape, elementType, {}, {},
                        [&](OpBuilder &nb, Location loc, ValueRange indices,
                            ValueRange) {
                          SmallVector<Value> source;
                          for (auto [d, range] : llvm::enumerate(ranges)) {
                            Value scaled = arith::MulIOp::create(
                                nb, loc, indices[d],
                                arith::ConstantIndexOp::create(nb, loc,
                                                               range.step));
                            source.push_back(arith::AddIOp::create(
                                nb, loc, scaled,
                                arith::ConstantIndexOp::create(nb, loc,
                                                               range.start)));
                          }
                          return tensor::ExtractOp::create(nb, loc, x, source)
                              .getResult();
                        }));
  return success();
}

LogicalResult convertGather(NodeContext &node) {
  ArrayRef<int64_t> dataShape = node.inputShape(0);
  ArrayRef<int64_t> indicesShape = node.inputShape(1);
  if (isFloatType(node.inputType(1)))
    return node.fail("indices must be integers");
  FailureOr<int64_t> axis =
      normalizeAxis(node, node.getInt("axis", 0), dataShape.size());
  if (failed(axis))
    return failure();
  int64_t axisSize = dataShape[*axis];
  SmallVector<int64_t> resultShape(dataShape.take_front(*axis));
  llvm::append_range(resultShape, indicesShape);
  llvm::append_range(resultShape, dataShape.drop_front(*axis + 1));

  const ConstTensor *indices = node.constantInput(1);
  if (indices)
    for (int64_t i = 0; i < indices->numElements(); ++i)
      if (indices->getInt(i) < -axisSize || indices->getInt(i) >= axisSize)
        return node.fail("index " + Twine(indices->getInt(i)) +
                         " is out of range for a dimension of size " +
                         Twine(axisSize));
  int64_t indexRank = indicesShape.size();
  if (const ConstTensor *data = node.constantInput(0); data && indices) {
    SmallVector<int64_t> dataStrides = stridesOf(dataShape);
    SmallVector<int64_t> indexStrides = stridesOf(indicesShape);
    node.setConstantOutput(
        0, gatherConstant(*data, resultShape, [&](ArrayRef<int64_t> index) {
          int64_t which = 0;
          for (int64_t d = 0; d < indexRank; ++d)
            which += index[*axis + d] * indexStrides[d];
          int64_t position = indices->getInt(which);
          if (position < 0)
            position += axisSize;
          int64_t from = position * dataStrides[*axis];
          for (int64_t d = 0; d < *axis; ++d)
            from += index[d] * dataStrides[d];
          for (int64_t d = *axis + 1; d < static_cast<int64_t>(dataShape.size());
               ++d)
            from += index[d - 1 + indexRank] * dataStrides[d];
          return from;
        }));
    return success();
  }

  OpBuilder &b = node.builder;
  MLIRContext *ctx = b.getContext();
  Value data = node.input(0), indexTensor = node.input(1);
  SmallVector<AffineExpr> indexExprs;
  for (int64_t d = 0; d < indexRank; ++d)
    indexExprs.push_back(getAffineDimExpr(*axis + d, ctx));
  AffineMap indexMap = AffineMap::get(resultShape.size(), 0, indexExprs, ctx);
  Type elementType = cast<RankedTensorType>(data.getType()).getElementType();
  node.setOutput(
      0, buildIndexedGeneric(
             b, node.loc, resultShape, elementType, indexTensor, indexMap,
             [&](OpBuilder &nb, Location loc, ValueRange loops,
                 ValueRange args) {
               // Negative indices count from the end.
               Value position = arith::IndexCastOp::create(
                   nb, loc, nb.getIndexType(), args[0]);
               Value zero = arith::ConstantIndexOp::create(nb, loc, 0);
               Value negative = arith::CmpIOp::create(
                   nb, loc, arith::CmpIPredicate::slt, position, zero);
               Value wrapped = arith::AddIOp::create(
                   nb, loc, position,
                   arith::ConstantIndexOp::create(nb, loc, axisSize));
               position =
                   arith::SelectOp::create(nb, loc, negative, wrapped, position);
               SmallVector<Value> source(loops.take_front(*axis));
               source.push_back(position);
               llvm::append_range(source, loops.drop_front(*axis + indexRank));
               return tensor::ExtractOp::create(nb, loc, data, source)
                   .getResult();
             }));
  return success();
}

LogicalResult convertShape(NodeContext &node) {
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t rank = shape.size();
  auto clampBound = [&](int64_t v) {
    return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank);
  };
  int64_t start = clampBound(node.getInt("start", 0));
  int64_t end = clampBound(node.getInt("end", rank));
  std::vector<int64_t> dims(shape.begin() + start,
                            shape.begin() + std::max(start, end));
  int64_t count = dims.size();
  node.setConstantOutput(
      0, ConstTensor::ofInts(DataType::Int64, {count}, std::move(dims)));
  return success();
}

LogicalResult convertConstant(NodeContext &node) {
  if (node.hasAttr("value")) {
    FailureOr<ConstTensor> value = node.getTensor("value");
    if (failed(value))
      return failure();
    node.setConstantOutput(0, std::move(*value));
  } else if (node.hasAttr("value_float")) {
    node.setConstantOutput(0, ConstTensor::ofFloats(
                                  DataType::Float, {},
                                  {node.getFloat("value_float", 0.0)}));
  } else if (node.hasAttr("value_int")) {
    node.setConstantOutput(0, ConstTensor::ofInts(DataType::Int64, {},
                                                  {node.getInt("value_int", 0)}));
  } else if (node.hasAttr("value_ints")) {
    SmallVector<int64_t> values = node.getInts("value_ints");
    int64_t count = values.size();
    node.setConstantOutput(
        0, ConstTensor::ofInts(DataType::Int64, {count},
                               std::vector<int64_t>(values.begin(),
                                                    values.end())));
  } else {
    return node.fail("only 'value', 'value_float', 'value_int' and "
                     "'value_ints' constants are supported");
  }
  return success();
}

} // namespace

void onnx_import::addShapeConverters(ConverterTable &table) {
  table["Reshape"] = {convertReshape, 2, 2};
  table["Flatten"] = {convertFlatten, 1, 1};
  table["Squeeze"] = {convertSqueeze, 1, 2};
  table["Unsqueeze"] = {convertUnsqueeze, 1, 2};
  table["Transpose"] = {convertTranspose, 1, 1};
  table["Concat"] = {convertConcat, 1, kVariadic};
  table["Slice"] = {convertSlice, 1, 5};
  table["Gather"] = {convertGather, 2, 2};
  table["Shape"] = {convertShape, 1, 1};
  table["Constant"] = {convertConstant, 0, 0};
}
