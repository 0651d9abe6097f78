//===- Passes.h - calibration passes -----------------------------*- C++ -*-===//

#ifndef QUANT_CALIBRATION_PASSES_H
#define QUANT_CALIBRATION_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
namespace qnn {
class QNNDialect;

#define GEN_PASS_DECL
#include "quant/Calibration/Passes.h.inc"

/// Registers --qnn-calibrate, which also accepts the bare file form of the
/// product spec: `--qnn-calibrate=calib.npz`.
void registerCalibratePass();

} // namespace qnn
} // namespace mlir

#endif // QUANT_CALIBRATION_PASSES_H
