//===- QNNBase.td - qnn dialect definition -----------------*- tablegen -*-===//
//
// The `qnn` dialect: quantized neural-network operations that upstream MLIR
// lacks (rotations, smoothing scales, mixed-precision matmul/conv, sparse
// pillar convolution). Quantized element types reuse upstream `!quant.*`.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_DIALECT_QNN_IR_QNNBASE_TD
#define QUANT_DIALECT_QNN_IR_QNNBASE_TD

include "mlir/IR/OpBase.td"

def QNN_Dialect : Dialect {
  let name = "qnn";
  let cppNamespace = "::mlir::qnn";
  let summary = "Quantized neural-network operations";
  let description = [{
    Operations for low-bit inference: online Hadamard and explicit
    rotations, per-channel smoothing scales, quantize/dequantize with static
    or dynamic per-token scales, mixed-precision matmul and convolution with
    per-channel or group-wise weight scales, and sparse pillar convolution.

    Conventions shared by the quantized ops:
    * Quantized weights are integer tensors in their logical shape
      (`tensor<KxNxi4>`); sub-byte packing is a lowering concern.
    * Symmetric weights use signed storage; asymmetric weights use unsigned
      storage plus a `zero_points` operand.
    * Weight scales have shape `[G, N]` where `G` groups split the reduction
      dimension `K`; `G == 1` is per-output-channel, otherwise `K / G` is
      the group size (32, 64 or 128).
  }];
  let dependentDialects = ["::mlir::quant::QuantDialect"];
  let useDefaultAttributePrinterParser = 1;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let extraClassDeclaration = [{
    /// Name of the discardable attribute holding calibration statistics.
    static constexpr ::llvm::StringLiteral getCalibStatsAttrName() {
      return "qnn.calib_stats";
    }
    /// Name of the discardable attribute holding a layer's allocated weight
    /// bit-width (set by --qnn-allocate-bits).
    static constexpr ::llvm::StringLiteral getBitsAttrName() {
      return "qnn.bits";
    }
  }];
}

class QNN_Op<string mnemonic, list<Trait> traits = []>
    : Op<QNN_Dialect, mnemonic, traits>;

#endif // QUANT_DIALECT_QNN_IR_QNNBASE_TD
