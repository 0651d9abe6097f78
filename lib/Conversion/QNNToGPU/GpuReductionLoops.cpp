//===- GpuReductionLoops.cpp - reductions with register accumulators ------===//
//
// linalg's loop lowering keeps a reduction's accumulator in its output
// buffer: every step loads it, adds, and stores it back. On the GPU that
// is a dependence through global memory per element, which LLVM cannot
// break (the kernel's buffers may alias as far as it knows). Carrying the
// accumulator through scf.for keeps it in a register, which is what linalg
// semantics allow: the output's initial value is read once and the result
// written once.
//
//===----------------------------------------------------------------------===//

#include "quant/Conversion/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace mlir {
namespace qnn {
#define GEN_PASS_DEF_QNNGPUREDUCTIONLOOPS
#include "quant/Conversion/Passes.h.inc"
} // namespace qnn
} // namespace mlir

using namespace mlir;

namespace {

/// The number of leading parallel dimensions of a generic whose remaining
/// dimensions all reduce, or nullopt for any other iteration space (or
/// none reducing).
std::optional<unsigned> parallelPrefix(linalg::GenericOp op) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned parallel = 0;
  while (parallel < iterators.size() &&
         iterators[parallel] == utils::IteratorType::parallel)
    ++parallel;
  if (parallel == 0 || parallel == iterators.size() ||
      llvm::any_of(ArrayRef(iterators).drop_front(parallel),
                   [](utils::IteratorType t) {
                     return t != utils::IteratorType::reduction;
                   }))
    return std::nullopt;
  return parallel;
}

SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map,
                            ValueRange ivs) {
  SmallVector<Value> indices;
  for (unsigned i = 0; i < map.getNumResults(); ++i)
    indices.push_back(
        affine::AffineApplyOp::create(b, loc, map.getSubMap({i}), ivs));
  return indices;
}

/// The generic's body at iteration `ivs`, on the loaded inputs and `acc`.
Value emitBody(OpBuilder &b, Location loc, linalg::GenericOp op, ValueRange ivs,
               Value acc) {
  Block &body = op.getRegion().front();
  IRMapping mapping;
  for (OpOperand *input : op.getDpsInputOperands()) {
    Value value = input->get();
    if (isa<MemRefType>(value.getType()))
      value = memref::LoadOp::create(
          b, loc, value,
          applyMap(b, loc, op.getMatchingIndexingMap(input), ivs));
    mapping.map(body.getArgument(input->getOperandNumber()), value);
  }
  mapping.map(body.getArguments().back(), acc);
  for (Operation &nested : body.without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(nested)) {
      mapping.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(nested, mapping);
  }
  return mapping.lookupOrDefault(body.getTerminator()->getOperand(0));
}

/// scf.for loops over the reduction dimensions from `dim` on, carrying the
/// accumulator.
Value emitReduction(OpBuilder &b, Location loc, linalg::GenericOp op,
                    ArrayRef<Range> ranges, SmallVectorImpl<Value> &ivs,
                    unsigned dim, Value acc) {
  if (dim == ranges.size())
    return emitBody(b, loc, op, ivs, acc);
  auto value = [&](OpFoldResult v) {
    return getValueOrCreateConstantIndexOp(b, loc, v);
  };
  auto loop = scf::ForOp::create(
      b, loc, value(ranges[dim].offset), value(ranges[dim].size),
      value(ranges[dim].stride), acc,
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange args) {
        ivs.push_back(iv);
        Value next = emitReduction(nb, nl, op, ranges, ivs, dim + 1, args[0]);
        ivs.pop_back();
        scf::YieldOp::create(nb, nl, next);
      });
  return loop.getResult(0);
}

LogicalResult lowerReduction(linalg::GenericOp op) {
  std::optional<unsigned> parallel = parallelPrefix(op);
  if (!parallel || !op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getRegion().front().getTerminator()->getNumOperands() != 1)
    return failure();
  OpOperand *output = op.getDpsInitOperand(0);
  AffineMap outputMap = op.getMatchingIndexingMap(output);
  if (!outputMap.isProjectedPermutation() ||
      llvm::any_of(outputMap.getResults(), [&](AffineExpr e) {
        return cast<AffineDimExpr>(e).getPosition() >= *parallel;
      }))
    return failure();

  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Range> ranges =
      cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc);
  auto value = [&](OpFoldResult v) {
    return getValueOrCreateConstantIndexOp(b, loc, v);
  };
  SmallVector<Value> lbs, ubs, steps;
  for (const Range &range : ArrayRef(ranges).take_front(*parallel)) {
    lbs.push_back(value(range.offset));
    ubs.push_back(value(range.size));
    steps.push_back(value(range.stride));
  }
  scf::ParallelOp::create(
      b, loc, lbs, ubs, steps,
      [&](OpBuilder &pb, Location pl, ValueRange parallelIvs) {
        // The output map reads parallel dimensions only: any value stands
        // in for the reduction ones.
        SmallVector<Value> ivs(parallelIvs);
        SmallVector<Value> placeholders(ivs);
        placeholders.append(ranges.size() - *parallel, ivs.front());
        SmallVector<Value> outputIndices =
            applyMap(pb, pl, outputMap, placeholders);
        Value init =
            memref::LoadOp::create(pb, pl, output->get(), outputIndices);
        Value result = emitReduction(pb, pl, op, ranges, ivs, *parallel, init);
        memref::StoreOp::create(pb, pl, result, output->get(), outputIndices);
      });
  op.erase();
  return success();
}

struct QNNGpuReductionLoopsPass
    : public qnn::impl::QNNGpuReductionLoopsBase<QNNGpuReductionLoopsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> generics;
    getOperation().walk([&](linalg::GenericOp op) { generics.push_back(op); });
    for (linalg::GenericOp op : generics)
      (void)lowerReduction(op);
  }
};

} // namespace
