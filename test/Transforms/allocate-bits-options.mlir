// RUN: not quant-opt %s --qnn-allocate-bits="candidates=4,5" 2>&1 | FileCheck %s --check-prefix=CAND
// CAND: error: --qnn-allocate-bits candidates must be among 2, 3, 4, 8, got 5
// RUN: not quant-opt %s --qnn-allocate-bits="budget-latency=0.5" 2>&1 | FileCheck %s --check-prefix=NOTABLE
// NOTABLE: error: --qnn-allocate-bits budget-latency needs a latency-table
// RUN: not quant-opt %s --qnn-allocate-bits="solver=glpk" 2>&1 | FileCheck %s --check-prefix=SOLVER
// SOLVER: error: --qnn-allocate-bits solver must be cbc or brute-force, got 'glpk'
// RUN: not quant-opt %s --qnn-allocate-bits="group=0 budget-latency=1 latency-table=%t.missing.json" 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: error: cannot read latency table '{{.*}}missing.json'
// RUN: echo '{"layers": [{"k": 4, "n": 2, "bits": 4}]}' > %t.bad.json
// RUN: not quant-opt %s --qnn-allocate-bits="group=0 budget-latency=1 latency-table=%t.bad.json" 2>&1 | FileCheck %s --check-prefix=BADTABLE
// BADTABLE: error: latency table '{{.*}}bad.json': every entry needs integer k, n, bits and a non-negative number seconds
// RUN: echo '{"layers": [{"k": 4, "n": 2, "bits": 2, "seconds": 1e-6}]}' > %t.partial.json
// RUN: not quant-opt %s --qnn-allocate-bits="group=0 candidates=2,4 budget-latency=1 latency-table=%t.partial.json" 2>&1 | FileCheck %s --check-prefix=NOENTRY
// NOENTRY: error: 'qnn.matmul' op latency table '{{.*}}partial.json' has no entry for k = 4, n = 2, bits = 4

// A latency budget with a complete table: 8-bit costs 5 us, 2-bit 1 us, 4-bit 2 us.
// RUN: printf '{"layers": [{"k": 4, "n": 2, "bits": 2, "seconds": 1e-6}, {"k": 4, "n": 2, "bits": 4, "seconds": 2e-6}, {"k": 4, "n": 2, "bits": 8, "seconds": 5e-6}]}' > %t.table.json
// RUN: quant-opt %s --qnn-allocate-bits="group=0 candidates=2,4,8 budget-latency=2e-6 latency-table=%t.table.json" | FileCheck %s --check-prefix=LATENCY
// LATENCY: qnn.matmul {{.*}} {qnn.bits = 4 : i64}

func.func @layer(%x: tensor<2x4xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense<[[0.9, -0.3], [0.2, 0.7], [-1.1, 0.4], [0.05, -0.6]]> : tensor<4x2xf32>
  %y = qnn.matmul %x, %w : tensor<2x4xf32>, tensor<4x2xf32> -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}
