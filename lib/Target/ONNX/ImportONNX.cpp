//===- ImportONNX.cpp - ONNX protobuf to linalg on tensors ----------------===//
//
// Reading and validating the ModelProto, tensors and graph signature; the
// per-op conversions are in ElementwiseOps.cpp, NNOps.cpp and ShapeOps.cpp.
//
//===----------------------------------------------------------------------===//

#include "quant/Target/ONNX/ImportONNX.h"

#include "ONNXImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Tools/mlir-translate/Translation.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include "onnx/onnx_pb.h"

#include <cstring>
#include <limits>

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::onnx_import;

namespace {

constexpr int64_t kMinOpset = 9;
constexpr int64_t kMaxOpset = 18;
/// Larger tensors are not plausible model weights: a corrupted dims field.
constexpr int64_t kMaxElements = int64_t(1) << 34;
/// Float constants with more elements become dense_resource blobs.
constexpr int64_t kMaxInlineElements = 16;

} // namespace

//===----------------------------------------------------------------------===//
// Data types and import-time tensors
//===----------------------------------------------------------------------===//

Type onnx_import::getElementType(MLIRContext *context, DataType type) {
  Builder b(context);
  switch (type) {
  case DataType::Float:
    return b.getF32Type();
  case DataType::Double:
    return b.getF64Type();
  case DataType::Float16:
    return b.getF16Type();
  case DataType::BFloat16:
    return b.getBF16Type();
  case DataType::Int8:
  case DataType::UInt8:
    return b.getI8Type();
  case DataType::Int16:
  case DataType::UInt16:
    return b.getI16Type();
  case DataType::Int32:
  case DataType::UInt32:
    return b.getI32Type();
  case DataType::Int64:
  case DataType::UInt64:
    return b.getI64Type();
  case DataType::Bool:
    return b.getI1Type();
  default:
    return nullptr;
  }
}

bool onnx_import::isFloatType(DataType type) {
  return type == DataType::Float || type == DataType::Double ||
         type == DataType::Float16 || type == DataType::BFloat16;
}

bool onnx_import::isUnsignedType(DataType type) {
  return type == DataType::UInt8 || type == DataType::UInt16 ||
         type == DataType::UInt32 || type == DataType::UInt64;
}

StringRef onnx_import::getTypeName(DataType type) {
  switch (type) {
  case DataType::Float: return "float";
  case DataType::Double: return "double";
  case DataType::Float16: return "float16";
  case DataType::BFloat16: return "bfloat16";
  case DataType::Int8: return "int8";
  case DataType::UInt8: return "uint8";
  case DataType::Int16: return "int16";
  case DataType::UInt16: return "uint16";
  case DataType::Int32: return "int32";
  case DataType::UInt32: return "uint32";
  case DataType::Int64: return "int64";
  case DataType::UInt64: return "uint64";
  case DataType::Bool: return "bool";
  case DataType::String: return "string";
  default: return "an unknown type";
  }
}

int64_t ConstTensor::numElements() const {
  return ShapedType::getNumElements(shape);
}

double ConstTensor::getDouble(int64_t index) const {
  return isFloat() ? floats[index] : static_cast<double>(ints[index]);
}

int64_t ConstTensor::getInt(int64_t index) const {
  if (!isFloat())
    return ints[index];
  double v = floats[index];
  if (!(v > -9.2e18 && v < 9.2e18)) // NaN and out-of-range saturate
    return v > 0 ? std::numeric_limits<int64_t>::max()
                 : std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

ConstTensor ConstTensor::ofInts(DataType type, ArrayRef<int64_t> shape,
                                std::vector<int64_t> values) {
  ConstTensor t;
  t.type = type;
  t.shape.assign(shape.begin(), shape.end());
  t.ints = std::move(values);
  return t;
}

ConstTensor ConstTensor::ofFloats(DataType type, ArrayRef<int64_t> shape,
                                  std::vector<double> values) {
  ConstTensor t;
  t.type = type;
  t.shape.assign(shape.begin(), shape.end());
  t.floats = std::move(values);
  return t;
}

ConstTensor ConstTensor::reshaped(ArrayRef<int64_t> newShape) const {
  ConstTensor t = *this;
  t.shape.assign(newShape.begin(), newShape.end());
  return t;
}

/// `value` wrapped to the range of an integer data type.
static int64_t wrapInteger(int64_t value, DataType type) {
  switch (type) {
  case DataType::Bool: return value != 0;
  case DataType::Int8: return static_cast<int8_t>(value);
  case DataType::UInt8: return static_cast<uint8_t>(value);
  case DataType::Int16: return static_cast<int16_t>(value);
  case DataType::UInt16: return static_cast<uint16_t>(value);
  case DataType::Int32: return static_cast<int32_t>(value);
  case DataType::UInt32: return static_cast<uint32_t>(value);
  default: return value;
  }
}

/// `value` rounded to a float data type.
static double roundToFloatType(double value, DataType type) {
  if (type == DataType::Double)
    return value;
  if (type == DataType::Float)
    return static_cast<float>(value);
  APFloat f(value);
  bool losesInfo;
  f.convert(type == DataType::Float16 ? APFloat::IEEEhalf() : APFloat::BFloat(),
            APFloat::rmNearestTiesToEven, &losesInfo);
  return f.convertToDouble();
}

ConstTensor ConstTensor::castTo(DataType to) const {
  int64_t n = numElements();
  if (isFloatType(to)) {
    std::vector<double> values(n);
    for (int64_t i = 0; i < n; ++i)
      values[i] = roundToFloatType(getDouble(i), to);
    return ofFloats(to, shape, std::move(values));
  }
  std::vector<int64_t> values(n);
  for (int64_t i = 0; i < n; ++i)
    values[i] = to == DataType::Bool
                    ? int64_t(getDouble(i) != 0.0)
                    : wrapInteger(isFloat() ? getInt(i) : ints[i], to);
  return ofInts(to, shape, std::move(values));
}

//===----------------------------------------------------------------------===//
// TensorProto decoding
//===----------------------------------------------------------------------===//

namespace {

int64_t byteWidth(DataType type) {
  switch (type) {
  case DataType::Bool:
  case DataType::Int8:
  case DataType::UInt8: return 1;
  case DataType::Int16:
  case DataType::UInt16:
  case DataType::Float16:
  case DataType::BFloat16: return 2;
  case DataType::Int32:
  case DataType::UInt32:
  case DataType::Float: return 4;
  default: return 8;
  }
}

template <typename T> T readLittleEndian(const char *bytes) {
  T value;
  std::memcpy(&value, bytes, sizeof(T));
  return value;
}

double halfBitsToDouble(uint16_t bits, DataType type) {
  APFloat f(type == DataType::Float16 ? APFloat::IEEEhalf()
                                      : APFloat::BFloat(),
            APInt(16, bits));
  return f.convertToDouble();
}

/// Element `i` of little-endian raw data.
void decodeRawElement(const char *p, DataType type, ConstTensor &t,
                      int64_t i) {
  switch (type) {
  case DataType::Float: t.floats[i] = readLittleEndian<float>(p); break;
  case DataType::Double: t.floats[i] = readLittleEndian<double>(p); break;
  case DataType::Float16:
  case DataType::BFloat16:
    t.floats[i] = halfBitsToDouble(readLittleEndian<uint16_t>(p), type);
    break;
  case DataType::Bool: t.ints[i] = *p != 0; break;
  case DataType::Int8: t.ints[i] = readLittleEndian<int8_t>(p); break;
  case DataType::UInt8: t.ints[i] = readLittleEndian<uint8_t>(p); break;
  case DataType::Int16: t.ints[i] = readLittleEndian<int16_t>(p); break;
  case DataType::UInt16: t.ints[i] = readLittleEndian<uint16_t>(p); break;
  case DataType::Int32: t.ints[i] = readLittleEndian<int32_t>(p); break;
  case DataType::UInt32: t.ints[i] = readLittleEndian<uint32_t>(p); break;
  case DataType::Int64:
  case DataType::UInt64: t.ints[i] = readLittleEndian<int64_t>(p); break;
  default: break;
  }
}

/// Decodes tensors of the model; errors name the tensor.
class TensorDecoder {
public:
  TensorDecoder(StringRef modelDirectory) : modelDirectory(modelDirectory) {}

  FailureOr<ConstTensor> decode(const onnx::TensorProto &proto,
                                std::string &error) {
    std::string name = proto.name().empty() ? "<unnamed>" : proto.name();
    auto fail = [&](const Twine &message) {
      error = ("tensor '" + name + "': " + message).str();
      return failure();
    };
    ConstTensor t;
    t.type = static_cast<DataType>(proto.data_type());
    if (t.type == DataType::String || t.type == DataType::Undefined ||
        !getElementTypeKnown(t.type))
      return fail("data type " + Twine(proto.data_type()) +
                  " is not supported");
    int64_t n = 1;
    for (int64_t d : proto.dims()) {
      if (d < 0 || (d > 0 && n > kMaxElements / d))
        return fail("invalid dimension " + Twine(d));
      n *= d;
      t.shape.push_back(d);
    }
    int64_t width = byteWidth(t.type);
    // The element storage is allocated only once the data is known to hold
    // n elements: dims alone may claim up to kMaxElements.
    auto allocate = [&] {
      if (t.isFloat())
        t.floats.resize(n);
      else
        t.ints.resize(n);
    };

    std::string external;
    const std::string *raw = nullptr;
    if (proto.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) {
      if (failed(readExternal(proto, n * width, external, error)))
        return fail(error);
      raw = &external;
    } else if (proto.has_raw_data()) {
      raw = &proto.raw_data();
    }
    if (raw) {
      if (static_cast<int64_t>(raw->size()) != n * width)
        return fail("raw data holds " + Twine(raw->size()) + " bytes, " +
                    Twine(n * width) + " expected for " + Twine(n) + " " +
                    getTypeName(t.type) + " elements");
      allocate();
      for (int64_t i = 0; i < n; ++i)
        decodeRawElement(raw->data() + i * width, t.type, t, i);
      return t;
    }

    auto checkCount = [&](int64_t count) {
      if (count != n)
        return fail("holds " + Twine(count) + " values, " + Twine(n) +
                    " expected");
      allocate();
      return success();
    };
    switch (t.type) {
    case DataType::Float:
      if (failed(checkCount(proto.float_data_size())))
        return failure();
      for (int64_t i = 0; i < n; ++i)
        t.floats[i] = proto.float_data(i);
      return t;
    case DataType::Double:
      if (failed(checkCount(proto.double_data_size())))
        return failure();
      for (int64_t i = 0; i < n; ++i)
        t.floats[i] = proto.double_data(i);
      return t;
    case DataType::Int64:
      if (failed(checkCount(proto.int64_data_size())))
        return failure();
      for (int64_t i = 0; i < n; ++i)
        t.ints[i] = proto.int64_data(i);
      return t;
    case DataType::UInt32:
    case DataType::UInt64:
      if (failed(checkCount(proto.uint64_data_size())))
        return failure();
      for (int64_t i = 0; i < n; ++i)
        t.ints[i] = wrapInteger(proto.uint64_data(i), t.type);
      return t;
    default: // int32_data carries every narrower type, halves as bits
      if (failed(checkCount(proto.int32_data_size())))
        return failure();
      for (int64_t i = 0; i < n; ++i) {
        if (t.isFloat())
          t.floats[i] = halfBitsToDouble(proto.int32_data(i), t.type);
        else
          t.ints[i] = wrapInteger(proto.int32_data(i), t.type);
      }
      return t;
    }
  }

private:
  static bool getElementTypeKnown(DataType type) {
    return isFloatType(type) || type == DataType::Bool ||
           (static_cast<int32_t>(type) >= 2 &&
            static_cast<int32_t>(type) <= 7) ||
           type == DataType::UInt32 || type == DataType::UInt64;
  }

  /// Reads the bytes of a tensor stored beside the model.
  LogicalResult readExternal(const onnx::TensorProto &proto, int64_t bytes,
                             std::string &data, std::string &error) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (const onnx::StringStringEntryProto &entry : proto.external_data()) {
      StringRef value = entry.value();
      if (entry.key() == "location")
        location = entry.value();
      else if ((entry.key() == "offset" && value.getAsInteger(10, offset)) ||
               (entry.key() == "length" && value.getAsInteger(10, length))) {
        error = "malformed external data " + entry.key();
        return failure();
      }
    }
    if (location.empty() || llvm::sys::path::is_absolute(location) ||
        StringRef(location).contains("..")) {
      error = "external data needs a relative 'location' beside the model";
      return failure();
    }
    SmallString<256> path(modelDirectory);
    llvm::sys::path::append(path, location);
    auto file = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
    if (!file) {
      error = ("cannot read external data '" + path + "': " +
               file.getError().message())
                  .str();
      return failure();
    }
    int64_t size = (*file)->getBufferSize();
    if (length < 0)
      length = bytes;
    if (offset < 0 || length != bytes || offset > size - length) {
      error = ("external data '" + path + "' has no " + Twine(bytes) +
               " bytes at offset " + Twine(offset))
                  .str();
      return failure();
    }
    data.assign((*file)->getBufferStart() + offset, length);
    return success();
  }

  std::string modelDirectory;
};

} // namespace

//===----------------------------------------------------------------------===//
// GraphImporter
//===----------------------------------------------------------------------===//

namespace mlir {
namespace qnn {
namespace onnx_import {

class GraphImporter {
public:
  GraphImporter(MLIRContext *context, StringRef sourceName,
                const ONNXImportOptions &options)
      : context(context), options(options), builder(context),
        fileLoc(FileLineColLoc::get(context, sourceName, 0, 0)),
        decoder(llvm::sys::path::parent_path(sourceName)) {}

  OwningOpRef<ModuleOp> import(const onnx::ModelProto &model);

  /// A runtime constant for `value`, placed at the top of the function;
  /// `name` names its blob.
  Value materialize(const ConstTensor &value, StringRef name);

  FailureOr<ConstTensor> decodeTensor(const onnx::TensorProto &proto,
                                      std::string &error) {
    return decoder.decode(proto, error);
  }

  llvm::StringMap<ImportedValue> values;
  MLIRContext *context;

private:
  LogicalResult readOpset(const onnx::ModelProto &model);
  LogicalResult addInitializers(const onnx::GraphProto &graph);
  FailureOr<func::FuncOp> createFunction(ModuleOp module,
                                         const onnx::GraphProto &graph);
  LogicalResult checkSupported(const onnx::GraphProto &graph,
                               const ConverterTable &converters);
  LogicalResult convertNodes(const onnx::GraphProto &graph,
                             const ConverterTable &converters);
  LogicalResult addReturn(func::FuncOp function,
                          const onnx::GraphProto &graph);
  Location nodeLoc(const onnx::NodeProto &node, int index);

  const ONNXImportOptions &options;
  OpBuilder builder;
  Location fileLoc;
  TensorDecoder decoder;
  int64_t opset = 0;
  Block *entryBlock = nullptr;
  Operation *lastConstant = nullptr;
};

} // namespace onnx_import
} // namespace qnn
} // namespace mlir

/// A resource blob key from an ONNX name ("layer1.0/conv.weight").
static std::string blobKey(StringRef name) {
  std::string key = "onnx";
  for (char c : name)
    key.push_back(llvm::isAlnum(c) ? c : '_');
  return key == "onnx" ? "onnx_constant" : key;
}

Value GraphImporter::materialize(const ConstTensor &value, StringRef name) {
  OpBuilder::InsertionGuard guard(builder);
  if (lastConstant)
    builder.setInsertionPointAfter(lastConstant);
  else
    builder.setInsertionPointToStart(entryBlock);
  Type elementType = getElementType(context, value.type);
  auto type = RankedTensorType::get(value.shape, elementType);
  Attribute attr;
  if (value.isFloat() && value.numElements() > kMaxInlineElements &&
      value.type == DataType::Float) {
    std::vector<float> data(value.floats.begin(), value.floats.end());
    attr = DenseResourceElementsAttr::get(
        type, blobKey(name),
        HeapAsmResourceBlob::allocateAndCopyInferAlign<float>(data));
  } else if (value.isFloat()) {
    SmallVector<APFloat> elements;
    for (double v : value.floats) {
      APFloat f(v);
      bool losesInfo;
      f.convert(cast<FloatType>(elementType).getFloatSemantics(),
                APFloat::rmNearestTiesToEven, &losesInfo);
      elements.push_back(f);
    }
    attr = DenseElementsAttr::get(type, elements);
  } else {
    unsigned width = elementType.getIntOrFloatBitWidth();
    SmallVector<APInt> elements;
    for (int64_t v : value.ints)
      elements.push_back(APInt(width, static_cast<uint64_t>(v),
                               /*isSigned=*/true, /*implicitTrunc=*/true));
    attr = DenseElementsAttr::get(type, elements);
  }
  auto constant = arith::ConstantOp::create(builder, fileLoc, type,
                                            cast<TypedAttr>(attr));
  lastConstant = constant;
  return constant;
}

LogicalResult GraphImporter::readOpset(const onnx::ModelProto &model) {
  for (const onnx::OperatorSetIdProto &entry : model.opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx")
      opset = entry.version();
  if (opset == 0)
    return emitError(fileLoc, "the model imports no default-domain opset");
  if (opset < kMinOpset || opset > kMaxOpset)
    return emitError(fileLoc, "ONNX opset ")
           << opset << " is not supported (supported: " << kMinOpset << " to "
           << kMaxOpset << ")";
  return success();
}

LogicalResult GraphImporter::addInitializers(const onnx::GraphProto &graph) {
  for (const onnx::TensorProto &initializer : graph.initializer()) {
    std::string error;
    FailureOr<ConstTensor> tensor = decoder.decode(initializer, error);
    if (failed(tensor))
      return emitError(fileLoc, "initializer ") << error;
    ImportedValue &value = values[initializer.name()];
    value.type = tensor->type;
    value.shape = tensor->shape;
    value.constant = std::make_shared<ConstTensor>(std::move(*tensor));
  }
  return success();
}

FailureOr<func::FuncOp>
GraphImporter::createFunction(ModuleOp module, const onnx::GraphProto &graph) {
  SmallVector<const onnx::ValueInfoProto *> inputs;
  for (const onnx::ValueInfoProto &input : graph.input())
    if (!values.count(input.name())) // older models list initializers too
      inputs.push_back(&input);

  for (const auto &entry : options.inputShapes)
    if (llvm::none_of(inputs, [&](const onnx::ValueInfoProto *input) {
          return input->name() == entry.getKey();
        })) {
      auto diag = emitError(fileLoc, "--input-shape names '")
                  << entry.getKey() << "', which is not a graph input; inputs:";
      for (const onnx::ValueInfoProto *input : inputs)
        diag << " '" << input->name() << "'";
      return failure();
    }

  SmallVector<Type> argumentTypes;
  SmallVector<DataType> argumentDataTypes;
  for (const onnx::ValueInfoProto *input : inputs) {
    if (!input->type().has_tensor_type())
      return emitError(fileLoc, "graph input '")
             << input->name() << "' is not a tensor";
    const onnx::TypeProto_Tensor &tensorType = input->type().tensor_type();
    auto dataType = static_cast<DataType>(tensorType.elem_type());
    Type elementType = getElementType(context, dataType);
    if (!elementType)
      return emitError(fileLoc, "graph input '")
             << input->name() << "' has unsupported element type "
             << getTypeName(dataType);
    SmallVector<int64_t> shape;
    bool known = tensorType.has_shape();
    if (known)
      for (const onnx::TensorShapeProto_Dimension &dim :
           tensorType.shape().dim())
        shape.push_back(dim.has_dim_value() ? dim.dim_value()
                                            : ShapedType::kDynamic);
    auto override = options.inputShapes.find(input->name());
    if (override != options.inputShapes.end()) {
      ArrayRef<int64_t> given = override->second;
      if (known && given.size() != shape.size())
        return emitError(fileLoc, "--input-shape gives '")
               << input->name() << "' rank " << given.size()
               << " but the model declares rank " << shape.size();
      for (size_t d = 0; known && d < shape.size(); ++d)
        if (!ShapedType::isDynamic(shape[d]) && shape[d] != given[d])
          return emitError(fileLoc, "--input-shape gives '")
                 << input->name() << "' size " << given[d] << " in dimension "
                 << d << " but the model fixes it to " << shape[d];
      shape.assign(given.begin(), given.end());
      known = true;
    }
    if (!known || llvm::any_of(shape, [](int64_t d) { return d <= 0; })) {
      auto diag = emitError(fileLoc, "graph input '")
                  << input->name() << "' has ";
      if (known)
        diag << "a dynamic or empty shape [";
      else
        diag << "no shape";
      if (known)
        for (auto [d, size] : llvm::enumerate(shape))
          diag << (d ? "x" : "")
               << (ShapedType::isDynamic(size) ? std::string("?")
                                               : std::to_string(size));
      if (known)
        diag << "]";
      diag << "; fix it with --input-shape " << input->name() << "=...";
      return failure();
    }
    int64_t elements = 1;
    for (int64_t size : shape) {
      if (size > kMaxElements / elements)
        return emitError(fileLoc, "graph input '")
               << input->name() << "' has more than " << kMaxElements
               << " elements";
      elements *= size;
    }
    argumentTypes.push_back(RankedTensorType::get(shape, elementType));
    argumentDataTypes.push_back(dataType);
  }

  builder.setInsertionPointToEnd(module.getBody());
  auto function = func::FuncOp::create(
      builder, fileLoc, options.functionName,
      builder.getFunctionType(argumentTypes, {}));
  entryBlock = function.addEntryBlock();
  for (auto [index, input] : llvm::enumerate(inputs)) {
    ImportedValue &value = values[input->name()];
    value.type = argumentDataTypes[index];
    value.shape.assign(
        cast<RankedTensorType>(argumentTypes[index]).getShape().begin(),
        cast<RankedTensorType>(argumentTypes[index]).getShape().end());
    value.value = entryBlock->getArgument(index);
    function.setArgAttr(index, "onnx.name",
                        builder.getStringAttr(input->name()));
  }
  return function;
}

Location GraphImporter::nodeLoc(const onnx::NodeProto &node, int index) {
  std::string name =
      node.name().empty() ? "#" + std::to_string(index) : node.name();
  return NameLoc::get(StringAttr::get(context, name), fileLoc);
}

LogicalResult GraphImporter::checkSupported(const onnx::GraphProto &graph,
                                            const ConverterTable &converters) {
  bool supported = true;
  for (auto [index, node] : llvm::enumerate(graph.node())) {
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    if (defaultDomain && converters.count(node.op_type()))
      continue;
    std::string op = defaultDomain ? node.op_type()
                                   : node.domain() + "." + node.op_type();
    emitError(nodeLoc(node, index), "unsupported ONNX op '")
        << op << "' (node '"
        << (node.name().empty() ? "#" + std::to_string(index) : node.name())
        << "')";
    supported = false;
  }
  return success(supported);
}

/// Checks the input count of a node against its op's entry, so that
/// converters can read the required inputs without checking.
static LogicalResult checkArity(NodeContext &node, const OpConverter &op) {
  unsigned count = node.numInputs();
  if (count < op.minInputs || count > op.maxInputs) {
    InFlightDiagnostic diag = node.emitError() << "expects ";
    unsigned last = op.maxInputs;
    if (op.maxInputs == kVariadic) {
      diag << "at least " << op.minInputs;
      last = op.minInputs;
    } else if (op.minInputs == op.maxInputs) {
      diag << op.minInputs;
    } else {
      diag << op.minInputs << " to " << op.maxInputs;
    }
    return diag << (last == 1 ? " input" : " inputs") << ", got " << count;
  }
  unsigned required = op.maxInputs == kVariadic ? count : op.minInputs;
  for (unsigned i = 0; i < required; ++i)
    if (!node.hasInput(i))
      return node.fail("input " + Twine(i) + " is required but its name is "
                       "empty");
  return success();
}

LogicalResult GraphImporter::convertNodes(const onnx::GraphProto &graph,
                                          const ConverterTable &converters) {
  for (auto [index, node] : llvm::enumerate(graph.node())) {
    Location loc = nodeLoc(node, index);
    for (const std::string &input : node.input())
      if (!input.empty() && !values.count(input))
        return emitError(loc, "ONNX node '")
               << cast<NameLoc>(loc).getName().getValue() << "' ("
               << node.op_type() << ") reads '" << input
               << "', which no earlier node, input or initializer defines";
    builder.setInsertionPointToEnd(entryBlock);
    NodeContext context(*this, node, opset, builder, loc);
    const OpConverter &converter = converters.find(node.op_type())->second;
    if (failed(checkArity(context, converter)) ||
        failed(converter.convert(context)))
      return failure();
    for (auto [outputIndex, output] : llvm::enumerate(node.output()))
      if (!output.empty() && !values.count(output))
        return context.fail("output " + Twine(outputIndex) +
                            " is not supported");
  }
  return success();
}

LogicalResult GraphImporter::addReturn(func::FuncOp function,
                                       const onnx::GraphProto &graph) {
  SmallVector<Value> results;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    auto it = values.find(output.name());
    if (it == values.end())
      return emitError(fileLoc, "graph output '")
             << output.name() << "' is never computed";
    ImportedValue &value = it->second;
    if (!value.value)
      value.value = materialize(*value.constant, output.name());
    auto type = cast<RankedTensorType>(value.value.getType());
    if (output.type().has_tensor_type() &&
        output.type().tensor_type().has_shape()) {
      const auto &dims = output.type().tensor_type().shape().dim();
      bool conflict = dims.size() != type.getRank();
      for (int d = 0; !conflict && d < dims.size(); ++d)
        conflict = dims[d].has_dim_value() &&
                   dims[d].dim_value() != type.getDimSize(d);
      if (conflict)
        return emitError(fileLoc, "graph output '")
               << output.name() << "' is declared with another shape than "
               << "the computed " << type;
    }
    results.push_back(value.value);
  }
  builder.setInsertionPointToEnd(entryBlock);
  func::ReturnOp::create(builder, fileLoc, results);
  function.setType(
      builder.getFunctionType(function.getArgumentTypes(),
                              ValueRange(results).getTypes()));
  for (auto [index, output] : llvm::enumerate(graph.output()))
    function.setResultAttr(index, "onnx.name",
                           builder.getStringAttr(output.name()));
  return success();
}

OwningOpRef<ModuleOp> GraphImporter::import(const onnx::ModelProto &model) {
  if (!model.has_graph() || model.graph().output().empty()) {
    emitError(fileLoc, "not a valid ONNX model: no graph or no graph outputs");
    return nullptr;
  }
  const onnx::GraphProto &graph = model.graph();

  ConverterTable converters;
  addElementwiseConverters(converters);
  addNeuralNetConverters(converters);
  addShapeConverters(converters);

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  FailureOr<func::FuncOp> function;
  if (failed(readOpset(model)) || failed(checkSupported(graph, converters)) ||
      failed(addInitializers(graph)) ||
      failed(function = createFunction(*module, graph)) ||
      failed(convertNodes(graph, converters)) ||
      failed(addReturn(*function, graph)) || failed(verify(*module)))
    return nullptr;
  return module;
}

//===----------------------------------------------------------------------===//
// NodeContext
//===----------------------------------------------------------------------===//

NodeContext::NodeContext(GraphImporter &graph, const onnx::NodeProto &node,
                         int64_t opset, OpBuilder &builder, Location loc)
    : node(node), opset(opset), builder(builder), loc(loc), graph(graph) {}

StringRef NodeContext::opType() const { return node.op_type(); }

unsigned NodeContext::numInputs() const { return node.input_size(); }

bool NodeContext::hasInput(unsigned index) const {
  return index < numInputs() && !node.input(index).empty();
}

const ImportedValue &NodeContext::inputInfo(unsigned index) const {
  return graph.values.find(node.input(index))->second;
}

const ConstTensor *NodeContext::constantInput(unsigned index) const {
  return hasInput(index) ? inputInfo(index).constant.get() : nullptr;
}

Value NodeContext::input(unsigned index) {
  ImportedValue &value = graph.values.find(node.input(index))->second;
  if (!value.value)
    value.value = graph.materialize(*value.constant, "_" + node.input(index));
  return value.value;
}

FailureOr<const ConstTensor *> NodeContext::requireConstant(unsigned index,
                                                            StringRef what) {
  if (const ConstTensor *value = constantInput(index))
    return value;
  return fail(Twine(what) + " must be a constant (an initializer or computed "
                            "from static shapes)");
}

unsigned NodeContext::numOutputs() const { return node.output_size(); }

bool NodeContext::hasOutput(unsigned index) const {
  return index < numOutputs() && !node.output(index).empty();
}

void NodeContext::setOutput(unsigned index, Value value, DataType type) {
  if (!hasOutput(index))
    return;
  ImportedValue imported;
  imported.type = type;
  ArrayRef<int64_t> shape = cast<RankedTensorType>(value.getType()).getShape();
  imported.shape.assign(shape.begin(), shape.end());
  imported.value = value;
  graph.values[node.output(index)] = std::move(imported);
}

void NodeContext::setConstantOutput(unsigned index, ConstTensor value) {
  if (!hasOutput(index))
    return;
  ImportedValue imported;
  imported.type = value.type;
  imported.shape = value.shape;
  imported.constant = std::make_shared<ConstTensor>(std::move(value));
  graph.values[node.output(index)] = std::move(imported);
}

Value NodeContext::materialize(const ConstTensor &value) {
  return graph.materialize(
      value, "_" + (node.name().empty() ? node.op_type() : node.name()));
}

const onnx::AttributeProto *NodeContext::findAttr(StringRef name) const {
  for (const onnx::AttributeProto &attr : node.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

bool NodeContext::hasAttr(StringRef name) const {
  return findAttr(name) != nullptr;
}

int64_t NodeContext::getInt(StringRef name, int64_t defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? attr->i() : defaultValue;
}

double NodeContext::getFloat(StringRef name, double defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? attr->f() : defaultValue;
}

std::string NodeContext::getString(StringRef name,
                                   StringRef defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? attr->s() : defaultValue.str();
}

SmallVector<int64_t> NodeContext::getInts(StringRef name,
                                          ArrayRef<int64_t> defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  if (!attr)
    return SmallVector<int64_t>(defaultValue);
  return SmallVector<int64_t>(attr->ints().begin(), attr->ints().end());
}

FailureOr<ConstTensor> NodeContext::getTensor(StringRef name) const {
  const onnx::AttributeProto *attr = findAttr(name);
  if (!attr || !attr->has_t())
    return fail("attribute '" + name + "' must be a tensor");
  std::string error;
  FailureOr<ConstTensor> value = graph.decodeTensor(attr->t(), error);
  if (failed(value))
    return fail(error);
  return value;
}

InFlightDiagnostic NodeContext::emitError() const {
  return mlir::emitError(loc, "ONNX node '")
         << cast<NameLoc>(loc).getName().getValue() << "' (" << opType()
         << "): ";
}

LogicalResult NodeContext::fail(const Twine &message) const {
  return emitError() << message;
}

FailureOr<int64_t> onnx_import::normalizeAxis(NodeContext &node, int64_t axis,
                                              int64_t rank) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return node.fail("axis " + Twine(axis) + " is out of range for rank " +
                     Twine(rank));
  return axis < 0 ? axis + rank : axis;
}

LogicalResult onnx_import::normalizeAxes(NodeContext &node,
                                         MutableArrayRef<int64_t> axes,
                                         int64_t rank) {
  for (int64_t &axis : axes) {
    FailureOr<int64_t> normalized = normalizeAxis(node, axis, rank);
    if (failed(normalized))
      return failure();
    axis = *normalized;
  }
  llvm::sort(axes);
  return success();
}

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

OwningOpRef<ModuleOp> qnn::importONNX(StringRef bytes, StringRef sourceName,
                                      MLIRContext *context,
                                      const ONNXImportOptions &options) {
  context->loadDialect<arith::ArithDialect, func::FuncDialect,
                       linalg::LinalgDialect, math::MathDialect,
                       tensor::TensorDialect>();
  Location fileLoc = FileLineColLoc::get(context, sourceName, 0, 0);
  onnx::ModelProto model;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    emitError(fileLoc, "not a valid ONNX model: the protobuf does not parse "
                       "(truncated or corrupted file?)");
    return nullptr;
  }
  GraphImporter importer(context, sourceName, options);
  return importer.import(model);
}

bool qnn::parseInputShape(StringRef text, std::string &name,
                          SmallVector<int64_t> &shape, std::string &error) {
  auto [key, dims] = text.rsplit('=');
  if (!text.contains('=') || key.empty()) {
    error = "expected NAME=D0xD1x..., got '" + text.str() + "'";
    return false;
  }
  name = key.str();
  shape.clear();
  if (dims.empty())
    return true;
  SmallVector<StringRef> parts;
  dims.split(parts, 'x');
  for (StringRef part : parts) {
    int64_t size;
    if (part.getAsInteger(10, size) || size <= 0) {
      error = "dimension '" + part.str() + "' of '" + text.str() +
              "' is not a positive integer";
      return false;
    }
    shape.push_back(size);
  }
  return true;
}

static llvm::cl::list<std::string> inputShapeOptions(
    "input-shape",
    llvm::cl::desc("with --import-onnx: static shape of a graph input, "
                   "NAME=D0xD1x... (repeatable), e.g. images=1x3x224x224"),
    llvm::cl::value_desc("NAME=SHAPE"));

void qnn::registerImportONNXTranslation() {
  TranslateToMLIRRegistration(
      "import-onnx",
      "import an ONNX model (opsets 9-18) into linalg/tensor/arith",
      [](llvm::SourceMgr &sourceMgr,
         MLIRContext *context) -> OwningOpRef<Operation *> {
        const llvm::MemoryBuffer *buffer =
            sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID());
        StringRef sourceName = buffer->getBufferIdentifier();
        ONNXImportOptions options;
        for (const std::string &text : inputShapeOptions) {
          std::string name, error;
          SmallVector<int64_t> shape;
          if (!parseInputShape(text, name, shape, error)) {
            emitError(FileLineColLoc::get(context, sourceName, 0, 0),
                      "--input-shape: ")
                << error;
            return nullptr;
          }
          options.inputShapes[name] = shape;
        }
        return importONNX(buffer->getBuffer(), sourceName, context, options);
      },
      [](DialectRegistry &registry) {
        registry.insert<arith::ArithDialect, func::FuncDialect,
                        linalg::LinalgDialect, math::MathDialect,
                        tensor::TensorDialect>();
      });
}
