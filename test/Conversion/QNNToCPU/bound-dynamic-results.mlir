// RUN: quant-opt %s --split-input-file --qnn-bound-dynamic-results -verify-diagnostics | FileCheck %s

// A dynamic-row result bounded through affine.min becomes a zero-padded
// static result followed by its row count; static results are unchanged.
// CHECK-LABEL: func.func @rows
// CHECK-SAME: -> (tensor<4xf32>, tensor<24x8xf32>, tensor<i64>)
// CHECK: %[[FILL:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<24x8xf32>)
// CHECK: %[[ROWS:.*]] = tensor.dim %[[DYN:.*]], %{{.*}} : tensor<?x8xf32>
// CHECK: %[[PADDED:.*]] = tensor.insert_slice %[[DYN]] into %[[FILL]][0, 0] [%[[ROWS]], 8] [1, 1]
// CHECK: %[[COUNT:.*]] = arith.index_cast %[[ROWS]] : index to i64
// CHECK: %[[SCALAR:.*]] = tensor.from_elements %[[COUNT]] : tensor<i64>
// CHECK: return %{{.*}}, %[[PADDED]], %[[SCALAR]]
func.func @rows(%x: tensor<4xf32>, %n: index) -> (tensor<4xf32>, tensor<?x8xf32>) {
  %m = affine.min affine_map<()[s0] -> (s0, 24)>()[%n]
  %e = tensor.empty(%m) : tensor<?x8xf32>
  return %x, %e : tensor<4xf32>, tensor<?x8xf32>
}

// -----

// expected-error @below {{result #0 of type 'tensor<?x8xf32>' has no static upper bound on its rows}}
func.func @unbounded(%n: index) -> tensor<?x8xf32> {
  %e = tensor.empty(%n) : tensor<?x8xf32>
  return %e : tensor<?x8xf32>
}

// -----

// expected-error @below {{result #0 of type 'tensor<4x?xf32>' is dynamic beyond its leading dimension}}
func.func @columns(%n: index) -> tensor<4x?xf32> {
  %e = tensor.empty(%n) : tensor<4x?xf32>
  return %e : tensor<4x?xf32>
}
