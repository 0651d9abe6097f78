// Spec-named GPU targets that have not landed fail with one clear error.
// RUN: not quant-translate --to-ptx %s 2>&1 | FileCheck %s --check-prefix=PTX
// RUN: not quant-translate --to-cubin %s 2>&1 | FileCheck %s --check-prefix=CUBIN
// PTX: error: quant-translate --to-ptx is not implemented in this build yet
// CUBIN: error: quant-translate --to-cubin is not implemented in this build yet
module {}
