// The CPU targets reject what they cannot build with one clear error.
// RUN: not quant-translate --to-shared-lib %s -o %t.so 2>&1 | FileCheck %s --check-prefix=NO-ENTRY
// RUN: not quant-translate --to-executable %s -o %t.exe 2>&1 | FileCheck %s --check-prefix=NO-ENTRY
// RUN: not quant-translate --to-object --target-triple=nonsense-unknown-none %s -o %t.o 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TRIPLE
// RUN: not quant-translate --to-object --runtime-dir=%t.missing %s -o %t.o 2>&1 \
// RUN:   | FileCheck %s --check-prefix=BITCODE
// RUN: quant-opt %S/../../Target/CPU/vnni.mlir --qnn-lower-to-cpu \
// RUN:   | not quant-translate --to-executable --linker=no-such-linker -o %t.exe 2>&1 \
// RUN:   | FileCheck %s --check-prefix=LINKER
// NO-ENTRY: error: no model entry (quant_model_run); lower the module with --qnn-lower-to-cpu first
// TRIPLE: error: no LLVM target for 'nonsense-unknown-none'
// BITCODE: error: cannot read the micro-kernel bitcode '{{.*}}.missing/quant/ukernels/{{.*}}.bc'
// LINKER: error: cannot find the linker 'no-such-linker' (set --linker)
llvm.func @f() {
  llvm.return
}
