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

namespace mlir {
namespace qnn {

/// Registers --mlir-to-llvmir (in place of upstream's), --to-object,
/// --to-shared-lib and --to-executable with mlir-translate.
void registerCPUTargetTranslations();

} // namespace qnn
} // namespace mlir

#endif // QUANT_TARGET_CPU_CPUTARGET_H
