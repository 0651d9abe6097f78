//===- GPUTarget.cpp - PTX and cubins of GPU-lowered qnn models -----------===//
//
// Errors are reported at the offending op's location only: the input is a
// whole lowered model, which mlir-translate would otherwise print in full
// under every diagnostic.
//
//===----------------------------------------------------------------------===//

#include "quant/Target/GPU/GPUTarget.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/Tools/mlir-translate/Translation.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

using namespace mlir;

namespace {

llvm::cl::OptionCategory category("quant GPU code generation (--to-ptx, "
                                  "--to-cubin)");

llvm::cl::opt<std::string>
    cudaPath("cuda-path",
             llvm::cl::desc("CUDA toolkit whose bin/ptxas --to-cubin runs"),
             llvm::cl::init("/usr/local/cuda"), llvm::cl::cat(category));

constexpr StringLiteral kLowerHint =
    "lower the model with --qnn-lower-to-gpu=\"format=isa\"";

/// The NVVM object of the module's one gpu.binary, or an error saying what
/// the input lacks.
FailureOr<gpu::ObjectAttr> findObject(Operation *op) {
  SmallVector<gpu::BinaryOp> binaries;
  bool hasModules = false;
  op->walk([&](Operation *nested) {
    if (auto binary = dyn_cast<gpu::BinaryOp>(nested))
      binaries.push_back(binary);
    hasModules |= isa<gpu::GPUModuleOp>(nested);
  });
  if (binaries.empty() && hasModules)
    return emitError(op->getLoc(), "the GPU modules are not compiled yet; ")
           << kLowerHint << " (or run gpu-module-to-binary{format=isa})";
  if (binaries.empty())
    return emitError(op->getLoc(), "no GPU module in the input; ")
           << kLowerHint;
  if (binaries.size() > 1)
    return emitError(binaries[1].getLoc(), "the input holds ")
           << binaries.size()
           << " GPU binaries and this writes one; --qnn-lower-to-gpu "
              "gathers a model's kernels into one";
  for (Attribute attr : binaries.front().getObjects()) {
    auto object = cast<gpu::ObjectAttr>(attr);
    if (isa<NVVM::NVVMTargetAttr>(object.getTarget()))
      return object;
  }
  return emitError(binaries.front().getLoc(),
                   "the GPU binary has no NVVM (CUDA) object");
}

FailureOr<StringRef> findPTX(Operation *op) {
  FailureOr<gpu::ObjectAttr> object = findObject(op);
  if (failed(object))
    return failure();
  switch (object->getFormat()) {
  case gpu::CompilationTarget::Assembly:
    break;
  case gpu::CompilationTarget::Binary:
    return emitError(op->getLoc(), "the GPU binary holds a cubin "
                                   "(format=bin), not PTX; ")
           << kLowerHint;
  case gpu::CompilationTarget::Fatbin:
    return emitError(op->getLoc(), "the GPU binary holds a fatbin "
                                   "(format=fatbin), not PTX; ")
           << kLowerHint;
  case gpu::CompilationTarget::Offload:
    return emitError(op->getLoc(), "the GPU binary holds LLVM bitcode "
                                   "(format=offload), not PTX; ")
           << kLowerHint;
  }
  return object->getObject().getValue();
}

LogicalResult translateToPTX(Operation *op, llvm::raw_ostream &output) {
  FailureOr<StringRef> ptx = findPTX(op);
  if (failed(ptx))
    return failure();
  output << *ptx;
  return success();
}

/// ptxas -arch=<chip> -O<level> on the PTX of the module's object; a
/// binary object is a cubin already.
LogicalResult translateToCubin(Operation *op, llvm::raw_ostream &output) {
  FailureOr<gpu::ObjectAttr> object = findObject(op);
  if (failed(object))
    return failure();
  if (object->getFormat() == gpu::CompilationTarget::Binary) {
    output << object->getObject().getValue();
    return success();
  }
  FailureOr<StringRef> ptx = findPTX(op);
  if (failed(ptx))
    return failure();
  auto target = cast<NVVM::NVVMTargetAttr>(object->getTarget());

  llvm::SmallString<256> ptxas(cudaPath);
  llvm::sys::path::append(ptxas, "bin", "ptxas");
  if (!llvm::sys::fs::can_execute(ptxas))
    return emitError(op->getLoc(), "ptxas not found at ")
           << ptxas << ": install CUDA 13 at /usr/local/cuda (or pass "
           << "--cuda-path)";
  llvm::SmallString<128> ptxPath, cubinPath, logPath;
  if (llvm::sys::fs::createTemporaryFile("quant-kernels", "ptx", ptxPath) ||
      llvm::sys::fs::createTemporaryFile("quant-kernels", "cubin", cubinPath) ||
      llvm::sys::fs::createTemporaryFile("quant-ptxas", "log", logPath))
    return emitError(op->getLoc(), "cannot create temporary files for ptxas");
  llvm::FileRemover removePTX(ptxPath), removeCubin(cubinPath),
      removeLog(logPath);
  {
    std::error_code error;
    llvm::raw_fd_ostream file(ptxPath, error);
    if (error)
      return emitError(op->getLoc(), "cannot write ")
             << ptxPath << ": " << error.message();
    file << *ptx;
  }
  std::string arch = "-arch=" + target.getChip().str();
  std::string level = "-O" + std::to_string(target.getO());
  SmallVector<StringRef> args = {ptxas, arch, level, ptxPath, "-o", cubinPath};
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(logPath),
                                          StringRef(logPath)};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects,
                                         0, 0, &message);
  if (status != 0) {
    auto log = llvm::MemoryBuffer::getFile(logPath);
    return emitError(op->getLoc(), "ptxas failed (")
           << llvm::join(args, " ")
           << "): " << (log ? (*log)->getBuffer().trim().str() : message);
  }
  auto cubin = llvm::MemoryBuffer::getFile(cubinPath, /*IsText=*/false,
                                           /*RequiresNullTerminator=*/false);
  if (!cubin)
    return emitError(op->getLoc(), "cannot read the cubin ptxas wrote: ")
           << cubin.getError().message();
  output << (*cubin)->getBuffer();
  return success();
}

void registerDialects(DialectRegistry &registry) {
  registerAllDialects(registry);
}

} // namespace

void qnn::registerGPUTargetTranslations() {
  TranslateFromMLIRRegistration(
      "to-ptx",
      "write the PTX of a GPU-lowered model's kernels (the input: "
      "--qnn-lower-to-gpu=\"format=isa\" output)",
      translateToPTX, registerDialects);
  TranslateFromMLIRRegistration(
      "to-cubin",
      "compile a GPU-lowered model's kernels to a cubin with the CUDA "
      "toolkit's ptxas (the input: --qnn-lower-to-gpu=\"format=isa\" "
      "output)",
      translateToCubin, registerDialects);
}
