//===- ModelTest.cpp - loading, describing and running compiled models ----===//

#include "quant/Runtime/Runtime.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

std::string modelPath(const char *name) {
  return std::string(QUANT_TEST_MODELS_DIR) + "/" + name + ".so";
}

struct ModelDeleter {
  void operator()(qr_model *model) const { qr_model_destroy(model); }
};
using ModelPtr = std::unique_ptr<qr_model, ModelDeleter>;

struct TensorDeleter {
  void operator()(qr_tensor *tensor) const { qr_tensor_destroy(tensor); }
};
using TensorPtr = std::unique_ptr<qr_tensor, TensorDeleter>;

TensorPtr makeTensor(qr_dtype dtype, std::vector<int64_t> shape) {
  return TensorPtr(
      qr_tensor_create(dtype, int32_t(shape.size()), shape.data()));
}

std::string lastError() { return qr_last_error(); }

TEST(ModelTest, DescribesTheSignature) {
  ModelPtr model(qr_model_load(modelPath("test_model").c_str()));
  ASSERT_TRUE(model) << qr_last_error();
  ASSERT_EQ(qr_model_num_inputs(model.get()), 2);
  ASSERT_EQ(qr_model_num_outputs(model.get()), 1);
  EXPECT_STREQ(qr_model_input_name(model.get(), 0), "x");
  EXPECT_EQ(qr_model_input_dtype(model.get(), 0), QR_F32);
  ASSERT_EQ(qr_model_input_rank(model.get(), 0), 2);
  EXPECT_EQ(qr_model_input_shape(model.get(), 0)[0], 2);
  EXPECT_EQ(qr_model_input_shape(model.get(), 0)[1], 3);
  EXPECT_STREQ(qr_model_input_name(model.get(), 1), "s");
  EXPECT_EQ(qr_model_input_rank(model.get(), 1), 0);
  EXPECT_NE(qr_model_input_shape(model.get(), 1), nullptr);
  EXPECT_STREQ(qr_model_output_name(model.get(), 0), "y");
  EXPECT_EQ(qr_model_output_dtype(model.get(), 0), QR_F32);
  EXPECT_EQ(qr_model_output_rank(model.get(), 0), 2);

  EXPECT_EQ(qr_model_input_name(model.get(), 2), nullptr);
  EXPECT_EQ(lastError(), "input index 2 out of range (the model has 2 inputs)");
  EXPECT_EQ(qr_model_output_dtype(model.get(), -1), QR_DTYPE_INVALID);
  EXPECT_EQ(lastError(),
            "output index -1 out of range (the model has 1 outputs)");
  EXPECT_EQ(qr_model_output_rank(model.get(), 1), -1);
  EXPECT_EQ(qr_model_output_shape(model.get(), 1), nullptr);
  EXPECT_EQ(qr_model_num_inputs(nullptr), -1);
}

class RunTest : public testing::Test {
protected:
  void SetUp() override {
    model.reset(qr_model_load(modelPath("test_model").c_str()));
    ASSERT_TRUE(model) << qr_last_error();
    x = makeTensor(QR_F32, {2, 3});
    s = makeTensor(QR_F32, {});
    y = makeTensor(QR_F32, {2, 3});
    auto *xData = static_cast<float *>(qr_tensor_data(x.get()));
    for (int i = 0; i < 6; ++i)
      xData[i] = float(i) - 1.5f;
    *static_cast<float *>(qr_tensor_data(s.get())) = 2.5f;
  }

  int run(std::vector<qr_tensor *> inputs, std::vector<qr_tensor *> outputs) {
    return qr_model_run(model.get(), int32_t(inputs.size()), inputs.data(),
                        int32_t(outputs.size()), outputs.data());
  }

  ModelPtr model;
  TensorPtr x, s, y;
};

TEST_F(RunTest, ComputesTheOutput) {
  for (int32_t threads : {1, 2, 4}) {
    ASSERT_EQ(qr_set_num_threads(threads), 0);
    ASSERT_EQ(run({x.get(), s.get()}, {y.get()}), 0) << qr_last_error();
    const auto *yData = static_cast<const float *>(qr_tensor_data(y.get()));
    for (int i = 0; i < 6; ++i)
      EXPECT_EQ(yData[i], (float(i) - 1.5f) * 2.5f);
  }
  ASSERT_EQ(qr_set_num_threads(0), 0);
}

TEST_F(RunTest, RejectsAWrongDtype) {
  TensorPtr x64 = makeTensor(QR_F64, {2, 3});
  EXPECT_EQ(run({x64.get(), s.get()}, {y.get()}), -1);
  EXPECT_EQ(lastError(),
            "input 'x': expected float32 [2, 3], got float64 [2, 3]");
}

TEST_F(RunTest, RejectsAWrongShape) {
  TensorPtr transposed = makeTensor(QR_F32, {3, 2});
  EXPECT_EQ(run({transposed.get(), s.get()}, {y.get()}), -1);
  EXPECT_EQ(lastError(),
            "input 'x': expected float32 [2, 3], got float32 [3, 2]");
  TensorPtr vector = makeTensor(QR_F32, {1});
  EXPECT_EQ(run({x.get(), vector.get()}, {y.get()}), -1);
  EXPECT_EQ(lastError(), "input 's': expected float32 [], got float32 [1]");
  TensorPtr flat = makeTensor(QR_F32, {6});
  EXPECT_EQ(run({x.get(), s.get()}, {flat.get()}), -1);
  EXPECT_EQ(lastError(),
            "output 'y': expected float32 [2, 3], got float32 [6]");
}

TEST_F(RunTest, RejectsAWrongCount) {
  std::string path = modelPath("test_model");
  EXPECT_EQ(run({x.get()}, {y.get()}), -1);
  EXPECT_EQ(lastError(), "model '" + path + "' takes 2 inputs (x, s), got 1");
  EXPECT_EQ(run({x.get(), s.get(), s.get()}, {y.get()}), -1);
  EXPECT_EQ(lastError(), "model '" + path + "' takes 2 inputs (x, s), got 3");
  EXPECT_EQ(run({x.get(), s.get()}, {}), -1);
  EXPECT_EQ(lastError(), "model '" + path + "' takes 1 outputs (y), got 0");
  EXPECT_EQ(qr_model_run(model.get(), 2, nullptr, 1, nullptr), -1);
  EXPECT_EQ(lastError(),
            "model '" + path + "' takes 2 inputs (x, s), got a null array");
  EXPECT_EQ(run({x.get(), nullptr}, {y.get()}), -1);
  EXPECT_EQ(lastError(), "input 's' is null, expected float32 []");
  EXPECT_EQ(qr_model_run(nullptr, 0, nullptr, 0, nullptr), -1);
}

TEST_F(RunTest, RejectsAnOutputThatAliasesAnInput) {
  EXPECT_EQ(run({x.get(), s.get()}, {x.get()}), -1);
  EXPECT_EQ(lastError(), "output 'y' is the same tensor as input 'x'");
}

TEST(ModelTest, ReportsAFailingRun) {
  std::string path = modelPath("test_model_failing");
  ModelPtr model(qr_model_load(path.c_str()));
  ASSERT_TRUE(model) << qr_last_error();
  TensorPtr x = makeTensor(QR_F32, {2, 3}), s = makeTensor(QR_F32, {}),
            y = makeTensor(QR_F32, {2, 3});
  qr_tensor *inputs[] = {x.get(), s.get()};
  qr_tensor *outputs[] = {y.get()};
  EXPECT_EQ(qr_model_run(model.get(), 2, inputs, 1, outputs), -1);
  EXPECT_EQ(lastError(),
            "model '" + path + "' failed: quant_model_run returned 7");
}

TEST(ModelTest, LoadsARelativePathWithoutSlash) {
  char previous[4096];
  ASSERT_NE(getcwd(previous, sizeof(previous)), nullptr);
  ASSERT_EQ(chdir(QUANT_TEST_MODELS_DIR), 0);
  ModelPtr model(qr_model_load("test_model.so"));
  std::string error = qr_last_error();
  ASSERT_EQ(chdir(previous), 0);
  EXPECT_TRUE(model) << error;
}

TEST(ModelTest, LoadErrors) {
  EXPECT_EQ(qr_model_load("/nonexistent/model.so"), nullptr);
  EXPECT_EQ(lastError(),
            "cannot open model '/nonexistent/model.so': No such file or "
            "directory");
  EXPECT_EQ(qr_model_load(nullptr), nullptr);
  EXPECT_EQ(lastError(), "empty model path");
  EXPECT_EQ(qr_model_load(QUANT_TEST_MODELS_DIR), nullptr);
  EXPECT_EQ(lastError(),
            "cannot load model '" QUANT_TEST_MODELS_DIR "': it is a directory");

  std::string textFile =
      "/tmp/quant-model-test-" + std::to_string(getpid()) + ".so";
  std::ofstream(textFile) << "a text file\n";
  EXPECT_EQ(qr_model_load(textFile.c_str()), nullptr);
  EXPECT_EQ(lastError(), "cannot load model '" + textFile +
                             "': not a shared library (file too short)");
  std::ofstream(textFile) << std::string(200, 'x');
  EXPECT_EQ(qr_model_load(textFile.c_str()), nullptr);
  EXPECT_EQ(lastError(), "cannot load model '" + textFile +
                             "': not a shared library (invalid ELF header)");
  std::remove(textFile.c_str());

  struct {
    const char *model;
    std::string error;
  } broken[] = {
      {"test_model_no_signature", "not a quant model: '" +
                                      modelPath("test_model_no_signature") +
                                      "' has no quant_model_signature symbol"},
      {"test_model_no_run", "not a quant model: '" +
                                modelPath("test_model_no_run") +
                                "' has no quant_model_run symbol"},
      {"test_model_bad_version",
       "invalid signature in model '" + modelPath("test_model_bad_version") +
           "': line 1: unsupported signature version 2 (this runtime reads "
           "version 1)"},
      {"test_model_unknown_dtype",
       "invalid signature in model '" + modelPath("test_model_unknown_dtype") +
           "': line 2: unknown dtype 'bfloat16' for 'x' (expected one of "
           "bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64, "
           "float16, float32, float64)"},
      {"test_model_garbage_line",
       "invalid signature in model '" + modelPath("test_model_garbage_line") +
           "': line 4: expected 'input' or 'output', got 'hello world'"},
  };
  for (const auto &[name, error] : broken) {
    EXPECT_EQ(qr_model_load(modelPath(name).c_str()), nullptr) << name;
    EXPECT_EQ(lastError(), error);
  }
}

int32_t succeed(void **) { return 0; }

// Runs the signature parser on `signature`; "" if it is accepted.
std::string signatureError(const char *signature) {
  ModelPtr model(qr_model_from_symbols(signature, succeed));
  return model ? "" : qr_last_error();
}

TEST(SignatureTest, AcceptsValidSignatures) {
  const char *valid[] = {
      "quant-model 1\noutput y float32 [4,512]\n",
      "quant-model 1\noutput y float32 [4,512]", // no final newline
      "\n\nquant-model 1\n\ninput a int8 []\n\noutput y float64 [1]\n\n",
      "quant-model 1\r\ninput a uint8 [2, 3]\r\noutput y bool [ 0 ]\r\n",
      "quant-model 1\ninput onnx::MatMul_0 float16 [1,2,3,4,5]\n"
      "output y int64 []\n",
      "quant-model 1\ninput x int32 [2]\noutput x int32 [2]\n",
  };
  for (const char *signature : valid)
    EXPECT_EQ(signatureError(signature), "") << signature;

  ModelPtr model(qr_model_from_symbols(
      "quant-model 1\ninput a uint8 [2, 3]\noutput y bool [ 0 ]\n", succeed));
  ASSERT_TRUE(model);
  EXPECT_EQ(qr_model_input_dtype(model.get(), 0), QR_U8);
  EXPECT_EQ(qr_model_input_shape(model.get(), 0)[1], 3);
  EXPECT_EQ(qr_model_output_dtype(model.get(), 0), QR_BOOL);
  EXPECT_EQ(qr_model_output_shape(model.get(), 0)[0], 0);
}

TEST(SignatureTest, RejectsMalformedSignatures) {
  const struct {
    const char *signature;
    const char *error;
  } cases[] = {
      {"", "empty signature"},
      {"\n \n", "empty signature"},
      {"output y float32 [1]\n",
       "line 1: expected 'quant-model 1', got 'output y float32 [1]'"},
      {"quant-model\n", "line 1: expected 'quant-model 1', got 'quant-model'"},
      {"quant-model one\n",
       "line 1: expected 'quant-model 1', got 'quant-model one'"},
      {"quant-model 1 2\n",
       "line 1: expected 'quant-model 1', got 'quant-model 1 2'"},
      {"quant-model 0\n",
       "line 1: unsupported signature version 0 (this runtime reads version "
       "1)"},
      {"quant-model 1\n", "the model declares no outputs"},
      {"quant-model 1\ninput x float32 [1]\n", "the model declares no outputs"},
      {"quant-model 1\ntensor x float32 [1]\n",
       "line 2: expected 'input' or 'output', got 'tensor x float32 [1]'"},
      {"quant-model 1\noutput y float32\n",
       "line 2: expected 'output NAME DTYPE [DIMS]', got 'output y float32'"},
      {"quant-model 1\noutput y\n",
       "line 2: expected 'output NAME DTYPE [DIMS]', got 'output y'"},
      {"quant-model 1\noutput y float [1]\n",
       "line 2: unknown dtype 'float' for 'y' (expected one of bool, int8, "
       "int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, "
       "float64)"},
      {"quant-model 1\noutput y float32 2,3\n",
       "line 2: malformed shape '2,3' (expected e.g. [4,512], or [] for a "
       "scalar)"},
      {"quant-model 1\noutput y float32 [2,3\n",
       "line 2: malformed shape '[2,3' (expected e.g. [4,512], or [] for a "
       "scalar)"},
      {"quant-model 1\noutput y float32 [2,,3]\n",
       "line 2: malformed dimension '' in shape '[2,,3]' (dimensions are "
       "non-negative integers)"},
      {"quant-model 1\noutput y float32 [2,3,]\n",
       "line 2: malformed shape '[2,3,]' (trailing ',')"},
      {"quant-model 1\noutput y float32 [-1]\n",
       "line 2: malformed dimension '-1' in shape '[-1]' (dimensions are "
       "non-negative integers)"},
      {"quant-model 1\noutput y float32 [?,4]\n",
       "line 2: malformed dimension '?' in shape '[?,4]' (dimensions are "
       "non-negative integers)"},
      {"quant-model 1\noutput y float32 [99999999999999999999]\n",
       "line 2: malformed dimension '99999999999999999999' in shape "
       "'[99999999999999999999]' (dimensions are non-negative integers)"},
      {"quant-model 1\noutput y float64 [100000000000000000,100]\n",
       "line 2: shape '[100000000000000000,100]' is too large"},
      {"quant-model 1\ninput a=b float32 [1]\noutput y float32 [1]\n",
       "line 2: tensor name 'a=b' contains '='"},
      {"quant-model 1\ninput x float32 [1]\ninput x float32 [2]\n"
       "output y float32 [1]\n",
       "line 3: duplicate input 'x'"},
      {"quant-model 1\noutput y float32 [1]\x01\n",
       "line 2: malformed shape '[1]\\x01' (expected e.g. [4,512], or [] for "
       "a scalar)"},
  };
  for (const auto &[signature, error] : cases)
    EXPECT_EQ(signatureError(signature),
              std::string("invalid model signature: ") + error)
        << signature;

  EXPECT_EQ(qr_model_from_symbols(nullptr, succeed), nullptr);
  EXPECT_EQ(lastError(), "qr_model_from_symbols: null signature or entry");
  EXPECT_EQ(
      qr_model_from_symbols("quant-model 1\noutput y int8 [1]\n", nullptr),
      nullptr);
}

int32_t addOne(void **buffers) {
  const auto *in = static_cast<const int32_t *>(buffers[0]);
  auto *out = static_cast<int32_t *>(buffers[1]);
  for (int i = 0; i < 3; ++i)
    out[i] = in[i] + 1;
  return 0;
}

TEST(SignatureTest, RunsALinkedInModel) {
  ModelPtr model(qr_model_from_symbols(
      "quant-model 1\ninput a int32 [3]\noutput b int32 [3]\n", addOne));
  ASSERT_TRUE(model) << qr_last_error();
  TensorPtr a = makeTensor(QR_I32, {3}), b = makeTensor(QR_I32, {3});
  static_cast<int32_t *>(qr_tensor_data(a.get()))[2] = 41;
  qr_tensor *inputs[] = {a.get()};
  qr_tensor *outputs[] = {b.get()};
  ASSERT_EQ(qr_model_run(model.get(), 1, inputs, 1, outputs), 0);
  EXPECT_EQ(static_cast<int32_t *>(qr_tensor_data(b.get()))[2], 42);
  EXPECT_EQ(qr_model_run(model.get(), 1, outputs, 1, outputs), -1);
  EXPECT_EQ(lastError(), "output 'b' is the same tensor as input 'a'");
}

/// A model whose kernel reports bad runtime data (as the pillar rulebook
/// does for duplicate coordinates) and still returns 0.
int32_t reportsKernelError(void **) {
  qr_report_kernel_error("pillar_conv: pillars 1 and 4 share coordinates");
  qr_report_kernel_error("a later error is dropped");
  return 0;
}

TEST(ModelTest, SurfacesKernelErrors) {
  ModelPtr failing(qr_model_from_symbols(
      "quant-model 1\noutput b int32 [3]\n", reportsKernelError));
  ModelPtr working(qr_model_from_symbols(
      "quant-model 1\ninput a int32 [3]\noutput b int32 [3]\n", addOne));
  ASSERT_TRUE(failing && working) << qr_last_error();
  TensorPtr a = makeTensor(QR_I32, {3}), b = makeTensor(QR_I32, {3});
  qr_tensor *inputs[] = {a.get()};
  qr_tensor *outputs[] = {b.get()};
  EXPECT_EQ(qr_model_run(failing.get(), 0, nullptr, 1, outputs), -1);
  EXPECT_EQ(lastError(), "linked-in model failed: pillar_conv: pillars 1 and "
                         "4 share coordinates");
  // The error belongs to that run only.
  EXPECT_EQ(qr_model_run(working.get(), 1, inputs, 1, outputs), 0);
}

TEST(ModelTest, TakesKernelErrorsOutsideARun) {
  EXPECT_EQ(qr_take_kernel_error(), nullptr);
  qr_report_kernel_error("pillar_conv: invalid rulebook arguments");
  qr_report_kernel_error("a later error is dropped");
  const char *taken = qr_take_kernel_error();
  ASSERT_NE(taken, nullptr);
  EXPECT_STREQ(taken, "pillar_conv: invalid rulebook arguments");
  EXPECT_EQ(qr_take_kernel_error(), nullptr);
}

} // namespace
