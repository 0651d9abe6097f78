//===- Passes.td - qnn lowering passes ---------------------*- tablegen -*-===//

#ifndef QUANT_CONVERSION_PASSES_TD
#define QUANT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def QNNLowerToUKernels : Pass<"qnn-lower-to-ukernels", "ModuleOp"> {
  let summary = "Lower qnn ops and float matmuls to linalg and micro-kernel "
                "calls";
  let description = [{
    The tensor-level half of `--qnn-lower-to-cpu`. Quantized and sub-byte
    tensor types become their runtime storage (one integer per byte);
    integer weights are packed at compile time (`qr_uk_pack_weights`, the
    layout of include/quant/Runtime/UKernels.h) into constant blobs;
    `qnn.matmul`, `qnn.conv2d` (through an im2col `linalg.generic`),
    `qnn.pillar_conv` (a rulebook call, then the conv call on as many rows
    as the rulebook returned),
    `qnn.rotate`, `qnn.hadamard`, per-token `qnn.quantize` and f32
    `linalg.matmul` / `linalg.batch_matmul` become `qnn.ukernel` calls;
    static quantize / dequantize, `qnn.scale`, per-token dequantize and
    matmul epilogues (bias, activation, requantization) become
    element-wise `linalg.generic` ops with the reference evaluator's
    arithmetic (float64 where it decides a rounding).

    `target=gpu` keeps the element-wise half and calls the tensor-core
    kernels of include/quant/Runtime/GpuKernels.h instead
    (`qr_gpu_matmul_f16w` for float activations, `qr_gpu_matmul_s8` for
    integer ones, `qr_gpu_gemm_f32`, `qr_gpu_hadamard_f32`,
    `qr_gpu_quantize_per_token_f32`, `qr_gpu_pillar_*` for
    `qnn.pillar_conv`), with the weights packed by `qr_gpu_pack_weights`
    (a pillar conv's taps as one [taps · C_in, C_out] matrix). Ops those
    kernels do not cover (2/3-bit weights, asymmetric weights under integer
    activations, scale groups that are not K or a multiple of 64) are
    errors.
  }];
  let options = [
    Option<"target", "target", "::mlir::qnn::KernelTarget",
           /*default=*/"::mlir::qnn::KernelTarget::cpu",
           "Kernels to call", [{::llvm::cl::values(
             clEnumValN(::mlir::qnn::KernelTarget::cpu, "cpu",
                        "CPU micro-kernels (UKernels.h)"),
             clEnumValN(::mlir::qnn::KernelTarget::gpu, "gpu",
                        "CUDA tensor-core kernels (GpuKernels.h)"))}]>
  ];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect", "::mlir::qnn::QNNDialect"
  ];
}

def QNNBoundDynamicResults : Pass<"qnn-bound-dynamic-results", "ModuleOp"> {
  let summary = "Give a model's dynamic-row results static shapes";
  let description = [{
    Runs on tensors, before bufferization. Each result of a public function
    whose leading dimension is dynamic (e.g. the active sites of a strided
    or dilating `qnn.pillar_conv`) is returned zero-padded to a static upper
    bound of its rows, computed by the value-bounds analysis, and followed
    by a new `tensor<i64>` result holding the actual row count. The model
    ABI keeps static shapes: a caller reads the count, then that many rows.
    Results with other dynamic dimensions, or without a static bound, are
    errors.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def QNNLowerUKernelCalls : Pass<"qnn-lower-ukernel-calls", "ModuleOp"> {
  let summary = "Turn bufferized qnn.ukernel ops into C calls";
  let description = [{
    Each `qnn.ukernel` on memrefs becomes a `func.call` of its C symbol
    (declared privately in the module), buffers passed as `!llvm.ptr` to
    their first element, other operands as they are.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::memref::MemRefDialect"
  ];
}

def QNNEmitModelEntry : Pass<"qnn-emit-model-entry", "ModuleOp"> {
  let summary = "Export a bufferized function through the model ABI";
  let description = [{
    Runs after one-shot bufferization and
    `buffer-results-to-out-params{add-result-attr}`. The entry function
    (`entry`, or the module's only public function) is renamed
    `quant_model_main`, and two symbols of the runtime's model ABI
    (include/quant/Runtime/Runtime.h) are added: the signature text
    `quant_model_signature` (inputs, then outputs, with numpy dtypes and
    static shapes) and `int32_t quant_model_run(void **buffers)`, which
    wraps each pointer in a memref descriptor and calls the entry.
    With `device=cuda` (--qnn-lower-to-gpu) the signature says
    `device cuda`: the buffers are device pointers.
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"\"",
           "Function to export (default: the only public function)">,
    Option<"device", "device", "std::string", /*default=*/"\"cpu\"",
           "Where the model's buffers live: cpu, or cuda (device pointers)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect"
  ];
}

def QNNGpuBuffers : Pass<"qnn-gpu-buffers", "ModuleOp"> {
  let summary = "Place a bufferized model's buffers in GPU memory";
  let description = [{
    Runs after bufferization and `qnn-emit-model-entry`, before loops are
    mapped to GPU kernels. On the host side of a model every buffer becomes
    a device buffer, so that kernels and the runtime's GPU kernels only
    ever see device pointers (the model's arguments are device pointers by
    the GPU model ABI):
      - `memref.alloc` / `memref.dealloc` become `gpu.alloc` /
        `gpu.dealloc`;
      - `memref.copy` between contiguous buffers becomes a device-to-device
        `gpu.memcpy`; a strided copy becomes a `linalg.copy`, which the
        pipeline maps to a kernel like any other linalg op;
      - `memref.get_global` of a constant (weights, packed blobs, tables)
        becomes a call of the runtime's
        `qr_cuda_constant(host_pointer, bytes)`, which uploads the constant
        on first use and returns its cached device copy;
      - a `memref.load` or `memref.store` left in host code (a scalar the
        host needs, such as the row count a pillar conv's rulebook returns
        and the counts `qnn-bound-dynamic-results` stores into model
        outputs) accesses a host stack slot instead, which
        `qr_cuda_read(host, device, bytes)` fills before the load (waiting
        for the stream) or `qr_cuda_write(device, host, bytes)` copies out
        after the store.
    `memref.alloca` and writable globals have no device counterpart here
    and are errors.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::gpu::GPUDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::memref::MemRefDialect"
  ];
}

def QNNCheckHostMemoryAccess : Pass<"qnn-check-host-memory-access",
                                    "ModuleOp"> {
  let summary = "Reject host code that reads or writes device buffers";
  let description = [{
    Runs after loops are mapped to GPU kernels. Every buffer of a GPU
    model lives in device memory, so a `memref`, `affine` or `vector`
    load or store (or any other op with a read or write effect on a
    memref) left in host code would dereference a device pointer on the
    CPU. Each one is an error at its location, instead of a compiled model
    that crashes when it runs. `gpu` ops and `qnn.ukernel` calls (which
    take device pointers) are the host's legitimate accesses.
  }];
}

def QNNMergeGpuModules : Pass<"qnn-merge-gpu-modules", "ModuleOp"> {
  let summary = "Gather a model's outlined kernels into one gpu.module";
  let description = [{
    Runs after `gpu-kernel-outlining`, which gives every kernel its own
    `gpu.module`. The kernels move into one `gpu.module @quant_kernels`,
    each named after the module it came from, and the `gpu.launch_func`
    ops are updated; the model then carries one GPU binary (one PTX or
    cubin, loaded once) instead of one per kernel.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def QNNGpuStreamOrder : Pass<"qnn-gpu-stream-order", "ModuleOp"> {
  let summary = "Order a model's GPU work on one stream, without host waits";
  let description = [{
    Runs after `gpu-kernel-outlining`, in place of upstream's
    `gpu-async-region`, which makes the host wait for the GPU before every
    call (it cannot know what a call does). A model's calls are the
    runtime's GPU kernels (GpuKernels.h), which run on the same stream as
    the `mgpu*` ABI (CudaRuntime.h): stream order already orders them after
    the kernels, copies and allocations before them. Each host function's
    `gpu.launch_func`, `gpu.alloc`, `gpu.dealloc`, `gpu.memcpy` and
    `gpu.memset` become async ops chained on one token, and the host waits
    once, before the function returns.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def QNNGpuTileLoops : Pass<"qnn-gpu-tile-loops", "ModuleOp"> {
  let summary = "Shape a model's parallel loops into GPU thread blocks";
  let description = [{
    Runs on `scf.parallel` loops of host code, before
    `gpu-map-parallel-loops`. Each outermost parallel loop's dimensions are
    collapsed into one (row-major, so consecutive iterations touch
    consecutive elements of the identity-indexed buffers linalg produces),
    then tiled by `threads`: the mapping makes the tiles blocks and the
    iterations of a tile the threads of one block, so every element-wise
    kernel runs in coalesced blocks of `threads` threads, and the grid
    stays within the x dimension's limit whatever the loop's rank.
    Reductions (the `scf.for` loops inside) stay sequential per thread.
  }];
  let options = [
    Option<"threads", "threads", "int64_t", /*default=*/"256",
           "Threads per block">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::scf::SCFDialect"
  ];
}

def QNNGpuReductionLoops : Pass<"qnn-gpu-reduction-loops", "ModuleOp"> {
  let summary = "Lower reducing linalg.generic ops with register accumulators";
  let description = [{
    Runs on buffers, before `convert-linalg-to-parallel-loops`, for the
    reductions of a GPU model (RMSNorm sums, softmax maxima and sums).
    Upstream's loops read and write the accumulator in memory at every
    reduction step, a store-to-load chain through global memory on the GPU
    that LLVM cannot break because it cannot prove the buffers apart. A
    `linalg.generic` with one output, parallel dimensions first and
    reduction dimensions after them becomes an `scf.parallel` over the
    parallel dimensions around `scf.for` loops that carry the accumulator
    as an iteration argument: one load of the initial value and one store
    of the result per output element. Other ops are left to upstream.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect", "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"
  ];
}

#endif // QUANT_CONVERSION_PASSES_TD
