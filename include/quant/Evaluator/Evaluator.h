//===- Evaluator.h - float64 reference interpreter --------------*- C++ -*-===//
//
// Interprets a func.func on tensors in float64: arith/math scalar and
// elementwise ops, every linalg structured op (named or generic) through its
// indexing maps and body, the tensor reshaping ops, and the float semantics
// of the qnn ops. It is the independent reference the passes' numeric tests
// and the calibration-driven passes (AWQ search, GPTQ) run models with; it
// never shares code with the lowerings it checks.
//
// Covered ops:
//  * func.return, func.call (callees of the same module);
//  * arith: constant (dense, splat, dense_resource, scalar), float and
//    integer arithmetic, min/max, cmpf/cmpi, select, casts and extensions;
//    math: sqrt, rsqrt, exp/exp2/expm1, log family, tanh, erf/erfc, powf,
//    abs, rounding, fma, trig — on scalars and elementwise on tensors;
//  * linalg: every LinalgOp (matmul, batch_matmul, conv_*, fill, transpose,
//    broadcast, reduce, map, generic, ...) on tensors, with linalg.index and
//    tensor.extract in the payload; linalg.softmax;
//  * tensor: empty, cast, expand_shape, collapse_shape, reshape,
//    extract_slice, insert_slice, extract, insert, from_elements, splat,
//    dim, concat, pad, generate;
//  * tosa: const, const_shape, add, sub, mul (shift 0), pow, maximum,
//    minimum, reciprocal, rsqrt, exp, log, tanh, sigmoid, erf, abs, negate,
//    clamp, identity, cast, reduce_sum, reduce_max, reshape, transpose,
//    matmul;
//  * qnn: hadamard, rotate, scale, quantize, dequantize, matmul, conv2d,
//    pillar_conv (duplicate or out-of-grid coordinates are errors at the
//    op); quant: qcast, dcast, scast.
// Anything else fails with "'op' op cannot be evaluated: ..." at the op.
//
// Numeric conventions:
//  * Float arithmetic is float64 whatever the element type; values are
//    rounded to a narrower type only where the op means rounding:
//    arith.truncf, tosa.cast, and the per-token scales of qnn.quantize
//    (rounded to their element type before the integers are derived).
//  * Integers are held exactly as their signed two's-complement value (i1 as
//    0/1) and wrap at their width; ops with an unsigned meaning (uitofp,
//    divui, cmpi ult, ...) read the unsigned view of the same bits.
//  * Tensors of !quant.uniform type hold the stored integers. qnn weights in
//    signless storage are read signed, or unsigned when zero points come
//    with them; either view of the same bits is accepted.
//  * Quantization rounds half to even and saturates at the storage range.
//
#ifndef QUANT_EVALUATOR_EVALUATOR_H
#define QUANT_EVALUATOR_EVALUATOR_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <vector>

namespace mlir {
class Operation;
namespace func {
class FuncOp;
} // namespace func

namespace qnn {

/// A dense row-major tensor of float64 values. Integer and index tensors are
/// held exactly (|v| < 2^53).
struct EvalTensor {
  SmallVector<int64_t> shape;
  std::vector<double> data;

  EvalTensor() = default;
  explicit EvalTensor(ArrayRef<int64_t> shape, double fill = 0.0);
  int64_t numElements() const;
};

/// Called after each op (terminators excepted) with its results, including
/// the ops of called functions, each time they run.
using EvalObserver =
    llvm::function_ref<void(Operation *op, ArrayRef<EvalTensor> results)>;

/// Runs `func` on `arguments` (one per function argument, shapes matching
/// the argument types; dynamic dimensions take the given sizes; scalar
/// arguments are rank-0 tensors). Emits an error at the first op it cannot
/// evaluate, or whose operands are inconsistent, and returns failure.
FailureOr<SmallVector<EvalTensor>>
evaluateFunction(func::FuncOp func, ArrayRef<EvalTensor> arguments,
                 EvalObserver observer = nullptr);

} // namespace qnn
} // namespace mlir

#endif // QUANT_EVALUATOR_EVALUATOR_H
