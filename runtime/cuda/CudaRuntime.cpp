//===- CudaRuntime.cpp - the qr_cuda_* C API ------------------------------===//
//
// The public GPU functions of the runtime (CudaRuntime.h) on top of
// CudaDriver. Built without CUDA (no cuda.h at configure time), the same
// functions exist and fail with a message saying so, so that quant-run and
// compiled models always link.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/CudaRuntime.h"
#include "quant/Runtime/Runtime.h"

#include "../RuntimeInternal.h"

#include <cstring>
#include <string>

using quant::runtime::setLastError;

#ifdef QUANT_ENABLE_CUDA

#include "CudaDriver.h"

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

using namespace qr::cuda;

namespace {

CUdeviceptr toDevice(const void *pointer) {
  return reinterpret_cast<CUdeviceptr>(pointer);
}

template <typename T> T fail(T result, std::string message) {
  setLastError(std::move(message));
  return result;
}

// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)", set by the first successful
// qr_cuda_init (and published through the atomic for other threads).
std::once_flag deviceNameOnce;
std::string deviceName;
std::atomic<const char *> deviceNameText{nullptr};

std::string describeDevice() {
  char name[256] = {};
  if (!check(driver().deviceGetName(name, int(sizeof(name)) - 1, device()),
             "cuDeviceGetName"))
    return std::string("CUDA device ") + std::to_string(deviceOrdinal());
  return std::string(name) + " (sm_" + std::to_string(computeCapability()) +
         ", " + std::to_string(multiprocessorCount()) + " SMs)";
}

// Device copies of constant host data. Keyed by host address: a compiled
// model asks for the same weights on every run and must get the same copy
// back without a lookup by content.
struct ConstantCache {
  struct Entry {
    CUdeviceptr device;
    size_t bytes;
  };
  std::mutex mutex;
  std::unordered_map<const void *, Entry> entries;
  // Copies replaced by a longer one for the same address (a model that
  // reads a longer prefix of the same data later). They may still be in use
  // by queued kernels, so they are only freed with the address range.
  std::vector<std::pair<const void *, CUdeviceptr>> superseded;
};

ConstantCache &constants() {
  // Never destroyed: models release their constants when they are
  // unloaded, which may happen during static destruction.
  static ConstantCache *cache = new ConstantCache;
  return *cache;
}

// The event pair of qr_cuda_timer_start/stop (created on first use).
struct Timer {
  std::mutex mutex;
  CUevent start = nullptr;
  CUevent stop = nullptr;
  bool started = false;
};

Timer &timer() {
  static Timer *instance = new Timer;
  return *instance;
}

} // namespace

extern "C" {

int qr_cuda_init(void) {
  if (!ensureInitialized())
    return -1;
  std::call_once(deviceNameOnce, [] {
    deviceName = describeDevice();
    deviceNameText = deviceName.c_str();
  });
  return 0;
}

const char *qr_cuda_device_name(void) { return deviceNameText; }

void *qr_cuda_malloc(size_t bytes) {
  if (!ensureInitialized())
    return nullptr;
  // cuMemAlloc rejects 0 bytes; like malloc, an empty buffer still gets a
  // unique pointer (the smallest allocation is 256 bytes anyway).
  CUdeviceptr pointer = 0;
  std::string call = "cuMemAlloc(" + std::to_string(bytes) + " bytes)";
  if (!check(driver().memAlloc(&pointer, bytes ? bytes : 1), call.c_str()))
    return nullptr;
  return reinterpret_cast<void *>(pointer);
}

void qr_cuda_free(void *device_ptr) {
  if (!device_ptr || !ensureInitialized())
    return;
  check(driver().memFree(toDevice(device_ptr)), "cuMemFree");
}

int qr_cuda_memcpy_htod(void *device_dst, const void *host_src, size_t bytes) {
  if (!ensureInitialized())
    return -1;
  if (bytes == 0)
    return 0;
  if (!device_dst || !host_src)
    return fail(-1, "qr_cuda_memcpy_htod: null pointer");
  // Synchronous: the caller may reuse host_src on return (with page-locked
  // memory the asynchronous copy would still be reading it).
  if (!check(driver().memcpyHtoDAsync(toDevice(device_dst), host_src, bytes,
                                      stream()),
             "cuMemcpyHtoDAsync") ||
      !waitForStream("cuStreamSynchronize", false))
    return -1;
  return 0;
}

int qr_cuda_memcpy_dtoh(void *host_dst, const void *device_src, size_t bytes) {
  if (!ensureInitialized())
    return -1;
  if (bytes == 0)
    return 0;
  if (!host_dst || !device_src)
    return fail(-1, "qr_cuda_memcpy_dtoh: null pointer");
  // Ordered after the work queued on the stream, complete on return.
  if (!check(driver().memcpyDtoHAsync(host_dst, toDevice(device_src), bytes,
                                      stream()),
             "cuMemcpyDtoHAsync") ||
      !waitForStream("cuStreamSynchronize", false))
    return -1;
  return 0;
}

int qr_cuda_memcpy_dtod(void *device_dst, const void *device_src,
                        size_t bytes) {
  if (!ensureInitialized())
    return -1;
  if (bytes == 0)
    return 0;
  if (!device_dst || !device_src)
    return fail(-1, "qr_cuda_memcpy_dtod: null pointer");
  // Ordered on the stream like a kernel; no host memory to wait for.
  return check(driver().memcpyAsync(toDevice(device_dst), toDevice(device_src),
                                    bytes, stream()),
               "cuMemcpyAsync(device to device)")
             ? 0
             : -1;
}

int qr_cuda_memset_d8(void *device_dst, uint8_t value, size_t bytes) {
  if (!ensureInitialized())
    return -1;
  if (bytes == 0)
    return 0;
  if (!device_dst)
    return fail(-1, "qr_cuda_memset_d8: null pointer");
  return check(driver().memsetD8Async(toDevice(device_dst), value, bytes,
                                      stream()),
               "cuMemsetD8Async")
             ? 0
             : -1;
}

int qr_cuda_synchronize(void) {
  if (!ensureInitialized())
    return -1;
  return waitForStream("cuStreamSynchronize", false) ? 0 : -1;
}

void *qr_cuda_stream(void) {
  if (!ensureInitialized())
    return nullptr;
  return stream();
}

void qr_cuda_read(void *host, const void *device, size_t bytes) {
  if (!host || !device) {
    qr_report_kernel_error("qr_cuda_read: null pointer");
    return;
  }
  std::memset(host, 0, bytes);
  if (!ensureInitialized()) {
    std::string message = std::string("qr_cuda_read: ") + qr_last_error();
    qr_report_kernel_error(message.c_str());
    return;
  }
  if (checkInModel(driver().memcpyDtoHAsync(
                       host, reinterpret_cast<CUdeviceptr>(device), bytes,
                       stream()),
                   "cuMemcpyDtoHAsync(qr_cuda_read)"))
    waitForStream("cuStreamSynchronize(qr_cuda_read)", true);
}

void qr_cuda_write(void *device, const void *host, size_t bytes) {
  if (!host || !device) {
    qr_report_kernel_error("qr_cuda_write: null pointer");
    return;
  }
  if (!ensureInitialized()) {
    std::string message = std::string("qr_cuda_write: ") + qr_last_error();
    qr_report_kernel_error(message.c_str());
    return;
  }
  // From pageable memory the driver stages the bytes before returning.
  checkInModel(driver().memcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(device),
                                        host, bytes, stream()),
               "cuMemcpyHtoDAsync(qr_cuda_write)");
}

void *qr_cuda_constant(const void *host, size_t bytes) {
  if (!host) {
    qr_report_kernel_error("qr_cuda_constant: null host pointer");
    return fail<void *>(nullptr, "qr_cuda_constant: null host pointer");
  }
  if (!ensureInitialized()) {
    std::string message = std::string("qr_cuda_constant: ") + qr_last_error();
    qr_report_kernel_error(message.c_str());
    return nullptr;
  }
  ConstantCache &cache = constants();
  std::lock_guard<std::mutex> lock(cache.mutex);
  auto found = cache.entries.find(host);
  if (found != cache.entries.end() && found->second.bytes >= bytes)
    return reinterpret_cast<void *>(found->second.device);

  CUdeviceptr copy = 0;
  std::string call =
      "cuMemAlloc(" + std::to_string(bytes) + " bytes for a constant)";
  if (!checkInModel(driver().memAlloc(&copy, bytes ? bytes : 1), call.c_str()))
    return nullptr;
  // Queued on the stream ahead of the kernels that read it; the host data
  // is the model's and stays valid until the model is unloaded.
  if (bytes &&
      !checkInModel(driver().memcpyHtoDAsync(copy, host, bytes, stream()),
                    "cuMemcpyHtoDAsync(constant)")) {
    driver().memFree(copy);
    return nullptr;
  }
  if (found != cache.entries.end()) {
    cache.superseded.emplace_back(host, found->second.device);
    found->second = {copy, bytes};
  } else {
    cache.entries.emplace(host, ConstantCache::Entry{copy, bytes});
  }
  return reinterpret_cast<void *>(copy);
}

void qr_cuda_release_constants(const void *begin, const void *end) {
  ConstantCache &cache = constants();
  std::lock_guard<std::mutex> lock(cache.mutex);
  // Nothing cached means CUDA may never have been initialised: unloading a
  // CPU model must not start the driver.
  if ((cache.entries.empty() && cache.superseded.empty()) ||
      !ensureInitialized())
    return;
  auto inRange = [&](const void *host) {
    auto address = reinterpret_cast<uintptr_t>(host);
    return address >= reinterpret_cast<uintptr_t>(begin) &&
           address < reinterpret_cast<uintptr_t>(end);
  };
  // Kernels still queued may read the copies.
  waitForStream("cuStreamSynchronize", false);
  for (auto entry = cache.entries.begin(); entry != cache.entries.end();) {
    if (!inRange(entry->first)) {
      ++entry;
      continue;
    }
    check(driver().memFree(entry->second.device), "cuMemFree(constant)");
    entry = cache.entries.erase(entry);
  }
  std::vector<std::pair<const void *, CUdeviceptr>> kept;
  for (const auto &[host, copy] : cache.superseded) {
    if (inRange(host))
      check(driver().memFree(copy), "cuMemFree(constant)");
    else
      kept.emplace_back(host, copy);
  }
  cache.superseded = std::move(kept);
}

int qr_cuda_timer_start(void) {
  if (!ensureInitialized())
    return -1;
  Timer &t = timer();
  std::lock_guard<std::mutex> lock(t.mutex);
  if (!t.start &&
      !check(driver().eventCreate(&t.start, CU_EVENT_DEFAULT), "cuEventCreate"))
    return -1;
  if (!t.stop &&
      !check(driver().eventCreate(&t.stop, CU_EVENT_DEFAULT), "cuEventCreate"))
    return -1;
  if (!check(driver().eventRecord(t.start, stream()), "cuEventRecord(start)"))
    return -1;
  t.started = true;
  return 0;
}

double qr_cuda_timer_stop(void) {
  if (!ensureInitialized())
    return -1;
  Timer &t = timer();
  std::lock_guard<std::mutex> lock(t.mutex);
  if (!t.started)
    return fail(-1.0, "qr_cuda_timer_stop: the timer was not started "
                      "(qr_cuda_timer_start)");
  t.started = false;
  float milliseconds = 0;
  if (!check(driver().eventRecord(t.stop, stream()), "cuEventRecord(stop)") ||
      !check(driver().eventSynchronize(t.stop), "cuEventSynchronize") ||
      !check(driver().eventElapsedTime(&milliseconds, t.start, t.stop),
             "cuEventElapsedTime"))
    return -1;
  return milliseconds;
}

} // extern "C"

#else // !QUANT_ENABLE_CUDA

namespace {
const char kNoCuda[] =
    "this runtime was built without CUDA (no cuda.h found at configure time)";

template <typename T> T noCuda(T result) {
  setLastError(kNoCuda);
  return result;
}
} // namespace

extern "C" {
int qr_cuda_init(void) { return noCuda(-1); }
void qr_cuda_read(void *host, const void *, size_t bytes) {
  if (host)
    std::memset(host, 0, bytes);
  qr_report_kernel_error((std::string("qr_cuda_read: ") + kNoCuda).c_str());
}
void qr_cuda_write(void *, const void *, size_t) {
  qr_report_kernel_error((std::string("qr_cuda_write: ") + kNoCuda).c_str());
}
const char *qr_cuda_device_name(void) { return nullptr; }
void *qr_cuda_malloc(size_t) { return noCuda<void *>(nullptr); }
void qr_cuda_free(void *) { setLastError(kNoCuda); }
int qr_cuda_memcpy_htod(void *, const void *, size_t) { return noCuda(-1); }
int qr_cuda_memcpy_dtoh(void *, const void *, size_t) { return noCuda(-1); }
int qr_cuda_memcpy_dtod(void *, const void *, size_t) { return noCuda(-1); }
int qr_cuda_memset_d8(void *, uint8_t, size_t) { return noCuda(-1); }
int qr_cuda_synchronize(void) { return noCuda(-1); }
void *qr_cuda_stream(void) { return noCuda<void *>(nullptr); }
void *qr_cuda_constant(const void *, size_t) {
  // Called from compiled models: the run in progress fails with it.
  qr_report_kernel_error(
      (std::string("qr_cuda_constant: ") + kNoCuda).c_str());
  return noCuda<void *>(nullptr);
}
// Nothing was ever cached.
void qr_cuda_release_constants(const void *, const void *) {}
int qr_cuda_timer_start(void) { return noCuda(-1); }
double qr_cuda_timer_stop(void) { return noCuda(-1.0); }
} // extern "C"

#endif // QUANT_ENABLE_CUDA
