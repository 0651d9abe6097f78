//===- quant-opt.cpp - quant optimizer driver -----------------------------===//
//
// mlir-opt with the qnn dialect and passes added to every upstream dialect,
// extension and pass, so models written in linalg/tosa/arith/func can be
// raised, quantized and lowered in one tool.
//
//===----------------------------------------------------------------------===//

#include "quant/Calibration/Passes.h"
#include "quant/Conversion/Passes.h"
#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Dialect/QNN/Transforms/BufferizableOpInterfaceImpl.h"
#include "quant/Dialect/QNN/Transforms/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::qnn::registerQNNPasses();
  mlir::qnn::registerQNNPipeline();
  mlir::qnn::registerQNNConversionPasses();
  mlir::qnn::registerLowerToCPUPipeline();
  mlir::qnn::registerLowerToGPUPipeline();
  mlir::qnn::registerCalibratePass();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  registry.insert<mlir::qnn::QNNDialect>();
  mlir::qnn::registerBufferizableOpInterfaceExternalModels(registry);
  // gpu-module-to-binary translates gpu.module ops to LLVM IR in-process.
  mlir::registerAllGPUToLLVMIRTranslations(registry);

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "quant optimizer driver: raise, quantize and lower models with the qnn "
      "dialect\n",
      registry));
}
