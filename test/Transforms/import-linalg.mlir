// RUN: quant-opt %s --qnn-import-linalg -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @matmul_zero_init
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK: %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<8x3xf32>
// CHECK-NOT: linalg.matmul
// CHECK: %[[Y:.*]] = qnn.matmul %[[X]], %[[W]] : tensor<4x8xf32>, tensor<8x3xf32> -> tensor<4x3xf32>
// CHECK: return %[[Y]]
func.func @matmul_zero_init(%x: tensor<4x8xf32>) -> tensor<4x3xf32> {
  %w = arith.constant dense<0.5> : tensor<8x3xf32>
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4x3xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<4x3xf32>) -> tensor<4x3xf32>
  %y = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x3xf32>) outs(%init : tensor<4x3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A non-zero accumulator is added back explicitly.
// CHECK-LABEL: func.func @matmul_accumulates
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>, %[[ACC:.*]]: tensor<4x3xf32>)
// CHECK: %[[Y:.*]] = qnn.matmul %[[X]]
// CHECK: %[[SUM:.*]] = arith.addf %[[Y]], %[[ACC]] : tensor<4x3xf32>
// CHECK: return %[[SUM]]
func.func @matmul_accumulates(%x: tensor<4x8xf32>, %acc: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %w = arith.constant dense<0.5> : tensor<8x3xf32>
  %y = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x3xf32>) outs(%acc : tensor<4x3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// Activation × activation (attention scores) has no constant weight: untouched.
// CHECK-LABEL: func.func @matmul_non_constant_weight
// CHECK: linalg.matmul
// CHECK-NOT: qnn.matmul
func.func @matmul_non_constant_weight(%q: tensor<4x8xf32>, %k: tensor<8x4xf32>, %init: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %y = linalg.matmul ins(%q, %k : tensor<4x8xf32>, tensor<8x4xf32>) outs(%init : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %y : tensor<4x4xf32>
}

// -----

// Integer matmuls are left to the integer paths.
// CHECK-LABEL: func.func @matmul_integer_untouched
// CHECK: linalg.matmul
func.func @matmul_integer_untouched(%x: tensor<4x8xi8>, %init: tensor<4x3xi32>) -> tensor<4x3xi32> {
  %w = arith.constant dense<3> : tensor<8x3xi8>
  %y = linalg.matmul ins(%x, %w : tensor<4x8xi8>, tensor<8x3xi8>) outs(%init : tensor<4x3xi32>) -> tensor<4x3xi32>
  return %y : tensor<4x3xi32>
}

// -----

// CHECK-LABEL: func.func @batch_matmul
// CHECK: qnn.matmul %{{.*}}, %{{.*}} : tensor<2x4x8xf32>, tensor<2x8x3xf32> -> tensor<2x4x3xf32>
func.func @batch_matmul(%x: tensor<2x4x8xf32>) -> tensor<2x4x3xf32> {
  %w = arith.constant dense<0.25> : tensor<2x8x3xf32>
  %zero = arith.constant dense<0.0> : tensor<2x4x3xf32>
  %y = linalg.batch_matmul ins(%x, %w : tensor<2x4x8xf32>, tensor<2x8x3xf32>) outs(%zero : tensor<2x4x3xf32>) -> tensor<2x4x3xf32>
  return %y : tensor<2x4x3xf32>
}

// -----

// The zero tensor.pad in front of the convolution becomes its padding.
// CHECK-LABEL: func.func @conv_nhwc_padded
// CHECK-SAME: (%[[X:.*]]: tensor<1x8x8x3xf32>)
// CHECK-NOT: tensor.pad
// CHECK: qnn.conv2d %[[X]], %{{.*}} layout nhwc strides [2, 2] padding [1, 1, 1, 1] : tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32> -> tensor<1x4x4x4xf32>
func.func @conv_nhwc_padded(%x: tensor<1x8x8x3xf32>) -> tensor<1x4x4x4xf32> {
  %w = arith.constant dense<0.1> : tensor<3x3x3x4xf32>
  %zero = arith.constant 0.0 : f32
  %padded = tensor.pad %x low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%a: index, %b: index, %c: index, %d: index):
    tensor.yield %zero : f32
  } : tensor<1x8x8x3xf32> to tensor<1x10x10x3xf32>
  %empty = tensor.empty() : tensor<1x4x4x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %y = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
       ins(%padded, %w : tensor<1x10x10x3xf32>, tensor<3x3x3x4xf32>) outs(%init : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %y : tensor<1x4x4x4xf32>
}

// -----

// CHECK-LABEL: func.func @conv_nchw_dilated
// CHECK: qnn.conv2d %{{.*}}, %{{.*}} layout nchw dilations [2, 2] : tensor<1x3x9x9xf32>, tensor<4x3x3x3xf32> -> tensor<1x4x5x5xf32>
func.func @conv_nchw_dilated(%x: tensor<1x3x9x9xf32>) -> tensor<1x4x5x5xf32> {
  %w = arith.constant dense<0.1> : tensor<4x3x3x3xf32>
  %init = arith.constant dense<0.0> : tensor<1x4x5x5xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<1x3x9x9xf32>, tensor<4x3x3x3xf32>) outs(%init : tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  return %y : tensor<1x4x5x5xf32>
}

// -----

// CHECK-LABEL: func.func @tosa_matmul
// CHECK: qnn.matmul %{{.*}}, %{{.*}} : tensor<1x4x8xf32>, tensor<1x8x3xf32> -> tensor<1x4x3xf32>
// CHECK-NOT: tosa.matmul
func.func @tosa_matmul(%x: tensor<1x4x8xf32>) -> tensor<1x4x3xf32> {
  %w = "tosa.const"() <{values = dense<0.5> : tensor<1x8x3xf32>}> : () -> tensor<1x8x3xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %y = tosa.matmul %x, %w, %zp, %zp : (tensor<1x4x8xf32>, tensor<1x8x3xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x4x3xf32>
  return %y : tensor<1x4x3xf32>
}

// -----

// OHWI weights are transposed to HWCF; TOSA's [top, bottom, left, right]
// padding becomes [top, left, bottom, right].
// CHECK-LABEL: func.func @tosa_conv2d
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00, 2.000000e+00]]]]> : tensor<1x1x1x2xf32>
// CHECK-DAG: %[[B:.*]] = "tosa.const"() <{values = dense<[5.000000e-01, -1.000000e+00]> : tensor<2xf32>}>
// CHECK: qnn.conv2d %{{.*}}, %[[W]] bias(%[[B]] : tensor<2xf32>) layout nhwc padding [1, 0, 2, 0] : tensor<1x4x4x1xf32>, tensor<1x1x1x2xf32> -> tensor<1x7x4x2xf32>
func.func @tosa_conv2d(%x: tensor<1x4x4x1xf32>) -> tensor<1x7x4x2xf32> {
  %w = "tosa.const"() <{values = dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>}> : () -> tensor<2x1x1x1xf32>
  %b = "tosa.const"() <{values = dense<[0.5, -1.0]> : tensor<2xf32>}> : () -> tensor<2xf32>
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %y = tosa.conv2d %x, %w, %b, %zp, %zp {acc_type = f32, dilation = array<i64: 1, 1>, pad = array<i64: 1, 2, 0, 0>, stride = array<i64: 1, 1>}
       : (tensor<1x4x4x1xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x7x4x2xf32>
  return %y : tensor<1x7x4x2xf32>
}
