//===- ImportONNX.h - ONNX models to linalg on tensors ----------*- C++ -*-===//
//
// Reads an ONNX ModelProto (opsets 9 to 18) through the ONNX protobuf and
// builds one public `func.func @main_graph` on ranked tensors: linalg named
// and generic ops, tensor reshapes and slices, arith and math. Initializers
// become `dense_resource` constants; shape arithmetic on constants (Shape,
// Gather, Concat, ... chains of exported models) is folded at import time.
// Convolutions and matmuls with constant weights come out in the forms
// --qnn-import-linalg raises, and batch norms in the per-channel affine
// form --qnn-fuse folds into the preceding convolution.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_TARGET_ONNX_IMPORTONNX_H
#define QUANT_TARGET_ONNX_IMPORTONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"

#include <string>

namespace mlir {
namespace qnn {

struct ONNXImportOptions {
  /// Static shapes for graph inputs, overriding or completing the model's
  /// (symbolic or unknown dimensions must all be fixed here).
  llvm::StringMap<SmallVector<int64_t>> inputShapes;
  /// Name of the generated function.
  std::string functionName = "main_graph";
};

/// Imports the serialized ModelProto `bytes`; `sourceName` names the file in
/// diagnostics. Emits errors and returns null on malformed or unsupported
/// models.
OwningOpRef<ModuleOp> importONNX(StringRef bytes, StringRef sourceName,
                                 MLIRContext *context,
                                 const ONNXImportOptions &options);

/// Parses one `--input-shape` value, `NAME=D0xD1x...` (a scalar is
/// `NAME=`); returns false and sets `error` when malformed.
bool parseInputShape(StringRef text, std::string &name,
                     SmallVector<int64_t> &shape, std::string &error);

/// Registers `--import-onnx` (with `--input-shape`) with mlir-translate.
void registerImportONNXTranslation();

} // namespace qnn
} // namespace mlir

#endif // QUANT_TARGET_ONNX_IMPORTONNX_H
