//===- quant-translate.cpp - quant translation driver ---------------------===//
//
// mlir-translate with the upstream translations plus quant's ONNX front end and
// code-generation targets. quant's --mlir-to-llvmir replaces upstream's: it
// also links the micro-kernels and sets the target machine.
//
//===----------------------------------------------------------------------===//

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Target/CPU/CPUTarget.h"
#include "quant/Target/ONNX/ImportONNX.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllTranslations.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"

using namespace mlir;

namespace {

/// Targets named by the product spec whose implementation has not landed in
/// this build: they exist so that scripts get one clear error, not an
/// "unknown option".
struct PendingTarget {
  const char *flag;
  const char *description;
};

constexpr PendingTarget kPendingExports[] = {
    {"to-ptx", "compile GPU kernels to PTX"},
    {"to-cubin", "compile GPU kernels to a cubin"},
};

void registerPendingTargets() {
  for (const PendingTarget &target : kPendingExports) {
    std::string flag = target.flag;
    TranslateFromMLIRRegistration(
        target.flag, target.description,
        [flag](Operation *op, raw_ostream &) {
          return op->emitError("quant-translate --")
                 << flag << " is not implemented in this build yet";
        },
        [](DialectRegistry &registry) { registerAllDialects(registry); });
  }
}

} // namespace

/// Upstream's registerAllTranslations() minus --mlir-to-llvmir.
static void registerUpstreamTranslations() {
  registerFromLLVMIRTranslation();
  registerFromSPIRVTranslation();
  registerIRDLToCppTranslation();
  registerFromWasmTranslation();
  registerToCppTranslation();
  registerToSPIRVTranslation();
  smt::registerExportSMTLIBTranslation();
}

int main(int argc, char **argv) {
  registerUpstreamTranslations();
  qnn::registerCPUTargetTranslations();
  qnn::registerImportONNXTranslation();
  registerPendingTargets();
  return failed(mlirTranslateMain(argc, argv, "quant translation driver"));
}
