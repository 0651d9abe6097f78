//===- GpuABI.cpp - the mgpu* functions compiled GPU models call ----------===//
//
// MLIR's gpu-to-llvm lowering turns gpu.alloc, gpu.memcpy, gpu.launch_func,
// ... into calls to `mgpu*` functions, and the LLVM translation of
// gpu.binary adds a constructor that calls mgpuModuleLoad on the embedded
// cubin/fatbin (mgpuModuleLoadJIT for PTX) and a destructor that calls
// mgpuModuleUnload. MLIR ships these in libmlir_cuda_runtime, which links
// libcuda and prints failures to stderr; this is the runtime's own
// implementation of the same ABI (MLIR 22's declarations, below) on
// CudaDriver:
//
//   - one stream: mgpuStreamCreate returns the runtime's stream, so compiled
//     code and the kernels of GpuKernels.h are ordered with each other;
//   - errors are reported through qr_report_kernel_error with the failing
//     call's name, so the qr_model_run in progress fails with it; nothing
//     aborts, and after a failure the functions return null handles that
//     later calls reject;
//   - modules are loaded lazily, on the first mgpuModuleGetFunction: the
//     constructor runs inside dlopen(), where starting the driver (threads,
//     more dlopen()s) is best avoided, and a GPU model must be loadable for
//     `quant-run --inspect` on a machine without a GPU.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/Runtime.h"

#include "../RuntimeInternal.h"

#include <cstddef>
#include <cstdint>
#include <string>

#ifdef QUANT_ENABLE_CUDA

#include "CudaDriver.h"

#include <climits>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

using namespace qr::cuda;

namespace {

// Reports `call: message` for the model run in progress.
void report(const char *call, const std::string &message) {
  std::string text = std::string(call) + ": " + message;
  quant::runtime::setLastError(text);
  qr_report_kernel_error(text.c_str());
}

// Starts the driver (once) and makes the context current on this thread;
// false, with the reason reported under `call`, when CUDA cannot be used.
bool ready(const char *call) {
  if (ensureInitialized())
    return true;
  report(call, qr_last_error());
  return false;
}

// The stream compiled code passes back to us is the one mgpuStreamCreate
// returned, i.e. ours; a null one (from a failed mgpuStreamCreate) means
// the same stream rather than the legacy default stream.
CUstream streamOrDefault(CUstream given) { return given ? given : stream(); }

// A module of a compiled model: its image, loaded on first use.
struct LazyModule {
  const void *image = nullptr;
  bool isPtx = false;
  int optLevel = 0;
  std::once_flag loadOnce;
  CUmodule module = nullptr;
  std::string error; // why loading failed
  std::mutex functionsMutex;
  std::unordered_map<std::string, CUfunction> functions;
};

std::string jitLog(const char *log) {
  std::string text(log);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0'))
    text.pop_back();
  return text.empty() ? "" : ": " + text;
}

void load(LazyModule &lazy) {
  const Driver &d = driver();
  CUresult result;
  if (lazy.isPtx) {
    // The JIT's own log says which PTX line it rejected.
    char log[4096] = {};
    CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                              CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                              CU_JIT_OPTIMIZATION_LEVEL};
    void *values[] = {log, reinterpret_cast<void *>(sizeof(log) - 1),
                      reinterpret_cast<void *>(intptr_t(lazy.optLevel))};
    result = d.moduleLoadDataEx(&lazy.module, lazy.image, 3, options, values);
    if (result != CUDA_SUCCESS) {
      check(result, "cuModuleLoadDataEx(PTX)");
      lazy.error = qr_last_error() + jitLog(log);
    }
    return;
  }
  result = d.moduleLoadData(&lazy.module, lazy.image);
  if (result != CUDA_SUCCESS) {
    // check() formats the message; we keep it for every later lookup.
    check(result, "cuModuleLoadData");
    lazy.error = qr_last_error();
    if (result == CUDA_ERROR_NO_BINARY_FOR_GPU ||
        result == CUDA_ERROR_INVALID_IMAGE)
      lazy.error += "; the model was compiled for another GPU than this sm_" +
                    std::to_string(computeCapability()) +
                    " (quant-opt --qnn-lower-to-gpu=\"chip=sm_" +
                    std::to_string(computeCapability()) + "\")";
  }
}

// Allocations from cuMemAllocManaged (gpu.alloc host_shared), which the
// stream-ordered free must not see.
std::mutex managedMutex;
std::unordered_set<void *> &managedAllocations() {
  static auto *set = new std::unordered_set<void *>;
  return *set;
}

// MLIR passes launch dimensions as index (intptr_t); the driver takes
// unsigned int, and 0 would be rejected with a less helpful message.
bool dimensionsFit(const char *call, std::initializer_list<intptr_t> dims) {
  for (intptr_t dim : dims) {
    if (dim < 1 || uintmax_t(dim) > UINT_MAX) {
      report(call, "launch dimension " + std::to_string(dim) +
                       " is out of range (1 to " + std::to_string(UINT_MAX) +
                       ")");
      return false;
    }
  }
  return true;
}

bool allowSharedMemory(CUfunction function, int32_t sharedBytes,
                       const char *call) {
  if (sharedBytes < 0) {
    report(call, "negative dynamic shared memory size " +
                     std::to_string(sharedBytes));
    return false;
  }
  const char *sharedCall = nullptr;
  CUresult result =
      qr::cuda::allowDynamicShared(function, unsigned(sharedBytes), sharedCall);
  return result == CUDA_SUCCESS || checkInModel(result, sharedCall);
}

} // namespace

extern "C" {

void *mgpuModuleLoad(void *data, size_t /*gpuBlobSize*/) {
  // The image is the model's constant data; the driver finds its size in
  // the fatbin/ELF header.
  auto *lazy = new LazyModule;
  lazy->image = data;
  return lazy;
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
  auto *lazy = new LazyModule;
  lazy->image = data; // NUL-terminated PTX
  lazy->isPtx = true;
  lazy->optLevel = optLevel;
  return lazy;
}

void mgpuModuleUnload(void *module) {
  auto *lazy = static_cast<LazyModule *>(module);
  if (!lazy)
    return;
  // Runs from the model's destructor (dlclose or exit): there is no run to
  // report to, and at exit the driver may already be shut down.
  if (lazy->module && ensureInitialized())
    driver().moduleUnload(lazy->module);
  delete lazy;
}

CUfunction mgpuModuleGetFunction(void *module, const char *name) {
  const char *call = "mgpuModuleGetFunction";
  auto *lazy = static_cast<LazyModule *>(module);
  if (!lazy || !name) {
    report(call, "null module or kernel name");
    return nullptr;
  }
  if (!ready(call))
    return nullptr;
  std::call_once(lazy->loadOnce, [lazy] { load(*lazy); });
  if (!lazy->module) {
    report(call, "cannot load the model's GPU module for kernel '" +
                     std::string(name) + "': " + lazy->error);
    return nullptr;
  }
  // The lowering looks the function up before every launch.
  std::lock_guard<std::mutex> lock(lazy->functionsMutex);
  auto found = lazy->functions.find(name);
  if (found != lazy->functions.end())
    return found->second;
  CUfunction function = nullptr;
  std::string what = "cuModuleGetFunction(" + std::string(name) + ")";
  if (!checkInModel(driver().moduleGetFunction(&function, lazy->module, name),
                    what.c_str()))
    return nullptr;
  lazy->functions.emplace(name, function);
  return function;
}

void mgpuLaunchKernel(CUfunction function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, CUstream stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  const char *call = "mgpuLaunchKernel";
  if (!function) {
    // mgpuModuleGetFunction reported why.
    report(call, "no kernel function (its module did not load)");
    return;
  }
  if (!ready(call) ||
      !dimensionsFit(call, {gridX, gridY, gridZ, blockX, blockY, blockZ}) ||
      !allowSharedMemory(function, sharedBytes, call))
    return;
  checkInModel(driver().launchKernel(function, unsigned(gridX), unsigned(gridY),
                                     unsigned(gridZ), unsigned(blockX),
                                     unsigned(blockY), unsigned(blockZ),
                                     unsigned(sharedBytes),
                                     streamOrDefault(stream), params, extra),
               "cuLaunchKernel");
}

// gpu.launch_func with `clusters in`: the grid counts blocks (a multiple of
// the cluster shape), as in MLIR's wrapper.
void mgpuLaunchClusterKernel(CUfunction function, intptr_t clusterX,
                             intptr_t clusterY, intptr_t clusterZ,
                             intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                             intptr_t blockX, intptr_t blockY, intptr_t blockZ,
                             int32_t sharedBytes, CUstream stream,
                             void **params, void **extra) {
  const char *call = "mgpuLaunchClusterKernel";
  if (!function) {
    report(call, "no kernel function (its module did not load)");
    return;
  }
  if (!ready(call) ||
      !dimensionsFit(call, {clusterX, clusterY, clusterZ, gridX, gridY, gridZ,
                            blockX, blockY, blockZ}) ||
      !allowSharedMemory(function, sharedBytes, call))
    return;
  // Clusters over 8 blocks are "non-portable" and need an opt-in.
  if (clusterX * clusterY * clusterZ > 8 &&
      !checkInModel(
          driver().funcSetAttribute(
              function, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1),
          "cuFuncSetAttribute(NON_PORTABLE_CLUSTER_SIZE_ALLOWED)"))
    return;
  CUlaunchAttribute attribute = {};
  attribute.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  attribute.value.clusterDim.x = unsigned(clusterX);
  attribute.value.clusterDim.y = unsigned(clusterY);
  attribute.value.clusterDim.z = unsigned(clusterZ);
  CUlaunchConfig config = {};
  config.gridDimX = unsigned(gridX);
  config.gridDimY = unsigned(gridY);
  config.gridDimZ = unsigned(gridZ);
  config.blockDimX = unsigned(blockX);
  config.blockDimY = unsigned(blockY);
  config.blockDimZ = unsigned(blockZ);
  config.sharedMemBytes = unsigned(sharedBytes);
  config.hStream = streamOrDefault(stream);
  config.attrs = &attribute;
  config.numAttrs = 1;
  checkInModel(driver().launchKernelEx(&config, function, params, extra),
               "cuLaunchKernelEx");
}

CUstream mgpuStreamCreate(void) {
  // Our one stream, not a new one: see the file comment.
  if (!ready("mgpuStreamCreate"))
    return nullptr;
  return stream();
}

void mgpuStreamDestroy(CUstream stream) {
  // Ours lives as long as the process; we never hand out another.
  (void)stream;
}

void mgpuStreamSynchronize(CUstream stream) {
  // One stream a process (streamOrDefault): waiting for it runs the checks
  // its kernels deferred.
  (void)stream;
  if (ready("mgpuStreamSynchronize"))
    waitForStream("cuStreamSynchronize", true);
}

void mgpuStreamWaitEvent(CUstream stream, CUevent event) {
  if (!ready("mgpuStreamWaitEvent"))
    return;
  if (!event) {
    report("mgpuStreamWaitEvent", "null event");
    return;
  }
  checkInModel(driver().streamWaitEvent(streamOrDefault(stream), event, 0),
               "cuStreamWaitEvent");
}

CUevent mgpuEventCreate(void) {
  if (!ready("mgpuEventCreate"))
    return nullptr;
  CUevent event = nullptr;
  // Ordering only: timing would add overhead to every record.
  if (!checkInModel(driver().eventCreate(&event, CU_EVENT_DISABLE_TIMING),
                    "cuEventCreate"))
    return nullptr;
  return event;
}

void mgpuEventDestroy(CUevent event) {
  if (event && ready("mgpuEventDestroy"))
    checkInModel(driver().eventDestroy(event), "cuEventDestroy");
}

void mgpuEventSynchronize(CUevent event) {
  if (!ready("mgpuEventSynchronize"))
    return;
  if (!event) {
    report("mgpuEventSynchronize", "null event");
    return;
  }
  checkInModel(driver().eventSynchronize(event), "cuEventSynchronize");
}

void mgpuEventRecord(CUevent event, CUstream stream) {
  if (!ready("mgpuEventRecord"))
    return;
  if (!event) {
    report("mgpuEventRecord", "null event");
    return;
  }
  checkInModel(driver().eventRecord(event, streamOrDefault(stream)),
               "cuEventRecord");
}

void *mgpuMemAlloc(uint64_t bytes, CUstream stream, bool isHostShared) {
  if (!ready("mgpuMemAlloc"))
    return nullptr;
  CUdeviceptr pointer = 0;
  // The driver rejects empty allocations; an empty memref still needs a
  // pointer.
  size_t size = bytes ? size_t(bytes) : 1;
  if (isHostShared) {
    if (!checkInModel(
            driver().memAllocManaged(&pointer, size, CU_MEM_ATTACH_GLOBAL),
            "cuMemAllocManaged"))
      return nullptr;
    std::lock_guard<std::mutex> lock(managedMutex);
    managedAllocations().insert(reinterpret_cast<void *>(pointer));
    return reinterpret_cast<void *>(pointer);
  }
  if (memoryPools()) {
    // Stream-ordered: the model's temporaries come from the pool, not from
    // a fresh cuMemAlloc on every run.
    if (!checkInModel(
            driver().memAllocAsync(&pointer, size, streamOrDefault(stream)),
            "cuMemAllocAsync"))
      return nullptr;
  } else if (!checkInModel(driver().memAlloc(&pointer, size), "cuMemAlloc")) {
    return nullptr;
  }
  return reinterpret_cast<void *>(pointer);
}

void mgpuMemFree(void *pointer, CUstream stream) {
  if (!pointer || !ready("mgpuMemFree"))
    return;
  auto device = reinterpret_cast<CUdeviceptr>(pointer);
  bool managed;
  {
    std::lock_guard<std::mutex> lock(managedMutex);
    managed = managedAllocations().erase(pointer) > 0;
  }
  if (!managed && memoryPools()) {
    // Freed once the work queued before it on the stream is done.
    checkInModel(driver().memFreeAsync(device, streamOrDefault(stream)),
                 "cuMemFreeAsync");
    return;
  }
  // cuMemFree does not wait for queued kernels that may use the buffer.
  (void)stream;
  if (waitForStream("cuStreamSynchronize", true))
    checkInModel(driver().memFree(device), "cuMemFree");
}

void mgpuMemcpy(void *dst, void *src, size_t bytes, CUstream stream) {
  if (!ready("mgpuMemcpy") || bytes == 0)
    return;
  // Unified addressing: the driver tells host from device pointers.
  checkInModel(driver().memcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                                    reinterpret_cast<CUdeviceptr>(src), bytes,
                                    streamOrDefault(stream)),
               "cuMemcpyAsync");
}

void mgpuMemset32(void *dst, unsigned int value, size_t count,
                  CUstream stream) {
  if (!ready("mgpuMemset32") || count == 0)
    return;
  checkInModel(driver().memsetD32Async(reinterpret_cast<CUdeviceptr>(dst),
                                       value, count, streamOrDefault(stream)),
               "cuMemsetD32Async");
}

void mgpuMemset16(void *dst, unsigned short value, size_t count,
                  CUstream stream) {
  if (!ready("mgpuMemset16") || count == 0)
    return;
  checkInModel(driver().memsetD16Async(reinterpret_cast<CUdeviceptr>(dst),
                                       value, count, streamOrDefault(stream)),
               "cuMemsetD16Async");
}

void mgpuSetDefaultDevice(int32_t device) {
  // The runtime has one context, on the device $QUANT_CUDA_DEVICE chose.
  if (!ready("mgpuSetDefaultDevice") || device == deviceOrdinal())
    return;
  report("mgpuSetDefaultDevice",
         "the runtime runs on CUDA device " + std::to_string(deviceOrdinal()) +
             ", not " + std::to_string(device) +
             " (set QUANT_CUDA_DEVICE to choose the device)");
}

} // extern "C"

#else // !QUANT_ENABLE_CUDA

// A runtime built without CUDA still defines the ABI, so that a GPU model
// loads (for --inspect) and fails with a message when run, rather than
// failing to load on an undefined symbol.
namespace {
constexpr char kNoCuda[] =
    "this runtime was built without CUDA (no cuda.h found at configure time)";

void noCuda(const char *call) {
  std::string text = std::string(call) + ": " + kNoCuda;
  quant::runtime::setLastError(text);
  qr_report_kernel_error(text.c_str());
}
} // namespace

extern "C" {
void *mgpuModuleLoad(void *, size_t) { return nullptr; }
void *mgpuModuleLoadJIT(void *, int) { return nullptr; }
void mgpuModuleUnload(void *) {}
void *mgpuModuleGetFunction(void *, const char *) {
  noCuda("mgpuModuleGetFunction");
  return nullptr;
}
void mgpuLaunchKernel(void *, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t,
                      intptr_t, int32_t, void *, void **, void **, size_t) {
  noCuda("mgpuLaunchKernel");
}
void mgpuLaunchClusterKernel(void *, intptr_t, intptr_t, intptr_t, intptr_t,
                             intptr_t, intptr_t, intptr_t, intptr_t, intptr_t,
                             int32_t, void *, void **, void **) {
  noCuda("mgpuLaunchClusterKernel");
}
void *mgpuStreamCreate(void) {
  noCuda("mgpuStreamCreate");
  return nullptr;
}
void mgpuStreamDestroy(void *) {}
void mgpuStreamSynchronize(void *) { noCuda("mgpuStreamSynchronize"); }
void mgpuStreamWaitEvent(void *, void *) { noCuda("mgpuStreamWaitEvent"); }
void *mgpuEventCreate(void) {
  noCuda("mgpuEventCreate");
  return nullptr;
}
void mgpuEventDestroy(void *) {}
void mgpuEventSynchronize(void *) { noCuda("mgpuEventSynchronize"); }
void mgpuEventRecord(void *, void *) { noCuda("mgpuEventRecord"); }
void *mgpuMemAlloc(uint64_t, void *, bool) {
  noCuda("mgpuMemAlloc");
  return nullptr;
}
void mgpuMemFree(void *, void *) {}
void mgpuMemcpy(void *, void *, size_t, void *) { noCuda("mgpuMemcpy"); }
void mgpuMemset32(void *, unsigned int, size_t, void *) {
  noCuda("mgpuMemset32");
}
void mgpuMemset16(void *, unsigned short, size_t, void *) {
  noCuda("mgpuMemset16");
}
void mgpuSetDefaultDevice(int32_t) {}
} // extern "C"

#endif // QUANT_ENABLE_CUDA
