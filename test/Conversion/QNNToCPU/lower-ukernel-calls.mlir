// RUN: quant-opt %s --qnn-lower-ukernel-calls --split-input-file -verify-diagnostics | FileCheck %s

// Buffers become pointers to their first element (a subview adds its
// offset); scalars pass through; outputs sit at their declared positions.
// CHECK-LABEL: func.func @calls
// CHECK: %[[X:.*]] = memref.extract_aligned_pointer_as_index %{{.*}} : memref<4x8xf32> -> index
// CHECK: %[[XI:.*]] = arith.index_cast %[[X]] : index to i64
// CHECK: %[[XP:.*]] = llvm.inttoptr %[[XI]] : i64 to !llvm.ptr
// CHECK: call @qr_uk_hadamard_f32(%[[XP]], %{{.*}}, %{{.*}}) : (!llvm.ptr, i64, i64) -> ()
// CHECK: %[[BASE:.*]], %[[OFFSET:.*]], %{{.*}}:2, %{{.*}}:2 = memref.extract_strided_metadata
// CHECK: %[[OFF:.*]] = arith.index_cast %[[OFFSET]] : index to i64
// CHECK: llvm.getelementptr %{{.*}}[%[[OFF]]] : (!llvm.ptr, i64) -> !llvm.ptr, f32
// CHECK: call @qr_uk_hadamard_f32
// CHECK: func.func private @qr_uk_hadamard_f32(!llvm.ptr, i64, i64)
func.func @calls(%x: memref<4x8xf32>, %rows: i64, %n: i64) {
  qnn.ukernel "qr_uk_hadamard_f32"(%rows, %n : i64, i64) outs(%x : memref<4x8xf32>) output_positions [0]
  %sub = memref.subview %x[1, 0] [2, 8] [1, 1] : memref<4x8xf32> to memref<2x8xf32, strided<[8, 1], offset: 8>>
  qnn.ukernel "qr_uk_hadamard_f32"(%rows, %n : i64, i64) outs(%sub : memref<2x8xf32, strided<[8, 1], offset: 8>>) output_positions [0]
  return
}

// -----

func.func private @qr_uk_hadamard_f32(i64)

func.func @mismatched_declaration(%x: memref<4x8xf32>, %rows: i64) {
  // expected-error @below {{calls 'qr_uk_hadamard_f32' as '(!llvm.ptr, i64) -> ()' but it is declared as '(i64) -> ()'}}
  qnn.ukernel "qr_uk_hadamard_f32"(%rows : i64) outs(%x : memref<4x8xf32>) output_positions [0]
  return
}

// -----

func.func @not_bufferized(%x: tensor<4x8xf32>, %rows: i64) -> tensor<4x8xf32> {
  // expected-error @below {{must be bufferized before it is lowered to a call}}
  %y = qnn.ukernel "qr_uk_hadamard_f32"(%rows : i64) outs(%x : tensor<4x8xf32>) output_positions [0] -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
