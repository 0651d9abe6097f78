// quant-eval interprets a model in float64 and scores it against a reference.
// RUN: %python -c "import numpy as np; np.save('%t.x.npy', np.array([[1, 2, 3, 4], [-1, 0.5, 0, 2]], np.float32))"
// RUN: %python -c "import numpy as np; np.save('%t.ref.npy', np.array([[8, -1], [1, -0.25]], np.float64))"
// RUN: quant-eval %s --input %t.x.npy --output %t.y.npy --reference %t.ref.npy --weights | FileCheck %s
// RUN: %python -c "import numpy as np; y = np.load('%t.y.npy'); print(y.dtype, y.shape, y.tolist())" | FileCheck %s --check-prefix=NPY

// CHECK: weights: 0.0000 MiB
// CHECK: max-abs 0  rel 0  sqnr inf dB  cosine 1.000000
// NPY: float64 (2, 2) {{\[\[}}8.0, -1.0], [1.0, -0.25]]
func.func @linear(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[1.0, 0.0], [0.0, -0.5], [1.0, 0.0], [1.0, 0.0]]> : tensor<4x2xf32>
  %y = qnn.matmul %x, %w : tensor<2x4xf32>, tensor<4x2xf32> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// RUN: not quant-eval %s 2>&1 | FileCheck %s --check-prefix=ARGS
// ARGS: quant-eval: error: @linear takes 1 arguments, 0 --input given
// RUN: not quant-eval %s --input %t.missing.npy 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: quant-eval: error: cannot open '{{.*}}missing.npy'
// RUN: not quant-eval %s --input %s 2>&1 | FileCheck %s --check-prefix=BADNPY
// BADNPY: quant-eval: error: {{.*}}eval.mlir: not a .npy file (bad magic)
// RUN: %python -c "import numpy as np; np.save('%t.wrong.npy', np.zeros((3, 4), np.float32) + 1)"
// RUN: not quant-eval %s --input %t.wrong.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: error:
// RUN: not quant-eval %s --input %t.x.npy --function nope 2>&1 | FileCheck %s --check-prefix=FUNC
// FUNC: quant-eval: error: no function named 'nope'
