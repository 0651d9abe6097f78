// `--help` and `--show-dialects` list the qnn dialect next to upstream's.
// RUN: quant-opt --show-dialects | FileCheck %s --check-prefix=DIALECTS
// DIALECTS: Available Dialects:
// DIALECTS-SAME: linalg
// DIALECTS-SAME: qnn
// DIALECTS-SAME: tosa

// RUN: quant-opt --help | FileCheck %s --check-prefix=HELP
// HELP: quant optimizer driver
// HELP: Available Dialects: {{.*}}qnn
