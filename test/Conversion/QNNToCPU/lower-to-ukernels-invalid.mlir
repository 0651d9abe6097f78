// RUN: quant-opt %s --qnn-lower-to-ukernels --split-input-file -verify-diagnostics

func.func @runtime_integer_weights(%x: tensor<2x64xf32>, %w: tensor<64x8xi4>) -> tensor<2x8xf32> {
  %s = arith.constant dense<0.5> : tensor<1x8xf32>
  // expected-error @below {{needs constant integer weights, scales and zero points to pack them for the CPU}}
  %y = qnn.matmul %x, %w scales(%s : tensor<1x8xf32>) : tensor<2x64xf32>, tensor<64x8xi4> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

func.func @f16_token_scales(%x: tensor<2x64xf16>) -> tensor<2x64xi8> {
  // expected-error @below {{the CPU lowering computes per-token scales in f32, not 'f16'}}
  %q, %s = qnn.quantize %x per_token : tensor<2x64xf16> -> tensor<2x64xi8>, tensor<2xf16>
  return %q : tensor<2x64xi8>
}

// -----

func.func @batched_integer_weights(%x: tensor<2x4x64xf32>) -> tensor<2x4x8xf32> {
  %w = arith.constant dense<1> : tensor<2x64x8xi8>
  %s = arith.constant dense<0.5> : tensor<1x8xf32>
  // expected-error @below {{the CPU lowering supports batched weights only for float operands}}
  %y = qnn.matmul %x, %w scales(%s : tensor<1x8xf32>) : tensor<2x4x64xf32>, tensor<2x64x8xi8> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// -----

func.func @zero_point_out_of_split_range(%q: tensor<2x64xi8>, %qs: tensor<2xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<3> : tensor<64x8xi8>
  %s = arith.constant dense<0.5> : tensor<1x8xf32>
  %z = arith.constant dense<100> : tensor<1x8xi8>
  // expected-error @below {{weight codes or zero points do not fit 4 bits}}
  // expected-error @below {{failed to legalize operation 'qnn.matmul'}}
  %y = qnn.matmul %q, %w input_scales(%qs : tensor<2xf32>) scales(%s : tensor<1x8xf32>) zero_points(%z : tensor<1x8xi8>)
       split <low_bits = 4, high_columns = [0]>
       : tensor<2x64xi8>, tensor<64x8xi8> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}
