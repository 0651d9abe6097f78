// RUN: quant-opt %s --qnn-gpu-stream-order --split-input-file -verify-diagnostics | FileCheck %s

// GPU ops chain on one token; calls of the runtime's kernels (same stream)
// need no host wait; the host waits once, before returning.
// CHECK-LABEL: func.func @model
// CHECK: %[[T0:.*]] = gpu.wait async
// CHECK: %[[BUF:.*]], %[[T1:.*]] = gpu.alloc async [%[[T0]]] () : memref<8xf32>
// CHECK: %[[T2:.*]] = gpu.launch_func async [%[[T1]]] @kernels::@fill
// CHECK-NOT: gpu.wait
// CHECK: call @qr_gpu_hadamard_f32
// CHECK: %[[T3:.*]] = gpu.memcpy async [%[[T2]]] %{{.*}}, %[[BUF]]
// CHECK: %[[T4:.*]] = gpu.dealloc async [%[[T3]]] %[[BUF]]
// CHECK: gpu.wait [%[[T4]]]
// CHECK-NEXT: return
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @fill(%x: memref<8xf32>) kernel {
      gpu.return
    }
  }
  func.func private @qr_gpu_hadamard_f32(memref<8xf32>)
  func.func @model(%y: memref<8xf32>) {
    %c1 = arith.constant 1 : index
    %b = gpu.alloc () : memref<8xf32>
    gpu.launch_func @kernels::@fill blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%b : memref<8xf32>)
    call @qr_gpu_hadamard_f32(%b) : (memref<8xf32>) -> ()
    gpu.memcpy %y, %b : memref<8xf32>, memref<8xf32>
    gpu.dealloc %b : memref<8xf32>
    return
  }
}

// -----

// Functions without GPU work are left alone.
// CHECK-LABEL: func.func @host_only
// CHECK-NOT: gpu.wait
func.func @host_only() {
  return
}

// -----

func.func @in_loop(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    // expected-error @below {{is inside control flow; the GPU lowering orders the GPU work of straight-line host code only}}
    %b = gpu.alloc () : memref<8xf32>
  }
  return
}
