// RUN: not quant-opt %s --qnn-rotate="kind=givens" 2>&1 | FileCheck %s --check-prefix=KIND
// KIND: error: --qnn-rotate kind must be hadamard, random-orthogonal or procrustes, got 'givens'

// RUN: not quant-opt %s --qnn-rotate="kind=procrustes" 2>&1 | FileCheck %s --check-prefix=NOCALIB
// NOCALIB: error: '--qnn-rotate calibration' is required

// RUN: not quant-opt %s --qnn-rotate="kind=procrustes abits=3" 2>&1 | FileCheck %s --check-prefix=ABITS
// ABITS: error: --qnn-rotate abits must be 4 or 8, got 3

func.func @layer(%x: tensor<8x4xf32>) -> tensor<8x3xf32> {
  %w = arith.constant dense<1.0> : tensor<4x3xf32>
  %y = qnn.matmul %x, %w : tensor<8x4xf32>, tensor<4x3xf32> -> tensor<8x3xf32>
  return %y : tensor<8x3xf32>
}
