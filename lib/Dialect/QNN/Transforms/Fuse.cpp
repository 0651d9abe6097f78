//===- Fuse.cpp - batch-norm folding and matmul chain fusion --------------===//

#include "quant/Dialect/QNN/Transforms/ConstantUtils.h"

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Dialect/QNN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::qnn {
#define GEN_PASS_DEF_QNNFUSE
#include "quant/Dialect/QNN/Transforms/Passes.h.inc"
} // namespace mlir::qnn

using namespace mlir;
using namespace mlir::qnn;

namespace {

/// Evaluates the scalar body of an elementwise linalg.generic on `args` (one
/// per block argument) in float64; nullopt if it holds an op it does not
/// know. Fusion decisions use it to recognise what a body computes.
std::optional<double> evaluateBody(Block &body, ArrayRef<double> args) {
  llvm::DenseMap<Value, double> values;
  for (auto [arg, v] : llvm::zip(body.getArguments(), args))
    values[arg] = v;
  // Constants may live outside the body (the greedy driver hoists them);
  // any other captured value makes the body unknown.
  bool known = true;
  auto get = [&](Value v) -> double {
    auto it = values.find(v);
    if (it != values.end())
      return it->second;
    FloatAttr constant;
    if (matchPattern(v, m_Constant(&constant)))
      return constant.getValueAsDouble();
    known = false;
    return 0.0;
  };
  for (Operation &op : body) {
    if (auto yield = dyn_cast<linalg::YieldOp>(op)) {
      if (yield.getNumOperands() != 1)
        return std::nullopt;
      double result = get(yield.getOperand(0));
      return known ? std::optional<double>(result) : std::nullopt;
    }
    std::optional<double> result;
    FloatAttr constant;
    if (matchPattern(&op, m_Constant(&constant)))
      result = constant.getValueAsDouble();
    else if (auto add = dyn_cast<arith::AddFOp>(op))
      result = get(add.getLhs()) + get(add.getRhs());
    else if (auto sub = dyn_cast<arith::SubFOp>(op))
      result = get(sub.getLhs()) - get(sub.getRhs());
    else if (auto mul = dyn_cast<arith::MulFOp>(op))
      result = get(mul.getLhs()) * get(mul.getRhs());
    else if (auto div = dyn_cast<arith::DivFOp>(op))
      result = get(div.getLhs()) / get(div.getRhs());
    else if (auto neg = dyn_cast<arith::NegFOp>(op))
      result = -get(neg.getOperand());
    else if (isa<arith::MaximumFOp, arith::MaxNumFOp>(op))
      result = std::max(get(op.getOperand(0)), get(op.getOperand(1)));
    else if (isa<arith::MinimumFOp, arith::MinNumFOp>(op))
      result = std::min(get(op.getOperand(0)), get(op.getOperand(1)));
    else if (isa<math::ExpOp>(op))
      result = std::exp(get(op.getOperand(0)));
    else if (isa<math::ErfOp>(op))
      result = std::erf(get(op.getOperand(0)));
    else if (isa<math::TanhOp>(op))
      result = std::tanh(get(op.getOperand(0)));
    else if (isa<math::SqrtOp>(op))
      result = std::sqrt(get(op.getOperand(0)));
    else if (isa<math::RsqrtOp>(op))
      result = 1.0 / std::sqrt(get(op.getOperand(0)));
    if (!result || !known || op.getNumResults() != 1)
      return std::nullopt;
    values[op.getResult(0)] = *result;
  }
  return std::nullopt;
}

/// An all-parallel, single-result generic with an identity output map.
bool isElementwise(linalg::GenericOp op) {
  return op.getNumResults() == 1 &&
         op.getNumParallelLoops() == op.getNumLoops() &&
         op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity();
}

/// The single-input elementwise generic consuming `value` as its only user.
linalg::GenericOp getUnaryConsumer(Value value) {
  if (!value.hasOneUse())
    return {};
  auto op = dyn_cast<linalg::GenericOp>(*value.getUsers().begin());
  if (!op || !isElementwise(op) || op.getNumDpsInputs() != 1 ||
      !op.getMatchingIndexingMap(op.getDpsInputOperand(0)).isIdentity())
    return {};
  return op;
}

/// Which activation an elementwise body computes, recognised by its values
/// on probe points spanning every branch of the supported activations.
std::optional<Activation> recognizeActivation(Block &body) {
  static const double probes[] = {-7.0, -3.0, -1.0, -0.25, 0.0,
                                  0.5,  1.0,  3.0,  6.5,   9.0};
  auto relu = [](double x) { return std::max(x, 0.0); };
  auto relu6 = [](double x) { return std::min(std::max(x, 0.0), 6.0); };
  auto silu = [](double x) { return x / (1.0 + std::exp(-x)); };
  auto gelu = [](double x) {
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  };
  std::pair<Activation, double (*)(double)> candidates[] = {
      {Activation::relu, relu},
      {Activation::relu6, relu6},
      {Activation::silu, silu},
      {Activation::gelu, gelu}};
  for (auto [activation, reference] : candidates) {
    bool matches = llvm::all_of(probes, [&](double x) {
      std::optional<double> y = evaluateBody(body, {x, 0.0});
      return y && std::abs(*y - reference(x)) <= 1e-6 * (1.0 + std::abs(x));
    });
    if (matches)
      return activation;
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// conv + batch norm
//===----------------------------------------------------------------------===//

/// y = a_c·conv + b_c after a float-weight conv: folded into weight and bias.
struct FoldChannelAffineIntoConv : OpRewritePattern<Conv2DOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(Conv2DOp conv,
                                PatternRewriter &rewriter) const override {
    std::optional<std::vector<double>> weight =
        getConstantFloatValues(conv.getWeight());
    if (!weight || !conv.getResult().hasOneUse() ||
        conv.getEpilogue() != Activation::none ||
        !isa<FloatType>(conv.getResult().getType().getElementType()))
      return failure();
    std::optional<std::vector<double>> bias;
    if (conv.getBias() && !(bias = getConstantFloatValues(conv.getBias())))
      return failure();
    auto affine = dyn_cast<linalg::GenericOp>(*conv->getUsers().begin());
    if (!affine || !isElementwise(affine))
      return failure();

    bool nchw = conv.getLayout() == ConvLayout::nchw;
    unsigned channelDim = nchw ? 1 : 3;
    auto resultType = cast<RankedTensorType>(conv.getResult().getType());
    int64_t channels = resultType.getDimSize(channelDim);

    // Every other input is a constant read only along the channel loop.
    SmallVector<std::optional<std::vector<double>>> constants;
    int convInputs = 0;
    for (OpOperand *input : affine.getDpsInputOperands()) {
      AffineMap map = affine.getMatchingIndexingMap(input);
      if (input->get() == conv.getResult()) {
        if (!map.isIdentity())
          return failure();
        ++convInputs;
        constants.push_back(std::nullopt);
        continue;
      }
      auto values = getConstantFloatValues(input->get());
      if (!values)
        return failure();
      for (AffineExpr expr : map.getResults()) {
        auto dim = dyn_cast<AffineDimExpr>(expr);
        auto zero = dyn_cast<AffineConstantExpr>(expr);
        if (!(dim && dim.getPosition() == channelDim) &&
            !(zero && zero.getValue() == 0))
          return failure();
      }
      if (values->size() != 1 && static_cast<int64_t>(values->size()) != channels)
        return failure();
      constants.push_back(std::move(values));
    }
    if (convInputs != 1)
      return failure();

    // Per channel, a and b from f(0) and f(1); f must be affine, which two
    // more probes confirm.
    Block &body = affine.getRegion().front();
    std::vector<double> a(channels), b(channels);
    for (int64_t c = 0; c < channels; ++c) {
      auto f = [&](double x) {
        SmallVector<double> args;
        for (auto &constant : constants)
          args.push_back(!constant ? x
                                   : (*constant)[constant->size() == 1 ? 0 : c]);
        args.push_back(0.0); // the output block argument
        return evaluateBody(body, args);
      };
      std::optional<double> f0 = f(0.0), f1 = f(1.0), fm = f(-2.5), fp = f(3.75);
      if (!f0 || !f1 || !fm || !fp)
        return failure();
      a[c] = *f1 - *f0;
      b[c] = *f0;
      double tolerance = 1e-9 * (1.0 + std::abs(a[c]) * 4 + std::abs(b[c]));
      if (std::abs(*fm - (b[c] - 2.5 * a[c])) > tolerance ||
          std::abs(*fp - (b[c] + 3.75 * a[c])) > tolerance)
        return failure();
    }

    RankedTensorType weightType = conv.getWeight().getType();
    int64_t filterDim = nchw ? 0 : 3;
    int64_t stride = 1;
    for (int64_t d = filterDim + 1; d < weightType.getRank(); ++d)
      stride *= weightType.getDimSize(d);
    std::vector<double> folded = *weight;
    for (int64_t i = 0, e = folded.size(); i < e; ++i)
      folded[i] *= a[(i / stride) % channels];
    std::vector<double> foldedBias(channels);
    for (int64_t c = 0; c < channels; ++c)
      foldedBias[c] = (bias ? (*bias)[c] : 0.0) * a[c] + b[c];

    Location loc = conv.getLoc();
    Value newWeight = createFloatConstant(rewriter, loc, weightType, folded);
    Value newBias = createFloatConstant(
        rewriter, loc,
        RankedTensorType::get({channels}, resultType.getElementType()),
        foldedBias);
    rewriter.modifyOpInPlace(conv, [&] {
      conv.getWeightMutable().assign(newWeight);
      conv.getBiasMutable().assign(newBias);
    });
    rewriter.replaceOp(affine, conv.getResult());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// matmul chains
//===----------------------------------------------------------------------===//

/// dequantize → matmul (integer weights): the matmul reads the quantized
/// value directly (static type, or integer storage + per-token scales).
struct FuseDequantizeIntoMatmul : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp matmul,
                                PatternRewriter &rewriter) const override {
    auto dequantize = matmul.getInput().getDefiningOp<DequantizeOp>();
    if (!dequantize || matmul.getHadamardPrologue() ||
        !isa<IntegerType>(matmul.getWeight().getType().getElementType()))
      return failure();
    Type storage =
        cast<RankedTensorType>(dequantize.getInput().getType()).getElementType();
    bool perToken = static_cast<bool>(dequantize.getScales());
    auto perTensor = dyn_cast<mlir::quant::UniformQuantizedType>(storage);
    unsigned bits = perTensor ? perTensor.getStorageTypeIntegralWidth()
                              : storage.getIntOrFloatBitWidth();
    if ((!perToken && !perTensor) || (bits != 4 && bits != 8))
      return failure();
    rewriter.modifyOpInPlace(matmul, [&] {
      matmul.getInputMutable().assign(dequantize.getInput());
      if (perToken)
        matmul.getInputScalesMutable().assign(dequantize.getScales());
    });
    return success();
  }
};

/// The [N] bias of `add` = matmul + bias when one side is `matmul` and the
/// other a 1-D input read along the last loop (or a constant whose rows are
/// all equal). Also returns the op to replace.
Value matchBiasAdd(MatmulOp matmul, PatternRewriter &rewriter,
                   Operation *&add) {
  Value result = matmul.getResult();
  if (!result.hasOneUse())
    return {};
  Operation *user = *result.getUsers().begin();
  auto resultType = cast<RankedTensorType>(result.getType());
  int64_t n = resultType.getShape().back();
  if (auto generic = dyn_cast<linalg::GenericOp>(user)) {
    if (!isElementwise(generic) || generic.getNumDpsInputs() != 2)
      return {};
    auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
    auto addOp = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
    if (!addOp || addOp->getBlock() != generic.getBody())
      return {};
    OpOperand *matmulSide = nullptr, *biasSide = nullptr;
    for (OpOperand *input : generic.getDpsInputOperands())
      (input->get() == result ? matmulSide : biasSide) = input;
    if (!matmulSide || !biasSide ||
        !generic.getMatchingIndexingMap(matmulSide).isIdentity())
      return {};
    AffineMap biasMap = generic.getMatchingIndexingMap(biasSide);
    auto biasType = dyn_cast<RankedTensorType>(biasSide->get().getType());
    if (!biasType || biasType.getRank() != 1 || biasMap.getNumResults() != 1 ||
        biasMap.getResult(0) !=
            getAffineDimExpr(biasMap.getNumDims() - 1, generic.getContext()))
      return {};
    Block *body = generic.getBody();
    Value lhs = addOp.getLhs(), rhs = addOp.getRhs();
    Value x = body->getArgument(matmulSide->getOperandNumber());
    Value bias = body->getArgument(biasSide->getOperandNumber());
    if (!((lhs == x && rhs == bias) || (lhs == bias && rhs == x)))
      return {};
    add = generic;
    return biasSide->get();
  }
  if (auto addOp = dyn_cast<arith::AddFOp>(user)) {
    Value other = addOp.getLhs() == result ? addOp.getRhs() : addOp.getLhs();
    std::optional<std::vector<double>> values = getConstantFloatValues(other);
    if (!values || values->size() % n != 0)
      return {};
    for (size_t i = n; i < values->size(); ++i)
      if ((*values)[i] != (*values)[i % n])
        return {};
    add = addOp;
    rewriter.setInsertionPoint(matmul);
    return createFloatConstant(
        rewriter, matmul.getLoc(),
        RankedTensorType::get({n}, resultType.getElementType()),
        ArrayRef<double>(*values).take_front(n));
  }
  return {};
}

/// matmul → bias add → activation → quantize: into the matmul's epilogue.
struct FuseMatmulEpilogue : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp matmul,
                                PatternRewriter &rewriter) const override {
    bool floatResult =
        isa<FloatType>(matmul.getResult().getType().getElementType());
    if (!floatResult || !matmul.getResult().hasOneUse())
      return failure();

    // Fuse one step at a time, in epilogue order; the driver revisits.
    if (!matmul.getBias() && matmul.getEpilogue() == Activation::none) {
      Operation *add = nullptr;
      if (Value bias = matchBiasAdd(matmul, rewriter, add)) {
        rewriter.modifyOpInPlace(
            matmul, [&] { matmul.getBiasMutable().assign(bias); });
        rewriter.replaceOp(add, matmul.getResult());
        return success();
      }
    }
    if (matmul.getEpilogue() == Activation::none) {
      if (linalg::GenericOp consumer = getUnaryConsumer(matmul.getResult()))
        if (std::optional<Activation> activation =
                recognizeActivation(consumer.getRegion().front())) {
          rewriter.modifyOpInPlace(matmul,
                                   [&] { matmul.setEpilogue(*activation); });
          rewriter.replaceOp(consumer, matmul.getResult());
          return success();
        }
    }
    auto quantize = dyn_cast<QuantizeOp>(*matmul->getUsers().begin());
    if (quantize && !quantize.getPerToken() &&
        isa<mlir::quant::UniformQuantizedType>(
            cast<RankedTensorType>(quantize.getResult().getType())
                .getElementType())) {
      rewriter.modifyOpInPlace(matmul, [&] {
        matmul.getResult().setType(
            cast<RankedTensorType>(quantize.getResult().getType()));
      });
      rewriter.replaceOp(quantize, matmul.getResult());
      return success();
    }
    return failure();
  }
};

/// hadamard → matmul (float input): into the matmul's prologue.
struct FuseHadamardPrologue : OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MatmulOp matmul,
                                PatternRewriter &rewriter) const override {
    auto hadamard = matmul.getInput().getDefiningOp<HadamardOp>();
    if (!hadamard || !hadamard->hasOneUse() || matmul.getHadamardPrologue())
      return failure();
    rewriter.modifyOpInPlace(matmul, [&] {
      matmul.getInputMutable().assign(hadamard.getInput());
      matmul.setHadamardPrologue(true);
      if (std::optional<ArrayRef<int8_t>> signs = hadamard.getSigns())
        matmul.setPrologueSigns(*signs);
    });
    rewriter.eraseOp(hadamard);
    return success();
  }
};

struct QNNFusePass : qnn::impl::QNNFuseBase<QNNFusePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldChannelAffineIntoConv, FuseDequantizeIntoMatmul,
                 FuseMatmulEpilogue, FuseHadamardPrologue>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
