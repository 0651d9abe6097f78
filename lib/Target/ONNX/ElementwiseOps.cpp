//===- ElementwiseOps.cpp - ONNX elementwise ops ---------------------------===//
//
// Arithmetic with numpy broadcasting, activations, Clip, Cast and Identity.
// Arithmetic on constants (shape computations) is folded at import time.
//
//===----------------------------------------------------------------------===//

#include "ONNXImporter.h"
#include "TensorBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::onnx_import;

namespace {

//===----------------------------------------------------------------------===//
// Binary arithmetic
//===----------------------------------------------------------------------===//

enum class BinaryKind { Add, Sub, Mul, Div, Pow };

/// The flat index into `inputShape` read for element `index` of a
/// broadcast result of `resultShape`.
int64_t broadcastSourceIndex(ArrayRef<int64_t> resultShape,
                             ArrayRef<int64_t> inputShape, int64_t index) {
  int64_t source = 0, stride = 1;
  int64_t offset = resultShape.size() - inputShape.size();
  for (int64_t d = resultShape.size() - 1; d >= 0; --d) {
    int64_t coordinate = index % resultShape[d];
    index /= resultShape[d];
    if (d < offset)
      continue;
    int64_t size = inputShape[d - offset];
    source += (size == 1 ? 0 : coordinate) * stride;
    stride *= size;
  }
  return source;
}

double applyFloat(BinaryKind kind, double a, double b) {
  switch (kind) {
  case BinaryKind::Add: return a + b;
  case BinaryKind::Sub: return a - b;
  case BinaryKind::Mul: return a * b;
  case BinaryKind::Div: return a / b;
  case BinaryKind::Pow: return std::pow(a, b);
  }
  llvm_unreachable("unknown binary op");
}

std::optional<int64_t> applyInteger(BinaryKind kind, int64_t a, int64_t b) {
  switch (kind) {
  case BinaryKind::Add: return a + b;
  case BinaryKind::Sub: return a - b;
  case BinaryKind::Mul: return a * b;
  case BinaryKind::Div:
    if (b == 0)
      return std::nullopt;
    return a / b;
  case BinaryKind::Pow: return std::nullopt;
  }
  llvm_unreachable("unknown binary op");
}

Value buildBinaryBody(OpBuilder &b, Location loc, BinaryKind kind, Value lhs,
                      Value rhs) {
  if (isa<FloatType>(lhs.getType())) {
    if (rhs.getType() != lhs.getType())
      rhs = isa<FloatType>(rhs.getType())
                ? arith::TruncFOp::create(b, loc, lhs.getType(), rhs)
                      .getResult()
                : arith::SIToFPOp::create(b, loc, lhs.getType(), rhs)
                      .getResult();
    switch (kind) {
    case BinaryKind::Add: return arith::AddFOp::create(b, loc, lhs, rhs);
    case BinaryKind::Sub: return arith::SubFOp::create(b, loc, lhs, rhs);
    case BinaryKind::Mul: return arith::MulFOp::create(b, loc, lhs, rhs);
    case BinaryKind::Div: return arith::DivFOp::create(b, loc, lhs, rhs);
    case BinaryKind::Pow: return math::PowFOp::create(b, loc, lhs, rhs);
    }
  }
  switch (kind) {
  case BinaryKind::Add: return arith::AddIOp::create(b, loc, lhs, rhs);
  case BinaryKind::Sub: return arith::SubIOp::create(b, loc, lhs, rhs);
  case BinaryKind::Mul: return arith::MulIOp::create(b, loc, lhs, rhs);
  case BinaryKind::Div: return arith::DivSIOp::create(b, loc, lhs, rhs);
  case BinaryKind::Pow: break;
  }
  llvm_unreachable("integer Pow is rejected before building");
}

template <BinaryKind kind> LogicalResult convertBinary(NodeContext &node) {
  std::optional<SmallVector<int64_t>> shape =
      broadcastShapes(node.inputShape(0), node.inputShape(1));
  if (!shape)
    return node.fail("input shapes do not broadcast");
  DataType type = node.inputType(0);
  bool isFloat = isFloatType(type);
  if (kind == BinaryKind::Pow && !isFloat)
    return node.fail("integer Pow is not supported");
  if (kind != BinaryKind::Pow && node.inputType(1) != type)
    return node.fail("inputs have different types");

  const ConstTensor *lhs = node.constantInput(0);
  const ConstTensor *rhs = node.constantInput(1);
  if (lhs && rhs) {
    int64_t n = 1;
    for (int64_t d : *shape)
      n *= d;
    std::vector<double> floats;
    std::vector<int64_t> ints;
    for (int64_t i = 0; i < n; ++i) {
      int64_t a = broadcastSourceIndex(*shape, lhs->shape, i);
      int64_t b = broadcastSourceIndex(*shape, rhs->shape, i);
      if (isFloat) {
        floats.push_back(
            applyFloat(kind, lhs->getDouble(a), rhs->getDouble(b)));
        continue;
      }
      std::optional<int64_t> value =
          applyInteger(kind, lhs->getInt(a), rhs->getInt(b));
      if (!value)
        return node.fail("integer division by zero");
      ints.push_back(*value);
    }
    node.setConstantOutput(0, isFloat ? ConstTensor::ofFloats(type, *shape,
                                                              floats)
                                            .castTo(type)
                                      : ConstTensor::ofInts(type, *shape, ints)
                                            .castTo(type));
    return success();
  }

  // x^2 (variance in decomposed norms) is one multiply.
  bool square = kind == BinaryKind::Pow && rhs && rhs->numElements() == 1 &&
                rhs->getDouble(0) == 2.0;
  Value x = node.input(0);
  Type elementType = cast<RankedTensorType>(x.getType()).getElementType();
  SmallVector<Value> inputs = {x};
  if (!square)
    inputs.push_back(node.input(1));
  node.setOutput(0, buildElementwise(
                        node.builder, node.loc, *shape, elementType, inputs,
                        [&](OpBuilder &b, Location loc, ValueRange args) {
                          if (square)
                            return arith::MulFOp::create(b, loc, args[0],
                                                         args[0])
                                .getResult();
                          return buildBinaryBody(b, loc, kind, args[0],
                                                 args[1]);
                        }));
  return success();
}

//===----------------------------------------------------------------------===//
// Unary float activations
//===----------------------------------------------------------------------===//

Value buildFloat(OpBuilder &b, Location loc, Value like, double value) {
  return buildScalar(b, loc, like.getType(), value);
}

Value buildClamp(OpBuilder &b, Location loc, Value x, double low,
                 double high) {
  Value clamped =
      arith::MaximumFOp::create(b, loc, x, buildFloat(b, loc, x, low));
  return arith::MinimumFOp::create(b, loc, clamped,
                                   buildFloat(b, loc, x, high));
}

Value buildSigmoid(OpBuilder &b, Location loc, Value x) {
  Value one = buildFloat(b, loc, x, 1.0);
  Value negated = arith::NegFOp::create(b, loc, x);
  Value denominator =
      arith::AddFOp::create(b, loc, one, math::ExpOp::create(b, loc, negated));
  return arith::DivFOp::create(b, loc, one, denominator);
}

/// clamp(alpha·x + beta, 0, 1)
Value buildHardSigmoid(OpBuilder &b, Location loc, Value x, double alpha,
                       double beta) {
  Value scaled =
      arith::MulFOp::create(b, loc, x, buildFloat(b, loc, x, alpha));
  Value shifted =
      arith::AddFOp::create(b, loc, scaled, buildFloat(b, loc, x, beta));
  return buildClamp(b, loc, shifted, 0.0, 1.0);
}

using UnaryBody = Value (*)(NodeContext &, OpBuilder &, Location, Value);

template <UnaryBody body> LogicalResult convertUnary(NodeContext &node) {
  if (!isFloatType(node.inputType(0)))
    return node.fail("expects a float tensor, got " +
                     getTypeName(node.inputType(0)));
  Value x = node.input(0);
  auto type = cast<RankedTensorType>(x.getType());
  node.setOutput(0, buildElementwise(
                        node.builder, node.loc, type.getShape(),
                        type.getElementType(), x,
                        [&](OpBuilder &b, Location loc, ValueRange args) {
                          return body(node, b, loc, args[0]);
                        }));
  return success();
}

Value reluBody(NodeContext &, OpBuilder &b, Location loc, Value x) {
  return arith::MaximumFOp::create(b, loc, x, buildFloat(b, loc, x, 0.0));
}
Value leakyReluBody(NodeContext &node, OpBuilder &b, Location loc, Value x) {
  Value scaled = arith::MulFOp::create(
      b, loc, x, buildFloat(b, loc, x, node.getFloat("alpha", 0.01)));
  Value negative = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, x,
                                         buildFloat(b, loc, x, 0.0));
  return arith::SelectOp::create(b, loc, negative, scaled, x);
}
Value sigmoidBody(NodeContext &, OpBuilder &b, Location loc, Value x) {
  return buildSigmoid(b, loc, x);
}
Value hardSigmoidBody(NodeContext &node, OpBuilder &b, Location loc, Value x) {
  return buildHardSigmoid(b, loc, x, node.getFloat("alpha", 0.2),
                          node.getFloat("beta", 0.5));
}
Value hardSwishBody(NodeContext &, OpBuilder &b, Location loc, Value x) {
  return arith::MulFOp::create(b, loc, x,
                               buildHardSigmoid(b, loc, x, 1.0 / 6.0, 0.5));
}
/// The bodies that are one float op of x.
template <typename OpTy>
Value singleOpBody(NodeContext &, OpBuilder &b, Location loc, Value x) {
  return OpTy::create(b, loc, x);
}
Value reciprocalBody(NodeContext &, OpBuilder &b, Location loc, Value x) {
  return arith::DivFOp::create(b, loc, buildFloat(b, loc, x, 1.0), x);
}

//===----------------------------------------------------------------------===//
// Clip, Cast, Identity
//===----------------------------------------------------------------------===//

LogicalResult convertClip(NodeContext &node) {
  if (!isFloatType(node.inputType(0)))
    return node.fail("expects a float tensor");
  Value x = node.input(0);
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<Value> inputs = {x};
  bool hasMin, hasMax;
  double minValue = -std::numeric_limits<float>::max();
  double maxValue = std::numeric_limits<float>::max();
  if (node.opset < 11) {
    hasMin = hasMax = true;
    minValue = node.getFloat("min", minValue);
    maxValue = node.getFloat("max", maxValue);
  } else {
    hasMin = node.hasInput(1);
    hasMax = node.hasInput(2);
    for (unsigned i = 1; i <= 2; ++i)
      if (node.hasInput(i)) {
        if (!node.inputShape(i).empty())
          return node.fail("min and max must be scalars");
        inputs.push_back(node.input(i));
      }
  }
  bool boundsAreInputs = node.opset >= 11;
  node.setOutput(0, buildElementwise(
                        node.builder, node.loc, type.getShape(),
                        type.getElementType(), inputs,
                        [&](OpBuilder &b, Location loc, ValueRange args) {
                          Value y = args[0];
                          unsigned next = 1;
                          if (hasMin)
                            y = arith::MaximumFOp::create(
                                b, loc, y,
                                boundsAreInputs
                                    ? args[next++]
                                    : buildFloat(b, loc, y, minValue));
                          if (hasMax)
                            y = arith::MinimumFOp::create(
                                b, loc, y,
                                boundsAreInputs
                                    ? args[next++]
                                    : buildFloat(b, loc, y, maxValue));
                          return y;
                        }));
  return success();
}

Value buildCast(OpBuilder &b, Location loc, Value x, DataType from,
                DataType to, Type toType) {
  Type fromType = x.getType();
  if (fromType == toType)
    return x;
  bool fromFloat = isa<FloatType>(fromType), toFloat = isa<FloatType>(toType);
  if (to == DataType::Bool) {
    Value zero = buildScalar(b, loc, fromType, 0.0);
    return fromFloat ? arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE,
                                             x, zero)
                           .getResult()
                     : arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                             x, zero)
                           .getResult();
  }
  bool fromUnsigned = isUnsignedType(from) || from == DataType::Bool;
  if (fromFloat && toFloat)
    return fromType.getIntOrFloatBitWidth() < toType.getIntOrFloatBitWidth()
               ? arith::ExtFOp::create(b, loc, toType, x).getResult()
               : arith::TruncFOp::create(b, loc, toType, x).getResult();
  if (!fromFloat && toFloat)
    return fromUnsigned
               ? arith::UIToFPOp::create(b, loc, toType, x).getResult()
               : arith::SIToFPOp::create(b, loc, toType, x).getResult();
  if (fromFloat)
    return isUnsignedType(to)
               ? arith::FPToUIOp::create(b, loc, toType, x).getResult()
               : arith::FPToSIOp::create(b, loc, toType, x).getResult();
  if (fromType.getIntOrFloatBitWidth() > toType.getIntOrFloatBitWidth())
    return arith::TruncIOp::create(b, loc, toType, x);
  return fromUnsigned ? arith::ExtUIOp::create(b, loc, toType, x).getResult()
                      : arith::ExtSIOp::create(b, loc, toType, x).getResult();
}

LogicalResult convertCast(NodeContext &node) {
  auto to = static_cast<DataType>(node.getInt("to", 0));
  Type toType = getElementType(node.builder.getContext(), to);
  if (!toType)
    return node.fail("cannot cast to " + getTypeName(to));
  if (const ConstTensor *value = node.constantInput(0)) {
    node.setConstantOutput(0, value->castTo(to));
    return success();
  }
  DataType from = node.inputType(0);
  Value x = node.input(0);
  node.setOutput(0,
                 buildElementwise(node.builder, node.loc, node.inputShape(0),
                                  toType, x,
                                  [&](OpBuilder &b, Location loc,
                                      ValueRange args) {
                                    return buildCast(b, loc, args[0], from, to,
                                                     toType);
                                  }),
                 to);
  return success();
}

LogicalResult convertIdentity(NodeContext &node) {
  if (const ConstTensor *value = node.constantInput(0))
    node.setConstantOutput(0, *value);
  else
    node.setOutput(0, node.input(0));
  return success();
}

} // namespace

void onnx_import::addElementwiseConverters(ConverterTable &table) {
  table["Add"] = {convertBinary<BinaryKind::Add>, 2, 2};
  table["Sub"] = {convertBinary<BinaryKind::Sub>, 2, 2};
  table["Mul"] = {convertBinary<BinaryKind::Mul>, 2, 2};
  table["Div"] = {convertBinary<BinaryKind::Div>, 2, 2};
  table["Pow"] = {convertBinary<BinaryKind::Pow>, 2, 2};
  table["Relu"] = {convertUnary<reluBody>, 1, 1};
  table["LeakyRelu"] = {convertUnary<leakyReluBody>, 1, 1};
  table["Sigmoid"] = {convertUnary<sigmoidBody>, 1, 1};
  table["HardSigmoid"] = {convertUnary<hardSigmoidBody>, 1, 1};
  table["HardSwish"] = {convertUnary<hardSwishBody>, 1, 1};
  table["Sqrt"] = {convertUnary<singleOpBody<math::SqrtOp>>, 1, 1};
  table["Exp"] = {convertUnary<singleOpBody<math::ExpOp>>, 1, 1};
  table["Log"] = {convertUnary<singleOpBody<math::LogOp>>, 1, 1};
  table["Tanh"] = {convertUnary<singleOpBody<math::TanhOp>>, 1, 1};
  table["Erf"] = {convertUnary<singleOpBody<math::ErfOp>>, 1, 1};
  table["Neg"] = {convertUnary<singleOpBody<arith::NegFOp>>, 1, 1};
  table["Abs"] = {convertUnary<singleOpBody<math::AbsFOp>>, 1, 1};
  table["Reciprocal"] = {convertUnary<reciprocalBody>, 1, 1};
  table["Clip"] = {convertClip, 1, 3};
  table["Cast"] = {convertCast, 1, 1};
  table["Identity"] = {convertIdentity, 1, 1};
}
