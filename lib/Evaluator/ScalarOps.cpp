//===- ScalarOps.cpp - arith/math semantics and region bodies -------------===//
//
// Every arith/math op is compiled once into a float64 function; the same
// function serves a scalar op inside a linalg payload and an elementwise op
// on whole tensors, so the two can never disagree.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorInternal.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::evaluator;

namespace {

template <typename Fn> ScalarFunction unaryFloat(Fn fn) {
  return [fn](ArrayRef<double> x) { return fn(x[0]); };
}

template <typename Fn> ScalarFunction binaryFloat(Fn fn) {
  return [fn](ArrayRef<double> x) { return fn(x[0], x[1]); };
}

/// Integer ops compute on int64 with two's-complement wrap-around (through
/// uint64 so that overflow is defined) and then wrap to the result width.
template <typename Fn> ScalarFunction binaryInteger(Fn fn, unsigned width) {
  return [fn, width](ArrayRef<double> x) {
    int64_t lhs = wrapSignedInt(toInt64(x[0]), width);
    int64_t rhs = wrapSignedInt(toInt64(x[1]), width);
    return static_cast<double>(wrapSignedInt(fn(lhs, rhs), width));
  };
}

/// Same with the operands' unsigned views.
template <typename Fn> ScalarFunction binaryUnsigned(Fn fn, unsigned width) {
  return [fn, width](ArrayRef<double> x) {
    uint64_t lhs = unsignedBits(x[0], width), rhs = unsignedBits(x[1], width);
    return static_cast<double>(
        wrapSignedInt(static_cast<int64_t>(fn(lhs, rhs)), width));
  };
}

int64_t wrappingAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) +
                              static_cast<uint64_t>(b));
}
int64_t wrappingSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) -
                              static_cast<uint64_t>(b));
}
int64_t wrappingMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) *
                              static_cast<uint64_t>(b));
}

/// IEEE maximum/minimum: NaN propagates and -0 < +0.
double maximumF(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<double>::quiet_NaN();
  if (a == b)
    return std::signbit(a) ? b : a;
  return a > b ? a : b;
}
double minimumF(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<double>::quiet_NaN();
  if (a == b)
    return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

bool compareFloat(arith::CmpFPredicate predicate, double a, double b) {
  bool unordered = std::isnan(a) || std::isnan(b);
  switch (predicate) {
  case arith::CmpFPredicate::AlwaysFalse:
    return false;
  case arith::CmpFPredicate::OEQ:
    return !unordered && a == b;
  case arith::CmpFPredicate::OGT:
    return !unordered && a > b;
  case arith::CmpFPredicate::OGE:
    return !unordered && a >= b;
  case arith::CmpFPredicate::OLT:
    return !unordered && a < b;
  case arith::CmpFPredicate::OLE:
    return !unordered && a <= b;
  case arith::CmpFPredicate::ONE:
    return !unordered && a != b;
  case arith::CmpFPredicate::ORD:
    return !unordered;
  case arith::CmpFPredicate::UEQ:
    return unordered || a == b;
  case arith::CmpFPredicate::UGT:
    return unordered || a > b;
  case arith::CmpFPredicate::UGE:
    return unordered || a >= b;
  case arith::CmpFPredicate::ULT:
    return unordered || a < b;
  case arith::CmpFPredicate::ULE:
    return unordered || a <= b;
  case arith::CmpFPredicate::UNE:
    return unordered || a != b;
  case arith::CmpFPredicate::UNO:
    return unordered;
  case arith::CmpFPredicate::AlwaysTrue:
    return true;
  }
  return false;
}

bool compareInteger(arith::CmpIPredicate predicate, double a, double b,
                    unsigned width) {
  int64_t sa = wrapSignedInt(toInt64(a), width);
  int64_t sb = wrapSignedInt(toInt64(b), width);
  uint64_t ua = unsignedBits(a, width), ub = unsignedBits(b, width);
  switch (predicate) {
  case arith::CmpIPredicate::eq:
    return ua == ub;
  case arith::CmpIPredicate::ne:
    return ua != ub;
  case arith::CmpIPredicate::slt:
    return sa < sb;
  case arith::CmpIPredicate::sle:
    return sa <= sb;
  case arith::CmpIPredicate::sgt:
    return sa > sb;
  case arith::CmpIPredicate::sge:
    return sa >= sb;
  case arith::CmpIPredicate::ult:
    return ua < ub;
  case arith::CmpIPredicate::ule:
    return ua <= ub;
  case arith::CmpIPredicate::ugt:
    return ua > ub;
  case arith::CmpIPredicate::uge:
    return ua >= ub;
  }
  return false;
}

std::optional<APFloat::roundingMode>
toAPFloatRounding(arith::RoundingMode mode) {
  switch (mode) {
  case arith::RoundingMode::to_nearest_even:
    return APFloat::rmNearestTiesToEven;
  case arith::RoundingMode::downward:
    return APFloat::rmTowardNegative;
  case arith::RoundingMode::upward:
    return APFloat::rmTowardPositive;
  case arith::RoundingMode::toward_zero:
    return APFloat::rmTowardZero;
  case arith::RoundingMode::to_nearest_away:
    return APFloat::rmNearestTiesToAway;
  }
  return std::nullopt;
}

/// Float to integer of `width` bits, truncating toward zero. Out-of-range
/// inputs are poison in arith; saturating keeps the result deterministic.
double floatToInteger(double x, unsigned width, bool isSigned) {
  if (std::isnan(x))
    return 0.0;
  double truncated = std::trunc(x);
  if (width >= 64)
    return static_cast<double>(toInt64(truncated));
  double lo = isSigned ? -std::ldexp(1.0, width - 1) : 0.0;
  double hi =
      isSigned ? std::ldexp(1.0, width - 1) - 1 : std::ldexp(1.0, width) - 1;
  return wrapSigned(std::clamp(truncated, lo, hi), width);
}

} // namespace

FailureOr<ScalarFunction> evaluator::compileScalarOp(Operation *op,
                                                     ScalarStatus &status) {
  if (op->getNumResults() != 1)
    return emitUnsupported(op) << "expected a single result";
  for (Type type :
       llvm::concat<Type>(op->getOperandTypes(), op->getResultTypes()))
    if (isa<VectorType>(type) || isa<UnrankedTensorType>(type) ||
        isa<BaseMemRefType>(type))
      return emitUnsupported(op) << "operands of type " << type;

  Type resultType = elementTypeOf(op->getResult(0));
  unsigned width = getIntegerWidth(resultType);
  unsigned operandWidth =
      op->getNumOperands() ? getIntegerWidth(elementTypeOf(op->getOperand(0)))
                           : 0;
  ScalarStatus *failures = &status;

  using Result = FailureOr<ScalarFunction>;
  Result compiled =
      llvm::TypeSwitch<Operation *, Result>(op)
          // Constants.
          .Case([&](arith::ConstantOp constant) -> Result {
            FailureOr<EvalTensor> value =
                readScalarAttr(op, constant.getValue());
            if (failed(value))
              return failure();
            double scalar = value->data.front();
            return ScalarFunction(
                [scalar](ArrayRef<double>) { return scalar; });
          })
          // Float arithmetic.
          .Case([&](arith::AddFOp) -> Result {
            return binaryFloat([](double a, double b) { return a + b; });
          })
          .Case([&](arith::SubFOp) -> Result {
            return binaryFloat([](double a, double b) { return a - b; });
          })
          .Case([&](arith::MulFOp) -> Result {
            return binaryFloat([](double a, double b) { return a * b; });
          })
          .Case([&](arith::DivFOp) -> Result {
            return binaryFloat([](double a, double b) { return a / b; });
          })
          .Case([&](arith::RemFOp) -> Result {
            return binaryFloat(
                [](double a, double b) { return std::fmod(a, b); });
          })
          .Case([&](arith::NegFOp) -> Result {
            return unaryFloat([](double a) { return -a; });
          })
          .Case([&](arith::MaximumFOp) -> Result {
            return binaryFloat(maximumF);
          })
          .Case([&](arith::MinimumFOp) -> Result {
            return binaryFloat(minimumF);
          })
          .Case([&](arith::MaxNumFOp) -> Result {
            return binaryFloat(
                [](double a, double b) { return std::fmax(a, b); });
          })
          .Case([&](arith::MinNumFOp) -> Result {
            return binaryFloat(
                [](double a, double b) { return std::fmin(a, b); });
          })
          .Case([&](arith::CmpFOp cmp) -> Result {
            arith::CmpFPredicate predicate = cmp.getPredicate();
            return ScalarFunction([predicate](ArrayRef<double> x) {
              return compareFloat(predicate, x[0], x[1]) ? 1.0 : 0.0;
            });
          })
          .Case([&](arith::SelectOp) -> Result {
            return ScalarFunction(
                [](ArrayRef<double> x) { return x[0] != 0.0 ? x[1] : x[2]; });
          })
          // Integer arithmetic.
          .Case([&](arith::AddIOp) -> Result {
            return binaryInteger(wrappingAdd, width);
          })
          .Case([&](arith::SubIOp) -> Result {
            return binaryInteger(wrappingSub, width);
          })
          .Case([&](arith::MulIOp) -> Result {
            return binaryInteger(wrappingMul, width);
          })
          .Case([&](arith::DivSIOp) -> Result {
            return binaryInteger(
                [failures](int64_t a, int64_t b) -> int64_t {
                  if (b == 0)
                    return failures->fail("integer division by zero"), 0;
                  // INT64_MIN / -1 overflows int64; wrapping gives INT64_MIN.
                  return b == -1 ? wrappingSub(0, a) : a / b;
                },
                width);
          })
          .Case([&](arith::DivUIOp) -> Result {
            return binaryUnsigned(
                [failures](uint64_t a, uint64_t b) -> uint64_t {
                  if (b == 0)
                    return failures->fail("integer division by zero"), 0;
                  return a / b;
                },
                width);
          })
          .Case([&](arith::RemSIOp) -> Result {
            return binaryInteger(
                [failures](int64_t a, int64_t b) -> int64_t {
                  if (b == 0)
                    return failures->fail("integer remainder by zero"), 0;
                  return b == -1 ? 0 : a % b;
                },
                width);
          })
          .Case([&](arith::RemUIOp) -> Result {
            return binaryUnsigned(
                [failures](uint64_t a, uint64_t b) -> uint64_t {
                  if (b == 0)
                    return failures->fail("integer remainder by zero"), 0;
                  return a % b;
                },
                width);
          })
          .Case([&](arith::FloorDivSIOp) -> Result {
            return binaryInteger(
                [failures](int64_t a, int64_t b) -> int64_t {
                  if (b == 0)
                    return failures->fail("integer division by zero"), 0;
                  if (b == -1)
                    return wrappingSub(0, a);
                  int64_t quotient = a / b;
                  return (a % b != 0 && ((a < 0) != (b < 0))) ? quotient - 1
                                                              : quotient;
                },
                width);
          })
          .Case([&](arith::CeilDivSIOp) -> Result {
            return binaryInteger(
                [failures](int64_t a, int64_t b) -> int64_t {
                  if (b == 0)
                    return failures->fail("integer division by zero"), 0;
                  if (b == -1)
                    return wrappingSub(0, a);
                  int64_t quotient = a / b;
                  return (a % b != 0 && ((a < 0) == (b < 0))) ? quotient + 1
                                                              : quotient;
                },
                width);
          })
          .Case([&](arith::MaxSIOp) -> Result {
            return binaryInteger(
                [](int64_t a, int64_t b) { return std::max(a, b); }, width);
          })
          .Case([&](arith::MinSIOp) -> Result {
            return binaryInteger(
                [](int64_t a, int64_t b) { return std::min(a, b); }, width);
          })
          .Case([&](arith::MaxUIOp) -> Result {
            return binaryUnsigned(
                [](uint64_t a, uint64_t b) { return std::max(a, b); }, width);
          })
          .Case([&](arith::MinUIOp) -> Result {
            return binaryUnsigned(
                [](uint64_t a, uint64_t b) { return std::min(a, b); }, width);
          })
          .Case([&](arith::AndIOp) -> Result {
            return binaryUnsigned([](uint64_t a, uint64_t b) { return a & b; },
                                  width);
          })
          .Case([&](arith::OrIOp) -> Result {
            return binaryUnsigned([](uint64_t a, uint64_t b) { return a | b; },
                                  width);
          })
          .Case([&](arith::XOrIOp) -> Result {
            return binaryUnsigned([](uint64_t a, uint64_t b) { return a ^ b; },
                                  width);
          })
          // Shifts by >= width are poison in arith; they yield 0 (or the
          // sign fill) here.
          .Case([&](arith::ShLIOp) -> Result {
            return binaryUnsigned(
                [width](uint64_t a, uint64_t b) -> uint64_t {
                  return b >= width ? 0 : a << b;
                },
                width);
          })
          .Case([&](arith::ShRUIOp) -> Result {
            return binaryUnsigned(
                [width](uint64_t a, uint64_t b) -> uint64_t {
                  return b >= width ? 0 : a >> b;
                },
                width);
          })
          .Case([&](arith::ShRSIOp) -> Result {
            return binaryInteger(
                [width](int64_t a, int64_t b) -> int64_t {
                  uint64_t amount =
                      static_cast<uint64_t>(b) &
                      (width >= 64 ? ~uint64_t(0) : (uint64_t(1) << width) - 1);
                  if (amount >= width)
                    return a < 0 ? -1 : 0;
                  return a >> amount;
                },
                width);
          })
          .Case([&](arith::CmpIOp cmp) -> Result {
            arith::CmpIPredicate predicate = cmp.getPredicate();
            return ScalarFunction([predicate,
                                   operandWidth](ArrayRef<double> x) {
              return compareInteger(predicate, x[0], x[1], operandWidth) ? 1.0
                                                                         : 0.0;
            });
          })
          // Conversions.
          .Case([&](arith::SIToFPOp) -> Result {
            return ScalarFunction([operandWidth](ArrayRef<double> x) {
              return wrapSigned(x[0], operandWidth);
            });
          })
          .Case([&](arith::UIToFPOp) -> Result {
            return ScalarFunction([operandWidth](ArrayRef<double> x) {
              return wrapUnsigned(x[0], operandWidth);
            });
          })
          .Case([&](arith::FPToSIOp) -> Result {
            return ScalarFunction([width](ArrayRef<double> x) {
              return floatToInteger(x[0], width, /*isSigned=*/true);
            });
          })
          .Case([&](arith::FPToUIOp) -> Result {
            return ScalarFunction([width](ArrayRef<double> x) {
              return floatToInteger(x[0], width, /*isSigned=*/false);
            });
          })
          .Case([&](arith::ExtFOp) -> Result {
            return unaryFloat([](double a) { return a; });
          })
          .Case([&](arith::TruncFOp truncate) -> Result {
            auto target = cast<FloatType>(resultType);
            arith::RoundingMode mode = truncate.getRoundingmode().value_or(
                arith::RoundingMode::to_nearest_even);
            if (mode == arith::RoundingMode::to_nearest_even)
              return ScalarFunction([target](ArrayRef<double> x) {
                return roundToFloatType(x[0], target);
              });
            APFloat::roundingMode rounding = *toAPFloatRounding(mode);
            return ScalarFunction([target, rounding](ArrayRef<double> x) {
              APFloat value(x[0]);
              bool losesInfo = false;
              value.convert(target.getFloatSemantics(), rounding, &losesInfo);
              value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                            &losesInfo);
              return value.convertToDouble();
            });
          })
          .Case([&](arith::ExtSIOp) -> Result {
            return ScalarFunction([operandWidth](ArrayRef<double> x) {
              return wrapSigned(x[0], operandWidth);
            });
          })
          .Case([&](arith::ExtUIOp) -> Result {
            return ScalarFunction([operandWidth, width](ArrayRef<double> x) {
              return wrapSigned(wrapUnsigned(x[0], operandWidth), width);
            });
          })
          .Case([&](arith::TruncIOp) -> Result {
            return ScalarFunction([width](ArrayRef<double> x) {
              return wrapSigned(x[0], width);
            });
          })
          .Case([&](arith::IndexCastOp) -> Result {
            return ScalarFunction([operandWidth, width](ArrayRef<double> x) {
              return wrapSigned(wrapSigned(x[0], operandWidth), width);
            });
          })
          .Case([&](arith::IndexCastUIOp) -> Result {
            return ScalarFunction([operandWidth, width](ArrayRef<double> x) {
              return wrapSigned(wrapUnsigned(x[0], operandWidth), width);
            });
          })
          // math.
          .Case([&](math::AbsFOp) -> Result {
            return unaryFloat([](double a) { return std::fabs(a); });
          })
          .Case([&](math::AbsIOp) -> Result {
            return ScalarFunction([width](ArrayRef<double> x) {
              int64_t value = wrapSignedInt(toInt64(x[0]), width);
              return static_cast<double>(wrapSignedInt(
                  value < 0 ? wrappingSub(0, value) : value, width));
            });
          })
          .Case([&](math::SqrtOp) -> Result {
            return unaryFloat([](double a) { return std::sqrt(a); });
          })
          .Case([&](math::RsqrtOp) -> Result {
            return unaryFloat([](double a) { return 1.0 / std::sqrt(a); });
          })
          .Case([&](math::CbrtOp) -> Result {
            return unaryFloat([](double a) { return std::cbrt(a); });
          })
          .Case([&](math::ExpOp) -> Result {
            return unaryFloat([](double a) { return std::exp(a); });
          })
          .Case([&](math::Exp2Op) -> Result {
            return unaryFloat([](double a) { return std::exp2(a); });
          })
          .Case([&](math::ExpM1Op) -> Result {
            return unaryFloat([](double a) { return std::expm1(a); });
          })
          .Case([&](math::LogOp) -> Result {
            return unaryFloat([](double a) { return std::log(a); });
          })
          .Case([&](math::Log2Op) -> Result {
            return unaryFloat([](double a) { return std::log2(a); });
          })
          .Case([&](math::Log10Op) -> Result {
            return unaryFloat([](double a) { return std::log10(a); });
          })
          .Case([&](math::Log1pOp) -> Result {
            return unaryFloat([](double a) { return std::log1p(a); });
          })
          .Case([&](math::TanhOp) -> Result {
            return unaryFloat([](double a) { return std::tanh(a); });
          })
          .Case([&](math::SinOp) -> Result {
            return unaryFloat([](double a) { return std::sin(a); });
          })
          .Case([&](math::CosOp) -> Result {
            return unaryFloat([](double a) { return std::cos(a); });
          })
          .Case([&](math::TanOp) -> Result {
            return unaryFloat([](double a) { return std::tan(a); });
          })
          .Case([&](math::AtanOp) -> Result {
            return unaryFloat([](double a) { return std::atan(a); });
          })
          .Case([&](math::Atan2Op) -> Result {
            return binaryFloat(
                [](double a, double b) { return std::atan2(a, b); });
          })
          .Case([&](math::ErfOp) -> Result {
            return unaryFloat([](double a) { return std::erf(a); });
          })
          .Case([&](math::ErfcOp) -> Result {
            return unaryFloat([](double a) { return std::erfc(a); });
          })
          .Case([&](math::PowFOp) -> Result {
            return binaryFloat(
                [](double a, double b) { return std::pow(a, b); });
          })
          .Case([&](math::FloorOp) -> Result {
            return unaryFloat([](double a) { return std::floor(a); });
          })
          .Case([&](math::CeilOp) -> Result {
            return unaryFloat([](double a) { return std::ceil(a); });
          })
          .Case([&](math::RoundOp) -> Result {
            return unaryFloat([](double a) { return std::round(a); });
          })
          .Case([&](math::RoundEvenOp) -> Result {
            return unaryFloat(roundHalfToEven);
          })
          .Case([&](math::TruncOp) -> Result {
            return unaryFloat([](double a) { return std::trunc(a); });
          })
          .Case([&](math::CopySignOp) -> Result {
            return binaryFloat(
                [](double a, double b) { return std::copysign(a, b); });
          })
          .Case([&](math::FmaOp) -> Result {
            return ScalarFunction(
                [](ArrayRef<double> x) { return std::fma(x[0], x[1], x[2]); });
          })
          .Case([&](math::IsNaNOp) -> Result {
            return unaryFloat(
                [](double a) { return std::isnan(a) ? 1.0 : 0.0; });
          })
          .Case([&](math::IsInfOp) -> Result {
            return unaryFloat(
                [](double a) { return std::isinf(a) ? 1.0 : 0.0; });
          })
          .Case([&](math::IsFiniteOp) -> Result {
            return unaryFloat(
                [](double a) { return std::isfinite(a) ? 1.0 : 0.0; });
          })
          .Default([&](Operation *) -> Result {
            return emitUnsupported(op) << "no scalar semantics for this op";
          });
  return compiled;
}

//===----------------------------------------------------------------------===//
// ScalarProgram
//===----------------------------------------------------------------------===//

namespace {
struct Instruction {
  enum class Kind { Apply, LoopIndex, Extract };
  Kind kind = Kind::Apply;
  ScalarFunction function;           // Apply
  SmallVector<unsigned, 3> operands; // Apply: operands; Extract: indices
  unsigned result = 0;
  int64_t loopDim = 0;                // LoopIndex
  const EvalTensor *tensor = nullptr; // Extract
  SmallVector<int64_t> strides;       // Extract
};
} // namespace

struct ScalarProgram::Impl {
  // Lives here (the Impl never moves) because compiled functions keep a
  // pointer to it.
  ScalarStatus status;
  std::vector<double> slots;
  unsigned numArguments = 0;
  std::vector<Instruction> instructions;
  SmallVector<unsigned> yieldedSlots;
};

/// Every scalar op has at most this many operands (select and fma have 3).
static constexpr unsigned kMaxScalarOperands = 4;

ScalarProgram::ScalarProgram(std::unique_ptr<Impl> impl)
    : impl(std::move(impl)) {}
ScalarProgram::ScalarProgram(ScalarProgram &&) noexcept = default;
ScalarProgram &ScalarProgram::operator=(ScalarProgram &&) noexcept = default;
ScalarProgram::~ScalarProgram() = default;

static bool isScalarType(Type type) {
  return isa<FloatType>(type) || getIntegerWidth(type) != 0;
}

FailureOr<ScalarProgram> ScalarProgram::compile(Block &body,
                                                ValueLookup lookup) {
  auto impl = std::make_unique<Impl>();
  Operation *owner = body.getParentOp();
  DenseMap<Value, unsigned> slotOf;

  for (BlockArgument argument : body.getArguments()) {
    if (!isScalarType(argument.getType()))
      return emitUnsupported(owner)
             << "region argument of type " << argument.getType();
    slotOf[argument] = impl->slots.size();
    impl->slots.push_back(0.0);
  }
  impl->numArguments = body.getNumArguments();

  // Values from above the region become constants of the program.
  auto slotFor = [&](Value value, Operation *user) -> FailureOr<unsigned> {
    auto it = slotOf.find(value);
    if (it != slotOf.end())
      return it->second;
    const EvalTensor *captured = lookup(value);
    if (!captured || !captured->shape.empty())
      return emitUnsupported(user)
             << "uses a non-scalar value from outside the region other than "
                "through tensor.extract";
    unsigned slot = impl->slots.size();
    impl->slots.push_back(captured->data.front());
    slotOf[value] = slot;
    return slot;
  };

  for (Operation &op : body.without_terminator()) {
    Instruction instruction;
    if (op.getNumRegions() != 0)
      return emitUnsupported(&op) << "ops with regions inside a region body";
    if (auto index = dyn_cast<linalg::IndexOp>(op)) {
      instruction.kind = Instruction::Kind::LoopIndex;
      instruction.loopDim = index.getDim();
    } else if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
      const EvalTensor *tensor = lookup(extract.getTensor());
      if (!tensor)
        return emitUnsupported(&op)
               << "tensor.extract from a tensor defined inside the region";
      instruction.kind = Instruction::Kind::Extract;
      instruction.tensor = tensor;
      instruction.strides = rowMajorStrides(tensor->shape);
      if (extract.getIndices().size() != tensor->shape.size())
        return op.emitOpError("expects ") << tensor->shape.size() << " indices";
      for (Value index : extract.getIndices()) {
        FailureOr<unsigned> slot = slotFor(index, &op);
        if (failed(slot))
          return failure();
        instruction.operands.push_back(*slot);
      }
    } else {
      if (op.getNumOperands() > kMaxScalarOperands)
        return emitUnsupported(&op) << "scalar ops with more than "
                                    << kMaxScalarOperands << " operands";
      FailureOr<ScalarFunction> function = compileScalarOp(&op, impl->status);
      if (failed(function))
        return failure();
      instruction.function = std::move(*function);
      for (Value operand : op.getOperands()) {
        FailureOr<unsigned> slot = slotFor(operand, &op);
        if (failed(slot))
          return failure();
        instruction.operands.push_back(*slot);
      }
    }
    if (op.getNumResults() != 1 || !isScalarType(op.getResult(0).getType()))
      return emitUnsupported(&op) << "region body ops must yield one scalar";
    instruction.result = impl->slots.size();
    slotOf[op.getResult(0)] = instruction.result;
    impl->slots.push_back(0.0);
    impl->instructions.push_back(std::move(instruction));
  }

  Operation *terminator = body.getTerminator();
  for (Value yielded : terminator->getOperands()) {
    FailureOr<unsigned> slot = slotFor(yielded, terminator);
    if (failed(slot))
      return failure();
    impl->yieldedSlots.push_back(*slot);
  }
  return ScalarProgram(std::move(impl));
}

MutableArrayRef<double> ScalarProgram::arguments() {
  return MutableArrayRef<double>(impl->slots).take_front(impl->numArguments);
}

void ScalarProgram::run(ArrayRef<int64_t> loopIndices) {
  std::vector<double> &slots = impl->slots;
  for (Instruction &instruction : impl->instructions) {
    double value = 0.0;
    switch (instruction.kind) {
    case Instruction::Kind::Apply: {
      double operands[kMaxScalarOperands];
      unsigned count = instruction.operands.size();
      for (unsigned i = 0; i < count; ++i)
        operands[i] = slots[instruction.operands[i]];
      value = instruction.function(ArrayRef<double>(operands, count));
      break;
    }
    case Instruction::Kind::LoopIndex:
      if (instruction.loopDim < static_cast<int64_t>(loopIndices.size()))
        value = static_cast<double>(loopIndices[instruction.loopDim]);
      else
        impl->status.fail("linalg.index refers to a loop the op does not have");
      break;
    case Instruction::Kind::Extract: {
      int64_t offset = 0;
      bool inBounds = true;
      for (auto [dim, slot] : llvm::enumerate(instruction.operands)) {
        int64_t index = toInt64(slots[slot]);
        inBounds &= index >= 0 && index < instruction.tensor->shape[dim];
        offset += index * instruction.strides[dim];
      }
      if (inBounds)
        value = instruction.tensor->data[offset];
      else
        impl->status.fail("tensor.extract index out of bounds");
      break;
    }
    }
    slots[instruction.result] = value;
  }
}

double ScalarProgram::getYielded(unsigned index) const {
  return impl->slots[impl->yieldedSlots[index]];
}

unsigned ScalarProgram::getNumYielded() const {
  return impl->yieldedSlots.size();
}

const std::string &ScalarProgram::getError() const {
  return impl->status.error;
}

//===----------------------------------------------------------------------===//
// Elementwise ops on tensors
//===----------------------------------------------------------------------===//

FailureOr<Results> evaluator::evaluateElementwiseOp(Operation *op,
                                                    Operands operands) {
  ScalarStatus status;
  FailureOr<ScalarFunction> function = compileScalarOp(op, status);
  if (failed(function))
    return failure();

  // arith ops on tensors need equal shapes; a rank-0 operand (the scalar
  // condition of arith.select) applies to every element.
  SmallVector<int64_t> shape;
  bool haveShape = false;
  for (const EvalTensor *operand : operands) {
    if (operand->shape.empty())
      continue;
    if (haveShape && ArrayRef<int64_t>(shape) != ArrayRef(operand->shape))
      return op->emitOpError("operand shapes differ: ")
             << formatShape(shape) << " vs " << formatShape(operand->shape);
    shape = operand->shape;
    haveShape = true;
  }
  EvalTensor result(shape);
  SmallVector<double, 4> values(operands.size());
  for (int64_t element = 0, e = result.numElements(); element < e; ++element) {
    for (auto [index, operand] : llvm::enumerate(operands))
      values[index] =
          operand->shape.empty() ? operand->data[0] : operand->data[element];
    result.data[element] = (*function)(values);
  }
  if (!status.error.empty())
    return op->emitOpError(status.error);
  Results results;
  results.push_back(std::move(result));
  return results;
}
