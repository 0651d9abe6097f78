// RUN: quant-opt %s --qnn-fuse -split-input-file | FileCheck %s

#map4 = affine_map<(n, c, h, w) -> (n, c, h, w)>
#chan = affine_map<(n, c, h, w) -> (c)>

// Batch norm after import: y = (x - mean) * gamma / sqrt(var + eps) + beta
// per channel. Folded: W'[f] = W[f] * a_f, bias' = b_f.
// With mean = [1, 0], var = [3, 15], gamma = [2, 1], beta = [0, 5], eps = 1:
// a = [1, 0.25], b = [-1, 5]; the weights [2, 2] become [2, 0.5].
// CHECK-LABEL: func.func @fold_batch_norm
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}2.000000e+00]]], {{\[\[\[}}5.000000e-01]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[-1.000000e+00, 5.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = qnn.conv2d %{{.*}}, %[[W]] bias(%[[B]] : tensor<2xf32>) layout nchw
// CHECK-NOT: linalg.generic
// CHECK: return %[[Y]]
func.func @fold_batch_norm(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<[[[[2.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %conv = qnn.conv2d %x, %w layout nchw : tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32> -> tensor<1x2x4x4xf32>
  %mean = arith.constant dense<[1.0, 0.0]> : tensor<2xf32>
  %var = arith.constant dense<[3.0, 15.0]> : tensor<2xf32>
  %gamma = arith.constant dense<[2.0, 1.0]> : tensor<2xf32>
  %beta = arith.constant dense<[0.0, 5.0]> : tensor<2xf32>
  %empty = tensor.empty() : tensor<1x2x4x4xf32>
  %y = linalg.generic {indexing_maps = [#map4, #chan, #chan, #chan, #chan, #map4],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
       ins(%conv, %mean, %var, %gamma, %beta : tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
       outs(%empty : tensor<1x2x4x4xf32>) {
  ^bb0(%v: f32, %m: f32, %s2: f32, %g: f32, %b: f32, %o: f32):
    %eps = arith.constant 1.0 : f32
    %centered = arith.subf %v, %m : f32
    %denom = arith.addf %s2, %eps : f32
    %std = math.sqrt %denom : f32
    %normed = arith.divf %centered, %std : f32
    %scaled = arith.mulf %normed, %g : f32
    %shifted = arith.addf %scaled, %b : f32
    linalg.yield %shifted : f32
  } -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

#map4 = affine_map<(n, c, h, w) -> (n, c, h, w)>

// x * x is not affine: nothing folds.
// CHECK-LABEL: func.func @square_is_not_folded
// CHECK: qnn.conv2d
// CHECK: linalg.generic
func.func @square_is_not_folded(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w = arith.constant dense<2.0> : tensor<1x1x1x1xf32>
  %conv = qnn.conv2d %x, %w layout nchw : tensor<1x1x4x4xf32>, tensor<1x1x1x1xf32> -> tensor<1x1x4x4xf32>
  %empty = tensor.empty() : tensor<1x1x4x4xf32>
  %y = linalg.generic {indexing_maps = [#map4, #map4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
       ins(%conv : tensor<1x1x4x4xf32>) outs(%empty : tensor<1x1x4x4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %sq = arith.mulf %v, %v : f32
    linalg.yield %sq : f32
  } -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

#map = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>

// dequantize → matmul → bias → relu → quantize becomes one matmul.
// CHECK-LABEL: func.func @fuse_matmul_chain
// CHECK-SAME: (%[[Q:.*]]: tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01>>, %[[B:.*]]: tensor<3xf32>)
// CHECK: %[[Y:.*]] = qnn.matmul %[[Q]], %{{.*}} scales(%{{.*}} : tensor<1x3xf32>) bias(%[[B]] : tensor<3xf32>) epilogue relu : tensor<2x4x!quant.uniform<i8:f32, 1.000000e-01>>, tensor<4x3xi8> -> tensor<2x3x!quant.uniform<i8:f32, 5.000000e-02>>
// CHECK-NOT: linalg.generic
// CHECK-NOT: qnn.quantize
// CHECK: return %[[Y]]
func.func @fuse_matmul_chain(%q: tensor<2x4x!quant.uniform<i8:f32, 0.1>>, %bias: tensor<3xf32>)
    -> tensor<2x3x!quant.uniform<i8:f32, 0.05>> {
  %x = qnn.dequantize %q : tensor<2x4x!quant.uniform<i8:f32, 0.1>> -> tensor<2x4xf32>
  %w = arith.constant dense<3> : tensor<4x3xi8>
  %s = arith.constant dense<0.02> : tensor<1x3xf32>
  %mm = qnn.matmul %x, %w scales(%s : tensor<1x3xf32>) : tensor<2x4xf32>, tensor<4x3xi8> -> tensor<2x3xf32>
  %empty = tensor.empty() : tensor<2x3xf32>
  %biased = linalg.generic {indexing_maps = [#map, #bias, #map], iterator_types = ["parallel", "parallel"]}
       ins(%mm, %bias : tensor<2x3xf32>, tensor<3xf32>) outs(%empty : tensor<2x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %sum = arith.addf %a, %b : f32
    linalg.yield %sum : f32
  } -> tensor<2x3xf32>
  %relu = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]}
       ins(%biased : tensor<2x3xf32>) outs(%empty : tensor<2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %zero = arith.constant 0.0 : f32
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  } -> tensor<2x3xf32>
  %y = qnn.quantize %relu : tensor<2x3xf32> -> tensor<2x3x!quant.uniform<i8:f32, 0.05>>
  return %y : tensor<2x3x!quant.uniform<i8:f32, 0.05>>
}

// -----

#map = affine_map<(d0, d1) -> (d0, d1)>

// SiLU written as x * sigmoid(x) is recognised by what it computes.
// CHECK-LABEL: func.func @fuse_silu
// CHECK: qnn.matmul {{.*}} epilogue silu
// CHECK-NOT: linalg.generic
func.func @fuse_silu(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3xf32>
  %mm = qnn.matmul %x, %w : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  %empty = tensor.empty() : tensor<2x3xf32>
  %y = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]}
       ins(%mm : tensor<2x3xf32>) outs(%empty : tensor<2x3xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %neg = arith.negf %a : f32
    %e = math.exp %neg : f32
    %den = arith.addf %one, %e : f32
    %sig = arith.divf %one, %den : f32
    %r = arith.mulf %a, %sig : f32
    linalg.yield %r : f32
  } -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @fuse_hadamard_prologue
// CHECK-SAME: (%[[X:.*]]: tensor<2x4xf32>)
// CHECK-NOT: qnn.hadamard
// CHECK: qnn.matmul %[[X]], %{{.*}} hadamard_prologue prologue_signs [1, -1, 1, 1] : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
func.func @fuse_hadamard_prologue(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %h = qnn.hadamard %x signs [1, -1, 1, 1] : tensor<2x4xf32>
  %w = arith.constant dense<0.5> : tensor<4x3xf32>
  %y = qnn.matmul %h, %w : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// A Hadamard with two users stays (it would be computed twice).
// CHECK-LABEL: func.func @shared_hadamard_stays
// CHECK: qnn.hadamard
func.func @shared_hadamard_stays(%x: tensor<2x4xf32>) -> (tensor<2x3xf32>, tensor<2x4xf32>) {
  %h = qnn.hadamard %x : tensor<2x4xf32>
  %w = arith.constant dense<0.5> : tensor<4x3xf32>
  %y = qnn.matmul %h, %w : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  return %y, %h : tensor<2x3xf32>, tensor<2x4xf32>
}
