// RUN: quant-opt %s --qnn-rotate -verify-diagnostics | FileCheck %s
// RUN: quant-opt %s --qnn-rotate="kind=random-orthogonal" | FileCheck %s --check-prefix=ORTHO

// No Hadamard matrix of order 6: left alone with a remark (random-orthogonal
// handles any order).
// CHECK-LABEL: func.func @unsupported_hadamard_order
// CHECK-NOT: qnn.hadamard
// ORTHO-LABEL: func.func @unsupported_hadamard_order
// ORTHO: qnn.rotate %{{.*}} : tensor<2x6xf32>
func.func @unsupported_hadamard_order(%x: tensor<2x6xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<1.0> : tensor<6x2xf32>
  // expected-remark @+1 {{not rotated: no Hadamard matrix of order 6; use kind=random-orthogonal}}
  %y = qnn.matmul %x, %w : tensor<2x6xf32>, tensor<6x2xf32> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
