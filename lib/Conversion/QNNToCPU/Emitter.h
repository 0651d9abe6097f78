//===- Emitter.h - IR building blocks of the CPU lowerings ------*- C++ -*-===//
//
// Constants, micro-kernel calls (qnn.ukernel), element-wise generics and
// row reshapes shared by the qnn op lowerings of lib/Conversion/QNNToCPU.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_LIB_CONVERSION_QNNTOCPU_EMITTER_H
#define QUANT_LIB_CONVERSION_QNNTOCPU_EMITTER_H

#include "quant/Dialect/QNN/IR/QNN.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <numeric>

namespace mlir {
namespace qnn {

/// Emits the IR of one lowering at one location.
class Emitter {
public:
  Emitter(OpBuilder &builder, Location loc) : b(builder), loc(loc) {}

  Value i64(int64_t value) {
    return arith::ConstantIntOp::create(b, loc, value, 64);
  }
  Value i32(int64_t value) {
    return arith::ConstantIntOp::create(b, loc, value, 32);
  }
  Value f32(double value) {
    return arith::ConstantFloatOp::create(b, loc, b.getF32Type(),
                                          APFloat(static_cast<float>(value)));
  }
  Value f64(double value) {
    return arith::ConstantFloatOp::create(b, loc, b.getF64Type(),
                                          APFloat(value));
  }
  Value nullPointer() {
    return LLVM::ZeroOp::create(b, loc, LLVM::LLVMPointerType::get(context()));
  }

  Value empty(ArrayRef<int64_t> shape, Type elementType) {
    return tensor::EmptyOp::create(b, loc, shape, elementType);
  }

  /// Calls micro-kernel `name`; `outputs` are written in place at C argument
  /// positions `positions`. Returns the new values of `outputs`.
  ValueRange ukernel(StringRef name, ValueRange inputs, ValueRange outputs,
                     ArrayRef<int64_t> positions) {
    auto op = UKernelOp::create(b, loc, outputs.getTypes(), name, inputs,
                                outputs, b.getDenseI64ArrayAttr(positions));
    return op.getResults();
  }

  /// An element-wise linalg.generic over `resultType`'s iteration space.
  /// `maps` index `inputs` from the result's indices (identity when empty).
  Value generic(ValueRange inputs, ArrayRef<AffineMap> maps,
                RankedTensorType resultType,
                function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
    unsigned rank = resultType.getRank();
    SmallVector<AffineMap> indexing(maps);
    if (indexing.empty())
      indexing.assign(inputs.size(), b.getMultiDimIdentityMap(rank));
    indexing.push_back(b.getMultiDimIdentityMap(rank));
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    // Dynamic sizes (a pillar conv's rows) from an identity-indexed input.
    SmallVector<Value> dynamicSizes;
    for (int64_t d = 0; d < static_cast<int64_t>(rank); ++d) {
      if (!resultType.isDynamicDim(d))
        continue;
      for (auto [input, map] : llvm::zip(inputs, indexing))
        if (map.isIdentity() &&
            cast<ShapedType>(input.getType()).getRank() == rank) {
          dynamicSizes.push_back(tensor::DimOp::create(b, loc, input, d));
          break;
        }
    }
    Value init =
        tensor::EmptyOp::create(b, loc, resultType.getShape(),
                                resultType.getElementType(), dynamicSizes);
    auto op = linalg::GenericOp::create(
        b, loc, resultType, inputs, init, indexing, iterators,
        [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
          Value result = body(nested, nestedLoc, args.drop_back());
          linalg::YieldOp::create(nested, nestedLoc, result);
        });
    return op.getResult(0);
  }

  /// Converts a float tensor to `elementType` (extf / truncf).
  Value convertFloat(Value tensor, Type elementType) {
    auto type = cast<RankedTensorType>(tensor.getType());
    if (type.getElementType() == elementType)
      return tensor;
    return generic(tensor, {}, type.clone(elementType),
                   [&](OpBuilder &nb, Location nl, ValueRange args) {
                     return castFloat(nb, nl, args[0], elementType);
                   });
  }

  /// [d0, ..., dn-1] → [d0 · ... · dn-2, dn-1]; rank 1 becomes [1, d0].
  Value flattenRows(Value tensor) {
    auto type = cast<RankedTensorType>(tensor.getType());
    int64_t rank = type.getRank();
    if (rank == 2)
      return tensor;
    int64_t cols = type.getShape().back();
    int64_t rows = cols ? type.getNumElements() / cols : 0;
    auto flat = RankedTensorType::get({rows, cols}, type.getElementType());
    if (rank == 1)
      return tensor::ExpandShapeOp::create(b, loc, flat, tensor,
                                           {ReassociationIndices{0, 1}});
    ReassociationIndices leading(rank - 1);
    std::iota(leading.begin(), leading.end(), 0);
    return tensor::CollapseShapeOp::create(
        b, loc, flat, tensor, {leading, ReassociationIndices{rank - 1}});
  }

  /// Inverse of flattenRows for a tensor of `shape` (with any last dim).
  Value unflattenRows(Value flat, ArrayRef<int64_t> shape) {
    auto flatType = cast<RankedTensorType>(flat.getType());
    auto type = RankedTensorType::get(shape, flatType.getElementType());
    int64_t rank = shape.size();
    if (rank == 2)
      return flat;
    if (rank == 1)
      return tensor::CollapseShapeOp::create(b, loc, type, flat,
                                             {ReassociationIndices{0, 1}});
    ReassociationIndices leading(rank - 1);
    std::iota(leading.begin(), leading.end(), 0);
    return tensor::ExpandShapeOp::create(
        b, loc, type, flat, {leading, ReassociationIndices{rank - 1}});
  }

  /// All dimensions collapsed into one.
  Value flattenAll(Value tensor) {
    auto type = cast<RankedTensorType>(tensor.getType());
    return reshape(tensor, RankedTensorType::get({type.getNumElements()},
                                                 type.getElementType()));
  }

  /// A rank-1 tensor and `type` (same elements) reshaped into each other.
  Value reshape(Value tensor, RankedTensorType type) {
    auto from = cast<RankedTensorType>(tensor.getType());
    if (from.getShape() == type.getShape())
      return tensor;
    bool expanding = from.getRank() < type.getRank();
    RankedTensorType wide = expanding ? type : from;
    SmallVector<ReassociationIndices> groups;
    if (wide.getRank() > 0)
      groups.push_back(
          llvm::to_vector<2>(llvm::seq<int64_t>(0, wide.getRank())));
    if (expanding)
      return tensor::ExpandShapeOp::create(b, loc, type, tensor, groups);
    return tensor::CollapseShapeOp::create(b, loc, type, tensor, groups);
  }

  static Value castFloat(OpBuilder &nb, Location nl, Value value, Type to) {
    unsigned from = value.getType().getIntOrFloatBitWidth();
    unsigned width = to.getIntOrFloatBitWidth();
    if (value.getType() == to)
      return value;
    if (from < width)
      return arith::ExtFOp::create(nb, nl, to, value);
    return arith::TruncFOp::create(nb, nl, to, value);
  }

  OpBuilder &builder() { return b; }
  Location location() const { return loc; }
  MLIRContext *context() { return b.getContext(); }

protected:
  OpBuilder &b;
  Location loc;
};

} // namespace qnn
} // namespace mlir

#endif // QUANT_LIB_CONVERSION_QNNTOCPU_EMITTER_H
