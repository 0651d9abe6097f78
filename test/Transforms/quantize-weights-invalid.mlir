// RUN: quant-opt %s --qnn-quantize-weights="bits=4 group=128 abits=8 act=static" -split-input-file -verify-diagnostics

func.func @group_does_not_divide_k(%x: tensor<2x64xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<0.75> : tensor<64x8xf32>
  // expected-error @+1 {{group size 128 does not divide the reduction dimension (64); use group=0 or a divisor}}
  %y = qnn.matmul %x, %w : tensor<2x64xf32>, tensor<64x8xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @static_activations_need_stats(%x: tensor<2x128xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<0.75> : tensor<128x8xf32>
  // expected-error @+1 {{act=static needs 'qnn.calib_stats' on its input; run --qnn-calibrate first}}
  %y = qnn.matmul %x, %w : tensor<2x128xf32>, tensor<128x8xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @conv_group_does_not_divide_channels(%x: tensor<1x5x5x48xf32>) -> tensor<1x3x3x4xf32> {
  %w = arith.constant dense<0.25> : tensor<3x3x48x4xf32>
  // expected-error @+1 {{group size 128 does not divide the reduction dimension (48)}}
  %y = qnn.conv2d %x, %w layout nhwc : tensor<1x5x5x48xf32>, tensor<3x3x48x4xf32> -> tensor<1x3x3x4xf32>
  return %y : tensor<1x3x3x4xf32>
}
