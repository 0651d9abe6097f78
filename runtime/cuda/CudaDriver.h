//===- CudaDriver.h - the dlopen()ed CUDA driver, internal -----*- C++ -*-===//
//
// Internal to runtime/cuda. The driver API's entry points, resolved from
// libcuda.so.1 at first use (cuGetProcAddress for versioned names), the
// process-wide context and stream, and the kernels of the embedded fatbin.
// Every call goes through check(), which turns a CUresult into an error
// naming the call.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_RUNTIME_CUDA_CUDADRIVER_H
#define QUANT_RUNTIME_CUDA_CUDADRIVER_H

#include <cuda.h>

#include <functional>
#include <string>

namespace qr::cuda {

/// The driver entry points the runtime uses.
struct Driver {
  decltype(&::cuInit) init;
  decltype(&::cuGetErrorName) getErrorName;
  decltype(&::cuGetErrorString) getErrorString;
  decltype(&::cuDeviceGet) deviceGet;
  decltype(&::cuDeviceGetCount) deviceGetCount;
  decltype(&::cuDeviceGetName) deviceGetName;
  decltype(&::cuDeviceGetAttribute) deviceGetAttribute;
  decltype(&::cuDevicePrimaryCtxRetain) primaryCtxRetain;
  decltype(&::cuCtxSetCurrent) ctxSetCurrent;
  decltype(&::cuStreamCreate) streamCreate;
  decltype(&::cuStreamDestroy) streamDestroy;
  decltype(&::cuStreamSynchronize) streamSynchronize;
  decltype(&::cuStreamWaitEvent) streamWaitEvent;
  decltype(&::cuEventCreate) eventCreate;
  decltype(&::cuEventDestroy) eventDestroy;
  decltype(&::cuEventRecord) eventRecord;
  decltype(&::cuEventSynchronize) eventSynchronize;
  decltype(&::cuEventElapsedTime) eventElapsedTime;
  decltype(&::cuMemAlloc) memAlloc;
  decltype(&::cuMemAllocManaged) memAllocManaged;
  decltype(&::cuMemFree) memFree;
  // Page-locked host memory mapped into the device (statuses kernels leave
  // for the host, read without a copy).
  decltype(&::cuMemHostAlloc) memHostAlloc;
  decltype(&::cuMemHostGetDevicePointer) memHostGetDevicePointer;
  decltype(&::cuMemFreeHost) memFreeHost;
  // Stream-ordered allocation from the device's default pool (gpu.alloc and
  // gpu.dealloc of compiled models, once per run).
  decltype(&::cuMemAllocAsync) memAllocAsync;
  decltype(&::cuMemFreeAsync) memFreeAsync;
  decltype(&::cuDeviceGetDefaultMemPool) deviceGetDefaultMemPool;
  decltype(&::cuMemPoolSetAttribute) memPoolSetAttribute;
  decltype(&::cuMemcpyAsync) memcpyAsync;
  decltype(&::cuMemcpyHtoDAsync) memcpyHtoDAsync;
  decltype(&::cuMemcpyDtoHAsync) memcpyDtoHAsync;
  decltype(&::cuMemsetD8Async) memsetD8Async;
  decltype(&::cuMemsetD16Async) memsetD16Async;
  decltype(&::cuMemsetD32Async) memsetD32Async;
  decltype(&::cuModuleLoadData) moduleLoadData;
  // With options: the PTX JIT's error log and optimisation level.
  decltype(&::cuModuleLoadDataEx) moduleLoadDataEx;
  decltype(&::cuModuleUnload) moduleUnload;
  decltype(&::cuModuleGetFunction) moduleGetFunction;
  decltype(&::cuFuncGetAttribute) funcGetAttribute;
  decltype(&::cuFuncSetAttribute) funcSetAttribute;
  decltype(&::cuLaunchKernel) launchKernel;
  // Launches with attributes (thread-block clusters, sm_90).
  decltype(&::cuLaunchKernelEx) launchKernelEx;
  // TMA descriptors of the Hopper kernels' operands.
  decltype(&::cuTensorMapEncodeTiled) tensorMapEncodeTiled;
};

/// Loads the driver, creates the context and stream (once; thread-safe).
/// False with qr_last_error() set when CUDA cannot be used; the reason is
/// kept and returned again by later calls.
bool ensureInitialized();

/// Valid after ensureInitialized() returned true.
const Driver &driver();
CUstream stream();
CUdevice device();
/// The ordinal the context was created on (0, or $QUANT_CUDA_DEVICE).
int deviceOrdinal();
/// Compute capability as 10 * major + minor (90 for sm_90).
int computeCapability();
int multiprocessorCount();
/// Whether the device supports stream-ordered allocation (memAllocAsync);
/// its default pool then keeps freed memory for reuse instead of returning
/// it to the driver at every synchronisation.
bool memoryPools();

/// Waits for stream(), then runs the checks deferred until then
/// (deferUntilWait). `call` names the wait in errors, which fail the model
/// run in progress when `inModel` (checkInModel), else set qr_last_error().
bool waitForStream(const char *call, bool inModel);

/// Runs `check` once the work queued so far has finished, at the next
/// waitForStream: how a kernel that leaves a status for the host (the
/// pillar rulebook's) reports an error without waiting for the stream
/// itself. Compiled models wait before they return.
void deferUntilWait(std::function<void()> check);

/// True for CUDA_SUCCESS; otherwise sets qr_last_error() to
/// "<call>: <CUDA_ERROR_NAME> (<description>)" and returns false.
bool check(CUresult result, const char *call);
/// As check(), but reports through qr_report_kernel_error() so that the
/// compiled model calling in fails (the path of calls from compiled code).
bool checkInModel(CUresult result, const char *call);

/// A kernel of the runtime's embedded fatbin (runtime/cuda/kernels), by its
/// extern "C" name; the module is loaded on first use. Null with the error
/// reported through qr_report_kernel_error() if absent.
CUfunction kernel(const char *name);

/// Lets `function` take `dynamicBytes` of dynamic shared memory: above
/// 48 KiB of static and dynamic shared memory together a function must opt
/// in. The failing call's result otherwise, its name in `call`.
CUresult allowDynamicShared(CUfunction function, unsigned dynamicBytes,
                            const char *&call);

/// How a launch is ordered after the previous kernel of the stream.
enum class LaunchOrder {
  /// Starts once the previous kernel has finished.
  AfterPredecessor,
  /// Programmatic dependent launch (sm_90 on): may start once every CTA of
  /// the previous kernel has executed griddepcontrol.launch_dependents or
  /// exited, and must execute griddepcontrol.wait before it touches
  /// anything that kernel writes, or writes anything itself.
  OverlapsPredecessor,
};

/// cuLaunchKernel(Ex) on stream() with error checks (the launch's name in
/// the message); raises the dynamic shared-memory limit where needed
/// (allowDynamicShared). Reports through qr_report_kernel_error().
bool launch(CUfunction function, unsigned gridX, unsigned gridY, unsigned gridZ,
            unsigned blockX, unsigned blockY, unsigned blockZ,
            unsigned sharedBytes, void **params, const char *what,
            LaunchOrder order = LaunchOrder::AfterPredecessor);

} // namespace qr::cuda

#endif // QUANT_RUNTIME_CUDA_CUDADRIVER_H
