//===- NNOps.cpp - ONNX convolution, matmul, pooling, norms, resize -------===//
//
// Convolutions and matmuls with constant weights come out as the named linalg
// ops --qnn-import-linalg raises (conv_2d_nchw_fchw behind a zero tensor.pad,
// matmul with a constant rhs); biases and batch norms become per-channel
// affine generics with [C, 1, 1] constants, the form --qnn-fuse folds.
//
//===----------------------------------------------------------------------===//

#include "ONNXImporter.h"
#include "TensorBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::onnx_import;

namespace {

Type elementTypeOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getElementType();
}

/// Input `index` in `shape`: reshaped at import time when constant.
Value reshapedInput(NodeContext &node, unsigned index,
                    ArrayRef<int64_t> shape) {
  if (const ConstTensor *value = node.constantInput(index))
    return node.materialize(value->reshaped(shape));
  return buildReshape(node.builder, node.loc, node.input(index), shape);
}

Value buildAdd(OpBuilder &b, Location loc, Value lhs, Value rhs) {
  auto type = cast<RankedTensorType>(lhs.getType());
  return buildElementwise(b, loc, type.getShape(), type.getElementType(),
                          {lhs, rhs},
                          [](OpBuilder &nb, Location l, ValueRange args) {
                            return arith::AddFOp::create(nb, l, args[0],
                                                         args[1])
                                .getResult();
                          });
}

Value buildScaled(OpBuilder &b, Location loc, Value x, double factor) {
  auto type = cast<RankedTensorType>(x.getType());
  return buildElementwise(
      b, loc, type.getShape(), type.getElementType(), x,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        return arith::MulFOp::create(
                   nb, l, args[0],
                   buildScalar(nb, l, type.getElementType(), factor))
            .getResult();
      });
}

LogicalResult requireFloat(NodeContext &node, unsigned index) {
  if (!isFloatType(node.inputType(index)))
    return node.fail("input " + Twine(index) + " must be a float tensor, got " +
                     getTypeName(node.inputType(index)));
  return success();
}

/// Adds input `index` (a [C] bias) along dimension 1 of `x`.
Value addChannelBias(NodeContext &node, Value x, unsigned index) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(type.getRank() - 1, 1);
  shape[0] = type.getDimSize(1);
  return buildAdd(node.builder, node.loc, x,
                  reshapedInput(node, index, shape));
}

//===----------------------------------------------------------------------===//
// Sliding windows (Conv, ConvTranspose, pools)
//===----------------------------------------------------------------------===//

struct Window {
  SmallVector<int64_t> kernel, strides, dilations, padBegin, padEnd, output;
  /// padEnd before ceil mode extends it: what count_include_pad counts.
  SmallVector<int64_t> explicitPadEnd;
};

/// Reads strides, dilations, pads/auto_pad of a 2-D window over `input`
/// (spatial sizes) and computes the output sizes; with `ceilMode` the last
/// partial window counts, and padEnd grows to cover it.
FailureOr<Window> readWindow(NodeContext &node, ArrayRef<int64_t> input,
                             ArrayRef<int64_t> kernel, bool ceilMode) {
  Window w;
  w.kernel.assign(kernel.begin(), kernel.end());
  size_t n = input.size();
  w.strides = node.getInts("strides", SmallVector<int64_t>(n, 1));
  w.dilations = node.getInts("dilations", SmallVector<int64_t>(n, 1));
  SmallVector<int64_t> pads = node.getInts("pads", SmallVector<int64_t>(2 * n, 0));
  if (w.strides.size() != n || w.dilations.size() != n || pads.size() != 2 * n)
    return node.fail("'strides', 'dilations' or 'pads' has the wrong length");
  std::string autoPad = node.getString("auto_pad", "NOTSET");
  for (size_t d = 0; d < n; ++d) {
    if (w.strides[d] <= 0 || w.dilations[d] <= 0 || kernel[d] <= 0 ||
        pads[d] < 0 || pads[d + n] < 0)
      return node.fail("strides, dilations and kernel sizes must be positive "
                       "and pads non-negative");
    int64_t extent = (kernel[d] - 1) * w.dilations[d] + 1;
    int64_t begin = pads[d], end = pads[d + n];
    if (autoPad == "VALID") {
      begin = end = 0;
    } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      int64_t out = (input[d] + w.strides[d] - 1) / w.strides[d];
      int64_t total =
          std::max<int64_t>((out - 1) * w.strides[d] + extent - input[d], 0);
      begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    } else if (autoPad != "NOTSET" && !autoPad.empty()) {
      return node.fail("unknown auto_pad '" + autoPad + "'");
    }
    int64_t span = input[d] + begin + end - extent;
    if (span < 0)
      return node.fail("the window is larger than the padded input");
    int64_t out = (ceilMode ? span + w.strides[d] - 1 : span) / w.strides[d] + 1;
    // The last window must start inside the input or the begin padding.
    if (ceilMode && (out - 1) * w.strides[d] >= input[d] + begin)
      --out;
    w.explicitPadEnd.push_back(end);
    end = std::max(end, (out - 1) * w.strides[d] + extent - input[d] - begin);
    w.padBegin.push_back(begin);
    w.padEnd.push_back(end);
    w.output.push_back(out);
  }
  return w;
}

/// [0, 0, spatial...] pads of an NCHW tensor.
SmallVector<int64_t> withBatchAndChannel(ArrayRef<int64_t> spatial) {
  SmallVector<int64_t> result = {0, 0};
  llvm::append_range(result, spatial);
  return result;
}

LogicalResult requireRank4(NodeContext &node, StringRef what) {
  if (node.inputShape(0).size() != 4)
    return node.fail("only 2-D " + what +
                     " (rank-4 NCHW inputs) are supported");
  return success();
}

LogicalResult convertConv(NodeContext &node) {
  if (failed(requireRank4(node, "convolutions")) ||
      failed(requireFloat(node, 0)))
    return failure();
  ArrayRef<int64_t> x = node.inputShape(0), w = node.inputShape(1);
  int64_t groups = node.getInt("group", 1);
  int64_t batch = x[0], channels = x[1], filters = w.size() == 4 ? w[0] : 0;
  if (w.size() != 4 || groups <= 0 || channels % groups != 0 ||
      filters % groups != 0 || w[1] != channels / groups)
    return node.fail("weight shape does not match the input channels and "
                     "'group'");
  SmallVector<int64_t> kernel = {w[2], w[3]};
  if (node.hasAttr("kernel_shape") && node.getInts("kernel_shape") != kernel)
    return node.fail("'kernel_shape' does not match the weight");
  FailureOr<Window> window = readWindow(node, x.drop_front(2), kernel, false);
  if (failed(window))
    return failure();

  OpBuilder &b = node.builder;
  Location loc = node.loc;
  Value input = buildPad(b, loc, node.input(0),
                         withBatchAndChannel(window->padBegin),
                         withBatchAndChannel(window->padEnd), 0.0);
  Type elementType = elementTypeOf(input);
  auto strides = b.getI64TensorAttr(window->strides);
  auto dilations = b.getI64TensorAttr(window->dilations);
  int64_t oh = window->output[0], ow = window->output[1];
  Value result;
  if (groups == 1) {
    Value init = buildFilled(b, loc, {batch, filters, oh, ow}, elementType, 0);
    result = linalg::Conv2DNchwFchwOp::create(
                 b, loc, TypeRange{init.getType()},
                 ValueRange{input, node.input(1)}, ValueRange{init}, strides,
                 dilations)
                 .getResult(0);
  } else {
    auto paddedShape = cast<RankedTensorType>(input.getType()).getShape();
    Value grouped = buildReshape(b, loc, input,
                                 {batch, groups, channels / groups,
                                  paddedShape[2], paddedShape[3]});
    Value weight = reshapedInput(
        node, 1, {groups, filters / groups, channels / groups, w[2], w[3]});
    Value init = buildFilled(b, loc, {batch, groups, filters / groups, oh, ow},
                             elementType, 0);
    result = linalg::Conv2DNgchwGfchwOp::create(
                 b, loc, TypeRange{init.getType()},
                 ValueRange{grouped, weight}, ValueRange{init}, strides,
                 dilations)
                 .getResult(0);
    result = buildReshape(b, loc, result, {batch, filters, oh, ow});
  }
  if (node.hasInput(2))
    result = addChannelBias(node, result, 2);
  node.setOutput(0, result);
  return success();
}

/// A stride-1 convolution with the flipped, transposed kernel over the
/// input spread out by the stride and padded by kernel extent − 1 − pad.
LogicalResult convertConvTranspose(NodeContext &node) {
  if (failed(requireRank4(node, "transposed convolutions")) ||
      failed(requireFloat(node, 0)))
    return failure();
  if (node.getInt("group", 1) != 1)
    return node.fail("grouped ConvTranspose is not supported");
  FailureOr<const ConstTensor *> weight =
      node.requireConstant(1, "the weight");
  if (failed(weight) || failed(requireFloat(node, 1)))
    return failure();
  ArrayRef<int64_t> x = node.inputShape(0), w = (*weight)->shape;
  if (w.size() != 4 || w[0] != x[1])
    return node.fail("weight shape does not match the input channels");
  int64_t batch = x[0], channels = x[1], filters = w[1];
  SmallVector<int64_t> kernel = {w[2], w[3]};
  SmallVector<int64_t> strides = node.getInts("strides", {1, 1});
  SmallVector<int64_t> dilations = node.getInts("dilations", {1, 1});
  SmallVector<int64_t> pads = node.getInts("pads", {0, 0, 0, 0});
  SmallVector<int64_t> outputPadding = node.getInts("output_padding", {0, 0});
  SmallVector<int64_t> outputShape = node.getInts("output_shape");
  std::string autoPad = node.getString("auto_pad", "NOTSET");
  if (strides.size() != 2 || dilations.size() != 2 || pads.size() != 4 ||
      outputPadding.size() != 2 ||
      (!outputShape.empty() && outputShape.size() != 2 &&
       outputShape.size() != 4))
    return node.fail("'strides', 'dilations', 'pads', 'output_padding' or "
                     "'output_shape' has the wrong length");
  if (outputShape.size() == 4)
    outputShape.erase(outputShape.begin(), outputShape.begin() + 2);

  SmallVector<int64_t> out(2), spread(2), low(2), high(2);
  for (int d = 0; d < 2; ++d) {
    int64_t extent = (kernel[d] - 1) * dilations[d] + 1;
    int64_t natural = strides[d] * (x[2 + d] - 1) + outputPadding[d] + extent;
    int64_t begin = pads[d], end = pads[d + 2];
    bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
    if (!outputShape.empty() || same) {
      int64_t target = outputShape.empty() ? x[2 + d] * strides[d]
                                           : outputShape[d];
      int64_t total = natural - target;
      if (total < 0)
        return node.fail("'output_shape' is larger than the transposed "
                         "convolution produces");
      begin = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    }
    out[d] = natural - begin - end;
    if (out[d] <= 0)
      return node.fail("the pads leave an empty output");
    low[d] = extent - 1 - begin;
    high[d] = extent - 1 - end + outputPadding[d];
    spread[d] = (x[2 + d] - 1) * strides[d] + 1 + std::max<int64_t>(low[d], 0) +
                std::max<int64_t>(high[d], 0);
  }

  OpBuilder &b = node.builder;
  Location loc = node.loc;
  Value input = node.input(0);
  Type elementType = elementTypeOf(input);
  Value zeros = buildFilled(b, loc, {batch, channels, spread[0], spread[1]},
                            elementType, 0);
  SmallVector<OpFoldResult> offsets = {
      b.getIndexAttr(0), b.getIndexAttr(0),
      b.getIndexAttr(std::max<int64_t>(low[0], 0)),
      b.getIndexAttr(std::max<int64_t>(low[1], 0))};
  SmallVector<OpFoldResult> sizes, insertStrides = {
      b.getIndexAttr(1), b.getIndexAttr(1), b.getIndexAttr(strides[0]),
      b.getIndexAttr(strides[1])};
  for (int64_t size : x)
    sizes.push_back(b.getIndexAttr(size));
  Value spreadInput = tensor::InsertSliceOp::create(
      b, loc, input, zeros, offsets, sizes, insertStrides);

  // W'[f, c, i, j] = W[c, f, KH-1-i, KW-1-j]
  ConstTensor flipped = **weight;
  flipped.shape = {filters, channels, kernel[0], kernel[1]};
  for (int64_t f = 0; f < filters; ++f)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < kernel[0]; ++i)
        for (int64_t j = 0; j < kernel[1]; ++j)
          flipped.floats[((f * channels + c) * kernel[0] + i) * kernel[1] + j] =
              (*weight)->floats[((c * filters + f) * kernel[0] +
                                 (kernel[0] - 1 - i)) *
                                    kernel[1] +
                                (kernel[1] - 1 - j)];

  SmallVector<int64_t> full(2);
  for (int d = 0; d < 2; ++d)
    full[d] = spread[d] - ((kernel[d] - 1) * dilations[d] + 1) + 1;
  Value init = buildFilled(b, loc, {batch, filters, full[0], full[1]},
                           elementType, 0);
  Value result = linalg::Conv2DNchwFchwOp::create(
                     b, loc, TypeRange{init.getType()},
                     ValueRange{spreadInput, node.materialize(flipped)},
                     ValueRange{init}, b.getI64TensorAttr({1, 1}),
                     b.getI64TensorAttr(dilations))
                     .getResult(0);
  // Pads beyond the kernel extent crop the full result.
  if (full[0] != out[0] || full[1] != out[1]) {
    auto type = RankedTensorType::get({batch, filters, out[0], out[1]},
                                      elementType);
    SmallVector<OpFoldResult> cropOffsets = {
        b.getIndexAttr(0), b.getIndexAttr(0),
        b.getIndexAttr(std::max<int64_t>(-low[0], 0)),
        b.getIndexAttr(std::max<int64_t>(-low[1], 0))};
    SmallVector<OpFoldResult> cropSizes, unit(4, b.getIndexAttr(1));
    for (int64_t size : type.getShape())
      cropSizes.push_back(b.getIndexAttr(size));
    result = tensor::ExtractSliceOp::create(b, loc, type, result, cropOffsets,
                                            cropSizes, unit);
  }
  if (node.hasInput(2))
    result = addChannelBias(node, result, 2);
  node.setOutput(0, result);
  return success();
}

template <bool isMax> LogicalResult convertPool(NodeContext &node) {
  if (failed(requireRank4(node, "pools")) || failed(requireFloat(node, 0)))
    return failure();
  if (isMax && node.hasOutput(1))
    return node.fail("the Indices output is not supported");
  ArrayRef<int64_t> x = node.inputShape(0);
  SmallVector<int64_t> kernel = node.getInts("kernel_shape");
  if (kernel.size() != 2)
    return node.fail("'kernel_shape' must have two sizes");
  bool ceilMode = node.getInt("ceil_mode", 0) != 0;
  FailureOr<Window> window = readWindow(node, x.drop_front(2), kernel, ceilMode);
  if (failed(window))
    return failure();
  if (!isMax && (window->dilations[0] != 1 || window->dilations[1] != 1))
    return node.fail("dilated average pooling is not supported");

  OpBuilder &b = node.builder;
  Location loc = node.loc;
  double padValue = isMax ? -std::numeric_limits<double>::infinity() : 0.0;
  Value input = buildPad(b, loc, node.input(0),
                         withBatchAndChannel(window->padBegin),
                         withBatchAndChannel(window->padEnd), padValue);
  Type elementType = elementTypeOf(input);
  SmallVector<int64_t> shape = {x[0], x[1], window->output[0],
                                window->output[1]};
  Value init = buildFilled(b, loc, shape, elementType, padValue);
  Value windowShape = tensor::EmptyOp::create(b, loc, kernel, elementType);
  auto strides = b.getI64TensorAttr(window->strides);
  auto dilations = b.getI64TensorAttr(window->dilations);
  if (isMax) {
    node.setOutput(0, linalg::PoolingNchwMaxOp::create(
                          b, loc, TypeRange{init.getType()},
                          ValueRange{input, windowShape}, ValueRange{init},
                          strides, dilations)
                          .getResult(0));
    return success();
  }
  Value sum = linalg::PoolingNchwSumOp::create(
                  b, loc, TypeRange{init.getType()},
                  ValueRange{input, windowShape}, ValueRange{init}, strides,
                  dilations)
                  .getResult(0);
  // Divisors per output position: the taps inside the input, plus the
  // explicit pads with count_include_pad (never ceil mode's extra end).
  bool countPads = node.getInt("count_include_pad", 0) != 0;
  std::vector<double> divisors;
  for (int64_t i = 0; i < window->output[0]; ++i)
    for (int64_t j = 0; j < window->output[1]; ++j) {
      int64_t count = 1;
      int64_t index[2] = {i, j};
      for (int d = 0; d < 2; ++d) {
        int64_t low = countPads ? -window->padBegin[d] : 0;
        int64_t high =
            x[2 + d] + (countPads ? window->explicitPadEnd[d] : 0);
        int64_t first = index[d] * window->strides[d] - window->padBegin[d];
        int64_t taps = 0;
        for (int64_t t = 0; t < kernel[d]; ++t)
          taps += first + t >= low && first + t < high;
        count *= taps;
      }
      divisors.push_back(1.0 / static_cast<double>(std::max<int64_t>(count, 1)));
    }
  Value reciprocal = node.materialize(ConstTensor::ofFloats(
      node.inputType(0), {window->output[0], window->output[1]}, divisors));
  node.setOutput(0, buildElementwise(
                        b, loc, shape, elementType, {sum, reciprocal},
                        [](OpBuilder &nb, Location l, ValueRange args) {
                          return arith::MulFOp::create(nb, l, args[0], args[1])
                              .getResult();
                        }));
  return success();
}

//===----------------------------------------------------------------------===//
// Gemm, MatMul
//===----------------------------------------------------------------------===//

Value buildMatmul(OpBuilder &b, Location loc, Value lhs, Value rhs) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  Type elementType = lhsType.getElementType();
  if (lhsType.getRank() == 2) {
    Value init = buildFilled(
        b, loc, {lhsType.getDimSize(0), rhsType.getDimSize(1)}, elementType, 0);
    return linalg::MatmulOp::create(b, loc, TypeRange{init.getType()},
                                    ValueRange{lhs, rhs}, ValueRange{init})
        .getResult(0);
  }
  Value init = buildFilled(b, loc,
                           {lhsType.getDimSize(0), lhsType.getDimSize(1),
                            rhsType.getDimSize(2)},
                           elementType, 0);
  return linalg::BatchMatmulOp::create(b, loc, TypeRange{init.getType()},
                                       ValueRange{lhs, rhs}, ValueRange{init})
      .getResult(0);
}

LogicalResult convertGemm(NodeContext &node) {
  if (failed(requireFloat(node, 0)) || failed(requireFloat(node, 1)))
    return failure();
  if (node.inputShape(0).size() != 2 || node.inputShape(1).size() != 2)
    return node.fail("A and B must be matrices");
  bool transA = node.getInt("transA", 0), transB = node.getInt("transB", 0);
  double alpha = node.getFloat("alpha", 1.0), beta = node.getFloat("beta", 1.0);
  OpBuilder &b = node.builder;
  Location loc = node.loc;

  Value a = node.input(0);
  if (transA)
    a = buildTranspose(b, loc, a, {1, 0});
  Value rhs;
  bool alphaFolded = false;
  if (const ConstTensor *weight = node.constantInput(1)) {
    // A constant B is stored K×N with alpha folded in: a plain weight.
    ConstTensor folded = *weight;
    int64_t rows = weight->shape[0], cols = weight->shape[1];
    if (transB) {
      folded.shape = {cols, rows};
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j)
          folded.floats[j * rows + i] = weight->floats[i * cols + j];
    }
    for (double &v : folded.floats)
      v *= alpha;
    rhs = node.materialize(folded.castTo(folded.type));
    alphaFolded = true;
  } else {
    rhs = node.input(1);
    if (transB)
      rhs = buildTranspose(b, loc, rhs, {1, 0});
  }
  auto aType = cast<RankedTensorType>(a.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  if (aType.getDimSize(1) != rhsType.getDimSize(0))
    return node.fail("inner dimensions differ");
  Value result = buildMatmul(b, loc, a, rhs);
  if (!alphaFolded && alpha != 1.0)
    result = buildScaled(b, loc, result, alpha);
  if (node.hasInput(2) && beta != 0.0) {
    SmallVector<int64_t> shape(
        cast<RankedTensorType>(result.getType()).getShape());
    if (!broadcastShapes(shape, node.inputShape(2)) ||
        *broadcastShapes(shape, node.inputShape(2)) != shape)
      return node.fail("C does not broadcast to the result");
    Value c;
    if (const ConstTensor *bias = node.constantInput(2)) {
      ConstTensor scaled = *bias;
      for (double &v : scaled.floats)
        v *= beta;
      c = node.materialize(scaled.castTo(scaled.type));
    } else {
      c = node.input(2);
      if (beta != 1.0)
        c = buildScaled(b, loc, c, beta);
    }
    result = buildAdd(b, loc, result, c);
  }
  node.setOutput(0, result);
  return success();
}

/// numpy matmul: vectors are promoted to matrices and back, leading batch
/// dimensions broadcast; a matrix rhs keeps the lhs rows together so a
/// constant rhs stays a plain 2-D weight.
LogicalResult convertMatMul(NodeContext &node) {
  if (failed(requireFloat(node, 0)) || failed(requireFloat(node, 1)))
    return failure();
  SmallVector<int64_t> lhsShape(node.inputShape(0));
  SmallVector<int64_t> rhsShape(node.inputShape(1));
  if (lhsShape.empty() || rhsShape.empty())
    return node.fail("scalar operands are not allowed");
  bool lhsVector = lhsShape.size() == 1, rhsVector = rhsShape.size() == 1;
  if (lhsVector)
    lhsShape.insert(lhsShape.begin(), 1);
  if (rhsVector)
    rhsShape.push_back(1);
  int64_t m = lhsShape[lhsShape.size() - 2], k = lhsShape.back();
  int64_t n = rhsShape.back();
  if (rhsShape[rhsShape.size() - 2] != k)
    return node.fail("inner dimensions differ (" + Twine(k) + " and " +
                     Twine(rhsShape[rhsShape.size() - 2]) + ")");
  ArrayRef<int64_t> lhsBatch = ArrayRef<int64_t>(lhsShape).drop_back(2);
  ArrayRef<int64_t> rhsBatch = ArrayRef<int64_t>(rhsShape).drop_back(2);
  std::optional<SmallVector<int64_t>> batch =
      broadcastShapes(lhsBatch, rhsBatch);
  if (!batch)
    return node.fail("batch dimensions do not broadcast");

  OpBuilder &b = node.builder;
  Location loc = node.loc;
  Value lhs = reshapedInput(node, 0, lhsShape);
  Value rhs = reshapedInput(node, 1, rhsShape);
  Type elementType = elementTypeOf(lhs);
  Value result;
  if (rhsBatch.empty()) {
    int64_t rows = ShapedType::getNumElements(lhsShape) / k;
    Value flat = buildReshape(b, loc, lhs, {rows, k});
    result = buildMatmul(b, loc, flat, rhs);
  } else {
    auto broadcastTo = [&](Value value, int64_t rows, int64_t cols) {
      SmallVector<int64_t> shape(*batch);
      shape.append({rows, cols});
      if (cast<RankedTensorType>(value.getType()).getShape() != ArrayRef(shape))
        value = buildElementwise(b, loc, shape, elementType, value,
                                 [](OpBuilder &, Location, ValueRange args) {
                                   return args[0];
                                 });
      return buildReshape(b, loc, value,
                          {ShapedType::getNumElements(*batch), rows, cols});
    };
    result = buildMatmul(b, loc, broadcastTo(lhs, m, k), broadcastTo(rhs, k, n));
  }
  SmallVector<int64_t> shape(*batch);
  if (rhsBatch.empty())
    shape.assign(lhsBatch.begin(), lhsBatch.end());
  if (!lhsVector)
    shape.push_back(m);
  if (!rhsVector)
    shape.push_back(n);
  node.setOutput(0, buildReshape(b, loc, result, shape));
  return success();
}

//===----------------------------------------------------------------------===//
// Normalizations and reductions
//===----------------------------------------------------------------------===//

LogicalResult convertBatchNormalization(NodeContext &node) {
  if (failed(requireFloat(node, 0)))
    return failure();
  if (node.getInt("training_mode", 0) != 0 || node.hasOutput(1))
    return node.fail("training-mode batch normalization is not supported");
  ArrayRef<int64_t> shape = node.inputShape(0);
  if (shape.size() < 2)
    return node.fail("the input needs a channel dimension");
  int64_t channels = shape[1];
  const ConstTensor *params[4];
  const char *names[4] = {"scale", "B", "mean", "var"};
  for (unsigned i = 0; i < 4; ++i) {
    FailureOr<const ConstTensor *> value =
        node.requireConstant(i + 1, names[i]);
    if (failed(value))
      return failure();
    if ((*value)->numElements() != channels)
      return node.fail(Twine("'") + names[i] + "' must have " +
                       Twine(channels) + " elements");
    params[i] = *value;
  }
  double epsilon = node.getFloat("epsilon", 1e-5);
  std::vector<double> a(channels), offset(channels);
  for (int64_t c = 0; c < channels; ++c) {
    a[c] = params[0]->getDouble(c) /
           std::sqrt(params[3]->getDouble(c) + epsilon);
    offset[c] = params[1]->getDouble(c) - params[2]->getDouble(c) * a[c];
  }
  SmallVector<int64_t> channelShape(shape.size() - 1, 1);
  channelShape[0] = channels;
  DataType type = node.inputType(0);
  Value scale = node.materialize(
      ConstTensor::ofFloats(type, channelShape, a).castTo(type));
  Value shift = node.materialize(
      ConstTensor::ofFloats(type, channelShape, offset).castTo(type));
  Value x = node.input(0);
  node.setOutput(0, buildElementwise(
                        node.builder, node.loc, shape, elementTypeOf(x),
                        {x, scale, shift},
                        [](OpBuilder &b, Location loc, ValueRange args) {
                          Value scaled =
                              arith::MulFOp::create(b, loc, args[0], args[1]);
                          return arith::AddFOp::create(b, loc, scaled, args[2])
                              .getResult();
                        }));
  return success();
}

/// Mean of `x` over `axes`, keeping them as size-1 dimensions.
Value buildMean(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t count = 1;
  for (int64_t axis : axes)
    count *= type.getDimSize(axis);
  Value sum = buildReduction(b, loc, x, axes, ReductionKind::Sum);
  return buildScaled(b, loc, sum, 1.0 / static_cast<double>(count));
}

template <ReductionKind kind, bool mean, int64_t axesInputOpset>
LogicalResult convertReduce(NodeContext &node) {
  if (failed(requireFloat(node, 0)))
    return failure();
  int64_t rank = node.inputShape(0).size();
  SmallVector<int64_t> axes;
  if (node.opset < axesInputOpset) {
    axes = node.getInts("axes");
  } else if (node.hasInput(1)) {
    FailureOr<const ConstTensor *> value = node.requireConstant(1, "'axes'");
    if (failed(value))
      return failure();
    for (int64_t i = 0; i < (*value)->numElements(); ++i)
      axes.push_back((*value)->getInt(i));
  }
  if (axes.empty()) {
    if (node.getInt("noop_with_empty_axes", 0)) {
      node.setOutput(0, node.input(0));
      return success();
    }
    axes.resize(rank);
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (failed(normalizeAxes(node, axes, rank)))
    return failure();
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  OpBuilder &b = node.builder;
  Value x = node.input(0);
  Value result = mean ? buildMean(b, node.loc, x, axes)
                      : buildReduction(b, node.loc, x, axes, kind);
  if (!node.getInt("keepdims", 1)) {
    SmallVector<int64_t> shape;
    for (int64_t d = 0; d < rank; ++d)
      if (!llvm::is_contained(axes, d))
        shape.push_back(node.inputShape(0)[d]);
    result = buildReshape(b, node.loc, result, shape);
  }
  node.setOutput(0, result);
  return success();
}

Value buildSoftmax(OpBuilder &b, Location loc, Value x, int64_t axis) {
  auto type = cast<RankedTensorType>(x.getType());
  Type elementType = type.getElementType();
  Value max = buildReduction(b, loc, x, axis, ReductionKind::Max);
  Value exp = buildElementwise(
      b, loc, type.getShape(), elementType, {x, max},
      [](OpBuilder &nb, Location l, ValueRange args) {
        return math::ExpOp::create(
                   nb, l, arith::SubFOp::create(nb, l, args[0], args[1]))
            .getResult();
      });
  Value sum = buildReduction(b, loc, exp, axis, ReductionKind::Sum);
  return buildElementwise(b, loc, type.getShape(), elementType, {exp, sum},
                          [](OpBuilder &nb, Location l, ValueRange args) {
                            return arith::DivFOp::create(nb, l, args[0],
                                                         args[1])
                                .getResult();
                          });
}

LogicalResult convertSoftmax(NodeContext &node) {
  if (failed(requireFloat(node, 0)))
    return failure();
  ArrayRef<int64_t> shape = node.inputShape(0);
  FailureOr<int64_t> axis = normalizeAxis(
      node, node.getInt("axis", node.opset < 13 ? 1 : -1), shape.size());
  if (failed(axis))
    return failure();
  OpBuilder &b = node.builder;
  Value x = node.input(0);
  if (node.opset >= 13) {
    node.setOutput(0, buildSoftmax(b, node.loc, x, *axis));
    return success();
  }
  // Before opset 13 the input is a [d0·…·d(axis-1), rest] matrix.
  Value flat =
      buildReshape(b, node.loc, x,
                   {ShapedType::getNumElements(shape.take_front(*axis)),
                    ShapedType::getNumElements(shape.drop_front(*axis))});
  node.setOutput(0, buildReshape(b, node.loc, buildSoftmax(b, node.loc, flat, 1),
                                 shape));
  return success();
}

LogicalResult convertLayerNormalization(NodeContext &node) {
  if (failed(requireFloat(node, 0)))
    return failure();
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t rank = shape.size();
  FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  SmallVector<int64_t> axes(rank - *axis);
  std::iota(axes.begin(), axes.end(), *axis);
  double epsilon = node.getFloat("epsilon", 1e-5);
  OpBuilder &b = node.builder;
  Location loc = node.loc;
  Value x = node.input(0);
  Type elementType = elementTypeOf(x);
  Value mean = buildMean(b, loc, x, axes);
  Value centered = buildElementwise(
      b, loc, shape, elementType, {x, mean},
      [](OpBuilder &nb, Location l, ValueRange args) {
        return arith::SubFOp::create(nb, l, args[0], args[1]).getResult();
      });
  Value squares = buildElementwise(
      b, loc, shape, elementType, centered,
      [](OpBuilder &nb, Location l, ValueRange args) {
        return arith::MulFOp::create(nb, l, args[0], args[0]).getResult();
      });
  Value variance = buildMean(b, loc, squares, axes);
  auto statsShape = cast<RankedTensorType>(variance.getType()).getShape();
  Value invStdDev = buildElementwise(
      b, loc, statsShape, elementType, variance,
      [&](OpBuilder &nb, Location l, ValueRange args) {
        Value shifted = arith::AddFOp::create(
            nb, l, args[0], buildScalar(nb, l, elementType, epsilon));
        return arith::DivFOp::create(nb, l,
                                     buildScalar(nb, l, elementType, 1.0),
                                     math::SqrtOp::create(nb, l, shifted))
            .getResult();
      });
  SmallVector<Value> inputs = {centered, invStdDev, node.input(1)};
  bool hasBias = node.hasInput(2);
  if (hasBias)
    inputs.push_back(node.input(2));
  for (unsigned i = 1; i < inputs.size(); ++i) {
    std::optional<SmallVector<int64_t>> broadcast = broadcastShapes(
        shape, cast<RankedTensorType>(inputs[i].getType()).getShape());
    if (!broadcast || *broadcast != shape)
      return node.fail("Scale and B must broadcast to the input");
  }
  node.setOutput(0, buildElementwise(
                        b, loc, shape, elementType, inputs,
                        [&](OpBuilder &nb, Location l, ValueRange args) {
                          Value y = arith::MulFOp::create(nb, l, args[0],
                                                          args[1]);
                          y = arith::MulFOp::create(nb, l, y, args[2]);
                          if (hasBias)
                            y = arith::AddFOp::create(nb, l, y, args[3]);
                          return y;
                        }));
  node.setOutput(1, mean);
  node.setOutput(2, invStdDev);
  return success();
}

LogicalResult convertGlobalAveragePool(NodeContext &node) {
  if (failed(requireFloat(node, 0)))
    return failure();
  int64_t rank = node.inputShape(0).size();
  if (rank < 3)
    return node.fail("expects [N, C, spatial...]");
  SmallVector<int64_t> axes(rank - 2);
  std::iota(axes.begin(), axes.end(), 2);
  node.setOutput(0, buildMean(node.builder, node.loc, node.input(0), axes));
  return success();
}

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

/// For one output position, the input coordinate it samples.
double sourceCoordinate(StringRef mode, int64_t out, double scale,
                        int64_t inSize, int64_t outSize) {
  double o = static_cast<double>(out);
  if (mode == "half_pixel")
    return (o + 0.5) / scale - 0.5;
  if (mode == "pytorch_half_pixel")
    return outSize > 1 ? (o + 0.5) / scale - 0.5 : 0.0;
  if (mode == "align_corners")
    return outSize == 1 ? 0.0
                        : o * static_cast<double>(inSize - 1) /
                              static_cast<double>(outSize - 1);
  if (mode == "tf_half_pixel_for_nn")
    return (o + 0.5) / scale;
  return o / scale; // asymmetric
}

int64_t nearestIndex(StringRef mode, double x) {
  if (mode == "floor")
    return static_cast<int64_t>(std::floor(x));
  if (mode == "ceil")
    return static_cast<int64_t>(std::ceil(x));
  if (mode == "round_prefer_ceil")
    return static_cast<int64_t>(std::floor(x + 0.5));
  return static_cast<int64_t>(std::ceil(x - 0.5)); // round_prefer_floor
}

/// Sampling tables of one resized dimension: the (one or two) source
/// indices and, for linear mode, their weights per output position.
struct ResizeTables {
  int64_t dim;
  std::vector<int64_t> index[2];
  std::vector<double> weight[2];
};

/// The largest size of a resized dimension (a larger one is a corrupted
/// scale rather than an image).
constexpr int64_t kMaxResizedSize = int64_t(1) << 24;

LogicalResult convertResize(NodeContext &node) {
  if (failed(requireFloat(node, 0)))
    return failure();
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t rank = shape.size();
  std::string mode = node.getString("mode", "nearest");
  if (mode != "nearest" && mode != "linear")
    return node.fail("mode '" + mode + "' is not supported (nearest, linear)");
  std::string transform =
      node.getString("coordinate_transformation_mode",
                     node.opset < 11 ? "asymmetric" : "half_pixel");
  if (transform != "half_pixel" && transform != "pytorch_half_pixel" &&
      transform != "align_corners" && transform != "asymmetric" &&
      transform != "tf_half_pixel_for_nn")
    return node.fail("coordinate_transformation_mode '" + transform +
                     "' is not supported");
  std::string nearestMode = node.getString(
      "nearest_mode", node.opset < 11 ? "floor" : "round_prefer_floor");
  if (node.hasAttr("axes"))
    return node.fail("the 'axes' attribute is not supported");

  unsigned scalesIndex = node.opset < 11 ? 1 : 2, sizesIndex = 3;
  const ConstTensor *scales = node.constantInput(scalesIndex);
  const ConstTensor *sizes = node.constantInput(sizesIndex);
  if (scales && scales->numElements() == 0)
    scales = nullptr;
  if ((node.hasInput(scalesIndex) && !node.constantInput(scalesIndex)) ||
      (node.hasInput(sizesIndex) && !sizes))
    return node.fail("'scales' and 'sizes' must be constants");
  if (!scales == !sizes)
    return node.fail("exactly one of 'scales' and 'sizes' must be given");
  const ConstTensor *given = scales ? scales : sizes;
  if (given->numElements() != rank)
    return node.fail("'scales'/'sizes' must have one entry per dimension");

  SmallVector<int64_t> outShape;
  SmallVector<double> factors;
  for (int64_t d = 0; d < rank; ++d) {
    double factor = scales ? scales->getDouble(d)
                           : static_cast<double>(sizes->getInt(d)) /
                                 static_cast<double>(shape[d]);
    double out = scales ? std::floor(shape[d] * factor)
                        : static_cast<double>(sizes->getInt(d));
    if (!(factor > 0) || !(out >= 1))
      return node.fail("resized dimension " + Twine(d) + " would be empty");
    // The index tables below hold one entry per output element of a dim.
    if (out > kMaxResizedSize)
      return node.emitError() << "resized dimension " << d << " would have "
                              << out << " elements, more than the supported "
                              << kMaxResizedSize;
    outShape.push_back(static_cast<int64_t>(out));
    factors.push_back(factor);
  }

  bool linear = mode == "linear";
  SmallVector<ResizeTables> tables;
  for (int64_t d = 0; d < rank; ++d) {
    if (outShape[d] == shape[d] && factors[d] == 1.0)
      continue;
    ResizeTables t;
    t.dim = d;
    for (int64_t o = 0; o < outShape[d]; ++o) {
      double x = sourceCoordinate(transform, o, factors[d], shape[d],
                                  outShape[d]);
      auto clampIndex = [&](int64_t i) {
        return std::clamp<int64_t>(i, 0, shape[d] - 1);
      };
      if (!linear) {
        t.index[0].push_back(clampIndex(nearestIndex(nearestMode, x)));
        continue;
      }
      double low = std::floor(x);
      double fraction = x - low;
      t.index[0].push_back(clampIndex(static_cast<int64_t>(low)));
      t.index[1].push_back(clampIndex(static_cast<int64_t>(low) + 1));
      t.weight[0].push_back(1.0 - fraction);
      t.weight[1].push_back(fraction);
    }
    tables.push_back(std::move(t));
  }
  if (linear && tables.size() > 3)
    return node.fail("linear resize of more than three dimensions is not "
                     "supported");
  if (tables.empty()) {
    node.setOutput(0, node.input(0));
    return success();
  }

  // Table inputs of the generic, read along their output dimension.
  OpBuilder &b = node.builder;
  MLIRContext *ctx = b.getContext();
  Value x = node.input(0);
  Type elementType = elementTypeOf(x);
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  unsigned perDim = linear ? 4 : 1;
  for (const ResizeTables &t : tables) {
    int64_t n = outShape[t.dim];
    AffineMap map = AffineMap::get(rank, 0, getAffineDimExpr(t.dim, ctx));
    for (unsigned k = 0; k < (linear ? 2u : 1u); ++k) {
      inputs.push_back(node.materialize(ConstTensor::ofInts(
          DataType::Int64, {n}, t.index[k])));
      maps.push_back(map);
    }
    for (unsigned k = 0; linear && k < 2; ++k) {
      inputs.push_back(node.materialize(
          ConstTensor::ofFloats(node.inputType(0), {n}, t.weight[k])
              .castTo(node.inputType(0))));
      maps.push_back(map);
    }
  }
  node.setOutput(
      0, buildIndexedGeneric(
             b, node.loc, outShape, elementType, inputs, maps,
             [&](OpBuilder &nb, Location loc, ValueRange loops,
                 ValueRange args) {
               auto indexOf = [&](unsigned table, unsigned k) {
                 return arith::IndexCastOp::create(nb, loc, nb.getIndexType(),
                                                   args[table * perDim + k])
                     .getResult();
               };
               Value sum;
               unsigned corners = linear ? 1u << tables.size() : 1u;
               for (unsigned corner = 0; corner < corners; ++corner) {
                 SmallVector<Value> source(loops);
                 Value weight;
                 for (auto [t, table] : llvm::enumerate(tables)) {
                   unsigned k = (corner >> t) & 1;
                   source[table.dim] = indexOf(t, k);
                   if (!linear)
                     continue;
                   Value w = args[t * perDim + 2 + k];
                   weight = weight ? arith::MulFOp::create(nb, loc, weight, w)
                                         .getResult()
                                   : w;
                 }
                 Value sample =
                     tensor::ExtractOp::create(nb, loc, x, source);
                 if (!linear)
                   return sample;
                 Value term = arith::MulFOp::create(nb, loc, sample, weight);
                 sum = sum ? arith::AddFOp::create(nb, loc, sum, term)
                                 .getResult()
                           : term;
               }
               return sum;
             }));
  return success();
}

} // namespace

void onnx_import::addNeuralNetConverters(ConverterTable &table) {
  table["Conv"] = {convertConv, 2, 3};
  table["ConvTranspose"] = {convertConvTranspose, 2, 3};
  table["MaxPool"] = {convertPool<true>, 1, 1};
  table["AveragePool"] = {convertPool<false>, 1, 1};
  table["GlobalAveragePool"] = {convertGlobalAveragePool, 1, 1};
  table["Gemm"] = {convertGemm, 2, 3};
  table["MatMul"] = {convertMatMul, 2, 2};
  table["BatchNormalization"] = {convertBatchNormalization, 5, 5};
  table["LayerNormalization"] = {convertLayerNormalization, 2, 3};
  table["Softmax"] = {convertSoftmax, 1, 1};
  table["Resize"] = {convertResize, 1, 4};
  table["ReduceMean"] = {convertReduce<ReductionKind::Sum, true, 18>, 1, 2};
  table["ReduceSum"] = {convertReduce<ReductionKind::Sum, false, 13>, 1, 2};
  table["ReduceMax"] = {convertReduce<ReductionKind::Max, false, 18>, 1, 2};
}
