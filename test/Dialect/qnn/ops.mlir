// RUN: quant-opt %s | FileCheck %s
// Round trip through the generic form too: custom printers must not lose anything.
// RUN: quant-opt %s --mlir-print-op-generic | quant-opt | FileCheck %s

// CHECK-LABEL: func.func @hadamard
func.func @hadamard(%x: tensor<16x4096xf32>, %y: tensor<2x4xf16>, %z: tensor<3x12xf32>,
                    %w: tensor<20xf32>, %v: tensor<1x56xbf16>) -> tensor<2x4xf16> {
  // CHECK: qnn.hadamard %{{.*}} : tensor<16x4096xf32>
  %0 = qnn.hadamard %x : tensor<16x4096xf32>
  // CHECK: qnn.hadamard %{{.*}} signs [1, -1, -1, 1] : tensor<2x4xf16>
  %1 = qnn.hadamard %y signs [1, -1, -1, 1] : tensor<2x4xf16>
  // CHECK: qnn.hadamard %{{.*}} : tensor<3x12xf32>
  %2 = qnn.hadamard %z : tensor<3x12xf32>
  // CHECK: qnn.hadamard %{{.*}} : tensor<20xf32>
  %3 = qnn.hadamard %w : tensor<20xf32>
  // CHECK: qnn.hadamard %{{.*}} : tensor<1x56xbf16>
  %4 = qnn.hadamard %v : tensor<1x56xbf16>
  return %1 : tensor<2x4xf16>
}

// CHECK-LABEL: func.func @rotate
func.func @rotate(%x: tensor<8x2xf32>) -> tensor<8x2xf32> {
  // CHECK: qnn.rotate %{{.*}} by dense<{{\[}}[0.000000e+00, 1.000000e+00], [-1.000000e+00, 0.000000e+00]]> : tensor<2x2xf32> : tensor<8x2xf32>
  %0 = qnn.rotate %x by dense<[[0.0, 1.0], [-1.0, 0.0]]> : tensor<2x2xf32> : tensor<8x2xf32>
  return %0 : tensor<8x2xf32>
}

// CHECK-LABEL: func.func @scale
func.func @scale(%x: tensor<4x3xf32>, %y: tensor<?x3xf16>) -> tensor<4x3xf32> {
  // CHECK: qnn.scale %{{.*}} along 1 by [5.000000e-01, 2.000000e+00, 1.250000e+00] : tensor<4x3xf32>
  %0 = qnn.scale %x along 1 by [0.5, 2.0, 1.25] : tensor<4x3xf32>
  // CHECK: qnn.scale %{{.*}} along 1 by [1.000000e+00, 3.000000e+00, 4.000000e+00] : tensor<?x3xf16>
  %1 = qnn.scale %y along 1 by [1.0, 3.0, 4.0] : tensor<?x3xf16>
  return %0 : tensor<4x3xf32>
}

// CHECK-LABEL: func.func @quantize_static
func.func @quantize_static(%x: tensor<4x8xf32>, %w: tensor<4x2xf32>, %b: tensor<256x2xf32>) {
  // CHECK: qnn.quantize %{{.*}} : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 5.000000e-02:-3>>
  %0 = qnn.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.05:-3>>
  // CHECK: qnn.dequantize %{{.*}} : tensor<4x8x!quant.uniform<i8:f32, 5.000000e-02:-3>> -> tensor<4x8xf32>
  %1 = qnn.dequantize %0 : tensor<4x8x!quant.uniform<i8:f32, 0.05:-3>> -> tensor<4x8xf32>
  // Per-axis (per-output-channel) 4-bit, asymmetric unsigned storage.
  // CHECK: qnn.quantize %{{.*}} : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<u4:f32:1, {1.000000e-01:8,2.000000e-01:7}>>
  %2 = qnn.quantize %w : tensor<4x2xf32> -> tensor<4x2x!quant.uniform<u4:f32:1, {0.1:8, 0.2:7}>>
  // Sub-channel (group-wise along dim 0 in groups of 128) 3-bit.
  // CHECK: qnn.quantize %{{.*}} : tensor<256x2xf32> -> tensor<256x2x!quant.uniform<i3:f32:{0:128, 1:1}, {{\{\{}}2.000000e+00, 3.000000e+00}, {4.000000e+00, 5.000000e+00}}>>
  %3 = qnn.quantize %b : tensor<256x2xf32> -> tensor<256x2x!quant.uniform<i3:f32:{0:128, 1:1}, {{2.0, 3.0}, {4.0, 5.0}}>>
  return
}

// CHECK-LABEL: func.func @quantize_per_token
func.func @quantize_per_token(%x: tensor<2x4x8xf32>) -> tensor<2x4x8xf32> {
  // CHECK: %[[Q:.*]], %[[S:.*]] = qnn.quantize %{{.*}} per_token : tensor<2x4x8xf32> -> tensor<2x4x8xi8>, tensor<2x4xf32>
  %q, %s = qnn.quantize %x per_token : tensor<2x4x8xf32> -> tensor<2x4x8xi8>, tensor<2x4xf32>
  // CHECK: qnn.dequantize %[[Q]], %[[S]] : tensor<2x4x8xi8>, tensor<2x4xf32> -> tensor<2x4x8xf32>
  %y = qnn.dequantize %q, %s : tensor<2x4x8xi8>, tensor<2x4xf32> -> tensor<2x4x8xf32>
  return %y : tensor<2x4x8xf32>
}

// CHECK-LABEL: func.func @matmul_float
func.func @matmul_float(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>,
                        %bx: tensor<3x16x64xf32>, %bw: tensor<3x64x32xf32>) {
  // CHECK: qnn.matmul %{{.*}}, %{{.*}} : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  %0 = qnn.matmul %x, %w : tensor<16x64xf32>, tensor<64x32xf32> -> tensor<16x32xf32>
  // CHECK: qnn.matmul %{{.*}}, %{{.*}} : tensor<3x16x64xf32>, tensor<3x64x32xf32> -> tensor<3x16x32xf32>
  %1 = qnn.matmul %bx, %bw : tensor<3x16x64xf32>, tensor<3x64x32xf32> -> tensor<3x16x32xf32>
  // Shared weight over a batched input.
  // CHECK: qnn.matmul %{{.*}}, %{{.*}} : tensor<3x16x64xf32>, tensor<64x32xf32> -> tensor<3x16x32xf32>
  %2 = qnn.matmul %bx, %w : tensor<3x16x64xf32>, tensor<64x32xf32> -> tensor<3x16x32xf32>
  return
}

// CHECK-LABEL: func.func @matmul_w4a16_groupwise
func.func @matmul_w4a16_groupwise(%x: tensor<?x4096xf16>, %w: tensor<4096x4096xi4>,
                                  %s: tensor<32x4096xf16>, %b: tensor<4096xf16>) -> tensor<?x4096xf16> {
  // CHECK: qnn.matmul %{{.*}}, %{{.*}} scales(%{{.*}} : tensor<32x4096xf16>) bias(%{{.*}} : tensor<4096xf16>) epilogue silu : tensor<?x4096xf16>, tensor<4096x4096xi4> -> tensor<?x4096xf16>
  %0 = qnn.matmul %x, %w scales(%s : tensor<32x4096xf16>) bias(%b : tensor<4096xf16>) epilogue silu
       : tensor<?x4096xf16>, tensor<4096x4096xi4> -> tensor<?x4096xf16>
  return %0 : tensor<?x4096xf16>
}

// CHECK-LABEL: func.func @matmul_w4a8_static_requantize
func.func @matmul_w4a8_static_requantize(%x: tensor<8x64x!quant.uniform<i8:f32, 0.1>>, %w: tensor<64x16xi4>,
                                         %s: tensor<1x16xf32>, %z: tensor<1x16xi4>) {
  // CHECK: qnn.matmul %{{.*}}, %{{.*}} scales(%{{.*}} : tensor<1x16xf32>) zero_points(%{{.*}} : tensor<1x16xi4>) epilogue relu : tensor<8x64x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<64x16xi4> -> tensor<8x16x!quant.uniform<i8:f32, 2.000000e-01:5>>
  %0 = qnn.matmul %x, %w scales(%s : tensor<1x16xf32>) zero_points(%z : tensor<1x16xi4>) epilogue relu
       : tensor<8x64x!quant.uniform<i8:f32, 0.1>>, tensor<64x16xi4> -> tensor<8x16x!quant.uniform<i8:f32, 0.2:5>>
  return
}

// CHECK-LABEL: func.func @matmul_w8a8_dynamic_split
func.func @matmul_w8a8_dynamic_split(%x: tensor<8x128xi8>, %xs: tensor<8xf32>, %w: tensor<128x64xi8>,
                                     %s: tensor<1x64xf32>) {
  // CHECK: qnn.matmul %{{.*}}, %{{.*}} input_scales(%{{.*}} : tensor<8xf32>) scales(%{{.*}} : tensor<1x64xf32>) split <low_bits = 4, high_columns = [0, 5, 63]> : tensor<8x128xi8>, tensor<128x64xi8> -> tensor<8x64xf32>
  %0 = qnn.matmul %x, %w input_scales(%xs : tensor<8xf32>) scales(%s : tensor<1x64xf32>)
       split <low_bits = 4, high_columns = [0, 5, 63]> : tensor<8x128xi8>, tensor<128x64xi8> -> tensor<8x64xf32>
  return
}

// CHECK-LABEL: func.func @matmul_w2_w3
func.func @matmul_w2_w3(%x: tensor<4x256xf32>, %w2: tensor<256x8xi2>, %s2: tensor<8x8xf32>,
                        %w3: tensor<256x8xi3>, %s3: tensor<2x8xf32>) {
  // CHECK: qnn.matmul {{.*}} : tensor<4x256xf32>, tensor<256x8xi2> -> tensor<4x8xf32>
  %0 = qnn.matmul %x, %w2 scales(%s2 : tensor<8x8xf32>) : tensor<4x256xf32>, tensor<256x8xi2> -> tensor<4x8xf32>
  // CHECK: qnn.matmul {{.*}} : tensor<4x256xf32>, tensor<256x8xi3> -> tensor<4x8xf32>
  %1 = qnn.matmul %x, %w3 scales(%s3 : tensor<2x8xf32>) : tensor<4x256xf32>, tensor<256x8xi3> -> tensor<4x8xf32>
  return
}

// CHECK-LABEL: func.func @conv2d
func.func @conv2d(%x: tensor<1x56x56x32xf32>, %w: tensor<3x3x32x64xi8>, %s: tensor<1x64xf32>,
                  %b: tensor<64xf32>, %xn: tensor<2x3x32x32xf32>, %wn: tensor<8x3x5x5xf32>) {
  // CHECK: qnn.conv2d %{{.*}}, %{{.*}} scales(%{{.*}} : tensor<1x64xf32>) bias(%{{.*}} : tensor<64xf32>) layout nhwc strides [2, 2] padding [1, 1, 1, 1] epilogue relu : tensor<1x56x56x32xf32>, tensor<3x3x32x64xi8> -> tensor<1x28x28x64xf32>
  %0 = qnn.conv2d %x, %w scales(%s : tensor<1x64xf32>) bias(%b : tensor<64xf32>)
       layout nhwc strides [2, 2] padding [1, 1, 1, 1] epilogue relu
       : tensor<1x56x56x32xf32>, tensor<3x3x32x64xi8> -> tensor<1x28x28x64xf32>
  // CHECK: qnn.conv2d %{{.*}}, %{{.*}} layout nchw dilations [2, 2] : tensor<2x3x32x32xf32>, tensor<8x3x5x5xf32> -> tensor<2x8x24x24xf32>
  %1 = qnn.conv2d %xn, %wn layout nchw dilations [2, 2]
       : tensor<2x3x32x32xf32>, tensor<8x3x5x5xf32> -> tensor<2x8x24x24xf32>
  return
}

// CHECK-LABEL: func.func @pillar_conv
func.func @pillar_conv(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>, %w: tensor<3x3x64x64xf32>,
                       %b: tensor<64xf32>, %wq: tensor<5x5x64x32xi8>, %s: tensor<1x32xf32>,
                       %imp: tensor<?xf32>) {
  // CHECK: qnn.pillar_conv %{{.*}}, %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<64xf32>) kind submanifold grid [496, 432] : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  %0:2 = qnn.pillar_conv %f, %c, %w bias(%b : tensor<64xf32>) kind submanifold grid [496, 432]
         : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  // CHECK: qnn.pillar_conv {{.*}} scales(%{{.*}} : tensor<1x32xf32>) kind selective_dilation grid [496, 432] stride 2 threshold 1.500000e+00 : tensor<?x64xf32>, tensor<?x3xi32>, tensor<5x5x64x32xi8> -> tensor<?x32xf32>, tensor<?x3xi32>
  %1:2 = qnn.pillar_conv %f, %c, %wq scales(%s : tensor<1x32xf32>) kind selective_dilation grid [496, 432]
         stride 2 threshold 1.5 : tensor<?x64xf32>, tensor<?x3xi32>, tensor<5x5x64x32xi8> -> tensor<?x32xf32>, tensor<?x3xi32>
  // CHECK: qnn.pillar_conv {{.*}} importance(%{{.*}} : tensor<?xf32>) kind selective_dilation grid [100, 100] topk_ratio 2.500000e-01 :
  %2:2 = qnn.pillar_conv %f, %c, %w importance(%imp : tensor<?xf32>) kind selective_dilation grid [100, 100]
         topk_ratio 0.25 : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32> -> tensor<?x64xf32>, tensor<?x3xi32>
  return
}

// CHECK-LABEL: func.func @calib_stats
func.func @calib_stats(%x: tensor<4x2xf32>, %w: tensor<2x3xf32>) -> tensor<4x3xf32> {
  // CHECK: qnn.matmul %{{.*}}, %{{.*}} {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16, absmax = [4.000000e+00, 2.500000e+00], min = [-4.000000e+00, -1.000000e+00], max = [3.500000e+00, 2.500000e+00], percentile = 9.990000e+01, percentile_absmax = [3.900000e+00, 2.400000e+00]>}
  %0 = qnn.matmul %x, %w {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 16,
         absmax = [4.0, 2.5], min = [-4.0, -1.0], max = [3.5, 2.5],
         percentile = 99.9, percentile_absmax = [3.9, 2.4]>}
       : tensor<4x2xf32>, tensor<2x3xf32> -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// CHECK-LABEL: func.func @ukernel
func.func @ukernel(%x: tensor<4x8xf32>, %b: memref<4x8xf32>, %n: i64) -> tensor<4x8xf32> {
  // CHECK: qnn.ukernel "qr_uk_hadamard_f32"(%{{.*}} : i64) outs(%{{.*}} : tensor<4x8xf32>) output_positions [0] -> tensor<4x8xf32>
  %y = qnn.ukernel "qr_uk_hadamard_f32"(%n : i64) outs(%x : tensor<4x8xf32>) output_positions [0] -> tensor<4x8xf32>
  // CHECK: qnn.ukernel "qr_uk_hadamard_f32"(%{{.*}} : i64) outs(%{{.*}} : memref<4x8xf32>) output_positions [1]
  qnn.ukernel "qr_uk_hadamard_f32"(%n : i64) outs(%b : memref<4x8xf32>) output_positions [1]
  return %y : tensor<4x8xf32>
}
