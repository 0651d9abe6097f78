// quant's --mlir-to-llvmir: the translation, for the host target.
// RUN: quant-translate --mlir-to-llvmir %s | FileCheck %s
// CHECK: target triple = "{{.*}}"
// CHECK: define i32 @add(i32 %{{.*}}, i32 %{{.*}})
// CHECK: add i32
llvm.func @add(%a: i32, %b: i32) -> i32 {
  %0 = llvm.add %a, %b : i32
  llvm.return %0 : i32
}
