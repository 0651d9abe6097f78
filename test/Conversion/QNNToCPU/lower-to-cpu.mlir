// The whole --qnn-lower-to-cpu pipeline ends in the llvm dialect with the
// model ABI's two symbols and C calls of the micro-kernels.
// RUN: quant-opt %s --qnn-lower-to-cpu | FileCheck %s
// RUN: quant-opt %s --qnn-lower-to-cpu="entry=block" | FileCheck %s

// CHECK-NOT: qnn.
// CHECK-NOT: func.func
// CHECK-DAG: llvm.mlir.global external constant @quant_model_signature("quant-model 1\0Ainput input0 float32 [2,4,64]\0Aoutput output0 float32 [2,4,64]\0A\00")
// CHECK-DAG: llvm.func @quant_model_run(%{{.*}}: !llvm.ptr) -> i32
// CHECK-DAG: llvm.func @qr_uk_hadamard_f32(!llvm.ptr, i64, i64, i64, !llvm.ptr, !llvm.ptr, i64)
// CHECK-DAG: llvm.func @qr_uk_matmul_s8(i64, i64, i64, !llvm.ptr, i64, !llvm.ptr, f32, i32, !llvm.ptr, !llvm.ptr, i64)
// CHECK-DAG: llvm.func @qr_uk_quantize_per_token_f32(i64, i64, !llvm.ptr, i64, i32, !llvm.ptr, i64, !llvm.ptr)
func.func @block(%x: tensor<2x4x64xf32>) -> tensor<2x4x64xf32> {
  %w = arith.constant dense<2> : tensor<64x64xi4>
  %s = arith.constant dense<0.125> : tensor<2x64xf32>
  %r = qnn.hadamard %x : tensor<2x4x64xf32>
  %q, %qs = qnn.quantize %r per_token : tensor<2x4x64xf32> -> tensor<2x4x64xi8>, tensor<2x4xf32>
  %y = qnn.matmul %q, %w input_scales(%qs : tensor<2x4xf32>) scales(%s : tensor<2x64xf32>) epilogue relu
       : tensor<2x4x64xi8>, tensor<64x64xi4> -> tensor<2x4x64xf32>
  return %y : tensor<2x4x64xf32>
}
