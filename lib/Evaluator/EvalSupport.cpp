//===- EvalSupport.cpp - shapes, numeric conventions, constants -----------===//

#include "EvaluatorInternal.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/APFloat.h"

#include <cmath>
#include <cstring>
#include <limits>

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::evaluator;

InFlightDiagnostic evaluator::emitUnsupported(Operation *op) {
  return op->emitOpError("cannot be evaluated: ");
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

int64_t evaluator::numElementsOf(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t size : shape)
    count *= size;
  return count;
}

SmallVector<int64_t> evaluator::rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t dim = static_cast<int64_t>(shape.size()) - 2; dim >= 0; --dim)
    strides[dim] = strides[dim + 1] * shape[dim + 1];
  return strides;
}

std::string evaluator::formatShape(ArrayRef<int64_t> shape) {
  if (shape.empty())
    return "scalar";
  std::string text;
  for (auto [index, size] : llvm::enumerate(shape)) {
    if (index)
      text += "x";
    text += std::to_string(size);
  }
  return text;
}

LogicalResult evaluator::checkShape(Operation *op, const EvalTensor &value,
                                    ArrayRef<int64_t> shape, StringRef what) {
  if (ArrayRef<int64_t>(value.shape) == shape)
    return success();
  return op->emitOpError() << what << " has shape " << formatShape(value.shape)
                           << ", expected " << formatShape(shape);
}

SmallVector<int64_t> evaluator::resolveShape(ShapedType type,
                                             ArrayRef<int64_t> known) {
  SmallVector<int64_t> shape(type.getShape());
  for (auto [dim, size] : llvm::enumerate(shape))
    if (ShapedType::isDynamic(size) && dim < known.size())
      size = known[dim];
  return shape;
}

FailureOr<int64_t> evaluator::resolveIndex(Operation *op, OpFoldResult value,
                                           ValueLookup lookup) {
  if (auto attr = dyn_cast<Attribute>(value)) {
    if (auto integer = dyn_cast<IntegerAttr>(attr))
      return integer.getInt();
    return op->emitOpError("expected an integer attribute, got ") << attr;
  }
  const EvalTensor *scalar = lookup(cast<Value>(value));
  if (!scalar || scalar->data.size() != 1)
    return op->emitOpError("a dynamic size or offset has no scalar value");
  return toInt64(scalar->data.front());
}

//===----------------------------------------------------------------------===//
// Numeric conventions
//===----------------------------------------------------------------------===//

double evaluator::roundHalfToEven(double x) {
  if (!std::isfinite(x))
    return x;
  double floor = std::floor(x);
  double fraction = x - floor;
  if (fraction > 0.5)
    return floor + 1.0;
  if (fraction < 0.5)
    return floor;
  return std::fmod(floor, 2.0) == 0.0 ? floor : floor + 1.0;
}

static double apFloatToDouble(APFloat value) {
  bool losesInfo = false;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                &losesInfo);
  return value.convertToDouble();
}

double evaluator::roundToFloatType(double x, FloatType type) {
  if (type.isF64())
    return x;
  // The host conversion rounds to nearest-even; APFloat covers the types the
  // host lacks (f16, bf16, the f8 family) with the same rounding.
  if (type.isF32())
    return static_cast<double>(static_cast<float>(x));
  APFloat value(x);
  bool losesInfo = false;
  value.convert(type.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                &losesInfo);
  return apFloatToDouble(value);
}

unsigned evaluator::getIntegerWidth(Type type) {
  if (auto integer = dyn_cast<IntegerType>(type))
    return integer.getWidth();
  if (isa<IndexType>(type))
    return 64;
  return 0;
}

int64_t evaluator::toInt64(double x) {
  if (std::isnan(x))
    return 0;
  // 2^63 is exactly representable; every double below it converts safely.
  constexpr double kTwoTo63 = 9223372036854775808.0;
  if (x >= kTwoTo63)
    return std::numeric_limits<int64_t>::max();
  if (x < -kTwoTo63)
    return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(x);
}

int64_t evaluator::wrapSignedInt(int64_t value, unsigned width) {
  if (width == 0 || width >= 64)
    return value;
  uint64_t bits = static_cast<uint64_t>(value) & ((uint64_t(1) << width) - 1);
  if (width == 1)
    return static_cast<int64_t>(bits);
  if (bits & (uint64_t(1) << (width - 1)))
    return static_cast<int64_t>(bits) - (int64_t(1) << width);
  return static_cast<int64_t>(bits);
}

uint64_t evaluator::unsignedBits(double x, unsigned width) {
  uint64_t bits = static_cast<uint64_t>(toInt64(x));
  if (width == 0 || width >= 64)
    return bits;
  return bits & ((uint64_t(1) << width) - 1);
}

double evaluator::wrapSigned(double x, unsigned width) {
  return static_cast<double>(wrapSignedInt(toInt64(x), width));
}

double evaluator::wrapUnsigned(double x, unsigned width) {
  return static_cast<double>(unsignedBits(x, width));
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

/// The canonical double of one integer element of an attribute.
static double integerElementToDouble(const APInt &value) {
  if (value.getBitWidth() == 1)
    return value.getBoolValue() ? 1.0 : 0.0;
  return static_cast<double>(value.getSExtValue());
}

static LogicalResult readDenseElements(Operation *op, DenseElementsAttr dense,
                                       std::vector<double> &data) {
  Type elementType = dense.getElementType();
  size_t index = 0;
  if (elementType.isF32()) {
    for (float value : dense.getValues<float>())
      data[index++] = value;
    return success();
  }
  if (elementType.isF64()) {
    for (double value : dense.getValues<double>())
      data[index++] = value;
    return success();
  }
  if (isa<FloatType>(elementType)) {
    for (const APFloat &value : dense.getValues<APFloat>())
      data[index++] = apFloatToDouble(value);
    return success();
  }
  if (unsigned width = getIntegerWidth(elementType)) {
    if (width > 64)
      return emitUnsupported(op) << "integer constants wider than 64 bits";
    for (const APInt &value : dense.getValues<APInt>())
      data[index++] = integerElementToDouble(value);
    return success();
  }
  return emitUnsupported(op) << "constant elements of type " << elementType;
}

template <typename T>
static void decodeBlob(ArrayRef<char> bytes, std::vector<double> &data) {
  for (size_t i = 0; i < data.size(); ++i) {
    T value;
    std::memcpy(&value, bytes.data() + i * sizeof(T), sizeof(T));
    data[i] = static_cast<double>(value);
  }
}

/// Resource blobs hold elements in host layout, one per byte or more (bools
/// take a byte each), with no splat form.
static LogicalResult readResourceElements(Operation *op,
                                          DenseResourceElementsAttr resource,
                                          std::vector<double> &data) {
  const AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return op->emitOpError("dense_resource '")
           << resource.getRawHandle().getKey()
           << "' has no data (was the resource elided?)";
  ArrayRef<char> bytes = blob->getData();
  Type elementType = resource.getType().getElementType();

  size_t elementBytes = 0;
  if (auto floatType = dyn_cast<FloatType>(elementType))
    elementBytes = floatType.getWidth() / 8;
  else if (unsigned width = getIntegerWidth(elementType))
    elementBytes = width == 1 ? 1 : width / 8;
  bool knownLayout =
      elementType.isF16() || elementType.isBF16() || elementType.isF32() ||
      elementType.isF64() ||
      llvm::is_contained({1u, 8u, 16u, 32u, 64u}, getIntegerWidth(elementType));
  if (!knownLayout)
    return emitUnsupported(op)
           << "dense_resource elements of type " << elementType;
  if (bytes.size() != data.size() * elementBytes)
    return op->emitOpError("dense_resource '")
           << resource.getRawHandle().getKey() << "' holds " << bytes.size()
           << " bytes, expected " << data.size() * elementBytes << " for "
           << resource.getType();

  if (elementType.isF32())
    decodeBlob<float>(bytes, data);
  else if (elementType.isF64())
    decodeBlob<double>(bytes, data);
  else if (elementType.isF16() || elementType.isBF16()) {
    const llvm::fltSemantics &semantics =
        cast<FloatType>(elementType).getFloatSemantics();
    for (size_t i = 0; i < data.size(); ++i) {
      uint16_t bits;
      std::memcpy(&bits, bytes.data() + i * 2, 2);
      data[i] = apFloatToDouble(APFloat(semantics, APInt(16, bits)));
    }
  } else {
    switch (getIntegerWidth(elementType)) {
    case 1:
      for (size_t i = 0; i < data.size(); ++i)
        data[i] = bytes[i] != 0 ? 1.0 : 0.0;
      break;
    case 8:
      decodeBlob<int8_t>(bytes, data);
      break;
    case 16:
      decodeBlob<int16_t>(bytes, data);
      break;
    case 32:
      decodeBlob<int32_t>(bytes, data);
      break;
    default:
      decodeBlob<int64_t>(bytes, data);
      break;
    }
  }
  return success();
}

FailureOr<EvalTensor> evaluator::readElementsAttr(Operation *op,
                                                  ElementsAttr attr) {
  auto type = dyn_cast<RankedTensorType>(attr.getShapedType());
  if (!type || !type.hasStaticShape())
    return emitUnsupported(op) << "constant of type " << attr.getShapedType()
                               << " (expected a statically shaped tensor)";
  EvalTensor result(type.getShape());
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (failed(readDenseElements(op, dense, result.data)))
      return failure();
    return result;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    if (failed(readResourceElements(op, resource, result.data)))
      return failure();
    return result;
  }
  return emitUnsupported(op) << "elements attribute " << attr;
}

FailureOr<EvalTensor> evaluator::readScalarAttr(Operation *op, Attribute attr) {
  EvalTensor result(ArrayRef<int64_t>{});
  if (auto floatAttr = dyn_cast<FloatAttr>(attr)) {
    result.data[0] = apFloatToDouble(floatAttr.getValue());
    return result;
  }
  if (auto intAttr = dyn_cast<IntegerAttr>(attr)) {
    if (getIntegerWidth(intAttr.getType()) > 64)
      return emitUnsupported(op) << "integer constants wider than 64 bits";
    result.data[0] = integerElementToDouble(intAttr.getValue());
    return result;
  }
  return emitUnsupported(op) << "constant attribute " << attr;
}
