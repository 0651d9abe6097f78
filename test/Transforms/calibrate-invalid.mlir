// Bad calibration input: one error naming the problem, a non-zero exit.
// RUN: %python -c "import numpy as np; np.savez('%t.shape.npz', input0=np.ones((3, 5), np.float32)); np.savez('%t.names.npz', a=np.ones((2, 4), np.float32), b=np.ones((2, 4), np.float32))"
// RUN: not quant-opt %s --qnn-calibrate=%t.missing.npz 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not quant-opt %s --qnn-calibrate=%t.shape.npz 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not quant-opt %s --qnn-calibrate=%t.names.npz 2>&1 | FileCheck %s --check-prefix=NAMES
// RUN: not quant-opt %s --qnn-calibrate 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not quant-opt %s --qnn-calibrate="file=%t.shape.npz percentile=0" 2>&1 | FileCheck %s --check-prefix=PERCENTILE
// RUN: not quant-opt %s --qnn-calibrate="file=%t.shape.npz nonsense=1" 2>&1 | FileCheck %s --check-prefix=OPTION
// RUN: not quant-opt %s --qnn-calibrate="file=%t.shape.npz entry=nope" 2>&1 | FileCheck %s --check-prefix=ENTRY

// MISSING: error: --qnn-calibrate: {{.*}}missing.npz
// SHAPE: error: --qnn-calibrate: samples for 'input0' have shape [3x5]; expected 'tensor<2x4xf32>' or a stack [S, ...] of it
// NAMES: error: --qnn-calibrate: no samples named 'input0'
// NOFILE: error: --qnn-calibrate needs calibration samples
// PERCENTILE: error: --qnn-calibrate: percentile must be in (0, 100]
// OPTION: nonsense
// ENTRY: error: no function 'nope' to calibrate

func.func @main(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<1.0> : tensor<4x3xf32>
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<2x3xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<2x3xf32>) -> tensor<2x3xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>)
                     outs(%acc : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
