// RUN: not quant-translate --mlir-to-llvmir %s 2>&1 | FileCheck %s --check-prefix=MALFORMED
// MALFORMED: bad-input.mlir:[[@LINE+2]]:{{[0-9]+}}: error: use of undeclared SSA value name
llvm.func @broken(%a: i32) -> i32 {
  llvm.return %undefined : i32
}

// RUN: not quant-translate --no-such-target %s 2>&1 | FileCheck %s --check-prefix=OPTION
// OPTION: Unknown command line argument '--no-such-target'

// RUN: not quant-translate --mlir-to-llvmir %t.does-not-exist.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: cannot open input file {{.*}}does-not-exist.mlir{{.*}}: No such file or directory

// MLIR text is not an ONNX protobuf.
// RUN: not quant-translate --import-onnx %s 2>&1 | FileCheck %s --check-prefix=ONNX
// ONNX: error: not a valid ONNX model
