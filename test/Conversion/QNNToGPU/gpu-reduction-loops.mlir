// RUN: quant-opt %s --qnn-gpu-reduction-loops --split-input-file | FileCheck %s

// Row sums: the rows in parallel, the accumulator an iteration argument;
// one load of the initial value and one store per row.
// CHECK-LABEL: func.func @row_sums
// CHECK-SAME: (%[[X:.*]]: memref<4x64xf32>, %[[S:.*]]: memref<4xf32>)
// CHECK: scf.parallel (%[[I:.*]]) = (%{{.*}}) to (%{{.*}}) step (%{{.*}}) {
// CHECK: %[[INIT:.*]] = memref.load %[[S]][%{{.*}}] : memref<4xf32>
// CHECK: %[[SUM:.*]] = scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %[[INIT]]) -> (f32) {
// CHECK: %[[V:.*]] = memref.load %[[X]][%{{.*}}, %{{.*}}] : memref<4x64xf32>
// CHECK: %[[SQ:.*]] = arith.mulf %[[V]], %[[V]] : f32
// CHECK: %[[NEXT:.*]] = arith.addf %[[ACC]], %[[SQ]] : f32
// CHECK: scf.yield %[[NEXT]] : f32
// CHECK: memref.store %[[SUM]], %[[S]][%{{.*}}] : memref<4xf32>
// CHECK-NOT: linalg.generic
func.func @row_sums(%x: memref<4x64xf32>, %s: memref<4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, k) -> (i, k)>, affine_map<(i, k) -> (i)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<4x64xf32>) outs(%s : memref<4xf32>) {
  ^bb0(%v: f32, %a: f32):
    %sq = arith.mulf %v, %v : f32
    %sum = arith.addf %a, %sq : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// Two reduction dimensions, a scalar input and linalg.index (the
// reduction's induction variable).
// CHECK-LABEL: func.func @weighted
// CHECK: scf.parallel
// CHECK: scf.for %[[K:.*]] = {{.*}} iter_args
// CHECK: scf.for %[[L:.*]] = {{.*}} iter_args
// CHECK: arith.index_cast %[[L]] : index to i64
// CHECK: scf.yield
// CHECK: scf.yield
// CHECK: memref.store
func.func @weighted(%x: memref<2x3x8xf32>, %w: f32, %s: memref<2xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, k, l) -> (i, k, l)>, affine_map<(i, k, l) -> ()>,
                                   affine_map<(i, k, l) -> (i)>],
                  iterator_types = ["parallel", "reduction", "reduction"]}
      ins(%x, %w : memref<2x3x8xf32>, f32) outs(%s : memref<2xf32>) {
  ^bb0(%v: f32, %scale: f32, %a: f32):
    %l = linalg.index 2 : index
    %li = arith.index_cast %l : index to i64
    %lf = arith.sitofp %li : i64 to f32
    %p = arith.mulf %v, %lf : f32
    %q = arith.mulf %p, %scale : f32
    %sum = arith.addf %a, %q : f32
    linalg.yield %sum : f32
  }
  return
}

// -----

// Element-wise generics and reductions over a leading dimension are left
// to convert-linalg-to-parallel-loops.
// CHECK-LABEL: func.func @left_alone
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK-NOT: scf.
func.func @left_alone(%x: memref<4x64xf32>, %y: memref<4x64xf32>, %c: memref<64xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<4x64xf32>) outs(%y : memref<4x64xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  }
  linalg.generic {indexing_maps = [affine_map<(k, j) -> (k, j)>, affine_map<(k, j) -> (j)>],
                  iterator_types = ["reduction", "parallel"]}
      ins(%x : memref<4x64xf32>) outs(%c : memref<64xf32>) {
  ^bb0(%v: f32, %a: f32):
    %sum = arith.addf %a, %v : f32
    linalg.yield %sum : f32
  }
  return
}
