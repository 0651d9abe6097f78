//===- TosaOps.cpp - the tosa subset: elementwise, layout, matmul ---------===//

#include "EvaluatorInternal.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::evaluator;

namespace {

/// Integer results wrap to their width; float results stay float64.
std::function<double(double)> resultNormalizer(Operation *op) {
  unsigned width = getIntegerWidth(elementTypeOf(op->getResult(0)));
  if (!width)
    return [](double x) { return x; };
  return [width](double x) { return wrapSigned(x, width); };
}

FailureOr<Results> unary(Operation *op, const EvalTensor &input,
                         function_ref<double(double)> fn) {
  std::function<double(double)> normalize = resultNormalizer(op);
  EvalTensor result(input.shape);
  for (int64_t i = 0, e = input.numElements(); i < e; ++i)
    result.data[i] = normalize(fn(input.data[i]));
  return singleResult(std::move(result));
}

/// TOSA broadcasting: equal ranks, each dimension equal or 1.
FailureOr<Results> binary(Operation *op, const EvalTensor &lhs,
                          const EvalTensor &rhs,
                          function_ref<double(double, double)> fn) {
  if (lhs.shape.size() != rhs.shape.size())
    return op->emitOpError("operand ranks differ: ")
           << formatShape(lhs.shape) << " vs " << formatShape(rhs.shape);
  size_t rank = lhs.shape.size();
  SmallVector<int64_t> shape(rank);
  for (size_t dim = 0; dim < rank; ++dim) {
    int64_t a = lhs.shape[dim], b = rhs.shape[dim];
    if (a != b && a != 1 && b != 1)
      return op->emitOpError("operand shapes ")
             << formatShape(lhs.shape) << " and " << formatShape(rhs.shape)
             << " do not broadcast";
    shape[dim] = a == 1 ? b : a;
  }
  // Broadcast dimensions get stride 0.
  SmallVector<int64_t> lhsStrides = rowMajorStrides(lhs.shape);
  SmallVector<int64_t> rhsStrides = rowMajorStrides(rhs.shape);
  for (size_t dim = 0; dim < rank; ++dim) {
    if (lhs.shape[dim] == 1)
      lhsStrides[dim] = 0;
    if (rhs.shape[dim] == 1)
      rhsStrides[dim] = 0;
  }
  std::function<double(double)> normalize = resultNormalizer(op);
  EvalTensor result(shape);
  SmallVector<int64_t> index(rank, 0);
  for (int64_t i = 0, e = result.numElements(); i < e; ++i) {
    int64_t a = 0, b = 0;
    for (size_t dim = 0; dim < rank; ++dim) {
      a += index[dim] * lhsStrides[dim];
      b += index[dim] * rhsStrides[dim];
    }
    result.data[i] = normalize(fn(lhs.data[a], rhs.data[b]));
    for (int64_t dim = static_cast<int64_t>(rank) - 1; dim >= 0; --dim) {
      if (++index[dim] < shape[dim])
        break;
      index[dim] = 0;
    }
  }
  return singleResult(std::move(result));
}

bool propagatesNaN(tosa::NanPropagationMode mode) {
  return mode == tosa::NanPropagationMode::PROPAGATE;
}

double maximumOf(double a, double b, bool propagate) {
  if (propagate && (std::isnan(a) || std::isnan(b)))
    return std::nan("");
  return std::fmax(a, b);
}

double minimumOf(double a, double b, bool propagate) {
  if (propagate && (std::isnan(a) || std::isnan(b)))
    return std::nan("");
  return std::fmin(a, b);
}

/// The single value of a zero-point or shift operand.
double scalarOperand(const EvalTensor &tensor) {
  return tensor.data.empty() ? 0.0 : tensor.data.front();
}

FailureOr<Results> evaluateMatmul(tosa::MatMulOp op, Operands operands) {
  const EvalTensor &a = *operands[0], &b = *operands[1];
  if (a.shape.size() != 3 || b.shape.size() != 3 || a.shape[0] != b.shape[0] ||
      a.shape[2] != b.shape[1])
    return op.emitOpError("expects [N, H, C] x [N, C, W], got ")
           << formatShape(a.shape) << " x " << formatShape(b.shape);
  double aZeroPoint = scalarOperand(*operands[2]);
  double bZeroPoint = scalarOperand(*operands[3]);
  int64_t batch = a.shape[0], h = a.shape[1], c = a.shape[2], w = b.shape[2];
  std::function<double(double)> normalize = resultNormalizer(op);
  EvalTensor result({batch, h, w});
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) {
        double sum = 0.0;
        for (int64_t k = 0; k < c; ++k)
          sum += (a.data[(n * h + y) * c + k] - aZeroPoint) *
                 (b.data[(n * c + k) * w + x] - bZeroPoint);
        result.data[(n * h + y) * w + x] = normalize(sum);
      }
  return singleResult(std::move(result));
}

FailureOr<Results> evaluateTranspose(tosa::TransposeOp op,
                                     const EvalTensor &input) {
  ArrayRef<int32_t> perms = op.getPerms();
  size_t rank = input.shape.size();
  if (perms.size() != rank)
    return op.emitOpError("expects ") << rank << " permutation entries";
  SmallVector<int64_t> shape;
  for (int32_t perm : perms) {
    if (perm < 0 || perm >= static_cast<int32_t>(rank))
      return op.emitOpError("permutation entry ") << perm << " out of range";
    shape.push_back(input.shape[perm]);
  }
  SmallVector<int64_t> inputStrides = rowMajorStrides(input.shape);
  EvalTensor result(shape);
  SmallVector<int64_t> index(rank, 0);
  for (int64_t i = 0, e = result.numElements(); i < e; ++i) {
    int64_t offset = 0;
    for (size_t dim = 0; dim < rank; ++dim)
      offset += index[dim] * inputStrides[perms[dim]];
    result.data[i] = input.data[offset];
    for (int64_t dim = static_cast<int64_t>(rank) - 1; dim >= 0; --dim) {
      if (++index[dim] < shape[dim])
        break;
      index[dim] = 0;
    }
  }
  return singleResult(std::move(result));
}

FailureOr<Results> evaluateReshape(tosa::ReshapeOp op, Operands operands) {
  const EvalTensor &input = *operands[0];
  auto type = cast<ShapedType>(op.getResult().getType());
  SmallVector<int64_t> shape(type.getShape());
  if (!type.hasStaticShape() &&
      operands[1]->numElements() == static_cast<int64_t>(shape.size()))
    for (auto [size, given] : llvm::zip(shape, operands[1]->data))
      if (ShapedType::isDynamic(size))
        size = toInt64(given);
  // One remaining unknown size is whatever the element count leaves.
  int64_t known = 1, unknown = -1;
  for (auto [dim, size] : llvm::enumerate(shape)) {
    if (size < 0)
      unknown = dim;
    else
      known *= size;
  }
  if (unknown >= 0 && known > 0)
    shape[unknown] = input.numElements() / known;
  if (numElementsOf(shape) != input.numElements())
    return op.emitOpError("cannot reshape ")
           << formatShape(input.shape) << " to " << formatShape(shape);
  EvalTensor result = input;
  result.shape = shape;
  return singleResult(std::move(result));
}

/// TOSA reductions keep the reduced axis with size 1.
FailureOr<Results> reduce(Operation *op, const EvalTensor &input, int64_t axis,
                          double initial,
                          function_ref<double(double, double)> combine) {
  if (axis < 0 || axis >= static_cast<int64_t>(input.shape.size()))
    return op->emitOpError("axis ") << axis << " is out of range";
  SmallVector<int64_t> shape = input.shape;
  int64_t size = shape[axis];
  shape[axis] = 1;
  int64_t inner = rowMajorStrides(input.shape)[axis];
  int64_t outer =
      numElementsOf(ArrayRef<int64_t>(input.shape).take_front(axis));
  EvalTensor result(shape, initial);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < size; ++i)
      for (int64_t j = 0; j < inner; ++j)
        result.data[o * inner + j] = combine(
            result.data[o * inner + j], input.data[(o * size + i) * inner + j]);
  std::function<double(double)> normalize = resultNormalizer(op);
  for (double &value : result.data)
    value = normalize(value);
  return singleResult(std::move(result));
}

/// tosa.cast: to float rounds to the target type; float to integer rounds
/// half to even and saturates; integer to integer wraps; to i1 tests != 0.
FailureOr<Results> evaluateCast(tosa::CastOp op, const EvalTensor &input) {
  Type from = elementTypeOf(op.getInput());
  Type to = elementTypeOf(op.getResult());
  if (auto floatType = dyn_cast<FloatType>(to))
    return unary(op, input, [&](double x) {
      double value =
          isa<FloatType>(from) ? x : wrapSigned(x, getIntegerWidth(from));
      return roundToFloatType(value, floatType);
    });
  unsigned width = getIntegerWidth(to);
  if (!width)
    return emitUnsupported(op) << "cast to " << to;
  if (width == 1)
    return unary(op, input, [](double x) { return x != 0.0 ? 1.0 : 0.0; });
  if (isa<FloatType>(from)) {
    double lo = -std::ldexp(1.0, width - 1),
           hi = std::ldexp(1.0, width - 1) - 1;
    return unary(op, input, [&](double x) {
      return std::isnan(x) ? 0.0 : std::clamp(roundHalfToEven(x), lo, hi);
    });
  }
  return unary(op, input, [](double x) { return x; });
}

} // namespace

FailureOr<Results> evaluator::evaluateTosaOp(Operation *op, Operands operands) {
  using Result = FailureOr<Results>;
  auto first = [&]() -> const EvalTensor & { return *operands[0]; };
  return llvm::TypeSwitch<Operation *, Result>(op)
      .Case([&](tosa::ConstOp constant) -> Result {
        FailureOr<EvalTensor> value =
            readElementsAttr(op, constant.getValues());
        if (failed(value))
          return failure();
        return singleResult(std::move(*value));
      })
      .Case([&](tosa::ConstShapeOp constant) -> Result {
        FailureOr<EvalTensor> value =
            readElementsAttr(op, cast<ElementsAttr>(constant.getValues()));
        if (failed(value))
          return failure();
        return singleResult(std::move(*value));
      })
      .Case([&](tosa::AddOp) {
        return binary(op, first(), *operands[1],
                      [](double a, double b) { return a + b; });
      })
      .Case([&](tosa::SubOp) {
        return binary(op, first(), *operands[1],
                      [](double a, double b) { return a - b; });
      })
      .Case([&](tosa::MulOp) -> Result {
        if (scalarOperand(*operands[2]) != 0.0)
          return emitUnsupported(op) << "tosa.mul with a non-zero shift";
        return binary(op, first(), *operands[1],
                      [](double a, double b) { return a * b; });
      })
      .Case([&](tosa::PowOp) {
        return binary(op, first(), *operands[1],
                      [](double a, double b) { return std::pow(a, b); });
      })
      .Case([&](tosa::MaximumOp maximum) {
        bool propagate = propagatesNaN(maximum.getNanMode());
        return binary(op, first(), *operands[1],
                      [propagate](double a, double b) {
                        return maximumOf(a, b, propagate);
                      });
      })
      .Case([&](tosa::MinimumOp minimum) {
        bool propagate = propagatesNaN(minimum.getNanMode());
        return binary(op, first(), *operands[1],
                      [propagate](double a, double b) {
                        return minimumOf(a, b, propagate);
                      });
      })
      .Case([&](tosa::ReciprocalOp) {
        return unary(op, first(), [](double x) { return 1.0 / x; });
      })
      .Case([&](tosa::RsqrtOp) {
        return unary(op, first(), [](double x) { return 1.0 / std::sqrt(x); });
      })
      .Case([&](tosa::ExpOp) {
        return unary(op, first(), [](double x) { return std::exp(x); });
      })
      .Case([&](tosa::LogOp) {
        return unary(op, first(), [](double x) { return std::log(x); });
      })
      .Case([&](tosa::TanhOp) {
        return unary(op, first(), [](double x) { return std::tanh(x); });
      })
      .Case([&](tosa::SigmoidOp) {
        return unary(op, first(),
                     [](double x) { return 1.0 / (1.0 + std::exp(-x)); });
      })
      .Case([&](tosa::ErfOp) {
        return unary(op, first(), [](double x) { return std::erf(x); });
      })
      .Case([&](tosa::AbsOp) {
        return unary(op, first(), [](double x) { return std::fabs(x); });
      })
      .Case([&](tosa::NegateOp) -> Result {
        // Operands: input, input zero point, output zero point. Integer
        // results saturate (TOSA clips negate), e.g. -(-128) is 127 in i8.
        double inputZeroPoint = scalarOperand(*operands[1]);
        double outputZeroPoint = scalarOperand(*operands[2]);
        unsigned width = getIntegerWidth(elementTypeOf(op->getResult(0)));
        double lo = width > 1 ? -std::ldexp(1.0, width - 1) : -INFINITY;
        double hi = width > 1 ? std::ldexp(1.0, width - 1) - 1 : INFINITY;
        return unary(op, first(), [&](double x) {
          return std::clamp(-(x - inputZeroPoint) + outputZeroPoint, lo, hi);
        });
      })
      .Case([&](tosa::ClampOp clamp) -> Result {
        FailureOr<EvalTensor> low = readScalarAttr(op, clamp.getMinVal());
        FailureOr<EvalTensor> high = readScalarAttr(op, clamp.getMaxVal());
        if (failed(low) || failed(high))
          return failure();
        double lo = low->data.front(), hi = high->data.front();
        bool propagate = propagatesNaN(clamp.getNanMode());
        return unary(op, first(), [&](double x) {
          return maximumOf(minimumOf(x, hi, propagate), lo, propagate);
        });
      })
      .Case([&](tosa::IdentityOp) { return Result(singleResult(first())); })
      .Case([&](tosa::CastOp cast) { return evaluateCast(cast, first()); })
      .Case([&](tosa::ReduceSumOp reduceOp) {
        return reduce(op, first(), reduceOp.getAxis(), 0.0,
                      [](double a, double b) { return a + b; });
      })
      .Case([&](tosa::ReduceMaxOp reduceOp) {
        bool propagate = propagatesNaN(reduceOp.getNanMode());
        return reduce(op, first(), reduceOp.getAxis(), -INFINITY,
                      [propagate](double a, double b) {
                        return maximumOf(a, b, propagate);
                      });
      })
      .Case([&](tosa::ReshapeOp reshape) {
        return evaluateReshape(reshape, operands);
      })
      .Case([&](tosa::TransposeOp transpose) {
        return evaluateTranspose(transpose, first());
      })
      .Case([&](tosa::MatMulOp matmul) {
        return evaluateMatmul(matmul, operands);
      })
      .Default([&](Operation *) -> Result {
        return emitUnsupported(op) << "no semantics for this tosa op";
      });
}
