//===- QNNOps.td - qnn operations --------------------------*- tablegen -*-===//

#ifndef QUANT_DIALECT_QNN_IR_QNNOPS_TD
#define QUANT_DIALECT_QNN_IR_QNNOPS_TD

include "quant/Dialect/QNN/IR/QNNBase.td"
include "quant/Dialect/QNN/IR/QNNAttrs.td"
include "mlir/Dialect/Quant/IR/QuantBase.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

def QNN_FloatTensor : RankedTensorOf<[AnyFloat]>;
def QNN_I32Tensor : RankedTensorOf<[I32]>;
// Activations: float, statically quantized (`!quant.uniform`), or integer
// storage whose scales travel in a separate operand (dynamic per-token).
def QNN_ActivationTensor
    : RankedTensorOf<[AnyFloat, AnySignlessInteger, quant_QuantizedType]>;
// Weights: float, or integer storage with scales in separate operands.
def QNN_WeightTensor : RankedTensorOf<[AnyFloat, AnySignlessInteger]>;
def QNN_ZeroPointTensor : RankedTensorOf<[AnySignlessInteger]>;
def QNN_ResultTensor : RankedTensorOf<[AnyFloat, quant_QuantizedType]>;

//===----------------------------------------------------------------------===//
// Rotations and scales
//===----------------------------------------------------------------------===//

def QNN_HadamardOp : QNN_Op<"hadamard",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "normalized (randomized) Walsh-Hadamard transform";
  let description = [{
    Computes `y = (x · D) · H / sqrt(n)` along the last dimension, where `n`
    is the size of that dimension, `H` the Hadamard matrix of order `n` and
    `D` the diagonal of the optional `signs` (each +1 or -1; identity when
    absent). `n` must be `2^k`, `12·2^k`, `20·2^k` or `28·2^k`; the
    non-power-of-two orders are the Kronecker product of a Sylvester matrix
    with a stored Paley base matrix of order 12, 20 or 28. The transform is
    orthogonal, so applying it to activations and its transpose to weights
    leaves a linear layer's output unchanged (QuaRot).

    ```mlir
    %y = qnn.hadamard %x : tensor<16x4096xf32>
    %z = qnn.hadamard %x signs [1, -1, -1, 1] : tensor<2x4xf32>
    ```
  }];
  let arguments = (ins QNN_FloatTensor:$input,
                       OptionalAttr<DenseI8ArrayAttr>:$signs);
  let results = (outs QNN_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`signs` $signs^)? attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Size of the transformed (last) dimension.
    int64_t getTransformSize() { return getInput().getType().getShape().back(); }
  }];
}

def QNN_RotateOp : QNN_Op<"rotate", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "multiplication by an explicit orthogonal matrix";
  let description = [{
    Computes `y = x · R` along the last dimension with `R` a constant square
    matrix (a learned or Procrustes-refined rotation). The verifier checks
    the shape; orthogonality (`RᵀR ≈ I`) is the producer's contract.

    ```mlir
    %y = qnn.rotate %x by dense<[[0.0, 1.0], [-1.0, 0.0]]> : tensor<2x2xf32>
         : tensor<8x2xf32>
    ```
  }];
  let arguments = (ins QNN_FloatTensor:$input, ElementsAttr:$rotation);
  let results = (outs QNN_FloatTensor:$result);
  let assemblyFormat = "$input `by` $rotation attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def QNN_ScaleOp : QNN_Op<"scale", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "per-channel multiplication by a constant vector";
  let description = [{
    Multiplies every slice along `axis` by the matching entry of `factors`:
    `y[..., j, ...] = x[..., j, ...] · factors[j]`. Inserted by outlier
    smoothing (SmoothQuant/AWQ) and folded into producers or consumers.

    ```mlir
    %y = qnn.scale %x along 1 by [0.5, 2.0, 1.0] : tensor<4x3xf32>
    ```
  }];
  let arguments = (ins QNN_FloatTensor:$input, I64Attr:$axis,
                       DenseF64ArrayAttr:$factors);
  let results = (outs QNN_FloatTensor:$result);
  let assemblyFormat = [{
    $input `along` $axis `by` $factors attr-dict `:` type($input)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Quantize / dequantize
//===----------------------------------------------------------------------===//

def QNN_QuantizeOp : QNN_Op<"quantize", [Pure]> {
  let summary = "float to quantized conversion";
  let description = [{
    Static form: the result element type is a `!quant.uniform` type
    (per-tensor, per-axis or sub-channel) that carries scale and zero point;
    `q = clamp(roundeven(x / scale) + zero_point, qmin, qmax)`.

    Dynamic form (`per_token`): symmetric quantization with one scale per
    token (every index of all but the last dimension), computed at run time
    as `absmax(x[token, :]) / (2^(b-1) - 1)`. The result is integer storage
    plus the scales, whose shape drops the last dimension.

    ```mlir
    %q = qnn.quantize %x : tensor<4x8xf32> -> tensor<4x8x!quant.uniform<i8:f32, 0.05:-3>>
    %q, %s = qnn.quantize %x per_token : tensor<4x8xf32> -> tensor<4x8xi8>, tensor<4xf32>
    ```
  }];
  let arguments = (ins QNN_FloatTensor:$input, UnitAttr:$per_token);
  let results = (outs RankedTensorOf<[AnySignlessInteger, quant_QuantizedType]>:$result,
                      Optional<QNN_FloatTensor>:$scales);
  let assemblyFormat = [{
    $input (`per_token` $per_token^)? attr-dict `:` type($input) `->` type(results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

def QNN_DequantizeOp : QNN_Op<"dequantize", [Pure]> {
  let summary = "quantized to float conversion";
  let description = [{
    Static form: `x = (q - zero_point) · scale` with both taken from the
    operand's `!quant.uniform` element type. Dynamic form: integer storage
    and per-token `scales` as produced by `qnn.quantize ... per_token`.

    ```mlir
    %x = qnn.dequantize %q : tensor<4x8x!quant.uniform<i8:f32, 0.05:-3>> -> tensor<4x8xf32>
    %y = qnn.dequantize %qi, %s : tensor<4x8xi8>, tensor<4xf32> -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnySignlessInteger, quant_QuantizedType]>:$input,
                       Optional<QNN_FloatTensor>:$scales);
  let results = (outs QNN_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`,` $scales^)? attr-dict `:` type($input) (`,` type($scales)^)?
    `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Mixed-precision matmul and convolution
//===----------------------------------------------------------------------===//

def QNN_MatmulOp : QNN_Op<"matmul", [Pure, AttrSizedOperandSegments]> {
  let summary = "mixed-precision matrix multiplication with fused epilogue";
  let description = [{
    `result[..., m, n] = act(Σ_k A[..., m, k] · W[k, n] + bias[n])`, then
    requantized when the result type is `!quant.uniform`.

    * `input` (`A`, shape `[..., M, K]`): float (A16/A32), statically
      quantized `!quant.uniform` per-tensor (A4/A8), or i4/i8 storage with
      per-token `input_scales` of shape `[..., M]` (dynamic).
    * `weight` (`W`, shape `[K, N]`, or `[B, K, N]` matching a rank-3
      input's batch): float, or i2/i3/i4/i8 storage with `scales` of shape
      `[G, N]` (per-output-channel when `G == 1`, else groups of `K/G` ∈
      {32, 64, 128} along K) and, for asymmetric (unsigned) storage,
      `zero_points` of the same shape.
    * `split`: MixLLM per-output-feature precision split; the weight's
      storage width is the high precision.
    * `epilogue`: activation applied after the bias.
    * `hadamard_prologue` (optional `prologue_signs`): the float input is
      first transformed exactly as by `qnn.hadamard` along K; set by
      `--qnn-fuse` so the kernel rotates tiles in registers.

    ```mlir
    %y = qnn.matmul %x, %w scales(%s : tensor<32x4096xf32>)
           bias(%b : tensor<4096xf32>) epilogue silu
           : tensor<16x4096xf16>, tensor<4096x4096xi4> -> tensor<16x4096xf16>
    ```
  }];
  let arguments = (ins QNN_ActivationTensor:$input, QNN_WeightTensor:$weight,
                       Optional<QNN_FloatTensor>:$input_scales,
                       Optional<QNN_FloatTensor>:$scales,
                       Optional<QNN_ZeroPointTensor>:$zero_points,
                       Optional<QNN_FloatTensor>:$bias,
                       OptionalAttr<QNN_PrecisionSplitAttr>:$split,
                       DefaultValuedAttr<QNN_Activation,
                                         "::mlir::qnn::Activation::none">:$epilogue,
                       UnitAttr:$hadamard_prologue,
                       OptionalAttr<DenseI8ArrayAttr>:$prologue_signs);
  let results = (outs QNN_ResultTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight
    (`hadamard_prologue` $hadamard_prologue^)?
    (`prologue_signs` $prologue_signs^)?
    (`input_scales` `(` $input_scales^ `:` type($input_scales) `)`)?
    (`scales` `(` $scales^ `:` type($scales) `)`)?
    (`zero_points` `(` $zero_points^ `:` type($zero_points) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`split` $split^)?
    (`epilogue` $epilogue^)?
    attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let builders = [
    // Float matmul with the result type inferred from the operands.
    OpBuilder<(ins "::mlir::Value":$input, "::mlir::Value":$weight)>
  ];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Shape of the result implied by `input` and `weight`.
    static ::llvm::SmallVector<int64_t>
    inferResultShape(::mlir::RankedTensorType input,
                     ::mlir::RankedTensorType weight);
  }];
}

def QNN_Conv2DOp : QNN_Op<"conv2d", [Pure, AttrSizedOperandSegments]> {
  let summary = "quantized dense 2-D convolution with fused epilogue";
  let description = [{
    2-D convolution in the declared `layout`: `nchw` (input NCHW, weight
    FCHW, result NCHW) or `nhwc` (input NHWC, weight HWCF, result NHWC).
    `padding` is `[top, left, bottom, right]`. Weight quantization follows
    `qnn.matmul` with the input channels `C` as the reduction dimension:
    `scales`/`zero_points` have shape `[G, F]`.

    ```mlir
    %y = qnn.conv2d %x, %w scales(%s : tensor<1x64xf32>) bias(%b : tensor<64xf32>)
           layout nhwc strides [2, 2] padding [1, 1, 1, 1] epilogue relu
           : tensor<1x56x56x32xf32>, tensor<3x3x32x64xi8> -> tensor<1x28x28x64xf32>
    ```
  }];
  let arguments = (ins QNN_ActivationTensor:$input, QNN_WeightTensor:$weight,
                       Optional<QNN_FloatTensor>:$scales,
                       Optional<QNN_ZeroPointTensor>:$zero_points,
                       Optional<QNN_FloatTensor>:$bias,
                       QNN_ConvLayout:$layout,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilations,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0, 0, 0}">:$padding,
                       DefaultValuedAttr<QNN_Activation,
                                         "::mlir::qnn::Activation::none">:$epilogue);
  let results = (outs QNN_ResultTensor:$result);
  let assemblyFormat = [{
    $input `,` $weight
    (`scales` `(` $scales^ `:` type($scales) `)`)?
    (`zero_points` `(` $zero_points^ `:` type($zero_points) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    `layout` $layout
    (`strides` $strides^)?
    (`dilations` $dilations^)?
    (`padding` $padding^)?
    (`epilogue` $epilogue^)?
    attr-dict `:` type($input) `,` type($weight) `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Result shape implied by the operands and attributes, or failure with
    /// a diagnostic when they are inconsistent.
    ::mlir::FailureOr<::llvm::SmallVector<int64_t>> inferResultShape();
  }];
}

//===----------------------------------------------------------------------===//
// Sparse pillar convolution
//===----------------------------------------------------------------------===//

def QNN_PillarConvOp : QNN_Op<"pillar_conv", [Pure, AttrSizedOperandSegments]> {
  let summary = "sparse 2-D convolution over active pillars";
  let description = [{
    `features` (`[N, C_in]`) live at the active sites `coords` (`[N, 3]`,
    i32 `(batch, y, x)`) of a `grid = [H, W]` bird's-eye-view grid. The
    weight has shape `[KH, KW, C_in, C_out]` with an odd square kernel
    (radius `r = KH / 2`).

    * `submanifold`: outputs only at the active sites (SubM-Conv).
    * `selective_dilation`: pillars whose importance (the L2 norm of their
      features, or the `importance` operand) is at least `threshold`, or
      that rank in the top `topk_ratio` fraction, also produce outputs at
      every in-grid site of their kernel neighbourhood (SD-Conv). The top
      fraction is `k = round-half-up(topk_ratio · N)` pillars, at least
      one; ties go to the lower pillar index and NaN importance ranks last
      (and never passes a threshold).

    Output sites, in this order (deterministic, built in linear time):
    1. the candidates: the active sites in input order; with
       `selective_dilation`, followed by each important pillar's new
       neighbourhood sites (pillars in input order, window in raster order,
       sites already present skipped);
    2. `stride = 1`: the candidates; `stride = 2`: `(batch, y / 2, x / 2)`
       of each candidate, first occurrences only, on a `[⌈H/2⌉, ⌈W/2⌉]`
       grid.
    A stride-1 submanifold conv thus keeps its input's row order. Output
    site `(b, oy, ox)` is `bias + Σ_{ky,kx} features[b, s·oy + ky − r,
    s·ox + kx − r] · W[ky, kx]` over the active input sites: a dense
    convolution (padding `r`, stride `s`) of the scattered pseudo-image,
    read at the output sites.

    Results are the output features `[M, C_out]` and coordinates `[M, 3]`.
    Coordinates outside the grid, a negative batch, or two pillars at the
    same site are errors. Weight quantization follows `qnn.matmul` with
    `C_in` as the reduction dimension.

    ```mlir
    %f, %c = qnn.pillar_conv %feat, %coords, %w bias(%b : tensor<64xf32>)
               kind submanifold grid [496, 432]
               : tensor<?x64xf32>, tensor<?x3xi32>, tensor<3x3x64x64xf32>
               -> tensor<?x64xf32>, tensor<?x3xi32>
    ```
  }];
  let arguments = (ins QNN_ActivationTensor:$features, QNN_I32Tensor:$coords,
                       QNN_WeightTensor:$weight,
                       Optional<QNN_FloatTensor>:$scales,
                       Optional<QNN_ZeroPointTensor>:$zero_points,
                       Optional<QNN_FloatTensor>:$bias,
                       Optional<QNN_FloatTensor>:$importance,
                       QNN_PillarConvKind:$kind,
                       DenseI64ArrayAttr:$grid,
                       DefaultValuedAttr<I64Attr, "1">:$stride,
                       OptionalAttr<F64Attr>:$threshold,
                       OptionalAttr<F64Attr>:$topk_ratio);
  let results = (outs QNN_ResultTensor:$output_features,
                      QNN_I32Tensor:$output_coords);
  let assemblyFormat = [{
    $features `,` $coords `,` $weight
    (`scales` `(` $scales^ `:` type($scales) `)`)?
    (`zero_points` `(` $zero_points^ `:` type($zero_points) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`importance` `(` $importance^ `:` type($importance) `)`)?
    `kind` $kind `grid` $grid
    (`stride` $stride^)?
    (`threshold` $threshold^)?
    (`topk_ratio` $topk_ratio^)?
    attr-dict `:` type($features) `,` type($coords) `,` type($weight)
    `->` type($output_features) `,` type($output_coords)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Micro-kernel calls (CPU lowering)
//===----------------------------------------------------------------------===//

def QNN_UKernelOp : QNN_Op<"ukernel", [AttrSizedOperandSegments,
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "call of a runtime micro-kernel in destination-passing style";
  let description = [{
    A call of the C micro-kernel `name` (include/quant/Runtime/UKernels.h),
    as IREE's `ukernel.generic`: `ins` are read, `outs` are read and written
    in place. On tensors each result is the new value of its `outs` operand,
    so one-shot bufferization places the kernel's output; on buffers the op
    has no results and `--qnn-lower-ukernel-calls` turns it into a
    `func.call` passing each buffer as a pointer to its first element and
    every other operand as it is.

    `output_positions` gives, for each `outs` operand, its position in the C
    argument list; the `ins` fill the remaining positions in order.

    ```mlir
    %y = qnn.ukernel "qr_uk_hadamard_f32"(%rows, %n, %n, %null, %null, %one
           : i64, i64, i64, !llvm.ptr, !llvm.ptr, i64)
           outs(%x : tensor<16x4096xf32>) output_positions [0]
           -> tensor<16x4096xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name, Variadic<AnyType>:$inputs,
                       Variadic<AnyShaped>:$outputs,
                       DenseI64ArrayAttr:$output_positions);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $name `(` ($inputs^ `:` type($inputs))? `)`
    `outs` `(` $outputs `:` type($outputs) `)`
    `output_positions` $output_positions
    attr-dict (`->` type($results)^)?
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getOutputsMutable();
    }
  }];
}

#endif // QUANT_DIALECT_QNN_IR_QNNOPS_TD
