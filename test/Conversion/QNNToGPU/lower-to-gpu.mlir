// The whole --qnn-lower-to-gpu pipeline on a small model: RMSNorm
// (element-wise generics and a row reduction), an online Hadamard and a
// W4A16 linear with a SiLU epilogue. The host side ends in the llvm dialect
// with the model ABI, the runtime's kernel calls and launches of the
// outlined kernels, whose PTX (format=isa, LLVM's NVPTX backend only) is
// checked through quant-translate --to-ptx. The kernels link the CUDA
// toolkit's libdevice (math functions), hence the toolkit requirement.
// REQUIRES: cuda-toolkit
// RUN: quant-opt %s --qnn-lower-to-gpu="format=isa" | FileCheck %s --check-prefix=HOST
// RUN: quant-opt %s --qnn-lower-to-gpu="format=isa" | quant-translate --to-ptx | FileCheck %s --check-prefix=PTX
// RUN: quant-opt %s --qnn-lower-to-gpu="chip=sm_80 features=+ptx80 format=isa" | quant-translate --to-ptx | FileCheck %s --check-prefix=SM80

// HOST-NOT: qnn.
// HOST-NOT: func.func
// HOST-NOT: memref.
// HOST-LABEL: llvm.func @quant_model_main
// Weights and gamma: device copies from the runtime.
// HOST: llvm.call @qr_cuda_constant
// HOST: llvm.call @qr_cuda_constant
// All GPU work goes to one stream; the host waits once, at the end.
// HOST: %[[STREAM:.*]] = llvm.call @mgpuStreamCreate()
// HOST-NOT: mgpuStreamCreate
// HOST-NOT: mgpuStreamSynchronize
// HOST: llvm.call @mgpuMemAlloc({{.*}}, %[[STREAM]], {{.*}})
// RMSNorm: zero fill, row sums of squares, normalization.
// HOST: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @quant_kernels::@quant_model_main_kernel blocks
// HOST: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @quant_kernels::@quant_model_main_kernel_0 blocks
// HOST: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @quant_kernels::@quant_model_main_kernel_1 blocks
// HOST: llvm.call @qr_gpu_hadamard_f32
// The W4A16 kernel: M, N, K, 4 bits, groups of 64, A, lda, the blob, C, ldc.
// HOST: llvm.call @qr_gpu_matmul_f16w(%{{.*}}) : (i64, i64, i64, i32, i64, !llvm.ptr, i64, !llvm.ptr, !llvm.ptr, i64) -> ()
// SiLU epilogue.
// HOST: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @quant_kernels::@quant_model_main_kernel_2 blocks
// HOST: llvm.call @mgpuMemFree
// HOST: llvm.call @mgpuStreamSynchronize(%[[STREAM]])
// HOST: gpu.binary @quant_kernels  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">, properties = {{.*}}, assembly = "
// HOST: llvm.mlir.global external constant @quant_model_signature("quant-model 1\0Ainput input0 float32 [4,128]\0Aoutput output0 float32 [4,128]\0Adevice cuda\0A\00")
// HOST: llvm.func @quant_model_run(%{{.*}}: !llvm.ptr) -> i32
// HOST-DAG: llvm.func @qr_cuda_constant(!llvm.ptr, i64) -> !llvm.ptr
// HOST-DAG: llvm.func @qr_gpu_hadamard_f32(!llvm.ptr, i64, i64, i64, !llvm.ptr, !llvm.ptr, i64)
// HOST-DAG: llvm.func @mgpuStreamCreate() -> !llvm.ptr

// PTX: .version 8.0
// PTX: .target sm_90
// PTX: .address_size 64
// The zero fill: one store per thread.
// PTX-LABEL: .visible .entry quant_model_main_kernel(
// PTX: st.global.b32
// The row reduction: the accumulator stays in a register through the loop
// of loads and adds (qnn-gpu-reduction-loops), stored once.
// PTX-LABEL: .visible .entry quant_model_main_kernel_0(
// PTX: ld.global.b32
// PTX: $L__BB
// PTX-NOT: st.global
// PTX: add.rn.f32
// PTX-NOT: st.global
// PTX: @%p{{[0-9]+}} bra
// PTX: st.global.b32
// The normalization: x · rsqrt(mean + eps) · gamma in blocks of 256
// threads over the collapsed [4, 128] iteration space, with the bounds
// folded into the kernel (no division left).
// PTX-LABEL: .visible .entry quant_model_main_kernel_1(
// PTX: .maxntid 256, 1, 1
// PTX: mov.u32 {{.*}}, %tid.x;
// PTX-NOT: div.
// PTX: ld.global.b32
// PTX: rsqrt.approx.f32
// PTX: st.global.b32
// SiLU: x / (1 + exp(-x)).
// PTX-LABEL: .visible .entry quant_model_main_kernel_2(
// PTX: ex2.approx
// PTX: div.rn.f32
// PTX: st.global.b32

// SM80: .target sm_80

func.func @block(%x: tensor<4x128xf32>) -> tensor<4x128xf32> {
  %w = arith.constant dense<3> : tensor<128x128xi4>
  %s = arith.constant dense<0.125> : tensor<2x128xf32>
  %gamma = arith.constant dense<1.5> : tensor<128xf32>
  %zero = arith.constant 0.0 : f32
  %eps = arith.constant 1.0e-6 : f32
  %n = arith.constant 128.0 : f32
  %init = tensor.empty() : tensor<4xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<4xf32>) -> tensor<4xf32>
  %ss = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                        iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x128xf32>) outs(%acc : tensor<4xf32>) {
  ^bb0(%v: f32, %a: f32):
    %sq = arith.mulf %v, %v : f32
    %sum = arith.addf %a, %sq : f32
    linalg.yield %sum : f32
  } -> tensor<4xf32>
  %e = tensor.empty() : tensor<4x128xf32>
  %norm = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>,
                                           affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                          iterator_types = ["parallel", "parallel"]}
      ins(%x, %ss, %gamma : tensor<4x128xf32>, tensor<4xf32>, tensor<128xf32>) outs(%e : tensor<4x128xf32>) {
  ^bb0(%v: f32, %sum: f32, %g: f32, %o: f32):
    %mean = arith.divf %sum, %n : f32
    %me = arith.addf %mean, %eps : f32
    %r = math.rsqrt %me : f32
    %vr = arith.mulf %v, %r : f32
    %y = arith.mulf %vr, %g : f32
    linalg.yield %y : f32
  } -> tensor<4x128xf32>
  %h = qnn.hadamard %norm : tensor<4x128xf32>
  %y = qnn.matmul %h, %w scales(%s : tensor<2x128xf32>) epilogue silu
       : tensor<4x128xf32>, tensor<128x128xi4> -> tensor<4x128xf32>
  return %y : tensor<4x128xf32>
}
