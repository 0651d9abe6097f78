//===- QuantOps.cpp - qnn ops and upstream quant casts --------------------===//
//
// The float semantics written in QNNOps.td, computed the slow, obvious way:
// dequantize every operand to float64, run the dense loops, apply bias and
// activation, requantize. In particular the Hadamard transform is a dense
// product with the ±1 matrix so that it checks the fast transform instead of
// sharing code with it.
//
// Storage values of quantized tensors are held as the integers they encode;
// a signless integer operand is read in the view its role gives it (signed
// for symmetric weights and per-token activations, unsigned when zero points
// come with it), so either view of the same bits is accepted as input.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorInternal.h"

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Support/Hadamard.h"

#include "mlir/Dialect/Quant/IR/Quant.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::evaluator;

namespace {

//===----------------------------------------------------------------------===//
// Static !quant.uniform grids
//===----------------------------------------------------------------------===//

/// Scale and zero point of every element of a tensor with a static
/// `!quant.uniform` element type: per-tensor, per-axis or sub-channel.
class QuantGrid {
public:
  static FailureOr<QuantGrid> get(Operation *op, Type elementType,
                                  ArrayRef<int64_t> shape) {
    auto uniform = dyn_cast<mlir::quant::QuantizedType>(elementType);
    if (!uniform)
      return emitUnsupported(op)
             << "element type " << elementType << " is not a !quant type";
    QuantGrid grid;
    grid.storageMin = uniform.getStorageTypeMin();
    grid.storageMax = uniform.getStorageTypeMax();
    grid.storageWidth = uniform.getStorageTypeIntegralWidth();
    grid.isSigned = uniform.isSigned();
    grid.shape.assign(shape.begin(), shape.end());
    grid.strides = rowMajorStrides(shape);

    if (auto perTensor = dyn_cast<mlir::quant::UniformQuantizedType>(uniform)) {
      grid.scales = {perTensor.getScale()};
      grid.zeroPoints = {static_cast<double>(perTensor.getZeroPoint())};
      grid.blockSizes.assign(shape.begin(), shape.end());
      return grid.finish();
    }
    if (auto perAxis =
            dyn_cast<mlir::quant::UniformQuantizedPerAxisType>(uniform)) {
      int64_t axis = perAxis.getQuantizedDimension();
      if (axis < 0 || axis >= static_cast<int64_t>(shape.size()) ||
          static_cast<int64_t>(perAxis.getScales().size()) != shape[axis])
        return op->emitOpError("per-axis type ")
               << elementType << " does not fit a tensor of shape "
               << formatShape(shape);
      grid.scales.assign(perAxis.getScales().begin(),
                         perAxis.getScales().end());
      for (int64_t zeroPoint : perAxis.getZeroPoints())
        grid.zeroPoints.push_back(static_cast<double>(zeroPoint));
      grid.blockSizes.assign(shape.begin(), shape.end());
      grid.blockSizes[axis] = 1;
      return grid.finish();
    }
    if (auto subChannel =
            dyn_cast<mlir::quant::UniformQuantizedSubChannelType>(uniform)) {
      FailureOr<EvalTensor> scales =
          readElementsAttr(op, subChannel.getScales());
      FailureOr<EvalTensor> zeroPoints =
          readElementsAttr(op, subChannel.getZeroPoints());
      if (failed(scales) || failed(zeroPoints))
        return failure();
      if (scales->shape.size() != shape.size() ||
          zeroPoints->shape != scales->shape)
        return op->emitOpError("sub-channel scales of shape ")
               << formatShape(scales->shape) << " do not fit a tensor of shape "
               << formatShape(shape);
      // Every dimension is split into equal blocks; unlisted dimensions
      // form one block, which the scale tensor's shape already says.
      for (auto [size, blocks] : llvm::zip(shape, scales->shape)) {
        if (blocks <= 0 || size % blocks != 0)
          return op->emitOpError("sub-channel scales of shape ")
                 << formatShape(scales->shape) << " do not tile shape "
                 << formatShape(shape);
        grid.blockSizes.push_back(size / blocks);
      }
      grid.scales = std::move(scales->data);
      grid.zeroPoints = std::move(zeroPoints->data);
      return grid.finish();
    }
    return emitUnsupported(op) << "quantized type " << elementType;
  }

  /// Scale and zero point of the element at row-major position `flat`.
  std::pair<double, double> at(int64_t flat) const {
    if (scales.size() == 1)
      return {scales.front(), zeroPoints.front()};
    int64_t index = 0;
    for (size_t dim = 0; dim < shape.size(); ++dim) {
      int64_t i = (flat / strides[dim]) % shape[dim];
      index += (i / blockSizes[dim]) * gridStrides[dim];
    }
    return {scales[index], zeroPoints[index]};
  }

  /// The stored integer in the storage type's own signedness.
  double storageValue(double q) const {
    return isSigned ? wrapSigned(q, storageWidth)
                    : wrapUnsigned(q, storageWidth);
  }

  /// clamp(roundeven(x / scale) + zero_point, qmin, qmax); NaN maps to the
  /// zero point (the encoding of 0) rather than to an arbitrary bound.
  double quantize(double x, double scale, double zeroPoint) const {
    double q = roundHalfToEven(x / scale) + zeroPoint;
    if (std::isnan(q))
      q = zeroPoint;
    return std::clamp(q, static_cast<double>(storageMin),
                      static_cast<double>(storageMax));
  }

  int64_t storageMin = 0, storageMax = 0;

private:
  /// Strides of the scale grid, one block per entry along each dimension.
  QuantGrid &finish() {
    SmallVector<int64_t> blockCounts;
    for (auto [size, block] : llvm::zip(shape, blockSizes))
      blockCounts.push_back(block ? size / block : 1);
    gridStrides = rowMajorStrides(blockCounts);
    return *this;
  }

  unsigned storageWidth = 0;
  bool isSigned = true;
  SmallVector<int64_t> shape, strides, blockSizes, gridStrides;
  std::vector<double> scales, zeroPoints;
};

FailureOr<EvalTensor> quantizeStatic(Operation *op, const EvalTensor &input,
                                     Type quantElementType) {
  FailureOr<QuantGrid> grid = QuantGrid::get(op, quantElementType, input.shape);
  if (failed(grid))
    return failure();
  EvalTensor result(input.shape);
  for (int64_t i = 0, e = input.numElements(); i < e; ++i) {
    auto [scale, zeroPoint] = grid->at(i);
    result.data[i] = grid->quantize(input.data[i], scale, zeroPoint);
  }
  return result;
}

FailureOr<EvalTensor> dequantizeStatic(Operation *op, const EvalTensor &input,
                                       Type quantElementType) {
  FailureOr<QuantGrid> grid = QuantGrid::get(op, quantElementType, input.shape);
  if (failed(grid))
    return failure();
  EvalTensor result(input.shape);
  for (int64_t i = 0, e = input.numElements(); i < e; ++i) {
    auto [scale, zeroPoint] = grid->at(i);
    result.data[i] = (grid->storageValue(input.data[i]) - zeroPoint) * scale;
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Per-token quantization
//===----------------------------------------------------------------------===//

/// Symmetric quantization with scale = absmax(token) / (2^(b-1) - 1). The
/// scale is rounded to the element type it is returned in, and the integers
/// are computed from that rounded scale, so that (q, scale) dequantize to
/// what a lowering storing the scale in that type produces. An all-zero
/// token gets scale 0 and zeros (instead of 0/0).
FailureOr<Results> quantizePerToken(QuantizeOp op, const EvalTensor &input) {
  unsigned bits = getIntegerWidth(elementTypeOf(op.getResult()));
  auto scaleType = dyn_cast<FloatType>(elementTypeOf(op.getScales()));
  if (bits < 2 || !scaleType || input.shape.empty())
    return emitUnsupported(op) << "per-token form with these types";
  int64_t tokenSize = input.shape.back();
  int64_t tokens = tokenSize ? input.numElements() / tokenSize : 0;
  double qmax = std::ldexp(1.0, bits - 1) - 1.0;
  double qmin = -qmax - 1.0;

  EvalTensor values(input.shape);
  EvalTensor scales(ArrayRef<int64_t>(input.shape).drop_back());
  for (int64_t token = 0; token < tokens; ++token) {
    const double *x = input.data.data() + token * tokenSize;
    double absmax = 0.0;
    for (int64_t i = 0; i < tokenSize; ++i)
      absmax = std::max(absmax, std::fabs(x[i]));
    double scale = roundToFloatType(absmax / qmax, scaleType);
    scales.data[token] = scale;
    for (int64_t i = 0; i < tokenSize; ++i) {
      double q = scale == 0.0 ? 0.0 : roundHalfToEven(x[i] / scale);
      values.data[token * tokenSize + i] =
          std::isnan(q) ? 0.0 : std::clamp(q, qmin, qmax);
    }
  }
  Results results;
  results.push_back(std::move(values));
  results.push_back(std::move(scales));
  return results;
}

/// x = q · scale[token] with q read as signed storage.
FailureOr<EvalTensor> dequantizePerToken(Operation *op, const EvalTensor &input,
                                         unsigned bits,
                                         const EvalTensor &scales) {
  int64_t tokenSize = input.shape.empty() ? 1 : input.shape.back();
  int64_t tokens = tokenSize ? input.numElements() / tokenSize : 0;
  if (scales.numElements() != tokens)
    return op->emitOpError("per-token scales hold ")
           << scales.numElements() << " values for " << tokens << " tokens";
  EvalTensor result(input.shape);
  for (int64_t i = 0, e = input.numElements(); i < e; ++i)
    result.data[i] =
        wrapSigned(input.data[i], bits) * scales.data[i / tokenSize];
  return result;
}

double applyActivation(Activation activation, double x) {
  switch (activation) {
  case Activation::none:
    return x;
  case Activation::relu:
    return std::max(x, 0.0);
  case Activation::relu6:
    return std::min(std::max(x, 0.0), 6.0);
  case Activation::gelu:
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  case Activation::silu:
    return x / (1.0 + std::exp(-x));
  }
  return x;
}

} // namespace

//===----------------------------------------------------------------------===//
// Shared with PillarOps.cpp (declared in EvaluatorInternal.h)
//===----------------------------------------------------------------------===//

/// The value of `operand` among `op`'s operands, or null when absent.
const EvalTensor *evaluator::operandValue(Operation *op, Operands operands,
                                          Value operand) {
  if (!operand)
    return nullptr;
  for (auto [index, candidate] : llvm::enumerate(op->getOperands()))
    if (candidate == operand)
      return operands[index];
  return nullptr;
}

/// The activation operand in float64: float as is, static !quant.uniform
/// dequantized from its type, integer storage with per-token `tokenScales`.
FailureOr<EvalTensor>
evaluator::dequantizeActivation(Operation *op, Value input,
                                const EvalTensor &values,
                                const EvalTensor *tokenScales) {
  Type elementType = elementTypeOf(input);
  if (isa<FloatType>(elementType))
    return values;
  if (isa<mlir::quant::QuantizedType>(elementType))
    return dequantizeStatic(op, values, elementType);
  if (unsigned bits = getIntegerWidth(elementType)) {
    if (!tokenScales)
      return op->emitOpError("integer activations need per-token scales");
    return dequantizePerToken(op, values, bits, *tokenScales);
  }
  return emitUnsupported(op) << "activation element type " << elementType;
}

/// The weight in float64. Integer storage is dequantized group-wise:
/// w = (q - zero_point[g, n]) · scale[g, n] with g = k / (K / G); the
/// storage is read unsigned when zero points are given (asymmetric) and
/// signed otherwise.
FailureOr<EvalTensor> evaluator::dequantizeWeight(Operation *op, Value weight,
                                                  const EvalTensor &values,
                                                  const EvalTensor *scales,
                                                  const EvalTensor *zeroPoints,
                                                  WeightLayout layout) {
  Type elementType = elementTypeOf(weight);
  if (isa<FloatType>(elementType))
    return values;
  unsigned bits = getIntegerWidth(elementType);
  if (!bits)
    return emitUnsupported(op) << "weight element type " << elementType;
  if (!scales)
    return op->emitOpError("integer weights need 'scales'");
  int64_t reduction = values.shape[layout.reductionAxis];
  int64_t outputs = values.shape[layout.outputAxis];
  if (scales->shape.size() != 2 || scales->shape[1] != outputs ||
      scales->shape[0] <= 0 || reduction % scales->shape[0] != 0)
    return op->emitOpError("'scales' of shape ")
           << formatShape(scales->shape) << " do not fit " << reduction
           << " reduction by " << outputs << " output channels";
  if (zeroPoints && zeroPoints->shape != scales->shape)
    return op->emitOpError("'zero_points' shape differs from 'scales'");
  int64_t groupSize = reduction / scales->shape[0];

  SmallVector<int64_t> strides = rowMajorStrides(values.shape);
  EvalTensor result(values.shape);
  for (int64_t i = 0, e = values.numElements(); i < e; ++i) {
    int64_t k = (i / strides[layout.reductionAxis]) % reduction;
    int64_t n = (i / strides[layout.outputAxis]) % outputs;
    int64_t param = (k / groupSize) * outputs + n;
    double q = zeroPoints ? wrapUnsigned(values.data[i], bits)
                          : wrapSigned(values.data[i], bits);
    double zeroPoint =
        zeroPoints ? wrapUnsigned(zeroPoints->data[param], bits) : 0.0;
    result.data[i] = (q - zeroPoint) * scales->data[param];
  }
  return result;
}

/// Bias along `channelAxis`, the activation, then requantization when the
/// result type is `!quant.uniform`.
FailureOr<EvalTensor> evaluator::finishEpilogue(Operation *op,
                                                EvalTensor accumulator,
                                                const EvalTensor *bias,
                                                int64_t channelAxis,
                                                Activation activation) {
  int64_t channels = accumulator.shape[channelAxis];
  int64_t stride = rowMajorStrides(accumulator.shape)[channelAxis];
  if (bias && bias->numElements() != channels)
    return op->emitOpError("'bias' holds ")
           << bias->numElements() << " values for " << channels
           << " output channels";
  for (int64_t i = 0, e = accumulator.numElements(); i < e; ++i) {
    double value = accumulator.data[i];
    if (bias)
      value += bias->data[(i / stride) % channels];
    accumulator.data[i] = applyActivation(activation, value);
  }
  Type resultType = elementTypeOf(op->getResult(0));
  if (isa<mlir::quant::QuantizedType>(resultType))
    return quantizeStatic(op, accumulator, resultType);
  return accumulator;
}

namespace {

//===----------------------------------------------------------------------===//
// qnn ops
//===----------------------------------------------------------------------===//

/// y = (x · D) · H / sqrt(n) along the last dimension, as a dense product
/// with the ±1 matrix; `signs` is the diagonal of D (identity when absent).
FailureOr<EvalTensor> applyHadamard(Operation *op, const EvalTensor &input,
                                    std::optional<ArrayRef<int8_t>> signs) {
  if (input.shape.empty())
    return op->emitOpError("expects a tensor of rank >= 1");
  int64_t n = input.shape.back();
  if (!::quant::isSupportedHadamardSize(n))
    return op->emitOpError("transform size ") << n << " is not supported";
  std::vector<int8_t> hadamard = ::quant::hadamardMatrix(n);
  std::vector<double> diagonal(n, 1.0);
  if (signs) {
    if (static_cast<int64_t>(signs->size()) != n)
      return op->emitOpError("expects ")
             << n << " signs, got " << signs->size();
    for (int64_t i = 0; i < n; ++i)
      diagonal[i] = (*signs)[i];
  }
  double norm = std::sqrt(static_cast<double>(n));
  EvalTensor result(input.shape);
  std::vector<double> row(n);
  for (int64_t r = 0, rows = input.numElements() / n; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i)
      row[i] = input.data[r * n + i] * diagonal[i];
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i)
        sum += row[i] * hadamard[i * n + j];
      result.data[r * n + j] = sum / norm;
    }
  }
  return result;
}

/// Values of the low-precision columns must fit `low_bits`: the lowering
/// packs them at that width, so a value outside would be silently wrong.
LogicalResult checkPrecisionSplit(MatmulOp op, const EvalTensor &weight) {
  PrecisionSplitAttr split = op.getSplitAttr();
  if (!split)
    return success();
  unsigned lowBits = split.getLowBits();
  bool isUnsigned = static_cast<bool>(op.getZeroPoints());
  unsigned bits = getIntegerWidth(elementTypeOf(op.getWeight()));
  int64_t columns = weight.shape.back();
  llvm::SmallDenseSet<int64_t> high(split.getHighColumns().begin(),
                                    split.getHighColumns().end());
  double lo = isUnsigned ? 0.0 : -std::ldexp(1.0, lowBits - 1);
  double hi = isUnsigned ? std::ldexp(1.0, lowBits) - 1
                         : std::ldexp(1.0, lowBits - 1) - 1;
  for (int64_t i = 0, e = weight.numElements(); i < e; ++i) {
    if (high.contains(i % columns))
      continue;
    double q = isUnsigned ? wrapUnsigned(weight.data[i], bits)
                          : wrapSigned(weight.data[i], bits);
    if (q < lo || q > hi)
      return op.emitOpError("weight value ")
             << q << " in low-precision column " << i % columns
             << " does not fit the split's " << lowBits << " bits";
  }
  return success();
}

FailureOr<Results> evaluateMatmul(MatmulOp op, Operands operands) {
  Operation *operation = op.getOperation();
  const EvalTensor &inputValues =
      *operandValue(operation, operands, op.getInput());
  const EvalTensor &weightValues =
      *operandValue(operation, operands, op.getWeight());
  if (failed(checkPrecisionSplit(op, weightValues)))
    return failure();
  FailureOr<EvalTensor> input = dequantizeActivation(
      operation, op.getInput(), inputValues,
      operandValue(operation, operands, op.getInputScales()));
  if (failed(input))
    return failure();
  // The fused prologue is exactly a qnn.hadamard of the input along K.
  if (op.getHadamardPrologue()) {
    input = applyHadamard(operation, *input, op.getPrologueSigns());
    if (failed(input))
      return failure();
  }
  size_t weightRank = weightValues.shape.size();
  if (weightRank != 2 && weightRank != 3)
    return op.emitOpError("weight must be rank 2 or 3");
  FailureOr<EvalTensor> weight =
      dequantizeWeight(operation, op.getWeight(), weightValues,
                       operandValue(operation, operands, op.getScales()),
                       operandValue(operation, operands, op.getZeroPoints()),
                       {static_cast<int64_t>(weightRank) - 2,
                        static_cast<int64_t>(weightRank) - 1});
  if (failed(weight))
    return failure();

  ArrayRef<int64_t> inputShape = input->shape;
  if (inputShape.size() < 2)
    return op.emitOpError("input must have rank >= 2");
  int64_t m = inputShape[inputShape.size() - 2], k = inputShape.back();
  int64_t n = weight->shape.back();
  if (weight->shape[weightRank - 2] != k)
    return op.emitOpError("input K = ")
           << k << " differs from weight K = " << weight->shape[weightRank - 2];
  int64_t batches = (m * k) != 0 ? input->numElements() / (m * k) : 0;
  bool batchedWeight = weightRank == 3;
  if (batchedWeight &&
      (inputShape.size() != 3 || weight->shape[0] != inputShape[0]))
    return op.emitOpError("batched weight needs an input with the same batch");

  SmallVector<int64_t> resultShape(inputShape.drop_back());
  resultShape.push_back(n);
  EvalTensor accumulator(resultShape);
  for (int64_t b = 0; b < batches; ++b) {
    const double *w = weight->data.data() + (batchedWeight ? b * k * n : 0);
    for (int64_t row = 0; row < m; ++row) {
      const double *a = input->data.data() + (b * m + row) * k;
      double *out = accumulator.data.data() + (b * m + row) * n;
      for (int64_t kk = 0; kk < k; ++kk)
        for (int64_t col = 0; col < n; ++col)
          out[col] += a[kk] * w[kk * n + col];
    }
  }
  FailureOr<EvalTensor> result = finishEpilogue(
      operation, std::move(accumulator),
      operandValue(operation, operands, op.getBias()),
      static_cast<int64_t>(resultShape.size()) - 1, op.getEpilogue());
  if (failed(result))
    return failure();
  return singleResult(std::move(*result));
}

FailureOr<Results> evaluateConv2D(Conv2DOp op, Operands operands) {
  Operation *operation = op.getOperation();
  bool nchw = op.getLayout() == ConvLayout::nchw;
  const EvalTensor &inputValues =
      *operandValue(operation, operands, op.getInput());
  const EvalTensor &weightValues =
      *operandValue(operation, operands, op.getWeight());
  if (inputValues.shape.size() != 4 || weightValues.shape.size() != 4)
    return op.emitOpError("input and weight must be 4-D");
  FailureOr<EvalTensor> input =
      dequantizeActivation(operation, op.getInput(), inputValues, nullptr);
  // Weight axes: FCHW (nchw) or HWCF (nhwc).
  WeightLayout layout = nchw ? WeightLayout{1, 0} : WeightLayout{2, 3};
  FailureOr<EvalTensor> weight = dequantizeWeight(
      operation, op.getWeight(), weightValues,
      operandValue(operation, operands, op.getScales()),
      operandValue(operation, operands, op.getZeroPoints()), layout);
  if (failed(input) || failed(weight))
    return failure();

  ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations(),
                    padding = op.getPadding();
  if (strides.size() != 2 || dilations.size() != 2 || padding.size() != 4)
    return op.emitOpError("expects 2 strides, 2 dilations and 4 paddings");
  ArrayRef<int64_t> in = input->shape, w = weight->shape;
  int64_t batch = in[0];
  int64_t channels = nchw ? in[1] : in[3];
  int64_t height = nchw ? in[2] : in[1], width = nchw ? in[3] : in[2];
  int64_t filters = nchw ? w[0] : w[3], weightChannels = nchw ? w[1] : w[2];
  int64_t kernelH = nchw ? w[2] : w[0], kernelW = nchw ? w[3] : w[1];
  if (weightChannels != channels)
    return op.emitOpError("input has ")
           << channels << " channels, weight expects " << weightChannels;
  int64_t outH =
      (height + padding[0] + padding[2] - dilations[0] * (kernelH - 1) - 1) /
          strides[0] +
      1;
  int64_t outW =
      (width + padding[1] + padding[3] - dilations[1] * (kernelW - 1) - 1) /
          strides[1] +
      1;
  if (outH <= 0 || outW <= 0)
    return op.emitOpError("the dilated kernel does not fit the padded input");

  auto inputAt = [&](int64_t b, int64_t c, int64_t y, int64_t x) {
    return nchw ? input->data[((b * channels + c) * height + y) * width + x]
                : input->data[((b * height + y) * width + x) * channels + c];
  };
  auto weightAt = [&](int64_t f, int64_t c, int64_t ky, int64_t kx) {
    return nchw
               ? weight
                     ->data[((f * channels + c) * kernelH + ky) * kernelW + kx]
               : weight
                     ->data[((ky * kernelW + kx) * channels + c) * filters + f];
  };
  SmallVector<int64_t> resultShape =
      nchw ? SmallVector<int64_t>{batch, filters, outH, outW}
           : SmallVector<int64_t>{batch, outH, outW, filters};
  EvalTensor accumulator(resultShape);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t f = 0; f < filters; ++f)
      for (int64_t oy = 0; oy < outH; ++oy)
        for (int64_t ox = 0; ox < outW; ++ox) {
          double sum = 0.0;
          for (int64_t c = 0; c < channels; ++c)
            for (int64_t ky = 0; ky < kernelH; ++ky) {
              int64_t y = oy * strides[0] + ky * dilations[0] - padding[0];
              if (y < 0 || y >= height)
                continue;
              for (int64_t kx = 0; kx < kernelW; ++kx) {
                int64_t x = ox * strides[1] + kx * dilations[1] - padding[1];
                if (x < 0 || x >= width)
                  continue;
                sum += inputAt(b, c, y, x) * weightAt(f, c, ky, kx);
              }
            }
          int64_t offset = nchw ? ((b * filters + f) * outH + oy) * outW + ox
                                : ((b * outH + oy) * outW + ox) * filters + f;
          accumulator.data[offset] = sum;
        }
  FailureOr<EvalTensor> result =
      finishEpilogue(operation, std::move(accumulator),
                     operandValue(operation, operands, op.getBias()),
                     nchw ? 1 : 3, op.getEpilogue());
  if (failed(result))
    return failure();
  return singleResult(std::move(*result));
}

FailureOr<Results> evaluateRotate(RotateOp op, const EvalTensor &input) {
  FailureOr<EvalTensor> rotation =
      readElementsAttr(op, cast<ElementsAttr>(op.getRotation()));
  if (failed(rotation))
    return failure();
  int64_t n = input.shape.empty() ? 0 : input.shape.back();
  if (rotation->shape != SmallVector<int64_t>{n, n})
    return op.emitOpError("rotation of shape ")
           << formatShape(rotation->shape) << " does not match the last "
           << "dimension " << n;
  EvalTensor result(input.shape);
  for (int64_t row = 0, rows = n ? input.numElements() / n : 0; row < rows;
       ++row)
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i)
        sum += input.data[row * n + i] * rotation->data[i * n + j];
      result.data[row * n + j] = sum;
    }
  return singleResult(std::move(result));
}

FailureOr<Results> evaluateScale(ScaleOp op, const EvalTensor &input) {
  int64_t axis = op.getAxis();
  ArrayRef<double> factors = op.getFactors();
  if (axis < 0 || axis >= static_cast<int64_t>(input.shape.size()) ||
      input.shape[axis] != static_cast<int64_t>(factors.size()))
    return op.emitOpError("factors do not match dimension ") << axis;
  int64_t stride = rowMajorStrides(input.shape)[axis];
  EvalTensor result(input.shape);
  for (int64_t i = 0, e = input.numElements(); i < e; ++i)
    result.data[i] = input.data[i] * factors[(i / stride) % factors.size()];
  return singleResult(std::move(result));
}

} // namespace

FailureOr<Results> evaluator::evaluateQuantOp(Operation *op,
                                              Operands operands) {
  using Result = FailureOr<Results>;
  auto wrap = [](FailureOr<EvalTensor> tensor) -> Result {
    if (failed(tensor))
      return failure();
    return singleResult(std::move(*tensor));
  };
  return llvm::TypeSwitch<Operation *, Result>(op)
      .Case([&](HadamardOp hadamard) -> Result {
        return wrap(applyHadamard(op, *operands[0], hadamard.getSigns()));
      })
      .Case(
          [&](RotateOp rotate) { return evaluateRotate(rotate, *operands[0]); })
      .Case([&](ScaleOp scale) { return evaluateScale(scale, *operands[0]); })
      .Case([&](QuantizeOp quantize) -> Result {
        if (quantize.getPerToken())
          return quantizePerToken(quantize, *operands[0]);
        return wrap(quantizeStatic(op, *operands[0],
                                   elementTypeOf(quantize.getResult())));
      })
      .Case([&](DequantizeOp dequantize) -> Result {
        Type storageType = elementTypeOf(dequantize.getInput());
        if (dequantize.getScales())
          return wrap(dequantizePerToken(
              op, *operands[0], getIntegerWidth(storageType), *operands[1]));
        return wrap(dequantizeStatic(op, *operands[0], storageType));
      })
      .Case([&](MatmulOp matmul) { return evaluateMatmul(matmul, operands); })
      .Case([&](Conv2DOp conv) { return evaluateConv2D(conv, operands); })
      .Case([&](PillarConvOp pillar) {
        return evaluatePillarConv(pillar, operands);
      })
      .Case([&](mlir::quant::QuantizeCastOp cast) -> Result {
        return wrap(
            quantizeStatic(op, *operands[0], elementTypeOf(cast.getResult())));
      })
      .Case([&](mlir::quant::DequantizeCastOp cast) -> Result {
        return wrap(
            dequantizeStatic(op, *operands[0], elementTypeOf(cast.getInput())));
      })
      // Storage casts reinterpret the same integers.
      .Case([&](mlir::quant::StorageCastOp) -> Result {
        return singleResult(*operands[0]);
      })
      .Default([&](Operation *) -> Result {
        return emitUnsupported(op) << "no reference semantics for this op yet";
      });
}
