// Malformed IR, unknown options and missing files each give one clear error
// and a non-zero exit.

// RUN: not quant-opt %s 2>&1 | FileCheck %s --check-prefix=MALFORMED
// MALFORMED: bad-input.mlir:[[@LINE+2]]:{{[0-9]+}}: error:
func.func @broken(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = qnn.hadamard %x : tensor<4xf32
  return %0 : tensor<4xf32>
}

// RUN: not quant-opt --no-such-option %s 2>&1 | FileCheck %s --check-prefix=OPTION
// OPTION: Unknown command line argument '--no-such-option'

// RUN: not quant-opt %t.does-not-exist.mlir 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: cannot open input file {{.*}}does-not-exist.mlir{{.*}}: No such file or directory

// RUN: echo 'module {}' | not quant-opt --pass-pipeline='builtin.module(no-such-pass)' 2>&1 | FileCheck %s --check-prefix=PASS
// PASS: 'no-such-pass' does not refer to a registered pass or pass pipeline
