//===- LowerPillarConv.h - qnn.pillar_conv to micro-kernels -----*- C++ -*-===//
//
// Part of --qnn-lower-to-ukernels (LowerToUKernels.cpp runs the conversion).
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_LIB_CONVERSION_QNNTOCPU_LOWERPILLARCONV_H
#define QUANT_LIB_CONVERSION_QNNTOCPU_LOWERPILLARCONV_H

#include "mlir/Support/LLVM.h"

namespace mlir {
class RewritePatternSet;
class TypeConverter;

namespace qnn {
class PillarConvOp;

/// Reports, before any rewriting, why `op` cannot be lowered to the CPU
/// kernels (operand types, non-constant weights), or succeeds.
LogicalResult checkPillarConvLowerable(PillarConvOp op);

/// qnn.pillar_conv → the rulebook kernel, then the conv kernel on a result
/// whose row count the rulebook returns at run time.
void populateLowerPillarConvPatterns(const TypeConverter &converter,
                                     RewritePatternSet &patterns);

} // namespace qnn
} // namespace mlir

#endif // QUANT_LIB_CONVERSION_QNNTOCPU_LOWERPILLARCONV_H
