// RUN: quant-opt %s -canonicalize -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @scale_by_ones_folds
// CHECK-SAME: (%[[X:.*]]: tensor<4x3xf32>)
// CHECK-NEXT: return %[[X]]
func.func @scale_by_ones_folds(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %0 = qnn.scale %x along 1 by [1.0, 1.0, 1.0] : tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}

// -----

// CHECK-LABEL: func.func @consecutive_scales_merge
// CHECK-NEXT: %[[S:.*]] = qnn.scale %{{.*}} along 1 by [1.000000e+00, 8.000000e+00, 3.000000e+00] : tensor<4x3xf32>
// CHECK-NEXT: return %[[S]]
func.func @consecutive_scales_merge(%x: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %0 = qnn.scale %x along 1 by [0.5, 2.0, 3.0] : tensor<4x3xf32>
  %1 = qnn.scale %0 along 1 by [2.0, 4.0, 1.0] : tensor<4x3xf32>
  return %1 : tensor<4x3xf32>
}

// -----

// Scales along different axes do not commute into one.
// CHECK-LABEL: func.func @scales_on_different_axes_stay
// CHECK: qnn.scale %{{.*}} along 0 by
// CHECK: qnn.scale %{{.*}} along 1 by
func.func @scales_on_different_axes_stay(%x: tensor<3x3xf32>) -> tensor<3x3xf32> {
  %0 = qnn.scale %x along 0 by [0.5, 2.0, 3.0] : tensor<3x3xf32>
  %1 = qnn.scale %0 along 1 by [2.0, 4.0, 1.0] : tensor<3x3xf32>
  return %1 : tensor<3x3xf32>
}

// -----

// CHECK-LABEL: func.func @requantize_same_type_folds
// CHECK-SAME: (%[[Q:.*]]: tensor<4x8x!quant.uniform<i8:f32, 5.000000e-02:-3>>)
// CHECK-NEXT: return %[[Q]]
func.func @requantize_same_type_folds(%q: tensor<4x8x!quant.uniform<i8:f32, 0.05:-3>>)
    -> tensor<4x8x!quant.uniform<i8:f32, 0.05:-3>> {
  %0 = qnn.dequantize %q : tensor<4x8x!quant.uniform<i8:f32, 0.05:-3>> -> tensor<4x8xf32>
  %1 = qnn.quantize %0 : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.05:-3>>
  return %1 : tensor<4x8x!quant.uniform<i8:f32, 0.05:-3>>
}

// -----

// A different scale rounds: the pair must stay.
// CHECK-LABEL: func.func @requantize_other_type_stays
// CHECK: qnn.dequantize
// CHECK: qnn.quantize
func.func @requantize_other_type_stays(%q: tensor<4x8x!quant.uniform<i8:f32, 0.05:-3>>)
    -> tensor<4x8x!quant.uniform<i8:f32, 0.1>> {
  %0 = qnn.dequantize %q : tensor<4x8x!quant.uniform<i8:f32, 0.05:-3>> -> tensor<4x8xf32>
  %1 = qnn.quantize %0 : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.1>>
  return %1 : tensor<4x8x!quant.uniform<i8:f32, 0.1>>
}

// -----

// Dead qnn ops are pure and disappear.
// CHECK-LABEL: func.func @dead_ops_erased
// CHECK-NOT: qnn.
func.func @dead_ops_erased(%x: tensor<4x8xf32>) {
  %0 = qnn.hadamard %x : tensor<4x8xf32>
  %q, %s = qnn.quantize %x per_token : tensor<4x8xf32> -> tensor<4x8xi8>, tensor<4xf32>
  return
}
