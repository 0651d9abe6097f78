// --qnn-rotate kind=procrustes refines, as DFRot does, only the rotations
// that fold into a producing linear layer; the one on the function input
// stays online and keeps its Hadamard transform unless refine-online makes
// it a dense refined qnn.rotate. (PassNumericsTest checks both are exact
// against a float64 evaluation.)
// RUN: %python -c "import numpy as np; np.save('%t.npy', np.random.default_rng(7).standard_normal((32, 4)).astype(np.float32))"
// RUN: quant-opt %s --qnn-rotate="kind=procrustes iterations=3 calibration=%t.npy" | FileCheck %s
// RUN: quant-opt %s --qnn-rotate="kind=procrustes iterations=3 refine-online=true calibration=%t.npy" | FileCheck %s --check-prefix=DENSE
// The pipeline passes refine-online on to the pass.
// RUN: quant-opt %s --qnn-pipeline="wbits=8 group=0 abits=8 rotate=procrustes refine-online=true calibration=%t.npy" | FileCheck %s --check-prefix=PIPELINE

// CHECK-LABEL: func.func @online_and_folded
// CHECK: %[[R:.*]] = qnn.hadamard %{{.*}} signs
// CHECK: %[[H:.*]] = qnn.matmul %[[R]], %{{.*}} bias(%{{.*}} : tensor<4xf32>)
// CHECK-NOT: qnn.rotate
// CHECK-NOT: qnn.hadamard
// CHECK: qnn.matmul %[[H]]
// DENSE-LABEL: func.func @online_and_folded
// DENSE: %[[R:.*]] = qnn.rotate %{{.*}} by dense<{{.*}}> : tensor<4x4xf32>
// DENSE: %[[H:.*]] = qnn.matmul %[[R]]
// DENSE-NOT: qnn.rotate
// DENSE-NOT: qnn.hadamard
// DENSE: qnn.matmul %[[H]]
// PIPELINE-LABEL: func.func @online_and_folded
// PIPELINE: qnn.rotate %{{.*}} by dense
// PIPELINE-NOT: qnn.hadamard
// PIPELINE-NOT: qnn.rotate
// PIPELINE: return
func.func @online_and_folded(%x: tensor<32x4xf32>) -> tensor<32x2xf32> {
  %w1 = arith.constant dense<[[1.0, 0.0, 2.0, 1.0], [0.5, 1.0, -1.0, 2.0], [1.0, 1.0, 1.0, 1.0], [0.0, 3.0, 0.0, -1.0]]> : tensor<4x4xf32>
  %b1 = arith.constant dense<[0.5, -0.5, 1.0, 0.0]> : tensor<4xf32>
  %h = qnn.matmul %x, %w1 bias(%b1 : tensor<4xf32>) : tensor<32x4xf32>, tensor<4x4xf32> -> tensor<32x4xf32>
  %w2 = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %y = qnn.matmul %h, %w2 : tensor<32x4xf32>, tensor<4x2xf32> -> tensor<32x2xf32>
  return %y : tensor<32x2xf32>
}
