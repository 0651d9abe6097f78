// Spec-named targets that have not landed fail with one clear error.
// RUN: not quant-translate --to-object %s 2>&1 | FileCheck %s --check-prefix=OBJ
// RUN: not quant-translate --to-shared-lib %s 2>&1 | FileCheck %s --check-prefix=SO
// RUN: not quant-translate --to-executable %s 2>&1 | FileCheck %s --check-prefix=EXE
// RUN: not quant-translate --to-ptx %s 2>&1 | FileCheck %s --check-prefix=PTX
// RUN: not quant-translate --to-cubin %s 2>&1 | FileCheck %s --check-prefix=CUBIN
// OBJ: error: quant-translate --to-object is not implemented in this build yet
// SO: error: quant-translate --to-shared-lib is not implemented in this build yet
// EXE: error: quant-translate --to-executable is not implemented in this build yet
// PTX: error: quant-translate --to-ptx is not implemented in this build yet
// CUBIN: error: quant-translate --to-cubin is not implemented in this build yet
module {}
