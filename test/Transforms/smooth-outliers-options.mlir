// Out-of-range options and missing calibration data fail with one diagnostic.
// RUN: not quant-opt %s --qnn-smooth-outliers="alpha=1.5" 2>&1 | FileCheck %s --check-prefix=ALPHA
// ALPHA: error: --qnn-smooth-outliers alpha must be in [0, 1], got 1.5

// RUN: not quant-opt %s --qnn-smooth-outliers="search=true" 2>&1 | FileCheck %s --check-prefix=NOCALIB
// NOCALIB: error: '--qnn-smooth-outliers calibration' is required: pass a .npy sample of the function's argument

// RUN: not quant-opt %s --qnn-smooth-outliers="search=true calibration=%t.missing.npy" 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: cannot read calibration sample: cannot open '{{.*}}missing.npy'

#stats = #qnn.calib_stats<axis = 1, samples = 1, absmax = [16.0, 1.0], min = [-16.0, -1.0],
                          max = [8.0, 0.5], percentile = 99.0, percentile_absmax = [8.0, 0.5]>
func.func @layer(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[4.0, -2.0], [4.0, 1.0]]> : tensor<2x2xf32>
  %y = qnn.matmul %x, %w {qnn.calib_stats = #stats} : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
