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
  }];
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
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"\"",
           "Function to export (default: the only public function)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::func::FuncDialect",
    "::mlir::LLVM::LLVMDialect"
  ];
}

#endif // QUANT_CONVERSION_PASSES_TD
