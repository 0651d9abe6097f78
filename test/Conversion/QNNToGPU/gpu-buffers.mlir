// RUN: quant-opt %s --qnn-gpu-buffers --split-input-file -verify-diagnostics | FileCheck %s

// Every host buffer becomes a device buffer: allocations, copies, and the
// constants, which the runtime uploads once (qr_cuda_constant).
// CHECK-LABEL: func.func @model
// CHECK-SAME: (%[[X:.*]]: memref<4x8xf32>, %[[Y:.*]]: memref<4x8xf32>)
// CHECK: %[[HOST:.*]] = memref.get_global @weights : memref<8xf32>
// CHECK: %[[BASE:.*]] = memref.extract_aligned_pointer_as_index %[[HOST]]
// CHECK: %[[ADDRESS:.*]] = arith.index_cast %[[BASE]] : index to i64
// CHECK: %[[POINTER:.*]] = llvm.inttoptr %[[ADDRESS]] : i64 to !llvm.ptr
// CHECK: %[[BYTES:.*]] = arith.constant 32 : i64
// CHECK: %[[DEVICE:.*]] = call @qr_cuda_constant(%[[POINTER]], %[[BYTES]]) : (!llvm.ptr, i64) -> !llvm.ptr
// CHECK: %[[W:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> to memref<8xf32>
// CHECK: %[[TMP:.*]] = gpu.alloc () : memref<4x8xf32>
// CHECK: qnn.ukernel "consume"(%[[W]] : memref<8xf32>) outs(%[[TMP]] : memref<4x8xf32>)
// CHECK: gpu.memcpy %[[Y]], %[[TMP]] : memref<4x8xf32>, memref<4x8xf32>
// CHECK: %[[ROW:.*]] = memref.subview %[[TMP]][1, 0] [1, 8] [1, 1]
// CHECK: linalg.copy ins(%[[ROW]] : memref<1x8xf32, strided<[8, 1], offset: 8>>) outs(%{{.*}} : memref<1x8xf32, strided<[8, 1]>>)
// CHECK: gpu.dealloc %[[TMP]] : memref<4x8xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
// CHECK: func.func private @qr_cuda_constant(!llvm.ptr, i64) -> !llvm.ptr
memref.global "private" constant @weights : memref<8xf32> = dense<1.0>
func.func @model(%x: memref<4x8xf32>, %y: memref<4x8xf32>) {
  %w = memref.get_global @weights : memref<8xf32>
  %tmp = memref.alloc() : memref<4x8xf32>
  qnn.ukernel "consume"(%w : memref<8xf32>) outs(%tmp : memref<4x8xf32>) output_positions [1]
  memref.copy %tmp, %y : memref<4x8xf32> to memref<4x8xf32>
  %row = memref.subview %tmp[1, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<1x8xf32, strided<[8, 1], offset: 8>>
  %first = memref.subview %x[0, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<1x8xf32, strided<[8, 1]>>
  memref.copy %row, %first : memref<1x8xf32, strided<[8, 1], offset: 8>> to memref<1x8xf32, strided<[8, 1]>>
  memref.dealloc %tmp : memref<4x8xf32>
  return
}

// -----

memref.global "private" @state : memref<8xf32> = dense<0.0>
func.func @writable_global() {
  // expected-error @below {{reads the writable global 'state', which has no device copy; a GPU model's globals must be constants}}
  %s = memref.get_global @state : memref<8xf32>
  return
}

// -----

func.func @stack_buffer() {
  // expected-error @below {{allocates a host stack buffer, which GPU kernels cannot access}}
  %a = memref.alloca() : memref<8xf32>
  return
}

// -----

// Kernel bodies already work on device buffers.
// CHECK-LABEL: func.func @inside_launch
// CHECK: gpu.launch
// CHECK: memref.alloca
func.func @inside_launch() {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    %a = memref.alloca() : memref<8xf32>
    gpu.terminator
  }
  return
}
