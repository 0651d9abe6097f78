// Integer matmuls compile to the VNNI dot product when the target has it
// (Zen 4: znver4), and to portable code (no vpdpbusd) for plain x86-64.
// Sub-byte codes are unpacked in registers: the 4-bit kernel's nibble
// masks appear next to vpdpbusd.

// RUN: quant-opt %s --qnn-lower-to-cpu \
// RUN:   | quant-translate --to-object --target-cpu=znver4 -o %t.o
// RUN: llvm-objdump -d --no-show-raw-insn %t.o | FileCheck %s --check-prefix=VNNI
// RUN: quant-opt %s --qnn-lower-to-cpu \
// RUN:   | quant-translate --to-object --target-cpu=x86-64 -o %t.generic.o
// RUN: llvm-objdump -d --no-show-raw-insn %t.generic.o | FileCheck %s --check-prefix=GENERIC

// VNNI-LABEL: <quant_model_run>:
// VNNI: vpdpbusd {{.*}}zmm
// GENERIC-LABEL: <quant_model_run>:
// GENERIC-NOT: vpdpbusd
// GENERIC-NOT: zmm

func.func @w4a8(%x: tensor<4x128xf32>) -> tensor<4x64xf32> {
  %w = arith.constant dense<3> : tensor<128x64xi4>
  %s = arith.constant dense<0.5> : tensor<1x64xf32>
  %q, %qs = qnn.quantize %x per_token : tensor<4x128xf32> -> tensor<4x128xi8>, tensor<4xf32>
  %y = qnn.matmul %q, %w input_scales(%qs : tensor<4xf32>) scales(%s : tensor<1x64xf32>)
       : tensor<4x128xi8>, tensor<128x64xi4> -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}
