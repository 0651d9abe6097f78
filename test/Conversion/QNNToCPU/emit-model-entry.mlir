// RUN: quant-opt %s --qnn-emit-model-entry --split-input-file -verify-diagnostics | FileCheck %s
// RUN: quant-opt %s --qnn-emit-model-entry=device=cuda --split-input-file -verify-diagnostics | FileCheck %s --check-prefix=CUDA

// The only public function becomes quant_model_main; out-parameters
// (bufferize.result) are the outputs of the signature; the run wrapper loads
// each buffer pointer and passes it as a memref.
// CHECK-LABEL: func.func @quant_model_main
// CHECK-SAME: (%{{.*}}: memref<4x8xf32>, %{{.*}}: memref<4xi8> {bufferize.result})
// CHECK: llvm.mlir.global external constant @quant_model_signature("quant-model 1\0Ainput input0 float32 [4,8]\0Aoutput output0 int8 [4]\0A\00")
// A GPU model's buffers are device pointers; its signature says so.
// CUDA: llvm.mlir.global external constant @quant_model_signature("quant-model 1\0Ainput input0 float32 [4,8]\0Aoutput output0 int8 [4]\0Adevice cuda\0A\00")
// CHECK: func.func @quant_model_run(%[[BUFFERS:.*]]: !llvm.ptr) -> i32
// CHECK: %[[SLOT0:.*]] = llvm.getelementptr %[[BUFFERS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[IN:.*]] = llvm.load %[[SLOT0]] : !llvm.ptr -> !llvm.ptr
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> to memref<4x8xf32>
// CHECK: llvm.getelementptr %[[BUFFERS]][1]
// CHECK: builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> to memref<4xi8>
// CHECK: call @quant_model_main
// CHECK: return %{{.*}} : i32
func.func @model(%x: memref<4x8xf32>, %y: memref<4xi8> {bufferize.result}) {
  return
}
func.func private @helper(%x: memref<4xf32>) {
  return
}

// -----

// expected-error @below {{several public functions ('a', 'b'); choose the model with entry=NAME}}
module {
  func.func @a() {
    return
  }
  func.func @b() {
    return
  }
}

// -----

// expected-error @below {{has no runtime ABI: expected a static, dense buffer}}
func.func @dynamic(%x: memref<?x8xf32>) {
  return
}
