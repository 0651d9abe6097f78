//===- QNNCanonicalize.td - qnn canonicalization patterns --*- tablegen -*-===//

#ifndef QUANT_DIALECT_QNN_IR_QNNCANONICALIZE_TD
#define QUANT_DIALECT_QNN_IR_QNNCANONICALIZE_TD

include "mlir/IR/PatternBase.td"
include "quant/Dialect/QNN/IR/QNNOps.td"

def SameAxis : Constraint<CPred<"$0 == $1">, "scales along the same axis">;
def MultiplyFactors
    : NativeCodeCall<"multiplyFactors($_builder, $0, $1)">;

// scale(scale(x, a), b) along one axis == scale(x, a ⊙ b).
def FoldConsecutiveScales
    : Pat<(QNN_ScaleOp (QNN_ScaleOp $x, $axis, $inner), $outerAxis, $outer),
          (QNN_ScaleOp $x, $axis, (MultiplyFactors $inner, $outer)),
          [(SameAxis $axis, $outerAxis)]>;

#endif // QUANT_DIALECT_QNN_IR_QNNCANONICALIZE_TD
