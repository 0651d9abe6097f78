// RUN: quant-opt %s --qnn-gpu-tile-loops --split-input-file -verify-diagnostics | FileCheck %s
// RUN: quant-opt %s --qnn-gpu-tile-loops=threads=128 --split-input-file -verify-diagnostics | FileCheck %s --check-prefix=T128

// A 3-D loop is collapsed into one dimension (2·4·64 = 512 iterations),
// then tiled: 2 blocks of 256 threads, each thread one element at
// (i / 256, (i / 64) % 4, i % 64).
// CHECK-LABEL: func.func @collapse
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: %[[TILE:.*]] = arith.muli %{{.*}}, %[[C256]] : index
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%[[TILE]]) {
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[TILE]]) step (%{{.*}}) {
// CHECK: scf.if
// CHECK: arith.remsi
// CHECK: arith.divsi
// CHECK: memref.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}] : memref<2x4x64xf32>
// T128-LABEL: func.func @collapse
// T128: %[[C128:.*]] = arith.constant 128 : index
// T128: %[[TILE:.*]] = arith.muli %{{.*}}, %[[C128]] : index
// T128: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%[[TILE]])
func.func @collapse(%x: memref<2x4x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c2, %c4, %c64) step (%c1, %c1, %c1) {
    memref.store %zero, %x[%i, %j, %k] : memref<2x4x64xf32>
  }
  return
}

// -----

// A 1-D loop with a sequential reduction inside: the rows become threads.
// CHECK-LABEL: func.func @rows
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.for
func.func @rows(%x: memref<4x64xf32>, %sums: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %k = %c0 to %c64 step %c1 {
      %v = memref.load %x[%i, %k] : memref<4x64xf32>
      %s = memref.load %sums[%i] : memref<4xf32>
      %a = arith.addf %v, %s : f32
      memref.store %a, %sums[%i] : memref<4xf32>
    }
  }
  return
}
