//===- GPUTarget.h - PTX and cubins of GPU-lowered qnn models ----*- C++
//-*-===//
//
// quant-translate --to-ptx and --to-cubin: the kernels of a module lowered
// with --qnn-lower-to-gpu="format=isa" (one gpu.binary holding PTX), as PTX
// text or as a cubin compiled by the CUDA toolkit's ptxas. --to-shared-lib
// of a GPU-lowered module is the CPU target's (CPUTarget.h): the host code
// is native code that embeds the GPU binary.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_TARGET_GPU_GPUTARGET_H
#define QUANT_TARGET_GPU_GPUTARGET_H

namespace mlir {
namespace qnn {

/// Registers --to-ptx and --to-cubin with mlir-translate.
void registerGPUTargetTranslations();

} // namespace qnn
} // namespace mlir

#endif // QUANT_TARGET_GPU_GPUTARGET_H
