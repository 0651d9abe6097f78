//===- GridDependency.cuh - programmatic dependent launch ------*- CUDA -*-===//
//
// Kernels launched with LaunchOrder::OverlapsPredecessor (CudaDriver.h) may
// start while the previous kernel of the stream still runs: they read what
// no kernel writes (packed weights) first, then wait for it. Kernels that
// let such a successor start early say so; it still waits for them to
// finish before it reads their output. Both are no-ops before sm_90, where
// launches never overlap.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_RUNTIME_CUDA_KERNELS_GRIDDEPENDENCY_CUH
#define QUANT_RUNTIME_CUDA_KERNELS_GRIDDEPENDENCY_CUH

namespace qr::gpu {

/// Blocks until the previous kernel of the stream has finished and its
/// writes are visible.
__device__ __forceinline__ void waitForPredecessor() {
#if __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;\n" ::: "memory");
#endif
}

/// Lets the next kernel, if launched to overlap, start once every CTA of
/// this one has called this or exited.
__device__ __forceinline__ void allowSuccessorStart() {
#if __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

} // namespace qr::gpu

#endif // QUANT_RUNTIME_CUDA_KERNELS_GRIDDEPENDENCY_CUH
