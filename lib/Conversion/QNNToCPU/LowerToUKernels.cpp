//===- LowerToUKernels.cpp - qnn ops to linalg and micro-kernel calls -----===//
//
// The hot loops (matmuls, the Hadamard transform, per-token quantization)
// become qnn.ukernel calls of include/quant/Runtime/UKernels.h, as IREE
// does with its ukernels; everything element-wise becomes linalg.generic
// and is left to upstream bufferization, loops and LLVM's vectorizer.
// With target=gpu the same lowering calls the CUDA kernels of
// include/quant/Runtime/GpuKernels.h (same arguments where the operation is
// the same) and the generics become GPU kernels (--qnn-lower-to-gpu).
// Roundings that decide an integer are computed in float64 exactly as the
// reference evaluator (lib/Evaluator/QuantOps.cpp) computes them, so the
// integer paths are bit-exact with it.
//
//===----------------------------------------------------------------------===//

#include "Emitter.h"
#include "IntegerWeights.h"
#include "LowerPillarConv.h"

#include "quant/Conversion/Passes.h"
#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Dialect/QNN/Transforms/ConstantUtils.h"
#include "quant/Runtime/UKernels.h"
#include "quant/Support/Hadamard.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>
#include <numeric>

namespace mlir {
namespace qnn {
#define GEN_PASS_DEF_QNNLOWERTOUKERNELS
#include "quant/Conversion/Passes.h.inc"
} // namespace qnn
} // namespace mlir

using namespace mlir;
using namespace mlir::qnn;

namespace {

//===----------------------------------------------------------------------===//
// Runtime types
//===----------------------------------------------------------------------===//

/// The element type a value has in memory: quantized types become their
/// storage type, and sub-byte integers take one byte each (what the kernels
/// read; LLVM leaves the padding bits of an i4 store unspecified).
Type runtimeElementType(Type type) {
  if (auto quantized = dyn_cast<mlir::quant::QuantizedType>(type))
    type = quantized.getStorageType();
  if (auto integer = dyn_cast<IntegerType>(type);
      integer && integer.getWidth() < 8)
    return IntegerType::get(type.getContext(), 8);
  return type;
}

class RuntimeTypeConverter : public TypeConverter {
public:
  RuntimeTypeConverter() {
    addConversion([](Type type) { return type; });
    addConversion([](RankedTensorType type) -> Type {
      return type.clone(runtimeElementType(type.getElementType()));
    });
    auto cast = [](OpBuilder &builder, Type type, ValueRange inputs,
                   Location loc) -> Value {
      return UnrealizedConversionCastOp::create(builder, loc, type, inputs)
          .getResult(0);
    };
    addSourceMaterialization(cast);
    addTargetMaterialization(cast);
  }
};

bool hasRuntimeTypes(TypeRange types) {
  return llvm::all_of(types, [](Type type) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    return !tensor ||
           runtimeElementType(tensor.getElementType()) ==
               tensor.getElementType();
  });
}

//===----------------------------------------------------------------------===//
// Building blocks
//===----------------------------------------------------------------------===//

/// clamp(roundeven(x / scale) + zero_point, qmin, qmax) with NaN → the zero
/// point, in float64 as the evaluator computes it, as storage bits of
/// `storageType`.
Value quantizeScalar(OpBuilder &b, Location loc, Value x, Value scale,
                     Value zeroPoint, double qmin, double qmax,
                     Type storageType) {
  Type f64 = b.getF64Type();
  Value q = arith::DivFOp::create(b, loc, Emitter::castFloat(b, loc, x, f64),
                                  scale);
  q = math::RoundEvenOp::create(b, loc, q);
  q = arith::AddFOp::create(b, loc, q, zeroPoint);
  Value isNan =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, q, q);
  q = arith::SelectOp::create(b, loc, isNan, zeroPoint, q);
  q = arith::MaximumFOp::create(
      b, loc, q, arith::ConstantFloatOp::create(b, loc, b.getF64Type(),
                                                APFloat(qmin)));
  q = arith::MinimumFOp::create(
      b, loc, q, arith::ConstantFloatOp::create(b, loc, b.getF64Type(),
                                                APFloat(qmax)));
  Value wide = arith::FPToSIOp::create(b, loc, b.getI64Type(), q);
  return arith::TruncIOp::create(b, loc, runtimeElementType(storageType), wide);
}

/// The integer a storage byte encodes, as float64.
Value storageToF64(OpBuilder &b, Location loc, Value storage, bool isSigned) {
  if (isSigned)
    return arith::SIToFPOp::create(b, loc, b.getF64Type(), storage);
  return arith::UIToFPOp::create(b, loc, b.getF64Type(), storage);
}

/// Per-element scales and zero points of a static !quant type, as scalars
/// (per-tensor) or as constant tensors with the map that indexes them.
struct QuantGrid {
  mlir::quant::QuantizedType type;
  double scale = 1.0, zeroPoint = 0.0;
  Value scales, zeroPoints; // null for per-tensor
  AffineMap map;

  static FailureOr<QuantGrid> get(Emitter &e, Operation *op, Type elementType,
                                  RankedTensorType tensorType) {
    QuantGrid grid;
    grid.type = cast<mlir::quant::QuantizedType>(elementType);
    MLIRContext *ctx = e.context();
    unsigned rank = tensorType.getRank();
    auto makeTensors = [&](ArrayRef<int64_t> shape, ArrayRef<double> scales,
                           ArrayRef<double> zeroPoints) {
      auto type = RankedTensorType::get(shape, Float64Type::get(ctx));
      grid.scales = createFloatConstant(e.builder(), e.location(), type, scales);
      grid.zeroPoints =
          createFloatConstant(e.builder(), e.location(), type, zeroPoints);
    };
    if (auto perTensor =
            dyn_cast<mlir::quant::UniformQuantizedType>(grid.type)) {
      grid.scale = perTensor.getScale();
      grid.zeroPoint = perTensor.getZeroPoint();
      return grid;
    }
    if (auto perAxis =
            dyn_cast<mlir::quant::UniformQuantizedPerAxisType>(grid.type)) {
      int64_t axis = perAxis.getQuantizedDimension();
      SmallVector<double> zeroPoints(perAxis.getZeroPoints().begin(),
                                     perAxis.getZeroPoints().end());
      makeTensors({static_cast<int64_t>(perAxis.getScales().size())},
                  perAxis.getScales(), zeroPoints);
      grid.map = AffineMap::get(rank, 0, getAffineDimExpr(axis, ctx));
      return grid;
    }
    if (auto subChannel =
            dyn_cast<mlir::quant::UniformQuantizedSubChannelType>(grid.type)) {
      auto scaleAttr = subChannel.getScales();
      auto scaleType = cast<RankedTensorType>(scaleAttr.getType());
      std::optional<std::vector<double>> scales = getFloatValues(scaleAttr);
      if (!scales)
        return op->emitOpError("cannot read the sub-channel scales of ")
               << elementType;
      SmallVector<double> zeroPoints;
      for (APInt v : subChannel.getZeroPoints().getValues<APInt>())
        zeroPoints.push_back(static_cast<double>(v.getSExtValue()));
      SmallVector<AffineExpr> exprs;
      for (unsigned d = 0; d < rank; ++d)
        exprs.push_back(getAffineDimExpr(d, ctx).floorDiv(
            tensorType.getDimSize(d) / scaleType.getDimSize(d)));
      makeTensors(scaleType.getShape(), *scales, zeroPoints);
      grid.map = AffineMap::get(rank, 0, exprs, ctx);
      return grid;
    }
    return op->emitOpError("cannot lower quantized type ") << elementType;
  }

  bool isPerTensor() const { return !scales; }

  /// Inputs and maps to append to an element-wise generic over `rank` dims.
  void appendOperands(SmallVectorImpl<Value> &inputs,
                      SmallVectorImpl<AffineMap> &maps) const {
    if (isPerTensor())
      return;
    inputs.append({scales, zeroPoints});
    maps.append({map, map});
  }

  /// (scale, zero point) as f64 values inside a generic body whose trailing
  /// block arguments are the ones appendOperands added.
  std::pair<Value, Value> values(OpBuilder &b, Location loc,
                                 ValueRange args) const {
    if (isPerTensor())
      return {arith::ConstantFloatOp::create(b, loc, b.getF64Type(),
                                             APFloat(scale)),
              arith::ConstantFloatOp::create(b, loc, b.getF64Type(),
                                             APFloat(zeroPoint))};
    return {args[args.size() - 2], args[args.size() - 1]};
  }
};

/// Float `x` (any float tensor) quantized to the static `quantType`.
FailureOr<Value> quantizeStatic(Emitter &e, Operation *op, Value x,
                                Type quantType) {
  auto type = cast<RankedTensorType>(x.getType());
  FailureOr<QuantGrid> grid = QuantGrid::get(e, op, quantType, type);
  if (failed(grid))
    return failure();
  SmallVector<Value> inputs{x};
  SmallVector<AffineMap> maps{e.builder().getMultiDimIdentityMap(
      type.getRank())};
  grid->appendOperands(inputs, maps);
  Type storage = grid->type.getStorageType();
  double qmin = grid->type.getStorageTypeMin();
  double qmax = grid->type.getStorageTypeMax();
  return e.generic(inputs, maps, type.clone(runtimeElementType(storage)),
                   [&](OpBuilder &b, Location loc, ValueRange args) {
                     auto [scale, zeroPoint] = grid->values(b, loc, args);
                     return quantizeScalar(b, loc, args[0], scale, zeroPoint,
                                           qmin, qmax, storage);
                   });
}

/// Storage `q` of the static `quantType` dequantized to `resultType`.
FailureOr<Value> dequantizeStatic(Emitter &e, Operation *op, Value q,
                                  Type quantType,
                                  RankedTensorType resultType) {
  FailureOr<QuantGrid> grid = QuantGrid::get(e, op, quantType, resultType);
  if (failed(grid))
    return failure();
  SmallVector<Value> inputs{q};
  SmallVector<AffineMap> maps{e.builder().getMultiDimIdentityMap(
      resultType.getRank())};
  grid->appendOperands(inputs, maps);
  bool isSigned = grid->type.isSigned();
  Type floatType = resultType.getElementType();
  return e.generic(inputs, maps, resultType,
                   [&](OpBuilder &b, Location loc, ValueRange args) {
                     auto [scale, zeroPoint] = grid->values(b, loc, args);
                     Value v = storageToF64(b, loc, args[0], isSigned);
                     v = arith::SubFOp::create(b, loc, v, zeroPoint);
                     v = arith::MulFOp::create(b, loc, v, scale);
                     return Emitter::castFloat(b, loc, v, floatType);
                   });
}

Value applyActivation(OpBuilder &b, Location loc, Activation activation,
                      Value x) {
  Type type = x.getType();
  auto constant = [&](double v) {
    return arith::ConstantFloatOp::create(b, loc, cast<FloatType>(type),
                                          APFloat(static_cast<float>(v)));
  };
  switch (activation) {
  case Activation::none:
    return x;
  case Activation::relu:
    return arith::MaximumFOp::create(b, loc, x, constant(0.0));
  case Activation::relu6:
    return arith::MinimumFOp::create(
        b, loc, arith::MaximumFOp::create(b, loc, x, constant(0.0)),
        constant(6.0));
  case Activation::gelu: {
    Value erf = math::ErfOp::create(
        b, loc, arith::MulFOp::create(b, loc, x, constant(M_SQRT1_2)));
    Value half = arith::MulFOp::create(b, loc, x, constant(0.5));
    return arith::MulFOp::create(
        b, loc, half, arith::AddFOp::create(b, loc, erf, constant(1.0)));
  }
  case Activation::silu: {
    Value negated = arith::NegFOp::create(b, loc, x);
    Value denominator = arith::AddFOp::create(
        b, loc, math::ExpOp::create(b, loc, negated), constant(1.0));
    return arith::DivFOp::create(b, loc, x, denominator);
  }
  }
  return x;
}

/// bias, activation, then the result element type (a float, or a static
/// !quant type to requantize to) for an f32 accumulator [M, N].
FailureOr<Value> finishEpilogue(Emitter &e, Operation *op, Value accumulator,
                                Value bias, Activation activation,
                                Type resultElementType) {
  auto type = cast<RankedTensorType>(accumulator.getType());
  MLIRContext *ctx = e.context();
  SmallVector<Value> inputs{accumulator};
  SmallVector<AffineMap> maps{AffineMap::getMultiDimIdentityMap(2, ctx)};
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(AffineMap::get(2, 0, getAffineDimExpr(1, ctx)));
  }
  auto body = [&](OpBuilder &b, Location loc, ValueRange args) {
    Value v = args[0];
    if (bias)
      v = arith::AddFOp::create(
          b, loc, v, Emitter::castFloat(b, loc, args[1], b.getF32Type()));
    return applyActivation(b, loc, activation, v);
  };
  if (isa<FloatType>(resultElementType)) {
    if (!bias && activation == Activation::none)
      return e.convertFloat(accumulator, resultElementType);
    return e.convertFloat(e.generic(inputs, maps, type, body),
                          resultElementType);
  }
  Value activated = accumulator;
  if (bias || activation != Activation::none)
    activated = e.generic(inputs, maps, type, body);
  return quantizeStatic(e, op, activated, resultElementType);
}

//===----------------------------------------------------------------------===//
// Matrix multiplication cores
//===----------------------------------------------------------------------===//

/// The C symbol of kernel `name` ("gemm_f32") on `target`; kernels of the
/// same name take the same arguments on both.
std::string kernelSymbol(KernelTarget target, StringRef name) {
  return (target == KernelTarget::gpu ? "qr_gpu_" : "qr_uk_") + name.str();
}

StringRef targetName(KernelTarget target) {
  return target == KernelTarget::gpu ? "GPU" : "CPU";
}

/// Packed integer weights [K, N] with the parameters the GPU kernels take as
/// arguments (their blob, unlike the CPU one, has no header).
struct PackedWeights {
  Value blob;
  int64_t cols = 0;
  unsigned bits = 8;
  int64_t groupSize = 0;
};

/// M, N, K, then for the GPU kernels bits and group size.
SmallVector<Value> matmulSizes(Emitter &e, KernelTarget target, int64_t rows,
                               int64_t depth, const PackedWeights &w) {
  SmallVector<Value> sizes{e.i64(rows), e.i64(w.cols), e.i64(depth)};
  if (target == KernelTarget::gpu)
    sizes.append({e.i32(w.bits), e.i64(w.groupSize)});
  return sizes;
}

/// An activation matrix [M, K] as the integer kernel reads it.
struct IntegerActivation {
  Value values;      // [M, K] signed 8-bit storage
  Value tokenScales; // [M] f32, or null for a per-tensor scale
  double scale = 1.0;
  int64_t zeroPoint = 0;
};

/// C[M, N] (f32) = A · W for integer activations and packed weights.
Value integerMatmul(Emitter &e, KernelTarget target, const IntegerActivation &a,
                    const PackedWeights &w) {
  auto aType = cast<RankedTensorType>(a.values.getType());
  int64_t rows = aType.getDimSize(0), depth = aType.getDimSize(1);
  Value out = e.empty({rows, w.cols}, e.builder().getF32Type());
  Value scales = a.tokenScales ? a.tokenScales : e.nullPointer();
  SmallVector<Value> args = matmulSizes(e, target, rows, depth, w);
  args.append({a.values, e.i64(depth), scales, e.f32(a.scale),
               e.i32(a.zeroPoint), w.blob});
  int64_t outPosition = args.size();
  args.push_back(e.i64(w.cols));
  return e.ukernel(kernelSymbol(target, "matmul_s8"), args, out,
                   {outPosition})[0];
}

/// C[M, N] (f32) = A · W for f32 activations and packed weights: the CPU
/// kernel in f32, the GPU one with f16 tensor cores (qr_gpu_matmul_f16w).
Value weightOnlyMatmul(Emitter &e, KernelTarget target, Value a,
                       const PackedWeights &w) {
  auto aType = cast<RankedTensorType>(a.getType());
  int64_t rows = aType.getDimSize(0), depth = aType.getDimSize(1);
  Value out = e.empty({rows, w.cols}, e.builder().getF32Type());
  SmallVector<Value> args = matmulSizes(e, target, rows, depth, w);
  args.append({a, e.i64(depth), w.blob});
  int64_t outPosition = args.size();
  args.push_back(e.i64(w.cols));
  StringRef name = target == KernelTarget::gpu ? "matmul_f16w" : "matmul_f32";
  return e.ukernel(kernelSymbol(target, name), args, out, {outPosition})[0];
}

/// C[b] = A[b] · B[b] (or · B[b]ᵀ) in f32 into `out`; rank-2 or rank-3
/// operands (a rank-2 B is shared by every batch).
Value floatGemm(Emitter &e, KernelTarget target, Value a, Value b,
                bool transposeB, Value out) {
  auto aType = cast<RankedTensorType>(a.getType());
  auto bType = cast<RankedTensorType>(b.getType());
  bool batched = aType.getRank() == 3;
  int64_t batch = batched ? aType.getDimSize(0) : 1;
  int64_t rows = aType.getDimSize(aType.getRank() - 2);
  int64_t depth = aType.getShape().back();
  int64_t bRows = bType.getDimSize(bType.getRank() - 2);
  int64_t bCols = bType.getShape().back();
  int64_t cols = transposeB ? bRows : bCols;
  int64_t bStride = bType.getRank() == 3 ? bRows * bCols : 0;
  return e.ukernel(kernelSymbol(target, "gemm_f32"),
                   {e.i64(batch), e.i64(rows), e.i64(cols), e.i64(depth), a,
                    e.i64(depth), e.i64(rows * depth), b, e.i64(bCols),
                    e.i64(bStride), e.i32(transposeB), e.i64(cols),
                    e.i64(rows * cols)},
                   out, {11})[0];
}

/// In place x ← (x ∘ signs) · H / sqrt(n) on the rows of an f32 [R, n].
Value hadamardRows(Emitter &e, KernelTarget target, Value x,
                   std::optional<ArrayRef<int8_t>> signs) {
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rows = type.getDimSize(0), n = type.getDimSize(1);
  int64_t base = ::quant::hadamardBaseOrder(n);
  OpBuilder &b = e.builder();
  auto i8Constant = [&](ArrayRef<int8_t> values, ArrayRef<int64_t> shape) {
    auto constType = RankedTensorType::get(shape, b.getI8Type());
    return arith::ConstantOp::create(
               b, e.location(), constType,
               DenseElementsAttr::get(constType, values))
        .getResult();
  };
  Value signValues = signs ? i8Constant(*signs, {n}) : e.nullPointer();
  Value baseMatrix = e.nullPointer();
  if (base > 1) {
    std::vector<int8_t> matrix = ::quant::hadamardMatrix(base);
    baseMatrix = i8Constant(matrix, {base, base});
  }
  return e.ukernel(
      kernelSymbol(target, "hadamard_f32"),
      {e.i64(rows), e.i64(n), e.i64(n), signValues, baseMatrix, e.i64(base)}, x,
      {0})[0];
}

/// `activation` [M, K] in the form the integer kernel reads: per-token
/// storage with its scales, or statically quantized storage (unsigned
/// storage re-biased to signed: a − 128 with zero point − 128).
FailureOr<IntegerActivation>
prepareIntegerActivation(Emitter &e, Operation *op, Type originalElementType,
                         Value values, Value tokenScales) {
  IntegerActivation result;
  result.values = values;
  if (tokenScales) {
    result.tokenScales = e.convertFloat(e.flattenAll(tokenScales),
                                        e.builder().getF32Type());
    return result;
  }
  auto uniform =
      dyn_cast<mlir::quant::UniformQuantizedType>(originalElementType);
  if (!uniform)
    return failure(); // reported by checkLowerable
  result.scale = uniform.getScale();
  result.zeroPoint = uniform.getZeroPoint();
  if (!uniform.isSigned()) {
    auto type = cast<RankedTensorType>(values.getType());
    result.values = e.generic(
        values, {}, type, [&](OpBuilder &b, Location loc, ValueRange args) {
          // 0x80: maps u8 storage u to the signed byte u − 128.
          Value flip = arith::ConstantIntOp::create(b, loc, b.getI8Type(),
                                                    -128);
          return arith::XOrIOp::create(b, loc, args[0], flip).getResult();
        });
    result.zeroPoint -= 128;
  }
  return result;
}

/// `weights` packed whole, or — with a MixLLM split — as a high-precision
/// part and a low-precision part whose products are merged back into
/// column order.
FailureOr<Value>
multiplyPackedWeights(Emitter &e, KernelTarget target, Operation *op,
                      const IntegerWeights &weights, PrecisionSplitAttr split,
                      bool isSigned,
                      function_ref<Value(const PackedWeights &)> multiply) {
  auto pack = [&](const IntegerWeights &part) -> FailureOr<PackedWeights> {
    FailureOr<Value> blob =
        packWeights(e.builder(), e.location(), op, part, target);
    if (failed(blob))
      return failure();
    return PackedWeights{*blob, part.cols, part.bits, part.rows / part.groups};
  };
  if (!split) {
    FailureOr<PackedWeights> packed = pack(weights);
    if (failed(packed))
      return failure();
    return multiply(*packed);
  }
  llvm::SmallDenseSet<int64_t> highSet(split.getHighColumns().begin(),
                                       split.getHighColumns().end());
  SmallVector<int64_t> high, low, source(weights.cols);
  for (int64_t n = 0; n < weights.cols; ++n)
    (highSet.contains(n) ? high : low).push_back(n);
  SmallVector<Value> products;
  for (auto [columns, bits] :
       {std::pair{ArrayRef<int64_t>(high), weights.bits},
        std::pair{ArrayRef<int64_t>(low), split.getLowBits()}}) {
    if (columns.empty())
      continue;
    FailureOr<PackedWeights> packed =
        pack(weights.selectColumns(columns, bits, isSigned));
    if (failed(packed))
      return failure();
    products.push_back(multiply(*packed));
  }
  if (products.size() == 1)
    return products.front();
  // Column n of the result is column source[n] of [high | low].
  for (auto [position, n] : llvm::enumerate(high))
    source[n] = position;
  for (auto [position, n] : llvm::enumerate(low))
    source[n] = high.size() + position;
  OpBuilder &b = e.builder();
  Value joined = tensor::ConcatOp::create(b, e.location(), 1, products);
  auto sourceType =
      RankedTensorType::get({weights.cols}, b.getIndexType());
  SmallVector<APInt> sourceValues;
  for (int64_t s : source)
    sourceValues.push_back(APInt(64, s));
  Value sourceConstant = arith::ConstantOp::create(
      b, e.location(), sourceType,
      DenseElementsAttr::get(sourceType, sourceValues));
  auto resultType = cast<RankedTensorType>(joined.getType());
  MLIRContext *ctx = e.context();
  return e.generic(
      sourceConstant, {AffineMap::get(2, 0, getAffineDimExpr(1, ctx))},
      resultType, [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value row = linalg::IndexOp::create(nb, loc, 0);
        return tensor::ExtractOp::create(nb, loc, joined,
                                         ValueRange{row, args[0]})
            .getResult();
      });
}

//===----------------------------------------------------------------------===//
// qnn op lowerings
//===----------------------------------------------------------------------===//

/// A lowering that calls the kernels of `target`.
template <typename OpTy> struct KernelPattern : OpConversionPattern<OpTy> {
  KernelPattern(const TypeConverter &converter, MLIRContext *ctx,
                KernelTarget target)
      : OpConversionPattern<OpTy>(converter, ctx), target(target) {}
  KernelTarget target;
};

struct LowerHadamard : KernelPattern<HadamardOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(HadamardOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    auto type = cast<RankedTensorType>(op.getType());
    Value rows = e.convertFloat(e.flattenRows(adaptor.getInput()),
                                rewriter.getF32Type());
    Value result = hadamardRows(e, target, rows, op.getSigns());
    result = e.convertFloat(result, type.getElementType());
    rewriter.replaceOp(op, e.unflattenRows(result, type.getShape()));
    return success();
  }
};

struct LowerRotate : KernelPattern<RotateOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(RotateOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    auto type = cast<RankedTensorType>(op.getType());
    auto rotationType =
        cast<RankedTensorType>(cast<ElementsAttr>(op.getRotation()).getType());
    std::optional<std::vector<double>> values =
        getFloatValues(op.getRotation());
    if (!values)
      return op.emitOpError("cannot read the rotation's elements");
    Value matrix = createFloatConstant(
        rewriter, op.getLoc(), rotationType.clone(rewriter.getF32Type()),
        *values);
    Value rows = e.convertFloat(e.flattenRows(adaptor.getInput()),
                                rewriter.getF32Type());
    auto rowsType = cast<RankedTensorType>(rows.getType());
    Value result =
        floatGemm(e, target, rows, matrix, /*transposeB=*/false,
                  e.empty(rowsType.getShape(), rewriter.getF32Type()));
    result = e.convertFloat(result, type.getElementType());
    rewriter.replaceOp(op, e.unflattenRows(result, type.getShape()));
    return success();
  }
};

struct LowerScale : OpConversionPattern<ScaleOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScaleOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    auto type = cast<RankedTensorType>(op.getType());
    ArrayRef<double> factors = op.getFactors();
    Value factorTensor = createFloatConstant(
        rewriter, op.getLoc(),
        RankedTensorType::get({static_cast<int64_t>(factors.size())},
                              rewriter.getF64Type()),
        factors);
    MLIRContext *ctx = getContext();
    unsigned rank = type.getRank();
    Type elementType = type.getElementType();
    Value result = e.generic(
        {adaptor.getInput(), factorTensor},
        {AffineMap::getMultiDimIdentityMap(rank, ctx),
         AffineMap::get(rank, 0, getAffineDimExpr(op.getAxis(), ctx))},
        type, [&](OpBuilder &b, Location loc, ValueRange args) {
          Value x = Emitter::castFloat(b, loc, args[0], b.getF64Type());
          return Emitter::castFloat(
              b, loc, arith::MulFOp::create(b, loc, x, args[1]), elementType);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct LowerQuantize : KernelPattern<QuantizeOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(QuantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    auto resultType = cast<RankedTensorType>(op.getResult().getType());
    if (!op.getPerToken()) {
      FailureOr<Value> result = quantizeStatic(e, op, adaptor.getInput(),
                                               resultType.getElementType());
      if (failed(result))
        return failure();
      rewriter.replaceOp(op, *result);
      return success();
    }
    auto scalesType = cast<RankedTensorType>(op.getScales().getType());
    unsigned bits = resultType.getElementTypeBitWidth();
    Value rows = e.convertFloat(e.flattenRows(adaptor.getInput()),
                                rewriter.getF32Type());
    auto rowsType = cast<RankedTensorType>(rows.getType());
    int64_t m = rowsType.getDimSize(0), k = rowsType.getDimSize(1);
    Value values = e.empty({m, k}, rewriter.getI8Type());
    Value scales = e.empty({m}, rewriter.getF32Type());
    ValueRange results =
        e.ukernel(kernelSymbol(target, "quantize_per_token_f32"),
                  {e.i64(m), e.i64(k), rows, e.i64(k), e.i32(bits), e.i64(k)},
                  {values, scales}, {5, 7});
    Value shapedValues = e.unflattenRows(results[0], resultType.getShape());
    rewriter.replaceOp(op, {shapedValues, e.reshape(results[1], scalesType)});
    return success();
  }
};

struct LowerDequantize : OpConversionPattern<DequantizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DequantizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    auto resultType = cast<RankedTensorType>(op.getType());
    Type inputElement = getElementTypeOrSelf(op.getInput().getType());
    if (!adaptor.getScales()) {
      FailureOr<Value> result = dequantizeStatic(e, op, adaptor.getInput(),
                                                 inputElement, resultType);
      if (failed(result))
        return failure();
      rewriter.replaceOp(op, *result);
      return success();
    }
    // Per-token: q · scale[token], q signed.
    unsigned rank = resultType.getRank();
    MLIRContext *ctx = getContext();
    Type floatType = resultType.getElementType();
    Value result = e.generic(
        {adaptor.getInput(), adaptor.getScales()},
        {AffineMap::getMultiDimIdentityMap(rank, ctx),
         AffineMap::getMultiDimIdentityMap(rank, ctx).getMajorSubMap(rank -
                                                                     1)},
        resultType, [&](OpBuilder &b, Location loc, ValueRange args) {
          Value q = storageToF64(b, loc, args[0], /*isSigned=*/true);
          Value scale = Emitter::castFloat(b, loc, args[1], b.getF64Type());
          return Emitter::castFloat(b, loc, arith::MulFOp::create(b, loc, q,
                                                                  scale),
                                    floatType);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The shared tail of matmul and conv2d: A [M, K] (runtime storage) times
/// the weight (float [K, N] or integer read by `readWeights`), then the
/// epilogue. Returns [M, N] in the runtime result type.
FailureOr<Value>
lowerLinear(Emitter &e, KernelTarget target, Operation *op, Value input,
            Type inputElementType, Value tokenScales, Value floatWeight,
            bool weightIsInteger,
            function_ref<FailureOr<IntegerWeights>()> readWeights,
            PrecisionSplitAttr split, bool isSignedWeight, Value bias,
            Activation activation, Type resultElementType) {
  OpBuilder &b = e.builder();
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rows = inputType.getDimSize(0);
  Value accumulator;
  if (!weightIsInteger) {
    Value a = input;
    if (!isa<FloatType>(inputElementType)) {
      FailureOr<Value> dequantized = dequantizeStatic(
          e, op, input, inputElementType, inputType.clone(b.getF32Type()));
      if (failed(dequantized))
        return failure();
      a = *dequantized;
    }
    a = e.convertFloat(a, b.getF32Type());
    Value w = e.convertFloat(floatWeight, b.getF32Type());
    int64_t cols = cast<RankedTensorType>(w.getType()).getShape().back();
    accumulator = floatGemm(e, target, a, w, /*transposeB=*/false,
                            e.empty({rows, cols}, b.getF32Type()));
  } else {
    FailureOr<IntegerWeights> weights = readWeights();
    if (failed(weights))
      return failure();
    FailureOr<Value> product;
    if (isa<FloatType>(inputElementType)) {
      Value a = e.convertFloat(input, b.getF32Type());
      product =
          multiplyPackedWeights(e, target, op, *weights, split, isSignedWeight,
                                [&](const PackedWeights &packed) {
                                  return weightOnlyMatmul(e, target, a, packed);
                                });
    } else {
      FailureOr<IntegerActivation> a = prepareIntegerActivation(
          e, op, inputElementType, input, tokenScales);
      if (failed(a))
        return failure();
      product =
          multiplyPackedWeights(e, target, op, *weights, split, isSignedWeight,
                                [&](const PackedWeights &packed) {
                                  return integerMatmul(e, target, *a, packed);
                                });
    }
    if (failed(product))
      return failure();
    accumulator = *product;
  }
  return finishEpilogue(e, op, accumulator, bias, activation,
                        resultElementType);
}

struct LowerMatmul : KernelPattern<MatmulOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    auto resultType = cast<RankedTensorType>(op.getType());
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    Type inputElement = getElementTypeOrSelf(op.getInput().getType());
    bool integerWeights = isa<IntegerType>(weightType.getElementType());

    if (weightType.getRank() == 3) {
      // Batched weights: float only (attention-style products).
      Value a = e.convertFloat(adaptor.getInput(), rewriter.getF32Type());
      Value w = e.convertFloat(adaptor.getWeight(), rewriter.getF32Type());
      auto aType = cast<RankedTensorType>(a.getType());
      int64_t cols = weightType.getShape().back();
      Value out = e.empty({aType.getDimSize(0), aType.getDimSize(1), cols},
                          rewriter.getF32Type());
      Value product = floatGemm(e, target, a, w, /*transposeB=*/false, out);
      Value flat = e.flattenRows(product);
      FailureOr<Value> result =
          finishEpilogue(e, op, flat, adaptor.getBias(), op.getEpilogue(),
                         resultType.getElementType());
      if (failed(result))
        return failure();
      rewriter.replaceOp(op, e.unflattenRows(*result, resultType.getShape()));
      return success();
    }

    Value input = e.flattenRows(adaptor.getInput());
    if (op.getHadamardPrologue()) {
      input =
          hadamardRows(e, target, e.convertFloat(input, rewriter.getF32Type()),
                       op.getPrologueSigns());
    }
    int64_t depth = weightType.getDimSize(0), cols = weightType.getDimSize(1);
    auto readWeights = [&]() {
      return readIntegerWeights(op, op.getWeight(), op.getScales(),
                                op.getZeroPoints(), depth, cols,
                                [&](int64_t k, int64_t n) {
                                  return k * cols + n;
                                });
    };
    FailureOr<Value> result = lowerLinear(
        e, target, op, input, inputElement, adaptor.getInputScales(),
        adaptor.getWeight(), integerWeights, readWeights, op.getSplitAttr(),
        !op.getZeroPoints(), adaptor.getBias(), op.getEpilogue(),
        resultType.getElementType());
    if (failed(result))
      return failure();
    rewriter.replaceOp(op, e.unflattenRows(*result, resultType.getShape()));
    return success();
  }
};

struct LowerConv2D : KernelPattern<Conv2DOp> {
  using KernelPattern::KernelPattern;
  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    Location loc = op.getLoc();
    MLIRContext *ctx = getContext();
    bool nchw = op.getLayout() == ConvLayout::nchw;
    auto resultType = cast<RankedTensorType>(op.getType());
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    Type inputElement = getElementTypeOrSelf(op.getInput().getType());
    bool integerWeights = isa<IntegerType>(weightType.getElementType());
    ArrayRef<int64_t> w = weightType.getShape();
    int64_t filters = nchw ? w[0] : w[3], channels = nchw ? w[1] : w[2];
    int64_t kernelH = nchw ? w[2] : w[0], kernelW = nchw ? w[3] : w[1];

    // NHWC activations.
    Value input = adaptor.getInput();
    if (nchw)
      input = transpose(e, input, {0, 2, 3, 1});
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t batch = inputType.getDimSize(0);
    ArrayRef<int64_t> pad = op.getPadding(), strides = op.getStrides(),
                      dilations = op.getDilations();
    int64_t outH = nchw ? resultType.getDimSize(2) : resultType.getDimSize(1);
    int64_t outW = nchw ? resultType.getDimSize(3) : resultType.getDimSize(2);

    // Zero padding: 0 for floats, the zero point's storage for !quant.
    if (llvm::any_of(pad, [](int64_t p) { return p != 0; })) {
      Type storage = inputType.getElementType();
      TypedAttr padAttr = rewriter.getZeroAttr(storage);
      if (auto uniform =
              dyn_cast<mlir::quant::UniformQuantizedType>(inputElement))
        padAttr = rewriter.getIntegerAttr(
            storage, APInt(storage.getIntOrFloatBitWidth(),
                           static_cast<uint64_t>(uniform.getZeroPoint()),
                           /*isSigned=*/false, /*implicitTrunc=*/true));
      Value padValue = arith::ConstantOp::create(rewriter, loc, padAttr);
      SmallVector<OpFoldResult> low = {rewriter.getIndexAttr(0),
                                       rewriter.getIndexAttr(pad[0]),
                                       rewriter.getIndexAttr(pad[1]),
                                       rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> high = {rewriter.getIndexAttr(0),
                                        rewriter.getIndexAttr(pad[2]),
                                        rewriter.getIndexAttr(pad[3]),
                                        rewriter.getIndexAttr(0)};
      auto paddedType = inputType.clone(
          {batch, inputType.getDimSize(1) + pad[0] + pad[2],
           inputType.getDimSize(2) + pad[1] + pad[3], channels});
      input = tensor::PadOp::create(rewriter, loc, paddedType, input, low,
                                    high, padValue);
    }

    // im2col: [N, OH, OW, KH, KW, C] → [N·OH·OW, KH·KW·C].
    AffineExpr n = getAffineDimExpr(0, ctx), oy = getAffineDimExpr(1, ctx),
               ox = getAffineDimExpr(2, ctx), ky = getAffineDimExpr(3, ctx),
               kx = getAffineDimExpr(4, ctx), c = getAffineDimExpr(5, ctx);
    AffineMap window = AffineMap::get(
        6, 0,
        {n, oy * strides[0] + ky * dilations[0],
         ox * strides[1] + kx * dilations[1], c},
        ctx);
    Type storage = cast<RankedTensorType>(input.getType()).getElementType();
    auto patchesType = RankedTensorType::get(
        {batch, outH, outW, kernelH, kernelW, channels}, storage);
    Value patches =
        e.generic(input, {window}, patchesType,
                  [](OpBuilder &, Location, ValueRange args) { return args[0]; });
    int64_t rows = batch * outH * outW, depth = kernelH * kernelW * channels;
    Value columns = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get({rows, depth}, storage), patches,
        {ReassociationIndices{0, 1, 2}, ReassociationIndices{3, 4, 5}});

    // Weight element (k = (ky·KW + kx)·C + c, f) in the declared layout.
    auto weightIndex = [&](int64_t k, int64_t f) {
      int64_t cc = k % channels, kk = k / channels;
      int64_t yy = kk / kernelW, xx = kk % kernelW;
      return nchw ? ((f * channels + cc) * kernelH + yy) * kernelW + xx
                  : ((yy * kernelW + xx) * channels + cc) * filters + f;
    };
    Value floatWeight;
    if (!integerWeights) {
      std::optional<std::vector<double>> values =
          getConstantFloatValues(op.getWeight());
      if (!values)
        return failure(); // reported by checkLowerable
      std::vector<double> reordered(depth * filters);
      for (int64_t k = 0; k < depth; ++k)
        for (int64_t f = 0; f < filters; ++f)
          reordered[k * filters + f] = (*values)[weightIndex(k, f)];
      floatWeight = createFloatConstant(
          rewriter, loc,
          RankedTensorType::get({depth, filters}, rewriter.getF32Type()),
          reordered);
    }
    auto readWeights = [&]() -> FailureOr<IntegerWeights> {
      FailureOr<IntegerWeights> weights = readIntegerWeights(
          op, op.getWeight(), op.getScales(), op.getZeroPoints(), depth,
          filters, weightIndex);
      if (failed(weights))
        return failure();
      // Groups run along C inside each kernel position.
      weights->repeatGroups(kernelH * kernelW);
      return weights;
    };
    FailureOr<Value> result = lowerLinear(
        e, target, op, columns, inputElement, Value(), floatWeight,
        integerWeights, readWeights, PrecisionSplitAttr(), !op.getZeroPoints(),
        adaptor.getBias(), op.getEpilogue(), resultType.getElementType());
    if (failed(result))
      return failure();
    Type resultStorage = runtimeElementType(resultType.getElementType());
    Value nhwc = tensor::ExpandShapeOp::create(
        rewriter, loc,
        RankedTensorType::get({batch, outH, outW, filters}, resultStorage),
        *result, {ReassociationIndices{0, 1, 2}, ReassociationIndices{3}});
    rewriter.replaceOp(op, nchw ? transpose(e, nhwc, {0, 3, 1, 2}) : nhwc);
    return success();
  }

  static Value transpose(Emitter &e, Value tensor,
                         ArrayRef<int64_t> permutation) {
    auto type = cast<RankedTensorType>(tensor.getType());
    SmallVector<int64_t> shape;
    for (int64_t d : permutation)
      shape.push_back(type.getDimSize(d));
    Value init = e.empty(shape, type.getElementType());
    return linalg::TransposeOp::create(e.builder(), e.location(), tensor, init,
                                       permutation)
        .getResult()[0];
  }
};

//===----------------------------------------------------------------------===//
// Float linalg matmuls
//===----------------------------------------------------------------------===//

/// Whether a (batch_)matmul reads B transposed ([N, K]) instead of [K, N];
/// nullopt for any other indexing.
template <typename OpTy>
std::optional<bool> readsTransposedB(OpTy op) {
  MLIRContext *ctx = op.getContext();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  bool batched = std::is_same_v<OpTy, linalg::BatchMatmulOp>;
  unsigned dims = batched ? 4 : 3;
  unsigned offset = batched ? 1 : 0;
  auto d = [&](unsigned i) { return getAffineDimExpr(i + offset, ctx); };
  auto map = [&](ArrayRef<AffineExpr> exprs) {
    SmallVector<AffineExpr> all;
    if (batched)
      all.push_back(getAffineDimExpr(0, ctx));
    all.append(exprs.begin(), exprs.end());
    return AffineMap::get(dims, 0, all, ctx);
  };
  AffineMap a = map({d(0), d(2)}), c = map({d(0), d(1)});
  if (maps.size() != 3 || maps[0] != a || maps[2] != c)
    return std::nullopt;
  if (maps[1] == map({d(2), d(1)}))
    return false;
  if (maps[1] == map({d(1), d(2)}))
    return true;
  return std::nullopt;
}

template <typename OpTy>
bool isLowerableFloatMatmul(OpTy op) {
  return op.hasPureTensorSemantics() &&
         llvm::all_of(op->getOperandTypes(),
                      [](Type type) {
                        auto tensor = dyn_cast<RankedTensorType>(type);
                        return tensor && tensor.hasStaticShape() &&
                               tensor.getElementType().isF32();
                      }) &&
         readsTransposedB(op).has_value();
}

/// f32 (batch_)matmul → qr_uk_gemm_f32. The kernel overwrites its output,
/// so an init that is not a zero fill is added afterwards.
template <typename OpTy> struct LowerFloatMatmul : KernelPattern<OpTy> {
  using KernelPattern<OpTy>::KernelPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Emitter e(rewriter, op.getLoc());
    Value init = op.getDpsInits()[0];
    auto type = cast<RankedTensorType>(init.getType());
    bool zeroInit = false;
    if (auto fill = init.getDefiningOp<linalg::FillOp>())
      zeroInit = matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
    Value out = e.empty(type.getShape(), type.getElementType());
    Value product = floatGemm(e, this->target, op.getDpsInputs()[0],
                              op.getDpsInputs()[1], *readsTransposedB(op), out);
    if (!zeroInit)
      product = e.generic({product, init}, {}, type,
                          [](OpBuilder &b, Location loc, ValueRange args) {
                            return arith::AddFOp::create(b, loc, args[0],
                                                         args[1])
                                .getResult();
                          });
    rewriter.replaceOp(op, product);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// What the kernels support
//===----------------------------------------------------------------------===//

/// Reports, before any rewriting, every op the lowering to `target`'s
/// kernels cannot handle, so that each gets one diagnostic naming the reason.
LogicalResult checkLowerable(Operation *root, KernelTarget target) {
  bool gpu = target == KernelTarget::gpu;
  StringRef name = targetName(target);
  WalkResult result = root->walk([&](Operation *op) -> WalkResult {
    if (auto matmul = dyn_cast<MatmulOp>(op)) {
      auto weightType = cast<RankedTensorType>(matmul.getWeight().getType());
      Type inputElement = getElementTypeOrSelf(matmul.getInput().getType());
      bool integerWeights = isa<IntegerType>(weightType.getElementType());
      if (weightType.getRank() == 3 &&
          (integerWeights || !isa<FloatType>(inputElement) ||
           matmul.getHadamardPrologue()))
        return matmul.emitOpError("the ")
               << name
               << " lowering supports batched weights only for float operands";
      if (integerWeights &&
          failed(checkIntegerWeights(op, matmul.getWeight(), matmul.getScales(),
                                     matmul.getZeroPoints(), target)))
        return failure();
      if (gpu && integerWeights && weightType.getRank() == 2 &&
          failed(checkGpuGroups(
              op, weightType.getDimSize(0),
              cast<ShapedType>(matmul.getScales().getType()).getDimSize(0))))
        return failure();
      if (gpu && integerWeights && !isa<FloatType>(inputElement) &&
          matmul.getZeroPoints())
        return matmul.emitOpError("the GPU integer kernel (qr_gpu_matmul_s8) "
                                  "takes symmetric weights only; quantize "
                                  "the weights with symmetric=true or keep "
                                  "float activations");
      if (gpu && matmul.getSplitAttr()) {
        unsigned lowBits = matmul.getSplitAttr().getLowBits();
        if (lowBits != 4 && lowBits != 8)
          return matmul.emitOpError("the GPU kernels take 4 and 8-bit "
                                    "weights, not ")
                 << lowBits << " (the split's low bits)";
      }
    } else if (auto conv = dyn_cast<Conv2DOp>(op)) {
      Type inputElement = getElementTypeOrSelf(conv.getInput().getType());
      bool integerWeights =
          isa<IntegerType>(getElementTypeOrSelf(conv.getWeight().getType()));
      if (!integerWeights && !getConstantFloatValues(conv.getWeight()))
        return conv.emitOpError("the ")
               << name << " lowering needs constant weights";
      if (integerWeights &&
          failed(checkIntegerWeights(op, conv.getWeight(), conv.getScales(),
                                     conv.getZeroPoints(), target)))
        return failure();
      if (gpu && integerWeights) {
        auto weightType = cast<ShapedType>(conv.getWeight().getType());
        bool nchw = conv.getLayout() == ConvLayout::nchw;
        int64_t filters = weightType.getDimSize(nchw ? 0 : 3);
        int64_t channels = weightType.getDimSize(nchw ? 1 : 2);
        int64_t depth = weightType.getNumElements() / filters;
        int64_t groups =
            cast<ShapedType>(conv.getScales().getType()).getDimSize(0);
        // K = KH·KW·C: groups along C repeat at each kernel position
        // (IntegerWeights::repeatGroups); per-channel scales are one group.
        if (failed(checkGpuGroups(
                op, depth, groups == 1 ? 1 : groups * (depth / channels))))
          return failure();
      }
      if (gpu && integerWeights && !isa<FloatType>(inputElement) &&
          conv.getZeroPoints())
        return conv.emitOpError("the GPU integer kernel (qr_gpu_matmul_s8) "
                                "takes symmetric weights only; quantize the "
                                "weights with symmetric=true or keep float "
                                "activations");
    } else if (auto pillar = dyn_cast<PillarConvOp>(op)) {
      if (failed(checkPillarConvLowerable(pillar, target)))
        return failure();
    } else if (auto quantize = dyn_cast<QuantizeOp>(op)) {
      Type scaleType =
          quantize.getScales() ? getElementTypeOrSelf(quantize.getScales())
                               : Type();
      if (scaleType && !scaleType.isF32())
        return quantize.emitOpError("the ")
               << name << " lowering computes per-token scales in f32, not "
               << scaleType;
    }
    return success();
  });
  return failure(result.wasInterrupted());
}

//===----------------------------------------------------------------------===//
// The pass
//===----------------------------------------------------------------------===//

struct QNNLowerToUKernelsPass
    : public qnn::impl::QNNLowerToUKernelsBase<QNNLowerToUKernelsPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (failed(checkLowerable(getOperation(), target)))
      return signalPassFailure();
    RuntimeTypeConverter converter;
    ConversionTarget legality(*ctx);
    legality.addLegalDialect<affine::AffineDialect, arith::ArithDialect,
                             linalg::LinalgDialect, LLVM::LLVMDialect,
                             math::MathDialect, tensor::TensorDialect,
                             func::FuncDialect>();
    legality.addLegalOp<UKernelOp>();
    legality.addIllegalOp<HadamardOp, RotateOp, ScaleOp, QuantizeOp,
                          DequantizeOp, MatmulOp, Conv2DOp, PillarConvOp>();
    legality.addDynamicallyLegalOp<linalg::MatmulOp>(
        [](linalg::MatmulOp op) { return !isLowerableFloatMatmul(op); });
    legality.addDynamicallyLegalOp<linalg::BatchMatmulOp>(
        [](linalg::BatchMatmulOp op) { return !isLowerableFloatMatmul(op); });
    legality.addDynamicallyLegalOp<func::FuncOp>([](func::FuncOp op) {
      return hasRuntimeTypes(op.getFunctionType().getInputs()) &&
             hasRuntimeTypes(op.getFunctionType().getResults());
    });
    legality.addDynamicallyLegalOp<func::ReturnOp, func::CallOp>(
        [](Operation *op) {
          return hasRuntimeTypes(op->getOperandTypes()) &&
                 hasRuntimeTypes(op->getResultTypes());
        });
    legality.markUnknownOpDynamicallyLegal([](Operation *op) {
      return !isa<QNNDialect>(op->getDialect()) || isa<UKernelOp>(op);
    });

    RewritePatternSet patterns(ctx);
    patterns.add<LowerScale, LowerDequantize>(converter, ctx);
    patterns.add<LowerHadamard, LowerRotate, LowerQuantize, LowerMatmul,
                 LowerConv2D, LowerFloatMatmul<linalg::MatmulOp>,
                 LowerFloatMatmul<linalg::BatchMatmulOp>>(converter, ctx,
                                                          target);
    populateLowerPillarConvPatterns(converter, patterns, target);
    // Quantized function arguments and results cross the model boundary
    // as their storage.
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    populateCallOpTypeConversionPattern(patterns, converter);
    if (failed(applyPartialConversion(getOperation(), legality,
                                      std::move(patterns))))
      return signalPassFailure();

    // A model's inputs are its caller's buffers (quant-run runs again on
    // them): bufferization must copy an input before an in-place kernel
    // (qnn.hadamard) writes into it.
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func.isPublic())
        for (unsigned i = 0; i < func.getNumArguments(); ++i)
          if (isa<TensorType>(func.getArgument(i).getType()))
            func.setArgAttr(i, "bufferization.writable",
                            BoolAttr::get(ctx, false));

    // Casts left between storage and !quant types mean a value of a
    // quantized type flows into an op no pattern understands.
    WalkResult walk = getOperation().walk([&](UnrealizedConversionCastOp cast) {
      if (!cast->use_empty()) {
        Operation *user = *cast->getUsers().begin();
        user->emitOpError("has an operand of type ")
            << cast.getOperand(0).getType() << " that the "
            << targetName(target)
            << " lowering cannot pass through; only qnn ops "
               "may consume quantized tensors";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
