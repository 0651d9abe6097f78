//===- CPUTarget.h - native code for lowered qnn models ----------*- C++ -*-===//
//
// From a module in the llvm dialect (after --qnn-lower-to-cpu) to LLVM IR,
// an object file, a shared library quant-run can load, or an executable
// linked with the runtime. The micro-kernels' bitcode is linked into the
// module so they are inlined and optimised with the model; the target
// machine is the host's unless --target-triple/--target-cpu/
// --target-features say otherwise.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_TARGET_CPU_CPUTARGET_H
#define QUANT_TARGET_CPU_CPUTARGET_H

#include "mlir/Support/LLVM.h"

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace mlir {
class Operation;

namespace qnn {

/// Compiles `module` (llvm dialect, after --qnn-lower-to-cpu) into a shared
/// library quant-run and qr_model_load accept, for the target the
/// --target-* options select, and writes its bytes to `output`.
LogicalResult compileToSharedLibrary(Operation *module,
                                     llvm::raw_ostream &output);

/// Registers --mlir-to-llvmir (in place of upstream's), --to-object,
/// --to-shared-lib and --to-executable with mlir-translate.
void registerCPUTargetTranslations();

} // namespace qnn
} // namespace mlir

#endif // QUANT_TARGET_CPU_CPUTARGET_H
