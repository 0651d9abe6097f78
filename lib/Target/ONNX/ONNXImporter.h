//===- ONNXImporter.h - per-node state of the ONNX importer ------*- C++ -*-===//
//
// The op converters (ElementwiseOps.cpp, NNOps.cpp, ShapeOps.cpp) see one
// ONNX node at a time through NodeContext: its inputs as MLIR tensors or as
// values known at import time, its attributes, and where its outputs go.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_LIB_TARGET_ONNX_ONNXIMPORTER_H
#define QUANT_LIB_TARGET_ONNX_ONNXIMPORTER_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"

#include <memory>
#include <string>
#include <vector>

namespace onnx {
class NodeProto;
class AttributeProto;
} // namespace onnx

namespace mlir {
namespace qnn {
namespace onnx_import {

/// ONNX TensorProto.DataType values the importer knows.
enum class DataType : int32_t {
  Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5,
  Int32 = 6, Int64 = 7, String = 8, Bool = 9, Float16 = 10, Double = 11,
  UInt32 = 12, UInt64 = 13, BFloat16 = 16,
};

/// The MLIR element type of an ONNX data type (unsigned integers become
/// signless), or null for types the importer does not handle.
Type getElementType(MLIRContext *context, DataType type);
bool isFloatType(DataType type);
bool isUnsignedType(DataType type);
StringRef getTypeName(DataType type);

/// A tensor whose value is known at import time: initializers, Constant
/// nodes and the shape arithmetic computed from static shapes.
struct ConstTensor {
  DataType type = DataType::Float;
  SmallVector<int64_t> shape;
  std::vector<double> floats; // float data types
  std::vector<int64_t> ints;  // integer and bool data types

  bool isFloat() const { return isFloatType(type); }
  int64_t numElements() const;
  double getDouble(int64_t index) const;
  int64_t getInt(int64_t index) const;

  static ConstTensor ofInts(DataType type, ArrayRef<int64_t> shape,
                            std::vector<int64_t> values);
  static ConstTensor ofFloats(DataType type, ArrayRef<int64_t> shape,
                              std::vector<double> values);
  /// The same elements in `shape` (same element count).
  ConstTensor reshaped(ArrayRef<int64_t> shape) const;
  /// The elements converted to `to`, with ONNX Cast semantics.
  ConstTensor castTo(DataType to) const;
};

/// One ONNX value during import.
struct ImportedValue {
  DataType type = DataType::Undefined;
  SmallVector<int64_t> shape;
  /// The runtime tensor; null for a constant not yet used at runtime.
  Value value;
  /// The value when known at import time.
  std::shared_ptr<const ConstTensor> constant;
};

class GraphImporter;

/// One node being converted.
class NodeContext {
public:
  NodeContext(GraphImporter &graph, const onnx::NodeProto &node,
              int64_t opset, OpBuilder &builder, Location loc);

  const onnx::NodeProto &node;
  /// The default-domain opset the model imports.
  const int64_t opset;
  OpBuilder &builder;
  const Location loc;

  StringRef opType() const;

  // Inputs. An empty input name is an omitted optional input.
  unsigned numInputs() const;
  bool hasInput(unsigned index) const;
  const ImportedValue &inputInfo(unsigned index) const;
  ArrayRef<int64_t> inputShape(unsigned index) const {
    return inputInfo(index).shape;
  }
  DataType inputType(unsigned index) const { return inputInfo(index).type; }
  /// The input's value when known at import time, else null.
  const ConstTensor *constantInput(unsigned index) const;
  /// The input as a runtime tensor (constants are materialized).
  Value input(unsigned index);
  /// The input's value, or an error saying `what` must be a constant.
  FailureOr<const ConstTensor *> requireConstant(unsigned index,
                                                 StringRef what);

  // Outputs. An empty output name is an unused optional output.
  unsigned numOutputs() const;
  bool hasOutput(unsigned index) const;
  void setOutput(unsigned index, Value value, DataType type);
  void setOutput(unsigned index, Value value) {
    setOutput(index, value, inputType(0));
  }
  void setConstantOutput(unsigned index, ConstTensor value);

  // Attributes.
  bool hasAttr(StringRef name) const;
  int64_t getInt(StringRef name, int64_t defaultValue) const;
  double getFloat(StringRef name, double defaultValue) const;
  std::string getString(StringRef name, StringRef defaultValue) const;
  /// The ints of a list attribute, or `defaultValue` when absent.
  SmallVector<int64_t> getInts(StringRef name,
                               ArrayRef<int64_t> defaultValue = {}) const;
  FailureOr<ConstTensor> getTensor(StringRef name) const;

  /// A runtime constant holding `value`.
  Value materialize(const ConstTensor &value);

  /// An error at the node: "ONNX node 'NAME' (OpType): ...".
  InFlightDiagnostic emitError() const;
  LogicalResult fail(const Twine &message) const;

private:
  const onnx::AttributeProto *findAttr(StringRef name) const;

  GraphImporter &graph;
};

using Converter = LogicalResult (*)(NodeContext &);

/// Marks an op with any number of inputs (at least its minimum).
constexpr unsigned kVariadic = ~0u;

/// How one op type converts: its converter and how many inputs a node of it
/// may have (over the supported opsets). The importer checks the count
/// before converting: inputs below `minInputs` must be present (non-empty
/// names), later ones are optional; every input of a variadic op must be
/// present. Converters may then read inputs below `minInputs` unchecked.
struct OpConverter {
  Converter convert = nullptr;
  unsigned minInputs = 1;
  unsigned maxInputs = 1;
};
using ConverterTable = llvm::StringMap<OpConverter>;

void addElementwiseConverters(ConverterTable &table);
void addNeuralNetConverters(ConverterTable &table);
void addShapeConverters(ConverterTable &table);

/// Normalizes a possibly negative axis of a rank-`rank` tensor; fails with
/// an error at the node when out of range.
FailureOr<int64_t> normalizeAxis(NodeContext &node, int64_t axis,
                                 int64_t rank);
/// normalizeAxis on each of `axes` in place, then sorts them.
LogicalResult normalizeAxes(NodeContext &node, MutableArrayRef<int64_t> axes,
                            int64_t rank);

} // namespace onnx_import
} // namespace qnn
} // namespace mlir

#endif // QUANT_LIB_TARGET_ONNX_ONNXIMPORTER_H
