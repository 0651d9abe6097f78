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

// -----

// A scalar the host needs (a pillar conv's row count, from tensor.extract):
// copied from its device buffer into a host stack slot by qr_cuda_read,
// which waits for the stream, then loaded from the slot. The device address
// is the base plus (offset + Σ index · stride) elements.
// CHECK-LABEL: func.func @host_scalar
// CHECK-SAME: (%[[COUNTS:.*]]: memref<2x2xi64, strided<[4, 1], offset: 1>>, %[[I:.*]]: index)
// CHECK: %{{.*}}, %[[OFFSET0:.*]], %{{.*}}:2, %[[STRIDES:.*]]:2 = memref.extract_strided_metadata %[[COUNTS]]
// CHECK: %[[ROW:.*]] = arith.muli %[[I]], %[[STRIDES]]#0 : index
// CHECK: %[[AT:.*]] = arith.addi %[[OFFSET0]], %[[ROW]] : index
// CHECK: %[[COLUMN:.*]] = arith.muli %{{.*}}, %[[STRIDES]]#1 : index
// CHECK: %[[LINEAR:.*]] = arith.addi %[[AT]], %[[COLUMN]] : index
// CHECK: %[[SLOT:.*]] = memref.alloca() : memref<i64>
// CHECK: %[[HOST:.*]] = llvm.inttoptr %{{.*}} : i64 to !llvm.ptr
// CHECK: %[[BASE:.*]] = memref.extract_aligned_pointer_as_index %[[COUNTS]]
// CHECK: %[[OFFSET:.*]] = arith.muli %[[LINEAR]], %{{.*}} : index
// CHECK: %[[ADDRESS:.*]] = arith.addi %[[BASE]], %[[OFFSET]] : index
// CHECK: %[[DEVICE:.*]] = llvm.inttoptr %{{.*}} : i64 to !llvm.ptr
// CHECK: %[[BYTES:.*]] = arith.constant 8 : i64
// CHECK: call @qr_cuda_read(%[[HOST]], %[[DEVICE]], %[[BYTES]]) : (!llvm.ptr, !llvm.ptr, i64) -> ()
// CHECK: %[[VALUE:.*]] = memref.load %[[SLOT]][] : memref<i64>
// CHECK: return %[[VALUE]]
// CHECK: func.func private @qr_cuda_read(!llvm.ptr, !llvm.ptr, i64)
func.func @host_scalar(%counts: memref<2x2xi64, strided<[4, 1], offset: 1>>, %i: index) -> i64 {
  %c1 = arith.constant 1 : index
  %v = memref.load %counts[%i, %c1] : memref<2x2xi64, strided<[4, 1], offset: 1>>
  return %v : i64
}

// -----

// A scalar the host stores into a device buffer (a row count into a model
// output): into a host slot first, then qr_cuda_write.
// CHECK-LABEL: func.func @host_store
// CHECK-SAME: (%[[OUT:.*]]: memref<i64>, %[[V:.*]]: i64)
// CHECK: %[[SLOT:.*]] = memref.alloca() : memref<i64>
// CHECK: memref.store %[[V]], %[[SLOT]][] : memref<i64>
// CHECK: call @qr_cuda_write(%{{.*}}, %{{.*}}, %{{.*}}) : (!llvm.ptr, !llvm.ptr, i64) -> ()
// CHECK: func.func private @qr_cuda_write(!llvm.ptr, !llvm.ptr, i64)
func.func @host_store(%out: memref<i64>, %v: i64) {
  memref.store %v, %out[] : memref<i64>
  return
}

// -----

// Accesses inside loops are left to the loop-to-kernel mapping.
// CHECK-LABEL: func.func @loop_access
// CHECK: scf.for
// CHECK-NEXT: memref.load %{{.*}}[%{{.*}}] : memref<8xf32>
// CHECK-NOT: qr_cuda_read
func.func @loop_access(%x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %x[%i] : memref<8xf32>
    memref.store %v, %x[%i] : memref<8xf32>
  }
  return
}
