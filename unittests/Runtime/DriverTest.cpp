//===- DriverTest.cpp - qr_driver_main end to end -------------------------===//
//
// Runs the command-line driver on the test model (y = x * s) through argv
// arrays, with real .npy files in a scratch directory.
//
//===----------------------------------------------------------------------===//

#include "quant/Runtime/Runtime.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

struct TensorDeleter {
  void operator()(qr_tensor *tensor) const { qr_tensor_destroy(tensor); }
};
using TensorPtr = std::unique_ptr<qr_tensor, TensorDeleter>;

struct DriverResult {
  int status;
  std::string out;
  std::string err;
};

class DriverTest : public testing::Test {
protected:
  void SetUp() override {
    char pattern[] = "/tmp/quant-driver-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir = pattern;
    model = qr_model_load(QUANT_TEST_MODELS_DIR "/test_model.so");
    ASSERT_NE(model, nullptr) << qr_last_error();
    std::vector<float> x = {1, 2, 3, 4, 5, 6};
    save("x.npy", QR_F32, {2, 3}, x.data());
    float s = 2.5f;
    save("s.npy", QR_F32, {}, &s);
    std::vector<double> x64(6, 1.0);
    save("x64.npy", QR_F64, {2, 3}, x64.data());
    save("x32.npy", QR_F32, {3, 2}, x.data());
  }

  void TearDown() override {
    qr_model_destroy(model);
    std::string command = "rm -rf '" + dir + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }

  std::string path(const char *name) const { return dir + "/" + name; }

  void save(const char *name, qr_dtype dtype, std::vector<int64_t> shape,
            const void *values) {
    TensorPtr tensor(
        qr_tensor_create(dtype, int32_t(shape.size()), shape.data()));
    ASSERT_TRUE(tensor);
    std::memcpy(qr_tensor_data(tensor.get()), values,
                qr_tensor_num_bytes(tensor.get()));
    ASSERT_EQ(qr_npy_save(path(name).c_str(), tensor.get()), 0);
  }

  // Runs "prog ARGS..." ("@NAME" stands for a file in the scratch dir).
  DriverResult drive(std::vector<std::string> args, qr_model *which = nullptr) {
    std::vector<std::string> storage = {"prog"};
    for (std::string &arg : args) {
      size_t at = arg.find('@');
      if (at != std::string::npos)
        arg = arg.substr(0, at) + dir + "/" + arg.substr(at + 1);
      storage.push_back(arg);
    }
    std::vector<char *> argv;
    for (std::string &arg : storage)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    int status =
        qr_driver_main(int(storage.size()), argv.data(), which ? which : model);
    std::string out = testing::internal::GetCapturedStdout();
    std::string err = testing::internal::GetCapturedStderr();
    return {status, out, err};
  }

  std::string dir;
  qr_model *model = nullptr;
};

testing::AssertionResult contains(const std::string &text,
                                  const std::string &part) {
  if (text.find(part) != std::string::npos)
    return testing::AssertionSuccess();
  return testing::AssertionFailure() << "'" << part << "' is not in:\n" << text;
}

TEST_F(DriverTest, WritesTheOutput) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--input", "x=@x.npy", "--input", "s=@s.npy", "--output",
            "y=@y.npy"},
           {"--input", "@x.npy", "--input", "@s.npy", "--output", "@y.npy"},
           {"--input=s=@s.npy", "--input=@x.npy", "--output=@y.npy",
            "--threads", "2"},
       }) {
    DriverResult result = drive(args);
    ASSERT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err, "");
    TensorPtr y(qr_npy_load(path("y.npy").c_str()));
    ASSERT_TRUE(y) << qr_last_error();
    ASSERT_EQ(qr_tensor_dtype(y.get()), QR_F32);
    ASSERT_EQ(qr_tensor_num_elements(y.get()), 6);
    const auto *values = static_cast<const float *>(qr_tensor_data(y.get()));
    for (int i = 0; i < 6; ++i)
      EXPECT_EQ(values[i], float(i + 1) * 2.5f);
    std::remove(path("y.npy").c_str());
  }
  ASSERT_EQ(qr_set_num_threads(0), 0);
}

TEST_F(DriverTest, SummarisesOutputsNotWritten) {
  DriverResult result = drive({"--input", "@x.npy", "--input", "@s.npy"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "y: float32 [2, 3]  min 2.5  max 15  mean 8.75\n");
}

TEST_F(DriverTest, Benchmarks) {
  DriverResult result =
      drive({"--input", "@x.npy", "--input", "@s.npy", "--bench", "7",
             "--warmup", "2", "--threads", "1"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_TRUE(contains(result.out, "bench: 7 runs after 2 warm-up runs, 1 "
                                   "thread\n"));
  for (const char *label : {"\n  min ", "\n  median ", "\n  p90 ", "\n  p99 ",
                            "\n  mean ", "\n  runs/s "})
    EXPECT_TRUE(contains(result.out, label));
  ASSERT_EQ(qr_set_num_threads(0), 0);
}

TEST_F(DriverTest, InspectsAndHelps) {
  DriverResult inspect = drive({"--inspect"});
  EXPECT_EQ(inspect.status, 0);
  EXPECT_EQ(inspect.out, "input  x  float32 [2, 3]  (6 elements, 24 bytes)\n"
                         "input  s  float32 []      (1 elements, 4 bytes)\n"
                         "output y  float32 [2, 3]  (6 elements, 24 bytes)\n");
  DriverResult help = drive({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(contains(help.out, "usage: prog [options]\n"));
  EXPECT_TRUE(contains(help.out, "  input  x  float32 [2, 3]\n"));
  EXPECT_TRUE(contains(help.out,
                       "prog --input x=x.npy --input s=s.npy --output "
                       "y=y.npy\n"));
  EXPECT_TRUE(contains(help.out, "np.save('x.npy', np.zeros((2, 3), "
                                 "np.float32))"));
}

TEST_F(DriverTest, UsageErrorsExitWithTwo) {
  const struct {
    std::vector<std::string> args;
    const char *error;
  } cases[] = {
      {{"--bogus"},
       "prog: error: unknown option '--bogus'\n"
       "(run 'prog --help' for usage)\n"},
      {{"stray"}, "prog: error: unexpected argument 'stray'\n"},
      {{"--input"}, "prog: error: --input needs a value\n"},
      {{"--bench", "0"},
       "prog: error: invalid value '0' for --bench: "
       "expected an integer from 1 to 10000000\n"},
      {{"--threads=x"}, "prog: error: invalid value 'x' for --threads"},
      {{"--threads", "5000"},
       "prog: error: --threads: invalid thread count 5000 (expected 0 to "
       "1024, 0 = all CPUs)\n"},
      {{"--inspect=yes"}, "prog: error: --inspect takes no value\n"},
      {{"--input", "z=@x.npy"},
       "prog: error: unknown input 'z' in --input z=" /* dir */},
      {{"--input", "x=@x.npy", "--input", "x=@x.npy"},
       "prog: error: input 'x' is given twice\n"},
      {{"--input", "@x.npy", "--input", "@s.npy", "--input", "@s.npy"},
       "prog: error: too many --input files: the model has 2 inputs (x, s)\n"},
      {{"--input", "x="}, "prog: error: --input 'x=' names no file\n"},
      {{"--input", "@x.npy", "--output", "w=@w.npy"},
       "prog: error: unknown output 'w' in --output w="},
      {{"--input", "@x.npy"},
       "prog: error: missing input 's'; the model takes:\n"
       "  --input x=FILE.npy  float32 [2, 3]\n"
       "  --input s=FILE.npy  float32 []\n"},
      {{}, "prog: error: missing inputs 'x', 's'; the model takes:\n"},
  };
  for (const auto &[args, error] : cases) {
    DriverResult result = drive(args);
    EXPECT_EQ(result.status, 2) << args.size();
    EXPECT_TRUE(contains(result.err, error));
    EXPECT_EQ(result.out, "");
  }
}

TEST_F(DriverTest, FileAndModelErrorsExitWithOne) {
  const struct {
    std::vector<std::string> args;
    std::string error;
  } cases[] = {
      {{"--input", "@missing.npy", "--input", "@s.npy"},
       "prog: error: input 'x': cannot open '" + path("missing.npy") + "'\n"},
      {{"--input", "@x64.npy", "--input", "@s.npy"},
       "prog: error: input 'x': '" + path("x64.npy") +
           "' holds float64 [2, 3], the model expects float32 [2, 3]\n"},
      {{"--input", "@x32.npy", "--input", "@s.npy"},
       "prog: error: input 'x': '" + path("x32.npy") +
           "' holds float32 [3, 2], the model expects float32 [2, 3]\n"},
      {{"--input", "@x.npy", "--input", "@s.npy", "--output",
        "@no/such/dir/y.npy"},
       "prog: error: output 'y': "},
  };
  for (const auto &[args, error] : cases) {
    DriverResult result = drive(args);
    EXPECT_EQ(result.status, 1);
    EXPECT_TRUE(contains(result.err, error));
  }

  qr_model *failing =
      qr_model_load(QUANT_TEST_MODELS_DIR "/test_model_failing.so");
  ASSERT_NE(failing, nullptr) << qr_last_error();
  DriverResult result =
      drive({"--input", "@x.npy", "--input", "@s.npy"}, failing);
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(contains(result.err, "failed: quant_model_run returned 7\n"));
  qr_model_destroy(failing);
}

TEST_F(DriverTest, ReportsANullModel) {
  qr_model *broken = qr_model_from_symbols("quant-model 9\n", nullptr);
  ASSERT_EQ(broken, nullptr);
  char program[] = "prog";
  char *argv[] = {program, nullptr};
  testing::internal::CaptureStderr();
  EXPECT_EQ(qr_driver_main(1, argv, nullptr), 1);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            "prog: error: qr_model_from_symbols: null signature or entry\n");
}

} // namespace
