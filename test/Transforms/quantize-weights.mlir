// RUN: quant-opt %s --qnn-quantize-weights="bits=4 group=0" -split-input-file | FileCheck %s
// RUN: quant-opt %s --qnn-quantize-weights="bits=4 group=0 symmetric=false" -split-input-file | FileCheck %s --check-prefix=ASYM
// RUN: quant-opt %s --qnn-quantize-weights="bits=8 group=0 abits=8" -split-input-file | FileCheck %s --check-prefix=DYN
// RUN: quant-opt %s --qnn-quantize-weights="bits=8 group=0 abits=8 act=static" -split-input-file | FileCheck %s --check-prefix=STATIC

#stats = #qnn.calib_stats<axis = 1, samples = 1, absmax = [2.54, 1.0, 0.5, 1.0], min = [-2.54, -1.0, -0.5, -1.0],
                          max = [1.0, 1.0, 0.5, 1.0], percentile = 99.0, percentile_absmax = [2.0, 1.0, 0.5, 1.0]>

// Symmetric per-channel RTN: scale = absmax / 7, round half to even
// (0.5 / (1/7) = 3.5 -> 4, 0.25 / (1/7) = 1.75 -> 2).
// CHECK-LABEL: func.func @rtn_per_channel
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}7, -7, 4], [2, 4, -7], [4, 2, 4], [-7, 0, 2]]> : tensor<4x3xi4>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<{{\[\[}}0.142857{{[0-9]*}}, 0.285714{{[0-9]*}}, 0.142857{{[0-9]*}}]]> : tensor<1x3xf32>
// CHECK: qnn.matmul %{{.*}}, %[[W]] scales(%[[S]] : tensor<1x3xf32>) {qnn.calib_stats = {{.*}}} : tensor<2x4xf32>, tensor<4x3xi4> -> tensor<2x3xf32>
// ASYM-LABEL: func.func @rtn_per_channel
// ASYM: qnn.matmul %{{.*}}, %{{.*}} scales(%{{.*}} : tensor<1x3xf32>) zero_points(%{{.*}} : tensor<1x3xi4>)
// DYN-LABEL: func.func @rtn_per_channel
// DYN: %[[Q:.*]], %[[QS:.*]] = qnn.quantize %{{.*}} per_token : tensor<2x4xf32> -> tensor<2x4xi8>, tensor<2xf32>
// DYN: qnn.matmul %[[Q]], %{{.*}} input_scales(%[[QS]] : tensor<2xf32>) scales(%{{.*}} : tensor<1x3xf32>) {{.*}} : tensor<2x4xi8>, tensor<4x3xi8> -> tensor<2x3xf32>
// STATIC-LABEL: func.func @rtn_per_channel
// STATIC: %[[Q:.*]] = qnn.quantize %{{.*}} : tensor<2x4xf32> -> tensor<2x4x!quant.uniform<i8:f32, 2.000000e-02>>
// STATIC: qnn.matmul %[[Q]], %{{.*}} : tensor<2x4x!quant.uniform<i8:f32, 2.000000e-02>>, tensor<4x3xi8> -> tensor<2x3xf32>
func.func @rtn_per_channel(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<[[1.0, -2.0, 0.5], [0.25, 1.0, -1.0], [0.5, 0.5, 0.5], [-1.0, 0.0, 0.25]]> : tensor<4x3xf32>
  %y = qnn.matmul %x, %w {qnn.calib_stats = #stats} : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Convolution weights: per output channel F, reduction over (C, KH, KW).
// CHECK-LABEL: func.func @conv_weights
// CHECK: qnn.conv2d %{{.*}}, %{{.*}} scales(%{{.*}} : tensor<1x4xf32>) layout nhwc : tensor<1x5x5x3xf32>, tensor<3x3x3x4xi4> -> tensor<1x3x3x4xf32>
func.func @conv_weights(%x: tensor<1x5x5x3xf32>) -> tensor<1x3x3x4xf32> {
  %w = arith.constant dense<0.25> : tensor<3x3x3x4xf32>
  %y = qnn.conv2d %x, %w layout nhwc : tensor<1x5x5x3xf32>, tensor<3x3x3x4xf32> -> tensor<1x3x3x4xf32>
  return %y : tensor<1x3x3x4xf32>
}
