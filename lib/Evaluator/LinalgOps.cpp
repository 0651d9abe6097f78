//===- LinalgOps.cpp - every linalg structured op through its maps --------===//
//
// Named and generic ops alike are run from what the LinalgOp interface
// exposes: the loop ranges implied by the operand shapes, one indexing map
// per operand and the payload region. Nothing here knows what a matmul or a
// convolution is, which is what makes it a reference for their lowerings.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorInternal.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::evaluator;

namespace {

/// Evaluates an affine expression over dimension values; nullopt for
/// symbols, division by zero or out-of-range dimensions.
std::optional<int64_t> evaluateAffine(AffineExpr expr, ArrayRef<int64_t> dims) {
  if (auto constant = dyn_cast<AffineConstantExpr>(expr))
    return constant.getValue();
  if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
    if (dim.getPosition() >= dims.size())
      return std::nullopt;
    return dims[dim.getPosition()];
  }
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary)
    return std::nullopt;
  std::optional<int64_t> lhs = evaluateAffine(binary.getLHS(), dims);
  std::optional<int64_t> rhs = evaluateAffine(binary.getRHS(), dims);
  if (!lhs || !rhs)
    return std::nullopt;
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return *lhs + *rhs;
  case AffineExprKind::Mul:
    return *lhs * *rhs;
  case AffineExprKind::Mod:
    if (*rhs <= 0)
      return std::nullopt;
    return ((*lhs % *rhs) + *rhs) % *rhs;
  case AffineExprKind::FloorDiv:
  case AffineExprKind::CeilDiv: {
    if (*rhs == 0)
      return std::nullopt;
    int64_t quotient = *lhs / *rhs;
    bool inexact = *lhs % *rhs != 0;
    bool negative = (*lhs < 0) != (*rhs < 0);
    if (inexact && negative && expr.getKind() == AffineExprKind::FloorDiv)
      return quotient - 1;
    if (inexact && !negative && expr.getKind() == AffineExprKind::CeilDiv)
      return quotient + 1;
    return quotient;
  }
  default:
    return std::nullopt;
  }
}

/// Writes `expr` as Σ coefficients[d]·d + constant when it is linear in the
/// dimensions (sums and products by constants), which covers permutations,
/// broadcasts and convolution windows like d1 * 2 + d4.
bool linearize(AffineExpr expr, int64_t multiplier,
               MutableArrayRef<int64_t> coefficients, int64_t &constant) {
  if (auto value = dyn_cast<AffineConstantExpr>(expr)) {
    constant += multiplier * value.getValue();
    return true;
  }
  if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
    if (dim.getPosition() >= coefficients.size())
      return false;
    coefficients[dim.getPosition()] += multiplier;
    return true;
  }
  auto binary = dyn_cast<AffineBinaryOpExpr>(expr);
  if (!binary)
    return false;
  if (expr.getKind() == AffineExprKind::Add)
    return linearize(binary.getLHS(), multiplier, coefficients, constant) &&
           linearize(binary.getRHS(), multiplier, coefficients, constant);
  if (expr.getKind() == AffineExprKind::Mul) {
    if (auto factor = dyn_cast<AffineConstantExpr>(binary.getRHS()))
      return linearize(binary.getLHS(), multiplier * factor.getValue(),
                       coefficients, constant);
    if (auto factor = dyn_cast<AffineConstantExpr>(binary.getLHS()))
      return linearize(binary.getRHS(), multiplier * factor.getValue(),
                       coefficients, constant);
  }
  return false;
}

/// How one operand is addressed from the loop indices: a flat offset that is
/// linear in the loop indices (kept incrementally), or the indexing map
/// evaluated afresh per iteration with a bounds check.
struct OperandAccess {
  AffineMap map;
  ArrayRef<int64_t> shape;
  SmallVector<int64_t> elementStrides;
  bool isLinear = false;
  SmallVector<int64_t> loopStrides; // flat offset per unit step of each loop
  int64_t baseOffset = 0;
};

/// Prepares `access` and, for linear maps, proves every access in the loop
/// box is in bounds (a linear function is extremal at the box's corners).
LogicalResult prepareAccess(Operation *op, unsigned operandNumber,
                            AffineMap map, const EvalTensor &tensor,
                            ArrayRef<int64_t> loopRanges,
                            OperandAccess &access) {
  access.map = map;
  access.shape = tensor.shape;
  access.elementStrides = rowMajorStrides(tensor.shape);
  if (map.getNumResults() != tensor.shape.size())
    return op->emitOpError("indexing map ")
           << AffineMapAttr::get(map) << " of operand #" << operandNumber
           << " has " << map.getNumResults() << " results for a value of shape "
           << formatShape(tensor.shape);

  size_t numLoops = loopRanges.size();
  access.loopStrides.assign(numLoops, 0);
  access.baseOffset = 0;
  bool emptyBox = llvm::is_contained(loopRanges, 0);
  for (auto [dim, expr] : llvm::enumerate(map.getResults())) {
    SmallVector<int64_t> coefficients(numLoops, 0);
    int64_t constant = 0;
    if (!linearize(expr, 1, coefficients, constant))
      return success(); // stays a general access
    int64_t lowest = constant, highest = constant;
    for (auto [loop, coefficient] : llvm::enumerate(coefficients)) {
      int64_t span = coefficient * (loopRanges[loop] - 1);
      lowest += std::min<int64_t>(0, span);
      highest += std::max<int64_t>(0, span);
      access.loopStrides[loop] += coefficient * access.elementStrides[dim];
    }
    access.baseOffset += constant * access.elementStrides[dim];
    if (!emptyBox && (lowest < 0 || highest >= tensor.shape[dim]))
      return op->emitOpError("indexing map ")
             << AffineMapAttr::get(map) << " of operand #" << operandNumber
             << " reaches index range [" << lowest << ", " << highest
             << "] in dimension " << dim << " of size " << tensor.shape[dim];
  }
  access.isLinear = true;
  return success();
}

/// Flat offset of a general access, or -1 when it falls outside the tensor.
int64_t generalOffset(const OperandAccess &access, ArrayRef<int64_t> ivs) {
  int64_t offset = 0;
  for (auto [dim, expr] : llvm::enumerate(access.map.getResults())) {
    std::optional<int64_t> index = evaluateAffine(expr, ivs);
    if (!index || *index < 0 || *index >= access.shape[dim])
      return -1;
    offset += *index * access.elementStrides[dim];
  }
  return offset;
}

/// The order to run the loops in: the op's order with one loop moved
/// innermost, chosen so that the inner loop walks memory contiguously (a
/// matmul runs m, k, n instead of m, n, k). Only a parallel loop or the last
/// reduction loop may move, which keeps the sequence of updates of every
/// output element, and so the float results, exactly those of the op's own
/// order.
SmallVector<unsigned>
chooseLoopOrder(ArrayRef<OperandAccess> accesses, ArrayRef<int64_t> loopRanges,
                ArrayRef<utils::IteratorType> iteratorTypes) {
  unsigned numLoops = loopRanges.size();
  SmallVector<unsigned> order =
      llvm::to_vector(llvm::seq<unsigned>(0, numLoops));
  if (numLoops < 2 || iteratorTypes.size() != numLoops)
    return order;
  std::optional<unsigned> lastReduction;
  for (unsigned loop = 0; loop < numLoops; ++loop)
    if (iteratorTypes[loop] == utils::IteratorType::reduction)
      lastReduction = loop;
  // Cost of a loop as the innermost: operands it leaves in place are free,
  // unit strides cheap, larger strides touch a new cache line each step.
  auto cost = [&](unsigned loop) {
    int64_t total = 0;
    for (const OperandAccess &access : accesses) {
      int64_t stride = std::abs(access.loopStrides[loop]);
      total += stride == 0 ? 0 : stride == 1 ? 1 : 4;
    }
    return total;
  };
  unsigned best = numLoops - 1;
  for (unsigned loop = 0; loop < numLoops; ++loop) {
    bool movable = iteratorTypes[loop] == utils::IteratorType::parallel ||
                   loop == lastReduction;
    if (movable && loopRanges[loop] > 1 && cost(loop) < cost(best))
      best = loop;
  }
  order.erase(order.begin() + best);
  order.push_back(best);
  return order;
}

FailureOr<Results> evaluateSoftmax(linalg::SoftmaxOp softmax,
                                   Operands operands) {
  const EvalTensor &input = *operands[0];
  int64_t axis = softmax.getDimension();
  if (axis < 0 || axis >= static_cast<int64_t>(input.shape.size()))
    return softmax.emitOpError("dimension ") << axis << " is out of range";
  EvalTensor output(input.shape);
  int64_t size = input.shape[axis];
  int64_t stride = rowMajorStrides(input.shape)[axis];
  int64_t outer = input.numElements() / std::max<int64_t>(1, size * stride);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t inner = 0; inner < stride; ++inner) {
      int64_t base = o * size * stride + inner;
      double maximum = -std::numeric_limits<double>::infinity();
      for (int64_t i = 0; i < size; ++i)
        maximum = std::max(maximum, input.data[base + i * stride]);
      double sum = 0.0;
      for (int64_t i = 0; i < size; ++i) {
        double e = std::exp(input.data[base + i * stride] - maximum);
        output.data[base + i * stride] = e;
        sum += e;
      }
      for (int64_t i = 0; i < size; ++i)
        output.data[base + i * stride] /= sum;
    }
  return singleResult(std::move(output));
}

} // namespace

FailureOr<Results> evaluator::evaluateLinalgOp(Operation *op, Operands operands,
                                               ValueLookup lookup) {
  if (auto softmax = dyn_cast<linalg::SoftmaxOp>(op))
    return evaluateSoftmax(softmax, operands);
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp)
    return emitUnsupported(op) << "not a structured linalg op";
  if (!linalgOp.hasPureTensorSemantics())
    return emitUnsupported(op) << "linalg ops on buffers";

  // Loop ranges from the actual operand shapes, so that dynamic dimensions
  // take the sizes the values have at run time.
  SmallVector<int64_t> operandDims;
  for (const EvalTensor *operand : operands)
    llvm::append_range(operandDims, operand->shape);
  AffineMap shapesToLoops = linalgOp.getShapesToLoopsMap();
  if (!shapesToLoops)
    return emitUnsupported(op)
           << "loop ranges cannot be derived from the operand shapes";
  if (shapesToLoops.getNumDims() != operandDims.size())
    return op->emitOpError("operand ranks do not match the indexing maps");
  SmallVector<int64_t> loopRanges;
  for (AffineExpr expr : shapesToLoops.getResults()) {
    std::optional<int64_t> range = evaluateAffine(expr, operandDims);
    if (!range || *range < 0)
      return emitUnsupported(op)
             << "loop range " << AffineMapAttr::get(shapesToLoops)
             << " is not computable from the shapes";
    loopRanges.push_back(*range);
  }
  unsigned numLoops = loopRanges.size();

  // Results start as the `outs` values and are updated in place, which is
  // how reductions accumulate.
  unsigned numInputs = linalgOp.getNumDpsInputs();
  Results results;
  for (unsigned i = numInputs; i < operands.size(); ++i)
    results.push_back(*operands[i]);
  auto tensorOf = [&](unsigned operandNumber) -> const EvalTensor & {
    return operandNumber < numInputs ? *operands[operandNumber]
                                     : results[operandNumber - numInputs];
  };

  SmallVector<AffineMap> maps = linalgOp.getIndexingMapsArray();
  if (maps.size() != operands.size())
    return op->emitOpError("expects one indexing map per operand");
  SmallVector<OperandAccess> accesses(operands.size());
  for (unsigned i = 0; i < operands.size(); ++i)
    if (failed(prepareAccess(op, i, maps[i], tensorOf(i), loopRanges,
                             accesses[i])))
      return failure();

  FailureOr<ScalarProgram> program =
      ScalarProgram::compile(*linalgOp.getBlock(), lookup);
  if (failed(program))
    return failure();
  SmallVector<unsigned> argumentOperands;
  for (OpOperand *operand : linalgOp.getOpOperandsMatchingBBargs())
    argumentOperands.push_back(operand->getOperandNumber());
  if (argumentOperands.size() != program->arguments().size())
    return op->emitOpError("payload has ")
           << program->arguments().size() << " arguments for "
           << argumentOperands.size() << " operands";
  if (program->getNumYielded() != results.size())
    return op->emitOpError("payload yields ")
           << program->getNumYielded() << " values for " << results.size()
           << " outputs";

  // The innermost loop runs tight over precomputed strides; the outer loops
  // step an odometer. Non-linear maps are re-evaluated for every iteration.
  SmallVector<unsigned> order =
      chooseLoopOrder(accesses, loopRanges, linalgOp.getIteratorTypesArray());
  unsigned innermost = numLoops ? order.back() : 0;
  bool allLinear = llvm::all_of(
      accesses, [](const OperandAccess &access) { return access.isLinear; });
  int64_t innerRange = numLoops ? loopRanges[innermost] : 1;
  int64_t outerIterations =
      innerRange ? numElementsOf(loopRanges) / innerRange : 0;
  SmallVector<int64_t> ivs(numLoops, 0); // indexed by the op's loop number
  SmallVector<int64_t> offsets;
  SmallVector<int64_t> innerStrides;
  for (const OperandAccess &access : accesses) {
    offsets.push_back(access.baseOffset);
    innerStrides.push_back(numLoops ? access.loopStrides[innermost] : 0);
  }
  MutableArrayRef<double> arguments = program->arguments();
  for (int64_t outer = 0; outer < outerIterations; ++outer) {
    for (int64_t inner = 0; inner < innerRange; ++inner) {
      if (numLoops)
        ivs[innermost] = inner;
      if (!allLinear) {
        for (auto [access, offset, stride] :
             llvm::zip(accesses, offsets, innerStrides)) {
          if (access.isLinear)
            continue;
          int64_t general = generalOffset(access, ivs);
          if (general < 0)
            return op->emitOpError("indexing map ")
                   << AffineMapAttr::get(access.map)
                   << " reaches outside its operand at iteration ("
                   << llvm::make_range(ivs.begin(), ivs.end()) << ")";
          // Kept relative to the inner position, like the linear ones.
          offset = general - inner * stride;
        }
      }
      for (auto [argument, operandNumber] :
           llvm::zip(arguments, argumentOperands))
        argument = tensorOf(operandNumber)
                       .data[offsets[operandNumber] +
                             inner * innerStrides[operandNumber]];
      program->run(ivs);
      for (unsigned index = 0; index < results.size(); ++index) {
        unsigned operandNumber = numInputs + index;
        results[index].data[offsets[operandNumber] +
                            inner * innerStrides[operandNumber]] =
            program->getYielded(index);
      }
    }
    // Odometer step over the outer loops; linear offsets follow.
    for (int64_t position = static_cast<int64_t>(numLoops) - 2; position >= 0;
         --position) {
      unsigned loop = order[position];
      ++ivs[loop];
      for (auto [access, offset] : llvm::zip(accesses, offsets))
        offset += access.loopStrides[loop];
      if (ivs[loop] < loopRanges[loop])
        break;
      for (auto [access, offset] : llvm::zip(accesses, offsets))
        offset -= access.loopStrides[loop] * loopRanges[loop];
      ivs[loop] = 0;
    }
  }
  if (!program->getError().empty())
    return op->emitOpError(program->getError());
  return results;
}
