//===- QuantizeWeights.cpp - RTN/GPTQ weight and activation quantization --===//

#include "Calibration.h"
#include "quant/Dialect/QNN/Transforms/ConstantUtils.h"

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Dialect/QNN/Transforms/Passes.h"
#include "quant/Quantization/Quantizer.h"
#include "quant/Support/Packing.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"

namespace mlir::qnn {
#define GEN_PASS_DEF_QNNQUANTIZEWEIGHTS
#include "quant/Dialect/QNN/Transforms/Passes.h.inc"
} // namespace mlir::qnn

using namespace mlir;
using namespace mlir::qnn;

namespace {

/// The integer weight, scales and zero points replacing a float weight.
struct QuantizedOperands {
  Value weight, scales, zeroPoints;
};

/// Materializes `quantized` (rows in `rowOrder` order of the original
/// weight's elements) as constants: `rowOfElement(i)`/`colOfElement(i)` map
/// an element of the weight tensor to its (reduction row, output column).
template <typename RowFn, typename ColFn>
QuantizedOperands materialize(OpBuilder &builder, Location loc,
                              RankedTensorType weightType, unsigned bits,
                              bool symmetric,
                              const ::quant::QuantizedWeight &quantized,
                              RowFn rowOfElement, ColFn colOfElement) {
  MLIRContext *ctx = builder.getContext();
  auto storage = IntegerType::get(ctx, bits);
  std::vector<int32_t> values(weightType.getNumElements());
  for (int64_t i = 0, e = values.size(); i < e; ++i)
    values[i] =
        quantized.values[rowOfElement(i) * quantized.cols + colOfElement(i)];
  QuantizedOperands result;
  result.weight = createIntegerConstant(
      builder, loc, RankedTensorType::get(weightType.getShape(), storage),
      values);
  auto groupsType =
      RankedTensorType::get({quantized.groups, quantized.cols}, storage);
  result.scales = createFloatConstant(
      builder, loc,
      RankedTensorType::get(groupsType.getShape(), Float32Type::get(ctx)),
      quantized.scales);
  if (!symmetric)
    result.zeroPoints =
        createIntegerConstant(builder, loc, groupsType, quantized.zeroPoints);
  return result;
}

struct QNNQuantizeWeightsPass
    : qnn::impl::QNNQuantizeWeightsBase<QNNQuantizeWeightsPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  LogicalResult validateOptions(func::FuncOp func);
  /// The layer's `qnn.bits` (from --qnn-allocate-bits), else `bits`.
  unsigned bitsOf(Operation *op) {
    if (auto allocated =
            op->getAttrOfType<IntegerAttr>(QNNDialect::getBitsAttrName()))
      return allocated.getInt();
    return bits;
  }
  /// Group length along a reduction dimension of size `k` (0 = per channel),
  /// or failure with a diagnostic on `op`.
  FailureOr<int64_t> groupLength(Operation *op, int64_t k);
  /// RTN, or GPTQ when the layer's input Hessian XᵀX is given.
  LogicalResult quantizeMatmul(OpBuilder &builder, MatmulOp matmul,
                               const ::quant::Matrix *hessian);
  LogicalResult quantizeConv(OpBuilder &builder, Conv2DOp conv);
  /// The activation operand replacement for `matmul`'s input.
  FailureOr<std::pair<Value, Value>> quantizeActivation(OpBuilder &builder,
                                                        MatmulOp matmul);

  llvm::DenseMap<Value, std::pair<Value, Value>> dynamicActivations;
};

LogicalResult QNNQuantizeWeightsPass::validateOptions(func::FuncOp func) {
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
    return func.emitError("--qnn-quantize-weights bits must be 2, 3, 4 or 8, "
                          "got ")
           << static_cast<unsigned>(bits);
  if (group != 0 && group != 32 && group != 64 && group != 128)
    return func.emitError("--qnn-quantize-weights group must be 0 (per "
                          "channel), 32, 64 or 128, got ")
           << static_cast<int64_t>(group);
  if (method != "rtn" && method != "gptq")
    return func.emitError("--qnn-quantize-weights method must be rtn or gptq, "
                          "got '")
           << method << "'";
  if (abits != 0 && abits != 4 && abits != 8)
    return func.emitError("--qnn-quantize-weights abits must be 0, 4 or 8, "
                          "got ")
           << static_cast<unsigned>(abits);
  if (act != "dynamic" && act != "static")
    return func.emitError("--qnn-quantize-weights act must be dynamic or "
                          "static, got '")
           << act << "'";
  return success();
}

FailureOr<int64_t> QNNQuantizeWeightsPass::groupLength(Operation *op,
                                                       int64_t k) {
  if (group == 0)
    return int64_t(0);
  if (k % group != 0)
    return op->emitOpError("group size ")
           << static_cast<int64_t>(group) << " does not divide the reduction dimension (" << k
           << "); use group=0 or a divisor";
  return int64_t(group);
}

FailureOr<std::pair<Value, Value>>
QNNQuantizeWeightsPass::quantizeActivation(OpBuilder &builder,
                                           MatmulOp matmul) {
  Value input = matmul.getInput();
  auto inputType = cast<RankedTensorType>(input.getType());
  MLIRContext *ctx = builder.getContext();
  if (act == "dynamic") {
    auto [it, inserted] = dynamicActivations.try_emplace(input);
    if (inserted) {
      builder.setInsertionPointAfterValue(input);
      auto storage = RankedTensorType::get(inputType.getShape(),
                                           IntegerType::get(ctx, abits));
      auto scales = RankedTensorType::get(inputType.getShape().drop_back(),
                                          inputType.getElementType());
      auto quantize = QuantizeOp::create(builder, matmul.getLoc(), storage,
                                         scales, input, /*per_token=*/true);
      it->second = {quantize.getResult(), quantize.getScales()};
    }
    return it->second;
  }
  auto stats = matmul->getAttrOfType<CalibStatsAttr>(
      QNNDialect::getCalibStatsAttrName());
  if (!stats)
    return matmul.emitOpError("act=static needs '")
           << QNNDialect::getCalibStatsAttrName()
           << "' on its input; run --qnn-calibrate first";
  double absmax = 0.0;
  for (double v : stats.getAbsmax().asArrayRef())
    absmax = std::max(absmax, v);
  double scale =
      absmax > 0.0 ? absmax / ::quant::integerMax(abits, /*isSigned=*/true)
                   : 1.0;
  auto quantType = mlir::quant::UniformQuantizedType::get(
      mlir::quant::QuantizationFlags::Signed, IntegerType::get(ctx, abits),
      inputType.getElementType(), scale, /*zeroPoint=*/0,
      ::quant::integerMin(abits, true), ::quant::integerMax(abits, true));
  builder.setInsertionPoint(matmul);
  Value quantized = QuantizeOp::create(
      builder, matmul.getLoc(),
      RankedTensorType::get(inputType.getShape(), quantType), Type(), input,
      /*per_token=*/false).getResult();
  return std::pair<Value, Value>(quantized, Value());
}

LogicalResult
QNNQuantizeWeightsPass::quantizeMatmul(OpBuilder &builder, MatmulOp matmul,
                                       const ::quant::Matrix *hessian) {
  std::optional<::quant::Matrix> weight = getConstantMatrix(matmul.getWeight());
  FailureOr<int64_t> length = groupLength(matmul, weight->rows);
  if (failed(length))
    return failure();
  unsigned layerBits = bitsOf(matmul);
  ::quant::WeightQuantScheme scheme{layerBits, *length, symmetric};
  ::quant::QuantizedWeight quantized;
  if (hessian) {
    quantized = ::quant::quantizeGPTQ(*weight, *hessian, scheme);
  } else {
    quantized = ::quant::quantizeRTN(*weight, scheme);
  }

  Value input = matmul.getInput(), inputScales;
  if (abits != 0) {
    FailureOr<std::pair<Value, Value>> activation =
        quantizeActivation(builder, matmul);
    if (failed(activation))
      return failure();
    std::tie(input, inputScales) = *activation;
  }

  builder.setInsertionPoint(matmul);
  int64_t cols = weight->cols;
  QuantizedOperands operands = materialize(
      builder, matmul.getLoc(), matmul.getWeight().getType(), layerBits,
      symmetric,
      quantized, [&](int64_t i) { return i / cols; },
      [&](int64_t i) { return i % cols; });
  auto replacement = MatmulOp::create(
      builder, matmul.getLoc(), matmul.getResult().getType(), input,
      operands.weight, inputScales, operands.scales, operands.zeroPoints,
      matmul.getBias(), matmul.getSplitAttr(), matmul.getEpilogue(),
      /*hadamard_prologue=*/false, DenseI8ArrayAttr());
  replacement->setDiscardableAttrs(matmul->getDiscardableAttrDictionary());
  Value oldWeight = matmul.getWeight();
  matmul.replaceAllUsesWith(replacement.getResult());
  matmul.erase();
  eraseDeadConstant(oldWeight);
  return success();
}

LogicalResult QNNQuantizeWeightsPass::quantizeConv(OpBuilder &builder,
                                                   Conv2DOp conv) {
  RankedTensorType weightType = conv.getWeight().getType();
  std::optional<std::vector<double>> values =
      getConstantFloatValues(conv.getWeight());
  if (!values || !weightType.hasStaticShape())
    return success();
  ArrayRef<int64_t> shape = weightType.getShape();
  bool nchw = conv.getLayout() == ConvLayout::nchw;
  // Weight dims: nchw [F, C, KH, KW], nhwc [KH, KW, C, F].
  int64_t f = nchw ? shape[0] : shape[3], c = nchw ? shape[1] : shape[2];
  int64_t kh = nchw ? shape[2] : shape[0], kw = nchw ? shape[3] : shape[1];
  FailureOr<int64_t> length = groupLength(conv, c);
  if (failed(length))
    return failure();

  // Reduction rows ordered (c, y, x) so that a channel group is contiguous.
  auto rowOf = [&](int64_t i) -> int64_t {
    int64_t y, x, ch;
    if (nchw) {
      x = i % kw, y = (i / kw) % kh, ch = (i / (kw * kh)) % c;
    } else {
      ch = (i / f) % c, x = (i / (f * c)) % kw, y = i / (f * c * kw);
    }
    return (ch * kh + y) * kw + x;
  };
  auto colOf = [&](int64_t i) -> int64_t {
    return nchw ? i / (c * kh * kw) : i % f;
  };
  ::quant::Matrix matrix(c * kh * kw, f);
  for (int64_t i = 0, e = values->size(); i < e; ++i)
    matrix(rowOf(i), colOf(i)) = (*values)[i];
  unsigned layerBits = bitsOf(conv);
  ::quant::WeightQuantScheme scheme{layerBits, *length * kh * kw, symmetric};
  ::quant::QuantizedWeight quantized = ::quant::quantizeRTN(matrix, scheme);

  builder.setInsertionPoint(conv);
  QuantizedOperands operands =
      materialize(builder, conv.getLoc(), weightType, layerBits, symmetric,
                  quantized, rowOf, colOf);
  Value oldWeight = conv.getWeight();
  conv.getWeightMutable().assign(operands.weight);
  eraseDeadConstant(oldWeight);
  conv.getScalesMutable().assign(operands.scales);
  if (operands.zeroPoints)
    conv.getZeroPointsMutable().assign(operands.zeroPoints);
  return success();
}

void QNNQuantizeWeightsPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (failed(validateOptions(func)))
    return signalPassFailure();

  SmallVector<MatmulOp> matmuls;
  SmallVector<Conv2DOp> convs;
  func.walk([&](Operation *op) {
    if (auto matmul = dyn_cast<MatmulOp>(op)) {
      if (isa<FloatType>(matmul.getWeight().getType().getElementType()) &&
          isa<FloatType>(matmul.getInput().getType().getElementType()) &&
          !matmul.getHadamardPrologue() && getConstantMatrix(matmul.getWeight()))
        matmuls.push_back(matmul);
    } else if (auto conv = dyn_cast<Conv2DOp>(op)) {
      if (isa<FloatType>(conv.getWeight().getType().getElementType()))
        convs.push_back(conv);
    }
  });

  // Layer inputs are recorded before any rewrite: replacing a matmul
  // changes the value its consumers read.
  llvm::DenseMap<Operation *, ::quant::Matrix> hessians;
  if (method == "gptq" && !matmuls.empty()) {
    SmallVector<Value> inputs = llvm::map_to_vector(
        matmuls, [](MatmulOp m) -> Value { return m.getInput(); });
    FailureOr<llvm::DenseMap<Value, ::quant::Matrix>> samples =
        collectActivations(func, calibration,
                           "--qnn-quantize-weights calibration", inputs);
    if (failed(samples))
      return signalPassFailure();
    for (MatmulOp matmul : matmuls) {
      const ::quant::Matrix &x = samples->find(matmul.getInput())->second;
      hessians[matmul] = ::quant::matmulTransposedLhs(x, x);
    }
  }

  OpBuilder builder(&getContext());
  dynamicActivations.clear();
  for (MatmulOp matmul : matmuls) {
    auto it = hessians.find(matmul);
    if (failed(quantizeMatmul(builder, matmul,
                              it == hessians.end() ? nullptr : &it->second)))
      return signalPassFailure();
  }
  for (Conv2DOp conv : convs)
    if (failed(quantizeConv(builder, conv)))
      return signalPassFailure();
}

} // namespace
