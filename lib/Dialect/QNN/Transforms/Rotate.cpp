//===- Rotate.cpp - QuaRot/DFRot rotations of linear layers ---------------===//

#include "Calibration.h"
#include "quant/Dialect/QNN/Transforms/ConstantUtils.h"
#include "LinearLayers.h"

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Dialect/QNN/Transforms/Passes.h"
#include "quant/Quantization/Transforms.h"
#include "quant/Support/Hadamard.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/StringSwitch.h"

namespace mlir::qnn {
#define GEN_PASS_DEF_QNNROTATE
#include "quant/Dialect/QNN/Transforms/Passes.h.inc"
} // namespace mlir::qnn

using namespace mlir;
using namespace mlir::qnn;

namespace {

enum class RotationKind { Hadamard, RandomOrthogonal, Procrustes };

std::optional<RotationKind> parseKind(StringRef kind) {
  return llvm::StringSwitch<std::optional<RotationKind>>(kind)
      .Case("hadamard", RotationKind::Hadamard)
      .Case("random-orthogonal", RotationKind::RandomOrthogonal)
      .Case("procrustes", RotationKind::Procrustes)
      .Default(std::nullopt);
}

/// An orthogonal R for one activation; `signs` is set when R = D·H/√K.
struct Rotation {
  ::quant::Matrix matrix;
  std::optional<std::vector<int8_t>> signs;
};

struct QNNRotatePass : qnn::impl::QNNRotateBase<QNNRotatePass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// Applies X·R to the activation: folded into `producer` when there is
  /// one, else online.
  void rotateActivation(OpBuilder &builder, const LinearConsumers &group,
                        const std::optional<FoldableProducer> &producer,
                        const Rotation &rotation);
};

/// The matmul X·R can fold into: X's producer, when only the group's
/// matmuls read X.
std::optional<FoldableProducer>
exclusiveProducer(const LinearConsumers &group) {
  if (!group.usedOnlyByMatmuls())
    return std::nullopt;
  return getFoldableProducer(group.activation, /*allowRelu=*/false);
}

void QNNRotatePass::rotateActivation(
    OpBuilder &builder, const LinearConsumers &group,
    const std::optional<FoldableProducer> &producer, const Rotation &rotation) {
  const ::quant::Matrix &r = rotation.matrix;
  if (producer) {
    std::optional<std::vector<double>> bias;
    if (producer->bias) {
      ::quant::Matrix row(1, r.rows);
      row.data = *producer->bias;
      bias = ::quant::matmul(row, r).data;
    }
    rewriteProducer(builder, *producer, ::quant::matmul(producer->weight, r),
                    bias);
    return;
  }
  builder.setInsertionPointAfterValue(group.activation);
  Location loc = group.activation.getLoc();
  auto type = cast<RankedTensorType>(group.activation.getType());
  Value rotated;
  if (rotation.signs) {
    rotated = HadamardOp::create(builder, loc, type, group.activation,
                                 builder.getDenseI8ArrayAttr(*rotation.signs));
  } else {
    auto matrixType =
        RankedTensorType::get({r.rows, r.cols}, type.getElementType());
    rotated = RotateOp::create(
        builder, loc, type, group.activation,
        cast<ElementsAttr>(getFloatElements(matrixType, r.data)));
  }
  for (MatmulOp matmul : group.matmuls)
    matmul.getInputMutable().assign(rotated);
}

void QNNRotatePass::runOnOperation() {
  func::FuncOp func = getOperation();
  std::optional<RotationKind> rotationKind = parseKind(kind);
  if (!rotationKind) {
    func.emitError("--qnn-rotate kind must be hadamard, random-orthogonal or "
                   "procrustes, got '")
        << kind << "'";
    return signalPassFailure();
  }
  if (*rotationKind == RotationKind::Procrustes && abits != 4 && abits != 8) {
    func.emitError("--qnn-rotate abits must be 4 or 8, got ")
        << static_cast<unsigned>(abits);
    return signalPassFailure();
  }
  SmallVector<LinearConsumers> groups = collectLinearConsumers(func);
  if (groups.empty())
    return;

  llvm::DenseMap<Value, ::quant::Matrix> samples;
  if (*rotationKind == RotationKind::Procrustes) {
    SmallVector<Value> activations = llvm::map_to_vector(
        groups, [](const LinearConsumers &g) { return g.activation; });
    FailureOr<llvm::DenseMap<Value, ::quant::Matrix>> collected =
        collectActivations(func, calibration, "--qnn-rotate calibration",
                           activations);
    if (failed(collected))
      return signalPassFailure();
    samples = std::move(*collected);
  }

  OpBuilder builder(&getContext());
  for (auto [index, group] : llvm::enumerate(groups)) {
    int64_t k = group.weights.front().rows;
    uint64_t groupSeed = seed + index;
    bool hadamardSize = ::quant::isSupportedHadamardSize(k);
    if (*rotationKind == RotationKind::Hadamard && !hadamardSize) {
      group.matmuls.front().emitRemark("not rotated: no Hadamard matrix of "
                                       "order ")
          << k << "; use kind=random-orthogonal";
      continue;
    }

    std::optional<FoldableProducer> producer = exclusiveProducer(group);
    Rotation rotation;
    if (*rotationKind == RotationKind::RandomOrthogonal || !hadamardSize) {
      rotation.matrix = ::quant::randomOrthogonal(k, groupSeed);
    } else {
      std::vector<int8_t> signs;
      rotation.matrix = ::quant::randomizedHadamard(k, groupSeed, &signs);
      rotation.signs = std::move(signs);
    }
    // As DFRot: a rotation that stays online keeps its O(K log K)
    // Hadamard transform unless asked; refining it makes it a dense O(K²)
    // product a token.
    bool refine = producer || refineOnline || !rotation.signs;
    if (*rotationKind == RotationKind::Procrustes && refine) {
      rotation.matrix = ::quant::procrustesRefine(
          samples.lookup(group.activation), rotation.matrix, abits, iterations,
          massiveWeight, massiveThreshold);
      rotation.signs.reset();
    }

    ::quant::Matrix rotationT = rotation.matrix.transposed();
    for (auto [matmul, weight] : llvm::zip(group.matmuls, group.weights))
      replaceWeight(builder, matmul, ::quant::matmul(rotationT, weight));
    rotateActivation(builder, group, producer, rotation);
  }
}

} // namespace
