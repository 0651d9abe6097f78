// Unconstrained, every layer takes the most accurate candidate; a tight
// budget forces the cheapest; an infeasible one names the budget and the
// minimum. Optimality on random instances is checked against brute force in
// unittests/Quantization/BitAllocationTest.cpp.
// RUN: quant-opt %s --qnn-allocate-bits="budget-bops=1e9 group=0" | FileCheck %s --check-prefix=LOOSE
// RUN: quant-opt %s --qnn-allocate-bits="budget-bops=512 group=0" | FileCheck %s --check-prefix=TIGHT
// RUN: quant-opt %s --qnn-allocate-bits="budget-bops=1408 group=0 report=%t.json verbose" 2>%t.table | FileCheck %s --check-prefix=MID
// RUN: FileCheck %s --check-prefix=REPORT < %t.json
// RUN: FileCheck %s --check-prefix=TABLE < %t.table
// RUN: not quant-opt %s --qnn-allocate-bits="budget-bops=100 group=0" 2>&1 | FileCheck %s --check-prefix=INFEASIBLE
// RUN: quant-opt %s --qnn-allocate-bits="budget-bops=512 group=0" --qnn-quantize-weights="group=0" | FileCheck %s --check-prefix=QUANTIZED

// Each layer does 2·4·2 = 16 MACs, so BOPs = 16 · bits · 8 (abits).
// LOOSE-LABEL: func.func @two_layers
// LOOSE: qnn.matmul {{.*}} {qnn.bits = 8 : i64}
// LOOSE: qnn.matmul {{.*}} {qnn.bits = 8 : i64}
// TIGHT-LABEL: func.func @two_layers
// TIGHT: qnn.matmul {{.*}} {qnn.bits = 2 : i64}
// TIGHT: qnn.matmul {{.*}} {qnn.bits = 2 : i64}
// MID-LABEL: func.func @two_layers
// MID: qnn.matmul {{.*}} {qnn.bits = [[A:[2348]]] : i64}
// MID: qnn.matmul {{.*}} {qnn.bits = [[B:[2348]]] : i64}
// REPORT: "budgets": {
// REPORT-NEXT: "bops": 1408
// REPORT: "layers": [
// REPORT: "bits":
// REPORT: "name": "first"
// REPORT: "name": "second"
// REPORT: "solver": "cbc"
// REPORT: "status": "optimal"
// REPORT: "totals": {
// TABLE: layer K N bits omega MiB
// TABLE: first
// TABLE: second
// TABLE: total: omega {{.*}} BOPs; optimal in
// INFEASIBLE: error: --qnn-allocate-bits: infeasible: {{.*}}100{{.*}}512
// QUANTIZED: tensor<4x2xi2>
// QUANTIZED: tensor<2x4xi2>
func.func @two_layers(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %w1 = arith.constant dense<[[0.9, -0.3], [0.2, 0.7], [-1.1, 0.4], [0.05, -0.6]]> : tensor<4x2xf32>
  %h = qnn.matmul %x, %w1 : tensor<2x4xf32>, tensor<4x2xf32> -> tensor<2x2xf32> loc("first")
  %w2 = arith.constant dense<[[0.3, -0.8, 0.15, 1.2], [-0.45, 0.6, 0.9, -0.1]]> : tensor<2x4xf32>
  %y = qnn.matmul %h, %w2 : tensor<2x2xf32>, tensor<2x4xf32> -> tensor<2x4xf32> loc("second")
  return %y : tensor<2x4xf32>
}
