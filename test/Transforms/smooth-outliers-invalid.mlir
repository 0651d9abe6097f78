// RUN: quant-opt %s --qnn-smooth-outliers -verify-diagnostics

func.func @missing_calibration_stats(%x: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<[[4.0, -2.0], [4.0, 1.0]]> : tensor<2x2xf32>
  // expected-error @+1 {{needs 'qnn.calib_stats' on its input for --qnn-smooth-outliers; run --qnn-calibrate first}}
  %y = qnn.matmul %x, %w : tensor<4x2xf32>, tensor<2x2xf32> -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
