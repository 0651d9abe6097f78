//===- CudaRuntimeTest.cpp - the CUDA half of the runtime -----------------===//
//
// Two groups: CudaNoDevice* runs where CUDA cannot be used (no driver, no
// GPU, or a runtime built without CUDA) and checks that every call fails
// with a message instead of crashing; CudaDevice* runs on a GPU and is
// skipped elsewhere with the reason. qr_model_run_buffers, the entry the
// GPU path runs models through, is tested with a CPU model.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/CudaRuntime.h"
#include "quant/Runtime/Runtime.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

// The mgpu* ABI that compiled GPU models call (GpuABI.cpp), with handles as
// void *.
extern "C" {
void *mgpuModuleLoad(void *data, size_t gpuBlobSize);
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedBytes, void *stream,
                      void **params, void **extra, size_t paramsCount);
void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate(void);
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);
void *mgpuMemAlloc(uint64_t bytes, void *stream, bool isHostShared);
void mgpuMemFree(void *pointer, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t bytes, void *stream);
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream);
void mgpuSetDefaultDevice(int32_t device);
}

namespace {

struct ModelDeleter {
  void operator()(qr_model *model) const { qr_model_destroy(model); }
};
using ModelPtr = std::unique_ptr<qr_model, ModelDeleter>;

bool haveCuda() { return qr_cuda_init() == 0; }

std::string lastError() { return qr_last_error(); }

#define SKIP_WITHOUT_CUDA()                                                    \
  do {                                                                         \
    if (!haveCuda())                                                           \
      GTEST_SKIP() << "no CUDA device: " << qr_last_error();                   \
  } while (0)

#define SKIP_WITH_CUDA()                                                       \
  do {                                                                         \
    if (haveCuda())                                                            \
      GTEST_SKIP() << "CUDA works here (" << qr_cuda_device_name() << ")";     \
  } while (0)

// A model whose entry calls `body` (a captureless lambda): mgpu* calls only
// report their errors to a model run in progress.
const char kOneBufferSignature[] = "quant-model 1\n"
                                   "input x float32 [4]\n"
                                   "output y float32 [4]\n";

// Runs `body` as the entry of a model, on two dummy buffers; returns
// qr_model_run_buffers' status (the message is qr_last_error()).
int runInModel(qr_model_entry body) {
  ModelPtr model(qr_model_from_symbols(kOneBufferSignature, body));
  if (!model)
    return -2;
  float x[4] = {}, y[4] = {};
  void *buffers[] = {x, y};
  return qr_model_run_buffers(model.get(), 2, buffers);
}

std::vector<uint8_t> randomBytes(size_t count, unsigned seed) {
  std::mt19937 generator(seed);
  std::vector<uint8_t> bytes(count);
  for (uint8_t &byte : bytes)
    byte = uint8_t(generator());
  return bytes;
}

//===----------------------------------------------------------------------===//
// qr_model_run_buffers (no GPU needed)
//===----------------------------------------------------------------------===//

int32_t copyEntry(void **buffers) {
  std::memcpy(buffers[1], buffers[0], 4 * sizeof(float));
  return 0;
}

TEST(ModelRunBuffers, RunsOnRawBuffers) {
  ModelPtr model(qr_model_from_symbols(kOneBufferSignature, copyEntry));
  ASSERT_TRUE(model) << qr_last_error();
  float x[4] = {1, 2, 3, 4}, y[4] = {};
  void *buffers[] = {x, y};
  ASSERT_EQ(qr_model_run_buffers(model.get(), 2, buffers), 0)
      << qr_last_error();
  EXPECT_EQ(y[3], 4.0f);
}

TEST(ModelRunBuffers, RejectsBadBuffers) {
  ModelPtr model(qr_model_from_symbols(kOneBufferSignature, copyEntry));
  ASSERT_TRUE(model) << qr_last_error();
  float x[4] = {}, y[4] = {};
  void *buffers[] = {x, y};
  EXPECT_EQ(qr_model_run_buffers(model.get(), 1, buffers), -1);
  EXPECT_EQ(lastError(), "linked-in model takes 2 buffers (1 inputs, then 1 "
                         "outputs), got 1");
  EXPECT_EQ(qr_model_run_buffers(model.get(), 2, nullptr), -1);
  EXPECT_EQ(lastError(), "linked-in model takes 2 buffers (1 inputs, then 1 "
                         "outputs), got a null array");
  void *withNull[] = {x, nullptr};
  EXPECT_EQ(qr_model_run_buffers(model.get(), 2, withNull), -1);
  EXPECT_EQ(lastError(), "the buffer of output 'y' is null");
  void *aliased[] = {x, x};
  EXPECT_EQ(qr_model_run_buffers(model.get(), 2, aliased), -1);
  EXPECT_EQ(lastError(), "output 'y' has the same buffer as input 'x'");
  EXPECT_EQ(qr_model_run_buffers(nullptr, 2, buffers), -1);
}

const char kGpuSignature[] = "quant-model 1\n"
                             "input x float32 [4]\n"
                             "output y float32 [4]\n"
                             "device cuda\n";

TEST(ModelDevice, SignatureDeclaresTheDevice) {
  ModelPtr cpu(qr_model_from_symbols(kOneBufferSignature, copyEntry));
  ASSERT_TRUE(cpu) << qr_last_error();
  EXPECT_STREQ(qr_model_device(cpu.get()), "cpu");
  ModelPtr gpu(qr_model_from_symbols(kGpuSignature, copyEntry));
  ASSERT_TRUE(gpu) << qr_last_error();
  EXPECT_STREQ(qr_model_device(gpu.get()), "cuda");
  EXPECT_EQ(qr_model_num_inputs(gpu.get()), 1);
  EXPECT_EQ(qr_model_device(nullptr), nullptr);

  EXPECT_EQ(qr_model_from_symbols("quant-model 1\noutput y float32 []\n"
                                  "device tpu\n",
                                  copyEntry),
            nullptr);
  EXPECT_EQ(lastError(), "invalid model signature: line 3: unknown device "
                         "'tpu' (expected cpu or cuda)");
  EXPECT_EQ(qr_model_from_symbols("quant-model 1\ndevice cuda\n"
                                  "output y float32 []\ndevice cuda\n",
                                  copyEntry),
            nullptr);
  EXPECT_EQ(lastError(),
            "invalid model signature: line 4: duplicate device line");
}

TEST(ModelDevice, HostTensorsAreRefusedForAGpuModel) {
  ModelPtr gpu(qr_model_from_symbols(kGpuSignature, copyEntry));
  ASSERT_TRUE(gpu) << qr_last_error();
  int64_t shape[] = {4};
  qr_tensor *x = qr_tensor_create(QR_F32, 1, shape);
  qr_tensor *y = qr_tensor_create(QR_F32, 1, shape);
  EXPECT_EQ(qr_model_run(gpu.get(), 1, &x, 1, &y), -1);
  EXPECT_EQ(lastError(), "linked-in model runs on the GPU (its signature says "
                         "'device cuda'): run it on device buffers with "
                         "qr_model_run_buffers, or with quant-run --device "
                         "cuda");
  qr_tensor_destroy(x);
  qr_tensor_destroy(y);
}

// Runs qr_driver_main; returns its status, stdout and stderr.
struct DriverResult {
  int status;
  std::string out, err;
};
DriverResult runDriver(qr_model *model, std::vector<const char *> args) {
  args.insert(args.begin(), "model");
  args.push_back(nullptr);
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  int status = qr_driver_main(int(args.size() - 1),
                              const_cast<char **>(args.data()), model);
  std::string out = testing::internal::GetCapturedStdout();
  return {status, out, testing::internal::GetCapturedStderr()};
}

TEST(ModelDevice, DriverFollowsTheModel) {
  ModelPtr gpu(qr_model_from_symbols(kGpuSignature, copyEntry));
  ASSERT_TRUE(gpu) << qr_last_error();
  DriverResult inspect = runDriver(gpu.get(), {"--inspect"});
  EXPECT_EQ(inspect.status, 0);
  EXPECT_NE(inspect.out.find("\ndevice cuda\n"), std::string::npos)
      << inspect.out;
  DriverResult help = runDriver(gpu.get(), {"--help"});
  EXPECT_NE(help.out.find("this\n                            one: cuda)"),
            std::string::npos)
      << help.out;
  DriverResult onCpu = runDriver(gpu.get(), {"--device", "cpu"});
  EXPECT_EQ(onCpu.status, 2);
  EXPECT_EQ(onCpu.err.rfind("model: error: the model is compiled for the GPU "
                            "(its signature says 'device cuda'); it cannot "
                            "run with --device cpu\n",
                            0),
            0u)
      << onCpu.err;
  // And a CPU model, whose code reads host pointers, not on the GPU.
  ModelPtr cpu(qr_model_from_symbols(kOneBufferSignature, copyEntry));
  ASSERT_TRUE(cpu) << qr_last_error();
  DriverResult onGpu = runDriver(cpu.get(), {"--device", "cuda"});
  EXPECT_EQ(onGpu.status, 2);
  EXPECT_EQ(onGpu.err.rfind("model: error: the model is compiled for the CPU "
                            "(its signature has no 'device cuda' line); run "
                            "it with --device cpu, or compile it with "
                            "--qnn-lower-to-gpu\n",
                            0),
            0u)
      << onGpu.err;
}

//===----------------------------------------------------------------------===//
// Without CUDA: every call fails cleanly, with the reason.
//===----------------------------------------------------------------------===//

// The reasons CudaDriver gives, whichever applies to this machine.
bool namesTheCause(const std::string &message) {
  for (const char *cause : {"no CUDA driver: ", "cuInit: ", "no CUDA device",
                            "this runtime was built without CUDA",
                            "QUANT_CUDA_DEVICE=", "CUDA driver '"})
    if (message.find(cause) != std::string::npos)
      return true;
  return false;
}

TEST(CudaNoDevice, InitFailsWithTheReason) {
  SKIP_WITH_CUDA();
  EXPECT_EQ(qr_cuda_init(), -1);
  std::string reason = lastError();
  EXPECT_TRUE(namesTheCause(reason)) << reason;
  // Remembered: the second attempt gives the same reason without retrying.
  EXPECT_EQ(qr_cuda_init(), -1);
  EXPECT_EQ(lastError(), reason);
  EXPECT_EQ(qr_cuda_device_name(), nullptr);
}

TEST(CudaNoDevice, EveryCallFails) {
  SKIP_WITH_CUDA();
  qr_cuda_init();
  const std::string reason = lastError();
  uint8_t host[16] = {};
  int fake = 0;
  void *notDevice = &fake;

  EXPECT_EQ(qr_cuda_malloc(64), nullptr);
  EXPECT_EQ(lastError(), reason);
  EXPECT_EQ(qr_cuda_memcpy_htod(notDevice, host, sizeof(host)), -1);
  EXPECT_EQ(lastError(), reason);
  EXPECT_EQ(qr_cuda_memcpy_dtoh(host, notDevice, sizeof(host)), -1);
  EXPECT_EQ(qr_cuda_memcpy_dtod(notDevice, notDevice, sizeof(host)), -1);
  EXPECT_EQ(qr_cuda_memset_d8(notDevice, 0, 16), -1);
  EXPECT_EQ(qr_cuda_synchronize(), -1);
  EXPECT_EQ(qr_cuda_stream(), nullptr);
  EXPECT_EQ(qr_cuda_timer_start(), -1);
  EXPECT_LT(qr_cuda_timer_stop(), 0);
  EXPECT_EQ(lastError(), reason);
  qr_cuda_free(nullptr);
  qr_cuda_free(notDevice);                    // not even looked at
  qr_cuda_release_constants(host, host + 16); // nothing cached
  EXPECT_EQ(qr_cuda_constant(host, sizeof(host)), nullptr);
}

TEST(CudaNoDevice, ConstantFailsTheModelRun) {
  SKIP_WITH_CUDA();
  int status = runInModel([](void **) -> int32_t {
    static const float weights[4] = {1, 2, 3, 4};
    qr_cuda_constant(weights, sizeof(weights));
    return 0;
  });
  EXPECT_EQ(status, -1);
  EXPECT_NE(lastError().find("linked-in model failed: qr_cuda_constant: "),
            std::string::npos)
      << lastError();
  EXPECT_TRUE(namesTheCause(lastError())) << lastError();
}

TEST(CudaNoDevice, ScalarReadsAndWritesFailTheModelRun) {
  SKIP_WITH_CUDA();
  static int64_t value = 42;
  int status = runInModel([](void **) -> int32_t {
    int64_t slot = 7, device = 0;
    qr_cuda_read(&slot, &device, sizeof slot);
    value = slot; // zeroed: a failed read never leaves stale bytes
    qr_cuda_write(&device, &slot, sizeof slot);
    return 0;
  });
  EXPECT_EQ(status, -1);
  EXPECT_EQ(value, 0);
  EXPECT_EQ(lastError().rfind("linked-in model failed: qr_cuda_read: ", 0), 0u)
      << lastError();
}

TEST(CudaNoDevice, MgpuCallsFailTheModelRun) {
  SKIP_WITH_CUDA();
  // What a compiled GPU model does, in order; each call must fail softly
  // and the run report the first failure.
  int status = runInModel([](void **buffers) -> int32_t {
    static const char ptx[] = ".version 7.0\n.target sm_80\n";
    void *module = mgpuModuleLoad(const_cast<char *>(ptx), sizeof(ptx));
    void *stream = mgpuStreamCreate();
    void *device = mgpuMemAlloc(16, stream, false);
    mgpuMemcpy(device, buffers[0], 16, stream);
    mgpuMemset32(device, 0, 4, stream);
    mgpuMemset16(device, 0, 8, stream);
    void *function = mgpuModuleGetFunction(module, "add_one");
    void *params[] = {&device};
    mgpuLaunchKernel(function, 1, 1, 1, 4, 1, 1, 0, stream, params, nullptr, 1);
    void *event = mgpuEventCreate();
    mgpuEventRecord(event, stream);
    mgpuStreamWaitEvent(stream, event);
    mgpuEventSynchronize(event);
    mgpuEventDestroy(event);
    mgpuMemcpy(buffers[1], device, 16, stream);
    mgpuMemFree(device, stream);
    mgpuStreamSynchronize(stream);
    mgpuStreamDestroy(stream);
    mgpuModuleUnload(module);
    mgpuSetDefaultDevice(0);
    return 0;
  });
  EXPECT_EQ(status, -1);
  std::string message = lastError();
  EXPECT_EQ(message.rfind("linked-in model failed: mgpuStreamCreate: ", 0), 0u)
      << message;
  EXPECT_TRUE(namesTheCause(message)) << message;
}

TEST(CudaNoDevice, DriverSaysWhy) {
  SKIP_WITH_CUDA();
  qr_cuda_init();
  std::string reason = lastError();
  ModelPtr model(qr_model_from_symbols(kGpuSignature, copyEntry));
  ASSERT_TRUE(model) << qr_last_error();
  const char *argv[] = {"model", "--device", "cuda", nullptr};
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  int status = qr_driver_main(3, const_cast<char **>(argv), model.get());
  testing::internal::GetCapturedStdout();
  std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(status, 1);
  EXPECT_EQ(err, "model: error: --device cuda: " + reason + "\n");

  // A GPU model goes to the GPU without --device.
  ModelPtr gpu(qr_model_from_symbols(kGpuSignature, copyEntry));
  ASSERT_TRUE(gpu) << qr_last_error();
  DriverResult byDefault = runDriver(gpu.get(), {});
  EXPECT_EQ(byDefault.status, 1);
  EXPECT_EQ(byDefault.err, "model: error: --device cuda: " + reason + "\n");

  const char *bad[] = {"model", "--device", "tpu", nullptr};
  testing::internal::CaptureStderr();
  status = qr_driver_main(3, const_cast<char **>(bad), model.get());
  err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(status, 2);
  EXPECT_NE(err.find("invalid value 'tpu' for --device: expected cpu or cuda"),
            std::string::npos)
      << err;
}

//===----------------------------------------------------------------------===//
// With a GPU.
//===----------------------------------------------------------------------===//

TEST(CudaDevice, DescribesTheDevice) {
  SKIP_WITHOUT_CUDA();
  const char *name = qr_cuda_device_name();
  ASSERT_NE(name, nullptr);
  EXPECT_NE(std::string(name).find("(sm_"), std::string::npos) << name;
  EXPECT_NE(qr_cuda_stream(), nullptr);
}

TEST(CudaDevice, MemcpyRoundTrip) {
  SKIP_WITHOUT_CUDA();
  for (size_t bytes : {size_t(1), size_t(12345), size_t(1) << 20}) {
    std::vector<uint8_t> data = randomBytes(bytes, unsigned(bytes));
    void *device = qr_cuda_malloc(bytes);
    ASSERT_NE(device, nullptr) << qr_last_error();
    ASSERT_EQ(qr_cuda_memcpy_htod(device, data.data(), bytes), 0)
        << qr_last_error();
    void *copy = qr_cuda_malloc(bytes);
    ASSERT_NE(copy, nullptr) << qr_last_error();
    ASSERT_EQ(qr_cuda_memcpy_dtod(copy, device, bytes), 0) << qr_last_error();
    std::vector<uint8_t> back(bytes);
    ASSERT_EQ(qr_cuda_memcpy_dtoh(back.data(), copy, bytes), 0)
        << qr_last_error();
    EXPECT_EQ(back, data) << bytes << " bytes";
    qr_cuda_free(device);
    qr_cuda_free(copy);
  }
  void *empty = qr_cuda_malloc(0);
  EXPECT_NE(empty, nullptr) << qr_last_error();
  qr_cuda_free(empty);
}

TEST(CudaDevice, ScalarReadAndWrite) {
  SKIP_WITHOUT_CUDA();
  void *device = qr_cuda_malloc(16);
  ASSERT_NE(device, nullptr) << qr_last_error();
  const int64_t values[2] = {-3, 123456789012345};
  for (int i = 0; i < 2; ++i)
    qr_cuda_write(static_cast<int64_t *>(device) + i, &values[i], 8);
  int64_t back = 0;
  qr_cuda_read(&back, static_cast<int64_t *>(device) + 1, 8);
  EXPECT_EQ(back, values[1]);
  qr_cuda_read(&back, device, 8);
  EXPECT_EQ(back, values[0]);
  EXPECT_EQ(qr_take_kernel_error(), nullptr);
  qr_cuda_free(device);
}

TEST(CudaDevice, Memset) {
  SKIP_WITHOUT_CUDA();
  const size_t bytes = 4099;
  void *device = qr_cuda_malloc(bytes);
  ASSERT_NE(device, nullptr) << qr_last_error();
  ASSERT_EQ(qr_cuda_memset_d8(device, 0xab, bytes), 0) << qr_last_error();
  ASSERT_EQ(qr_cuda_memset_d8(static_cast<uint8_t *>(device) + 7, 0x01, 3), 0);
  std::vector<uint8_t> back(bytes);
  ASSERT_EQ(qr_cuda_memcpy_dtoh(back.data(), device, bytes), 0)
      << qr_last_error();
  for (size_t i = 0; i < bytes; ++i)
    ASSERT_EQ(back[i], i >= 7 && i < 10 ? 0x01 : 0xab) << "byte " << i;
  EXPECT_EQ(qr_cuda_synchronize(), 0) << qr_last_error();
  qr_cuda_free(device);
}

TEST(CudaDevice, ConstantCache) {
  SKIP_WITHOUT_CUDA();
  static std::vector<uint8_t> weights = randomBytes(100000, 7);
  void *first = qr_cuda_constant(weights.data(), 5000);
  ASSERT_NE(first, nullptr) << qr_last_error();
  EXPECT_EQ(qr_cuda_constant(weights.data(), 5000), first);
  EXPECT_EQ(qr_cuda_constant(weights.data(), 100), first); // a prefix
  std::vector<uint8_t> back(5000);
  ASSERT_EQ(qr_cuda_memcpy_dtoh(back.data(), first, back.size()), 0)
      << qr_last_error();
  EXPECT_TRUE(std::equal(back.begin(), back.end(), weights.begin()));

  // A longer request for the same address gets a complete copy.
  void *longer = qr_cuda_constant(weights.data(), weights.size());
  ASSERT_NE(longer, nullptr) << qr_last_error();
  back.resize(weights.size());
  ASSERT_EQ(qr_cuda_memcpy_dtoh(back.data(), longer, back.size()), 0)
      << qr_last_error();
  EXPECT_EQ(back, weights);

  // Released with its range, then uploaded again from the (changed) host
  // data: the cache must not serve the old copy.
  qr_cuda_release_constants(weights.data(), weights.data() + weights.size());
  weights[0] ^= 0xff;
  void *again = qr_cuda_constant(weights.data(), 16);
  ASSERT_NE(again, nullptr) << qr_last_error();
  uint8_t head[16];
  ASSERT_EQ(qr_cuda_memcpy_dtoh(head, again, sizeof(head)), 0);
  EXPECT_EQ(head[0], weights[0]);
  qr_cuda_release_constants(weights.data(), weights.data() + weights.size());
}

TEST(CudaDevice, Timer) {
  SKIP_WITHOUT_CUDA();
  EXPECT_LT(qr_cuda_timer_stop(), 0); // not started
  EXPECT_NE(lastError().find("not started"), std::string::npos);
  const size_t bytes = size_t(64) << 20;
  void *device = qr_cuda_malloc(bytes);
  ASSERT_NE(device, nullptr) << qr_last_error();
  ASSERT_EQ(qr_cuda_timer_start(), 0) << qr_last_error();
  ASSERT_EQ(qr_cuda_memset_d8(device, 1, bytes), 0);
  double milliseconds = qr_cuda_timer_stop();
  EXPECT_GT(milliseconds, 0.0) << qr_last_error();
  EXPECT_LT(milliseconds, 1000.0);
  qr_cuda_free(device);
}

TEST(CudaDevice, MgpuMemory) {
  SKIP_WITHOUT_CUDA();
  int status = runInModel([](void **) -> int32_t {
    void *stream = mgpuStreamCreate();
    if (stream != qr_cuda_stream())
      return 1;
    std::vector<uint32_t> host(1000);
    for (size_t i = 0; i < host.size(); ++i)
      host[i] = uint32_t(i * 2654435761u);
    size_t bytes = host.size() * sizeof(uint32_t);
    void *device = mgpuMemAlloc(bytes, stream, false);
    if (!device)
      return 2;
    mgpuMemcpy(device, host.data(), bytes, stream);
    // Words 10..19 to 0xdeadbeef, then halfwords 40..43 (words 20, 21) to
    // 0x1234.
    mgpuMemset32(static_cast<uint32_t *>(device) + 10, 0xdeadbeefu, 10, stream);
    mgpuMemset16(static_cast<uint16_t *>(device) + 40, 0x1234, 4, stream);
    std::vector<uint32_t> back(host.size());
    mgpuMemcpy(back.data(), device, bytes, stream);
    mgpuStreamSynchronize(stream);
    mgpuMemFree(device, stream);
    void *shared = mgpuMemAlloc(64, stream, true); // managed
    mgpuMemFree(shared, stream);
    mgpuStreamDestroy(stream);
    for (size_t i = 0; i < host.size(); ++i) {
      uint32_t expected = i >= 10 && i < 20    ? 0xdeadbeefu
                          : i == 20 || i == 21 ? 0x12341234u
                                               : host[i];
      if (back[i] != expected)
        return 3;
    }
    return 0;
  });
  EXPECT_EQ(status, 0) << qr_last_error();
}

// y[i] += 1 for i < n: enough PTX to check loading, lookup and launch.
const char kAddOnePtx[] = R"(.version 7.0
.target sm_80
.address_size 64
.visible .entry add_one(.param .u64 add_one_data, .param .u32 add_one_n)
{
  .reg .pred %p<2>;
  .reg .b32 %r<6>;
  .reg .f32 %f<3>;
  .reg .b64 %rd<5>;
  ld.param.u64 %rd1, [add_one_data];
  ld.param.u32 %r1, [add_one_n];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.u32 %p1, %r5, %r1;
  @%p1 bra DONE;
  cvta.to.global.u64 %rd2, %rd1;
  mul.wide.u32 %rd3, %r5, 4;
  add.s64 %rd4, %rd2, %rd3;
  ld.global.f32 %f1, [%rd4];
  add.f32 %f2, %f1, 0f3F800000;
  st.global.f32 [%rd4], %f2;
DONE:
  ret;
}
)";

// Loads kAddOnePtx with `jit` (mgpuModuleLoadJIT) or mgpuModuleLoad and
// adds one to 1000 floats twice (the second lookup hits the cache).
int32_t addOneWith(bool jit) {
  void *module =
      jit ? mgpuModuleLoadJIT(const_cast<char *>(kAddOnePtx), 2)
          : mgpuModuleLoad(const_cast<char *>(kAddOnePtx), sizeof(kAddOnePtx));
  void *stream = mgpuStreamCreate();
  std::vector<float> host(1000);
  for (size_t i = 0; i < host.size(); ++i)
    host[i] = float(i);
  size_t bytes = host.size() * sizeof(float);
  void *device = mgpuMemAlloc(bytes, stream, false);
  mgpuMemcpy(device, host.data(), bytes, stream);
  uint32_t n = uint32_t(host.size());
  void *params[] = {&device, &n};
  for (int launch = 0; launch < 2; ++launch) {
    void *function = mgpuModuleGetFunction(module, "add_one");
    mgpuLaunchKernel(function, 8, 1, 1, 128, 1, 1, 0, stream, params, nullptr,
                     2);
  }
  mgpuMemcpy(host.data(), device, bytes, stream);
  mgpuStreamSynchronize(stream);
  mgpuMemFree(device, stream);
  mgpuModuleUnload(module);
  for (size_t i = 0; i < host.size(); ++i)
    if (host[i] != float(i) + 2)
      return 1;
  return 0;
}

TEST(CudaDevice, MgpuLaunchPtx) {
  SKIP_WITHOUT_CUDA();
  EXPECT_EQ(runInModel([](void **) { return addOneWith(false); }), 0)
      << qr_last_error();
  EXPECT_EQ(runInModel([](void **) { return addOneWith(true); }), 0)
      << qr_last_error();
}

TEST(CudaDevice, MgpuErrorsFailTheRun) {
  SKIP_WITHOUT_CUDA();
  // An unknown kernel name.
  EXPECT_EQ(runInModel([](void **) -> int32_t {
              void *module = mgpuModuleLoad(const_cast<char *>(kAddOnePtx),
                                            sizeof(kAddOnePtx));
              void *function = mgpuModuleGetFunction(module, "no_such_kernel");
              mgpuLaunchKernel(function, 1, 1, 1, 1, 1, 1, 0,
                               mgpuStreamCreate(), nullptr, nullptr, 0);
              mgpuModuleUnload(module);
              return 0;
            }),
            -1);
  EXPECT_EQ(lastError(), "linked-in model failed: "
                         "cuModuleGetFunction(no_such_kernel): "
                         "CUDA_ERROR_NOT_FOUND (named symbol not found)");
  // PTX the JIT rejects: the message carries its log.
  EXPECT_EQ(runInModel([](void **) -> int32_t {
              static char bad[] = ".version 7.0\n.target sm_80\n"
                                  ".address_size 64\nthis is not ptx\n";
              void *module = mgpuModuleLoadJIT(bad, 2);
              mgpuModuleGetFunction(module, "add_one");
              mgpuModuleUnload(module);
              return 0;
            }),
            -1);
  EXPECT_NE(lastError().find("mgpuModuleGetFunction: cannot load the model's "
                             "GPU module for kernel 'add_one': "
                             "cuModuleLoadDataEx(PTX): "),
            std::string::npos)
      << lastError();
  // A block too large for any GPU.
  EXPECT_EQ(runInModel([](void **) -> int32_t {
              void *module = mgpuModuleLoad(const_cast<char *>(kAddOnePtx),
                                            sizeof(kAddOnePtx));
              void *function = mgpuModuleGetFunction(module, "add_one");
              void *device = nullptr;
              uint32_t n = 0;
              void *params[] = {&device, &n};
              mgpuLaunchKernel(function, 1, 1, 1, 4096, 1, 1, 0,
                               mgpuStreamCreate(), params, nullptr, 2);
              mgpuLaunchKernel(function, 0, 1, 1, 1, 1, 1, 0,
                               mgpuStreamCreate(), params, nullptr, 2);
              mgpuModuleUnload(module);
              return 0;
            }),
            -1);
  EXPECT_EQ(lastError().rfind("linked-in model failed: cuLaunchKernel: "
                              "CUDA_ERROR_INVALID_VALUE",
                              0),
            0u)
      << lastError();
  // A device the runtime does not use.
  EXPECT_EQ(runInModel([](void **) -> int32_t {
              mgpuSetDefaultDevice(1000);
              return 0;
            }),
            -1);
  EXPECT_NE(lastError().find("set QUANT_CUDA_DEVICE"), std::string::npos);
  // And the runtime still works afterwards.
  EXPECT_EQ(runInModel([](void **) { return addOneWith(false); }), 0)
      << qr_last_error();
}

} // namespace
