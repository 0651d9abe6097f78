//===- QNNDialect.cpp - qnn dialect and attributes ------------------------===//

#include "quant/Dialect/QNN/IR/QNN.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::qnn;

#include "quant/Dialect/QNN/IR/QNNOpsDialect.cpp.inc"
#include "quant/Dialect/QNN/IR/QNNEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "quant/Dialect/QNN/IR/QNNAttrs.cpp.inc"

void QNNDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "quant/Dialect/QNN/IR/QNNAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "quant/Dialect/QNN/IR/QNNOps.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// Attribute verifiers
//===----------------------------------------------------------------------===//

LogicalResult
PrecisionSplitAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                           unsigned lowBits, ArrayRef<int64_t> highColumns) {
  if (highColumns.empty())
    return emitError() << "precision split needs at least one high column";
  if (lowBits < 2 || lowBits > 4)
    return emitError() << "precision split low_bits must be 2, 3 or 4, got "
                       << lowBits;
  for (size_t i = 0; i < highColumns.size(); ++i) {
    if (highColumns[i] < 0)
      return emitError() << "precision split column " << highColumns[i]
                         << " is negative";
    if (i > 0 && highColumns[i] <= highColumns[i - 1])
      return emitError()
             << "precision split high_columns must be strictly increasing";
  }
  return success();
}

LogicalResult CalibStatsAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, int64_t axis, int64_t samples,
    DenseF64ArrayAttr absmaxAttr, DenseF64ArrayAttr minAttr,
    DenseF64ArrayAttr maxAttr, APFloat percentileValue,
    DenseF64ArrayAttr percentileAbsmaxAttr) {
  ArrayRef<double> absmax = absmaxAttr.asArrayRef(), min = minAttr.asArrayRef(),
                   max = maxAttr.asArrayRef(),
                   percentileAbsmax = percentileAbsmaxAttr.asArrayRef();
  double percentile = percentileValue.convertToDouble();
  if (axis < 0)
    return emitError() << "calib_stats axis must be non-negative";
  if (samples <= 0)
    return emitError() << "calib_stats needs at least one sample";
  if (absmax.empty())
    return emitError() << "calib_stats needs at least one channel";
  if (min.size() != absmax.size() || max.size() != absmax.size() ||
      percentileAbsmax.size() != absmax.size())
    return emitError() << "calib_stats arrays must all have " << absmax.size()
                       << " channels";
  if (!(percentile > 0.0 && percentile <= 100.0))
    return emitError() << "calib_stats percentile must be in (0, 100]";
  for (size_t c = 0; c < absmax.size(); ++c) {
    if (min[c] > max[c])
      return emitError() << "calib_stats channel " << c << " has min > max";
    if (absmax[c] != std::max(-min[c], max[c]))
      return emitError() << "calib_stats channel " << c
                         << " absmax is not max(|min|, |max|)";
    if (percentileAbsmax[c] < 0.0 || percentileAbsmax[c] > absmax[c])
      return emitError() << "calib_stats channel " << c
                         << " percentile_absmax must lie in [0, absmax]";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Discardable attributes
//===----------------------------------------------------------------------===//

LogicalResult QNNDialect::verifyOperationAttribute(Operation *op,
                                                   NamedAttribute attr) {
  if (attr.getName() == getBitsAttrName()) {
    auto bits = dyn_cast<IntegerAttr>(attr.getValue());
    if (!bits || !llvm::is_contained({2, 3, 4, 8}, bits.getInt()))
      return op->emitError("'")
             << getBitsAttrName() << "' must be an integer in {2, 3, 4, 8}";
    if (!isa<MatmulOp, Conv2DOp, PillarConvOp>(op))
      return op->emitError("'")
             << getBitsAttrName()
             << "' applies to qnn.matmul, qnn.conv2d and qnn.pillar_conv";
    return success();
  }
  if (attr.getName() != getCalibStatsAttrName())
    return op->emitError("unknown qnn attribute '")
           << attr.getName().getValue() << "'";
  auto stats = dyn_cast<CalibStatsAttr>(attr.getValue());
  if (!stats)
    return op->emitError("'") << getCalibStatsAttrName()
                              << "' must be a #qnn.calib_stats attribute";
  if (op->getNumOperands() == 0)
    return op->emitError("'") << getCalibStatsAttrName()
                              << "' describes the first operand, but the op "
                                 "has none";
  auto observed = dyn_cast<RankedTensorType>(op->getOperand(0).getType());
  if (!observed)
    return op->emitError("'") << getCalibStatsAttrName()
                              << "' needs a ranked tensor first operand";
  if (stats.getAxis() >= observed.getRank())
    return op->emitError("calib_stats axis ")
           << stats.getAxis() << " is out of range for rank "
           << observed.getRank();
  int64_t channels = observed.getDimSize(stats.getAxis());
  if (!ShapedType::isDynamic(channels) && channels != stats.getNumChannels())
    return op->emitError("calib_stats has ")
           << stats.getNumChannels() << " channels but the operand has "
           << channels << " along axis " << stats.getAxis();
  return success();
}

LogicalResult QNNDialect::verifyRegionArgAttribute(Operation *op, unsigned,
                                                   unsigned,
                                                   NamedAttribute attr) {
  return op->emitError("qnn attribute '")
         << attr.getName().getValue()
         << "' is not valid on a region argument";
}
