//===- ONNXImportFuzzer.cpp - libFuzzer target for the ONNX importer ------===//
//
// Feeds arbitrary bytes to importONNX as a serialized ModelProto, with a
// fresh context per input: the importer must either return a module that
// verifies or fail with at least one error diagnostic, never crash.
//
//===----------------------------------------------------------------------===//

#include "quant/Target/ONNX/ImportONNX.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  unsigned errors = 0;
  mlir::ScopedDiagnosticHandler capture(&context, [&](mlir::Diagnostic &diag) {
    if (diag.getSeverity() == mlir::DiagnosticSeverity::Error)
      ++errors;
    return mlir::success();
  });
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  // The source name has no directory: external data resolves against the
  // current directory, where the fuzzer writes nothing matching.
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::qnn::importONNX(bytes, "fuzz.onnx", &context, {});
  if (module) {
    if (mlir::failed(mlir::verify(*module)))
      std::abort(); // the importer returned an invalid module
  } else if (errors == 0) {
    std::abort(); // a failure without a diagnostic
  }
  return 0;
}
