//===- SmoothOutliers.cpp - SmoothQuant/AWQ outlier migration -------------===//

#include "Calibration.h"
#include "quant/Dialect/QNN/Transforms/ConstantUtils.h"
#include "LinearLayers.h"

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Dialect/QNN/Transforms/Passes.h"
#include "quant/Quantization/Transforms.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::qnn {
#define GEN_PASS_DEF_QNNSMOOTHOUTLIERS
#include "quant/Dialect/QNN/Transforms/Passes.h.inc"
} // namespace mlir::qnn

using namespace mlir;
using namespace mlir::qnn;

namespace {

/// Per-channel vectors of a norm written as linalg.generic whose result is
/// linear in them: y = t·gamma (RMSNorm) or y = t·gamma + beta (LayerNorm),
/// with gamma and beta constant [K] inputs read along the last dimension.
struct NormAffineInputs {
  linalg::GenericOp norm;
  OpOperand *gamma = nullptr;
  OpOperand *beta = nullptr;
};

/// The input operand feeding block argument `value` if it is a rank-1
/// constant read along the innermost loop and used once in the body.
OpOperand *getChannelConstant(linalg::GenericOp op, Value value) {
  auto arg = dyn_cast<BlockArgument>(value);
  if (!arg || arg.getOwner() != op.getBody() || !arg.hasOneUse() ||
      arg.getArgNumber() >= op.getNumDpsInputs())
    return nullptr;
  OpOperand *operand = op.getDpsInputOperand(arg.getArgNumber());
  AffineMap map = op.getMatchingIndexingMap(operand);
  if (map.getNumResults() != 1 ||
      map.getResult(0) != getAffineDimExpr(map.getNumDims() - 1,
                                           op.getContext()) ||
      !getConstantFloatValues(operand->get()))
    return nullptr;
  return operand;
}

std::optional<NormAffineInputs> matchNorm(Value activation) {
  auto op = activation.getDefiningOp<linalg::GenericOp>();
  if (!op || op.getNumResults() != 1 ||
      op.getNumParallelLoops() != op.getNumLoops() ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity())
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(op.getBody()->getTerminator());
  Value result = yield.getValues()[0];
  NormAffineInputs inputs{op};
  if (auto add = result.getDefiningOp<arith::AddFOp>()) {
    for (auto [maybeBeta, rest] : {std::pair(add.getLhs(), add.getRhs()),
                                   std::pair(add.getRhs(), add.getLhs())})
      if (OpOperand *beta = getChannelConstant(op, maybeBeta)) {
        inputs.beta = beta;
        result = rest;
        break;
      }
    if (!inputs.beta)
      return std::nullopt;
  }
  auto mul = result.getDefiningOp<arith::MulFOp>();
  if (!mul || !mul->hasOneUse())
    return std::nullopt;
  inputs.gamma = getChannelConstant(op, mul.getLhs());
  if (!inputs.gamma)
    inputs.gamma = getChannelConstant(op, mul.getRhs());
  if (!inputs.gamma)
    return std::nullopt;
  return inputs;
}

std::vector<double> divided(ArrayRef<double> values, ArrayRef<double> by) {
  std::vector<double> out(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    out[i] = values[i] / by[i];
  return out;
}

/// Calibration statistics of X·diag(1/s), from those of X (s > 0).
CalibStatsAttr smoothStats(CalibStatsAttr stats, ArrayRef<double> factors) {
  MLIRContext *ctx = stats.getContext();
  auto scaled = [&](DenseF64ArrayAttr attr) {
    return DenseF64ArrayAttr::get(ctx, divided(attr.asArrayRef(), factors));
  };
  return CalibStatsAttr::get(ctx, stats.getAxis(), stats.getSamples(),
                             scaled(stats.getAbsmax()), scaled(stats.getMin()),
                             scaled(stats.getMax()), stats.getPercentile(),
                             scaled(stats.getPercentileAbsmax()));
}

struct QNNSmoothOutliersPass
    : qnn::impl::QNNSmoothOutliersBase<QNNSmoothOutliersPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// Per-channel absmax of the activation from the consumers' statistics.
  FailureOr<std::vector<double>> activationAbsMax(const LinearConsumers &consumers);
  /// Divides the activation by `factors`, in its producer when possible.
  void smoothActivation(OpBuilder &builder, const LinearConsumers &consumers,
                        ArrayRef<double> factors);
};

FailureOr<std::vector<double>>
QNNSmoothOutliersPass::activationAbsMax(const LinearConsumers &consumers) {
  int64_t k = consumers.weights.front().rows;
  std::vector<double> absmax(k, 0.0);
  for (MatmulOp matmul : consumers.matmuls) {
    auto stats = matmul->getAttrOfType<CalibStatsAttr>(
        QNNDialect::getCalibStatsAttrName());
    if (!stats)
      return matmul.emitOpError("needs '")
             << QNNDialect::getCalibStatsAttrName()
             << "' on its input for --qnn-smooth-outliers; run "
                "--qnn-calibrate first";
    if (stats.getAxis() != matmul.getInput().getType().getRank() - 1 ||
        stats.getNumChannels() != k)
      return matmul.emitOpError("calibration statistics must describe the ")
             << k << " input channels along the last axis";
    for (int64_t j = 0; j < k; ++j)
      absmax[j] = std::max(absmax[j], stats.getAbsmax()[j]);
  }
  return absmax;
}

void QNNSmoothOutliersPass::smoothActivation(OpBuilder &builder,
                                             const LinearConsumers &consumers,
                                             ArrayRef<double> factors) {
  int64_t k = factors.size();
  if (consumers.usedOnlyByMatmuls()) {
    // Positive diagonal scalings commute with relu.
    if (std::optional<FoldableProducer> producer =
            getFoldableProducer(consumers.activation, /*allowRelu=*/true)) {
      ::quant::Matrix weight = producer->weight;
      for (int64_t r = 0; r < weight.rows; ++r)
        for (int64_t c = 0; c < k; ++c)
          weight(r, c) /= factors[c];
      std::optional<std::vector<double>> bias;
      if (producer->bias)
        bias = divided(*producer->bias, factors);
      rewriteProducer(builder, *producer, weight, bias);
      return;
    }
    if (std::optional<NormAffineInputs> norm = matchNorm(consumers.activation)) {
      builder.setInsertionPoint(norm->norm);
      for (OpOperand *operand : {norm->gamma, norm->beta}) {
        if (!operand)
          continue;
        operand->set(createFloatConstant(
            builder, norm->norm.getLoc(),
            cast<RankedTensorType>(operand->get().getType()),
            divided(*getConstantFloatValues(operand->get()), factors)));
      }
      return;
    }
  }
  builder.setInsertionPointAfterValue(consumers.activation);
  std::vector<double> inverse(k);
  for (int64_t j = 0; j < k; ++j)
    inverse[j] = 1.0 / factors[j];
  auto type = cast<RankedTensorType>(consumers.activation.getType());
  Value scaled = ScaleOp::create(builder, consumers.activation.getLoc(), type,
                                 consumers.activation,
                                 builder.getI64IntegerAttr(type.getRank() - 1),
                                 builder.getDenseF64ArrayAttr(inverse));
  for (MatmulOp matmul : consumers.matmuls)
    matmul.getInputMutable().assign(scaled);
}

void QNNSmoothOutliersPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (!(alpha >= 0.0 && alpha <= 1.0)) {
    func.emitError("--qnn-smooth-outliers alpha must be in [0, 1], got ")
        << static_cast<double>(alpha);
    return signalPassFailure();
  }
  SmallVector<LinearConsumers> groups = collectLinearConsumers(func);
  if (groups.empty())
    return;

  llvm::DenseMap<Value, ::quant::Matrix> samples;
  if (search) {
    SmallVector<Value> activations = llvm::map_to_vector(
        groups, [](const LinearConsumers &g) { return g.activation; });
    FailureOr<llvm::DenseMap<Value, ::quant::Matrix>> collected =
        collectActivations(func, calibration,
                           "--qnn-smooth-outliers calibration", activations);
    if (failed(collected))
      return signalPassFailure();
    samples = std::move(*collected);
  }

  OpBuilder builder(&getContext());
  for (const LinearConsumers &consumers : groups) {
    ::quant::Matrix weights = consumers.concatenatedWeights();
    std::vector<double> factors;
    if (search) {
      // The calibration sample itself gives the activation statistics.
      ::quant::WeightQuantScheme scheme{wbits, group, /*symmetric=*/true};
      factors = ::quant::searchSmoothing(samples.lookup(consumers.activation),
                                         weights, abits, scheme)
                    .factors;
    } else {
      FailureOr<std::vector<double>> absmaxX = activationAbsMax(consumers);
      if (failed(absmaxX))
        return signalPassFailure();
      factors = ::quant::smoothingFactors(*absmaxX, ::quant::rowAbsMax(weights),
                                          alpha);
    }

    // Channels whose factor is 1 are already balanced.
    if (llvm::all_of(factors, [](double s) { return s == 1.0; }))
      continue;
    for (auto [matmul, weight] : llvm::zip(consumers.matmuls, consumers.weights)) {
      ::quant::Matrix smoothed = weight;
      for (int64_t r = 0; r < smoothed.rows; ++r)
        for (int64_t c = 0; c < smoothed.cols; ++c)
          smoothed(r, c) *= factors[r];
      replaceWeight(builder, matmul, smoothed);
      if (auto stats = matmul->getAttrOfType<CalibStatsAttr>(
              QNNDialect::getCalibStatsAttrName()))
        matmul->setAttr(QNNDialect::getCalibStatsAttrName(),
                        smoothStats(stats, factors));
    }
    smoothActivation(builder, consumers, factors);
  }
}

} // namespace
