// RUN: quant-opt %s --qnn-check-host-memory-access --split-input-file -verify-diagnostics | FileCheck %s

// Kernels, GPU runtime ops and kernel calls may touch device buffers.
// CHECK-LABEL: func.func @mapped
// CHECK: gpu.launch
// CHECK: memref.store
// CHECK: gpu.memcpy
// CHECK: qnn.ukernel "qr_gpu_hadamard_f32"
func.func @mapped(%x: memref<8xf32>, %y: memref<8xf32>) {
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c8, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %x[%bx] : memref<8xf32>
    gpu.terminator
  }
  gpu.memcpy %y, %x : memref<8xf32>, memref<8xf32>
  qnn.ukernel "qr_gpu_hadamard_f32"() outs(%y : memref<8xf32>) output_positions [0]
  return
}

// -----

// A loop the GPU mapping left on the host would dereference device memory.
func.func @unmapped(%x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  scf.for %i = %c0 to %c8 step %c1 {
    // expected-error @below {{reads or writes a device buffer in host code; only loops mapped to GPU kernels may access buffers}}
    memref.store %zero, %x[%i] : memref<8xf32>
  }
  return
}

// -----

func.func @scalar_read(%x: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @below {{reads or writes a device buffer in host code}}
  %v = memref.load %x[%c0] : memref<8xf32>
  return %v : f32
}

// -----

// The host stack slots qnn-gpu-buffers reads device scalars into are host
// memory.
// CHECK-LABEL: func.func @host_slot
// CHECK: memref.load
func.func @host_slot() -> i64 {
  %slot = memref.alloca() : memref<i64>
  %v = memref.load %slot[] : memref<i64>
  return %v : i64
}
