//===- quant-eval.cpp - run a model in the float64 reference evaluator ----===//
//
// Interprets a function of an MLIR model (linalg/tosa/arith/math/tensor and
// qnn ops, float or quantized) in float64 on .npy inputs, writes the result,
// compares it against a reference and reports the weight footprint. It is
// the accuracy oracle of the demo and of the passes' tests, independent of
// the compiled code paths.
//
//===----------------------------------------------------------------------===//

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Evaluator/Evaluator.h"
#include "quant/Support/Npy.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir>"));
static cl::list<std::string>
    inputPaths("input", cl::desc("input .npy, one per function argument, in "
                                 "order"),
               cl::value_desc("file.npy"));
static cl::list<std::string>
    outputPaths("output",
                cl::desc("write results here, one per --output, in order"),
                cl::value_desc("file.npy"));
static cl::opt<std::string>
    referencePath("reference",
                  cl::desc("compare the first result with this .npy and "
                           "print max-abs/relative error, SQNR and cosine"),
                  cl::value_desc("file.npy"));
static cl::opt<std::string>
    functionName("function", cl::desc("function to run (default: the first)"),
                 cl::value_desc("name"));
static cl::opt<bool>
    printWeights("weights",
                 cl::desc("print the weight footprint of qnn matmuls/convs"));

namespace {

int fail(const Twine &message) {
  llvm::errs() << "quant-eval: error: " << message << "\n";
  return 1;
}

/// Bytes of the weight operands (packed at their bit width) with their
/// scales and zero points, over every qnn.matmul / qnn.conv2d.
double weightBytes(ModuleOp module) {
  double bytes = 0;
  auto count = [&](Value v) {
    if (!v)
      return;
    auto type = cast<ShapedType>(v.getType());
    bytes += type.getNumElements() * type.getElementTypeBitWidth() / 8.0;
  };
  module.walk([&](Operation *op) {
    if (auto matmul = dyn_cast<qnn::MatmulOp>(op)) {
      count(matmul.getWeight());
      count(matmul.getScales());
      count(matmul.getZeroPoints());
    } else if (auto conv = dyn_cast<qnn::Conv2DOp>(op)) {
      count(conv.getWeight());
      count(conv.getScales());
      count(conv.getZeroPoints());
    }
  });
  return bytes;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "quant-eval: run a model in quant's float64 reference evaluator\n\n"
      "  quant-eval model.mlir --input x.npy --output y.npy\n"
      "  quant-eval q.mlir --input x.npy --reference y_float.npy --weights\n");

  DialectRegistry registry;
  registry.insert<arith::ArithDialect, func::FuncDialect, linalg::LinalgDialect,
                  math::MathDialect, tensor::TensorDialect, tosa::TosaDialect,
                  mlir::quant::QuantDialect, qnn::QNNDialect>();
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> file = openInputFile(modelPath, &error);
  if (!file)
    return fail(error);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return 1;

  func::FuncOp func;
  for (auto candidate : module->getOps<func::FuncOp>())
    if (!candidate.isExternal() &&
        (functionName.empty() || candidate.getName() == functionName)) {
      func = candidate;
      break;
    }
  if (!func)
    return fail(functionName.empty()
                    ? Twine("the model has no function with a body")
                    : "no function named '" + functionName + "'");
  if (inputPaths.size() != func.getNumArguments())
    return fail("@" + func.getName() + " takes " +
                Twine(func.getNumArguments()) + " arguments, " +
                Twine(inputPaths.size()) + " --input given");

  SmallVector<qnn::EvalTensor> inputs;
  for (const std::string &path : inputPaths) {
    std::optional<::quant::NpyArray> array = ::quant::readNpyFile(path, error);
    if (!array)
      return fail(error);
    qnn::EvalTensor tensor{ArrayRef<int64_t>(array->shape)};
    tensor.data = array->toDoubles();
    inputs.push_back(std::move(tensor));
  }

  FailureOr<SmallVector<qnn::EvalTensor>> results =
      qnn::evaluateFunction(func, inputs);
  if (failed(results))
    return 1;
  if (results->empty())
    return fail("@" + func.getName() + " returns nothing");
  if (outputPaths.size() > results->size())
    return fail("@" + func.getName() + " returns " + Twine(results->size()) +
                " values, " + Twine(outputPaths.size()) + " --output given");
  for (auto [path, value] : llvm::zip_first(outputPaths, *results)) {
    auto array = ::quant::NpyArray::fromDoubles(
        ::quant::NpyType::F64,
        std::vector<int64_t>(value.shape.begin(), value.shape.end()),
        value.data);
    if (!::quant::writeNpyFile(path, array, error))
      return fail(error);
  }
  const qnn::EvalTensor &result = results->front();
  if (printWeights)
    llvm::outs() << llvm::format("weights: %.4f MiB\n",
                                 weightBytes(*module) / (1024.0 * 1024.0));
  if (!referencePath.empty()) {
    std::optional<::quant::NpyArray> reference =
        ::quant::readNpyFile(referencePath, error);
    if (!reference)
      return fail(error);
    std::vector<double> ref = reference->toDoubles();
    if (ref.size() != result.data.size())
      return fail("reference has " + Twine(ref.size()) + " elements, result " +
                  Twine(result.data.size()));
    double maxAbs = 0, noise = 0, signal = 0, dot = 0, norm = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      double d = result.data[i] - ref[i];
      maxAbs = std::max(maxAbs, std::abs(d));
      noise += d * d;
      signal += ref[i] * ref[i];
      dot += ref[i] * result.data[i];
      norm += result.data[i] * result.data[i];
    }
    llvm::outs() << llvm::format(
        "max-abs %.4g  rel %.4g  sqnr %.2f dB  cosine %.6f\n", maxAbs,
        std::sqrt(noise / signal), 10 * std::log10(signal / noise),
        dot / std::sqrt(signal * norm));
  }
  return 0;
}
