//===- quant-translate.cpp - quant translation driver ---------------------===//
//
// mlir-translate with the upstream translations plus quant's ONNX front end and
// code-generation targets (native code, and the PTX or cubin of GPU-lowered
// models). quant's --mlir-to-llvmir replaces upstream's: it also links the
// micro-kernels and sets the target machine.
//
//===----------------------------------------------------------------------===//

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Target/CPU/CPUTarget.h"
#include "quant/Target/GPU/GPUTarget.h"
#include "quant/Target/ONNX/ImportONNX.h"

#include "mlir/InitAllTranslations.h"
#include "mlir/Tools/mlir-translate/MlirTranslateMain.h"
#include "mlir/Tools/mlir-translate/Translation.h"

using namespace mlir;

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
  qnn::registerGPUTargetTranslations();
  return failed(mlirTranslateMain(argc, argv, "quant translation driver"));
}
