//===- TensorBuilders.h - linalg/tensor building blocks ----------*- C++ -*-===//
//
// The few shapes of IR every ONNX op is written in: broadcasting
// elementwise linalg.generic, reductions, reshapes through a flat view,
// transposes and constant padding, all on static ranked tensors.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_LIB_TARGET_ONNX_TENSORBUILDERS_H
#define QUANT_LIB_TARGET_ONNX_TENSORBUILDERS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <optional>

namespace mlir {
namespace qnn {
namespace onnx_import {

/// Builds the scalar body of an elementwise op from its scalar operands.
using ScalarBody =
    llvm::function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// numpy broadcasting of two shapes, or nullopt when incompatible.
std::optional<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a,
                                                    ArrayRef<int64_t> b);

/// A linalg.generic computing `body` elementwise into a tensor of `shape`
/// and `elementType`; each input is broadcast numpy-style (aligned on the
/// trailing dimension, size-1 dimensions repeated).
Value buildElementwise(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                       Type elementType, ValueRange inputs, ScalarBody body);

/// Builds the scalar body of a generic from its loop indices and operands.
using IndexedBody = llvm::function_ref<Value(OpBuilder &, Location,
                                             ValueRange indices,
                                             ValueRange args)>;

/// A parallel linalg.generic over `shape` whose body also sees the loop
/// indices (for gathers: payloads that tensor.extract from other tensors).
Value buildIndexedGeneric(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                          Type elementType, ValueRange inputs,
                          ArrayRef<AffineMap> inputMaps, IndexedBody body);

enum class ReductionKind { Sum, Max };

/// Reduces `input` over the sorted `axes`, keeping them as size-1
/// dimensions.
Value buildReduction(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> axes, ReductionKind kind);

/// `input` with the same elements in `shape` (row-major order).
Value buildReshape(OpBuilder &b, Location loc, Value input,
                   ArrayRef<int64_t> shape);

Value buildTranspose(OpBuilder &b, Location loc, Value input,
                     ArrayRef<int64_t> permutation);

/// `input` padded with `low`/`high` elements of `value` per dimension.
Value buildPad(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> low,
               ArrayRef<int64_t> high, double value);

/// A tensor of `shape` filled with `value`.
Value buildFilled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type elementType, double value);

/// A scalar constant of a float or integer type.
Value buildScalar(OpBuilder &b, Location loc, Type type, double value);

} // namespace onnx_import
} // namespace qnn
} // namespace mlir

#endif // QUANT_LIB_TARGET_ONNX_TENSORBUILDERS_H
