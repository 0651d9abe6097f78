//===- Passes.h - qnn transformation passes ----------------------*- C++ -*-===//

#ifndef QUANT_DIALECT_QNN_TRANSFORMS_PASSES_H
#define QUANT_DIALECT_QNN_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
namespace arith {
class ArithDialect;
} // namespace arith
namespace func {
class FuncOp;
} // namespace func
namespace quant {
class QuantDialect;
} // namespace quant

namespace qnn {
class QNNDialect;

#define GEN_PASS_DECL
#include "quant/Dialect/QNN/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quant/Dialect/QNN/Transforms/Passes.h.inc"

/// Registers --qnn-pipeline="wbits=4 abits=8 rotate=hadamard smooth=0.5 ...":
/// the passes above in their standard order, from one option string.
void registerQNNPipeline();

} // namespace qnn
} // namespace mlir

#endif // QUANT_DIALECT_QNN_TRANSFORMS_PASSES_H
