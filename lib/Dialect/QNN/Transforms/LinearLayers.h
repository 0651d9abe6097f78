//===- LinearLayers.h - activations and the linear layers they feed -*- C++ -*-===//
//
// Smoothing and rotation both rewrite X·W as (X·T)·(T⁻¹·W) for every float
// qnn.matmul with a constant 2-D weight that reads X, and both try to fold
// X·T into X's producer. This file finds those groups and producers.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_LIB_DIALECT_QNN_TRANSFORMS_LINEARLAYERS_H
#define QUANT_LIB_DIALECT_QNN_TRANSFORMS_LINEARLAYERS_H

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Quantization/Matrix.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir {
namespace qnn {

/// The float matmuls with constant [K, N] weights reading one activation.
struct LinearConsumers {
  Value activation;
  SmallVector<MatmulOp> matmuls;
  SmallVector<::quant::Matrix> weights; // one per matmul, K×N

  /// True when the matmuls are the activation's only users, so a transform
  /// of the activation may be folded into its producer.
  bool usedOnlyByMatmuls() const;
  /// All weights side by side: K × ΣN.
  ::quant::Matrix concatenatedWeights() const;
};

/// Groups in program order.
SmallVector<LinearConsumers> collectLinearConsumers(func::FuncOp func);

/// A producing qnn.matmul whose output columns can absorb a right-multiply:
/// float, constant 2-D weight, constant (or no) bias, and an epilogue that
/// commutes with the transform (`allowRelu`: positive diagonal scalings
/// commute with relu, rotations do not).
struct FoldableProducer {
  MatmulOp matmul;
  ::quant::Matrix weight;            // K_prev × K
  std::optional<std::vector<double>> bias;
};
std::optional<FoldableProducer> getFoldableProducer(Value activation,
                                                    bool allowRelu);

/// Replaces the producer's weight (and bias) by the given values.
void rewriteProducer(OpBuilder &builder, const FoldableProducer &producer,
                     const ::quant::Matrix &weight,
                     const std::optional<std::vector<double>> &bias);

/// Replaces operand 1 of `matmul` by a constant holding `weight`.
void replaceWeight(OpBuilder &builder, MatmulOp matmul,
                   const ::quant::Matrix &weight);

} // namespace qnn
} // namespace mlir

#endif // QUANT_LIB_DIALECT_QNN_TRANSFORMS_LINEARLAYERS_H
