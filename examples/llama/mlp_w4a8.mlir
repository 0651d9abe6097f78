// A LLaMA-style SwiGLU MLP after W4A8 quantization (QuaRot-style):
//   * activations quantized per token to i8 at run time,
//   * gate/up/down weights as i4 with group-wise (128) scales,
//   * an online Hadamard of order 768 = 12 * 64 (Paley base matrix) before the
//     down projection, whose inverse is folded into the down weights.
// Weights arrive as function arguments here; the shipped pipeline bakes them
// in as constants.
func.func @mlp(%x: tensor<16x256xf32>,
               %w_gate: tensor<256x768xi4>, %s_gate: tensor<2x768xf32>,
               %w_up: tensor<256x768xi4>, %s_up: tensor<2x768xf32>,
               %w_down: tensor<768x256xi4>, %s_down: tensor<6x256xf32>)
    -> tensor<16x256xf32> {
  %xq, %xs = qnn.quantize %x per_token
      : tensor<16x256xf32> -> tensor<16x256xi8>, tensor<16xf32>
  %gate = qnn.matmul %xq, %w_gate input_scales(%xs : tensor<16xf32>)
      scales(%s_gate : tensor<2x768xf32>) epilogue silu
      : tensor<16x256xi8>, tensor<256x768xi4> -> tensor<16x768xf32>
  %up = qnn.matmul %xq, %w_up input_scales(%xs : tensor<16xf32>)
      scales(%s_up : tensor<2x768xf32>)
      : tensor<16x256xi8>, tensor<256x768xi4> -> tensor<16x768xf32>
  %h = arith.mulf %gate, %up : tensor<16x768xf32>
  // Smoothing left an identity scale behind; canonicalization removes it.
  %hs = qnn.scale %h along 0 by [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                                 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
      : tensor<16x768xf32>
  %hr = qnn.hadamard %hs : tensor<16x768xf32>
  %hq, %hsc = qnn.quantize %hr per_token
      : tensor<16x768xf32> -> tensor<16x768xi8>, tensor<16xf32>
  %y = qnn.matmul %hq, %w_down input_scales(%hsc : tensor<16xf32>)
      scales(%s_down : tensor<6x256xf32>)
      : tensor<16x768xi8>, tensor<768x256xi4> -> tensor<16x256xf32>
  // A dead Hadamard (e.g. left by a rewrite) is pure and gets erased.
  %dead = qnn.hadamard %x : tensor<16x256xf32>
  return %y : tensor<16x256xf32>
}
