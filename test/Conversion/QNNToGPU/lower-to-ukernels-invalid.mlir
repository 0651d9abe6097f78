// RUN: quant-opt %s --qnn-lower-to-ukernels=target=gpu --split-input-file -verify-diagnostics

// What the GPU kernels do not cover: one error per op, before any rewriting.

func.func @two_bit_weights(%x: tensor<2x64xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<1> : tensor<64x8xi2>
  %s = arith.constant dense<0.5> : tensor<1x8xf32>
  // expected-error @below {{the GPU kernels take 4 and 8-bit weights, not 2}}
  %y = qnn.matmul %x, %w scales(%s : tensor<1x8xf32>) : tensor<2x64xf32>, tensor<64x8xi2> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @three_bit_split(%q: tensor<2x64xi8>, %qs: tensor<2xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<3> : tensor<64x8xi8>
  %s = arith.constant dense<0.5> : tensor<1x8xf32>
  // expected-error @below {{the GPU kernels take 4 and 8-bit weights, not 3 (the split's low bits)}}
  %y = qnn.matmul %q, %w input_scales(%qs : tensor<2xf32>) scales(%s : tensor<1x8xf32>)
       split <low_bits = 3, high_columns = [0]>
       : tensor<2x64xi8>, tensor<64x8xi8> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @groups_of_32(%x: tensor<2x64xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<1> : tensor<64x8xi4>
  %s = arith.constant dense<0.5> : tensor<2x8xf32>
  // expected-error @below {{the GPU kernels take per-channel weight scales or groups of a multiple of 64 along K, not groups of 32}}
  %y = qnn.matmul %x, %w scales(%s : tensor<2x8xf32>) : tensor<2x64xf32>, tensor<64x8xi4> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @asymmetric_integer(%q: tensor<2x64xi8>, %qs: tensor<2xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<3> : tensor<64x8xi8>
  %s = arith.constant dense<0.5> : tensor<1x8xf32>
  %z = arith.constant dense<100> : tensor<1x8xi8>
  // expected-error @below {{the GPU integer kernel (qr_gpu_matmul_s8) takes symmetric weights only}}
  %y = qnn.matmul %q, %w input_scales(%qs : tensor<2xf32>) scales(%s : tensor<1x8xf32>) zero_points(%z : tensor<1x8xi8>)
       : tensor<2x64xi8>, tensor<64x8xi8> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @runtime_weights(%x: tensor<2x64xf32>, %w: tensor<64x8xi4>) -> tensor<2x8xf32> {
  %s = arith.constant dense<0.5> : tensor<1x8xf32>
  // expected-error @below {{needs constant integer weights, scales and zero points to pack them for the GPU}}
  %y = qnn.matmul %x, %w scales(%s : tensor<1x8xf32>) : tensor<2x64xf32>, tensor<64x8xi4> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @pillar_conv_groups_of_32(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>) -> tensor<?x16xf32> {
  %w = arith.constant dense<1> : tensor<3x3x64x16xi4>
  %s = arith.constant dense<0.5> : tensor<2x16xf32>
  // expected-error @below {{the GPU kernels take per-channel weight scales or groups of a multiple of 64 along K, not groups of 32}}
  %o, %oc = qnn.pillar_conv %f, %c, %w scales(%s : tensor<2x16xf32>) kind submanifold grid [8, 8]
      : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x16xi4> -> tensor<?x16xf32>, tensor<?x3xi32>
  return %o : tensor<?x16xf32>
}

// -----

func.func @pillar_conv_asymmetric_w8a8(%f: tensor<?x64x!quant.uniform<i8:f32, 0.05>>, %c: tensor<?x3xi32>) -> tensor<?x16xf32> {
  %w = arith.constant dense<1> : tensor<3x3x64x16xi8>
  %s = arith.constant dense<0.5> : tensor<1x16xf32>
  %z = arith.constant dense<-128> : tensor<1x16xi8>
  // expected-error @below {{the GPU integer kernel (qr_gpu_pillar_conv_s8) takes symmetric weights only}}
  %o, %oc = qnn.pillar_conv %f, %c, %w scales(%s : tensor<1x16xf32>) zero_points(%z : tensor<1x16xi8>) kind submanifold grid [8, 8]
      : tensor<?x64x!quant.uniform<i8:f32, 0.05>>, tensor<?x3xi32>, tensor<3x3x64x16xi8> -> tensor<?x16xf32>, tensor<?x3xi32>
  return %o : tensor<?x16xf32>
}

// -----

func.func @conv_channel_groups(%x: tensor<1x8x8x64xf32>) -> tensor<1x8x8x16xf32> {
  %w = arith.constant dense<1> : tensor<3x3x64x16xi4>
  %s = arith.constant dense<0.5> : tensor<2x16xf32>
  // expected-error @below {{the GPU kernels take per-channel weight scales or groups of a multiple of 64 along K, not groups of 32}}
  %y = qnn.conv2d %x, %w scales(%s : tensor<2x16xf32>) layout nhwc padding [1, 1, 1, 1]
       : tensor<1x8x8x64xf32>, tensor<3x3x64x16xi4> -> tensor<1x8x8x16xf32>
  return %y : tensor<1x8x8x16xf32>
}
