//===- LowerPillarConv.cpp - qnn.pillar_conv to micro-kernels -------------===//
//
// A pillar conv becomes two kernel calls of include/quant/Runtime/UKernels.h
// (or, for the GPU, of GpuKernels.h, whose qr_gpu_pillar_* take the same
// arguments except for packed weights: one blob of the [taps · C_in, C_out]
// matrix instead of one a tap):
// qr_uk_pillar_rulebook writes the output sites and the neighbour map into
// buffers of a capacity known before the call (N, or N·k·k with selective
// dilation) and returns the row count M; the conv kernel then fills a
// [M, C_out] tensor allocated after it. M flows through an affine.min with
// the capacity, so the value-bounds analysis (and --qnn-bound-dynamic-
// results at the model boundary) can bound every dynamic size statically.
//
//===----------------------------------------------------------------------===//

#include "LowerPillarConv.h"
#include "Emitter.h"
#include "IntegerWeights.h"

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Dialect/QNN/Transforms/ConstantUtils.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::qnn;

namespace {

/// Per-tensor signed 8-bit storage, the only quantized features the int8
/// kernel reads.
mlir::quant::UniformQuantizedType getSignedInt8Features(PillarConvOp op) {
  auto uniform = dyn_cast<mlir::quant::UniformQuantizedType>(
      getElementTypeOrSelf(op.getFeatures().getType()));
  if (uniform && uniform.isSigned() &&
      uniform.getStorageTypeIntegralWidth() == 8)
    return uniform;
  return nullptr;
}

bool hasIntegerWeights(PillarConvOp op) {
  return isa<IntegerType>(getElementTypeOrSelf(op.getWeight().getType()));
}

/// Builds the kernel calls of one op: Emitter plus dynamic row counts.
class PillarConvEmitter : public Emitter {
public:
  using Emitter::Emitter;
  using Emitter::empty;

  Value toI64(Value index) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  }
  /// s0 · factor.
  Value scaled(Value index, int64_t factor) {
    AffineExpr s0 = b.getAffineSymbolExpr(0);
    return affine::AffineApplyOp::create(
        b, loc, AffineMap::get(0, 1, s0 * factor), ValueRange{index});
  }
  /// [rows, cols] with a dynamic row count.
  Value empty(Value rows, int64_t cols, Type elementType) {
    return tensor::EmptyOp::create(
        b, loc, ArrayRef<int64_t>{ShapedType::kDynamic, cols}, elementType,
        ValueRange{rows});
  }
  /// The first `rows` rows of `tensor`.
  Value leadingRows(Value tensor, Value rows) {
    auto type = cast<RankedTensorType>(tensor.getType());
    SmallVector<OpFoldResult> offsets(2, b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes = {rows,
                                       b.getIndexAttr(type.getDimSize(1))};
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(b, loc, tensor, offsets, sizes,
                                          strides);
  }
  /// A float vector [N] widened to f64 (the rulebook's importance).
  Value toF64(Value vector) {
    auto type = cast<RankedTensorType>(vector.getType());
    if (type.getElementType().isF64())
      return vector;
    SmallVector<Value> sizes;
    if (type.isDynamicDim(0))
      sizes.push_back(tensor::DimOp::create(b, loc, vector, 0));
    Value init =
        tensor::EmptyOp::create(b, loc, type.getShape(), b.getF64Type(), sizes);
    AffineMap identity = b.getMultiDimIdentityMap(1);
    return linalg::GenericOp::create(
               b, loc, init.getType(), vector, init,
               ArrayRef<AffineMap>{identity, identity},
               ArrayRef<utils::IteratorType>{utils::IteratorType::parallel},
               [](OpBuilder &nb, Location nl, ValueRange args) {
                 Value wide =
                     arith::ExtFOp::create(nb, nl, nb.getF64Type(), args[0]);
                 linalg::YieldOp::create(nb, nl, wide);
               })
        .getResult(0);
  }
};

struct LowerPillarConv : OpConversionPattern<PillarConvOp> {
  LowerPillarConv(const TypeConverter &converter, MLIRContext *context,
                  KernelTarget target)
      : OpConversionPattern(converter, context), target(target) {}

  /// The C symbol of pillar kernel `name` on the target.
  std::string symbol(StringRef name) const {
    return (target == KernelTarget::gpu ? "qr_gpu_pillar_" : "qr_uk_pillar_") +
           name.str();
  }

  LogicalResult
  matchAndRewrite(PillarConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    PillarConvEmitter e(rewriter, op.getLoc());
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    int64_t kernel = weightType.getDimSize(0), taps = kernel * kernel;
    int64_t cin = weightType.getDimSize(2), cout = weightType.getDimSize(3);
    bool dilate = op.getKind() == PillarConvKind::selective_dilation;
    mlir::quant::UniformQuantizedType int8Features = getSignedInt8Features(op);
    Value features = adaptor.getFeatures();

    // No pillars at all (a static empty input): empty results, no kernels
    // (a zero-row slice at offset 0 does not verify).
    if (cast<RankedTensorType>(features.getType()).getDimSize(0) == 0) {
      SmallVector<Value> empties;
      for (Type type : op.getResultTypes()) {
        auto converted =
            cast<RankedTensorType>(getTypeConverter()->convertType(type));
        empties.push_back(
            e.empty({0, converted.getDimSize(1)}, converted.getElementType()));
      }
      replaceWithResults(op, empties, e, rewriter);
      return success();
    }

    // Rulebook.
    Value count = tensor::DimOp::create(rewriter, e.location(), features, 0);
    Value capacity = dilate ? e.scaled(count, taps) : count;
    Value importance;
    if (!dilate) {
      importance = e.nullPointer();
    } else if (adaptor.getImportance()) {
      importance = e.toF64(adaptor.getImportance());
    } else {
      Value norms = tensor::EmptyOp::create(
          rewriter, e.location(), ArrayRef<int64_t>{ShapedType::kDynamic},
          rewriter.getF64Type(), ValueRange{count});
      importance =
          int8Features
              ? e.ukernel(symbol("norms_s8"),
                          {e.toI64(count), e.i64(cin), features, e.i64(cin),
                           e.f64(int8Features.getScale()),
                           e.i32(int8Features.getZeroPoint())},
                          norms, {6})[0]
              : e.ukernel(symbol("norms_f32"),
                          {e.toI64(count), e.i64(cin), features, e.i64(cin)},
                          norms, {4})[0];
    }
    double threshold = 0.0, ratio = 0.0;
    if (std::optional<APFloat> value = op.getThreshold())
      threshold = value->convertToDouble();
    if (std::optional<APFloat> value = op.getTopkRatio())
      ratio = value->convertToDouble();
    ArrayRef<int64_t> grid = op.getGrid();
    // A stride-1 submanifold rulebook depends on the sites alone, and such a
    // layer's output sites are its input ones (replaced below by the input
    // coordinates themselves): the layers of a backbone stage share one
    // rulebook, as spconv's indice keys do.
    bool keepsSites = !dilate && op.getStride() == 1;
    UKernelOp shared;
    if (keepsSites)
      shared = findSiteRulebook(op, adaptor.getCoords(), kernel);
    ValueRange book =
        shared ? ValueRange(shared.getResults())
               : e.ukernel(symbol("rulebook"),
                           {e.toI64(count), adaptor.getCoords(), e.i64(grid[0]),
                            e.i64(grid[1]), e.i64(kernel),
                            e.i64(op.getStride()), e.i32(dilate), importance,
                            e.f64(threshold), e.f64(ratio), e.toI64(capacity)},
                           {e.empty(capacity, 3, rewriter.getI32Type()),
                            e.empty(capacity, taps, rewriter.getI32Type()),
                            tensor::EmptyOp::create(rewriter, e.location(),
                                                    ArrayRef<int64_t>{2},
                                                    rewriter.getI64Type())},
                           {11, 12, 13});
    Value zero = arith::ConstantIndexOp::create(rewriter, e.location(), 0);
    Value rowCount = arith::IndexCastOp::create(
        rewriter, e.location(), rewriter.getIndexType(),
        tensor::ExtractOp::create(rewriter, e.location(), book[2],
                                  ValueRange{zero}));
    // M ≤ capacity always; saying so bounds every size derived from M.
    AffineExpr s0 = rewriter.getAffineSymbolExpr(0),
               s1 = rewriter.getAffineSymbolExpr(1);
    Value rows = affine::AffineMinOp::create(
        rewriter, e.location(),
        AffineMap::get(0, 2, {s0, s1}, rewriter.getContext()),
        ValueRange{rowCount, capacity});
    Value outCoords =
        keepsSites ? adaptor.getCoords() : e.leadingRows(book[0], rows);
    Value neighbours = e.leadingRows(book[1], rows);

    // Convolution.
    Value bias = adaptor.getBias() ? adaptor.getBias() : e.nullPointer();
    Value out = e.empty(rows, cout, rewriter.getF32Type());
    SmallVector<Value> shape = {e.toI64(rows), e.i64(taps), e.i64(cin),
                                e.i64(cout)};
    Value result;
    if (!hasIntegerWeights(op)) {
      std::optional<std::vector<double>> values =
          getConstantFloatValues(op.getWeight());
      if (!values)
        return failure(); // reported by checkPillarConvLowerable
      Value weights =
          createFloatConstant(rewriter, e.location(),
                              weightType.clone(rewriter.getF32Type()), *values);
      SmallVector<Value> inputs(shape);
      inputs.append({features, neighbours, weights, bias});
      result = e.ukernel(symbol("conv_f32"), inputs, out, {8})[0];
    } else if (target == KernelTarget::gpu) {
      FailureOr<IntegerWeights> weights = readAllTaps(op);
      if (failed(weights))
        return failure();
      FailureOr<Value> blob =
          packWeights(rewriter, e.location(), op, *weights, target);
      if (failed(blob))
        return failure();
      SmallVector<Value> inputs(shape);
      inputs.append(
          {e.i32(weights->bits), e.i64(weights->rows / weights->groups)});
      if (int8Features) {
        inputs.append({features, e.f32(int8Features.getScale()),
                       e.i32(int8Features.getZeroPoint()), neighbours, *blob,
                       bias});
        result = e.ukernel(symbol("conv_s8"), inputs, out, {12})[0];
      } else {
        inputs.append({features, neighbours, *blob, bias});
        result = e.ukernel(symbol("conv_f16w"), inputs, out, {10})[0];
      }
    } else {
      FailureOr<std::pair<Value, int64_t>> packed = packTaps(op, rewriter);
      if (failed(packed))
        return failure();
      auto [blobs, stride] = *packed;
      SmallVector<Value> inputs(shape);
      if (int8Features) {
        inputs.append({features, e.f32(int8Features.getScale()),
                       e.i32(int8Features.getZeroPoint()), neighbours, blobs,
                       e.i64(stride), bias});
        result = e.ukernel(symbol("conv_s8"), inputs, out, {11})[0];
      } else {
        inputs.append({features, neighbours, blobs, e.i64(stride), bias});
        result = e.ukernel(symbol("conv_packed_f32"), inputs, out, {9})[0];
      }
    }

    replaceWithResults(op, {result, outCoords}, e, rewriter);
    return success();
  }

  /// Replaces `op` by `values`, cast to its declared result types where they
  /// differ: those may be static (a stride-1 submanifold conv of a static
  /// input keeps its row count; an empty input has none).
  void replaceWithResults(PillarConvOp op, ValueRange values,
                          PillarConvEmitter &e,
                          ConversionPatternRewriter &rewriter) const {
    SmallVector<Value> replacements;
    for (auto [value, type] : llvm::zip(values, op.getResultTypes())) {
      Type converted = getTypeConverter()->convertType(type);
      replacements.push_back(
          value.getType() == converted
              ? value
              : tensor::CastOp::create(rewriter, e.location(), converted, value)
                    .getResult());
    }
    rewriter.replaceOp(op, replacements);
  }

  /// An earlier stride-1 submanifold rulebook of this block on `coords` with
  /// `op`'s grid and kernel, or null.
  UKernelOp findSiteRulebook(PillarConvOp op, Value coords,
                             int64_t kernel) const {
    ArrayRef<int64_t> grid = op.getGrid();
    const int64_t key[] = {grid[0], grid[1], kernel, 1, 0};
    for (Operation *user : coords.getUsers()) {
      auto rulebook = dyn_cast<UKernelOp>(user);
      if (!rulebook || rulebook.getName() != symbol("rulebook") ||
          rulebook->getBlock() != op->getBlock() ||
          !rulebook->isBeforeInBlock(op) || rulebook.getInputs().size() < 7 ||
          rulebook.getInputs()[1] != coords)
        continue;
      // Inputs 2..6: height, width, kernel, stride, dilate.
      bool same = true;
      for (int i = 0; i < 5 && same; ++i) {
        APInt value;
        same =
            matchPattern(rulebook.getInputs()[2 + i], m_ConstantInt(&value)) &&
            value.getSExtValue() == key[i];
      }
      if (same)
        return rulebook;
    }
    return nullptr;
  }

  /// The weights as one [taps · C_in, C_out] matrix.
  static FailureOr<IntegerWeights> readAllTaps(PillarConvOp op) {
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    int64_t taps = weightType.getDimSize(0) * weightType.getDimSize(1);
    int64_t cin = weightType.getDimSize(2), cout = weightType.getDimSize(3);
    FailureOr<IntegerWeights> weights = readIntegerWeights(
        op, op.getWeight(), op.getScales(), op.getZeroPoints(), taps * cin,
        cout, [&](int64_t k, int64_t n) { return k * cout + n; });
    if (succeeded(weights))
      weights->repeatGroups(taps);
    return weights;
  }

  /// Every tap's [C_in, C_out] weights packed, in one i8 constant of
  /// 64-byte aligned blobs; returns it and the blob stride in bytes.
  static FailureOr<std::pair<Value, int64_t>> packTaps(PillarConvOp op,
                                                       OpBuilder &b) {
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    int64_t taps = weightType.getDimSize(0) * weightType.getDimSize(1);
    int64_t cin = weightType.getDimSize(2), cout = weightType.getDimSize(3);
    std::vector<char> blobs;
    int64_t stride = 0;
    for (int64_t t = 0; t < taps; ++t) {
      FailureOr<IntegerWeights> weights = readIntegerWeights(
          op, op.getWeight(), op.getScales(), op.getZeroPoints(), cin, cout,
          [&](int64_t k, int64_t n) { return (t * cin + k) * cout + n; });
      if (failed(weights))
        return failure();
      FailureOr<std::vector<char>> bytes = packWeightBytes(op, *weights);
      if (failed(bytes))
        return failure();
      stride = (static_cast<int64_t>(bytes->size()) + 63) / 64 * 64;
      blobs.insert(blobs.end(), bytes->begin(), bytes->end());
      blobs.resize((t + 1) * stride, 0);
    }
    auto type = RankedTensorType::get({static_cast<int64_t>(blobs.size())},
                                      b.getI8Type());
    Value constant = arith::ConstantOp::create(
        b, op.getLoc(), type, DenseElementsAttr::getFromRawBuffer(type, blobs));
    return std::make_pair(constant, stride);
  }

  KernelTarget target;
};

} // namespace

LogicalResult qnn::checkPillarConvLowerable(PillarConvOp op,
                                            KernelTarget target) {
  StringRef name = target == KernelTarget::gpu ? "GPU" : "CPU";
  Type featureType = getElementTypeOrSelf(op.getFeatures().getType());
  bool int8Features = static_cast<bool>(getSignedInt8Features(op));
  if (!featureType.isF32() && !int8Features)
    return op.emitOpError("the ")
           << name
           << " lowering takes f32 features or per-tensor signed 8-bit "
              "!quant.uniform features, not "
           << featureType;
  Type resultType = getElementTypeOrSelf(op.getOutputFeatures().getType());
  if (!resultType.isF32())
    return op.emitOpError("the ")
           << name << " lowering produces f32 output features, not "
           << resultType;
  if (Value bias = op.getBias();
      bias && !getElementTypeOrSelf(bias.getType()).isF32())
    return op.emitOpError("the ") << name << " lowering takes an f32 bias";
  if (!hasIntegerWeights(op)) {
    if (!getConstantFloatValues(op.getWeight()))
      return op.emitOpError("the ")
             << name << " lowering needs constant weights";
    return success();
  }
  if (failed(checkIntegerWeights(op, op.getWeight(), op.getScales(),
                                 op.getZeroPoints(), target)))
    return failure();
  if (target != KernelTarget::gpu)
    return success();
  auto weightType = cast<RankedTensorType>(op.getWeight().getType());
  int64_t cin = weightType.getDimSize(2), cout = weightType.getDimSize(3);
  int64_t groups =
      cast<ShapedType>(op.getScales().getType()).getNumElements() / cout;
  if (failed(checkGpuGroups(op, cin, groups)))
    return failure();
  if (int8Features && op.getZeroPoints())
    return op.emitOpError("the GPU integer kernel (qr_gpu_pillar_conv_s8) "
                          "takes symmetric weights only; quantize the "
                          "weights with symmetric=true or keep float "
                          "features");
  return success();
}

void qnn::populateLowerPillarConvPatterns(const TypeConverter &converter,
                                          RewritePatternSet &patterns,
                                          KernelTarget target) {
  patterns.add<LowerPillarConv>(converter, patterns.getContext(), target);
}
