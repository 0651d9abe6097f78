//===- Passes.td - qnn transformation passes ---------------*- tablegen -*-===//

#ifndef QUANT_DIALECT_QNN_TRANSFORMS_PASSES_TD
#define QUANT_DIALECT_QNN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def QNNImportLinalg : Pass<"qnn-import-linalg", "func::FuncOp"> {
  let summary = "Raise linalg/tosa matmuls and convolutions with constant "
                "weights to float qnn ops";
  let description = [{
    Rewrites `linalg.matmul`, `linalg.batch_matmul`,
    `linalg.conv_2d_nhwc_hwcf`, `linalg.conv_2d_nchw_fchw`, `tosa.matmul`
    and `tosa.conv2d` whose weight is an `arith.constant`/`tosa.const` into
    `qnn.matmul`/`qnn.conv2d` on the same float types. A non-zero `outs`
    accumulator becomes an explicit `arith.addf`; a zero `tensor.pad` in
    front of a linalg convolution becomes the op's `padding`; `tosa.conv2d`
    weights are transposed to HWCF and its bias becomes the `bias` operand.
    Ops with non-constant weights, integer types, transposed indexing maps
    or non-zero zero points are left untouched.
  }];
  let dependentDialects = ["qnn::QNNDialect", "arith::ArithDialect"];
}

def QNNSmoothOutliers : Pass<"qnn-smooth-outliers", "func::FuncOp"> {
  let summary = "SmoothQuant/AWQ outlier migration from activations to weights";
  let description = [{
    For every activation feeding float `qnn.matmul`s with constant weights,
    computes s_j = max|X_j|^α / max|W_j|^(1−α) from the matmuls'
    `qnn.calib_stats` and the weights' rows (jointly over all consumers of
    the activation), multiplies the weight rows by s and divides the
    activation by s: folded into the producer when it is a `qnn.matmul`
    (output columns and bias) or a norm written as `linalg.generic` whose
    result is linear in a per-channel constant gamma (and beta), otherwise
    through an inserted `qnn.scale`. The calibration statistics are updated
    to the smoothed activation. The transform is exact in real arithmetic.

    With `search=true`, α is chosen per activation on the grid
    {0, 0.05, …, 1} to minimise the output MSE of the quantized layer
    (activations per-token `abits`, weights `wbits`/`group` RTN) on the
    calibration sample `calibration` (a `.npy` holding the function's
    first argument), AWQ-style; the sample then replaces the statistics.
  }];
  let options = [
    Option<"alpha", "alpha", "double", "0.5",
           "migration strength α in [0, 1]">,
    Option<"search", "search", "bool", "false",
           "grid-search α per activation on the calibration sample">,
    Option<"calibration", "calibration", "std::string", "\"\"",
           ".npy sample of the function's first argument (search=true)">,
    Option<"abits", "abits", "unsigned", "8",
           "activation bits assumed by the search">,
    Option<"wbits", "wbits", "unsigned", "4",
           "weight bits assumed by the search">,
    Option<"group", "group", "int64_t", "128",
           "weight group size assumed by the search (0 = per channel)">,
  ];
  let dependentDialects = ["qnn::QNNDialect", "arith::ArithDialect"];
}

def QNNRotate : Pass<"qnn-rotate", "func::FuncOp"> {
  let summary = "QuaRot/DFRot rotation of activations and weights";
  let description = [{
    For every activation X feeding float `qnn.matmul`s with constant 2-D
    weights, picks an orthogonal R of order K and rewrites
    X·W = (X·R)·(Rᵀ·W): Rᵀ·W is folded into each weight constant; X·R is
    folded into the producer when it is a `qnn.matmul` with a constant
    weight used only here (W_prev·R, bias·R), and otherwise kept online as
    `qnn.hadamard` (kind=hadamard) or `qnn.rotate` (other kinds).

    Kinds: `hadamard` — randomized Hadamard D·H/√K (K = 2^k, 12·2^k,
    20·2^k, 28·2^k; other sizes are skipped with a remark);
    `random-orthogonal` — Q of the QR of a Gaussian matrix;
    `procrustes` — DFRot: from the randomized Hadamard, alternate per-token
    `abits` quantization of X·R and the orthogonal Procrustes update
    R = U·Vᵀ from the SVD of Xᵀ·Q(X·R), up-weighting massive-activation
    tokens (absmax above `massive-threshold` × the median token absmax) by
    `massive-weight`, on the `calibration` sample. As in DFRot, only the
    rotations that fold into a producer are refined; one that stays online
    keeps its randomized Hadamard transform (O(K log K) a token), unless
    `refine-online` makes it a refined dense `qnn.rotate` (O(K²)).
    Deterministic for a seed.
  }];
  let options = [
    Option<"kind", "kind", "std::string", "\"hadamard\"",
           "hadamard | random-orthogonal | procrustes">,
    Option<"seed", "seed", "uint64_t", "0", "seed of the random rotation">,
    Option<"calibration", "calibration", "std::string", "\"\"",
           ".npy sample of the function's first argument (procrustes)">,
    Option<"abits", "abits", "unsigned", "4",
           "activation bits the procrustes refinement targets">,
    Option<"iterations", "iterations", "unsigned", "20",
           "procrustes iterations">,
    Option<"massiveWeight", "massive-weight", "double", "50.0",
           "loss weight of massive-activation tokens (procrustes)">,
    Option<"massiveThreshold", "massive-threshold", "double", "10.0",
           "a token is massive when its absmax exceeds this multiple of the "
           "median token absmax (procrustes)">,
    Option<"refineOnline", "refine-online", "bool", "false",
           "procrustes also refines the rotations that stay online, as dense "
           "qnn.rotate products">,
  ];
  let dependentDialects = ["qnn::QNNDialect", "arith::ArithDialect"];
}

def QNNQuantizeWeights : Pass<"qnn-quantize-weights", "func::FuncOp"> {
  let summary = "Quantize constant weights (RTN or GPTQ) and, optionally, "
                "activations";
  let description = [{
    Replaces every float constant weight of `qnn.matmul` and `qnn.conv2d`
    by `bits`-bit integers (or the layer's `qnn.bits` from
    `--qnn-allocate-bits`) with per-output-channel (`group=0`) or
    group-wise (32/64/128 along the reduction dimension) scales, symmetric
    (signed storage) or asymmetric (unsigned storage + zero points).
    `method=gptq` compensates rounding errors column by column with the
    inverse Hessian of the layer inputs recorded on the `calibration`
    sample (matmuls only; convolutions use RTN). The IR keeps integers in
    their logical shape (`tensor<KxNxi4>`); the lowering packs them with
    the layout of `quant/Support/Packing.h`.

    `abits=4|8` also quantizes the matmul activations: `act=dynamic`
    inserts a per-token `qnn.quantize`, `act=static` a per-tensor one whose
    scale comes from the matmul's `qnn.calib_stats`.
  }];
  let options = [
    Option<"bits", "bits", "unsigned", "4", "weight bits: 2, 3, 4 or 8">,
    Option<"group", "group", "int64_t", "128",
           "group size along the reduction dimension: 0 (per channel), "
           "32, 64 or 128">,
    Option<"symmetric", "symmetric", "bool", "true",
           "symmetric (signed) or asymmetric (unsigned + zero points)">,
    Option<"method", "method", "std::string", "\"rtn\"", "rtn | gptq">,
    Option<"calibration", "calibration", "std::string", "\"\"",
           ".npy sample of the function's first argument (gptq)">,
    Option<"abits", "abits", "unsigned", "0",
           "activation bits: 0 (keep float), 4 or 8">,
    Option<"act", "act", "std::string", "\"dynamic\"",
           "activation scales: dynamic (per token) | static (calib_stats)">,
  ];
  let dependentDialects = ["qnn::QNNDialect", "arith::ArithDialect",
                           "quant::QuantDialect"];
}

def QNNAllocateBits : Pass<"qnn-allocate-bits", "func::FuncOp"> {
  let summary = "HAWQ-V3 bit allocation per layer by an exact ILP (CBC)";
  let description = [{
    Chooses one weight bit-width per float `qnn.matmul`/`qnn.conv2d` with a
    constant weight from `candidates`, minimising
    Σ_l Ω_l(b) = Σ_l sensitivity_l · ‖Q_b(W_l) − W_l‖² (RTN at `group` /
    `symmetric`) subject to the given budgets: model size (`budget-mib`,
    weights at their bit width plus f32 scales), bit operations
    (`budget-bops`: Σ MACs·b·`abits`) and latency (`budget-latency`, with
    per-layer times from `latency-table`). The ILP is solved exactly by
    COIN-OR CBC (`solver=cbc`; `solver=brute-force` enumerates, for small
    models) within `time-limit` seconds.

    Sensitivity: with a `calibration` sample, the Hutchinson estimate of the
    trace of the layer's Gauss–Newton Hessian XᵀX/T (T tokens) from
    `hutchinson-samples` Rademacher probes; without one, K (the trace for
    white, unit-variance inputs).

    Matmuls reading the same activation (q/k/v, gate/up) share one
    bit-width unless `share-inputs=false`. The choice is written as
    `qnn.bits` on each layer, which `--qnn-quantize-weights` honours; a JSON
    report goes to `report` (or `--qnn-report`), a table to stderr with
    `verbose` (or `--qnn-verbose`). An infeasible budget is an error naming
    the budget and the minimum achievable value.

    Latency table format (JSON):
    `{"layers": [{"k": 4096, "n": 4096, "bits": 4, "seconds": 1.2e-5}, ...]}`
    keyed by the weight shape K×N and the bit-width.
  }];
  let options = [
    ListOption<"candidates", "candidates", "unsigned",
               "candidate bit-widths (default 2,3,4,8)">,
    Option<"budgetMiB", "budget-mib", "double", "0",
           "weight size budget in MiB (0 = none)">,
    Option<"budgetBops", "budget-bops", "double", "0",
           "bit-operation budget (0 = none)">,
    Option<"budgetLatency", "budget-latency", "double", "0",
           "latency budget in seconds (0 = none; needs latency-table)">,
    Option<"latencyTable", "latency-table", "std::string", "\"\"",
           "JSON per-layer latency table">,
    Option<"abits", "abits", "unsigned", "8", "activation bits in BOPs">,
    Option<"group", "group", "int64_t", "128",
           "weight group size for Ω and size (0 = per channel)">,
    Option<"symmetric", "symmetric", "bool", "true",
           "symmetric weight grid for Ω">,
    Option<"calibration", "calibration", "std::string", "\"\"",
           ".npy sample of the function's argument (Hutchinson sensitivity)">,
    Option<"hutchinsonSamples", "hutchinson-samples", "unsigned", "64",
           "Rademacher probes per layer">,
    Option<"seed", "seed", "uint64_t", "0", "seed of the Hutchinson probes">,
    Option<"shareInputs", "share-inputs", "bool", "true",
           "matmuls reading one activation take one bit-width">,
    Option<"solver", "solver", "std::string", "\"cbc\"",
           "cbc | brute-force">,
    Option<"timeLimit", "time-limit", "double", "60",
           "solver time limit in seconds">,
    Option<"report", "report", "std::string", "\"\"",
           "write a JSON report here (default: --qnn-report)">,
    Option<"verbose", "verbose", "bool", "false",
           "print the allocation table to stderr (or --qnn-verbose)">,
  ];
  let dependentDialects = ["qnn::QNNDialect"];
}

def QNNFuse : Pass<"qnn-fuse", "func::FuncOp"> {
  let summary = "Fold batch norms into convolutions and fuse matmul chains";
  let description = [{
    * conv + batch norm: a per-channel affine `linalg.generic`
      (y = a_c·x + b_c with constant a, b — the form batch norm takes after
      import) following a float-weight `qnn.conv2d` is folded into its
      weights and bias.
    * `qnn.dequantize` → `qnn.matmul` (integer weights) → bias add →
      activation (relu/relu6/silu/gelu as `linalg.generic`) → `qnn.quantize`
      become one `qnn.matmul` with quantized input, `bias`, `epilogue` and a
      requantized result type.
    * `qnn.hadamard` whose only user is a float-input `qnn.matmul` becomes
      that matmul's `hadamard_prologue`.
  }];
  let dependentDialects = ["qnn::QNNDialect", "arith::ArithDialect"];
}

#endif // QUANT_DIALECT_QNN_TRANSFORMS_PASSES_TD
