//===- Calibration.h - layer inputs on a calibration sample ------*- C++ -*-===//

#ifndef QUANT_LIB_DIALECT_QNN_TRANSFORMS_CALIBRATION_H
#define QUANT_LIB_DIALECT_QNN_TRANSFORMS_CALIBRATION_H

#include "quant/Quantization/Matrix.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir {
namespace qnn {

/// Runs `func` in the float64 evaluator on the sample stored in the .npy
/// file `path` (the function's only argument) and returns, for each of
/// `values`, every observed vector along its last dimension as the rows of
/// a [tokens, channels] matrix. Emits an error on `func` and fails when the
/// file is missing or malformed, does not match the argument, or the
/// function cannot be evaluated. `option` names the pass option in errors.
FailureOr<llvm::DenseMap<Value, ::quant::Matrix>>
collectActivations(func::FuncOp func, StringRef path, StringRef option,
                   ArrayRef<Value> values);

} // namespace qnn
} // namespace mlir

#endif // QUANT_LIB_DIALECT_QNN_TRANSFORMS_CALIBRATION_H
