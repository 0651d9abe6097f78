//===- EvaluatorTest.cpp - float64 reference interpreter ------------------===//
//
// Each test parses a small function, runs it on fresh random inputs and
// compares with plain float64 loops written here, independently of the
// interpreter. Constants spelled in the MLIR source are f32, so the loops
// use the f32-rounded values.
//
//===----------------------------------------------------------------------===//

#include "quant/Evaluator/Evaluator.h"
#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Support/Hadamard.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>
#include <string>

using namespace mlir;
using mlir::qnn::EvalTensor;

namespace {

std::mt19937_64 freshGenerator() {
  uint64_t seed = std::random_device{}();
  std::cout << "[ seed     ] " << seed << "\n";
  return std::mt19937_64(seed);
}

std::string formatFloat(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.9e", value);
  return buffer;
}

/// `dense<...>` literal of a row-major tensor (nested brackets per rank).
std::string denseLiteral(ArrayRef<int64_t> shape, ArrayRef<double> values) {
  std::string text;
  size_t next = 0;
  std::function<void(size_t)> emit = [&](size_t dim) {
    if (dim == shape.size()) {
      text += formatFloat(values[next++]);
      return;
    }
    text += "[";
    for (int64_t i = 0; i < shape[dim]; ++i) {
      if (i)
        text += ", ";
      emit(dim + 1);
    }
    text += "]";
  };
  emit(0);
  return "dense<" + text + ">";
}

/// Values as an f32 constant would hold them.
std::vector<double> roundedToF32(std::vector<double> values) {
  for (double &v : values)
    v = static_cast<float>(v);
  return values;
}

/// Replaces every `{{NAME}}` in `text`.
std::string substitute(std::string text, StringRef name,
                       const std::string &value) {
  std::string key = "{{" + name.str() + "}}";
  for (size_t at = text.find(key); at != std::string::npos;
       at = text.find(key, at + value.size()))
    text.replace(at, key.size(), value);
  return text;
}

class EvaluatorTest : public ::testing::Test {
protected:
  EvaluatorTest() : rng(freshGenerator()) {
    DialectRegistry registry;
    registry
        .insert<func::FuncDialect, arith::ArithDialect, math::MathDialect,
                linalg::LinalgDialect, tensor::TensorDialect, tosa::TosaDialect,
                mlir::quant::QuantDialect, qnn::QNNDialect>();
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  OwningOpRef<ModuleOp> parse(const std::string &source) {
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(source, &context);
    EXPECT_TRUE(module) << "failed to parse:\n" << source;
    return module;
  }

  func::FuncOp mainOf(ModuleOp module) {
    return module.lookupSymbol<func::FuncOp>("main");
  }

  /// Runs @main, expecting success.
  SmallVector<EvalTensor> run(const std::string &source,
                              ArrayRef<EvalTensor> arguments,
                              qnn::EvalObserver observer = nullptr) {
    OwningOpRef<ModuleOp> module = parse(source);
    if (!module)
      return {};
    FailureOr<SmallVector<EvalTensor>> results =
        qnn::evaluateFunction(mainOf(*module), arguments, observer);
    EXPECT_TRUE(succeeded(results)) << "evaluation failed:\n" << source;
    if (failed(results))
      return {};
    return *results;
  }

  /// Runs @main, expecting failure; returns the diagnostics emitted.
  std::string runExpectingFailure(const std::string &source,
                                  ArrayRef<EvalTensor> arguments) {
    OwningOpRef<ModuleOp> module = parse(source);
    if (!module)
      return "";
    std::string diagnostics;
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
      diagnostics += diagnostic.str() + "\n";
      return success();
    });
    FailureOr<SmallVector<EvalTensor>> results =
        qnn::evaluateFunction(mainOf(*module), arguments);
    EXPECT_TRUE(failed(results));
    return diagnostics;
  }

  EvalTensor uniform(ArrayRef<int64_t> shape, double lo = -1.0,
                     double hi = 1.0) {
    std::uniform_real_distribution<double> distribution(lo, hi);
    EvalTensor tensor(shape);
    for (double &v : tensor.data)
      v = distribution(rng);
    return tensor;
  }

  EvalTensor integers(ArrayRef<int64_t> shape, int64_t lo, int64_t hi) {
    std::uniform_int_distribution<int64_t> distribution(lo, hi);
    EvalTensor tensor(shape);
    for (double &v : tensor.data)
      v = static_cast<double>(distribution(rng));
    return tensor;
  }

  MLIRContext context;
  std::mt19937_64 rng;
};

EvalTensor tensorOf(ArrayRef<int64_t> shape, std::vector<double> values) {
  EvalTensor tensor(shape);
  tensor.data = std::move(values);
  return tensor;
}

/// |got - expected| <= tolerance · (1 + |expected|) everywhere.
void expectClose(const EvalTensor &got, ArrayRef<int64_t> shape,
                 const std::vector<double> &expected,
                 double tolerance = 1e-12) {
  ASSERT_EQ(ArrayRef<int64_t>(got.shape), shape);
  ASSERT_EQ(got.data.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    ASSERT_LE(std::fabs(got.data[i] - expected[i]),
              tolerance * (1.0 + std::fabs(expected[i])))
        << "element " << i << ": got " << got.data[i] << ", expected "
        << expected[i];
}

void expectExact(const EvalTensor &got, ArrayRef<int64_t> shape,
                 const std::vector<double> &expected) {
  ASSERT_EQ(ArrayRef<int64_t>(got.shape), shape);
  ASSERT_EQ(got.data.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_EQ(got.data[i], expected[i]) << "element " << i;
}

/// C[b] = A[b] · B[b] for row-major [batch, M, K] x [batch, K, N].
std::vector<double> referenceMatmul(const std::vector<double> &a,
                                    const std::vector<double> &b, int64_t batch,
                                    int64_t m, int64_t k, int64_t n) {
  std::vector<double> c(batch * m * n, 0.0);
  for (int64_t p = 0; p < batch; ++p)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0.0;
        for (int64_t l = 0; l < k; ++l)
          sum += a[(p * m + i) * k + l] * b[(p * k + l) * n + j];
        c[(p * m + i) * n + j] = sum;
      }
  return c;
}

//===----------------------------------------------------------------------===//
// linalg
//===----------------------------------------------------------------------===//

TEST_F(EvaluatorTest, Matmul) {
  const char *source = R"mlir(
    func.func @main(%a: tensor<5x7xf32>, %b: tensor<7x3xf32>) -> tensor<5x3xf32> {
      %zero = arith.constant 0.0 : f32
      %init = tensor.empty() : tensor<5x3xf32>
      %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<5x3xf32>) -> tensor<5x3xf32>
      %c = linalg.matmul ins(%a, %b : tensor<5x7xf32>, tensor<7x3xf32>)
                         outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
      return %c : tensor<5x3xf32>
    })mlir";
  EvalTensor a = uniform({5, 7}), b = uniform({7, 3});
  std::vector<std::string> observed;
  SmallVector<EvalTensor> results =
      run(source, {a, b}, [&](Operation *op, ArrayRef<EvalTensor> values) {
        observed.push_back(op->getName().getStringRef().str());
        ASSERT_EQ(values.size(), op->getNumResults());
      });
  ASSERT_EQ(results.size(), 1u);
  expectClose(results[0], {5, 3}, referenceMatmul(a.data, b.data, 1, 5, 7, 3));
  EXPECT_EQ(observed,
            (std::vector<std::string>{"arith.constant", "tensor.empty",
                                      "linalg.fill", "linalg.matmul"}));
}

TEST_F(EvaluatorTest, IntegerMatmulAccumulatesInI32) {
  // The named op's body sign-extends i8 operands; 100 · 100 · 16 overflows
  // i8 and i16 but not i32.
  const char *source = R"mlir(
    func.func @main(%a: tensor<3x16xi8>, %b: tensor<16x4xi8>, %c: tensor<3x4xi32>) -> tensor<3x4xi32> {
      %r = linalg.matmul ins(%a, %b : tensor<3x16xi8>, tensor<16x4xi8>)
                         outs(%c : tensor<3x4xi32>) -> tensor<3x4xi32>
      return %r : tensor<3x4xi32>
    })mlir";
  EvalTensor a = integers({3, 16}, -128, 127), b = integers({16, 4}, -128, 127);
  EvalTensor c = integers({3, 4}, -1000, 1000);
  SmallVector<EvalTensor> results = run(source, {a, b, c});
  ASSERT_EQ(results.size(), 1u);
  std::vector<double> expected = referenceMatmul(a.data, b.data, 1, 3, 16, 4);
  for (size_t i = 0; i < expected.size(); ++i)
    expected[i] += c.data[i];
  expectExact(results[0], {3, 4}, expected);
}

TEST_F(EvaluatorTest, BatchMatmulAccumulatesIntoOuts) {
  const char *source = R"mlir(
    func.func @main(%a: tensor<2x4x6xf32>, %b: tensor<2x6x5xf32>, %c: tensor<2x4x5xf32>) -> tensor<2x4x5xf32> {
      %r = linalg.batch_matmul ins(%a, %b : tensor<2x4x6xf32>, tensor<2x6x5xf32>)
                               outs(%c : tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
      return %r : tensor<2x4x5xf32>
    })mlir";
  EvalTensor a = uniform({2, 4, 6}), b = uniform({2, 6, 5}),
             c = uniform({2, 4, 5});
  SmallVector<EvalTensor> results = run(source, {a, b, c});
  ASSERT_EQ(results.size(), 1u);
  std::vector<double> expected = referenceMatmul(a.data, b.data, 2, 4, 6, 5);
  for (size_t i = 0; i < expected.size(); ++i)
    expected[i] += c.data[i];
  expectClose(results[0], {2, 4, 5}, expected);
}

TEST_F(EvaluatorTest, ConvNhwcHwcfWithStridesAndDilations) {
  // Different strides and dilations per axis catch swapped indices.
  // H: (13 - 2·2 - 1) / 2 + 1 = 5;  W: (11 - 3·2 - 1) / 1 + 1 = 5.
  const char *source = R"mlir(
    func.func @main(%x: tensor<2x13x11x3xf32>, %w: tensor<3x3x3x4xf32>) -> tensor<2x5x5x4xf32> {
      %zero = arith.constant 0.0 : f32
      %init = tensor.empty() : tensor<2x5x5x4xf32>
      %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<2x5x5x4xf32>) -> tensor<2x5x5x4xf32>
      %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<[2, 3]> : tensor<2xi64>,
                                     strides = dense<[2, 1]> : tensor<2xi64>}
             ins(%x, %w : tensor<2x13x11x3xf32>, tensor<3x3x3x4xf32>)
             outs(%acc : tensor<2x5x5x4xf32>) -> tensor<2x5x5x4xf32>
      return %y : tensor<2x5x5x4xf32>
    })mlir";
  EvalTensor x = uniform({2, 13, 11, 3}), w = uniform({3, 3, 3, 4});
  SmallVector<EvalTensor> results = run(source, {x, w});
  ASSERT_EQ(results.size(), 1u);
  std::vector<double> expected(2 * 5 * 5 * 4, 0.0);
  for (int n = 0; n < 2; ++n)
    for (int oh = 0; oh < 5; ++oh)
      for (int ow = 0; ow < 5; ++ow)
        for (int f = 0; f < 4; ++f) {
          double sum = 0.0;
          for (int kh = 0; kh < 3; ++kh)
            for (int kw = 0; kw < 3; ++kw)
              for (int c = 0; c < 3; ++c) {
                int ih = oh * 2 + kh * 2, iw = ow * 1 + kw * 3;
                sum += x.data[((n * 13 + ih) * 11 + iw) * 3 + c] *
                       w.data[((kh * 3 + kw) * 3 + c) * 4 + f];
              }
          expected[((n * 5 + oh) * 5 + ow) * 4 + f] = sum;
        }
  expectClose(results[0], {2, 5, 5, 4}, expected);
}

/// y = x / sqrt(mean(x²) + eps) · gamma over rows of [4, 16].
std::vector<double> referenceRmsNorm(const EvalTensor &x,
                                     const std::vector<double> &gamma,
                                     double eps) {
  std::vector<double> y(x.data.size());
  for (int row = 0; row < 4; ++row) {
    double sumSquares = 0.0;
    for (int i = 0; i < 16; ++i)
      sumSquares += x.data[row * 16 + i] * x.data[row * 16 + i];
    double inverse = 1.0 / std::sqrt(sumSquares / 16.0 + eps);
    for (int i = 0; i < 16; ++i)
      y[row * 16 + i] = x.data[row * 16 + i] * inverse * gamma[i];
  }
  return y;
}

const char *kRmsNormSource = R"mlir(
    #identity = affine_map<(d0, d1) -> (d0, d1)>
    #row = affine_map<(d0, d1) -> (d0)>
    #column = affine_map<(d0, d1) -> (d1)>
    func.func @main(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
      %gamma = arith.constant {{GAMMA}} : tensor<16xf32>
      %zero = arith.constant 0.0 : f32
      %eps = arith.constant 1.0e-5 : f32
      %rows = tensor.empty() : tensor<4xf32>
      %acc = linalg.fill ins(%zero : f32) outs(%rows : tensor<4xf32>) -> tensor<4xf32>
      %sumsq = linalg.generic {indexing_maps = [#identity, #row],
                               iterator_types = ["parallel", "reduction"]}
          ins(%x : tensor<4x16xf32>) outs(%acc : tensor<4xf32>) {
      ^bb0(%in: f32, %out: f32):
        %sq = arith.mulf %in, %in : f32
        %s = arith.addf %out, %sq : f32
        linalg.yield %s : f32
      } -> tensor<4xf32>
      %empty = tensor.empty() : tensor<4x16xf32>
      %y = linalg.generic {indexing_maps = [#identity, #row, #column, #identity],
                           iterator_types = ["parallel", "parallel"]}
          ins(%x, %sumsq, %gamma : tensor<4x16xf32>, tensor<4xf32>, tensor<16xf32>)
          outs(%empty : tensor<4x16xf32>) {
      ^bb0(%in: f32, %ss: f32, %g: f32, %out: f32):
        %n = arith.constant 16.0 : f32
        %mean = arith.divf %ss, %n : f32
        %v = arith.addf %mean, %eps : f32
        %r = math.rsqrt %v : f32
        %xn = arith.mulf %in, %r : f32
        %o = arith.mulf %xn, %g : f32
        linalg.yield %o : f32
      } -> tensor<4x16xf32>
      return %y : tensor<4x16xf32>
    }
    {{RESOURCES}})mlir";

TEST_F(EvaluatorTest, RmsNormGenericWithDenseGamma) {
  std::vector<double> gamma =
      roundedToF32(std::vector<double>(uniform({16}, 0.5, 1.5).data));
  std::string source =
      substitute(kRmsNormSource, "GAMMA", denseLiteral({16}, gamma));
  source = substitute(source, "RESOURCES", "");
  EvalTensor x = uniform({4, 16}, -2.0, 2.0);
  SmallVector<EvalTensor> results = run(source, {x});
  ASSERT_EQ(results.size(), 1u);
  double eps = static_cast<float>(1.0e-5);
  expectClose(results[0], {4, 16}, referenceRmsNorm(x, gamma, eps));
}

TEST_F(EvaluatorTest, RmsNormGenericWithResourceGamma) {
  std::vector<double> gamma =
      roundedToF32(std::vector<double>(uniform({16}, 0.5, 1.5).data));
  // A resource blob is its alignment (u32, little endian) then the bytes.
  std::string hex = "0x04000000";
  for (double value : gamma) {
    float f = static_cast<float>(value);
    unsigned char bytes[4];
    std::memcpy(bytes, &f, 4);
    for (unsigned char byte : bytes) {
      char pair[3];
      std::snprintf(pair, sizeof(pair), "%02X", byte);
      hex += pair;
    }
  }
  std::string source =
      substitute(kRmsNormSource, "GAMMA", "dense_resource<gamma_blob>");
  source =
      substitute(source, "RESOURCES",
                 "{-#\n dialect_resources: {\n builtin: {\n gamma_blob: \"" +
                     hex + "\"\n }\n }\n#-}");
  EvalTensor x = uniform({4, 16}, -2.0, 2.0);
  SmallVector<EvalTensor> results = run(source, {x});
  ASSERT_EQ(results.size(), 1u);
  double eps = static_cast<float>(1.0e-5);
  expectClose(results[0], {4, 16}, referenceRmsNorm(x, gamma, eps));
}

TEST_F(EvaluatorTest, CausalSoftmaxGenericWithIndex) {
  // Row max (maximumf from -inf), a causal mask built from linalg.index,
  // exp(x - max), row sum, divide; then linalg.softmax on the same input.
  const char *source = R"mlir(
    #identity = affine_map<(d0, d1) -> (d0, d1)>
    #row = affine_map<(d0, d1) -> (d0)>
    func.func @main(%x: tensor<6x6xf32>) -> (tensor<6x6xf32>, tensor<6x6xf32>) {
      %ninf = arith.constant 0xFF800000 : f32
      %zero = arith.constant 0.0 : f32
      %rows = tensor.empty() : tensor<6xf32>
      %square = tensor.empty() : tensor<6x6xf32>
      %masked = linalg.generic {indexing_maps = [#identity, #identity],
                                iterator_types = ["parallel", "parallel"]}
          ins(%x : tensor<6x6xf32>) outs(%square : tensor<6x6xf32>) {
      ^bb0(%in: f32, %out: f32):
        %i = linalg.index 0 : index
        %j = linalg.index 1 : index
        %ii = arith.index_cast %i : index to i32
        %jj = arith.index_cast %j : index to i32
        %keep = arith.cmpi sle, %jj, %ii : i32
        %v = arith.select %keep, %in, %ninf : f32
        linalg.yield %v : f32
      } -> tensor<6x6xf32>
      %maxInit = linalg.fill ins(%ninf : f32) outs(%rows : tensor<6xf32>) -> tensor<6xf32>
      %max = linalg.generic {indexing_maps = [#identity, #row],
                             iterator_types = ["parallel", "reduction"]}
          ins(%masked : tensor<6x6xf32>) outs(%maxInit : tensor<6xf32>) {
      ^bb0(%in: f32, %out: f32):
        %m = arith.maximumf %in, %out : f32
        linalg.yield %m : f32
      } -> tensor<6xf32>
      %exp = linalg.generic {indexing_maps = [#identity, #row, #identity],
                             iterator_types = ["parallel", "parallel"]}
          ins(%masked, %max : tensor<6x6xf32>, tensor<6xf32>) outs(%square : tensor<6x6xf32>) {
      ^bb0(%in: f32, %m: f32, %out: f32):
        %d = arith.subf %in, %m : f32
        %e = math.exp %d : f32
        linalg.yield %e : f32
      } -> tensor<6x6xf32>
      %sumInit = linalg.fill ins(%zero : f32) outs(%rows : tensor<6xf32>) -> tensor<6xf32>
      %sum = linalg.generic {indexing_maps = [#identity, #row],
                             iterator_types = ["parallel", "reduction"]}
          ins(%exp : tensor<6x6xf32>) outs(%sumInit : tensor<6xf32>) {
      ^bb0(%in: f32, %out: f32):
        %s = arith.addf %in, %out : f32
        linalg.yield %s : f32
      } -> tensor<6xf32>
      %y = linalg.generic {indexing_maps = [#identity, #row, #identity],
                           iterator_types = ["parallel", "parallel"]}
          ins(%exp, %sum : tensor<6x6xf32>, tensor<6xf32>) outs(%square : tensor<6x6xf32>) {
      ^bb0(%e: f32, %s: f32, %out: f32):
        %q = arith.divf %e, %s : f32
        linalg.yield %q : f32
      } -> tensor<6x6xf32>
      %full = linalg.softmax dimension(1) ins(%x : tensor<6x6xf32>)
                                          outs(%square : tensor<6x6xf32>) -> tensor<6x6xf32>
      return %y, %full : tensor<6x6xf32>, tensor<6x6xf32>
    })mlir";
  EvalTensor x = uniform({6, 6}, -4.0, 4.0);
  SmallVector<EvalTensor> results = run(source, {x});
  ASSERT_EQ(results.size(), 2u);
  std::vector<double> causal(36, 0.0), full(36, 0.0);
  for (int i = 0; i < 6; ++i) {
    double sumCausal = 0.0, sumFull = 0.0;
    for (int j = 0; j < 6; ++j) {
      // exp(x) / Σ exp(x) is shift-invariant, so no max is needed here.
      full[i * 6 + j] = std::exp(x.data[i * 6 + j]);
      sumFull += full[i * 6 + j];
      causal[i * 6 + j] = j <= i ? full[i * 6 + j] : 0.0;
      sumCausal += causal[i * 6 + j];
    }
    for (int j = 0; j < 6; ++j) {
      causal[i * 6 + j] /= sumCausal;
      full[i * 6 + j] /= sumFull;
    }
  }
  expectClose(results[0], {6, 6}, causal);
  expectClose(results[1], {6, 6}, full);
}

TEST_F(EvaluatorTest, TransposeBroadcastMapReduce) {
  const char *source = R"mlir(
    func.func @main(%x: tensor<3x4xf32>, %v: tensor<4xf32>) -> tensor<4xf32> {
      %e1 = tensor.empty() : tensor<4x3xf32>
      %t = linalg.transpose ins(%x : tensor<3x4xf32>) outs(%e1 : tensor<4x3xf32>) permutation = [1, 0]
      %b = linalg.broadcast ins(%v : tensor<4xf32>) outs(%e1 : tensor<4x3xf32>) dimensions = [1]
      %m = linalg.map { arith.mulf } ins(%t, %b : tensor<4x3xf32>, tensor<4x3xf32>) outs(%e1 : tensor<4x3xf32>)
      %zero = arith.constant 0.0 : f32
      %e2 = tensor.empty() : tensor<4xf32>
      %acc = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4xf32>) -> tensor<4xf32>
      %r = linalg.reduce { arith.addf } ins(%m : tensor<4x3xf32>) outs(%acc : tensor<4xf32>) dimensions = [1]
      return %r : tensor<4xf32>
    })mlir";
  EvalTensor x = uniform({3, 4}), v = uniform({4});
  SmallVector<EvalTensor> results = run(source, {x, v});
  ASSERT_EQ(results.size(), 1u);
  std::vector<double> expected(4, 0.0);
  for (int j = 0; j < 4; ++j)
    for (int i = 0; i < 3; ++i)
      expected[j] += x.data[i * 4 + j] * v.data[j];
  expectClose(results[0], {4}, expected);
}

TEST_F(EvaluatorTest, DynamicShapesTakeTheArgumentSizes) {
  // Row sums of a tensor<?x?xf32>: loop ranges come from the value given.
  const char *source = R"mlir(
    #identity = affine_map<(d0, d1) -> (d0, d1)>
    #row = affine_map<(d0, d1) -> (d0)>
    func.func @main(%x: tensor<?x?xf32>) -> tensor<?xf32> {
      %c0 = arith.constant 0 : index
      %rows = tensor.dim %x, %c0 : tensor<?x?xf32>
      %zero = arith.constant 0.0 : f32
      %empty = tensor.empty(%rows) : tensor<?xf32>
      %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<?xf32>) -> tensor<?xf32>
      %sum = linalg.generic {indexing_maps = [#identity, #row],
                             iterator_types = ["parallel", "reduction"]}
          ins(%x : tensor<?x?xf32>) outs(%acc : tensor<?xf32>) {
      ^bb0(%in: f32, %out: f32):
        %s = arith.addf %in, %out : f32
        linalg.yield %s : f32
      } -> tensor<?xf32>
      return %sum : tensor<?xf32>
    })mlir";
  EvalTensor x = uniform({5, 3});
  SmallVector<EvalTensor> results = run(source, {x});
  ASSERT_EQ(results.size(), 1u);
  std::vector<double> expected(5, 0.0);
  for (int i = 0; i < 15; ++i)
    expected[i / 3] += x.data[i];
  expectClose(results[0], {5}, expected);
}

//===----------------------------------------------------------------------===//
// tensor, arith, func
//===----------------------------------------------------------------------===//

TEST_F(EvaluatorTest, ReshapesAndSlices) {
  const char *source = R"mlir(
    func.func @main(%x: tensor<2x3x4xf32>) -> (tensor<6x4xf32>, tensor<2x3x2x2xf32>, tensor<3x2xf32>, tensor<6x4xf32>) {
      %c = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
      %e = tensor.expand_shape %c [[0, 1], [2, 3]] output_shape [2, 3, 2, 2]
             : tensor<6x4xf32> into tensor<2x3x2x2xf32>
      %s = tensor.extract_slice %c[1, 0] [3, 2] [2, 3] : tensor<6x4xf32> to tensor<3x2xf32>
      %zeros = arith.constant dense<0.0> : tensor<6x4xf32>
      %i = tensor.insert_slice %s into %zeros[0, 1] [3, 2] [1, 2] : tensor<3x2xf32> into tensor<6x4xf32>
      return %c, %e, %s, %i : tensor<6x4xf32>, tensor<2x3x2x2xf32>, tensor<3x2xf32>, tensor<6x4xf32>
    })mlir";
  EvalTensor x = uniform({2, 3, 4});
  SmallVector<EvalTensor> results = run(source, {x});
  ASSERT_EQ(results.size(), 4u);
  expectExact(results[0], {6, 4}, x.data);
  expectExact(results[1], {2, 3, 2, 2}, x.data);
  std::vector<double> slice(6), inserted(24, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) {
      slice[i * 2 + j] = x.data[(1 + 2 * i) * 4 + 3 * j];
      inserted[i * 4 + 1 + 2 * j] = slice[i * 2 + j];
    }
  expectExact(results[2], {3, 2}, slice);
  expectExact(results[3], {6, 4}, inserted);
}

TEST_F(EvaluatorTest, ElementwiseArithOnTensorsAndCall) {
  const char *source = R"mlir(
    func.func private @affine(%x: tensor<8xf32>, %y: tensor<8xf32>) -> tensor<8xf32> {
      %p = arith.mulf %x, %y : tensor<8xf32>
      %n = arith.negf %y : tensor<8xf32>
      %s = arith.subf %p, %n : tensor<8xf32>
      return %s : tensor<8xf32>
    }
    func.func @main(%x: tensor<8xf32>, %y: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
      %a = func.call @affine(%x, %y) : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
      %gt = arith.cmpf ogt, %x, %y : tensor<8xf32>
      %m = arith.select %gt, %x, %y : tensor<8xi1>, tensor<8xf32>
      %t = math.tanh %m : tensor<8xf32>
      return %a, %t : tensor<8xf32>, tensor<8xf32>
    })mlir";
  EvalTensor x = uniform({8}), y = uniform({8});
  SmallVector<EvalTensor> results = run(source, {x, y});
  ASSERT_EQ(results.size(), 2u);
  std::vector<double> affine(8), tanh(8);
  for (int i = 0; i < 8; ++i) {
    affine[i] = x.data[i] * y.data[i] + y.data[i];
    tanh[i] = std::tanh(std::max(x.data[i], y.data[i]));
  }
  expectClose(results[0], {8}, affine);
  expectClose(results[1], {8}, tanh);
}

TEST_F(EvaluatorTest, TruncfRoundsLikeTheNarrowType) {
  const char *source = R"mlir(
    func.func @main(%x: tensor<5xf64>) -> (tensor<5xf64>, tensor<5xf64>, tensor<5xf64>) {
      %h = arith.truncf %x : tensor<5xf64> to tensor<5xf16>
      %b = arith.truncf %x : tensor<5xf64> to tensor<5xbf16>
      %s = arith.truncf %x : tensor<5xf64> to tensor<5xf32>
      %h64 = arith.extf %h : tensor<5xf16> to tensor<5xf64>
      %b64 = arith.extf %b : tensor<5xbf16> to tensor<5xf64>
      %s64 = arith.extf %s : tensor<5xf32> to tensor<5xf64>
      return %h64, %b64, %s64 : tensor<5xf64>, tensor<5xf64>, tensor<5xf64>
    })mlir";
  // Ties between representable neighbours round to the even mantissa:
  // f16 has 10 fraction bits, bf16 7, f32 23.
  auto run1 = [&](int fractionBits) {
    double ulp = std::ldexp(1.0, -fractionBits);
    EvalTensor x =
        tensorOf({5}, {1.0 + ulp / 2, 1.0 + 3 * ulp / 2, -(1.0 + ulp / 2),
                       1.0 + ulp / 4, 1.0 + 3 * ulp / 4});
    std::vector<double> expected = {1.0, 1.0 + 2 * ulp, -1.0, 1.0, 1.0 + ulp};
    return std::make_pair(x, expected);
  };
  // Result order: f16, bf16, f32.
  std::vector<int> fractionBits = {10, 7, 23};
  for (auto [index, bits] : llvm::enumerate(fractionBits)) {
    auto [x, expected] = run1(bits);
    SmallVector<EvalTensor> results = run(source, {x});
    ASSERT_EQ(results.size(), 3u);
    expectExact(results[index], {5}, expected);
  }
  // f16 overflows to infinity above 65520.
  EvalTensor big =
      tensorOf({5}, {70000.0, -70000.0, 65504.0, 65519.0, 65520.0});
  SmallVector<EvalTensor> results = run(source, {big});
  ASSERT_EQ(results.size(), 3u);
  double inf = std::numeric_limits<double>::infinity();
  expectExact(results[0], {5}, {inf, -inf, 65504.0, 65504.0, inf});
}

//===----------------------------------------------------------------------===//
// tosa
//===----------------------------------------------------------------------===//

TEST_F(EvaluatorTest, TosaMatmulAddSigmoidReshapeTranspose) {
  const char *source = R"mlir(
    func.func @main(%a: tensor<2x4x6xf32>, %b: tensor<2x6x5xf32>, %bias: tensor<1x1x5xf32>) -> tensor<5x8xf32> {
      %azp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
      %bzp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
      %mm = tosa.matmul %a, %b, %azp, %bzp : (tensor<2x4x6xf32>, tensor<2x6x5xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<2x4x5xf32>
      %sum = tosa.add %mm, %bias : (tensor<2x4x5xf32>, tensor<1x1x5xf32>) -> tensor<2x4x5xf32>
      %sig = tosa.sigmoid %sum : (tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
      %shape = tosa.const_shape {values = dense<[8, 5]> : tensor<2xindex>} : () -> !tosa.shape<2>
      %r = tosa.reshape %sig, %shape : (tensor<2x4x5xf32>, !tosa.shape<2>) -> tensor<8x5xf32>
      %t = tosa.transpose %r {perms = array<i32: 1, 0>} : (tensor<8x5xf32>) -> tensor<5x8xf32>
      return %t : tensor<5x8xf32>
    })mlir";
  EvalTensor a = uniform({2, 4, 6}), b = uniform({2, 6, 5}),
             bias = uniform({1, 1, 5});
  SmallVector<EvalTensor> results = run(source, {a, b, bias});
  ASSERT_EQ(results.size(), 1u);
  std::vector<double> product = referenceMatmul(a.data, b.data, 2, 4, 6, 5);
  std::vector<double> expected(40);
  for (int row = 0; row < 8; ++row)
    for (int col = 0; col < 5; ++col) {
      double v = product[row * 5 + col] + bias.data[col];
      expected[col * 8 + row] = 1.0 / (1.0 + std::exp(-v));
    }
  expectClose(results[0], {5, 8}, expected);
}

//===----------------------------------------------------------------------===//
// qnn: rotations and scales
//===----------------------------------------------------------------------===//

/// Sylvester H_{2^k}: H[i][j] = (-1)^popcount(i & j).
int sylvester(int64_t i, int64_t j) {
  return (__builtin_popcountll(i & j) & 1) ? -1 : 1;
}

/// Paley construction I for q = 11: H = I + S with S = [[0, 1ᵀ], [-1, Q]]
/// and Q_ij = χ(j - i), χ the quadratic character mod 11 (residues 1, 3, 4,
/// 5, 9).
int paley12(int64_t i, int64_t j) {
  auto chi = [](int64_t a) {
    a = ((a % 11) + 11) % 11;
    if (a == 0)
      return 0;
    return (a == 1 || a == 3 || a == 4 || a == 5 || a == 9) ? 1 : -1;
  };
  int s = 0;
  if (i == 0 && j > 0)
    s = 1;
  else if (j == 0 && i > 0)
    s = -1;
  else if (i > 0 && j > 0)
    s = chi(j - i);
  return s + (i == j ? 1 : 0);
}

/// y = (x · D) · H / sqrt(n), row by row, for an H given entrywise.
std::vector<double>
referenceHadamard(const std::vector<double> &x, int64_t n,
                  const std::vector<int> &signs,
                  const std::function<int(int64_t, int64_t)> &h) {
  std::vector<double> y(x.size(), 0.0);
  for (size_t row = 0; row < x.size() / n; ++row)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i)
        sum += x[row * n + i] * signs[i] * h(i, j);
      y[row * n + j] = sum / std::sqrt(static_cast<double>(n));
    }
  return y;
}

TEST_F(EvaluatorTest, HadamardMatchesHandBuiltMatrices) {
  std::vector<int> signs(16);
  std::string signList;
  std::bernoulli_distribution coin(0.5);
  for (int i = 0; i < 16; ++i) {
    signs[i] = coin(rng) ? 1 : -1;
    signList += (i ? ", " : "") + std::to_string(signs[i]);
  }
  std::string source = substitute(R"mlir(
    func.func @main(%x: tensor<3x16xf32>, %z: tensor<2x2x24xf32>) -> (tensor<3x16xf32>, tensor<2x2x24xf32>) {
      %y = qnn.hadamard %x signs [{{SIGNS}}] : tensor<3x16xf32>
      %w = qnn.hadamard %z : tensor<2x2x24xf32>
      return %y, %w : tensor<3x16xf32>, tensor<2x2x24xf32>
    })mlir",
                                  "SIGNS", signList);
  EvalTensor x = uniform({3, 16}), z = uniform({2, 2, 24});
  SmallVector<EvalTensor> results = run(source, {x, z});
  ASSERT_EQ(results.size(), 2u);

  expectClose(results[0], {3, 16},
              referenceHadamard(x.data, 16, signs, sylvester));
  // Order 24 = H_2 ⊗ H_12 with index i = i_pow2 · 12 + i_base.
  auto kronecker = [](int64_t i, int64_t j) {
    return sylvester(i / 12, j / 12) * paley12(i % 12, j % 12);
  };
  std::vector<double> expected24 =
      referenceHadamard(z.data, 24, std::vector<int>(24, 1), kronecker);
  expectClose(results[1], {2, 2, 24}, expected24);

  // The fast transform the lowerings use agrees with the dense reference.
  for (int row = 0; row < 4; ++row) {
    std::vector<double> fast(z.data.begin() + row * 24,
                             z.data.begin() + (row + 1) * 24);
    ::quant::fastHadamardTransform(fast.data(), 24);
    for (int i = 0; i < 24; ++i)
      EXPECT_NEAR(fast[i], results[1].data[row * 24 + i], 1e-12);
  }
}

TEST_F(EvaluatorTest, ScaleAndRotate) {
  std::vector<double> factors = uniform({3}, 0.25, 4.0).data;
  std::vector<double> rotation = roundedToF32(uniform({4, 4}).data);
  std::string factorList;
  for (size_t i = 0; i < factors.size(); ++i)
    factorList += (i ? ", " : "") + formatFloat(factors[i]);
  std::string source = substitute(substitute(R"mlir(
    func.func @main(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
      %s = qnn.scale %x along 1 by [{{FACTORS}}] : tensor<2x3x4xf32>
      %r = qnn.rotate %x by {{ROTATION}} : tensor<4x4xf32> : tensor<2x3x4xf32>
      return %s, %r : tensor<2x3x4xf32>, tensor<2x3x4xf32>
    })mlir",
                                             "FACTORS", factorList),
                                  "ROTATION", denseLiteral({4, 4}, rotation));
  // Factors are an f64 array: parse them back as the test wrote them.
  for (double &f : factors)
    f = std::stod(formatFloat(f));
  EvalTensor x = uniform({2, 3, 4});
  SmallVector<EvalTensor> results = run(source, {x});
  ASSERT_EQ(results.size(), 2u);
  std::vector<double> scaled(24), rotated(24, 0.0);
  for (int i = 0; i < 24; ++i)
    scaled[i] = x.data[i] * factors[(i / 4) % 3];
  for (int row = 0; row < 6; ++row)
    for (int j = 0; j < 4; ++j)
      for (int k = 0; k < 4; ++k)
        rotated[row * 4 + j] += x.data[row * 4 + k] * rotation[k * 4 + j];
  expectClose(results[0], {2, 3, 4}, scaled);
  expectClose(results[1], {2, 3, 4}, rotated);
}

//===----------------------------------------------------------------------===//
// qnn: quantization
//===----------------------------------------------------------------------===//

TEST_F(EvaluatorTest, StaticQuantizeRoundsHalfToEvenAndSaturates) {
  const char *source = R"mlir(
    !q = !quant.uniform<i8:f32, 0.5:-3>
    func.func @main(%x: tensor<12xf32>) -> (tensor<12x!q>, tensor<12xf32>) {
      %q = qnn.quantize %x : tensor<12xf32> -> tensor<12x!q>
      %d = qnn.dequantize %q : tensor<12x!q> -> tensor<12xf32>
      return %q, %d : tensor<12x!q>, tensor<12xf32>
    })mlir";
  // x / 0.5 = 0.5, 1.5, 2.5, -0.5, -1.5, -2.5 are ties.
  EvalTensor x = tensorOf({12}, {0.25, 0.75, 1.25, -0.25, -0.75, -1.25, 1000.0,
                                 -1000.0, 65.25, -62.0, 0.0, 0.3});
  std::vector<double> expected = {-3,  -1,   -1,  -3,   -5, -5,
                                  127, -128, 127, -127, -3, -2};
  SmallVector<EvalTensor> results = run(source, {x});
  ASSERT_EQ(results.size(), 2u);
  expectExact(results[0], {12}, expected);
  std::vector<double> dequantized;
  for (double q : expected)
    dequantized.push_back((q + 3) * 0.5);
  expectExact(results[1], {12}, dequantized);
}

TEST_F(EvaluatorTest, PerAxisAndSubChannelQuantize) {
  const char *source = R"mlir(
    !axis = !quant.uniform<u8:f32:1, {0.5:10, 0.25:0, 1.0:128, 2.0:255}>
    !block = !quant.uniform<i8:f32:{0:1, 1:2}, {{0.5:1, 2.0:0}, {0.25:-1, 1.0:2}}>
    func.func @main(%x: tensor<2x4xf32>) -> (tensor<2x4x!axis>, tensor<2x4x!block>, tensor<2x4xf32>) {
      %a = qnn.quantize %x : tensor<2x4xf32> -> tensor<2x4x!axis>
      %b = qnn.quantize %x : tensor<2x4xf32> -> tensor<2x4x!block>
      %d = qnn.dequantize %b : tensor<2x4x!block> -> tensor<2x4xf32>
      return %a, %b, %d : tensor<2x4x!axis>, tensor<2x4x!block>, tensor<2x4xf32>
    })mlir";
  EvalTensor x =
      tensorOf({2, 4}, {1.25, -1.0, 3.0, 10.0, -30.0, 70.0, 200.0, -1.0});
  SmallVector<EvalTensor> results = run(source, {x});
  ASSERT_EQ(results.size(), 3u);
  // Per-axis along columns, u8 saturates at 0 and 255:
  //   1.25/0.5 = 2.5 → 2 + 10;  -1/0.25 = -4 → 0;  3/1 + 128;  10/2 = 5 + 255.
  //   -30/0.5 = -60 + 10 → 0;  70/0.25 = 280 → 255;  200 + 128 → 255;
  //   -1/2 = -0.5 → -0 + 255.
  expectExact(results[0], {2, 4}, {12, 0, 131, 255, 0, 255, 255, 255});
  // Blocks: row r, column pair c/2 → grid[r][c/2].
  //   row 0: 1.25/0.5 = 2.5 → 2 + 1;  -1/0.5 → -2 + 1;  3/2 = 1.5 → 2;  5.
  //   row 1: -30/0.25 → -120 - 1;  70/0.25 = 280 → 127;  200 + 2 → 127;
  //   -1 + 2.
  std::vector<double> blocks = {3, -1, 2, 5, -121, 127, 127, 1};
  expectExact(results[1], {2, 4}, blocks);
  std::vector<double> scales = {0.5, 0.5, 2.0, 2.0, 0.25, 0.25, 1.0, 1.0};
  std::vector<double> zeros = {1, 1, 0, 0, -1, -1, 2, 2};
  std::vector<double> dequantized;
  for (int i = 0; i < 8; ++i)
    dequantized.push_back((blocks[i] - zeros[i]) * scales[i]);
  expectExact(results[2], {2, 4}, dequantized);
}

/// Per-token symmetric int8: scale = f32(absmax / 127), q = roundeven(x / s).
void referencePerToken(const EvalTensor &x, int64_t tokenSize,
                       std::vector<double> &q, std::vector<double> &scales) {
  int64_t tokens = x.numElements() / tokenSize;
  q.assign(x.data.size(), 0.0);
  scales.assign(tokens, 0.0);
  for (int64_t t = 0; t < tokens; ++t) {
    double absmax = 0.0;
    for (int64_t i = 0; i < tokenSize; ++i)
      absmax = std::max(absmax, std::fabs(x.data[t * tokenSize + i]));
    double scale = static_cast<float>(absmax / 127.0);
    scales[t] = scale;
    for (int64_t i = 0; i < tokenSize; ++i)
      q[t * tokenSize + i] =
          scale == 0.0 ? 0.0
                       : std::nearbyint(x.data[t * tokenSize + i] / scale);
  }
}

TEST_F(EvaluatorTest, PerTokenQuantizeRoundTrip) {
  const char *source = R"mlir(
    func.func @main(%x: tensor<3x8xf32>) -> (tensor<3x8xi8>, tensor<3xf32>, tensor<3x8xf32>) {
      %q, %s = qnn.quantize %x per_token : tensor<3x8xf32> -> tensor<3x8xi8>, tensor<3xf32>
      %d = qnn.dequantize %q, %s : tensor<3x8xi8>, tensor<3xf32> -> tensor<3x8xf32>
      return %q, %s, %d : tensor<3x8xi8>, tensor<3xf32>, tensor<3x8xf32>
    })mlir";
  EvalTensor x = uniform({3, 8}, -3.0, 3.0);
  // Row 0 has absmax 63.5, so scale 0.5 and exact ties; row 2 is all zero.
  double ties[8] = {63.5, 0.25, 0.75, -0.25, -1.25, 2.25, -63.5, 10.0};
  for (int i = 0; i < 8; ++i) {
    x.data[i] = ties[i];
    x.data[16 + i] = 0.0;
  }
  SmallVector<EvalTensor> results = run(source, {x});
  ASSERT_EQ(results.size(), 3u);
  std::vector<double> q, scales;
  referencePerToken(x, 8, q, scales);
  EXPECT_EQ(scales[0], 0.5);
  EXPECT_EQ(q[1], 0.0);
  EXPECT_EQ(q[2], 2.0);
  EXPECT_EQ(q[4], -2.0);
  expectExact(results[0], {3, 8}, q);
  expectExact(results[1], {3}, scales);
  std::vector<double> dequantized(24);
  for (int i = 0; i < 24; ++i)
    dequantized[i] = q[i] * scales[i / 8];
  expectExact(results[2], {3, 8}, dequantized);
}

TEST_F(EvaluatorTest, MatmulInt4GroupwiseZeroPointsBiasSiluPerToken) {
  // K = 64 in two groups of 32; asymmetric i4 weights are unsigned [0, 15].
  const char *source = R"mlir(
    func.func @main(%x: tensor<4x64xf32>, %w: tensor<64x8xi4>, %s: tensor<2x8xf32>,
                    %zp: tensor<2x8xi4>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
      %q, %sc = qnn.quantize %x per_token : tensor<4x64xf32> -> tensor<4x64xi8>, tensor<4xf32>
      %y = qnn.matmul %q, %w input_scales(%sc : tensor<4xf32>) scales(%s : tensor<2x8xf32>)
             zero_points(%zp : tensor<2x8xi4>) bias(%b : tensor<8xf32>) epilogue silu
             : tensor<4x64xi8>, tensor<64x8xi4> -> tensor<4x8xf32>
      return %y : tensor<4x8xf32>
    })mlir";
  EvalTensor x = uniform({4, 64}, -2.0, 2.0);
  EvalTensor w = integers({64, 8}, 0, 15), zp = integers({2, 8}, 0, 15);
  EvalTensor s = uniform({2, 8}, 0.01, 0.1), b = uniform({8});
  SmallVector<EvalTensor> results = run(source, {x, w, s, zp, b});
  ASSERT_EQ(results.size(), 1u);

  std::vector<double> q, tokenScales;
  referencePerToken(x, 64, q, tokenScales);
  std::vector<double> expected(32);
  for (int m = 0; m < 4; ++m)
    for (int n = 0; n < 8; ++n) {
      double sum = 0.0;
      for (int k = 0; k < 64; ++k) {
        int g = k / 32;
        double weight =
            (w.data[k * 8 + n] - zp.data[g * 8 + n]) * s.data[g * 8 + n];
        sum += q[m * 64 + k] * tokenScales[m] * weight;
      }
      double v = sum + b.data[n];
      expected[m * 8 + n] = v / (1.0 + std::exp(-v));
    }
  expectClose(results[0], {4, 8}, expected);

  // The same bits given in the signed view of i4 mean the same weights.
  EvalTensor wSigned = w, zpSigned = zp;
  for (double &v : wSigned.data)
    v = v >= 8 ? v - 16 : v;
  for (double &v : zpSigned.data)
    v = v >= 8 ? v - 16 : v;
  SmallVector<EvalTensor> again = run(source, {x, wSigned, s, zpSigned, b});
  ASSERT_EQ(again.size(), 1u);
  expectExact(again[0], {4, 8}, results[0].data);
}

TEST_F(EvaluatorTest, MatmulHadamardPrologue) {
  // The prologue is qnn.hadamard of the input along K; with signs it is the
  // randomized transform.
  std::vector<int> signs(16);
  std::string signList;
  std::bernoulli_distribution coin(0.5);
  for (int i = 0; i < 16; ++i) {
    signs[i] = coin(rng) ? 1 : -1;
    signList += (i ? ", " : "") + std::to_string(signs[i]);
  }
  std::string source = substitute(R"mlir(
    func.func @main(%x: tensor<3x16xf32>, %w: tensor<16x5xf32>) -> tensor<3x5xf32> {
      %y = qnn.matmul %x, %w hadamard_prologue prologue_signs [{{SIGNS}}]
             : tensor<3x16xf32>, tensor<16x5xf32> -> tensor<3x5xf32>
      return %y : tensor<3x5xf32>
    })mlir",
                                  "SIGNS", signList);
  EvalTensor x = uniform({3, 16}), w = uniform({16, 5});
  SmallVector<EvalTensor> results = run(source, {x, w});
  ASSERT_EQ(results.size(), 1u);
  std::vector<double> rotated = referenceHadamard(x.data, 16, signs, sylvester);
  expectClose(results[0], {3, 5},
              referenceMatmul(rotated, w.data, 1, 3, 16, 5));
}

TEST_F(EvaluatorTest, MatmulStaticInputRequantizedResult) {
  const char *source = R"mlir(
    !in = !quant.uniform<i8:f32, 0.125:2>
    !out = !quant.uniform<i8:f32, 0.25:-5>
    func.func @main(%x: tensor<3x32x!in>, %w: tensor<32x4xi8>, %s: tensor<1x4xf32>) -> tensor<3x4x!out> {
      %y = qnn.matmul %x, %w scales(%s : tensor<1x4xf32>) epilogue relu
             : tensor<3x32x!in>, tensor<32x4xi8> -> tensor<3x4x!out>
      return %y : tensor<3x4x!out>
    })mlir";
  EvalTensor x = integers({3, 32}, -128, 127), w = integers({32, 4}, -127, 127);
  EvalTensor s = uniform({1, 4}, 0.001, 0.01);
  SmallVector<EvalTensor> results = run(source, {x, w, s});
  ASSERT_EQ(results.size(), 1u);
  std::vector<double> expected(12);
  for (int m = 0; m < 3; ++m)
    for (int n = 0; n < 4; ++n) {
      double sum = 0.0;
      for (int k = 0; k < 32; ++k)
        sum += ((x.data[m * 32 + k] - 2) * 0.125) *
               (w.data[k * 4 + n] * s.data[n]);
      double y = std::max(sum, 0.0);
      expected[m * 4 + n] =
          std::clamp(std::nearbyint(y / 0.25) - 5.0, -128.0, 127.0);
    }
  expectExact(results[0], {3, 4}, expected);
}

TEST_F(EvaluatorTest, Conv2DFloatNchwAndInt8Nhwc) {
  const char *source = R"mlir(
    func.func @main(%x: tensor<1x3x9x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>,
                    %xh: tensor<1x9x8x32xf32>, %wq: tensor<3x3x32x4xi8>, %s: tensor<1x4xf32>)
        -> (tensor<1x4x5x4xf32>, tensor<1x5x4x4xf32>) {
      %y = qnn.conv2d %x, %w bias(%b : tensor<4xf32>) layout nchw strides [2, 2]
             dilations [1, 2] padding [1, 0, 1, 3] epilogue relu6
             : tensor<1x3x9x8xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x5x4xf32>
      %z = qnn.conv2d %xh, %wq scales(%s : tensor<1x4xf32>) layout nhwc strides [2, 2]
             padding [1, 1, 1, 1] epilogue gelu
             : tensor<1x9x8x32xf32>, tensor<3x3x32x4xi8> -> tensor<1x5x4x4xf32>
      return %y, %z : tensor<1x4x5x4xf32>, tensor<1x5x4x4xf32>
    })mlir";
  EvalTensor x = uniform({1, 3, 9, 8}, -3.0, 3.0), w = uniform({4, 3, 3, 3});
  EvalTensor b = uniform({4});
  EvalTensor xh = uniform({1, 9, 8, 32}),
             wq = integers({3, 3, 32, 4}, -127, 127);
  EvalTensor s = uniform({1, 4}, 0.001, 0.01);
  SmallVector<EvalTensor> results = run(source, {x, w, b, xh, wq, s});
  ASSERT_EQ(results.size(), 2u);

  // NCHW, padding [top, left, bottom, right] = [1, 0, 1, 3]:
  // H out (9 + 1 + 1 - 3) / 2 + 1 = 5, W out (8 + 0 + 3 - 5) / 2 + 1 = 4.
  std::vector<double> nchw(1 * 4 * 5 * 4, 0.0);
  for (int f = 0; f < 4; ++f)
    for (int oy = 0; oy < 5; ++oy)
      for (int ox = 0; ox < 4; ++ox) {
        double sum = 0.0;
        for (int c = 0; c < 3; ++c)
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) {
              int iy = oy * 2 + ky - 1, ix = ox * 2 + kx * 2 - 0;
              if (iy < 0 || iy >= 9 || ix < 0 || ix >= 8)
                continue;
              sum += x.data[(c * 9 + iy) * 8 + ix] *
                     w.data[((f * 3 + c) * 3 + ky) * 3 + kx];
            }
        nchw[(f * 5 + oy) * 4 + ox] =
            std::min(std::max(sum + b.data[f], 0.0), 6.0);
      }
  std::vector<double> nhwc(1 * 5 * 4 * 4, 0.0);
  for (int oy = 0; oy < 5; ++oy)
    for (int ox = 0; ox < 4; ++ox)
      for (int f = 0; f < 4; ++f) {
        double sum = 0.0;
        for (int ky = 0; ky < 3; ++ky)
          for (int kx = 0; kx < 3; ++kx)
            for (int c = 0; c < 32; ++c) {
              int iy = oy * 2 + ky - 1, ix = ox * 2 + kx - 1;
              if (iy < 0 || iy >= 9 || ix < 0 || ix >= 8)
                continue;
              sum += xh.data[(iy * 8 + ix) * 32 + c] *
                     wq.data[((ky * 3 + kx) * 32 + c) * 4 + f] * s.data[f];
            }
        nhwc[(oy * 4 + ox) * 4 + f] =
            0.5 * sum * (1.0 + std::erf(sum / std::sqrt(2.0)));
      }
  expectClose(results[0], {1, 4, 5, 4}, nchw);
  expectClose(results[1], {1, 5, 4, 4}, nhwc);
}

//===----------------------------------------------------------------------===//
// Failures
//===----------------------------------------------------------------------===//

TEST_F(EvaluatorTest, UnsupportedOpFailsWithDiagnostic) {
  const char *source = R"mlir(
    func.func @main(%x: tensor<4x3xf32>, %i: tensor<2x1xindex>) -> tensor<2x1x3xf32> {
      %g = tensor.gather %x[%i] gather_dims([0]) : (tensor<4x3xf32>, tensor<2x1xindex>) -> tensor<2x1x3xf32>
      return %g : tensor<2x1x3xf32>
    })mlir";
  EvalTensor indices = tensorOf({2, 1}, {1, 3});
  std::string diagnostics =
      runExpectingFailure(source, {uniform({4, 3}), indices});
  EXPECT_NE(diagnostics.find("'tensor.gather' op cannot be evaluated"),
            std::string::npos)
      << diagnostics;
}

TEST_F(EvaluatorTest, UnsupportedBodyOpFailsWithDiagnostic) {
  const char *source = R"mlir(
    #identity = affine_map<(d0) -> (d0)>
    func.func @main(%x: tensor<4xi32>) -> tensor<4xi32> {
      %r = linalg.generic {indexing_maps = [#identity, #identity], iterator_types = ["parallel"]}
          ins(%x : tensor<4xi32>) outs(%x : tensor<4xi32>) {
      ^bb0(%in: i32, %out: i32):
        %c = math.ctlz %in : i32
        linalg.yield %c : i32
      } -> tensor<4xi32>
      return %r : tensor<4xi32>
    })mlir";
  std::string diagnostics = runExpectingFailure(source, {integers({4}, 0, 9)});
  EXPECT_NE(diagnostics.find("'math.ctlz' op cannot be evaluated"),
            std::string::npos)
      << diagnostics;
}

TEST_F(EvaluatorTest, PillarConvStrideTwoDilationByTopK) {
  // Pillar 1 (norm 5) is the top third; its in-grid neighbourhood adds
  // (2,3), (2,4), (3,3). Halved, the candidates give (0,0), (1,2), (1,1) in
  // first-occurrence order; with all-ones weights each output sums the
  // features in its 3x3 window at stride 2.
  const char *source = R"mlir(
    func.func @main(%f: tensor<3x2xf32>, %c: tensor<3x3xi32>) -> (tensor<?x1xf32>, tensor<?x3xi32>) {
      %w = arith.constant dense<1.0> : tensor<3x3x2x1xf32>
      %o, %oc = qnn.pillar_conv %f, %c, %w kind selective_dilation grid [4, 5] stride 2 topk_ratio 0.34
                : tensor<3x2xf32>, tensor<3x3xi32>, tensor<3x3x2x1xf32> -> tensor<?x1xf32>, tensor<?x3xi32>
      return %o, %oc : tensor<?x1xf32>, tensor<?x3xi32>
    })mlir";
  SmallVector<EvalTensor> results =
      run(source, {tensorOf({3, 2}, {1, 2, 3, 4, 0.5, 0.5}),
                   tensorOf({3, 3}, {0, 0, 0, 0, 3, 4, 0, 1, 1})});
  ASSERT_EQ(results.size(), 2u);
  expectExact(results[0], {3, 1}, {4, 7, 1});
  expectExact(results[1], {3, 3}, {0, 0, 0, 0, 1, 2, 0, 1, 1});
}

TEST_F(EvaluatorTest, PillarConvRejectsBadCoordinates) {
  const char *source = R"mlir(
    func.func @main(%f: tensor<3x2xf32>, %c: tensor<3x3xi32>) -> tensor<3x1xf32> {
      %w = arith.constant dense<1.0> : tensor<3x3x2x1xf32>
      %o, %oc = qnn.pillar_conv %f, %c, %w kind submanifold grid [4, 5]
                : tensor<3x2xf32>, tensor<3x3xi32>, tensor<3x3x2x1xf32> -> tensor<3x1xf32>, tensor<3x3xi32>
      return %o : tensor<3x1xf32>
    })mlir";
  EvalTensor features = uniform({3, 2});
  std::string duplicate = runExpectingFailure(
      source, {features, tensorOf({3, 3}, {0, 1, 1, 1, 1, 1, 0, 1, 1})});
  EXPECT_NE(duplicate.find("pillars 0 and 2 share coordinates (batch 0, y 1, "
                           "x 1)"),
            std::string::npos)
      << duplicate;
  std::string outside = runExpectingFailure(
      source, {features, tensorOf({3, 3}, {0, 1, 1, 0, 4, 0, 0, 2, 2})});
  EXPECT_NE(outside.find("pillar 1 at (batch 0, y 4, x 0) is outside the 4x5 "
                         "grid"),
            std::string::npos)
      << outside;
}

TEST_F(EvaluatorTest, WrongArgumentShapeFails) {
  const char *source = R"mlir(
    func.func @main(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
      return %x : tensor<4x3xf32>
    })mlir";
  std::string diagnostics = runExpectingFailure(source, {uniform({3, 4})});
  EXPECT_NE(diagnostics.find("argument #0 has shape 3x4"), std::string::npos)
      << diagnostics;
}

TEST_F(EvaluatorTest, IntegerDivisionByZeroFails) {
  const char *source = R"mlir(
    func.func @main(%x: tensor<3xi32>, %y: tensor<3xi32>) -> tensor<3xi32> {
      %q = arith.divsi %x, %y : tensor<3xi32>
      return %q : tensor<3xi32>
    })mlir";
  EvalTensor y = tensorOf({3}, {1, 0, 2});
  std::string diagnostics =
      runExpectingFailure(source, {integers({3}, -5, 5), y});
  EXPECT_NE(diagnostics.find("integer division by zero"), std::string::npos)
      << diagnostics;
}

} // namespace
