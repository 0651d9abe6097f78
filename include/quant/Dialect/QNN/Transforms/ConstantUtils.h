//===- ConstantUtils.h - reading and building weight constants ---*- C++ -*-===//
//
// The transformation passes rewrite constant weights numerically: they read
// a constant tensor as float64 values, compute in float64 (the
// quant/Quantization library) and materialize the result in the original
// element type.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_DIALECT_QNN_TRANSFORMS_CONSTANTUTILS_H
#define QUANT_DIALECT_QNN_TRANSFORMS_CONSTANTUTILS_H

#include "quant/Quantization/Matrix.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"

#include <optional>
#include <vector>

namespace mlir {
namespace qnn {

/// Row-major float64 values of float elements (dense or dense_resource),
/// or nullopt for any other attribute.
std::optional<std::vector<double>> getFloatValues(Attribute attr);

/// Row-major float64 values of a float constant tensor (dense or
/// dense_resource), or nullopt when `value` is not one.
std::optional<std::vector<double>> getConstantFloatValues(Value value);

/// Row-major values of an integer constant tensor (dense or dense_resource)
/// read as signed, or nullopt when `value` is not one. Callers that use an
/// unsigned view mask the low bits.
std::optional<std::vector<int64_t>> getConstantIntegerValues(Value value);

/// A rank-2 float constant as a matrix.
std::optional<::quant::Matrix> getConstantMatrix(Value value);

/// Elements of `type` (float elements) holding `values`, rounded to the
/// element type.
DenseElementsAttr getFloatElements(RankedTensorType type,
                                   ArrayRef<double> values);

/// An arith.constant of getFloatElements(type, values).
Value createFloatConstant(OpBuilder &builder, Location loc,
                          RankedTensorType type, ArrayRef<double> values);
Value createMatrixConstant(OpBuilder &builder, Location loc, Type elementType,
                           const ::quant::Matrix &matrix);

/// A constant of `type` (signless integer elements) holding `values`
/// truncated to the element width.
Value createIntegerConstant(OpBuilder &builder, Location loc,
                            RankedTensorType type, ArrayRef<int32_t> values);

/// Erases the op defining `value` if it is a constant nobody uses any more
/// (the weight a pass just replaced).
void eraseDeadConstant(Value value);

} // namespace qnn
} // namespace mlir

#endif // QUANT_DIALECT_QNN_TRANSFORMS_CONSTANTUTILS_H
