//===- Calibration.cpp - layer inputs on a calibration sample -------------===//

#include "Calibration.h"

#include "quant/Evaluator/Evaluator.h"
#include "quant/Support/Npy.h"

#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace mlir::qnn;

static ::quant::Matrix asRows(const EvalTensor &tensor) {
  int64_t channels = tensor.shape.empty() ? 1 : tensor.shape.back();
  ::quant::Matrix matrix(tensor.numElements() / std::max<int64_t>(channels, 1),
                         channels);
  matrix.data = tensor.data;
  return matrix;
}

FailureOr<llvm::DenseMap<Value, ::quant::Matrix>>
qnn::collectActivations(func::FuncOp func, StringRef path, StringRef option,
                        ArrayRef<Value> values) {
  if (path.empty())
    return func.emitError("'")
           << option << "' is required: pass a .npy sample of the function's "
           << "argument";
  if (func.getNumArguments() != 1)
    return func.emitError("calibration needs a function with exactly one "
                          "argument, '")
           << func.getName() << "' has " << func.getNumArguments();
  auto argType = dyn_cast<RankedTensorType>(func.getArgument(0).getType());
  if (!argType)
    return func.emitError("calibration needs a ranked tensor argument");

  std::string error;
  std::optional<::quant::NpyArray> sample =
      ::quant::readNpyFile(path.str(), error);
  if (!sample)
    return func.emitError("cannot read calibration sample: ") << error;

  if (static_cast<int64_t>(sample->shape.size()) != argType.getRank() ||
      llvm::any_of(llvm::zip(sample->shape, argType.getShape()), [](auto d) {
        return !ShapedType::isDynamic(std::get<1>(d)) &&
               std::get<0>(d) != std::get<1>(d);
      }))
    return func.emitError("calibration sample '")
           << path << "' does not match the argument type " << argType;

  EvalTensor input(llvm::ArrayRef<int64_t>(sample->shape));
  input.data = sample->toDoubles();

  llvm::DenseMap<Value, ::quant::Matrix> activations;
  llvm::DenseSet<Value> wanted(values.begin(), values.end());
  if (wanted.contains(func.getArgument(0)))
    activations[func.getArgument(0)] = asRows(input);
  FailureOr<SmallVector<EvalTensor>> outputs = evaluateFunction(
      func, ArrayRef<EvalTensor>(input), [&](Operation *op, ArrayRef<EvalTensor> results) {
        for (auto [result, tensor] : llvm::zip(op->getResults(), results))
          if (wanted.contains(result))
            activations[result] = asRows(tensor);
      });
  if (failed(outputs))
    return func.emitError("cannot evaluate '")
           << func.getName() << "' on the calibration sample";
  return activations;
}
