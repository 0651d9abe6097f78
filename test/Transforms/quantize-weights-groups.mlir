// RUN: quant-opt %s --qnn-quantize-weights="bits=3 group=32" | FileCheck %s --check-prefix=G32
// RUN: quant-opt %s --qnn-quantize-weights="bits=2 group=64 symmetric=false" | FileCheck %s --check-prefix=G64

// G32-LABEL: func.func @grouped
// G32: qnn.matmul %{{.*}}, %{{.*}} scales(%{{.*}} : tensor<2x8xf32>) : tensor<2x64xf32>, tensor<64x8xi3> -> tensor<2x8xf32>
// G64-LABEL: func.func @grouped
// G64: qnn.matmul %{{.*}}, %{{.*}} scales(%{{.*}} : tensor<1x8xf32>) zero_points(%{{.*}} : tensor<1x8xi2>) : tensor<2x64xf32>, tensor<64x8xi2> -> tensor<2x8xf32>
func.func @grouped(%x: tensor<2x64xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<0.75> : tensor<64x8xf32>
  %y = qnn.matmul %x, %w : tensor<2x64xf32>, tensor<64x8xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
