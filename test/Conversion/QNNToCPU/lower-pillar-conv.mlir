// RUN: quant-opt %s --split-input-file --qnn-lower-to-ukernels | FileCheck %s

// Stride-1 submanifold, f32: a rulebook of capacity N, then the f32 conv on
// the rows it returns; the static result type is restored with a cast.
// CHECK-LABEL: func.func @submanifold_f32
// CHECK-SAME: (%[[F:[^:]*]]: tensor<100x8xf32> {{{.*}}}, %[[C:[^:]*]]: tensor<100x3xi32> {{{.*}}})
// CHECK: %[[BOOK:.*]]:3 = qnn.ukernel "qr_uk_pillar_rulebook"(%{{.*}}, %[[C]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : i64, tensor<100x3xi32>, i64, i64, i64, i64, i32, !llvm.ptr, f64, f64, i64)
// CHECK-SAME: outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<?x3xi32>, tensor<?x9xi32>, tensor<2xi64>) output_positions [11, 12, 13]
// CHECK: %[[COUNT:.*]] = tensor.extract %[[BOOK]]#2
// CHECK: %[[ROWS:.*]] = affine.min
// CHECK: %[[NEIGHBOURS:.*]] = tensor.extract_slice %[[BOOK]]#1[0, 0] [%[[ROWS]], 9] [1, 1]
// CHECK: %[[OUT:.*]] = qnn.ukernel "qr_uk_pillar_conv_f32"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[F]], %[[NEIGHBOURS]], %{{.*}}, %{{.*}} : i64, i64, i64, i64, tensor<100x8xf32>, tensor<?x9xi32>, tensor<3x3x8x16xf32>, tensor<16xf32>)
// CHECK-SAME: output_positions [8] -> tensor<?x16xf32>
// CHECK: tensor.cast %[[OUT]] : tensor<?x16xf32> to tensor<100x16xf32>
func.func @submanifold_f32(%f: tensor<100x8xf32>, %c: tensor<100x3xi32>) -> (tensor<100x16xf32>, tensor<100x3xi32>) {
  %w = arith.constant dense<0.5> : tensor<3x3x8x16xf32>
  %b = arith.constant dense<1.0> : tensor<16xf32>
  %o, %oc = qnn.pillar_conv %f, %c, %w bias(%b : tensor<16xf32>) kind submanifold grid [496, 432]
      : tensor<100x8xf32>, tensor<100x3xi32>, tensor<3x3x8x16xf32> -> tensor<100x16xf32>, tensor<100x3xi32>
  return %o, %oc : tensor<100x16xf32>, tensor<100x3xi32>
}

// -----

// Selective dilation by L2 norm: the norms kernel feeds the rulebook, whose
// capacity is N·k·k.
// CHECK: #[[TIMES9:.*]] = affine_map<()[s0] -> (s0 * 9)>
// CHECK-LABEL: func.func @dilation_by_norm
// CHECK: %[[CAPACITY:.*]] = affine.apply #[[TIMES9]]()[%{{.*}}]
// CHECK: %[[NORMS:.*]] = qnn.ukernel "qr_uk_pillar_norms_f32"
// CHECK-SAME: output_positions [4] -> tensor<?xf64>
// CHECK: tensor.empty(%[[CAPACITY]]) : tensor<?x3xi32>
// CHECK: qnn.ukernel "qr_uk_pillar_rulebook"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[NORMS]], %{{.*}}, %{{.*}}, %{{.*}} :
// CHECK: qnn.ukernel "qr_uk_pillar_conv_f32"
func.func @dilation_by_norm(%f: tensor<?x8xf32>, %c: tensor<?x3xi32>) -> (tensor<?x16xf32>, tensor<?x3xi32>) {
  %w = arith.constant dense<0.5> : tensor<3x3x8x16xf32>
  %o, %oc = qnn.pillar_conv %f, %c, %w kind selective_dilation grid [496, 432] stride 2 threshold 1.5
      : tensor<?x8xf32>, tensor<?x3xi32>, tensor<3x3x8x16xf32> -> tensor<?x16xf32>, tensor<?x3xi32>
  return %o, %oc : tensor<?x16xf32>, tensor<?x3xi32>
}

// -----

// A given f16 importance is widened to f64 for the rulebook.
// CHECK-LABEL: func.func @dilation_by_importance
// CHECK: %[[WIDE:.*]] = linalg.generic
// CHECK: arith.extf %{{.*}} : f16 to f64
// CHECK: qnn.ukernel "qr_uk_pillar_rulebook"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[WIDE]],
func.func @dilation_by_importance(%f: tensor<?x8xf32>, %c: tensor<?x3xi32>, %i: tensor<?xf16>) -> (tensor<?x16xf32>, tensor<?x3xi32>) {
  %w = arith.constant dense<0.5> : tensor<3x3x8x16xf32>
  %o, %oc = qnn.pillar_conv %f, %c, %w importance(%i : tensor<?xf16>) kind selective_dilation grid [496, 432] topk_ratio 0.1
      : tensor<?x8xf32>, tensor<?x3xi32>, tensor<3x3x8x16xf32> -> tensor<?x16xf32>, tensor<?x3xi32>
  return %o, %oc : tensor<?x16xf32>, tensor<?x3xi32>
}

// -----

// W8A8: int8 features (per-tensor scale and zero point) and one packed blob
// per tap in a single constant.
// CHECK-LABEL: func.func @w8a8
// CHECK-SAME: (%[[F:[^:]*]]: tensor<?x32xi8>
// CHECK: %[[BLOBS:.*]] = arith.constant dense<"0x{{.*}}"> : tensor<{{[0-9]+}}xi8>
// CHECK: qnn.ukernel "qr_uk_pillar_conv_s8"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %[[F]], %{{.*}}, %{{.*}}, %{{.*}}, %[[BLOBS]], %{{.*}}, %{{.*}} : i64, i64, i64, i64, tensor<?x32xi8>, f32, i32, tensor<?x9xi32>, tensor<{{[0-9]+}}xi8>, i64, !llvm.ptr)
// CHECK-SAME: output_positions [11]
func.func @w8a8(%f: tensor<?x32x!quant.uniform<i8:f32, 0.05:3>>, %c: tensor<?x3xi32>) -> (tensor<?x16xf32>, tensor<?x3xi32>) {
  %w = arith.constant dense<5> : tensor<3x3x32x16xi8>
  %s = arith.constant dense<0.01> : tensor<1x16xf32>
  %o, %oc = qnn.pillar_conv %f, %c, %w scales(%s : tensor<1x16xf32>) kind submanifold grid [64, 64] stride 2
      : tensor<?x32x!quant.uniform<i8:f32, 0.05:3>>, tensor<?x3xi32>, tensor<3x3x32x16xi8> -> tensor<?x16xf32>, tensor<?x3xi32>
  return %o, %oc : tensor<?x16xf32>, tensor<?x3xi32>
}

// -----

// W4 weight-only with f32 features: qr_uk_matmul_f32 per tap.
// CHECK-LABEL: func.func @w4_weight_only
// CHECK: qnn.ukernel "qr_uk_pillar_conv_packed_f32"
// CHECK-SAME: output_positions [9]
func.func @w4_weight_only(%f: tensor<?x64xf32>, %c: tensor<?x3xi32>) -> (tensor<?x16xf32>, tensor<?x3xi32>) {
  %w = arith.constant dense<3> : tensor<3x3x64x16xi4>
  %s = arith.constant dense<0.01> : tensor<2x16xf32>
  %o, %oc = qnn.pillar_conv %f, %c, %w scales(%s : tensor<2x16xf32>) kind submanifold grid [64, 64]
      : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x16xi4> -> tensor<?x16xf32>, tensor<?x3xi32>
  return %o, %oc : tensor<?x16xf32>, tensor<?x3xi32>
}

// -----

// Stride-1 submanifold layers keep their sites: the second layer reads the
// first layer's input coordinates and shares its rulebook; the strided
// layer after them builds its own.
// CHECK-LABEL: func.func @shared_rulebook
// CHECK-SAME: (%[[F:[^:]*]]: tensor<?x8xf32> {{.*}}, %[[C:[^:]*]]: tensor<?x3xi32>
// CHECK: %[[BOOK:.*]]:3 = qnn.ukernel "qr_uk_pillar_rulebook"(%{{.*}}, %[[C]],
// CHECK-NOT: qr_uk_pillar_rulebook
// CHECK: qnn.ukernel "qr_uk_pillar_conv_f32"
// CHECK-NOT: qr_uk_pillar_rulebook
// CHECK: qnn.ukernel "qr_uk_pillar_conv_f32"
// CHECK: qnn.ukernel "qr_uk_pillar_rulebook"(%{{.*}}, %[[C]],
// CHECK: qnn.ukernel "qr_uk_pillar_conv_f32"
func.func @shared_rulebook(%f: tensor<?x8xf32>, %c: tensor<?x3xi32>) -> (tensor<?x8xf32>, tensor<?x3xi32>) {
  %w = arith.constant dense<0.5> : tensor<3x3x8x8xf32>
  %f1, %c1 = qnn.pillar_conv %f, %c, %w kind submanifold grid [64, 64]
      : tensor<?x8xf32>, tensor<?x3xi32>, tensor<3x3x8x8xf32> -> tensor<?x8xf32>, tensor<?x3xi32>
  %f2, %c2 = qnn.pillar_conv %f1, %c1, %w kind submanifold grid [64, 64]
      : tensor<?x8xf32>, tensor<?x3xi32>, tensor<3x3x8x8xf32> -> tensor<?x8xf32>, tensor<?x3xi32>
  %f3, %c3 = qnn.pillar_conv %f2, %c2, %w kind submanifold grid [64, 64] stride 2
      : tensor<?x8xf32>, tensor<?x3xi32>, tensor<3x3x8x8xf32> -> tensor<?x8xf32>, tensor<?x3xi32>
  return %f3, %c3 : tensor<?x8xf32>, tensor<?x3xi32>
}

// -----

// A static empty input: empty results, no kernel calls.
// CHECK-LABEL: func.func @no_pillars
// CHECK-NOT: qnn.ukernel
// CHECK: %[[F:.*]] = tensor.empty() : tensor<0x16xf32>
// CHECK: %[[C:.*]] = tensor.empty() : tensor<0x3xi32>
// CHECK: return %[[F]], %[[C]]
func.func @no_pillars(%f: tensor<0x8xf32>, %c: tensor<0x3xi32>) -> (tensor<0x16xf32>, tensor<0x3xi32>) {
  %w = arith.constant dense<0.5> : tensor<3x3x8x16xf32>
  %o, %oc = qnn.pillar_conv %f, %c, %w kind submanifold grid [8, 8]
      : tensor<0x8xf32>, tensor<0x3xi32>, tensor<3x3x8x16xf32> -> tensor<0x16xf32>, tensor<0x3xi32>
  return %o, %oc : tensor<0x16xf32>, tensor<0x3xi32>
}
