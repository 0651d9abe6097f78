// REQUIRES: cuda-toolkit
// --to-cubin runs the toolkit's ptxas on the model's PTX; a missing ptxas is
// an error naming where it was looked for.
// RUN: quant-opt %s --qnn-lower-to-gpu="format=isa" -o %t.mlir
// RUN: quant-translate --to-cubin %t.mlir -o %t.cubin
// RUN: od -An -c -N4 %t.cubin | FileCheck %s --check-prefix=ELF
// RUN: not quant-translate --to-cubin --cuda-path=%t.nonexistent %t.mlir 2>&1 | FileCheck %s --check-prefix=NOPTXAS
// The default format embeds a fatbin built by ptxas in the host code, which
// --to-shared-lib links with the runtime (the mgpu* ABI, qr_cuda_constant).
// RUN: quant-opt %s --qnn-lower-to-gpu | quant-translate --to-shared-lib -o %t.so
// RUN: llvm-nm -D %t.so | FileCheck %s --check-prefix=SO

// ELF: 177 E L F
// NOPTXAS: error: ptxas not found at {{.*}}nonexistent/bin/ptxas: install CUDA 13 at /usr/local/cuda (or pass --cuda-path)
// SO-DAG: T quant_model_run
// SO-DAG: R quant_model_signature
// SO-DAG: U mgpuModuleLoad
// SO-DAG: U mgpuLaunchKernel
// SO-DAG: U qr_cuda_constant
// SO-DAG: U qr_gpu_matmul_f16w

func.func @linear(%x: tensor<4x128xf32>) -> tensor<4x64xf32> {
  %w = arith.constant dense<3> : tensor<128x64xi4>
  %s = arith.constant dense<0.125> : tensor<1x64xf32>
  %b = arith.constant dense<0.5> : tensor<64xf32>
  %y = qnn.matmul %x, %w scales(%s : tensor<1x64xf32>) bias(%b : tensor<64xf32>) epilogue gelu
       : tensor<4x128xf32>, tensor<128x64xi4> -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}
