//===- TensorOps.cpp - tensor dialect: shapes, slices, elements -----------===//
//
// Values are row-major, so reshapes only relabel the shape; slices walk the
// strided box element by element.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorInternal.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::evaluator;

namespace {

/// Calls `fn(index)` for every multi-index of `shape` in row-major order.
template <typename Fn> void forEachIndex(ArrayRef<int64_t> shape, Fn fn) {
  int64_t count = numElementsOf(shape);
  SmallVector<int64_t> index(shape.size(), 0);
  for (int64_t element = 0; element < count; ++element) {
    fn(ArrayRef<int64_t>(index));
    for (int64_t dim = static_cast<int64_t>(shape.size()) - 1; dim >= 0;
         --dim) {
      if (++index[dim] < shape[dim])
        break;
      index[dim] = 0;
    }
  }
}

int64_t flatOffset(ArrayRef<int64_t> index, ArrayRef<int64_t> strides) {
  int64_t offset = 0;
  for (auto [i, stride] : llvm::zip(index, strides))
    offset += i * stride;
  return offset;
}

FailureOr<SmallVector<int64_t>> resolveIndices(Operation *op,
                                               ArrayRef<OpFoldResult> values,
                                               ValueLookup lookup) {
  SmallVector<int64_t> resolved;
  for (OpFoldResult value : values) {
    FailureOr<int64_t> index = resolveIndex(op, value, lookup);
    if (failed(index))
      return failure();
    resolved.push_back(*index);
  }
  return resolved;
}

/// Same data under a new shape (expand/collapse/reshape/cast).
FailureOr<Results> relabel(Operation *op, const EvalTensor &source,
                           ArrayRef<int64_t> shape) {
  if (numElementsOf(shape) != source.numElements())
    return op->emitOpError("cannot view ")
           << formatShape(source.shape) << " (" << source.numElements()
           << " elements) as " << formatShape(shape);
  EvalTensor result = source;
  result.shape.assign(shape.begin(), shape.end());
  return singleResult(std::move(result));
}

/// The strided box of a slice into a tensor of `shape`: its sizes and, in
/// the box's row-major order, the flat offset of each of its elements in
/// the tensor. Fails with a diagnostic when the box leaves the tensor.
struct SliceBox {
  SmallVector<int64_t> sizes;
  std::vector<int64_t> elementOffsets;
};

FailureOr<SliceBox> resolveSliceBox(Operation *op,
                                    OffsetSizeAndStrideOpInterface slice,
                                    ArrayRef<int64_t> shape,
                                    ValueLookup lookup) {
  FailureOr<SmallVector<int64_t>> offsets =
      resolveIndices(op, slice.getMixedOffsets(), lookup);
  FailureOr<SmallVector<int64_t>> sizes =
      resolveIndices(op, slice.getMixedSizes(), lookup);
  FailureOr<SmallVector<int64_t>> strides =
      resolveIndices(op, slice.getMixedStrides(), lookup);
  if (failed(offsets) || failed(sizes) || failed(strides))
    return failure();
  if (offsets->size() != shape.size() || sizes->size() != shape.size() ||
      strides->size() != shape.size())
    return op->emitOpError("slice rank does not match the tensor rank");
  for (size_t dim = 0; dim < shape.size(); ++dim) {
    if ((*sizes)[dim] < 0 || (*offsets)[dim] < 0 || (*strides)[dim] < 1)
      return op->emitOpError("slice offsets, sizes and strides must be "
                             "non-negative (strides positive)");
    if ((*sizes)[dim] > 0 &&
        (*offsets)[dim] + ((*sizes)[dim] - 1) * (*strides)[dim] >= shape[dim])
      return op->emitOpError("slice along dimension ")
             << dim << " (offset " << (*offsets)[dim] << ", size "
             << (*sizes)[dim] << ", stride " << (*strides)[dim]
             << ") leaves the size " << shape[dim];
  }
  SliceBox box{*sizes, {}};
  SmallVector<int64_t> tensorStrides = rowMajorStrides(shape);
  box.elementOffsets.reserve(numElementsOf(*sizes));
  forEachIndex(*sizes, [&](ArrayRef<int64_t> index) {
    int64_t offset = 0;
    for (size_t dim = 0; dim < index.size(); ++dim)
      offset += ((*offsets)[dim] + index[dim] * (*strides)[dim]) *
                tensorStrides[dim];
    box.elementOffsets.push_back(offset);
  });
  return box;
}

/// Fills a tensor from a tensor.generate / tensor.pad style body whose block
/// arguments are the element's indices.
LogicalResult runIndexBody(Operation *op, Block &body, ValueLookup lookup,
                           EvalTensor &result,
                           function_ref<bool(ArrayRef<int64_t>)> wanted) {
  FailureOr<ScalarProgram> program = ScalarProgram::compile(body, lookup);
  if (failed(program))
    return failure();
  if (program->arguments().size() != result.shape.size() ||
      program->getNumYielded() != 1)
    return op->emitOpError("body must take one index per dimension and "
                           "yield one value");
  int64_t element = 0;
  forEachIndex(result.shape, [&](ArrayRef<int64_t> index) {
    if (wanted(index)) {
      for (auto [argument, i] : llvm::zip(program->arguments(), index))
        argument = static_cast<double>(i);
      program->run(index);
      result.data[element] = program->getYielded(0);
    }
    ++element;
  });
  if (!program->getError().empty())
    return op->emitOpError(program->getError());
  return success();
}

} // namespace

FailureOr<Results> evaluator::evaluateTensorOp(Operation *op, Operands operands,
                                               ValueLookup lookup) {
  using Result = FailureOr<Results>;
  return llvm::TypeSwitch<Operation *, Result>(op)
      .Case([&](tensor::EmptyOp empty) -> Result {
        SmallVector<int64_t> shape(empty.getType().getShape());
        unsigned next = 0;
        for (int64_t &size : shape)
          if (ShapedType::isDynamic(size))
            size = toInt64(operands[next++]->data.front());
        return singleResult(EvalTensor(shape));
      })
      .Case([&](tensor::CastOp cast) -> Result {
        return relabel(op, *operands[0], operands[0]->shape);
      })
      .Case([&](tensor::ExpandShapeOp expand) -> Result {
        FailureOr<SmallVector<int64_t>> shape =
            resolveIndices(op, expand.getMixedOutputShape(), lookup);
        if (failed(shape))
          return failure();
        return relabel(op, *operands[0], *shape);
      })
      .Case([&](tensor::CollapseShapeOp collapse) -> Result {
        SmallVector<int64_t> shape;
        for (const ReassociationIndices &group :
             collapse.getReassociationIndices()) {
          int64_t size = 1;
          for (int64_t dim : group) {
            if (dim >= static_cast<int64_t>(operands[0]->shape.size()))
              return op->emitOpError("reassociation exceeds the source rank");
            size *= operands[0]->shape[dim];
          }
          shape.push_back(size);
        }
        return relabel(op, *operands[0], shape);
      })
      .Case([&](tensor::ReshapeOp reshape) -> Result {
        SmallVector<int64_t> shape;
        for (double size : operands[1]->data)
          shape.push_back(toInt64(size));
        return relabel(op, *operands[0], shape);
      })
      .Case([&](tensor::ExtractSliceOp slice) -> Result {
        const EvalTensor &source = *operands[0];
        FailureOr<SliceBox> box =
            resolveSliceBox(op, slice, source.shape, lookup);
        if (failed(box))
          return failure();
        // Rank reduction drops unit dimensions, which leaves the row-major
        // order of the elements unchanged.
        llvm::SmallBitVector dropped = slice.getDroppedDims();
        SmallVector<int64_t> resultShape;
        for (auto [dim, size] : llvm::enumerate(box->sizes))
          if (dim >= dropped.size() || !dropped[dim])
            resultShape.push_back(size);
        EvalTensor result(resultShape);
        for (auto [element, offset] : llvm::enumerate(box->elementOffsets))
          result.data[element] = source.data[offset];
        return singleResult(std::move(result));
      })
      .Case([&](tensor::InsertSliceOp slice) -> Result {
        const EvalTensor &source = *operands[0];
        EvalTensor result = *operands[1];
        FailureOr<SliceBox> box =
            resolveSliceBox(op, slice, result.shape, lookup);
        if (failed(box))
          return failure();
        if (numElementsOf(box->sizes) != source.numElements())
          return op->emitOpError("source of shape ")
                 << formatShape(source.shape) << " does not fill a slice of "
                 << formatShape(box->sizes);
        for (auto [element, offset] : llvm::enumerate(box->elementOffsets))
          result.data[offset] = source.data[element];
        return singleResult(std::move(result));
      })
      .Case([&](tensor::ExtractOp extract) -> Result {
        const EvalTensor &source = *operands[0];
        SmallVector<int64_t> index;
        for (const EvalTensor *operand : operands.drop_front())
          index.push_back(toInt64(operand->data.front()));
        for (auto [dim, i] : llvm::enumerate(index))
          if (i < 0 || i >= source.shape[dim])
            return op->emitOpError("index ")
                   << i << " is out of bounds for dimension " << dim
                   << " of size " << source.shape[dim];
        EvalTensor scalar(ArrayRef<int64_t>{});
        scalar.data[0] =
            source.data[flatOffset(index, rowMajorStrides(source.shape))];
        return singleResult(std::move(scalar));
      })
      .Case([&](tensor::InsertOp insert) -> Result {
        EvalTensor result = *operands[1];
        SmallVector<int64_t> index;
        for (const EvalTensor *operand : operands.drop_front(2))
          index.push_back(toInt64(operand->data.front()));
        for (auto [dim, i] : llvm::enumerate(index))
          if (i < 0 || i >= result.shape[dim])
            return op->emitOpError("index ")
                   << i << " is out of bounds for dimension " << dim
                   << " of size " << result.shape[dim];
        result.data[flatOffset(index, rowMajorStrides(result.shape))] =
            operands[0]->data.front();
        return singleResult(std::move(result));
      })
      .Case([&](tensor::FromElementsOp fromElements) -> Result {
        EvalTensor result(fromElements.getType().getShape());
        for (auto [element, operand] : llvm::enumerate(operands))
          result.data[element] = operand->data.front();
        return singleResult(std::move(result));
      })
      .Case([&](tensor::SplatOp splat) -> Result {
        SmallVector<int64_t> shape(splat.getType().getShape());
        unsigned next = 1;
        for (int64_t &size : shape)
          if (ShapedType::isDynamic(size))
            size = toInt64(operands[next++]->data.front());
        return singleResult(EvalTensor(shape, operands[0]->data.front()));
      })
      .Case([&](tensor::DimOp dim) -> Result {
        int64_t axis = toInt64(operands[1]->data.front());
        if (axis < 0 || axis >= static_cast<int64_t>(operands[0]->shape.size()))
          return op->emitOpError("dimension ") << axis << " is out of range";
        return singleResult(
            EvalTensor(ArrayRef<int64_t>{},
                       static_cast<double>(operands[0]->shape[axis])));
      })
      .Case([&](tensor::ConcatOp concat) -> Result {
        int64_t axis = concat.getDim();
        SmallVector<int64_t> shape = operands[0]->shape;
        if (axis >= static_cast<int64_t>(shape.size()))
          return op->emitOpError("dimension ") << axis << " is out of range";
        shape[axis] = 0;
        for (const EvalTensor *input : operands) {
          SmallVector<int64_t> expected = shape;
          expected[axis] =
              input->shape.size() == shape.size() ? input->shape[axis] : 0;
          if (failed(checkShape(op, *input, expected, "concatenated input")))
            return failure();
          shape[axis] += input->shape[axis];
        }
        EvalTensor result(shape);
        // Row-major: each outer index contributes one contiguous chunk per
        // input, in input order.
        int64_t outer =
            numElementsOf(ArrayRef<int64_t>(shape).take_front(axis));
        int64_t element = 0;
        for (int64_t o = 0; o < outer; ++o)
          for (const EvalTensor *input : operands) {
            int64_t chunk = input->numElements() / std::max<int64_t>(1, outer);
            for (int64_t i = 0; i < chunk; ++i)
              result.data[element++] = input->data[o * chunk + i];
          }
        return singleResult(std::move(result));
      })
      .Case([&](tensor::PadOp pad) -> Result {
        FailureOr<SmallVector<int64_t>> low =
            resolveIndices(op, pad.getMixedLowPad(), lookup);
        FailureOr<SmallVector<int64_t>> high =
            resolveIndices(op, pad.getMixedHighPad(), lookup);
        if (failed(low) || failed(high))
          return failure();
        const EvalTensor &source = *operands[0];
        SmallVector<int64_t> shape;
        for (auto [size, before, after] :
             llvm::zip(source.shape, *low, *high)) {
          if (before < 0 || after < 0)
            return emitUnsupported(op) << "negative padding";
          shape.push_back(before + size + after);
        }
        EvalTensor result(shape);
        auto insideSource = [&](ArrayRef<int64_t> index) {
          for (auto [i, before, size] : llvm::zip(index, *low, source.shape))
            if (i < before || i >= before + size)
              return false;
          return true;
        };
        if (failed(runIndexBody(
                op, pad.getRegion().front(), lookup, result,
                [&](ArrayRef<int64_t> index) { return !insideSource(index); })))
          return failure();
        SmallVector<int64_t> sourceStrides = rowMajorStrides(source.shape);
        int64_t element = 0;
        forEachIndex(shape, [&](ArrayRef<int64_t> index) {
          if (insideSource(index)) {
            int64_t offset = 0;
            for (size_t dim = 0; dim < index.size(); ++dim)
              offset += (index[dim] - (*low)[dim]) * sourceStrides[dim];
            result.data[element] = source.data[offset];
          }
          ++element;
        });
        return singleResult(std::move(result));
      })
      .Case([&](tensor::GenerateOp generate) -> Result {
        SmallVector<int64_t> shape(generate.getType().getShape());
        unsigned next = 0;
        for (int64_t &size : shape)
          if (ShapedType::isDynamic(size))
            size = toInt64(operands[next++]->data.front());
        EvalTensor result(shape);
        if (failed(runIndexBody(op, generate.getBody().front(), lookup, result,
                                [](ArrayRef<int64_t>) { return true; })))
          return failure();
        return singleResult(std::move(result));
      })
      .Default([&](Operation *) -> Result {
        return emitUnsupported(op) << "no semantics for this tensor op";
      });
}
