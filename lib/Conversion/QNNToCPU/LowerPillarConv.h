//===- LowerPillarConv.h - qnn.pillar_conv to micro-kernels -----*- C++ -*-===//
//
// Part of --qnn-lower-to-ukernels (LowerToUKernels.cpp runs the conversion).
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_LIB_CONVERSION_QNNTOCPU_LOWERPILLARCONV_H
#define QUANT_LIB_CONVERSION_QNNTOCPU_LOWERPILLARCONV_H

#include "quant/Conversion/Passes.h"

#include "mlir/Support/LLVM.h"

namespace mlir {
class RewritePatternSet;
class TypeConverter;

namespace qnn {
class PillarConvOp;

/// Reports, before any rewriting, why `op` cannot be lowered to `target`'s
/// kernels (operand types, non-constant weights, weight layouts), or
/// succeeds.
LogicalResult checkPillarConvLowerable(PillarConvOp op, KernelTarget target);

/// qnn.pillar_conv → the rulebook kernel, then the conv kernel on a result
/// whose row count the rulebook returns at run time.
void populateLowerPillarConvPatterns(const TypeConverter &converter,
                                     RewritePatternSet &patterns,
                                     KernelTarget target);

} // namespace qnn
} // namespace mlir

#endif // QUANT_LIB_CONVERSION_QNNTOCPU_LOWERPILLARCONV_H
