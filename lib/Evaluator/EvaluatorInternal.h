//===- EvaluatorInternal.h - shared by the evaluator files ------*- C++ -*-===//
//
// The interpreter is split by dialect family; this header is what the
// families share: shape arithmetic, the numeric conventions (integer
// wrapping, float rounding, round-half-to-even), constant decoding, the
// scalar program that runs region bodies, and one entry point per family.
// Private to lib/Evaluator.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_LIB_EVALUATOR_EVALUATORINTERNAL_H
#define QUANT_LIB_EVALUATOR_EVALUATORINTERNAL_H

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Evaluator/Evaluator.h"

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/IR/Value.h"

#include <functional>
#include <memory>
#include <string>

namespace mlir {
class Block;
class OpFoldResult;

namespace qnn {
namespace evaluator {

/// Operand values of the op being evaluated, in operand order.
using Operands = ArrayRef<const EvalTensor *>;
/// Result values of one op, in result order.
using Results = SmallVector<EvalTensor, 1>;
/// The value computed so far for an SSA value of the enclosing function, or
/// null when there is none (not yet computed, or defined elsewhere).
using ValueLookup = llvm::function_ref<const EvalTensor *(Value)>;

inline Results singleResult(EvalTensor tensor) {
  Results results;
  results.push_back(std::move(tensor));
  return results;
}

/// Element type of a shaped value, or the type itself for scalars.
inline Type elementTypeOf(Value value) {
  return getElementTypeOrSelf(value.getType());
}

//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

/// The one wording for ops (or op variants) the interpreter does not cover,
/// so that users and tests can tell "unsupported" from "bad input".
InFlightDiagnostic emitUnsupported(Operation *op);

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

int64_t numElementsOf(ArrayRef<int64_t> shape);
SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape);
std::string formatShape(ArrayRef<int64_t> shape);

/// `value` must have been computed with exactly `shape`; emits an error
/// naming `what` otherwise.
LogicalResult checkShape(Operation *op, const EvalTensor &value,
                         ArrayRef<int64_t> shape, StringRef what);

/// The static dimensions of `type` with dynamic ones taken from `known`
/// (same rank), for result types whose dynamic sizes the op implies.
SmallVector<int64_t> resolveShape(ShapedType type, ArrayRef<int64_t> known);

/// Integer value of a mixed static/dynamic size or offset: attributes are
/// read directly, SSA values through `lookup` (they must be scalars).
FailureOr<int64_t> resolveIndex(Operation *op, OpFoldResult value,
                                ValueLookup lookup);

//===----------------------------------------------------------------------===//
// Numeric conventions
//===----------------------------------------------------------------------===//

/// Round half to even without depending on the floating-point environment.
double roundHalfToEven(double x);

/// Rounds `x` to the nearest value of `type` (ties to even), returning it as
/// a double: the effect of storing x in a tensor of that element type.
double roundToFloatType(double x, FloatType type);

/// Bit width used for the two's-complement wrapping of an integer-like type
/// (index counts as 64 bits), or 0 for non-integers.
unsigned getIntegerWidth(Type type);

/// A float64 holding an integer, converted to int64 without undefined
/// behaviour: NaN becomes 0 and out-of-range values saturate.
int64_t toInt64(double x);

/// Canonical form of an integer of `width` bits: the signed two's-complement
/// value, except i1 which is 0 or 1. Accepts either signed or unsigned
/// input views of the same bits.
double wrapSigned(double x, unsigned width);
/// The unsigned view [0, 2^width) of the same bits.
double wrapUnsigned(double x, unsigned width);
/// wrapSigned on an int64 (exact for all 64-bit values).
int64_t wrapSignedInt(int64_t value, unsigned width);
/// The bits of an integer of `width` bits as an unsigned number.
uint64_t unsignedBits(double x, unsigned width);

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// Decodes a DenseElementsAttr (splat or not) or a DenseResourceElementsAttr
/// blob of float, integer or index elements. Errors are reported on `op`.
FailureOr<EvalTensor> readElementsAttr(Operation *op, ElementsAttr attr);

/// A rank-0 tensor holding a FloatAttr or IntegerAttr (bool included).
FailureOr<EvalTensor> readScalarAttr(Operation *op, Attribute attr);

//===----------------------------------------------------------------------===//
// Scalar semantics
//===----------------------------------------------------------------------===//

/// Out-of-band failure of a scalar computation (integer division by zero,
/// an out-of-bounds tensor.extract). The first message is kept; the caller
/// checks it after a loop instead of after every element.
struct ScalarStatus {
  std::string error;
  void fail(const char *message) {
    if (error.empty())
      error = message;
  }
};

/// The semantics of one scalar arith/math op on float64 operand values
/// (after the conventions above), producing its single result.
using ScalarFunction = std::function<double(ArrayRef<double>)>;

/// Compiles a scalar or elementwise-on-tensors arith/math op. Failures that
/// depend on the values are reported through `status`, which must outlive
/// the returned function. Emits "cannot be evaluated" for other ops.
FailureOr<ScalarFunction> compileScalarOp(Operation *op, ScalarStatus &status);

/// A region body (linalg payload, tensor.pad body) compiled once and run per
/// iteration: block arguments in, terminator operands out.
class ScalarProgram {
public:
  /// Values used in `body` but defined outside it are read through `lookup`:
  /// scalars become constants, tensors may be read by tensor.extract.
  static FailureOr<ScalarProgram> compile(Block &body, ValueLookup lookup);

  ScalarProgram(ScalarProgram &&) noexcept;
  ScalarProgram &operator=(ScalarProgram &&) noexcept;
  ~ScalarProgram();

  /// Block argument slots to fill before `run`.
  MutableArrayRef<double> arguments();
  /// Runs the body once; `loopIndices` answer linalg.index.
  void run(ArrayRef<int64_t> loopIndices);
  /// The terminator's operands after `run`.
  double getYielded(unsigned index) const;
  unsigned getNumYielded() const;
  /// The first value-dependent failure of any run, or "" when none.
  const std::string &getError() const;

private:
  struct Impl;
  explicit ScalarProgram(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

//===----------------------------------------------------------------------===//
// Shared by the qnn op families (QuantOps.cpp)
//===----------------------------------------------------------------------===//

/// The value of `operand` among `op`'s operands, or null when absent.
const EvalTensor *operandValue(Operation *op, Operands operands,
                               Value operand);

/// The activation operand in float64: float as is, static !quant.uniform
/// dequantized from its type, integer storage with per-token `tokenScales`.
FailureOr<EvalTensor> dequantizeActivation(Operation *op, Value input,
                                           const EvalTensor &values,
                                           const EvalTensor *tokenScales);

/// Where the reduction (K or C) and output-channel (N or F) indices of a
/// weight element live.
struct WeightLayout {
  int64_t reductionAxis;
  int64_t outputAxis;
};

/// The weight in float64, integer storage dequantized group-wise along the
/// reduction axis.
FailureOr<EvalTensor> dequantizeWeight(Operation *op, Value weight,
                                       const EvalTensor &values,
                                       const EvalTensor *scales,
                                       const EvalTensor *zeroPoints,
                                       WeightLayout layout);

/// Bias along `channelAxis`, the activation, then requantization when the
/// op's first result type is `!quant.uniform`.
FailureOr<EvalTensor> finishEpilogue(Operation *op, EvalTensor accumulator,
                                     const EvalTensor *bias,
                                     int64_t channelAxis,
                                     Activation activation);

//===----------------------------------------------------------------------===//
// Op families. Each returns the op's results or emits an error.
//===----------------------------------------------------------------------===//

/// arith/math ops on scalars or elementwise on same-shaped tensors (rank-0
/// operands broadcast, as for a scalar arith.select condition).
FailureOr<Results> evaluateElementwiseOp(Operation *op, Operands operands);

/// Any linalg structured op (LinalgOp interface) plus linalg.softmax.
FailureOr<Results> evaluateLinalgOp(Operation *op, Operands operands,
                                    ValueLookup lookup);

/// tensor dialect ops (shape manipulation, slices, element access).
FailureOr<Results> evaluateTensorOp(Operation *op, Operands operands,
                                    ValueLookup lookup);

/// qnn ops and upstream quant casts.
FailureOr<Results> evaluateQuantOp(Operation *op, Operands operands);

/// qnn.pillar_conv (PillarOps.cpp).
FailureOr<Results> evaluatePillarConv(PillarConvOp op, Operands operands);

/// The tosa subset listed in Evaluator.h.
FailureOr<Results> evaluateTosaOp(Operation *op, Operands operands);

} // namespace evaluator
} // namespace qnn
} // namespace mlir

#endif // QUANT_LIB_EVALUATOR_EVALUATORINTERNAL_H
