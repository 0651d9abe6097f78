// RUN: quant-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// qnn.hadamard
//===----------------------------------------------------------------------===//

func.func @hadamard_non_float(%x: tensor<4x8xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values}}
  %0 = qnn.hadamard %x : tensor<4x8xi32>
  return
}

// -----

func.func @hadamard_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{expects a tensor of rank >= 1}}
  %0 = qnn.hadamard %x : tensor<f32>
  return
}

// -----

func.func @hadamard_dynamic_last_dim(%x: tensor<4x?xf32>) {
  // expected-error @+1 {{the transformed (last) dimension must be static}}
  %0 = qnn.hadamard %x : tensor<4x?xf32>
  return
}

// -----

func.func @hadamard_unsupported_size(%x: tensor<4x6xf32>) {
  // expected-error @+1 {{transform size 6 is not supported; expected 2^k, 12*2^k, 20*2^k or 28*2^k}}
  %0 = qnn.hadamard %x : tensor<4x6xf32>
  return
}

// -----

func.func @hadamard_unsupported_size_36(%x: tensor<36xf32>) {
  // 36 = 12 * 3 is not 12 * 2^k.
  // expected-error @+1 {{transform size 36 is not supported}}
  %0 = qnn.hadamard %x : tensor<36xf32>
  return
}

// -----

func.func @hadamard_wrong_sign_count(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{expects 4 signs, got 3}}
  %0 = qnn.hadamard %x signs [1, -1, 1] : tensor<2x4xf32>
  return
}

// -----

func.func @hadamard_sign_not_unit(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{signs must be +1 or -1}}
  %0 = qnn.hadamard %x signs [1, -1, 0, 1] : tensor<2x4xf32>
  return
}

// -----

func.func @hadamard_result_type_mismatch(%x: tensor<2x4xf32>) {
  // expected-error @+1 {{all of {input, result} have same type}}
  %0 = "qnn.hadamard"(%x) : (tensor<2x4xf32>) -> tensor<2x4xf16>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.rotate
//===----------------------------------------------------------------------===//

func.func @rotate_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{expects a tensor of rank >= 1}}
  %0 = qnn.rotate %x by dense<[[0.0, 1.0], [-1.0, 0.0]]> : tensor<2x2xf32> : tensor<f32>
  return
}

// -----

func.func @rotate_non_square(%x: tensor<8x2xf32>) {
  // expected-error @+1 {{rotation must be a square 2-D matrix, got 'tensor<2x3xf32>'}}
  %0 = qnn.rotate %x by dense<0.0> : tensor<2x3xf32> : tensor<8x2xf32>
  return
}

// -----

func.func @rotate_not_2d(%x: tensor<8x2xf32>) {
  // expected-error @+1 {{rotation must be a square 2-D matrix}}
  %0 = qnn.rotate %x by dense<[1.0, 0.0]> : tensor<2xf32> : tensor<8x2xf32>
  return
}

// -----

func.func @rotate_size_mismatch(%x: tensor<8x4xf32>) {
  // expected-error @+1 {{rotation of size 2 does not match the last dimension (4)}}
  %0 = qnn.rotate %x by dense<[[0.0, 1.0], [-1.0, 0.0]]> : tensor<2x2xf32> : tensor<8x4xf32>
  return
}

// -----

func.func @rotate_element_type_mismatch(%x: tensor<8x2xf32>) {
  // expected-error @+1 {{rotation element type 'f16' differs from the input's 'f32'}}
  %0 = qnn.rotate %x by dense<[[0.0, 1.0], [-1.0, 0.0]]> : tensor<2x2xf16> : tensor<8x2xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.scale
//===----------------------------------------------------------------------===//

func.func @scale_axis_too_large(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range for rank 2}}
  %0 = qnn.scale %x along 2 by [1.0, 2.0, 3.0] : tensor<4x3xf32>
  return
}

// -----

func.func @scale_axis_negative(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{axis -1 is out of range for rank 2}}
  %0 = qnn.scale %x along -1 by [1.0, 2.0, 3.0] : tensor<4x3xf32>
  return
}

// -----

func.func @scale_factor_count(%x: tensor<4x3xf32>) {
  // expected-error @+1 {{expects 3 factors along axis 1, got 2}}
  %0 = qnn.scale %x along 1 by [1.0, 2.0] : tensor<4x3xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.quantize
//===----------------------------------------------------------------------===//

func.func @quantize_integer_input(%x: tensor<4x8xi32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of floating-point values}}
  %0 = qnn.quantize %x : tensor<4x8xi32> -> tensor<4x8x!quant.uniform<i8:f32, 0.05>>
  return
}

// -----

func.func @quantize_shape_mismatch(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{result shape must match the input shape}}
  %0 = qnn.quantize %x : tensor<4x8xf32> -> tensor<4x4x!quant.uniform<i8:f32, 0.05>>
  return
}

// -----

func.func @quantize_static_needs_quant_type(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{static quantization needs a !quant element type; integer storage needs 'per_token' scales}}
  %0 = qnn.quantize %x : tensor<4x8xf32> -> tensor<4x8xi8>
  return
}

// -----

func.func @quantize_expressed_type_mismatch(%x: tensor<4x8xf16>) {
  // expected-error @+1 {{quantized type is expressed in 'f32' but the float side is 'f16'}}
  %0 = qnn.quantize %x : tensor<4x8xf16> -> tensor<4x8x!quant.uniform<i8:f32, 0.05>>
  return
}

// -----

// The upstream !quant parser accepts any storage width up to 32 bits; qnn
// restricts it.
func.func @quantize_unsupported_bits_i5(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{unsupported bit-width 5; expected 2, 3, 4 or 8}}
  %0 = qnn.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i5:f32, 0.05:-3>>
  return
}

// -----

func.func @quantize_unsupported_bits_i16(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{unsupported bit-width 16; expected 2, 3, 4 or 8}}
  %0 = qnn.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i16:f32, 0.05>>
  return
}

// -----

func.func @quantize_per_axis_dim_out_of_range(%x: tensor<4x2xf32>) {
  // expected-error @+1 {{quantized dimension 2 is out of range for rank 2}}
  %0 = qnn.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32:2, {0.1, 0.2}>>
  return
}

// -----

func.func @quantize_per_axis_scale_count(%x: tensor<4x2xf32>) {
  // expected-error @+1 {{per-axis type has 3 scales but dimension 1 has size 2}}
  %0 = qnn.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2, 0.3}>>
  return
}

// -----

func.func @quantize_sub_channel_scales_rank(%x: tensor<256x2xf32>) {
  // expected-error @+1 {{sub-channel scales must have rank 2}}
  %0 = qnn.quantize %x : tensor<256x2xf32> -> tensor<256x2x!quant.uniform<i8:f32:{0:128}, {2.0, 3.0}>>
  return
}

// -----

func.func @quantize_sub_channel_dynamic_dim(%x: tensor<?x2xf32>) {
  // expected-error @+1 {{sub-channel dimension 0 must be a static dimension of the tensor}}
  %0 = qnn.quantize %x : tensor<?x2xf32> -> tensor<?x2x!quant.uniform<i8:f32:{0:128, 1:1}, {{2.0, 3.0}, {4.0, 5.0}}>>
  return
}

// -----

func.func @quantize_sub_channel_dim_out_of_range(%x: tensor<256x2xf32>) {
  // expected-error @+1 {{sub-channel dimension 2 must be a static dimension of the tensor}}
  %0 = qnn.quantize %x : tensor<256x2xf32> -> tensor<256x2x!quant.uniform<i8:f32:{2:128}, {{2.0, 3.0}, {4.0, 5.0}}>>
  return
}

// -----

func.func @quantize_sub_channel_block_mismatch(%x: tensor<256x2xf32>) {
  // expected-error @+1 {{sub-channel scales have 2 blocks along dimension 0, expected 4}}
  %0 = qnn.quantize %x : tensor<256x2xf32> -> tensor<256x2x!quant.uniform<i8:f32:{0:64, 1:1}, {{2.0, 3.0}, {4.0, 5.0}}>>
  return
}

// -----

func.func @quantize_sub_channel_block_not_dividing(%x: tensor<100x2xf32>) {
  // expected-error @+1 {{block size 64 along dimension 0 does not divide the tensor's 100 elements}}
  %0 = qnn.quantize %x : tensor<100x2xf32> -> tensor<100x2x!quant.uniform<i8:f32:{0:64, 1:1}, {{2.0, 3.0}, {4.0, 5.0}}>>
  return
}

// -----

func.func @quantize_per_token_non_integer_storage(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{per-token quantization uses integer storage, got '!quant.uniform<i8:f32, 5.000000e-02>'}}
  %q, %s = qnn.quantize %x per_token : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.05>>, tensor<4xf32>
  return
}

// -----

func.func @quantize_per_token_bits(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{unsupported per-token bit-width 2; expected 4 or 8}}
  %q, %s = qnn.quantize %x per_token : tensor<4x8xf32> -> tensor<4x8xi2>, tensor<4xf32>
  return
}

// -----

func.func @quantize_per_token_missing_scales(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{per-token quantization needs a scales tensor}}
  %q = qnn.quantize %x per_token : tensor<4x8xf32> -> tensor<4x8xi8>
  return
}

// -----

func.func @quantize_per_token_scales_shape(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{per-token scales must have type 'tensor<4xf32>'}}
  %q, %s = qnn.quantize %x per_token : tensor<4x8xf32> -> tensor<4x8xi8>, tensor<8xf32>
  return
}

// -----

func.func @quantize_per_token_scales_element_type(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{per-token scales must have type 'tensor<4xf32>'}}
  %q, %s = qnn.quantize %x per_token : tensor<4x8xf32> -> tensor<4x8xi8>, tensor<4xf16>
  return
}

// -----

func.func @quantize_scales_without_per_token(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{a scales result requires 'per_token'}}
  %q, %s = qnn.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.05>>, tensor<4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.dequantize
//===----------------------------------------------------------------------===//

func.func @dequantize_non_float_result(%q: tensor<4x8x!quant.uniform<i8:f32, 0.05>>) {
  // expected-error @+1 {{result #0 must be ranked tensor of floating-point values}}
  %0 = qnn.dequantize %q : tensor<4x8x!quant.uniform<i8:f32, 0.05>> -> tensor<4x8xi32>
  return
}

// -----

func.func @dequantize_shape_mismatch(%q: tensor<4x8x!quant.uniform<i8:f32, 0.05>>) {
  // expected-error @+1 {{result shape must match the input shape}}
  %0 = qnn.dequantize %q : tensor<4x8x!quant.uniform<i8:f32, 0.05>> -> tensor<8x4xf32>
  return
}

// -----

func.func @dequantize_expressed_type_mismatch(%q: tensor<4x8x!quant.uniform<i8:f32, 0.05>>) {
  // expected-error @+1 {{quantized type is expressed in 'f32' but the float side is 'bf16'}}
  %0 = qnn.dequantize %q : tensor<4x8x!quant.uniform<i8:f32, 0.05>> -> tensor<4x8xbf16>
  return
}

// -----

func.func @dequantize_unsupported_bits(%q: tensor<4x8x!quant.uniform<i5:f32, 0.05>>) {
  // expected-error @+1 {{unsupported bit-width 5; expected 2, 3, 4 or 8}}
  %0 = qnn.dequantize %q : tensor<4x8x!quant.uniform<i5:f32, 0.05>> -> tensor<4x8xf32>
  return
}

// -----

func.func @dequantize_per_axis_scale_count(%q: tensor<4x2x!quant.uniform<i8:f32:0, {0.1, 0.2}>>) {
  // expected-error @+1 {{per-axis type has 2 scales but dimension 0 has size 4}}
  %0 = qnn.dequantize %q : tensor<4x2x!quant.uniform<i8:f32:0, {0.1, 0.2}>> -> tensor<4x2xf32>
  return
}

// -----

func.func @dequantize_static_with_scales(%q: tensor<4x8x!quant.uniform<i8:f32, 0.05>>, %s: tensor<4xf32>) {
  // expected-error @+1 {{statically quantized input takes no scales}}
  %0 = qnn.dequantize %q, %s : tensor<4x8x!quant.uniform<i8:f32, 0.05>>, tensor<4xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @dequantize_per_token_missing_scales(%q: tensor<4x8xi8>) {
  // expected-error @+1 {{per-token quantization needs a scales tensor}}
  %0 = qnn.dequantize %q : tensor<4x8xi8> -> tensor<4x8xf32>
  return
}

// -----

func.func @dequantize_per_token_bits(%q: tensor<4x8xi16>, %s: tensor<4xf32>) {
  // expected-error @+1 {{unsupported per-token bit-width 16; expected 4 or 8}}
  %0 = qnn.dequantize %q, %s : tensor<4x8xi16>, tensor<4xf32> -> tensor<4x8xf32>
  return
}

// -----

func.func @dequantize_per_token_scales_shape(%q: tensor<2x4x8xi8>, %s: tensor<4xf32>) {
  // expected-error @+1 {{per-token scales must have type 'tensor<2x4xf32>'}}
  %0 = qnn.dequantize %q, %s : tensor<2x4x8xi8>, tensor<4xf32> -> tensor<2x4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.matmul: shapes
//===----------------------------------------------------------------------===//

func.func @matmul_input_rank(%x: tensor<64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{input must have rank >= 2 ([..., M, K])}}
  %0 = qnn.matmul %x, %w : tensor<64xf32>, tensor<64x32xf32> -> tensor<32xf32>
  return
}

// -----

func.func @matmul_weight_rank(%x: tensor<16x64xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{weight must be [K, N] or batched [B, K, N]}}
  %0 = qnn.matmul %x, %w : tensor<16x64xf32>, tensor<64xf32> -> tensor<16x64xf32>
  return
}

// -----

func.func @matmul_batched_weight_unbatched_input(%x: tensor<16x64xf32>, %w: tensor<3x64x32xf32>) {
  // expected-error @+1 {{batched weight [B, K, N] needs an input [B, M, K] with the same B}}
  %0 = qnn.matmul %x, %w : tensor<16x64xf32>, tensor<3x64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_batch_mismatch(%x: tensor<2x16x64xf32>, %w: tensor<3x64x32xf32>) {
  // expected-error @+1 {{batched weight [B, K, N] needs an input [B, M, K] with the same B}}
  %0 = qnn.matmul %x, %w : tensor<2x16x64xf32>, tensor<3x64x32xf32> -> tensor<2x16x32xf32>
  return
}

// -----

func.func @matmul_k_mismatch(%x: tensor<16x64xf32>, %w: tensor<32x32xf32>) {
  // expected-error @+1 {{reduction dimensions differ: input K = 64, weight K = 32}}
  %0 = qnn.matmul %x, %w : tensor<16x64xf32>, tensor<32x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_result_shape(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{result shape must be 'tensor<16x32xf32>'}}
  %0 = qnn.matmul %x, %w : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x64xf32>
  return
}

// -----

func.func @matmul_result_rank(%x: tensor<3x16x64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{result shape must be 'tensor<3x16x32xf32>'}}
  %0 = qnn.matmul %x, %w : tensor<3x16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_integer_result(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{result #0 must be ranked tensor of floating-point or quantized type values}}
  %0 = qnn.matmul %x, %w : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xi32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.matmul: weight quantization
//===----------------------------------------------------------------------===//

func.func @matmul_float_weight_with_scales(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{float weights take no 'scales' or 'zero_points'}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_float_weight_with_zero_points(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %z: tensor<1x32xi8>) {
  // expected-error @+1 {{float weights take no 'scales' or 'zero_points'}}
  %0 = qnn.matmul %x, %w zero_points(%z : tensor<1x32xi8>) : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_unsigned_weight(%x: tensor<16x64xf32>, %w: tensor<64x32xui8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of floating-point or signless integer values}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) : tensor<16x64xf32>, tensor<64x32xui8> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_weight_bits_i5(%x: tensor<16x64xf32>, %w: tensor<64x32xi5>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{unsupported weight bit-width 5; expected 2, 3, 4 or 8}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) : tensor<16x64xf32>, tensor<64x32xi5> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_missing_scales(%x: tensor<16x64xf32>, %w: tensor<64x32xi4>) {
  // expected-error @+1 {{integer weights require 'scales'}}
  %0 = qnn.matmul %x, %w : tensor<16x64xf32>, tensor<64x32xi4> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_scales_rank(%x: tensor<16x64xf32>, %w: tensor<64x32xi4>, %s: tensor<32xf32>) {
  // expected-error @+1 {{'scales' must have shape [groups, 32], got rank 1}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<32xf32>) : tensor<16x64xf32>, tensor<64x32xi4> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_scales_outputs(%x: tensor<16x64xf32>, %w: tensor<64x32xi4>, %s: tensor<1x16xf32>) {
  // expected-error @+1 {{'scales' has 16 output channels, expected 32}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x16xf32>) : tensor<16x64xf32>, tensor<64x32xi4> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_groups_not_dividing_k(%x: tensor<16x64xf32>, %w: tensor<64x32xi4>, %s: tensor<3x32xf32>) {
  // expected-error @+1 {{scale groups (3) do not divide the reduction dimension (64)}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<3x32xf32>) : tensor<16x64xf32>, tensor<64x32xi4> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_zero_groups(%x: tensor<16x64xf32>, %w: tensor<64x32xi4>, %s: tensor<0x32xf32>) {
  // expected-error @+1 {{scale groups (0) do not divide the reduction dimension (64)}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<0x32xf32>) : tensor<16x64xf32>, tensor<64x32xi4> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_group_size_16(%x: tensor<16x64xf32>, %w: tensor<64x32xi4>, %s: tensor<4x32xf32>) {
  // expected-error @+1 {{group size 16 is not supported; expected 32, 64 or 128 (or one group for per-channel scales)}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<4x32xf32>) : tensor<16x64xf32>, tensor<64x32xi4> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_zero_points_shape(%x: tensor<16x64xf32>, %w: tensor<64x32xi4>, %s: tensor<1x32xf32>, %z: tensor<2x32xi4>) {
  // expected-error @+1 {{'zero_points' shape must match 'scales'}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) zero_points(%z : tensor<2x32xi4>)
       : tensor<16x64xf32>, tensor<64x32xi4> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_zero_points_element_type(%x: tensor<16x64xf32>, %w: tensor<64x32xi4>, %s: tensor<1x32xf32>, %z: tensor<1x32xi8>) {
  // expected-error @+1 {{'zero_points' element type must match the weight storage type 'i4'}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) zero_points(%z : tensor<1x32xi8>)
       : tensor<16x64xf32>, tensor<64x32xi4> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_float_zero_points(%x: tensor<16x64xf32>, %w: tensor<64x32xi4>, %s: tensor<1x32xf32>, %z: tensor<1x32xf32>) {
  // ODS numbers the operands actually present: no input_scales, so zero_points is #3.
  // expected-error @+1 {{operand #3 must be ranked tensor of signless integer values}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) zero_points(%z : tensor<1x32xf32>)
       : tensor<16x64xf32>, tensor<64x32xi4> -> tensor<16x32xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.matmul: activations
//===----------------------------------------------------------------------===//

func.func @matmul_float_activation_with_input_scales(%x: tensor<16x64xf32>, %xs: tensor<16xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{float activations take no 'input_scales'}}
  %0 = qnn.matmul %x, %w input_scales(%xs : tensor<16xf32>) : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_quantized_activation_float_weight(%x: tensor<16x64x!quant.uniform<i8:f32, 0.1>>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{quantized activations require integer (quantized) weights}}
  %0 = qnn.matmul %x, %w : tensor<16x64x!quant.uniform<i8:f32, 0.1>>, tensor<64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_integer_activation_float_weight(%x: tensor<16x64xi8>, %xs: tensor<16xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{quantized activations require integer (quantized) weights}}
  %0 = qnn.matmul %x, %w input_scales(%xs : tensor<16xf32>) : tensor<16x64xi8>, tensor<64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_static_activation_with_input_scales(%x: tensor<16x64x!quant.uniform<i8:f32, 0.1>>, %xs: tensor<16xf32>,
                                                      %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{statically quantized activations take no 'input_scales'}}
  %0 = qnn.matmul %x, %w input_scales(%xs : tensor<16xf32>) scales(%s : tensor<1x32xf32>)
       : tensor<16x64x!quant.uniform<i8:f32, 0.1>>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_per_axis_activation(%x: tensor<4x64x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.3, 0.4}>>,
                                      %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{activation must use a per-tensor !quant.uniform type}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>)
       : tensor<4x64x!quant.uniform<i8:f32:0, {0.1, 0.2, 0.3, 0.4}>>, tensor<64x32xi8> -> tensor<4x32xf32>
  return
}

// -----

func.func @matmul_static_activation_bits_i2(%x: tensor<16x64x!quant.uniform<i2:f32, 0.1>>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{unsupported activation bit-width 2; expected 4 or 8}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>)
       : tensor<16x64x!quant.uniform<i2:f32, 0.1>>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_dynamic_activation_bits_i2(%x: tensor<16x64xi2>, %xs: tensor<16xf32>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{unsupported activation bit-width 2; expected 4 or 8}}
  %0 = qnn.matmul %x, %w input_scales(%xs : tensor<16xf32>) scales(%s : tensor<1x32xf32>)
       : tensor<16x64xi2>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_missing_input_scales(%x: tensor<16x64xi8>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{integer activations require 'input_scales'}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) : tensor<16x64xi8>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_input_scales_shape(%x: tensor<16x64xi8>, %xs: tensor<8xf32>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{'input_scales' must have one scale per token (the input shape without its last dimension)}}
  %0 = qnn.matmul %x, %w input_scales(%xs : tensor<8xf32>) scales(%s : tensor<1x32xf32>)
       : tensor<16x64xi8>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_input_scales_rank(%x: tensor<2x16x64xi8>, %xs: tensor<16xf32>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{'input_scales' must have one scale per token}}
  %0 = qnn.matmul %x, %w input_scales(%xs : tensor<16xf32>) scales(%s : tensor<1x32xf32>)
       : tensor<2x16x64xi8>, tensor<64x32xi8> -> tensor<2x16x32xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.matmul: bias and result
//===----------------------------------------------------------------------===//

func.func @matmul_bias_shape(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'bias' must have shape [32]}}
  %0 = qnn.matmul %x, %w bias(%b : tensor<64xf32>) : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_bias_rank(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>, %b: tensor<1x32xf32>) {
  // expected-error @+1 {{'bias' must have shape [32]}}
  %0 = qnn.matmul %x, %w bias(%b : tensor<1x32xf32>) : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_requantized_per_axis(%x: tensor<4x64xf32>, %w: tensor<64x2xi8>, %s: tensor<1x2xf32>) {
  // expected-error @+1 {{requantized result must use a per-tensor !quant.uniform type}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x2xf32>)
       : tensor<4x64xf32>, tensor<64x2xi8> -> tensor<4x2x!quant.uniform<i8:f32:1, {0.1, 0.2}>>
  return
}

// -----

func.func @matmul_requantized_bits(%x: tensor<4x64xf32>, %w: tensor<64x2xi8>, %s: tensor<1x2xf32>) {
  // expected-error @+1 {{unsupported requantized result bit-width 16; expected 4 or 8}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x2xf32>)
       : tensor<4x64xf32>, tensor<64x2xi8> -> tensor<4x2x!quant.uniform<i16:f32, 0.1>>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.matmul: precision split
//===----------------------------------------------------------------------===//

func.func @matmul_split_float_weight(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) {
  // expected-error @+1 {{a precision split needs integer weights}}
  %0 = qnn.matmul %x, %w split <low_bits = 4, high_columns = [0]> : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_split_low_bits_not_below_width(%x: tensor<16x64xf32>, %w: tensor<64x32xi4>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{precision split low_bits (4) must be below the weight width (4)}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) split <low_bits = 4, high_columns = [0]>
       : tensor<16x64xf32>, tensor<64x32xi4> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_split_column_out_of_range(%x: tensor<16x64xf32>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{precision split column 32 is out of range for N = 32}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) split <low_bits = 4, high_columns = [1, 32]>
       : tensor<16x64xf32>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @split_attr_low_bits_5(%x: tensor<16x64xf32>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{precision split low_bits must be 2, 3 or 4, got 5}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) split <low_bits = 5, high_columns = [0]>
       : tensor<16x64xf32>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @split_attr_low_bits_1(%x: tensor<16x64xf32>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{precision split low_bits must be 2, 3 or 4, got 1}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) split <low_bits = 1, high_columns = [0]>
       : tensor<16x64xf32>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @split_attr_decreasing_columns(%x: tensor<16x64xf32>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{precision split high_columns must be strictly increasing}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) split <low_bits = 4, high_columns = [5, 3]>
       : tensor<16x64xf32>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @split_attr_duplicate_columns(%x: tensor<16x64xf32>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{precision split high_columns must be strictly increasing}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) split <low_bits = 4, high_columns = [3, 3]>
       : tensor<16x64xf32>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @split_attr_negative_column(%x: tensor<16x64xf32>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{precision split column -1 is negative}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x32xf32>) split <low_bits = 4, high_columns = [-1, 2]>
       : tensor<16x64xf32>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.conv2d
//===----------------------------------------------------------------------===//

func.func @conv2d_input_rank(%x: tensor<3x32x32xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{input and weight must be 4-D}}
  %0 = qnn.conv2d %x, %w layout nchw : tensor<3x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x30x30xf32>
  return
}

// -----

func.func @conv2d_weight_rank(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3xf32>) {
  // expected-error @+1 {{input and weight must be 4-D}}
  %0 = qnn.conv2d %x, %w layout nchw : tensor<1x3x32x32xf32>, tensor<8x3x3xf32> -> tensor<1x8x30x30xf32>
  return
}

// -----

func.func @conv2d_stride_count(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{expects 2 strides, 2 dilations and 4 paddings [top, left, bottom, right]}}
  %0 = qnn.conv2d %x, %w layout nchw strides [1] : tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x30x30xf32>
  return
}

// -----

func.func @conv2d_dilation_count(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{expects 2 strides, 2 dilations and 4 paddings}}
  %0 = qnn.conv2d %x, %w layout nchw dilations [1, 1, 1] : tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x30x30xf32>
  return
}

// -----

func.func @conv2d_padding_count(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{expects 2 strides, 2 dilations and 4 paddings}}
  %0 = qnn.conv2d %x, %w layout nchw padding [1, 1] : tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x32x32xf32>
  return
}

// -----

func.func @conv2d_zero_stride(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{strides and dilations must be positive}}
  %0 = qnn.conv2d %x, %w layout nchw strides [0, 1] : tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x30x30xf32>
  return
}

// -----

func.func @conv2d_negative_dilation(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{strides and dilations must be positive}}
  %0 = qnn.conv2d %x, %w layout nchw dilations [1, -1] : tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x30x30xf32>
  return
}

// -----

func.func @conv2d_negative_padding(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{padding must be non-negative}}
  %0 = qnn.conv2d %x, %w layout nchw padding [0, 0, -1, 0] : tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x29x30xf32>
  return
}

// -----

func.func @conv2d_channel_mismatch_nchw(%x: tensor<1x4x32x32xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{input has 4 channels but the weight expects 3}}
  %0 = qnn.conv2d %x, %w layout nchw : tensor<1x4x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x30x30xf32>
  return
}

// -----

func.func @conv2d_channel_mismatch_nhwc(%x: tensor<1x32x32x16xf32>, %w: tensor<3x3x32x64xf32>) {
  // expected-error @+1 {{input has 16 channels but the weight expects 32}}
  %0 = qnn.conv2d %x, %w layout nhwc : tensor<1x32x32x16xf32>, tensor<3x3x32x64xf32> -> tensor<1x30x30x64xf32>
  return
}

// -----

func.func @conv2d_kernel_too_big(%x: tensor<1x3x4x4xf32>, %w: tensor<8x3x5x5xf32>) {
  // expected-error @+1 {{the dilated kernel does not fit the padded input}}
  %0 = qnn.conv2d %x, %w layout nchw : tensor<1x3x4x4xf32>, tensor<8x3x5x5xf32> -> tensor<1x8x1x1xf32>
  return
}

// -----

func.func @conv2d_dilated_kernel_too_big(%x: tensor<1x3x8x8xf32>, %w: tensor<8x3x3x3xf32>) {
  // Dilated extent 2 * (3 - 1) + 1 = 5 per step of 4: 9 > 8.
  // expected-error @+1 {{the dilated kernel does not fit the padded input}}
  %0 = qnn.conv2d %x, %w layout nchw dilations [4, 4] : tensor<1x3x8x8xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x1x1xf32>
  return
}

// -----

func.func @conv2d_result_shape(%x: tensor<1x56x56x32xf32>, %w: tensor<3x3x32x64xf32>) {
  // expected-error @+1 {{result shape must be 'tensor<1x28x28x64xf32>'}}
  %0 = qnn.conv2d %x, %w layout nhwc strides [2, 2] padding [1, 1, 1, 1]
       : tensor<1x56x56x32xf32>, tensor<3x3x32x64xf32> -> tensor<1x56x56x64xf32>
  return
}

// -----

func.func @conv2d_result_rank(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{result shape must be 'tensor<1x8x30x30xf32>'}}
  %0 = qnn.conv2d %x, %w layout nchw : tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<8x30x30xf32>
  return
}

// -----

func.func @conv2d_integer_input(%x: tensor<1x3x32x32xi8>, %w: tensor<8x3x3x3xi8>, %s: tensor<1x8xf32>) {
  // expected-error @+1 {{integer activations need per-token scales; use a !quant.uniform activation type}}
  %0 = qnn.conv2d %x, %w scales(%s : tensor<1x8xf32>) layout nchw
       : tensor<1x3x32x32xi8>, tensor<8x3x3x3xi8> -> tensor<1x8x30x30xf32>
  return
}

// -----

func.func @conv2d_quantized_input_float_weight(%x: tensor<1x3x32x32x!quant.uniform<i8:f32, 0.1>>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{quantized activations require integer (quantized) weights}}
  %0 = qnn.conv2d %x, %w layout nchw
       : tensor<1x3x32x32x!quant.uniform<i8:f32, 0.1>>, tensor<8x3x3x3xf32> -> tensor<1x8x30x30xf32>
  return
}

// -----

func.func @conv2d_missing_scales(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xi8>) {
  // expected-error @+1 {{integer weights require 'scales'}}
  %0 = qnn.conv2d %x, %w layout nchw : tensor<1x3x32x32xf32>, tensor<8x3x3x3xi8> -> tensor<1x8x30x30xf32>
  return
}

// -----

func.func @conv2d_scales_filters(%x: tensor<1x56x56x32xf32>, %w: tensor<3x3x32x64xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{'scales' has 32 output channels, expected 64}}
  %0 = qnn.conv2d %x, %w scales(%s : tensor<1x32xf32>) layout nhwc
       : tensor<1x56x56x32xf32>, tensor<3x3x32x64xi8> -> tensor<1x54x54x64xf32>
  return
}

// -----

func.func @conv2d_bias_shape(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'bias' must have shape [8]}}
  %0 = qnn.conv2d %x, %w bias(%b : tensor<3xf32>) layout nchw : tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x30x30xf32>
  return
}

// -----

func.func @conv2d_requantized_bits(%x: tensor<1x3x32x32xf32>, %w: tensor<8x3x3x3xf32>) {
  // expected-error @+1 {{unsupported requantized result bit-width 2; expected 4 or 8}}
  %0 = qnn.conv2d %x, %w layout nchw
       : tensor<1x3x32x32xf32>, tensor<8x3x3x3xf32> -> tensor<1x8x30x30x!quant.uniform<i2:f32, 0.5>>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.pillar_conv
//===----------------------------------------------------------------------===//

func.func @pillar_conv_non_i32_coords(%f: tensor<?x64xf32>, %c: tensor<?x3xi64>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of 32-bit signless integer values}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi64>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_features_rank(%f: tensor<10x4x64xf32>, %c: tensor<10x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{features must be [N, C_in]}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<10x4x64xf32>, tensor<10x3xi32>, tensor<3x3x64x64xf32> -> tensor<10x64xf32>, tensor<10x3xi32>
  return
}

// -----

func.func @pillar_conv_coords_shape(%f: tensor<10x64xf32>, %c: tensor<10x2xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{coords must be [N, 3] (batch, y, x)}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<10x64xf32>, tensor<10x2xi32>, tensor<3x3x64x64xf32> -> tensor<10x64xf32>, tensor<10x3xi32>
  return
}

// -----

func.func @pillar_conv_coords_rank(%f: tensor<10x64xf32>, %c: tensor<30xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{coords must be [N, 3] (batch, y, x)}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<10x64xf32>, tensor<30xi32>, tensor<3x3x64x64xf32> -> tensor<10x64xf32>, tensor<10x3xi32>
  return
}

// -----

func.func @pillar_conv_count_mismatch(%f: tensor<10x64xf32>, %c: tensor<12x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{coords have 12 pillars but features have 10}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<10x64xf32>, tensor<12x3xi32>, tensor<3x3x64x64xf32> -> tensor<10x64xf32>, tensor<10x3xi32>
  return
}

// -----

func.func @pillar_conv_weight_rank(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x64x64xf32>) {
  // expected-error @+1 {{weight must be [KH, KW, C_in, C_out]}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_even_kernel(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<2x2x64x64xf32>) {
  // expected-error @+1 {{kernel must be square with an odd static size, got 2x2}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<2x2x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_non_square_kernel(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x5x64x64xf32>) {
  // expected-error @+1 {{kernel must be square with an odd static size, got 3x5}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x5x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_channel_mismatch(%f: tensor<?x32xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{weight expects 64 input channels, features have 32}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<?x32xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_grid_size(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{grid must be [H, W] with positive sizes}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432, 1]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_grid_non_positive(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{grid must be [H, W] with positive sizes}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 0]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_stride_3(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{stride must be 1 or 2, got 3}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432] stride 3
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_submanifold_threshold(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{'threshold', 'topk_ratio' and 'importance' apply only to selective_dilation}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432] threshold 1.0
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_submanifold_importance(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>,
                                              %imp: tensor<?xf32>) {
  // expected-error @+1 {{apply only to selective_dilation}}
  %0:2 = qnn.pillar_conv %f, %c, %w importance(%imp : tensor<?xf32>) kind submanifold grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_sd_both(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{selective_dilation needs exactly one of 'threshold' and 'topk_ratio'}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind selective_dilation grid [496, 432] threshold 1.0 topk_ratio 0.5
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_sd_neither(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{selective_dilation needs exactly one of 'threshold' and 'topk_ratio'}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind selective_dilation grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_topk_ratio_too_large(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{topk_ratio must be in (0, 1]}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind selective_dilation grid [496, 432] topk_ratio 1.5
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_topk_ratio_zero(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{topk_ratio must be in (0, 1]}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind selective_dilation grid [496, 432] topk_ratio 0.0
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_importance_shape(%f: tensor<10x64xf32>, %c: tensor<10x3xi32>, %w: tensor<3x3x64x64xf32>,
                                        %imp: tensor<12xf32>) {
  // expected-error @+1 {{'importance' must have shape [10]}}
  %0:2 = qnn.pillar_conv %f, %c, %w importance(%imp : tensor<12xf32>) kind selective_dilation grid [496, 432] threshold 1.0
         : tensor<10x64xf32>, tensor<10x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_importance_rank(%f: tensor<10x64xf32>, %c: tensor<10x3xi32>, %w: tensor<3x3x64x64xf32>,
                                       %imp: tensor<10x1xf32>) {
  // expected-error @+1 {{'importance' must have shape [10]}}
  %0:2 = qnn.pillar_conv %f, %c, %w importance(%imp : tensor<10x1xf32>) kind selective_dilation grid [496, 432] threshold 1.0
         : tensor<10x64xf32>, tensor<10x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_output_features_shape(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x32xf32>) {
  // expected-error @+1 {{output features must be [M, 32]}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x32xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_output_features_rank(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x32xf32>) {
  // expected-error @+1 {{output features must be [M, 32]}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x32xf32> -> tensor<?xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_output_coords_width(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{output coords must be [M, 3] with the same M as the output features}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x2xi32>
  return
}

// -----

func.func @pillar_conv_output_coords_count(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{output coords must be [M, 3] with the same M as the output features}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind selective_dilation grid [496, 432] threshold 1.0
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<20x64xf32>, tensor<24x3xi32>
  return
}

// -----

func.func @pillar_conv_submanifold_changes_n(%f: tensor<10x64xf32>, %c: tensor<10x3xi32>, %w: tensor<3x3x64x64xf32>) {
  // expected-error @+1 {{a stride-1 submanifold conv keeps the 10 active sites, result has 12}}
  %0:2 = qnn.pillar_conv %f, %c, %w kind submanifold grid [496, 432]
         : tensor<10x64xf32>, tensor<10x3xi32>, tensor<3x3x64x64xf32> -> tensor<12x64xf32>, tensor<12x3xi32>
  return
}

// -----

func.func @pillar_conv_integer_features(%f: tensor<?x64xi8>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xi8>, %s: tensor<1x64xf32>) {
  // expected-error @+1 {{integer activations need per-token scales; use a !quant.uniform activation type}}
  %0:2 = qnn.pillar_conv %f, %c, %w scales(%s : tensor<1x64xf32>) kind submanifold grid [496, 432]
         : tensor<?x64xi8>, tensor<?x3xi32>, tensor<3x3x64x64xi8> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_group_size(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xi4>, %s: tensor<4x64xf32>) {
  // expected-error @+1 {{group size 16 is not supported}}
  %0:2 = qnn.pillar_conv %f, %c, %w scales(%s : tensor<4x64xf32>) kind submanifold grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xi4> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// -----

func.func @pillar_conv_bias_shape(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x32xf32>, %b: tensor<64xf32>) {
  // expected-error @+1 {{'bias' must have shape [32]}}
  %0:2 = qnn.pillar_conv %f, %c, %w bias(%b : tensor<64xf32>) kind submanifold grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x32xf32> -> tensor<?x32xf32>, tensor<?x3xi32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// #qnn.calib_stats (attribute verifier)
//===----------------------------------------------------------------------===//

func.func @calib_stats_negative_axis(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats axis must be non-negative}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = -1, samples = 16, absmax = [4.0, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5], percentile = 99.9, percentile_absmax = [3.9, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_no_samples(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats needs at least one sample}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 0, absmax = [4.0, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5], percentile = 99.9, percentile_absmax = [3.9, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_no_channels(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats needs at least one channel}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16, absmax = [], min = [], max = [], percentile = 99.9, percentile_absmax = []>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_min_count(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats arrays must all have 2 channels}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16, absmax = [4.0, 2.5], min = [-4.0], max = [3.5, 2.5], percentile = 99.9, percentile_absmax = [3.9, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_max_count(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats arrays must all have 2 channels}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16, absmax = [4.0, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5, 1.0], percentile = 99.9, percentile_absmax = [3.9, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_percentile_absmax_count(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats arrays must all have 2 channels}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16, absmax = [4.0, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5], percentile = 99.9, percentile_absmax = [3.9]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_percentile_zero(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats percentile must be in (0, 100]}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16, absmax = [4.0, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5], percentile = 0.0, percentile_absmax = [3.9, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_percentile_above_100(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats percentile must be in (0, 100]}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16, absmax = [4.0, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5], percentile = 100.5, percentile_absmax = [3.9, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_min_above_max(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats channel 1 has min > max}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16, absmax = [4.0, 2.5], min = [-4.0, 3.0], max = [3.5, 2.5], percentile = 99.9, percentile_absmax = [3.9, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_absmax_inconsistent(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats channel 0 absmax is not max(|min|, |max|)}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16, absmax = [3.5, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5], percentile = 99.9, percentile_absmax = [3.4, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_percentile_absmax_negative(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats channel 1 percentile_absmax must lie in [0, absmax]}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16, absmax = [4.0, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5], percentile = 99.9, percentile_absmax = [3.9, -0.1]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_percentile_absmax_above_absmax(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats channel 0 percentile_absmax must lie in [0, absmax]}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16, absmax = [4.0, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5], percentile = 99.9, percentile_absmax = [4.5, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.* discardable attributes (QNNDialect::verifyOperationAttribute)
//===----------------------------------------------------------------------===//

func.func @unknown_qnn_attribute(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{unknown qnn attribute 'qnn.foo'}}
  %0 = qnn.matmul %x, %w {qnn.foo = 1 : i64} : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_wrong_attribute_kind(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{'qnn.calib_stats' must be a #qnn.calib_stats attribute}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = 1.0 : f32} : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_wrong_qnn_attribute_kind(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{'qnn.calib_stats' must be a #qnn.calib_stats attribute}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.precision_split<low_bits = 4, high_columns = [0]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_no_operands() {
  // expected-error @+1 {{'qnn.calib_stats' describes the first operand, but the op has none}}
  %c = arith.constant {qnn.calib_stats = #qnn.calib_stats<axis = 0, samples = 1, absmax = [1.0], min = [-1.0], max = [0.5], percentile = 100.0, percentile_absmax = [1.0]>} 1.0 : f32
  return
}

// -----

func.func @calib_stats_scalar_operand(%a: f32, %b: f32) {
  // expected-error @+1 {{'qnn.calib_stats' needs a ranked tensor first operand}}
  %0 = arith.addf %a, %b {qnn.calib_stats = #qnn.calib_stats<axis = 0, samples = 1, absmax = [1.0], min = [-1.0], max = [0.5], percentile = 100.0, percentile_absmax = [1.0]>} : f32
  return
}

// -----

func.func @calib_stats_axis_out_of_range(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats axis 2 is out of range for rank 2}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 2, samples = 16, absmax = [4.0, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5], percentile = 99.9, percentile_absmax = [3.9, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @calib_stats_channel_count(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{calib_stats has 2 channels but the operand has 4 along axis 0}}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 0, samples = 16, absmax = [4.0, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5], percentile = 99.9, percentile_absmax = [3.9, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// qnn.matmul hadamard prologue
//===----------------------------------------------------------------------===//

func.func @matmul_prologue_quantized_activation(%x: tensor<16x64xi8>, %xs: tensor<16xf32>, %w: tensor<64x32xi8>, %s: tensor<1x32xf32>) {
  // expected-error @+1 {{a Hadamard prologue needs float activations}}
  %0 = qnn.matmul %x, %w hadamard_prologue input_scales(%xs : tensor<16xf32>) scales(%s : tensor<1x32xf32>)
       : tensor<16x64xi8>, tensor<64x32xi8> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_prologue_dynamic_k(%x: tensor<16x?xf32>, %w: tensor<?x32xf32>) {
  // expected-error @+1 {{the transformed (last) dimension must be static}}
  %0 = qnn.matmul %x, %w hadamard_prologue : tensor<16x?xf32>, tensor<?x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_prologue_unsupported_size(%x: tensor<16x6xf32>, %w: tensor<6x32xf32>) {
  // expected-error @+1 {{transform size 6 is not supported}}
  %0 = qnn.matmul %x, %w hadamard_prologue : tensor<16x6xf32>, tensor<6x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_prologue_sign_count(%x: tensor<16x4xf32>, %w: tensor<4x32xf32>) {
  // expected-error @+1 {{expects 4 signs, got 3}}
  %0 = qnn.matmul %x, %w hadamard_prologue prologue_signs [1, -1, 1] : tensor<16x4xf32>, tensor<4x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_prologue_sign_value(%x: tensor<16x4xf32>, %w: tensor<4x32xf32>) {
  // expected-error @+1 {{signs must be +1 or -1}}
  %0 = qnn.matmul %x, %w hadamard_prologue prologue_signs [1, -1, 2, 1] : tensor<16x4xf32>, tensor<4x32xf32> -> tensor<16x32xf32>
  return
}

// -----

func.func @matmul_prologue_signs_without_prologue(%x: tensor<16x4xf32>, %w: tensor<4x32xf32>) {
  // expected-error @+1 {{'prologue_signs' requires 'hadamard_prologue'}}
  %0 = qnn.matmul %x, %w prologue_signs [1, -1, 1, -1] : tensor<16x4xf32>, tensor<4x32xf32> -> tensor<16x32xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Shape corner cases
//===----------------------------------------------------------------------===//

func.func @quantize_per_token_rank0(%x: tensor<f32>) {
  // expected-error @+1 {{per-token quantization needs a tensor of rank >= 1}}
  %q, %s = qnn.quantize %x per_token : tensor<f32> -> tensor<i8>, tensor<f32>
  return
}

// -----

func.func @dequantize_per_token_rank0(%q: tensor<i8>, %s: tensor<f32>) {
  // expected-error @+1 {{per-token quantization needs a tensor of rank >= 1}}
  %y = qnn.dequantize %q, %s : tensor<i8>, tensor<f32> -> tensor<f32>
  return
}

// -----

// Floor, not truncation: a 5x5 kernel never fits a 4x4 input, whatever the stride.
func.func @conv2d_kernel_larger_than_input_strided(%x: tensor<1x3x4x4xf32>, %w: tensor<8x3x5x5xf32>) {
  // expected-error @+1 {{the dilated kernel does not fit the padded input}}
  %0 = qnn.conv2d %x, %w layout nchw strides [2, 2] : tensor<1x3x4x4xf32>, tensor<8x3x5x5xf32> -> tensor<1x8x1x1xf32>
  return
}

// -----

// An axis without a listed block size is one block.
func.func @quantize_subchannel_unlisted_axis(%x: tensor<256x2xf32>) {
  // expected-error @+1 {{sub-channel scales have 2 blocks along dimension 1, expected 1}}
  %0 = qnn.quantize %x : tensor<256x2xf32> -> tensor<256x2x!quant.uniform<i8:f32:{0:128}, {{2.0, 3.0}, {4.0, 5.0}}>>
  return
}

// -----

// The group size is checked against the weight's K when the input's K is dynamic.
func.func @matmul_group_size_dynamic_input_k(%x: tensor<4x?xf32>, %w: tensor<64x8xi8>, %s: tensor<4x8xf32>) {
  // expected-error @+1 {{group size 16 is not supported}}
  %0 = qnn.matmul %x, %w scales(%s : tensor<4x8xf32>) : tensor<4x?xf32>, tensor<64x8xi8> -> tensor<4x8xf32>
  return
}

// -----

// Dynamic sizes print as `?` in diagnostics.
func.func @matmul_bias_dynamic_n(%x: tensor<4x64xf32>, %w: tensor<64x?xf32>, %b: tensor<3x2xf32>) {
  // expected-error @+1 {{'bias' must have shape [?]}}
  %0 = qnn.matmul %x, %w bias(%b : tensor<3x2xf32>) : tensor<4x64xf32>, tensor<64x?xf32> -> tensor<4x?xf32>
  return
}

// -----

// expected-error @+1 {{qnn attribute 'qnn.foo' is not valid on a region argument}}
func.func @qnn_attribute_on_argument(%x: tensor<4xf32> {qnn.foo = 1 : i64}) {
  return
}

// -----

func.func @bits_attribute_value(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) {
  // expected-error @+1 {{'qnn.bits' must be an integer in {2, 3, 4, 8}}}
  %0 = qnn.matmul %x, %w {qnn.bits = 5 : i64} : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @bits_attribute_on_non_layer(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{'qnn.bits' applies to qnn.matmul, qnn.conv2d and qnn.pillar_conv}}
  %0 = qnn.hadamard %x {qnn.bits = 4 : i64} : tensor<4x8xf32>
  return
}

// -----

func.func @ukernel_positions(%x: tensor<4xf32>, %n: i64) {
  // expected-error @below {{expects one output position per 'outs' operand, got 2 for 1}}
  %y = qnn.ukernel "k"(%n : i64) outs(%x : tensor<4xf32>) output_positions [0, 1] -> tensor<4xf32>
  return
}

// -----

func.func @ukernel_position_range(%x: tensor<4xf32>, %n: i64) {
  // expected-error @below {{output positions must increase within [0, 2)}}
  %y = qnn.ukernel "k"(%n : i64) outs(%x : tensor<4xf32>) output_positions [2] -> tensor<4xf32>
  return
}

// -----

func.func @ukernel_mixed(%x: tensor<4xf32>, %b: memref<4xf32>) {
  // expected-error @below {{'outs' must be all ranked tensors or all memrefs}}
  %y = qnn.ukernel "k"() outs(%x, %b : tensor<4xf32>, memref<4xf32>) output_positions [0, 1] -> tensor<4xf32>
  return
}

// -----

func.func @ukernel_buffer_results(%b: memref<4xf32>) {
  // expected-error @below {{on memrefs the op has no results}}
  %y = qnn.ukernel "k"() outs(%b : memref<4xf32>) output_positions [0] -> tensor<4xf32>
  return
}

// -----

func.func @ukernel_result_types(%x: tensor<4xf32>) {
  // expected-error @below {{results must have the types of the 'outs' operands}}
  %y = qnn.ukernel "k"() outs(%x : tensor<4xf32>) output_positions [0] -> tensor<8xf32>
  return
}
