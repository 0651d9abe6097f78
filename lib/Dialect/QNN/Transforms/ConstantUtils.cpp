//===- ConstantUtils.cpp - reading and building weight constants ----------===//

#include "quant/Dialect/QNN/Transforms/ConstantUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

std::optional<std::vector<double>> qnn::getFloatValues(Attribute attr) {
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    std::vector<double> values;
    values.reserve(dense.getNumElements());
    for (APFloat v : dense.getValues<APFloat>()) {
      bool losesInfo;
      v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                &losesInfo);
      values.push_back(v.convertToDouble());
    }
    return values;
  }
  if (auto blob = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    if (std::optional<ArrayRef<float>> data = blob.tryGetAsArrayRef())
      return std::vector<double>(data->begin(), data->end());
  }
  if (auto blob = dyn_cast<DenseF64ResourceElementsAttr>(attr)) {
    if (std::optional<ArrayRef<double>> data = blob.tryGetAsArrayRef())
      return std::vector<double>(data->begin(), data->end());
  }
  return std::nullopt;
}

std::optional<std::vector<double>> qnn::getConstantFloatValues(Value value) {
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  return getFloatValues(attr);
}

std::optional<std::vector<int64_t>> qnn::getConstantIntegerValues(Value value) {
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  if (auto dense = dyn_cast<DenseIntElementsAttr>(attr)) {
    std::vector<int64_t> values;
    values.reserve(dense.getNumElements());
    for (const APInt &v : dense.getValues<APInt>())
      values.push_back(v.getSExtValue());
    return values;
  }
  auto fromBlob = [](auto blob) -> std::optional<std::vector<int64_t>> {
    if (auto data = blob.tryGetAsArrayRef())
      return std::vector<int64_t>(data->begin(), data->end());
    return std::nullopt;
  };
  if (auto blob = dyn_cast<DenseI8ResourceElementsAttr>(attr))
    return fromBlob(blob);
  if (auto blob = dyn_cast<DenseI32ResourceElementsAttr>(attr))
    return fromBlob(blob);
  return std::nullopt;
}

std::optional<::quant::Matrix> qnn::getConstantMatrix(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape())
    return std::nullopt;
  std::optional<std::vector<double>> values = getConstantFloatValues(value);
  if (!values)
    return std::nullopt;
  ::quant::Matrix matrix(type.getDimSize(0), type.getDimSize(1));
  matrix.data = std::move(*values);
  return matrix;
}

DenseElementsAttr qnn::getFloatElements(RankedTensorType type,
                                        ArrayRef<double> values) {
  auto floatType = cast<FloatType>(type.getElementType());
  if (floatType.isF32()) {
    SmallVector<float> narrowed(values.begin(), values.end());
    return DenseElementsAttr::get(type, ArrayRef<float>(narrowed));
  }
  if (floatType.isF64())
    return DenseElementsAttr::get(type, values);
  SmallVector<APFloat> converted;
  converted.reserve(values.size());
  for (double v : values) {
    APFloat f(v);
    bool losesInfo;
    f.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
              &losesInfo);
    converted.push_back(f);
  }
  return DenseElementsAttr::get(type, converted);
}

Value qnn::createFloatConstant(OpBuilder &builder, Location loc,
                               RankedTensorType type,
                               ArrayRef<double> values) {
  return arith::ConstantOp::create(builder, loc, type,
                                   getFloatElements(type, values));
}

Value qnn::createMatrixConstant(OpBuilder &builder, Location loc,
                                Type elementType,
                                const ::quant::Matrix &matrix) {
  return createFloatConstant(
      builder, loc,
      RankedTensorType::get({matrix.rows, matrix.cols}, elementType),
      matrix.data);
}

Value qnn::createIntegerConstant(OpBuilder &builder, Location loc,
                                 RankedTensorType type,
                                 ArrayRef<int32_t> values) {
  unsigned width = type.getElementTypeBitWidth();
  SmallVector<APInt> converted;
  converted.reserve(values.size());
  for (int32_t v : values)
    converted.push_back(APInt(width, static_cast<uint64_t>(int64_t(v)),
                              /*isSigned=*/true, /*implicitTrunc=*/true));
  return arith::ConstantOp::create(builder, loc, type,
                                   DenseElementsAttr::get(type, converted));
}

void qnn::eraseDeadConstant(Value value) {
  Operation *op = value.getDefiningOp();
  if (op && op->use_empty() && matchPattern(value, m_Constant()))
    op->erase();
}
