//===- ImportLinalg.cpp - raise linalg/tosa to float qnn ops --------------===//

#include "quant/Dialect/QNN/Transforms/ConstantUtils.h"

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Dialect/QNN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::qnn {
#define GEN_PASS_DEF_QNNIMPORTLINALG
#include "quant/Dialect/QNN/Transforms/Passes.h.inc"
} // namespace mlir::qnn

using namespace mlir;
using namespace mlir::qnn;

namespace {

bool isConstant(Value value) { return matchPattern(value, m_Constant()); }

/// All operands float with one element type: the raised op computes in it.
bool haveOneFloatElementType(ValueRange values) {
  Type elementType;
  for (Value v : values) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || !isa<FloatType>(type.getElementType()))
      return false;
    if (elementType && type.getElementType() != elementType)
      return false;
    elementType = type.getElementType();
  }
  return true;
}

bool isAllZero(Value value) {
  if (matchPattern(value, m_AnyZeroFloat()))
    return true;
  std::optional<std::vector<double>> values = getConstantFloatValues(value);
  return values && llvm::all_of(*values, [](double v) { return v == 0.0; });
}

/// A destination that holds zeros: linalg.fill of 0 or a zero constant.
bool isZeroAccumulator(Value init) {
  if (auto fill = init.getDefiningOp<linalg::FillOp>())
    return matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
  return isAllZero(init);
}

/// Adds a non-zero linalg accumulator back onto the raised result.
Value addAccumulator(PatternRewriter &rewriter, Location loc, Value result,
                     Value init) {
  if (isZeroAccumulator(init))
    return result;
  return arith::AddFOp::create(rewriter, loc, result, init);
}

/// Keeps --qnn-calibrate's statistics of the input on the raised op.
void copyCalibStats(Operation *from, Operation *to) {
  if (Attribute stats = from->getAttr(QNNDialect::getCalibStatsAttrName()))
    to->setAttr(QNNDialect::getCalibStatsAttrName(), stats);
}

/// linalg.matmul / linalg.batch_matmul with a constant rhs.
template <typename LinalgMatmul>
struct RaiseLinalgMatmul : OpRewritePattern<LinalgMatmul> {
  using OpRewritePattern<LinalgMatmul>::OpRewritePattern;

  LogicalResult matchAndRewrite(LinalgMatmul op,
                                PatternRewriter &rewriter) const override {
    if (op.hasUserDefinedMaps() || !op.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(op, "transposed or buffer form");
    Value input = op.getInputs()[0], weight = op.getInputs()[1];
    Value init = op.getOutputs()[0];
    if (!isConstant(weight))
      return rewriter.notifyMatchFailure(op, "weight is not a constant");
    if (!haveOneFloatElementType({input, weight, init}))
      return rewriter.notifyMatchFailure(op, "not a float matmul");
    auto matmul = MatmulOp::create(rewriter, op.getLoc(), input, weight);
    copyCalibStats(op, matmul);
    rewriter.replaceOp(
        op, addAccumulator(rewriter, op.getLoc(), matmul.getResult(), init));
    return success();
  }
};

/// The zero padding of a tensor.pad on the spatial dims (`heightDim`,
/// `widthDim`) as [top, left, bottom, right]; the source is returned in
/// `source`. Without such a pad, `source` is `input` and padding is zero.
SmallVector<int64_t> absorbZeroPadding(Value input, int64_t heightDim,
                                       int64_t widthDim, Value &source) {
  source = input;
  auto pad = input.getDefiningOp<tensor::PadOp>();
  if (!pad || !pad.getLow().empty() || !pad.getHigh().empty())
    return {0, 0, 0, 0};
  Value padValue = pad.getConstantPaddingValue();
  if (!padValue || !matchPattern(padValue, m_AnyZeroFloat()))
    return {0, 0, 0, 0};
  ArrayRef<int64_t> low = pad.getStaticLow(), high = pad.getStaticHigh();
  for (int64_t d = 0, e = low.size(); d < e; ++d)
    if (d != heightDim && d != widthDim && (low[d] != 0 || high[d] != 0))
      return {0, 0, 0, 0};
  source = pad.getSource();
  return {low[heightDim], low[widthDim], high[heightDim], high[widthDim]};
}

SmallVector<int64_t> toVector(DenseIntElementsAttr attr) {
  return llvm::to_vector(llvm::map_range(
      attr.getValues<APInt>(), [](const APInt &v) { return v.getSExtValue(); }));
}

/// linalg.conv_2d_nhwc_hwcf / conv_2d_nchw_fchw with a constant filter.
template <typename LinalgConv, ConvLayout layout>
struct RaiseLinalgConv : OpRewritePattern<LinalgConv> {
  using OpRewritePattern<LinalgConv>::OpRewritePattern;

  LogicalResult matchAndRewrite(LinalgConv op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(op, "buffer form");
    Value input = op.getInputs()[0], filter = op.getInputs()[1];
    Value init = op.getOutputs()[0];
    if (!isConstant(filter))
      return rewriter.notifyMatchFailure(op, "filter is not a constant");
    if (!haveOneFloatElementType({input, filter, init}))
      return rewriter.notifyMatchFailure(op, "not a float convolution");
    bool nchw = layout == ConvLayout::nchw;
    Value source;
    SmallVector<int64_t> padding =
        absorbZeroPadding(input, nchw ? 2 : 1, nchw ? 3 : 2, source);
    Location loc = op.getLoc();
    auto conv = Conv2DOp::create(
        rewriter, loc, op.getResultTypes()[0], source, filter,
        /*scales=*/Value(), /*zero_points=*/Value(), /*bias=*/Value(),
        layout, toVector(op.getStrides()), toVector(op.getDilations()),
        padding, Activation::none);
    copyCalibStats(op, conv);
    rewriter.replaceOp(op,
                       addAccumulator(rewriter, loc, conv.getResult(), init));
    return success();
  }
};

/// tosa.matmul [N,H,C]·[N,C,W] with a constant rhs and zero zero-points.
struct RaiseTosaMatmul : OpRewritePattern<tosa::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::MatMulOp op,
                                PatternRewriter &rewriter) const override {
    Value input = op.getA(), weight = op.getB();
    if (!isConstant(weight))
      return rewriter.notifyMatchFailure(op, "rhs is not a constant");
    if (!haveOneFloatElementType({input, weight, op.getResult()}))
      return rewriter.notifyMatchFailure(op, "not a float matmul");
    if (!isAllZero(op.getAZp()) || !isAllZero(op.getBZp()))
      return rewriter.notifyMatchFailure(op, "non-zero zero points");
    rewriter.replaceOp(op, MatmulOp::create(rewriter, op.getLoc(), input, weight));
    return success();
  }
};

/// tosa.conv2d (NHWC input, [OC, KH, KW, IC] weight) with a constant
/// weight: the weight is transposed to HWCF and the bias becomes an operand.
struct RaiseTosaConv2D : OpRewritePattern<tosa::Conv2DOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::Conv2DOp op,
                                PatternRewriter &rewriter) const override {
    Value input = op.getInput(), weight = op.getWeight(), bias = op.getBias();
    if (!haveOneFloatElementType({input, weight, bias, op.getResult()}))
      return rewriter.notifyMatchFailure(op, "not a float convolution");
    if (!isAllZero(op.getInputZp()) || !isAllZero(op.getWeightZp()))
      return rewriter.notifyMatchFailure(op, "non-zero zero points");
    std::optional<std::vector<double>> ohwi = getConstantFloatValues(weight);
    auto weightType = cast<RankedTensorType>(weight.getType());
    if (!ohwi || !weightType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "weight is not a constant");
    int64_t oc = weightType.getDimSize(0), kh = weightType.getDimSize(1),
            kw = weightType.getDimSize(2), ic = weightType.getDimSize(3);
    std::vector<double> hwcf(ohwi->size());
    for (int64_t o = 0; o < oc; ++o)
      for (int64_t y = 0; y < kh; ++y)
        for (int64_t x = 0; x < kw; ++x)
          for (int64_t c = 0; c < ic; ++c)
            hwcf[((y * kw + x) * ic + c) * oc + o] =
                (*ohwi)[((o * kh + y) * kw + x) * ic + c];

    Location loc = op.getLoc();
    Value filter = createFloatConstant(
        rewriter, loc,
        RankedTensorType::get({kh, kw, ic, oc}, weightType.getElementType()),
        hwcf);
    // TOSA broadcasts a one-element bias over the output channels.
    Value qnnBias;
    if (!isAllZero(bias)) {
      auto biasType = cast<RankedTensorType>(bias.getType());
      qnnBias = bias;
      if (biasType.getDimSize(0) != oc) {
        std::optional<std::vector<double>> values = getConstantFloatValues(bias);
        if (!values || values->size() != 1)
          return rewriter.notifyMatchFailure(op, "unsupported bias shape");
        qnnBias = createFloatConstant(
            rewriter, loc,
            RankedTensorType::get({oc}, biasType.getElementType()),
            std::vector<double>(oc, values->front()));
      }
    }
    // TOSA pads are [top, bottom, left, right]; qnn's [top, left, bottom, right].
    ArrayRef<int64_t> pad = op.getPad();
    rewriter.replaceOp(
        op, Conv2DOp::create(rewriter, loc, op.getResult().getType(), input,
                             filter, /*scales=*/Value(),
                             /*zero_points=*/Value(), qnnBias, ConvLayout::nhwc,
                             op.getStride(), op.getDilation(),
                             ArrayRef<int64_t>{pad[0], pad[2], pad[1], pad[3]},
                             Activation::none));
    return success();
  }
};

struct QNNImportLinalgPass
    : qnn::impl::QNNImportLinalgBase<QNNImportLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RaiseLinalgMatmul<linalg::MatmulOp>,
                 RaiseLinalgMatmul<linalg::BatchMatmulOp>,
                 RaiseLinalgConv<linalg::Conv2DNhwcHwcfOp, ConvLayout::nhwc>,
                 RaiseLinalgConv<linalg::Conv2DNchwFchwOp, ConvLayout::nchw>,
                 RaiseTosaMatmul, RaiseTosaConv2D>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
