// RUN: not quant-opt %s --qnn-quantize-weights="bits=5" 2>&1 | FileCheck %s --check-prefix=BITS
// BITS: error: --qnn-quantize-weights bits must be 2, 3, 4 or 8, got 5
// RUN: not quant-opt %s --qnn-quantize-weights="group=48" 2>&1 | FileCheck %s --check-prefix=GROUP
// GROUP: error: --qnn-quantize-weights group must be 0 (per channel), 32, 64 or 128, got 48
// RUN: not quant-opt %s --qnn-quantize-weights="method=awq" 2>&1 | FileCheck %s --check-prefix=METHOD
// METHOD: error: --qnn-quantize-weights method must be rtn or gptq, got 'awq'
// RUN: not quant-opt %s --qnn-quantize-weights="abits=2" 2>&1 | FileCheck %s --check-prefix=ABITS
// ABITS: error: --qnn-quantize-weights abits must be 0, 4 or 8, got 2
// RUN: not quant-opt %s --qnn-quantize-weights="group=0 method=gptq" 2>&1 | FileCheck %s --check-prefix=GPTQ
// GPTQ: error: '--qnn-quantize-weights calibration' is required
// RUN: not quant-opt %s --qnn-quantize-weights="group=0 abits=8 act=static" 2>&1 | FileCheck %s --check-prefix=STATS
// STATS: error: 'qnn.matmul' op act=static needs 'qnn.calib_stats' on its input; run --qnn-calibrate first

func.func @layer(%x: tensor<2x4xf32>) -> tensor<2x3xf32> {
  %w = arith.constant dense<0.5> : tensor<4x3xf32>
  %y = qnn.matmul %x, %w : tensor<2x4xf32>, tensor<4x3xf32> -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}
