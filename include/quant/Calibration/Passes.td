//===- Passes.td - calibration passes ----------------------*- tablegen -*-===//

#ifndef QUANT_CALIBRATION_PASSES_TD
#define QUANT_CALIBRATION_PASSES_TD

include "mlir/Pass/PassBase.td"

def QNNCalibrate : Pass<"qnn-calibrate", "ModuleOp"> {
  let summary = "Run the float model on calibration samples through the CPU "
                "path and attach qnn.calib_stats";
  let description = [{
    `--qnn-calibrate=calib.npz` (or `=DIR` of .npy files, or the option form
    `--qnn-calibrate="file=calib.npz percentile=99.9"`) compiles a copy of
    the float model with every activation that feeds a quantisable op
    (`qnn.matmul`, `qnn.conv2d`, and the `linalg.matmul`/`batch_matmul`/
    `conv_2d_nchw_fchw`/`conv_2d_nhwc_hwcf` with constant weights that
    `--qnn-import-linalg` raises) returned as an extra result, through
    `--qnn-lower-to-cpu` and the CPU target into a shared library, runs it on
    every sample, and attaches per-channel absmax, min, max and the
    `percentile` of |x| to each such op as `qnn.calib_stats`.

    Samples: a .npz member (or .npy file) per function argument, named after
    the argument's `onnx.name` or `inputN`, holding one sample shaped like
    the argument or a stack of them `[S, ...]`. A single-argument function
    also takes a directory of .npy files, each one sample or a stack.
    Progress goes to stderr.
  }];
  let dependentDialects = ["qnn::QNNDialect"];
  let options = [
    Option<"file", "file", "std::string", "\"\"",
           ".npz file or directory of .npy calibration samples">,
    Option<"entry", "entry", "std::string", "\"\"",
           "function to calibrate (default: the only public one)">,
    Option<"percentile", "percentile", "double", "99.99",
           "percentile of |x| recorded per channel, in (0, 100]">,
    Option<"maxSamples", "max-samples", "unsigned", "0",
           "use at most this many samples (0 = all)">,
  ];
}

#endif // QUANT_CALIBRATION_PASSES_TD
