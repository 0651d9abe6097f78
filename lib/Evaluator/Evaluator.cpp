//===- Evaluator.cpp - float64 reference interpreter: the driver ----------===//
//
// Walks a func.func in order, keeps one EvalTensor per live SSA value, and
// hands each op to the file of its dialect family. Values are dropped after
// their last use so that running a whole model keeps only the live
// activations (plus the weights still ahead) in memory.
//
//===----------------------------------------------------------------------===//

#include "quant/Evaluator/Evaluator.h"
#include "EvaluatorInternal.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::evaluator;

EvalTensor::EvalTensor(ArrayRef<int64_t> shape, double fill)
    : shape(shape.begin(), shape.end()),
      // A negative (dynamic) size never reaches here from a checked path;
      // treating it as empty keeps a bug from turning into a huge
      // allocation, and the shape check after each op reports it.
      data(static_cast<size_t>(std::max<int64_t>(0, numElementsOf(shape))),
           fill) {}

int64_t EvalTensor::numElements() const { return numElementsOf(shape); }

namespace {

/// Calls nest at most this deep, so that a recursive module fails with a
/// diagnostic instead of exhausting the stack.
constexpr unsigned kMaxCallDepth = 64;

bool isScalarType(Type type) {
  return isa<FloatType>(type) || getIntegerWidth(type) != 0;
}

/// A value computed for `type` must have its rank and static sizes.
LogicalResult checkValueAgainstType(Operation *op, Type type,
                                    const EvalTensor &value, StringRef what) {
  if (static_cast<int64_t>(value.data.size()) != value.numElements() ||
      llvm::any_of(value.shape, [](int64_t size) { return size < 0; }))
    return op->emitOpError()
           << what << " holds " << value.data.size() << " values for shape "
           << formatShape(value.shape);
  if (auto ranked = dyn_cast<RankedTensorType>(type)) {
    bool matches = ranked.getRank() == static_cast<int64_t>(value.shape.size());
    for (size_t dim = 0; matches && dim < value.shape.size(); ++dim)
      matches = ranked.isDynamicDim(dim) ||
                ranked.getDimSize(dim) == value.shape[dim];
    if (!matches)
      return op->emitOpError()
             << what << " has shape " << formatShape(value.shape)
             << ", which does not fit " << type;
    return success();
  }
  if (isScalarType(type)) {
    if (!value.shape.empty())
      return op->emitOpError() << what << " of scalar type " << type
                               << " has shape " << formatShape(value.shape);
    return success();
  }
  if (isa<ShapedType>(type))
    return emitUnsupported(op) << what << " of type " << type;
  // Other types (e.g. !tosa.shape) are bookkeeping values of their op.
  return success();
}

class Interpreter {
public:
  explicit Interpreter(EvalObserver observer) : observer(observer) {}

  FailureOr<SmallVector<EvalTensor>> call(func::FuncOp func,
                                          ArrayRef<EvalTensor> arguments);

private:
  using Frame = DenseMap<Value, EvalTensor>;

  LogicalResult execute(Operation *op, Frame &frame);
  FailureOr<Results> dispatch(Operation *op, Operands operands,
                              ValueLookup lookup);

  EvalObserver observer;
  unsigned depth = 0;
};

} // namespace

FailureOr<SmallVector<EvalTensor>>
Interpreter::call(func::FuncOp func, ArrayRef<EvalTensor> arguments) {
  if (func.isExternal())
    return func.emitOpError("cannot be evaluated: the function has no body");
  if (!func.getBody().hasOneBlock())
    return emitUnsupported(func) << "functions with more than one block";
  Block &body = func.getBody().front();
  if (arguments.size() != body.getNumArguments())
    return func.emitOpError("expects ")
           << body.getNumArguments() << " arguments, got " << arguments.size();

  Frame frame;
  for (auto [index, argument] : llvm::enumerate(body.getArguments())) {
    std::string what = "argument #" + std::to_string(index);
    if (failed(checkValueAgainstType(func, argument.getType(), arguments[index],
                                     what)))
      return failure();
    frame[argument] = arguments[index];
  }

  // The last top-level op that reads each value (uses inside regions count
  // for the op that owns the region).
  DenseMap<Value, Operation *> lastUser;
  for (Operation &op : body)
    op.walk([&](Operation *nested) {
      for (Value operand : nested->getOperands())
        lastUser[operand] = &op;
    });

  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      SmallVector<EvalTensor> results;
      for (Value operand : ret.getOperands()) {
        auto it = frame.find(operand);
        if (it == frame.end())
          return ret.emitOpError("returns a value that was not computed");
        results.push_back(it->second);
      }
      return results;
    }
    if (failed(execute(&op, frame)))
      return failure();
    for (Value operand : op.getOperands())
      if (lastUser.lookup(operand) == &op)
        frame.erase(operand);
    for (Value result : op.getResults())
      if (result.use_empty())
        frame.erase(result);
  }
  return func.emitOpError("body does not end in func.return");
}

LogicalResult Interpreter::execute(Operation *op, Frame &frame) {
  SmallVector<const EvalTensor *> operands;
  for (auto [index, operand] : llvm::enumerate(op->getOperands())) {
    auto it = frame.find(operand);
    if (it == frame.end())
      return op->emitOpError("operand #") << index << " has no value";
    operands.push_back(&it->second);
  }
  auto lookup = [&frame](Value value) -> const EvalTensor * {
    auto it = frame.find(value);
    return it == frame.end() ? nullptr : &it->second;
  };

  FailureOr<Results> results = dispatch(op, operands, lookup);
  if (failed(results))
    return failure();
  if (results->size() != op->getNumResults())
    return op->emitOpError("evaluation produced ")
           << results->size() << " values for " << op->getNumResults()
           << " results";
  for (auto [index, value] : llvm::enumerate(*results)) {
    std::string what = "result #" + std::to_string(index);
    if (failed(checkValueAgainstType(op, op->getResult(index).getType(), value,
                                     what)))
      return failure();
  }
  if (observer)
    observer(op, *results);
  for (auto [result, value] : llvm::zip(op->getResults(), *results))
    frame[result] = std::move(value);
  return success();
}

FailureOr<Results> Interpreter::dispatch(Operation *op, Operands operands,
                                         ValueLookup lookup) {
  if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
    FailureOr<EvalTensor> value =
        isa<ElementsAttr>(constant.getValue())
            ? readElementsAttr(op, cast<ElementsAttr>(constant.getValue()))
            : readScalarAttr(op, constant.getValue());
    if (failed(value))
      return failure();
    Results results;
    results.push_back(std::move(*value));
    return results;
  }
  if (auto callOp = dyn_cast<func::CallOp>(op)) {
    auto callee = SymbolTable::lookupNearestSymbolFrom<func::FuncOp>(
        op, callOp.getCalleeAttr());
    if (!callee)
      return emitUnsupported(op) << "callee is not a func.func of this module";
    if (depth >= kMaxCallDepth)
      return emitUnsupported(op)
             << "calls nested deeper than " << kMaxCallDepth;
    SmallVector<EvalTensor> arguments;
    for (const EvalTensor *operand : operands)
      arguments.push_back(*operand);
    ++depth;
    FailureOr<SmallVector<EvalTensor>> values = call(callee, arguments);
    --depth;
    if (failed(values))
      return failure();
    return Results(std::make_move_iterator(values->begin()),
                   std::make_move_iterator(values->end()));
  }

  StringRef dialect = op->getName().getDialectNamespace();
  if (dialect == "arith" || dialect == "math")
    return evaluateElementwiseOp(op, operands);
  if (dialect == "linalg")
    return evaluateLinalgOp(op, operands, lookup);
  if (dialect == "tensor")
    return evaluateTensorOp(op, operands, lookup);
  if (dialect == "qnn" || dialect == "quant")
    return evaluateQuantOp(op, operands);
  if (dialect == "tosa")
    return evaluateTosaOp(op, operands);
  return emitUnsupported(op) << "no semantics for ops of this dialect";
}

FailureOr<SmallVector<EvalTensor>>
mlir::qnn::evaluateFunction(func::FuncOp func, ArrayRef<EvalTensor> arguments,
                            EvalObserver observer) {
  Interpreter interpreter(observer);
  return interpreter.call(func, arguments);
}
