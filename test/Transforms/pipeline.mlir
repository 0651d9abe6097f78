// RUN: quant-opt %s --qnn-pipeline="wbits=4 group=0 abits=8 rotate=hadamard" | FileCheck %s
// RUN: quant-opt %s --qnn-pipeline="wbits=8 group=0 abits=0 budget-bops=1e9" | FileCheck %s --check-prefix=ALLOC
// RUN: not quant-opt %s --qnn-pipeline="smooth=strong" 2>&1 | FileCheck %s --check-prefix=SMOOTH

// CHECK-LABEL: func.func @linear
// CHECK-NOT: linalg.matmul
// CHECK: %[[R:.*]] = qnn.hadamard %{{.*}} signs
// CHECK: %[[Q:.*]], %[[S:.*]] = qnn.quantize %[[R]] per_token : tensor<2x4xf32> -> tensor<2x4xi8>, tensor<2xf32>
// CHECK: qnn.matmul %[[Q]], %{{.*}} input_scales(%[[S]] : tensor<2xf32>) scales(%{{.*}} : tensor<1x2xf32>) : tensor<2x4xi8>, tensor<4x2xi4> -> tensor<2x2xf32>
// ALLOC: qnn.matmul %{{.*}}, %{{.*}} scales({{.*}}) {qnn.bits = 8 : i64} : tensor<2x4xf32>, tensor<4x2xi8> -> tensor<2x2xf32>
// SMOOTH: qnn-pipeline: smooth must be off, search or an alpha in [0, 1], got 'strong'
// SMOOTH: error: --qnn-smooth-outliers alpha must be in [0, 1], got nan
func.func @linear(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[0.9, -0.3], [0.2, 0.7], [-1.1, 0.4], [0.05, -0.6]]> : tensor<4x2xf32>
  %zero = arith.constant dense<0.0> : tensor<2x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x2xf32>) outs(%zero : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
