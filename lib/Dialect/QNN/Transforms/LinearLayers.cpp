//===- LinearLayers.cpp - activations and the linear layers they feed -----===//

#include "LinearLayers.h"
#include "quant/Dialect/QNN/Transforms/ConstantUtils.h"

#include "llvm/ADT/MapVector.h"

using namespace mlir;
using namespace mlir::qnn;

bool LinearConsumers::usedOnlyByMatmuls() const {
  return llvm::all_of(activation.getUsers(), [&](Operation *user) {
    return llvm::is_contained(matmuls, dyn_cast<MatmulOp>(user));
  });
}

::quant::Matrix LinearConsumers::concatenatedWeights() const {
  int64_t k = weights.front().rows, total = 0;
  for (const ::quant::Matrix &w : weights)
    total += w.cols;
  ::quant::Matrix all(k, total);
  int64_t offset = 0;
  for (const ::quant::Matrix &w : weights) {
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < w.cols; ++c)
        all(r, offset + c) = w(r, c);
    offset += w.cols;
  }
  return all;
}

/// A float-input, float-weight matmul that no earlier pass has rewritten.
static bool isFloatLinear(MatmulOp matmul) {
  return isa<FloatType>(matmul.getInput().getType().getElementType()) &&
         isa<FloatType>(matmul.getWeight().getType().getElementType()) &&
         !matmul.getHadamardPrologue() && !matmul.getSplit() &&
         matmul.getWeight().getType().getRank() == 2;
}

SmallVector<LinearConsumers> qnn::collectLinearConsumers(func::FuncOp func) {
  llvm::MapVector<Value, LinearConsumers> groups;
  func.walk([&](MatmulOp matmul) {
    if (!isFloatLinear(matmul))
      return;
    std::optional<::quant::Matrix> weight = getConstantMatrix(matmul.getWeight());
    if (!weight)
      return;
    LinearConsumers &group = groups[matmul.getInput()];
    group.activation = matmul.getInput();
    group.matmuls.push_back(matmul);
    group.weights.push_back(std::move(*weight));
  });
  return llvm::to_vector(llvm::make_second_range(groups.takeVector()));
}

std::optional<FoldableProducer> qnn::getFoldableProducer(Value activation,
                                                         bool allowRelu) {
  auto matmul = activation.getDefiningOp<MatmulOp>();
  if (!matmul || !isFloatLinear(matmul) ||
      !isa<FloatType>(matmul.getResult().getType().getElementType()))
    return std::nullopt;
  Activation epilogue = matmul.getEpilogue();
  if (epilogue != Activation::none &&
      !(allowRelu && epilogue == Activation::relu))
    return std::nullopt;
  std::optional<::quant::Matrix> weight = getConstantMatrix(matmul.getWeight());
  if (!weight)
    return std::nullopt;
  FoldableProducer producer{matmul, std::move(*weight), std::nullopt};
  if (Value bias = matmul.getBias()) {
    producer.bias = getConstantFloatValues(bias);
    if (!producer.bias)
      return std::nullopt;
  }
  return producer;
}

void qnn::rewriteProducer(OpBuilder &builder, const FoldableProducer &producer,
                          const ::quant::Matrix &weight,
                          const std::optional<std::vector<double>> &bias) {
  MatmulOp matmul = producer.matmul;
  builder.setInsertionPoint(matmul);
  replaceWeight(builder, matmul, weight);
  if (bias) {
    Value old = matmul.getBias();
    matmul.getBiasMutable().assign(createFloatConstant(
        builder, matmul.getLoc(), cast<RankedTensorType>(old.getType()),
        *bias));
    eraseDeadConstant(old);
  }
}

void qnn::replaceWeight(OpBuilder &builder, MatmulOp matmul,
                        const ::quant::Matrix &weight) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPoint(matmul);
  Value old = matmul.getWeight();
  matmul.getWeightMutable().assign(createMatrixConstant(
      builder, matmul.getLoc(), matmul.getWeight().getType().getElementType(),
      weight));
  eraseDeadConstant(old);
}
