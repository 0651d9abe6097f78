// RUN: quant-opt %s --qnn-smooth-outliers -split-input-file | FileCheck %s

// Default alpha = 0.5: s_j = sqrt(max|X_j|) / sqrt(max|W_j|). With
// max|X| = [16, 1] and weight row maxima [4, 4], s = [2, 0.5].
#stats = #qnn.calib_stats<axis = 1, samples = 1, absmax = [16.0, 1.0], min = [-16.0, -1.0],
                          max = [8.0, 0.5], percentile = 99.0, percentile_absmax = [8.0, 0.5]>

// No producer to fold into: X is divided by an explicit qnn.scale, W's rows
// are multiplied, and the statistics now describe the smoothed X.
// CHECK-LABEL: func.func @smooth_function_argument
// CHECK-SAME: (%[[X:.*]]: tensor<4x2xf32>)
// CHECK: %[[S:.*]] = qnn.scale %[[X]] along 1 by [5.000000e-01, 2.000000e+00] : tensor<4x2xf32>
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[}}8.000000e+00, -4.000000e+00], [2.000000e+00, 5.000000e-01]]> : tensor<2x2xf32>
// CHECK: qnn.matmul %[[S]], %[[W]] {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 1, absmax = [8.000000e+00, 2.000000e+00], min = [-8.000000e+00, -2.000000e+00], max = [4.000000e+00, 1.000000e+00], percentile = 9.900000e+01, percentile_absmax = [4.000000e+00, 1.000000e+00]>}
func.func @smooth_function_argument(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[4.0, -2.0], [4.0, 1.0]]> : tensor<2x2xf32>
  %y = qnn.matmul %x, %w {qnn.calib_stats = #stats} : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

#stats = #qnn.calib_stats<axis = 1, samples = 1, absmax = [16.0, 1.0], min = [-16.0, -1.0],
                          max = [8.0, 0.5], percentile = 99.0, percentile_absmax = [8.0, 0.5]>

// The producing linear layer absorbs 1/s in its output columns and bias.
// Its own input is already balanced (max|X| equals its weight row maxima,
// so s = 1) and stays unscaled.
#balanced = #qnn.calib_stats<axis = 1, samples = 1, absmax = [1.0, 4.0], min = [-1.0, -4.0],
                             max = [1.0, 4.0], percentile = 99.0, percentile_absmax = [1.0, 4.0]>
// CHECK-LABEL: func.func @smooth_into_producer_matmul
// CHECK-DAG: %[[WP:.*]] = arith.constant dense<{{\[\[}}5.000000e-01, 2.000000e+00], [1.500000e+00, 8.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[BP:.*]] = arith.constant dense<[5.000000e-01, -2.000000e+00]> : tensor<2xf32>
// CHECK: %[[H:.*]] = qnn.matmul %{{.*}}, %[[WP]] bias(%[[BP]] : tensor<2xf32>)
// CHECK-NOT: qnn.scale
// CHECK: qnn.matmul %[[H]]
func.func @smooth_into_producer_matmul(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %wp = arith.constant dense<[[1.0, 1.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %bp = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %h = qnn.matmul %x, %wp bias(%bp : tensor<2xf32>) {qnn.calib_stats = #balanced} : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %w = arith.constant dense<[[4.0, -2.0], [4.0, 1.0]]> : tensor<2x2xf32>
  %y = qnn.matmul %h, %w {qnn.calib_stats = #stats} : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}

// -----

#stats = #qnn.calib_stats<axis = 1, samples = 1, absmax = [16.0, 1.0], min = [-16.0, -1.0],
                          max = [8.0, 0.5], percentile = 99.0, percentile_absmax = [8.0, 0.5]>
#map = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#chan = affine_map<(d0, d1) -> (d1)>

// RMSNorm's gamma absorbs 1/s; both consumers (q and k) share s, computed
// from the larger of their weight rows.
// CHECK-LABEL: func.func @smooth_into_rmsnorm_gamma
// CHECK: %[[GAMMA:.*]] = arith.constant dense<[5.000000e-01, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[N:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %[[GAMMA]] :
// CHECK-NOT: qnn.scale
// CHECK: qnn.matmul %[[N]], %{{.*}}
// CHECK: qnn.matmul %[[N]], %{{.*}}
func.func @smooth_into_rmsnorm_gamma(%x: tensor<4x2xf32>, %rms: tensor<4xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>) {
  %gamma = arith.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %empty = tensor.empty() : tensor<4x2xf32>
  %n = linalg.generic {indexing_maps = [#map, #row, #chan, #map], iterator_types = ["parallel", "parallel"]}
       ins(%x, %rms, %gamma : tensor<4x2xf32>, tensor<4xf32>, tensor<2xf32>) outs(%empty : tensor<4x2xf32>) {
  ^bb0(%a: f32, %r: f32, %g: f32, %o: f32):
    %t = arith.mulf %a, %r : f32
    %s = arith.mulf %t, %g : f32
    linalg.yield %s : f32
  } -> tensor<4x2xf32>
  %wq = arith.constant dense<[[4.0, -2.0], [1.0, 1.0]]> : tensor<2x2xf32>
  %wk = arith.constant dense<[[1.0, 1.0], [-4.0, 0.5]]> : tensor<2x2xf32>
  %q = qnn.matmul %n, %wq {qnn.calib_stats = #stats} : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  %k = qnn.matmul %n, %wk {qnn.calib_stats = #stats} : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  return %q, %k : tensor<4x2xf32>, tensor<4x2xf32>
}

// -----

#stats = #qnn.calib_stats<axis = 1, samples = 1, absmax = [16.0, 1.0], min = [-16.0, -1.0],
                          max = [8.0, 0.5], percentile = 99.0, percentile_absmax = [8.0, 0.5]>
#map = affine_map<(d0, d1) -> (d0, d1)>
#chan = affine_map<(d0, d1) -> (d1)>

// LayerNorm's affine part t·gamma + beta absorbs 1/s in both vectors.
// CHECK-LABEL: func.func @smooth_into_layernorm_gamma_and_beta
// CHECK-DAG: %[[GAMMA:.*]] = arith.constant dense<[1.000000e+00, 4.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[BETA:.*]] = arith.constant dense<[5.000000e-01, -2.000000e+00]> : tensor<2xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[GAMMA]], %[[BETA]] :
// CHECK-NOT: qnn.scale
func.func @smooth_into_layernorm_gamma_and_beta(%t: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %gamma = arith.constant dense<[2.0, 2.0]> : tensor<2xf32>
  %beta = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %empty = tensor.empty() : tensor<4x2xf32>
  %n = linalg.generic {indexing_maps = [#map, #chan, #chan, #map], iterator_types = ["parallel", "parallel"]}
       ins(%t, %gamma, %beta : tensor<4x2xf32>, tensor<2xf32>, tensor<2xf32>) outs(%empty : tensor<4x2xf32>) {
  ^bb0(%a: f32, %g: f32, %b: f32, %o: f32):
    %s = arith.mulf %a, %g : f32
    %y = arith.addf %s, %b : f32
    linalg.yield %y : f32
  } -> tensor<4x2xf32>
  %w = arith.constant dense<[[4.0, -2.0], [4.0, 1.0]]> : tensor<2x2xf32>
  %y = qnn.matmul %n, %w {qnn.calib_stats = #stats} : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
