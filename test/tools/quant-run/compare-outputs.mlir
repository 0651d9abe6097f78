// --compare with a model of two outputs, compiled from MLIR (plain linalg,
// no micro-kernels): output0 = 2 * input0 of shape [5] and output1 = input1
// of shape [2, 1, 3]. Plain files fill the outputs not named, in order; a
// [C] output gets top-1 agreement, a rank-3 output does not. The expected
// metrics are numpy's, in float64.
// RUN: quant-opt %s --qnn-lower-to-cpu | quant-translate --to-shared-lib -o %t.so
// RUN: %python -c "import numpy as np; a = np.array([1, -2, 3, 0.5, 4], np.float32); b = np.arange(6, dtype=np.float32).reshape(2, 1, 3); np.save('%t.a.npy', a); np.save('%t.b.npy', b); r = 2 * a; r[4] += 0.5; np.save('%t.ra.npy', r); np.save('%t.rb.npy', b + 0.5)"

// RUN: quant-run %t.so --input %t.a.npy --input %t.b.npy --compare output1=%t.rb.npy --compare %t.ra.npy | FileCheck %s
// CHECK:      output0 vs {{.*}}.ra.npy: float32 [5]
// CHECK-NEXT:   max abs error      0.5 at [4]
// CHECK-NEXT:   relative error     0.0439799
// CHECK-NEXT:   SQNR               27.1349 dB
// CHECK-NEXT:   cosine similarity  0.999544
// CHECK-NEXT:   top-1 agreement    1/1 (100.0%)
// CHECK-NEXT: output1 vs {{.*}}.rb.npy: float32 [2, 1, 3]
// CHECK-NEXT:   max abs error      0.5 at [0, 0, 0]
// CHECK-NEXT:   relative error     0.144841
// CHECK-NEXT:   SQNR               16.7821 dB
// CHECK-NEXT:   cosine similarity  0.996657
// CHECK-NOT:    top-1

func.func @model(%x: tensor<5xf32>, %z: tensor<2x1x3xf32>)
    -> (tensor<5xf32>, tensor<2x1x3xf32>) {
  %empty = tensor.empty() : tensor<5xf32>
  %double = linalg.add ins(%x, %x : tensor<5xf32>, tensor<5xf32>)
                       outs(%empty : tensor<5xf32>) -> tensor<5xf32>
  return %double, %z : tensor<5xf32>, tensor<2x1x3xf32>
}
