// RUN: quant-opt %s --qnn-lower-to-ukernels=target=gpu --cse --split-input-file | FileCheck %s

// The GPU variant of qnn-lower-to-ukernels: the same tensor-level lowering,
// calling the CUDA kernels of GpuKernels.h with weights packed by
// qr_gpu_pack_weights; the GPU matmuls take bits and group size (i32, i64)
// after M, N, K because their blob has no header.

// Weight-only W4A16, group-wise: qr_gpu_matmul_f16w writes C at argument 8;
// the epilogue stays an element-wise generic.
// CHECK-LABEL: func.func @w4a16
// CHECK-DAG: %[[BITS:.*]] = arith.constant 4 : i32
// CHECK-DAG: %[[GROUP:.*]] = arith.constant 64 : i64
// CHECK-DAG: %[[PACKED:.*]] = arith.constant dense<"0x{{.*}}"> : tensor<{{[0-9]+}}xi8>
// CHECK: qnn.ukernel "qr_gpu_matmul_f16w"(%{{.*}}, %{{.*}}, %{{.*}}, %[[BITS]], %[[GROUP]], %{{.*}}, %{{.*}}, %[[PACKED]], %{{.*}} : i64, i64, i64, i32, i64, tensor<8x128xf32>, i64, tensor<{{[0-9]+}}xi8>, i64) outs(%{{.*}} : tensor<8x32xf32>) output_positions [8]
// CHECK: linalg.generic
// CHECK: math.exp
// CHECK-NOT: qr_uk_
func.func @w4a16(%x: tensor<2x4x128xf32>) -> tensor<2x4x32xf32> {
  %w = arith.constant dense<5> : tensor<128x32xi4>
  %s = arith.constant dense<0.5> : tensor<2x32xf32>
  %y = qnn.matmul %x, %w scales(%s : tensor<2x32xf32>) epilogue silu
       : tensor<2x4x128xf32>, tensor<128x32xi4> -> tensor<2x4x32xf32>
  return %y : tensor<2x4x32xf32>
}

// -----

// Asymmetric weights are fine with float activations; per-channel scales
// are one group of K.
// CHECK-LABEL: func.func @w8a16_asymmetric
// CHECK-DAG: %[[BITS:.*]] = arith.constant 8 : i32
// CHECK-DAG: %[[GROUP:.*]] = arith.constant 128 : i64
// CHECK: qnn.ukernel "qr_gpu_matmul_f16w"(%{{.*}}, %{{.*}}, %{{.*}}, %[[BITS]], %[[GROUP]],
func.func @w8a16_asymmetric(%x: tensor<4x128xf32>) -> tensor<4x16xf32> {
  %w = arith.constant dense<100> : tensor<128x16xi8>
  %s = arith.constant dense<0.5> : tensor<1x16xf32>
  %z = arith.constant dense<120> : tensor<1x16xi8>
  %y = qnn.matmul %x, %w scales(%s : tensor<1x16xf32>) zero_points(%z : tensor<1x16xi8>)
       : tensor<4x128xf32>, tensor<128x16xi8> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// W4A8 with an online Hadamard prologue: the in-place Hadamard kernel, the
// per-token quantization kernel (two outputs), then the integer kernel,
// which writes C at argument 11.
// CHECK-LABEL: func.func @w4a8
// CHECK: %[[H:.*]] = qnn.ukernel "qr_gpu_hadamard_f32"({{.*}}) outs(%{{.*}} : tensor<8x128xf32>) output_positions [0]
// CHECK: %[[Q:.*]]:2 = qnn.ukernel "qr_gpu_quantize_per_token_f32"({{.*}}%[[H]]{{.*}}) outs(%{{.*}}, %{{.*}} : tensor<8x128xi8>, tensor<8xf32>) output_positions [5, 7]
// CHECK: qnn.ukernel "qr_gpu_matmul_s8"({{.*}} : i64, i64, i64, i32, i64, tensor<8x128xi8>, i64, tensor<8xf32>, f32, i32, tensor<{{[0-9]+}}xi8>, i64) outs(%{{.*}} : tensor<8x16xf32>) output_positions [11]
func.func @w4a8(%x: tensor<8x128xf32>) -> tensor<8x16xf32> {
  %w = arith.constant dense<-3> : tensor<128x16xi4>
  %s = arith.constant dense<0.5> : tensor<1x16xf32>
  %h = qnn.hadamard %x : tensor<8x128xf32>
  %q, %qs = qnn.quantize %h per_token : tensor<8x128xf32> -> tensor<8x128xi8>, tensor<8xf32>
  %y = qnn.matmul %q, %w input_scales(%qs : tensor<8xf32>) scales(%s : tensor<1x16xf32>)
       : tensor<8x128xi8>, tensor<128x16xi4> -> tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}

// -----

// Float matmuls and explicit rotations: the f32 GEMM kernel (C at 11).
// CHECK-LABEL: func.func @float_gemm
// CHECK: qnn.ukernel "qr_gpu_gemm_f32"({{.*}}) outs(%{{.*}} : tensor<4x8xf32>) output_positions [11]
// CHECK: qnn.ukernel "qr_gpu_gemm_f32"({{.*}}) outs(%{{.*}} : tensor<4x8xf32>) output_positions [11]
func.func @float_gemm(%x: tensor<4x8xf32>, %b: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %r = qnn.rotate %x by dense<[[0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                               [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                               [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                               [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0],
                               [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
                               [0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
                               [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
                               [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]]> : tensor<8x8xf32> : tensor<4x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %y = linalg.matmul ins(%r, %b : tensor<4x8xf32>, tensor<8x8xf32>) outs(%init : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// qnn.pillar_conv, f32: the GPU rulebook and conv kernels take the CPU ones'
// arguments; the row count is read on the host (tensor.extract).
// CHECK-LABEL: func.func @pillar_conv_f32
// CHECK: %[[BOOK:.*]]:3 = qnn.ukernel "qr_gpu_pillar_rulebook"
// CHECK-SAME: output_positions [11, 12, 13]
// CHECK: tensor.extract %[[BOOK]]#2
// CHECK: qnn.ukernel "qr_gpu_pillar_conv_f32"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : i64, i64, i64, i64, tensor<100x8xf32>, tensor<?x9xi32>, tensor<3x3x8x16xf32>, tensor<16xf32>)
// CHECK-SAME: output_positions [8] -> tensor<?x16xf32>
func.func @pillar_conv_f32(%f: tensor<100x8xf32>, %c: tensor<100x3xi32>) -> (tensor<100x16xf32>, tensor<100x3xi32>) {
  %w = arith.constant dense<0.5> : tensor<3x3x8x16xf32>
  %b = arith.constant dense<1.0> : tensor<16xf32>
  %o, %oc = qnn.pillar_conv %f, %c, %w bias(%b : tensor<16xf32>) kind submanifold grid [496, 432]
      : tensor<100x8xf32>, tensor<100x3xi32>, tensor<3x3x8x16xf32> -> tensor<100x16xf32>, tensor<100x3xi32>
  return %o, %oc : tensor<100x16xf32>, tensor<100x3xi32>
}

// -----

// W8A8 with dilation by norm: the int8 norms kernel, then one blob of the
// [9 · 64, 16] weight matrix (not one a tap) with bits 8 and group 576.
// CHECK-LABEL: func.func @pillar_conv_w8a8
// CHECK: qnn.ukernel "qr_gpu_pillar_norms_s8"
// CHECK: qnn.ukernel "qr_gpu_pillar_rulebook"
// CHECK-DAG: %[[BITS:.*]] = arith.constant 8 : i32
// CHECK-DAG: %[[GROUP:.*]] = arith.constant 576 : i64
// CHECK-DAG: %[[BLOB:.*]] = arith.constant dense<"0x{{.*}}"> : tensor<{{[0-9]+}}xi8>
// CHECK: qnn.ukernel "qr_gpu_pillar_conv_s8"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[BITS]], %[[GROUP]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[BLOB]], %{{.*}} : i64, i64, i64, i64, i32, i64, tensor<?x64xi8>, f32, i32, tensor<?x9xi32>, tensor<{{[0-9]+}}xi8>, !llvm.ptr)
// CHECK-SAME: output_positions [12]
func.func @pillar_conv_w8a8(%f: tensor<?x64x!quant.uniform<i8:f32, 0.05:3>>, %c: tensor<?x3xi32>) -> (tensor<?x16xf32>, tensor<?x3xi32>) {
  %w = arith.constant dense<5> : tensor<3x3x64x16xi8>
  %s = arith.constant dense<0.01> : tensor<1x16xf32>
  %o, %oc = qnn.pillar_conv %f, %c, %w scales(%s : tensor<1x16xf32>) kind selective_dilation grid [64, 64] threshold 2.0
      : tensor<?x64x!quant.uniform<i8:f32, 0.05:3>>, tensor<?x3xi32>, tensor<3x3x64x16xi8> -> tensor<?x16xf32>, tensor<?x3xi32>
  return %o, %oc : tensor<?x16xf32>, tensor<?x3xi32>
}

// -----

// Weight-only 4-bit on f32 features, scale groups of 64 along C_in = 128:
// they repeat in every tap, so the kernel sees groups of 64 along K = 1152.
// CHECK-LABEL: func.func @pillar_conv_w4a16_grouped
// CHECK-DAG: %[[BITS:.*]] = arith.constant 4 : i32
// CHECK-DAG: %[[GROUP:.*]] = arith.constant 64 : i64
// CHECK: qnn.ukernel "qr_gpu_pillar_conv_f16w"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[BITS]], %[[GROUP]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : i64, i64, i64, i64, i32, i64, tensor<?x128xf32>, tensor<?x9xi32>, tensor<{{[0-9]+}}xi8>, !llvm.ptr)
// CHECK-SAME: output_positions [10]
func.func @pillar_conv_w4a16_grouped(%f: tensor<?x128xf32>, %c: tensor<?x3xi32>) -> (tensor<?x8xf32>, tensor<?x3xi32>) {
  %w = arith.constant dense<3> : tensor<3x3x128x8xi4>
  %s = arith.constant dense<0.02> : tensor<2x8xf32>
  %o, %oc = qnn.pillar_conv %f, %c, %w scales(%s : tensor<2x8xf32>) kind submanifold grid [32, 32] stride 2
      : tensor<?x128xf32>, tensor<?x3xi32>, tensor<3x3x128x8xi4> -> tensor<?x8xf32>, tensor<?x3xi32>
  return %o, %oc : tensor<?x8xf32>, tensor<?x3xi32>
}
