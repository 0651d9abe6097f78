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

} // namespace qnn
} // namespace mlir

#endif // QUANT_DIALECT_QNN_TRANSFORMS_PASSES_H
