//===- PassNumericsTest.cpp - exactness of the qnn transformations --------===//
//
// Runs each transformation on small models with random constant weights and
// compares the float64 evaluation of the model before and after on fresh
// random inputs (never the calibration sample). Exact transforms must agree
// to 1e-5 relative; quantizing ones must match the reference quantizer.
//
//===----------------------------------------------------------------------===//

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Dialect/QNN/Transforms/Passes.h"
#include "quant/Evaluator/Evaluator.h"
#include "quant/Quantization/Quantizer.h"
#include "quant/Support/Npy.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

using namespace mlir;
using mlir::qnn::EvalTensor;

namespace {

std::mt19937_64 &rng() {
  static std::mt19937_64 generator = [] {
    uint64_t seed = std::random_device{}();
    std::cout << "[ seed     ] " << seed << "\n";
    return std::mt19937_64(seed);
  }();
  return generator;
}

std::vector<double> gaussian(int64_t count, double scale = 1.0) {
  std::normal_distribution<double> normal(0.0, scale);
  std::vector<double> values(count);
  for (double &v : values)
    v = normal(rng());
  return values;
}

/// LLM-like activations: Gaussian with a few outlier channels.
EvalTensor activations(int64_t tokens, int64_t channels) {
  EvalTensor x(ArrayRef<int64_t>{tokens, channels});
  x.data = gaussian(tokens * channels);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t c : {int64_t(1), channels / 2})
      x.data[t * channels + c] *= 60.0;
  return x;
}

/// `dense<[[...]]>` text of a row-major matrix, exact for float32.
std::string denseLiteral(const std::vector<double> &values, int64_t rows,
                         int64_t cols) {
  std::ostringstream os;
  os.precision(9);
  os << "dense<[";
  for (int64_t r = 0; r < rows; ++r) {
    os << (r ? ", [" : "[");
    for (int64_t c = 0; c < cols; ++c)
      os << (c ? ", " : "") << static_cast<float>(values[r * cols + c]);
    os << "]";
  }
  os << "]>";
  return os.str();
}

std::string vectorLiteral(const std::vector<double> &values) {
  std::ostringstream os;
  os.precision(9);
  os << "dense<[";
  for (size_t i = 0; i < values.size(); ++i)
    os << (i ? ", " : "") << static_cast<float>(values[i]);
  os << "]>";
  return os.str();
}

double relativeError(const EvalTensor &reference, const EvalTensor &value) {
  double num = 0, den = 0;
  for (size_t i = 0; i < reference.data.size(); ++i) {
    double d = reference.data[i] - value.data[i];
    num += d * d;
    den += reference.data[i] * reference.data[i];
  }
  return std::sqrt(num / den);
}

class PassNumericsTest : public ::testing::Test {
protected:
  PassNumericsTest() {
    DialectRegistry registry;
    registry.insert<arith::ArithDialect, func::FuncDialect,
                    linalg::LinalgDialect, math::MathDialect,
                    tensor::TensorDialect, tosa::TosaDialect,
                    mlir::quant::QuantDialect, qnn::QNNDialect>();
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    qnn::registerQNNPasses();
    registerCanonicalizerPass();
  }

  OwningOpRef<ModuleOp> parse(const std::string &source) {
    OwningOpRef<ModuleOp> module =
        parseSourceString<ModuleOp>(source, &context);
    EXPECT_TRUE(module) << source;
    return module;
  }

  func::FuncOp firstFunction(ModuleOp module) {
    return *module.getOps<func::FuncOp>().begin();
  }

  EvalTensor evaluate(ModuleOp module, const EvalTensor &input) {
    FailureOr<SmallVector<EvalTensor>> results =
        qnn::evaluateFunction(firstFunction(module), {input});
    EXPECT_TRUE(succeeded(results));
    return succeeded(results) ? (*results)[0] : EvalTensor();
  }

  /// Runs `pipeline` (textual, on func.func) and returns whether it succeeded.
  bool run(ModuleOp module, const std::string &pipeline) {
    PassManager pm(&context);
    if (failed(parsePassPipeline("func.func(" + pipeline + ")", pm))) {
      ADD_FAILURE() << "bad pipeline " << pipeline;
      return false;
    }
    return succeeded(pm.run(module));
  }

  /// Attaches per-channel statistics of each qnn.matmul input, measured on
  /// `sample` with the evaluator (what --qnn-calibrate will do).
  void attachCalibStats(ModuleOp module, const EvalTensor &sample) {
    func::FuncOp func = firstFunction(module);
    llvm::DenseMap<Value, EvalTensor> observed;
    observed[func.getArgument(0)] = sample;
    ASSERT_TRUE(succeeded(qnn::evaluateFunction(
        func, {sample}, [&](Operation *op, ArrayRef<EvalTensor> results) {
          for (auto [value, tensor] : llvm::zip(op->getResults(), results))
            observed[value] = tensor;
        })));
    func.walk([&](qnn::MatmulOp matmul) {
      const EvalTensor &x = observed[matmul.getInput()];
      int64_t k = x.shape.back();
      std::vector<double> lo(k, INFINITY), hi(k, -INFINITY), absmax(k, 0.0);
      for (size_t i = 0; i < x.data.size(); ++i) {
        lo[i % k] = std::min(lo[i % k], x.data[i]);
        hi[i % k] = std::max(hi[i % k], x.data[i]);
      }
      for (int64_t c = 0; c < k; ++c)
        absmax[c] = std::max(-lo[c], hi[c]);
      matmul->setAttr(qnn::QNNDialect::getCalibStatsAttrName(),
                      qnn::CalibStatsAttr::get(
                          &context, x.shape.size() - 1, 1,
                          DenseF64ArrayAttr::get(&context, absmax),
                          DenseF64ArrayAttr::get(&context, lo),
                          DenseF64ArrayAttr::get(&context, hi),
                          llvm::APFloat(100.0),
                          DenseF64ArrayAttr::get(&context, absmax)));
    });
  }

  std::string writeSample(const EvalTensor &sample) {
    char name[] = "/tmp/quant-calib-XXXXXX.npy";
    int fd = mkstemps(name, 4);
    EXPECT_GE(fd, 0);
    close(fd);
    std::string error;
    EXPECT_TRUE(::quant::writeNpyFile(
        name,
        ::quant::NpyArray::fromDoubles(
            ::quant::NpyType::F32,
            std::vector<int64_t>(sample.shape.begin(), sample.shape.end()),
            sample.data),
        error))
        << error;
    temporaries.push_back(name);
    return name;
  }

  ~PassNumericsTest() override {
    for (const std::string &path : temporaries)
      std::remove(path.c_str());
  }

  /// An RMSNorm → linear(+bias) → linear(silu) → linear block, hidden size
  /// `d`, with random weights and gamma.
  std::string llamaLikeBlock(int64_t tokens, int64_t d, int64_t ffn) {
    std::vector<double> gamma = gaussian(d, 0.3);
    for (double &g : gamma)
      g += 1.0;
    std::ostringstream os;
    os << "#map = affine_map<(d0, d1) -> (d0, d1)>\n"
          "#chan = affine_map<(d0, d1) -> (d1)>\n"
          "#row = affine_map<(d0, d1) -> (d0)>\n"
       << "func.func @block(%x: tensor<" << tokens << "x" << d
       << "xf32>) -> tensor<" << tokens << "x" << d << "xf32> {\n"
       << "  %gamma = arith.constant " << vectorLiteral(gamma) << " : tensor<"
       << d << "xf32>\n"
       << "  %zero = arith.constant 0.0 : f32\n"
       << "  %rows = tensor.empty() : tensor<" << tokens << "xf32>\n"
       << "  %acc = linalg.fill ins(%zero : f32) outs(%rows : tensor<" << tokens
       << "xf32>) -> tensor<" << tokens << "xf32>\n"
       << "  %ss = linalg.generic {indexing_maps = [#map, #row], "
          "iterator_types = [\"parallel\", \"reduction\"]} ins(%x : tensor<"
       << tokens << "x" << d << "xf32>) outs(%acc : tensor<" << tokens
       << "xf32>) {\n"
          "  ^bb0(%a: f32, %s: f32):\n"
          "    %sq = arith.mulf %a, %a : f32\n"
          "    %sum = arith.addf %s, %sq : f32\n"
          "    linalg.yield %sum : f32\n"
       << "  } -> tensor<" << tokens << "xf32>\n"
       << "  %empty = tensor.empty() : tensor<" << tokens << "x" << d
       << "xf32>\n"
       << "  %n = linalg.generic {indexing_maps = [#map, #row, #chan, #map], "
          "iterator_types = [\"parallel\", \"parallel\"]} ins(%x, %ss, %gamma "
          ": tensor<"
       << tokens << "x" << d << "xf32>, tensor<" << tokens << "xf32>, tensor<"
       << d << "xf32>) outs(%empty : tensor<" << tokens << "x" << d
       << "xf32>) {\n"
          "  ^bb0(%a: f32, %s: f32, %g: f32, %o: f32):\n"
          "    %dim = arith.constant "
       << d
       << ".0 : f32\n"
          "    %eps = arith.constant 1.0e-6 : f32\n"
          "    %mean = arith.divf %s, %dim : f32\n"
          "    %var = arith.addf %mean, %eps : f32\n"
          "    %inv = math.rsqrt %var : f32\n"
          "    %t = arith.mulf %a, %inv : f32\n"
          "    %y = arith.mulf %t, %g : f32\n"
          "    linalg.yield %y : f32\n"
       << "  } -> tensor<" << tokens << "x" << d << "xf32>\n";
    auto linear = [&](const char *name, const char *input, int64_t k,
                      int64_t n, const char *extra) {
      os << "  %w_" << name << " = arith.constant "
         << denseLiteral(gaussian(k * n, 1.0 / std::sqrt(double(k))), k, n)
         << " : tensor<" << k << "x" << n << "xf32>\n";
      os << "  %b_" << name << " = arith.constant " << vectorLiteral(gaussian(n, 0.1))
         << " : tensor<" << n << "xf32>\n";
      os << "  %" << name << " = qnn.matmul %" << input << ", %w_" << name
         << " bias(%b_" << name << " : tensor<" << n << "xf32>) " << extra
         << " : tensor<" << tokens << "x" << k << "xf32>, tensor<" << k << "x"
         << n << "xf32> -> tensor<" << tokens << "x" << n << "xf32>\n";
    };
    linear("up", "n", d, ffn, "");
    linear("gate", "up", ffn, ffn, "epilogue silu");
    linear("down", "gate", ffn, d, "");
    os << "  return %down : tensor<" << tokens << "x" << d << "xf32>\n}\n";
    return os.str();
  }

  /// Checks that `pipeline` leaves the block's output unchanged.
  void expectExact(const std::string &pipeline, bool calibrate,
                   bool needsSample) {
    const int64_t tokens = 16, d = 32, ffn = 48;
    OwningOpRef<ModuleOp> module = parse(llamaLikeBlock(tokens, d, ffn));
    ASSERT_TRUE(module);
    EvalTensor sample = activations(tokens, d);
    if (calibrate)
      attachCalibStats(*module, sample);
    EvalTensor input = activations(tokens, d);
    EvalTensor before = evaluate(*module, input);

    std::string fullPipeline = pipeline;
    if (needsSample)
      fullPipeline.insert(fullPipeline.size() - 1,
                          " calibration=" + writeSample(sample));
    ASSERT_TRUE(run(*module, fullPipeline)) << fullPipeline;
    EvalTensor after = evaluate(*module, input);
    double error = relativeError(before, after);
    std::cout << "[ rel. err ] " << fullPipeline << ": " << error << "\n";
    EXPECT_LE(error, 1e-5) << fullPipeline;
  }

  MLIRContext context;
  std::vector<std::string> temporaries;
};

TEST_F(PassNumericsTest, SmoothingIsExact) {
  expectExact("qnn-smooth-outliers{alpha=0.5}", /*calibrate=*/true,
              /*needsSample=*/false);
  expectExact("qnn-smooth-outliers{alpha=0.85}", true, false);
}

TEST_F(PassNumericsTest, SmoothingSearchIsExact) {
  // The search needs no calibration statistics: the sample provides them.
  expectExact("qnn-smooth-outliers{search=true abits=4 wbits=4 group=0}",
              /*calibrate=*/false, /*needsSample=*/true);
}

TEST_F(PassNumericsTest, RotationsAreExact) {
  // 32 = 2^5 and 48 = 12·4 exercise the Sylvester and Paley Hadamards.
  expectExact("qnn-rotate{kind=hadamard seed=3}", false, false);
  expectExact("qnn-rotate{kind=random-orthogonal seed=5}", false, false);
  expectExact("qnn-rotate{kind=procrustes seed=1 iterations=5}", false, true);
}

TEST_F(PassNumericsTest, ProcrustesRefinesOnlyRotationsThatFold) {
  // In the block, up's output rotation folds into up; the RMSNorm output's
  // and the SiLU-gated one's stay online.
  const int64_t tokens = 16, d = 32, ffn = 48;
  auto onlineRotations = [&](const std::string &options) {
    OwningOpRef<ModuleOp> module = parse(llamaLikeBlock(tokens, d, ffn));
    EXPECT_TRUE(module);
    std::string pipeline =
        "qnn-rotate{kind=procrustes seed=2 iterations=3 " + options +
        "calibration=" + writeSample(activations(tokens, d)) + "}";
    EXPECT_TRUE(run(*module, pipeline)) << pipeline;
    int hadamards = 0, dense = 0;
    module->walk([&](qnn::HadamardOp) { ++hadamards; });
    module->walk([&](qnn::RotateOp) { ++dense; });
    return std::make_pair(hadamards, dense);
  };
  EXPECT_EQ(onlineRotations(""), std::make_pair(2, 0));
  EXPECT_EQ(onlineRotations("refine-online=true "), std::make_pair(0, 2));
  expectExact("qnn-rotate{kind=procrustes seed=1 iterations=5 "
              "refine-online=true}",
              false, true);
}

TEST_F(PassNumericsTest, SmoothThenRotateThenFuseIsExact) {
  expectExact("qnn-smooth-outliers{alpha=0.5},qnn-rotate{seed=11},qnn-fuse",
              true, false);
}

TEST_F(PassNumericsTest, ImportLinalgIsExact) {
  const int64_t m = 5, k = 12, n = 7;
  std::ostringstream os;
  os << "func.func @f(%x: tensor<" << m << "x" << k << "xf32>) -> tensor<" << m
     << "x" << n << "xf32> {\n"
     << "  %w = arith.constant " << denseLiteral(gaussian(k * n), k, n)
     << " : tensor<" << k << "x" << n << "xf32>\n"
     << "  %acc = arith.constant " << denseLiteral(gaussian(m * n), m, n)
     << " : tensor<" << m << "x" << n << "xf32>\n"
     << "  %y = linalg.matmul ins(%x, %w : tensor<" << m << "x" << k
     << "xf32>, tensor<" << k << "x" << n << "xf32>) outs(%acc : tensor<" << m
     << "x" << n << "xf32>) -> tensor<" << m << "x" << n << "xf32>\n"
     << "  return %y : tensor<" << m << "x" << n << "xf32>\n}\n";
  OwningOpRef<ModuleOp> module = parse(os.str());
  ASSERT_TRUE(module);
  EvalTensor input(ArrayRef<int64_t>{m, k});
  input.data = gaussian(m * k);
  EvalTensor before = evaluate(*module, input);
  ASSERT_TRUE(run(*module, "qnn-import-linalg"));
  int raised = 0;
  module->walk([&](qnn::MatmulOp) { ++raised; });
  EXPECT_EQ(raised, 1);
  EXPECT_LE(relativeError(before, evaluate(*module, input)), 1e-12);
}

TEST_F(PassNumericsTest, BatchNormFoldIsExact) {
  const int64_t c = 3, f = 4, hw = 6;
  std::vector<double> mean = gaussian(f), gamma = gaussian(f), beta = gaussian(f);
  std::vector<double> var = gaussian(f);
  for (double &v : var)
    v = v * v + 0.5;
  std::ostringstream os;
  os << "#m = affine_map<(n, c, h, w) -> (n, c, h, w)>\n"
        "#c = affine_map<(n, c, h, w) -> (c)>\n"
     << "func.func @f(%x: tensor<1x" << c << "x" << hw << "x" << hw
     << "xf32>) -> tensor<1x" << f << "x" << hw - 2 << "x" << hw - 2 << "xf32> {\n"
     << "  %w = arith.constant "
     << denseLiteral(gaussian(f * c * 9), f, c * 9)
     << " : tensor<" << f << "x" << c * 9 << "xf32>\n"
     << "  %w4 = tensor.expand_shape %w [[0], [1, 2, 3]] output_shape [" << f
     << ", " << c << ", 3, 3] : tensor<" << f << "x" << c * 9
     << "xf32> into tensor<" << f << "x" << c << "x3x3xf32>\n"
     << "  %conv = qnn.conv2d %x, %w4 layout nchw : tensor<1x" << c << "x" << hw
     << "x" << hw << "xf32>, tensor<" << f << "x" << c
     << "x3x3xf32> -> tensor<1x" << f << "x" << hw - 2 << "x" << hw - 2
     << "xf32>\n";
  for (auto [name, values] : {std::pair("mean", &mean), std::pair("var", &var),
                              std::pair("gamma", &gamma),
                              std::pair("beta", &beta)})
    os << "  %" << name << " = arith.constant " << vectorLiteral(*values)
       << " : tensor<" << f << "xf32>\n";
  os << "  %empty = tensor.empty() : tensor<1x" << f << "x" << hw - 2 << "x"
     << hw - 2 << "xf32>\n"
     << "  %y = linalg.generic {indexing_maps = [#m, #c, #c, #c, #c, #m], "
        "iterator_types = [\"parallel\", \"parallel\", \"parallel\", "
        "\"parallel\"]} ins(%conv, %mean, %var, %gamma, %beta : tensor<1x"
     << f << "x" << hw - 2 << "x" << hw - 2 << "xf32>, tensor<" << f
     << "xf32>, tensor<" << f << "xf32>, tensor<" << f << "xf32>, tensor<" << f
     << "xf32>) outs(%empty : tensor<1x" << f << "x" << hw - 2 << "x" << hw - 2
     << "xf32>) {\n"
        "  ^bb0(%v: f32, %m: f32, %s2: f32, %g: f32, %b: f32, %o: f32):\n"
        "    %eps = arith.constant 1.0e-5 : f32\n"
        "    %centered = arith.subf %v, %m : f32\n"
        "    %denom = arith.addf %s2, %eps : f32\n"
        "    %std = math.sqrt %denom : f32\n"
        "    %normed = arith.divf %centered, %std : f32\n"
        "    %scaled = arith.mulf %normed, %g : f32\n"
        "    %shifted = arith.addf %scaled, %b : f32\n"
        "    linalg.yield %shifted : f32\n"
     << "  } -> tensor<1x" << f << "x" << hw - 2 << "x" << hw - 2 << "xf32>\n"
     << "  return %y : tensor<1x" << f << "x" << hw - 2 << "x" << hw - 2
     << "xf32>\n}\n";
  OwningOpRef<ModuleOp> module = parse(os.str());
  ASSERT_TRUE(module);
  // Fold the reshape into a plain constant first, as canonicalization does.
  ASSERT_TRUE(run(*module, "canonicalize"));
  EvalTensor input(ArrayRef<int64_t>{1, c, hw, hw});
  input.data = gaussian(c * hw * hw);
  EvalTensor before = evaluate(*module, input);
  ASSERT_TRUE(run(*module, "qnn-fuse"));
  int generics = 0;
  module->walk([&](linalg::GenericOp) { ++generics; });
  EXPECT_EQ(generics, 0) << "batch norm was not folded";
  EXPECT_LE(relativeError(before, evaluate(*module, input)), 1e-5);
}

TEST_F(PassNumericsTest, QuantizedWeightsMatchReferenceQuantizer) {
  const int64_t m = 3, k = 64, n = 5;
  std::vector<double> weight = gaussian(k * n);
  std::ostringstream os;
  os << "func.func @f(%x: tensor<" << m << "x" << k << "xf32>) -> tensor<" << m
     << "x" << n << "xf32> {\n"
     << "  %w = arith.constant " << denseLiteral(weight, k, n) << " : tensor<"
     << k << "x" << n << "xf32>\n"
     << "  %y = qnn.matmul %x, %w : tensor<" << m << "x" << k
     << "xf32>, tensor<" << k << "x" << n << "xf32> -> tensor<" << m << "x"
     << n << "xf32>\n"
     << "  return %y : tensor<" << m << "x" << n << "xf32>\n}\n";
  for (unsigned bits : {2u, 3u, 4u, 8u}) {
    for (bool symmetric : {true, false}) {
      OwningOpRef<ModuleOp> module = parse(os.str());
      ASSERT_TRUE(module);
      std::string options = "bits=" + std::to_string(bits) +
                            " group=32 symmetric=" + (symmetric ? "1" : "0");
      ASSERT_TRUE(run(*module, "qnn-quantize-weights{" + options + "}"));
      // The integers are bit-exact with the reference quantizer applied to
      // the float32 weights, and the model computes X · dequantize(Q(W))
      // with the scales rounded to the float32 they are stored in.
      ::quant::Matrix w(k, n);
      for (int64_t i = 0; i < k * n; ++i)
        w.data[i] = static_cast<float>(weight[i]);
      ::quant::QuantizedWeight reference =
          ::quant::quantizeRTN(w, {bits, 32, symmetric});
      qnn::MatmulOp matmul = *firstFunction(*module).getOps<qnn::MatmulOp>().begin();
      auto values = cast<DenseIntElementsAttr>(
          matmul.getWeight().getDefiningOp<arith::ConstantOp>().getValue());
      std::vector<int32_t> stored;
      for (const APInt &v : values.getValues<APInt>())
        stored.push_back(symmetric ? v.getSExtValue() : v.getZExtValue());
      EXPECT_EQ(stored, reference.values) << options;

      EvalTensor input(ArrayRef<int64_t>{m, k});
      input.data = gaussian(m * k);
      EvalTensor got = evaluate(*module, input);
      EvalTensor expected(ArrayRef<int64_t>{m, n});
      for (int64_t r = 0; r < m; ++r)
        for (int64_t c = 0; c < n; ++c)
          for (int64_t i = 0; i < k; ++i) {
            int64_t g = (i / 32) * n + c;
            double dequantized =
                (reference.values[i * n + c] - reference.zeroPoints[g]) *
                static_cast<double>(static_cast<float>(reference.scales[g]));
            expected.data[r * n + c] += input.data[r * k + i] * dequantized;
          }
      EXPECT_LE(relativeError(expected, got), 1e-12) << options;
    }
  }
}

TEST_F(PassNumericsTest, GptqBeatsRtnInThePipeline) {
  const int64_t tokens = 128, d = 32, ffn = 48;
  std::string source = llamaLikeBlock(tokens, d, ffn);
  std::string path = writeSample(activations(tokens, d));
  EvalTensor input = activations(tokens, d);
  double errors[2];
  for (bool gptq : {false, true}) {
    OwningOpRef<ModuleOp> module = parse(source);
    ASSERT_TRUE(module);
    EvalTensor reference = evaluate(*module, input);
    std::string options = "bits=3 group=0";
    if (gptq)
      options += " method=gptq calibration=" + path;
    ASSERT_TRUE(run(*module, "qnn-quantize-weights{" + options + "}"));
    errors[gptq] = relativeError(reference, evaluate(*module, input));
    std::cout << "[ rel. err ] W3 " << (gptq ? "GPTQ" : "RTN ")
              << " block: " << errors[gptq] << "\n";
  }
  EXPECT_LT(errors[1], errors[0]);
}

} // namespace
