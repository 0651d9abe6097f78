//===- QNNParserFuzzer.cpp - libFuzzer target for qnn parsing/verifying ---===//
//
// Parses arbitrary text as MLIR with the qnn dialect and runs the verifiers:
// custom assembly parsers, attribute parsers and verifiers must reject bad
// input with a diagnostic, never crash.
//
//===----------------------------------------------------------------------===//

#include "quant/Dialect/QNN/IR/QNN.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::DialectRegistry registry = [] {
    mlir::DialectRegistry r;
    r.insert<mlir::arith::ArithDialect, mlir::func::FuncDialect,
             mlir::quant::QuantDialect, mlir::qnn::QNNDialect>();
    return r;
  }();
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  mlir::ScopedDiagnosticHandler silence(&context, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  return 0;
}
