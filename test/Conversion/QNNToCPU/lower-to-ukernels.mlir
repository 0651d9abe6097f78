// RUN: quant-opt %s --qnn-lower-to-ukernels --split-input-file | FileCheck %s

// Float matmul: the f32 GEMM kernel writes C at argument 11; bias and
// activation follow as one element-wise generic.
// CHECK-LABEL: func.func @float_matmul
// CHECK: %[[C:.*]] = qnn.ukernel "qr_uk_gemm_f32"({{.*}}) outs(%{{.*}} : tensor<16x32xf32>) output_positions [11] -> tensor<16x32xf32>
// CHECK: linalg.generic {{.*}} ins(%[[C]], %{{.*}} : tensor<16x32xf32>, tensor<32xf32>)
// CHECK: math.exp
func.func @float_matmul(%x: tensor<16x64xf32>) -> tensor<16x32xf32> {
  %w = arith.constant dense<0.25> : tensor<64x32xf32>
  %b = arith.constant dense<1.0> : tensor<32xf32>
  %y = qnn.matmul %x, %w bias(%b : tensor<32xf32>) epilogue silu
       : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  return %y : tensor<16x32xf32>
}

// -----

// W4A8: per-token quantization kernel (two outputs), then the integer
// kernel on a packed i8 blob; i4 activations travel as bytes.
// CHECK-LABEL: func.func @w4a8
// CHECK: %[[Q:.*]]:2 = qnn.ukernel "qr_uk_quantize_per_token_f32"({{.*}}) outs(%{{.*}}, %{{.*}} : tensor<8x128xi8>, tensor<8xf32>) output_positions [5, 7]
// CHECK: %[[PACKED:.*]] = arith.constant dense<"0x{{.*}}"> : tensor<{{[0-9]+}}xi8>
// CHECK: qnn.ukernel "qr_uk_matmul_s8"({{.*}}%[[Q]]#0, {{.*}}%[[Q]]#1, {{.*}}%[[PACKED]], {{.*}}) outs(%{{.*}} : tensor<8x16xf32>) output_positions [9]
// CHECK-NOT: qnn.matmul
func.func @w4a8(%x: tensor<8x128xf32>) -> tensor<8x16xf32> {
  %w = arith.constant dense<-3> : tensor<128x16xi4>
  %s = arith.constant dense<0.5> : tensor<1x16xf32>
  %q, %qs = qnn.quantize %x per_token : tensor<8x128xf32> -> tensor<8x128xi4>, tensor<8xf32>
  %y = qnn.matmul %q, %w input_scales(%qs : tensor<8xf32>) scales(%s : tensor<1x16xf32>)
       : tensor<8x128xi4>, tensor<128x16xi4> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// Weight-only W4A16 on a rank-3 input: rows are flattened for the kernel
// and restored after it.
// CHECK-LABEL: func.func @w4a16
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2]] : tensor<2x4x64xf32> into tensor<8x64xf32>
// CHECK: qnn.ukernel "qr_uk_matmul_f32"({{.*}}) outs(%{{.*}} : tensor<8x16xf32>) output_positions [6]
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2]] output_shape [2, 4, 16] : tensor<8x16xf32> into tensor<2x4x16xf32>
func.func @w4a16(%x: tensor<2x4x64xf32>) -> tensor<2x4x16xf32> {
  %w = arith.constant dense<5> : tensor<64x16xi4>
  %s = arith.constant dense<0.5> : tensor<2x16xf32>
  %z = arith.constant dense<8> : tensor<2x16xi4>
  %y = qnn.matmul %x, %w scales(%s : tensor<2x16xf32>) zero_points(%z : tensor<2x16xi4>)
       : tensor<2x4x64xf32>, tensor<64x16xi4> -> tensor<2x4x16xf32>
  return %y : tensor<2x4x16xf32>
}

// -----

// Static quantization is float64 arithmetic in a generic, down to storage
// bytes; per-axis parameters are indexed by the quantized dimension.
// CHECK-LABEL: func.func @static_quantize
// CHECK: linalg.generic
// CHECK: arith.divf {{.*}} : f64
// CHECK: math.roundeven {{.*}} : f64
// CHECK: arith.fptosi {{.*}} : f64 to i64
// CHECK: arith.trunci {{.*}} : i64 to i8
// CHECK: return {{.*}} : tensor<4x2xi8>
func.func @static_quantize(%x: tensor<4x2xf32>) -> tensor<4x2x!quant.uniform<u4:f32:1, {0.1:8, 0.2:7}>> {
  %q = qnn.quantize %x : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<u4:f32:1, {0.1:8, 0.2:7}>>
  return %q : tensor<4x2x!quant.uniform<u4:f32:1, {0.1:8, 0.2:7}>>
}

// -----

// The Hadamard transform runs in place on its operand (destination style),
// with the Paley base matrix of order 12 for n = 48. The model's input is
// its caller's: bufferization copies it before writing.
// CHECK-LABEL: func.func @hadamard
// CHECK-SAME: (%[[X:.*]]: tensor<3x48xf32> {bufferization.writable = false})
// CHECK: %[[BASE:.*]] = arith.constant dense<{{.*}}> : tensor<12x12xi8>
// CHECK: qnn.ukernel "qr_uk_hadamard_f32"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[BASE]], %{{.*}} : i64, i64, i64, !llvm.ptr, tensor<12x12xi8>, i64) outs(%[[X]] : tensor<3x48xf32>) output_positions [0]
func.func @hadamard(%x: tensor<3x48xf32>) -> tensor<3x48xf32> {
  %y = qnn.hadamard %x : tensor<3x48xf32>
  return %y : tensor<3x48xf32>
}

// -----

// A MixLLM split packs the 8-bit and 4-bit columns apart and merges the two
// products back into column order.
// CHECK-LABEL: func.func @split
// CHECK-COUNT-2: qnn.ukernel "qr_uk_matmul_s8"
// CHECK: tensor.concat dim(1)
// CHECK: linalg.generic
// CHECK: tensor.extract
func.func @split(%q: tensor<2x64xi8>, %qs: tensor<2xf32>) -> tensor<2x8xf32> {
  %w = arith.constant dense<7> : tensor<64x8xi8>
  %s = arith.constant dense<0.5> : tensor<1x8xf32>
  %y = qnn.matmul %q, %w input_scales(%qs : tensor<2xf32>) scales(%s : tensor<1x8xf32>)
       split <low_bits = 4, high_columns = [1, 6]>
       : tensor<2x64xi8>, tensor<64x8xi8> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// f32 linalg.matmul with a zero-filled init maps to the GEMM kernel; a
// transposed B is read in place (transpose_b = 1).
// CHECK-LABEL: func.func @linalg_matmul_transposed
// CHECK: %[[T:.*]] = arith.constant 1 : i32
// CHECK: qnn.ukernel "qr_uk_gemm_f32"({{.*}}%[[T]], {{.*}}) outs(%{{.*}} : tensor<4x5xf32>)
// CHECK-NOT: linalg.matmul
func.func @linalg_matmul_transposed(%a: tensor<4x8xf32>, %b: tensor<5x8xf32>) -> tensor<4x5xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x5xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<4x5xf32>) -> tensor<4x5xf32>
  %r = linalg.matmul
         indexing_maps = [affine_map<(m, n, k) -> (m, k)>,
                          affine_map<(m, n, k) -> (n, k)>,
                          affine_map<(m, n, k) -> (m, n)>]
         ins(%a, %b : tensor<4x8xf32>, tensor<5x8xf32>) outs(%c : tensor<4x5xf32>) -> tensor<4x5xf32>
  return %r : tensor<4x5xf32>
}
