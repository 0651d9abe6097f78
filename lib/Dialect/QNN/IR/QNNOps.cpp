//===- QNNOps.cpp - qnn operations ----------------------------------------===//

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Support/Hadamard.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::qnn;

#define GET_OP_CLASSES
#include "quant/Dialect/QNN/IR/QNNOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared verification
//===----------------------------------------------------------------------===//

static bool isSupportedWeightBits(unsigned bits) {
  return bits == 2 || bits == 3 || bits == 4 || bits == 8;
}

static bool isSupportedActivationBits(unsigned bits) {
  return bits == 4 || bits == 8;
}

static bool isSupportedGroupSize(int64_t group) {
  return group == 32 || group == 64 || group == 128;
}

/// Both sizes static and different.
static bool mismatch(int64_t a, int64_t b) {
  return !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b) && a != b;
}

/// A dimension for diagnostics: `?` when dynamic.
static std::string dimString(int64_t dim) {
  return ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
}

static bool isIntegerTensor(Type type) {
  return isa<IntegerType>(cast<ShapedType>(type).getElementType());
}

/// Checks the weight quantization operands shared by matmul, conv2d and
/// pillar_conv: `reduction` is the size of the dimension the scale groups
/// split (K or C_in) and `outputs` the number of output channels.
static LogicalResult verifyWeightQuantization(Operation *op,
                                              RankedTensorType weight,
                                              int64_t reduction,
                                              int64_t outputs, Value scales,
                                              Value zeroPoints) {
  auto intType = dyn_cast<IntegerType>(weight.getElementType());
  if (!intType) {
    if (scales || zeroPoints)
      return op->emitOpError(
          "float weights take no 'scales' or 'zero_points'");
    return success();
  }
  if (!isSupportedWeightBits(intType.getWidth()))
    return op->emitOpError("unsupported weight bit-width ")
           << intType.getWidth() << "; expected 2, 3, 4 or 8";
  if (!scales)
    return op->emitOpError("integer weights require 'scales'");
  auto scalesType = cast<RankedTensorType>(scales.getType());
  if (scalesType.getRank() != 2)
    return op->emitOpError("'scales' must have shape [groups, ")
           << dimString(outputs) << "], got rank " << scalesType.getRank();
  if (mismatch(scalesType.getDimSize(1), outputs))
    return op->emitOpError("'scales' has ")
           << scalesType.getDimSize(1) << " output channels, expected "
           << outputs;
  int64_t groups = scalesType.getDimSize(0);
  if (!ShapedType::isDynamic(groups) && !ShapedType::isDynamic(reduction) &&
      groups != 1) {
    if (groups <= 0 || reduction % groups != 0)
      return op->emitOpError("scale groups (")
             << groups << ") do not divide the reduction dimension ("
             << reduction << ")";
    if (!isSupportedGroupSize(reduction / groups))
      return op->emitOpError("group size ")
             << reduction / groups << " is not supported; expected 32, 64 or "
             << "128 (or one group for per-channel scales)";
  }
  if (zeroPoints) {
    auto zpType = cast<RankedTensorType>(zeroPoints.getType());
    if (zpType.getShape() != scalesType.getShape())
      return op->emitOpError("'zero_points' shape must match 'scales'");
    if (zpType.getElementType() != weight.getElementType())
      return op->emitOpError("'zero_points' element type must match the "
                             "weight storage type ")
             << weight.getElementType();
  }
  return success();
}

/// Statically quantized activations and requantized results use per-tensor
/// `!quant.uniform` types.
static LogicalResult verifyPerTensorQuantType(Operation *op, Type elementType,
                                              StringRef what) {
  auto quantType = dyn_cast<mlir::quant::UniformQuantizedType>(elementType);
  if (!quantType)
    return op->emitOpError() << what
                             << " must use a per-tensor !quant.uniform type";
  if (!isSupportedActivationBits(quantType.getStorageTypeIntegralWidth()))
    return op->emitOpError("unsupported ")
           << what << " bit-width " << quantType.getStorageTypeIntegralWidth()
           << "; expected 4 or 8";
  return success();
}

/// Checks the activation operand; `inputScales` is the per-token scale
/// operand where the op has one.
static LogicalResult verifyActivation(Operation *op, RankedTensorType input,
                                      RankedTensorType weight,
                                      bool acceptsInputScales,
                                      Value inputScales) {
  Type elementType = input.getElementType();
  if (isa<FloatType>(elementType)) {
    if (inputScales)
      return op->emitOpError("float activations take no 'input_scales'");
    return success();
  }
  if (!isIntegerTensor(weight))
    return op->emitOpError(
        "quantized activations require integer (quantized) weights");
  if (isa<mlir::quant::QuantizedType>(elementType)) {
    if (inputScales)
      return op->emitOpError(
          "statically quantized activations take no 'input_scales'");
    return verifyPerTensorQuantType(op, elementType, "activation");
  }
  unsigned bits = cast<IntegerType>(elementType).getWidth();
  if (!isSupportedActivationBits(bits))
    return op->emitOpError("unsupported activation bit-width ")
           << bits << "; expected 4 or 8";
  if (!acceptsInputScales)
    return op->emitOpError("integer activations need per-token scales; use "
                           "a !quant.uniform activation type");
  if (!inputScales)
    return op->emitOpError("integer activations require 'input_scales'");
  auto scalesType = cast<RankedTensorType>(inputScales.getType());
  ArrayRef<int64_t> tokens = input.getShape().drop_back();
  if (scalesType.getRank() != static_cast<int64_t>(tokens.size()) ||
      llvm::any_of(llvm::zip(scalesType.getShape(), tokens), [](auto dims) {
        return mismatch(std::get<0>(dims), std::get<1>(dims));
      }))
    return op->emitOpError("'input_scales' must have one scale per token "
                           "(the input shape without its last dimension)");
  return success();
}

static LogicalResult verifyResultElementType(Operation *op, Type elementType) {
  if (isa<FloatType>(elementType))
    return success();
  return verifyPerTensorQuantType(op, elementType, "requantized result");
}

static LogicalResult verifyBias(Operation *op, Value bias, int64_t outputs) {
  if (!bias)
    return success();
  auto biasType = cast<RankedTensorType>(bias.getType());
  if (biasType.getRank() != 1 || mismatch(biasType.getDimSize(0), outputs))
    return op->emitOpError("'bias' must have shape [")
           << dimString(outputs) << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// HadamardOp
//===----------------------------------------------------------------------===//

/// Checks a Hadamard transform of size `n` with optional ±1 `signs`.
static LogicalResult verifyHadamardSize(Operation *op, int64_t n,
                                        std::optional<ArrayRef<int8_t>> signs) {
  if (ShapedType::isDynamic(n))
    return op->emitOpError("the transformed (last) dimension must be static");
  if (!::quant::isSupportedHadamardSize(n))
    return op->emitOpError("transform size ")
           << n << " is not supported; expected 2^k, 12*2^k, 20*2^k or 28*2^k";
  if (signs) {
    if (static_cast<int64_t>(signs->size()) != n)
      return op->emitOpError("expects ")
             << n << " signs, got " << signs->size();
    if (llvm::any_of(*signs, [](int8_t s) { return s != 1 && s != -1; }))
      return op->emitOpError("signs must be +1 or -1");
  }
  return success();
}

LogicalResult HadamardOp::verify() {
  if (getInput().getType().getRank() < 1)
    return emitOpError("expects a tensor of rank >= 1");
  return verifyHadamardSize(*this, getTransformSize(), getSigns());
}

//===----------------------------------------------------------------------===//
// RotateOp
//===----------------------------------------------------------------------===//

LogicalResult RotateOp::verify() {
  RankedTensorType type = getInput().getType();
  if (type.getRank() < 1)
    return emitOpError("expects a tensor of rank >= 1");
  auto rotationType = cast<ShapedType>(getRotation().getType());
  if (rotationType.getRank() != 2 ||
      rotationType.getDimSize(0) != rotationType.getDimSize(1))
    return emitOpError("rotation must be a square 2-D matrix, got ")
           << rotationType;
  if (mismatch(rotationType.getDimSize(0), type.getShape().back()))
    return emitOpError("rotation of size ")
           << rotationType.getDimSize(0) << " does not match the last "
           << "dimension (" << type.getShape().back() << ")";
  if (rotationType.getElementType() != type.getElementType())
    return emitOpError("rotation element type ")
           << rotationType.getElementType() << " differs from the input's "
           << type.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// ScaleOp
//===----------------------------------------------------------------------===//

LogicalResult ScaleOp::verify() {
  RankedTensorType type = getInput().getType();
  int64_t axis = getAxis();
  if (axis < 0 || axis >= type.getRank())
    return emitOpError("axis ") << axis << " is out of range for rank "
                                << type.getRank();
  if (mismatch(type.getDimSize(axis), getFactors().size()))
    return emitOpError("expects ")
           << type.getDimSize(axis) << " factors along axis " << axis
           << ", got " << getFactors().size();
  return success();
}

OpFoldResult ScaleOp::fold(FoldAdaptor) {
  if (llvm::all_of(getFactors(), [](double f) { return f == 1.0; }))
    return getInput();
  return {};
}

static DenseF64ArrayAttr multiplyFactors(OpBuilder &builder,
                                         DenseF64ArrayAttr lhs,
                                         DenseF64ArrayAttr rhs) {
  SmallVector<double> product;
  for (auto [a, b] : llvm::zip_equal(lhs.asArrayRef(), rhs.asArrayRef()))
    product.push_back(a * b);
  return builder.getDenseF64ArrayAttr(product);
}

namespace {
#include "QNNCanonicalize.inc"
} // namespace

void ScaleOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                          MLIRContext *context) {
  patterns.add<FoldConsecutiveScales>(context);
}

//===----------------------------------------------------------------------===//
// QuantizeOp / DequantizeOp
//===----------------------------------------------------------------------===//

/// Checks that a static `!quant.*` element type fits `tensorType`'s shape and
/// the float type it is expressed in.
static LogicalResult verifyStaticQuantType(Operation *op,
                                           RankedTensorType tensorType,
                                           Type floatType) {
  auto quantType = dyn_cast<mlir::quant::QuantizedType>(tensorType.getElementType());
  if (!quantType)
    return op->emitOpError("static quantization needs a !quant element type; "
                           "integer storage needs 'per_token' scales");
  if (quantType.getExpressedType() != floatType)
    return op->emitOpError("quantized type is expressed in ")
           << quantType.getExpressedType() << " but the float side is "
           << floatType;
  if (!isSupportedWeightBits(quantType.getStorageTypeIntegralWidth()))
    return op->emitOpError("unsupported bit-width ")
           << quantType.getStorageTypeIntegralWidth()
           << "; expected 2, 3, 4 or 8";
  ArrayRef<int64_t> shape = tensorType.getShape();
  if (auto perAxis = dyn_cast<mlir::quant::UniformQuantizedPerAxisType>(quantType)) {
    int32_t dim = perAxis.getQuantizedDimension();
    if (dim >= tensorType.getRank())
      return op->emitOpError("quantized dimension ")
             << dim << " is out of range for rank " << tensorType.getRank();
    if (mismatch(shape[dim], perAxis.getScales().size()))
      return op->emitOpError("per-axis type has ")
             << perAxis.getScales().size() << " scales but dimension " << dim
             << " has size " << shape[dim];
  }
  if (auto blockwise =
          dyn_cast<mlir::quant::UniformQuantizedSubChannelType>(quantType)) {
    ArrayRef<int64_t> scalesShape = blockwise.getScales().getType().getShape();
    if (static_cast<int64_t>(scalesShape.size()) != tensorType.getRank())
      return op->emitOpError("sub-channel scales must have rank ")
             << tensorType.getRank();
    // Dimensions without a listed block size form one block.
    SmallVector<int64_t> blocks(tensorType.getRank(), 1);
    for (auto [dim, block] : blockwise.getBlockSizeInfo()) {
      if (dim >= tensorType.getRank() || ShapedType::isDynamic(shape[dim]))
        return op->emitOpError("sub-channel dimension ")
               << dim << " must be a static dimension of the tensor";
      if (shape[dim] % block != 0)
        return op->emitOpError("block size ")
               << block << " along dimension " << dim
               << " does not divide the tensor's " << shape[dim]
               << " elements";
      blocks[dim] = shape[dim] / block;
    }
    for (int64_t dim = 0, e = tensorType.getRank(); dim < e; ++dim)
      if (scalesShape[dim] != blocks[dim])
        return op->emitOpError("sub-channel scales have ")
               << scalesShape[dim] << " blocks along dimension " << dim
               << ", expected " << blocks[dim];
  }
  return success();
}

/// Checks the per-token form: integer storage and one scale per token.
static LogicalResult verifyPerTokenTypes(Operation *op,
                                         RankedTensorType storageType,
                                         Value scales, Type floatType) {
  if (storageType.getRank() < 1)
    return op->emitOpError("per-token quantization needs a tensor of rank "
                           ">= 1 (tokens along all but the last dimension)");
  auto intType = dyn_cast<IntegerType>(storageType.getElementType());
  if (!intType)
    return op->emitOpError("per-token quantization uses integer storage, got ")
           << storageType.getElementType();
  if (!isSupportedActivationBits(intType.getWidth()))
    return op->emitOpError("unsupported per-token bit-width ")
           << intType.getWidth() << "; expected 4 or 8";
  if (!scales)
    return op->emitOpError("per-token quantization needs a scales tensor");
  auto scalesType = cast<RankedTensorType>(scales.getType());
  if (scalesType.getShape() != storageType.getShape().drop_back() ||
      scalesType.getElementType() != floatType)
    return op->emitOpError("per-token scales must have type ")
           << RankedTensorType::get(storageType.getShape().drop_back(),
                                    floatType);
  return success();
}

LogicalResult QuantizeOp::verify() {
  RankedTensorType input = getInput().getType();
  auto result = cast<RankedTensorType>(getResult().getType());
  if (input.getShape() != result.getShape())
    return emitOpError("result shape must match the input shape");
  if (getPerToken())
    return verifyPerTokenTypes(*this, result, getScales(),
                               input.getElementType());
  if (getScales())
    return emitOpError("a scales result requires 'per_token'");
  return verifyStaticQuantType(*this, result, input.getElementType());
}

LogicalResult QuantizeOp::fold(FoldAdaptor,
                               SmallVectorImpl<OpFoldResult> &results) {
  // quantize(dequantize(q)) == q for one static quantized type: every
  // dequantized value lies on the grid and rounds back to itself.
  auto dequantize = getInput().getDefiningOp<DequantizeOp>();
  if (getPerToken() || !dequantize || dequantize.getScales() ||
      dequantize.getInput().getType() != getResult().getType())
    return failure();
  results.push_back(dequantize.getInput());
  return success();
}

LogicalResult DequantizeOp::verify() {
  auto input = cast<RankedTensorType>(getInput().getType());
  RankedTensorType result = getResult().getType();
  if (input.getShape() != result.getShape())
    return emitOpError("result shape must match the input shape");
  if (isIntegerTensor(input))
    return verifyPerTokenTypes(*this, input, getScales(),
                               result.getElementType());
  if (getScales())
    return emitOpError("statically quantized input takes no scales");
  return verifyStaticQuantType(*this, input, result.getElementType());
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

SmallVector<int64_t> MatmulOp::inferResultShape(RankedTensorType input,
                                                RankedTensorType weight) {
  SmallVector<int64_t> shape(input.getShape().drop_back());
  shape.push_back(weight.getShape().back());
  return shape;
}

void MatmulOp::build(OpBuilder &builder, OperationState &state, Value input,
                     Value weight) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto weightType = cast<RankedTensorType>(weight.getType());
  auto resultType =
      RankedTensorType::get(inferResultShape(inputType, weightType),
                            inputType.getElementType());
  build(builder, state, resultType, input, weight, /*input_scales=*/Value(),
        /*scales=*/Value(), /*zero_points=*/Value(), /*bias=*/Value(),
        /*split=*/PrecisionSplitAttr(), Activation::none,
        /*hadamard_prologue=*/false, /*prologue_signs=*/DenseI8ArrayAttr());
}

LogicalResult MatmulOp::verify() {
  RankedTensorType input = getInput().getType();
  RankedTensorType weight = getWeight().getType();
  if (input.getRank() < 2)
    return emitOpError("input must have rank >= 2 ([..., M, K])");
  if (weight.getRank() != 2 && weight.getRank() != 3)
    return emitOpError("weight must be [K, N] or batched [B, K, N]");
  if (weight.getRank() == 3 &&
      (input.getRank() != 3 ||
       mismatch(input.getDimSize(0), weight.getDimSize(0))))
    return emitOpError("batched weight [B, K, N] needs an input [B, M, K] "
                       "with the same B");
  int64_t weightK = weight.getShape()[weight.getRank() - 2];
  int64_t k = input.getShape().back();
  int64_t n = weight.getShape().back();
  if (mismatch(k, weightK))
    return emitOpError("reduction dimensions differ: input K = ")
           << k << ", weight K = " << weightK;
  if (ShapedType::isDynamic(k))
    k = weightK;

  auto result = cast<RankedTensorType>(getResult().getType());
  SmallVector<int64_t> expected = inferResultShape(input, weight);
  if (result.getRank() != static_cast<int64_t>(expected.size()) ||
      llvm::any_of(llvm::zip(result.getShape(), expected), [](auto dims) {
        return mismatch(std::get<0>(dims), std::get<1>(dims));
      }))
    return emitOpError("result shape must be ")
           << RankedTensorType::get(expected, result.getElementType());

  if (failed(verifyActivation(*this, input, weight,
                              /*acceptsInputScales=*/true, getInputScales())) ||
      failed(verifyWeightQuantization(*this, weight, k, n, getScales(),
                                      getZeroPoints())) ||
      failed(verifyBias(*this, getBias(), n)) ||
      failed(verifyResultElementType(*this, result.getElementType())))
    return failure();

  if (getHadamardPrologue()) {
    if (!isa<FloatType>(input.getElementType()))
      return emitOpError("a Hadamard prologue needs float activations");
    if (failed(verifyHadamardSize(*this, k, getPrologueSigns())))
      return failure();
  } else if (getPrologueSigns()) {
    return emitOpError("'prologue_signs' requires 'hadamard_prologue'");
  }

  if (PrecisionSplitAttr split = getSplitAttr()) {
    auto storage = dyn_cast<IntegerType>(weight.getElementType());
    if (!storage)
      return emitOpError("a precision split needs integer weights");
    if (split.getLowBits() >= storage.getWidth())
      return emitOpError("precision split low_bits (")
             << split.getLowBits() << ") must be below the weight width ("
             << storage.getWidth() << ")";
    ArrayRef<int64_t> columns = split.getHighColumns();
    if (!columns.empty() && !ShapedType::isDynamic(n) && columns.back() >= n)
      return emitOpError("precision split column ")
             << columns.back() << " is out of range for N = " << n;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Conv2DOp
//===----------------------------------------------------------------------===//

namespace {
/// Dimension positions of one convolution layout.
struct ConvDims {
  int64_t batch, channel, height, width;        // input and result
  int64_t filterOut, filterIn, filterH, filterW; // weight
};
} // namespace

static ConvDims getConvDims(ConvLayout layout) {
  if (layout == ConvLayout::nchw)
    return {0, 1, 2, 3, 0, 1, 2, 3};
  return {0, 3, 1, 2, 3, 2, 0, 1};
}

FailureOr<SmallVector<int64_t>> Conv2DOp::inferResultShape() {
  RankedTensorType input = getInput().getType();
  RankedTensorType weight = getWeight().getType();
  if (input.getRank() != 4 || weight.getRank() != 4)
    return emitOpError("input and weight must be 4-D"), failure();
  ArrayRef<int64_t> strides = getStrides(), dilations = getDilations(),
                    padding = getPadding();
  if (strides.size() != 2 || dilations.size() != 2 || padding.size() != 4)
    return emitOpError("expects 2 strides, 2 dilations and 4 paddings "
                       "[top, left, bottom, right]"),
           failure();
  if (llvm::any_of(strides, [](int64_t s) { return s <= 0; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d <= 0; }))
    return emitOpError("strides and dilations must be positive"), failure();
  if (llvm::any_of(padding, [](int64_t p) { return p < 0; }))
    return emitOpError("padding must be non-negative"), failure();

  ConvDims dims = getConvDims(getLayout());
  if (mismatch(input.getDimSize(dims.channel),
               weight.getDimSize(dims.filterIn)))
    return emitOpError("input has ")
               << input.getDimSize(dims.channel)
               << " channels but the weight expects "
               << weight.getDimSize(dims.filterIn),
           failure();

  auto outputSize = [&](int64_t in, int64_t kernel, int64_t stride,
                        int64_t dilation, int64_t padBefore,
                        int64_t padAfter) -> int64_t {
    if (ShapedType::isDynamic(in) || ShapedType::isDynamic(kernel))
      return ShapedType::kDynamic;
    int64_t span = in + padBefore + padAfter - dilation * (kernel - 1) - 1;
    return span < 0 ? 0 : span / stride + 1;
  };
  int64_t oh = outputSize(input.getDimSize(dims.height),
                          weight.getDimSize(dims.filterH), strides[0],
                          dilations[0], padding[0], padding[2]);
  int64_t ow = outputSize(input.getDimSize(dims.width),
                          weight.getDimSize(dims.filterW), strides[1],
                          dilations[1], padding[1], padding[3]);
  if ((!ShapedType::isDynamic(oh) && oh <= 0) ||
      (!ShapedType::isDynamic(ow) && ow <= 0))
    return emitOpError("the dilated kernel does not fit the padded input"),
           failure();

  SmallVector<int64_t> shape(4);
  shape[dims.batch] = input.getDimSize(dims.batch);
  shape[dims.channel] = weight.getDimSize(dims.filterOut);
  shape[dims.height] = oh;
  shape[dims.width] = ow;
  return shape;
}

LogicalResult Conv2DOp::verify() {
  FailureOr<SmallVector<int64_t>> expected = inferResultShape();
  if (failed(expected))
    return failure();
  auto result = cast<RankedTensorType>(getResult().getType());
  if (result.getRank() != 4 ||
      llvm::any_of(llvm::zip(result.getShape(), *expected), [](auto dims) {
        return mismatch(std::get<0>(dims), std::get<1>(dims));
      }))
    return emitOpError("result shape must be ")
           << RankedTensorType::get(*expected, result.getElementType());

  RankedTensorType input = getInput().getType();
  RankedTensorType weight = getWeight().getType();
  ConvDims dims = getConvDims(getLayout());
  int64_t filters = weight.getDimSize(dims.filterOut);
  return success(
      succeeded(verifyActivation(*this, input, weight,
                                 /*acceptsInputScales=*/false, Value())) &&
      succeeded(verifyWeightQuantization(*this, weight,
                                         weight.getDimSize(dims.filterIn),
                                         filters, getScales(),
                                         getZeroPoints())) &&
      succeeded(verifyBias(*this, getBias(), filters)) &&
      succeeded(verifyResultElementType(*this, result.getElementType())));
}

//===----------------------------------------------------------------------===//
// PillarConvOp
//===----------------------------------------------------------------------===//

LogicalResult PillarConvOp::verify() {
  RankedTensorType features = getFeatures().getType();
  RankedTensorType coords = getCoords().getType();
  RankedTensorType weight = getWeight().getType();
  if (features.getRank() != 2)
    return emitOpError("features must be [N, C_in]");
  if (coords.getRank() != 2 || mismatch(coords.getDimSize(1), 3))
    return emitOpError("coords must be [N, 3] (batch, y, x)");
  int64_t active = features.getDimSize(0);
  if (mismatch(coords.getDimSize(0), active))
    return emitOpError("coords have ")
           << coords.getDimSize(0) << " pillars but features have " << active;
  if (weight.getRank() != 4)
    return emitOpError("weight must be [KH, KW, C_in, C_out]");
  int64_t kh = weight.getDimSize(0), kw = weight.getDimSize(1);
  if (ShapedType::isDynamic(kh) || kh != kw || kh % 2 == 0)
    return emitOpError("kernel must be square with an odd static size, got ")
           << dimString(kh) << "x" << dimString(kw);
  int64_t cin = features.getDimSize(1), cout = weight.getDimSize(3);
  if (mismatch(weight.getDimSize(2), cin))
    return emitOpError("weight expects ")
           << weight.getDimSize(2) << " input channels, features have " << cin;

  ArrayRef<int64_t> grid = getGrid();
  if (grid.size() != 2 || grid[0] <= 0 || grid[1] <= 0)
    return emitOpError("grid must be [H, W] with positive sizes");
  if (getStride() != 1 && getStride() != 2)
    return emitOpError("stride must be 1 or 2, got ") << getStride();

  std::optional<double> threshold, ratio;
  if (std::optional<APFloat> value = getThreshold())
    threshold = value->convertToDouble();
  if (std::optional<APFloat> value = getTopkRatio())
    ratio = value->convertToDouble();
  if (getKind() == PillarConvKind::submanifold) {
    if (threshold || ratio || getImportance())
      return emitOpError("'threshold', 'topk_ratio' and 'importance' apply "
                         "only to selective_dilation");
  } else {
    if (threshold.has_value() == ratio.has_value())
      return emitOpError("selective_dilation needs exactly one of "
                         "'threshold' and 'topk_ratio'");
    if (ratio && !(*ratio > 0.0 && *ratio <= 1.0))
      return emitOpError("topk_ratio must be in (0, 1]");
    if (Value importance = getImportance()) {
      auto importanceType = cast<RankedTensorType>(importance.getType());
      if (importanceType.getRank() != 1 ||
          mismatch(importanceType.getDimSize(0), active))
        return emitOpError("'importance' must have shape [")
               << dimString(active) << "]";
    }
  }

  auto outFeatures = cast<RankedTensorType>(getOutputFeatures().getType());
  RankedTensorType outCoords = getOutputCoords().getType();
  if (outFeatures.getRank() != 2 || mismatch(outFeatures.getDimSize(1), cout))
    return emitOpError("output features must be [M, ")
           << dimString(cout) << "]";
  if (outCoords.getRank() != 2 || mismatch(outCoords.getDimSize(1), 3) ||
      mismatch(outCoords.getDimSize(0), outFeatures.getDimSize(0)))
    return emitOpError("output coords must be [M, 3] with the same M as the "
                       "output features");
  bool sameActiveSet =
      getKind() == PillarConvKind::submanifold && getStride() == 1;
  if (sameActiveSet && mismatch(outFeatures.getDimSize(0), active))
    return emitOpError("a stride-1 submanifold conv keeps the ")
           << active << " active sites, result has "
           << outFeatures.getDimSize(0);

  return success(
      succeeded(verifyActivation(*this, features, weight,
                                 /*acceptsInputScales=*/false, Value())) &&
      succeeded(verifyWeightQuantization(*this, weight, cin, cout, getScales(),
                                         getZeroPoints())) &&
      succeeded(verifyBias(*this, getBias(), cout)) &&
      succeeded(
          verifyResultElementType(*this, outFeatures.getElementType())));
}

//===----------------------------------------------------------------------===//
// UKernelOp
//===----------------------------------------------------------------------===//

LogicalResult UKernelOp::verify() {
  ArrayRef<int64_t> positions = getOutputPositions();
  int64_t arguments = getInputs().size() + getOutputs().size();
  if (positions.size() != getOutputs().size())
    return emitOpError("expects one output position per 'outs' operand, got ")
           << positions.size() << " for " << getOutputs().size();
  for (auto [index, position] : llvm::enumerate(positions))
    if (position < 0 || position >= arguments ||
        (index > 0 && position <= positions[index - 1]))
      return emitOpError("output positions must increase within [0, ")
             << arguments << ")";
  bool onTensors = llvm::all_of(getOutputs().getTypes(), [](Type type) {
    return isa<RankedTensorType>(type);
  });
  bool onBuffers = llvm::all_of(getOutputs().getTypes(), [](Type type) {
    return isa<MemRefType>(type);
  });
  if (!onTensors && !onBuffers)
    return emitOpError("'outs' must be all ranked tensors or all memrefs");
  if (onBuffers && !getResults().empty())
    return emitOpError("on memrefs the op has no results");
  if (onTensors && getResults().getTypes() != getOutputs().getTypes())
    return emitOpError("results must have the types of the 'outs' operands");
  return success();
}

void UKernelOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : getInputsMutable())
    if (isa<MemRefType>(operand.get().getType()))
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  for (OpOperand &operand : getOutputsMutable()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    effects.emplace_back(MemoryEffects::Read::get(), &operand,
                         SideEffects::DefaultResource::get());
    effects.emplace_back(MemoryEffects::Write::get(), &operand,
                         SideEffects::DefaultResource::get());
  }
}
