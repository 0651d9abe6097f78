// --qnn-calibrate compiles the model for the CPU, runs it on fresh random
// samples and attaches per-channel statistics that match numpy's float64
// statistics of the same samples.
// RUN: %python %S/Inputs/calibration_check.py write %t.npz
// RUN: quant-opt %s --qnn-calibrate=%t.npz -o %t.mlir 2>&1 | FileCheck %s --check-prefix=PROGRESS
// RUN: %python %S/Inputs/calibration_check.py check %t.mlir %t.npz
// RUN: FileCheck %s --input-file=%t.mlir
// RUN: quant-opt %t.mlir --qnn-import-linalg | FileCheck %s --check-prefix=RAISED
// The option form and a 100th percentile (ranges only, one sweep).
// RUN: quant-opt %s --qnn-calibrate="file=%t.npz percentile=100 max-samples=2" 2>/dev/null | FileCheck %s --check-prefix=OPTIONS

// PROGRESS: qnn-calibrate: compiling 'main' with 2 observed activations
// PROGRESS: qnn-calibrate: ranges {{.*}} 1/12
// PROGRESS: qnn-calibrate: histograms [##############################] 12/12

// CHECK-LABEL: func.func @main
// CHECK: linalg.matmul {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 6,
// CHECK: linalg.matmul {qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 6,

// RAISED-LABEL: func.func @main
// RAISED-COUNT-2: qnn.matmul {{.*}}qnn.calib_stats = #qnn.calib_stats<axis = 1, samples = 6,

// OPTIONS-LABEL: func.func @main
// OPTIONS: samples = 2, {{.*}}percentile = 1.000000e+02

#identity = affine_map<(d0, d1) -> (d0, d1)>
func.func @main(%x: tensor<4x16xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %w1 = arith.constant dense<0.5> : tensor<16x8xf32>
  %w2 = arith.constant dense<-0.25> : tensor<16x8xf32>
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<4x8xf32>) -> tensor<4x8xf32>
  %a = linalg.matmul ins(%x, %w1 : tensor<4x16xf32>, tensor<16x8xf32>)
                     outs(%acc : tensor<4x8xf32>) -> tensor<4x8xf32>
  %relu_init = tensor.empty() : tensor<4x16xf32>
  %relu = linalg.generic {indexing_maps = [#identity, #identity],
                          iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x16xf32>) outs(%relu_init : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %in, %zero : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  %b = linalg.matmul ins(%relu, %w2 : tensor<4x16xf32>, tensor<16x8xf32>)
                     outs(%acc : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %a, %b : tensor<4x8xf32>, tensor<4x8xf32>
}
