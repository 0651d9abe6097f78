//===- Passes.h - qnn lowering passes ----------------------------*- C++ -*-===//

#ifndef QUANT_CONVERSION_PASSES_H
#define QUANT_CONVERSION_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
class ModuleOp;
namespace affine {
class AffineDialect;
} // namespace affine
namespace arith {
class ArithDialect;
} // namespace arith
namespace func {
class FuncDialect;
class FuncOp;
} // namespace func
namespace linalg {
class LinalgDialect;
} // namespace linalg
namespace LLVM {
class LLVMDialect;
} // namespace LLVM
namespace math {
class MathDialect;
} // namespace math
namespace memref {
class MemRefDialect;
} // namespace memref
namespace tensor {
class TensorDialect;
} // namespace tensor

namespace qnn {
class QNNDialect;

#define GEN_PASS_DECL
#include "quant/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quant/Conversion/Passes.h.inc"

/// Registers --qnn-lower-to-cpu: qnn-lower-to-ukernels, one-shot
/// bufferization, the model entry, and upstream conversions to the llvm
/// dialect, as one pipeline.
void registerLowerToCPUPipeline();

/// The function a compiled model is built from: `entry` when given, else the
/// only public function with a body. Otherwise emits an error on `module`
/// saying what the model was wanted for (`purpose`: "export", "calibrate")
/// and returns null.
func::FuncOp findModelEntry(ModuleOp module, StringRef entry,
                            StringRef purpose);

} // namespace qnn
} // namespace mlir

#endif // QUANT_CONVERSION_PASSES_H
