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
namespace gpu {
class GPUDialect;
} // namespace gpu
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
namespace scf {
class SCFDialect;
} // namespace scf
namespace tensor {
class TensorDialect;
} // namespace tensor

namespace qnn {
class QNNDialect;

/// The kernels qnn-lower-to-ukernels calls: the CPU micro-kernels of
/// UKernels.h or the CUDA kernels of GpuKernels.h.
enum class KernelTarget { cpu, gpu };

#define GEN_PASS_DECL
#include "quant/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "quant/Conversion/Passes.h.inc"

/// Registers --qnn-lower-to-cpu: qnn-lower-to-ukernels, one-shot
/// bufferization, the model entry, and upstream conversions to the llvm
/// dialect, as one pipeline.
void registerLowerToCPUPipeline();

/// Registers --qnn-lower-to-gpu: qnn-lower-to-ukernels{target=gpu},
/// bufferization, the model entry, device buffers, loops mapped to GPU
/// kernels compiled for NVVM, and the host side to llvm, as one pipeline.
void registerLowerToGPUPipeline();

/// The stages --qnn-lower-to-cpu and --qnn-lower-to-gpu share, as textual
/// pipeline: qnn ops to `target`'s kernel calls, dynamic results bounded,
/// one-shot bufferization and the model ABI entry (`entry`: the function
/// exported, or empty for the only public one).
std::string modelToBuffersPipeline(KernelTarget target, StringRef entry);

/// The function a compiled model is built from: `entry` when given, else the
/// only public function with a body. Otherwise emits an error on `module`
/// saying what the model was wanted for (`purpose`: "export", "calibrate")
/// and returns null.
func::FuncOp findModelEntry(ModuleOp module, StringRef entry,
                            StringRef purpose);

} // namespace qnn
} // namespace mlir

#endif // QUANT_CONVERSION_PASSES_H
