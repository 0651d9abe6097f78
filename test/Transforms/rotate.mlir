// RUN: quant-opt %s --qnn-rotate -split-input-file | FileCheck %s
// RUN: quant-opt %s --qnn-rotate="kind=random-orthogonal seed=7" -split-input-file | FileCheck %s --check-prefix=ORTHO

// The activation is a function argument: it is rotated online; the weight
// absorbs Rᵀ (randomized Hadamard: ±1 signs, then H/√4).
// CHECK-LABEL: func.func @rotate_online
// CHECK-SAME: (%[[X:.*]]: tensor<8x4xf32>)
// CHECK: %[[R:.*]] = qnn.hadamard %[[X]] signs [{{(-?1, ){3}-?1}}] : tensor<8x4xf32>
// CHECK: %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<4x3xf32>
// CHECK: qnn.matmul %[[R]], %[[W]] : tensor<8x4xf32>, tensor<4x3xf32> -> tensor<8x3xf32>
// ORTHO-LABEL: func.func @rotate_online
// ORTHO: %[[R:.*]] = qnn.rotate %{{.*}} by dense<{{.*}}> : tensor<4x4xf32> : tensor<8x4xf32>
// ORTHO: qnn.matmul %[[R]]
func.func @rotate_online(%x: tensor<8x4xf32>) -> tensor<8x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0], [1.5, 2.5, 3.5]]> : tensor<4x3xf32>
  %y = qnn.matmul %x, %w : tensor<8x4xf32>, tensor<4x3xf32> -> tensor<8x3xf32>
  return %y : tensor<8x3xf32>
}

// -----

// Between two linear layers both sides fold offline: only the function
// input is rotated online.
// CHECK-LABEL: func.func @rotate_folds_into_producer
// CHECK: %[[R:.*]] = qnn.hadamard %{{.*}} signs
// CHECK: %[[H:.*]] = qnn.matmul %[[R]], %{{.*}} bias(%{{.*}} : tensor<4xf32>)
// CHECK-NOT: qnn.hadamard
// CHECK: qnn.matmul %[[H]]
// ORTHO-LABEL: func.func @rotate_folds_into_producer
// ORTHO: %[[R:.*]] = qnn.rotate
// ORTHO: %[[H:.*]] = qnn.matmul %[[R]]
// ORTHO-NOT: qnn.rotate
// ORTHO: qnn.matmul %[[H]]
func.func @rotate_folds_into_producer(%x: tensor<8x4xf32>) -> tensor<8x2xf32> {
  %w1 = arith.constant dense<[[1.0, 0.0, 2.0, 1.0], [0.5, 1.0, -1.0, 2.0], [1.0, 1.0, 1.0, 1.0], [0.0, 3.0, 0.0, -1.0]]> : tensor<4x4xf32>
  %b1 = arith.constant dense<[0.5, -0.5, 1.0, 0.0]> : tensor<4xf32>
  %h = qnn.matmul %x, %w1 bias(%b1 : tensor<4xf32>) : tensor<8x4xf32>, tensor<4x4xf32> -> tensor<8x4xf32>
  %w2 = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]]> : tensor<4x2xf32>
  %y = qnn.matmul %h, %w2 : tensor<8x4xf32>, tensor<4x2xf32> -> tensor<8x2xf32>
  return %y : tensor<8x2xf32>
}

// -----

// A SiLU epilogue does not commute with a rotation: the rotation stays online.
// CHECK-LABEL: func.func @rotate_after_nonlinear_producer
// CHECK: %[[H:.*]] = qnn.matmul {{.*}} epilogue silu
// CHECK: qnn.hadamard %[[H]]
// ORTHO-LABEL: func.func @rotate_after_nonlinear_producer
// ORTHO: %[[H:.*]] = qnn.matmul {{.*}} epilogue silu
// ORTHO: qnn.rotate %[[H]]
func.func @rotate_after_nonlinear_producer(%x: tensor<8x4xf32>) -> tensor<8x2xf32> {
  %w1 = arith.constant dense<1.0> : tensor<4x4xf32>
  %h = qnn.matmul %x, %w1 epilogue silu : tensor<8x4xf32>, tensor<4x4xf32> -> tensor<8x4xf32>
  %w2 = arith.constant dense<2.0> : tensor<4x2xf32>
  %y = qnn.matmul %h, %w2 : tensor<8x4xf32>, tensor<4x2xf32> -> tensor<8x2xf32>
  return %y : tensor<8x2xf32>
}
