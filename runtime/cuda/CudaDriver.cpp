//===- CudaDriver.cpp - the dlopen()ed CUDA driver, for the runtime -------===//
//
// The runtime never links libcuda: a runtime that did would not load on the
// CPU-only machines that run most of the project's models. The driver is
// dlopen()ed on the first CUDA call instead, its entry points resolved with
// cuGetProcAddress (which returns the ABI version this file was compiled
// against, e.g. cuMemAlloc_v2 for cuMemAlloc), and the outcome -- a ready
// context or the reason there is none -- is kept for the whole process.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"

#include "../RuntimeInternal.h"
#include "quant/Runtime/Runtime.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#ifdef QUANT_CUDA_HAVE_KERNELS
// The fatbin of runtime/cuda/kernels (sm_80 and sm_90a), embedded by that
// directory's build.
extern "C" const unsigned char qr_cuda_kernels_fatbin[];
extern "C" const size_t qr_cuda_kernels_fatbin_size;
#endif

using quant::runtime::setLastError;

namespace qr::cuda {
namespace {

// Static and dynamic shared memory above this together need an explicit
// opt-in per function.
constexpr unsigned kSharedWithoutOptIn = 48 * 1024;

struct State {
  std::once_flag initOnce;
  // Empty once initialisation succeeded; otherwise why it failed.
  std::string initError;
  bool ready = false;

  void *library = nullptr;
  Driver driver{};
  int ordinal = 0;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  int computeCapability = 0;
  int multiprocessorCount = 0;
  bool memoryPools = false;

  // The runtime's own kernels (runtime/cuda/kernels), loaded on first use.
  std::once_flag kernelsOnce;
  CUmodule kernels = nullptr;
  std::string kernelsError;
  // By name: launchers build some names (the kernel's variant), so an
  // address is no key.
  std::mutex functionsMutex;
  std::map<std::string, CUfunction, std::less<>> functions;

  // Checks to run at the next wait for the stream (deferUntilWait).
  std::mutex deferredMutex;
  std::vector<std::function<void()>> deferred;
};

// Never destroyed: compiled models may still call in from their static
// destructors at exit, and tearing the context down then buys nothing (the
// driver releases everything with the process).
State &state() {
  static State *instance = new State;
  return *instance;
}

// "CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)"; works before
// the error functions are resolved, and with drivers that do not know the
// code.
std::string describe(const Driver &driver, CUresult result) {
  const char *name = nullptr;
  const char *text = nullptr;
  if (driver.getErrorName)
    driver.getErrorName(result, &name);
  if (driver.getErrorString)
    driver.getErrorString(result, &text);
  // The stub libcuda of the toolkit (lib64/stubs) answers every call, these
  // two included, with CUDA_ERROR_STUB_LIBRARY.
  if (!name && result == CUDA_ERROR_STUB_LIBRARY) {
    name = "CUDA_ERROR_STUB_LIBRARY";
    text = "the CUDA driver is the toolkit's stub library, not a real driver";
  }
  std::string message =
      name ? std::string(name) : "CUresult " + std::to_string(int(result));
  if (text)
    message += std::string(" (") + text + ")";
  return message;
}

std::string failure(const Driver &driver, CUresult result, const char *call) {
  return std::string(call) + ": " + describe(driver, result);
}

#define QR_CUDA_STRINGIFY(x) #x
// The symbol cuda.h maps a name to ("cuMemAlloc" -> "cuMemAlloc_v2"): the
// macro argument is expanded before it is stringified.
#define QR_CUDA_SYMBOL(name) QR_CUDA_STRINGIFY(name)

class Resolver {
public:
  explicit Resolver(void *library) : library(library) {
    getProcAddress = reinterpret_cast<decltype(&::cuGetProcAddress)>(
        dlsym(library, QR_CUDA_SYMBOL(cuGetProcAddress)));
  }

  // Resolves `base` (the unversioned name) for the CUDA version of the
  // headers, falling back to dlsym of the header's versioned symbol for
  // drivers older than cuGetProcAddress_v2 (CUDA 12.0).
  template <typename F>
  bool operator()(F &slot, const char *base, const char *versioned) {
    void *address = nullptr;
    if (getProcAddress) {
      CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SUCCESS;
      if (getProcAddress(base, &address, CUDA_VERSION,
                         CU_GET_PROC_ADDRESS_DEFAULT,
                         &status) != CUDA_SUCCESS ||
          status != CU_GET_PROC_ADDRESS_SUCCESS)
        address = nullptr;
    }
    if (!address)
      address = dlsym(library, versioned);
    slot = reinterpret_cast<F>(address);
    if (!address && missing.empty())
      missing = base;
    return address != nullptr;
  }

  // The first entry point that could not be resolved.
  std::string missing;

private:
  void *library;
  decltype(&::cuGetProcAddress) getProcAddress = nullptr;
};

// Parses $QUANT_CUDA_DEVICE ("" or unset: device 0).
bool deviceFromEnvironment(int count, int &ordinal, std::string &error) {
  const char *text = std::getenv("QUANT_CUDA_DEVICE");
  ordinal = 0;
  if (!text || !*text)
    return true;
  char *end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (*end || value < 0 || value >= count) {
    error = "QUANT_CUDA_DEVICE='" + std::string(text) +
            "' is not a device ordinal (this machine has " +
            std::to_string(count) + " CUDA device" + (count == 1 ? "" : "s") +
            ": 0 to " + std::to_string(count - 1) + ")";
    return false;
  }
  ordinal = int(value);
  return true;
}

// Loads the driver and creates the context and stream; the error message,
// or "" on success.
std::string initialize(State &s) {
  // $QUANT_CUDA_DRIVER names another driver library: tests use it to act
  // out a machine without a driver on one that has one.
  const char *override = std::getenv("QUANT_CUDA_DRIVER");
  const char *libraryName = override && *override ? override : "libcuda.so.1";
  dlerror();
  // RTLD_LOCAL: everything is reached through the table below, nothing
  // else in the process should bind to this copy's symbols by accident.
  s.library = dlopen(libraryName, RTLD_NOW | RTLD_LOCAL);
  if (!s.library) {
    const char *reason = dlerror();
    return std::string("no CUDA driver: ") +
           (reason ? reason : std::string(libraryName) + ": cannot load");
  }

  Driver &d = s.driver;
  Resolver resolve(s.library);
#define QR_RESOLVE(field, name) resolve(d.field, #name, QR_CUDA_SYMBOL(name))
  // Error reporting first, so that every later failure is described.
  QR_RESOLVE(getErrorName, cuGetErrorName);
  QR_RESOLVE(getErrorString, cuGetErrorString);
  QR_RESOLVE(init, cuInit);
  QR_RESOLVE(deviceGet, cuDeviceGet);
  QR_RESOLVE(deviceGetCount, cuDeviceGetCount);
  QR_RESOLVE(deviceGetName, cuDeviceGetName);
  QR_RESOLVE(deviceGetAttribute, cuDeviceGetAttribute);
  QR_RESOLVE(primaryCtxRetain, cuDevicePrimaryCtxRetain);
  QR_RESOLVE(ctxSetCurrent, cuCtxSetCurrent);
  QR_RESOLVE(streamCreate, cuStreamCreate);
  QR_RESOLVE(streamDestroy, cuStreamDestroy);
  QR_RESOLVE(streamSynchronize, cuStreamSynchronize);
  QR_RESOLVE(streamWaitEvent, cuStreamWaitEvent);
  QR_RESOLVE(eventCreate, cuEventCreate);
  QR_RESOLVE(eventDestroy, cuEventDestroy);
  QR_RESOLVE(eventRecord, cuEventRecord);
  QR_RESOLVE(eventSynchronize, cuEventSynchronize);
  QR_RESOLVE(eventElapsedTime, cuEventElapsedTime);
  QR_RESOLVE(memAlloc, cuMemAlloc);
  QR_RESOLVE(memAllocManaged, cuMemAllocManaged);
  QR_RESOLVE(memFree, cuMemFree);
  QR_RESOLVE(memHostAlloc, cuMemHostAlloc);
  QR_RESOLVE(memHostGetDevicePointer, cuMemHostGetDevicePointer);
  QR_RESOLVE(memFreeHost, cuMemFreeHost);
  QR_RESOLVE(memAllocAsync, cuMemAllocAsync);
  QR_RESOLVE(memFreeAsync, cuMemFreeAsync);
  QR_RESOLVE(deviceGetDefaultMemPool, cuDeviceGetDefaultMemPool);
  QR_RESOLVE(memPoolSetAttribute, cuMemPoolSetAttribute);
  QR_RESOLVE(memcpyAsync, cuMemcpyAsync);
  QR_RESOLVE(memcpyHtoDAsync, cuMemcpyHtoDAsync);
  QR_RESOLVE(memcpyDtoHAsync, cuMemcpyDtoHAsync);
  QR_RESOLVE(memsetD8Async, cuMemsetD8Async);
  QR_RESOLVE(memsetD16Async, cuMemsetD16Async);
  QR_RESOLVE(memsetD32Async, cuMemsetD32Async);
  QR_RESOLVE(moduleLoadData, cuModuleLoadData);
  QR_RESOLVE(moduleLoadDataEx, cuModuleLoadDataEx);
  QR_RESOLVE(moduleUnload, cuModuleUnload);
  QR_RESOLVE(moduleGetFunction, cuModuleGetFunction);
  QR_RESOLVE(funcGetAttribute, cuFuncGetAttribute);
  QR_RESOLVE(funcSetAttribute, cuFuncSetAttribute);
  QR_RESOLVE(launchKernel, cuLaunchKernel);
  QR_RESOLVE(launchKernelEx, cuLaunchKernelEx);
  QR_RESOLVE(tensorMapEncodeTiled, cuTensorMapEncodeTiled);
#undef QR_RESOLVE
  if (!resolve.missing.empty())
    return "CUDA driver '" + std::string(libraryName) + "' has no " +
           resolve.missing + " (the runtime needs a CUDA 12 or newer driver)";

  if (CUresult result = d.init(0))
    return failure(d, result, "cuInit");
  int count = 0;
  if (CUresult result = d.deviceGetCount(&count))
    return failure(d, result, "cuDeviceGetCount");
  if (count == 0)
    return "no CUDA device (cuDeviceGetCount returned 0)";
  std::string error;
  if (!deviceFromEnvironment(count, s.ordinal, error))
    return error;
  if (CUresult result = d.deviceGet(&s.device, s.ordinal))
    return failure(d, result, "cuDeviceGet");
  // The primary context is the one the CUDA runtime and other libraries in
  // the process share, so buffers can be exchanged with them.
  if (CUresult result = d.primaryCtxRetain(&s.context, s.device))
    return failure(d, result, "cuDevicePrimaryCtxRetain");
  if (CUresult result = d.ctxSetCurrent(s.context))
    return failure(d, result, "cuCtxSetCurrent");
  // Non-blocking: no implicit synchronisation with the legacy default
  // stream that other code in the process may use.
  if (CUresult result = d.streamCreate(&s.stream, CU_STREAM_NON_BLOCKING))
    return failure(d, result, "cuStreamCreate");
  int major = 0, minor = 0;
  if (CUresult result = d.deviceGetAttribute(
          &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, s.device))
    return failure(d, result, "cuDeviceGetAttribute(compute capability)");
  if (CUresult result = d.deviceGetAttribute(
          &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, s.device))
    return failure(d, result, "cuDeviceGetAttribute(compute capability)");
  s.computeCapability = 10 * major + minor;
  if (CUresult result = d.deviceGetAttribute(
          &s.multiprocessorCount, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
          s.device))
    return failure(d, result, "cuDeviceGetAttribute(multiprocessor count)");
  int pools = 0;
  if (CUresult result = d.deviceGetAttribute(
          &pools, CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED, s.device))
    return failure(d, result, "cuDeviceGetAttribute(memory pools supported)");
  if (pools) {
    // By default the pool gives freed memory back at every synchronisation,
    // which would make each run of a model allocate its buffers anew.
    CUmemoryPool pool = nullptr;
    cuuint64_t keepAll = ~cuuint64_t(0);
    if (CUresult result = d.deviceGetDefaultMemPool(&pool, s.device))
      return failure(d, result, "cuDeviceGetDefaultMemPool");
    if (CUresult result = d.memPoolSetAttribute(
            pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &keepAll))
      return failure(
          d, result,
          "cuMemPoolSetAttribute(CU_MEMPOOL_ATTR_RELEASE_THRESHOLD)");
    s.memoryPools = true;
  }
  return "";
}

std::string loadKernels(State &s) {
#ifdef QUANT_CUDA_HAVE_KERNELS
  if (qr_cuda_kernels_fatbin_size == 0)
    return "the runtime's CUDA kernels are empty (runtime/cuda/kernels)";
  if (CUresult result =
          s.driver.moduleLoadData(&s.kernels, qr_cuda_kernels_fatbin)) {
    std::string message =
        failure(s.driver, result, "cuModuleLoadData(runtime kernels)");
    if (result == CUDA_ERROR_NO_BINARY_FOR_GPU)
      message += "; the kernels are built for sm_80 and sm_90a, this device "
                 "is sm_" +
                 std::to_string(s.computeCapability);
    return message;
  }
  return "";
#else
  (void)s;
  return "this runtime was built without its CUDA kernels "
         "(runtime/cuda/kernels was not part of the build)";
#endif
}

} // namespace

bool ensureInitialized() {
  State &s = state();
  std::call_once(s.initOnce, [&s] {
    s.initError = initialize(s);
    s.ready = s.initError.empty();
  });
  if (!s.ready) {
    setLastError(s.initError);
    return false;
  }
  // The context is current per thread; making it current again is a
  // thread-local store in the driver, cheaper than asking first.
  return check(s.driver.ctxSetCurrent(s.context), "cuCtxSetCurrent");
}

const Driver &driver() { return state().driver; }
CUstream stream() { return state().stream; }
CUdevice device() { return state().device; }
int deviceOrdinal() { return state().ordinal; }
int computeCapability() { return state().computeCapability; }
int multiprocessorCount() { return state().multiprocessorCount; }
bool memoryPools() { return state().memoryPools; }

bool check(CUresult result, const char *call) {
  if (result == CUDA_SUCCESS)
    return true;
  setLastError(failure(state().driver, result, call));
  return false;
}

bool checkInModel(CUresult result, const char *call) {
  if (result == CUDA_SUCCESS)
    return true;
  std::string message = failure(state().driver, result, call);
  setLastError(message);
  qr_report_kernel_error(message.c_str());
  return false;
}

bool waitForStream(const char *call, bool inModel) {
  State &s = state();
  CUresult result = s.driver.streamSynchronize(s.stream);
  if (!(inModel ? checkInModel(result, call) : check(result, call)))
    return false;
  std::vector<std::function<void()>> due;
  {
    std::lock_guard<std::mutex> lock(s.deferredMutex);
    due.swap(s.deferred);
  }
  for (const std::function<void()> &run : due)
    run();
  return true;
}

void deferUntilWait(std::function<void()> check) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.deferredMutex);
  s.deferred.push_back(std::move(check));
}

CUfunction kernel(const char *name) {
  if (!name) {
    qr_report_kernel_error("qr::cuda::kernel: null kernel name");
    return nullptr;
  }
  if (!ensureInitialized()) {
    qr_report_kernel_error(
        (std::string(name) + ": " + qr_last_error()).c_str());
    return nullptr;
  }
  State &s = state();
  std::call_once(s.kernelsOnce, [&s] { s.kernelsError = loadKernels(s); });
  if (!s.kernelsError.empty()) {
    std::string message = std::string(name) + ": " + s.kernelsError;
    setLastError(message);
    qr_report_kernel_error(message.c_str());
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(s.functionsMutex);
  auto found = s.functions.find(std::string_view(name));
  if (found != s.functions.end())
    return found->second;
  CUfunction function = nullptr;
  CUresult result = s.driver.moduleGetFunction(&function, s.kernels, name);
  if (result != CUDA_SUCCESS) {
    std::string call = "cuModuleGetFunction(" + std::string(name) + ")";
    checkInModel(result, call.c_str());
    return nullptr;
  }
  s.functions.emplace(name, function);
  return function;
}

CUresult allowDynamicShared(CUfunction function, unsigned dynamicBytes,
                            const char *&call) {
  if (dynamicBytes == 0)
    return CUDA_SUCCESS;
  const Driver &d = state().driver;
  int staticBytes = 0;
  call = "cuFuncGetAttribute(SHARED_SIZE_BYTES)";
  if (CUresult result = d.funcGetAttribute(
          &staticBytes, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, function);
      result != CUDA_SUCCESS)
    return result;
  if (dynamicBytes + unsigned(staticBytes) <= kSharedWithoutOptIn)
    return CUDA_SUCCESS;
  call = "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)";
  return d.funcSetAttribute(function,
                            CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                            int(dynamicBytes));
}

bool launch(CUfunction function, unsigned gridX, unsigned gridY, unsigned gridZ,
            unsigned blockX, unsigned blockY, unsigned blockZ,
            unsigned sharedBytes, void **params, const char *what,
            LaunchOrder order) {
  const char *name = what ? what : "kernel";
  if (!function) {
    // kernel() has reported why; this names the launch that could not run.
    qr_report_kernel_error(
        (std::string(name) + ": no kernel to launch").c_str());
    return false;
  }
  if (!ensureInitialized()) {
    qr_report_kernel_error(
        (std::string(name) + ": " + qr_last_error()).c_str());
    return false;
  }
  // Messages are only built on failure: launches are the hot path.
  const Driver &d = state().driver;
  const char *sharedCall = nullptr;
  if (CUresult result = allowDynamicShared(function, sharedBytes, sharedCall);
      result != CUDA_SUCCESS) {
    std::string call = std::string(sharedCall) + "(" + name +
                       ", dynamic shared memory " +
                       std::to_string(sharedBytes) + ")";
    return checkInModel(result, call.c_str());
  }
  if (order == LaunchOrder::OverlapsPredecessor && computeCapability() >= 90) {
    CUlaunchAttribute attribute = {};
    attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attribute.value.programmaticStreamSerializationAllowed = 1;
    CUlaunchConfig config = {};
    config.gridDimX = gridX;
    config.gridDimY = gridY;
    config.gridDimZ = gridZ;
    config.blockDimX = blockX;
    config.blockDimY = blockY;
    config.blockDimZ = blockZ;
    config.sharedMemBytes = sharedBytes;
    config.hStream = stream();
    config.attrs = &attribute;
    config.numAttrs = 1;
    CUresult result = d.launchKernelEx(&config, function, params, nullptr);
    if (result != CUDA_SUCCESS) {
      std::string call = "cuLaunchKernelEx(" + std::string(name) +
                         ", PROGRAMMATIC_STREAM_SERIALIZATION)";
      return checkInModel(result, call.c_str());
    }
    return true;
  }
  CUresult result =
      d.launchKernel(function, gridX, gridY, gridZ, blockX, blockY, blockZ,
                     sharedBytes, stream(), params, nullptr);
  if (result != CUDA_SUCCESS) {
    std::string call = "cuLaunchKernel(" + std::string(name) + ")";
    return checkInModel(result, call.c_str());
  }
  return true;
}

} // namespace qr::cuda
