// RUN: quant-opt %s --qnn-merge-gpu-modules | FileCheck %s

// Outlined kernels move into one gpu.module, named after the module they
// came from; launches follow them.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: gpu.module @quant_kernels {
// CHECK: gpu.func @model_kernel(%{{.*}}: memref<8xf32>) kernel
// CHECK: gpu.func @model_kernel_0(%{{.*}}: memref<8xf32>) kernel
// CHECK: }
// CHECK-NOT: gpu.module
// CHECK: func.func @model
// CHECK: gpu.launch_func @quant_kernels::@model_kernel blocks
// CHECK: gpu.launch_func @quant_kernels::@model_kernel_0 blocks
module attributes {gpu.container_module} {
  gpu.module @model_kernel {
    gpu.func @model_kernel(%x: memref<8xf32>) kernel {
      gpu.return
    }
  }
  gpu.module @model_kernel_0 {
    gpu.func @model_kernel(%x: memref<8xf32>) kernel {
      gpu.return
    }
  }
  func.func @model(%x: memref<8xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @model_kernel::@model_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<8xf32>)
    gpu.launch_func @model_kernel_0::@model_kernel blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<8xf32>)
    return
  }
}
