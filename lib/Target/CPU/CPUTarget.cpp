//===- CPUTarget.cpp - native code for lowered qnn models -----------------===//

#include "quant/Target/CPU/CPUTarget.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Tools/mlir-translate/Translation.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Linker/Linker.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;

namespace {

llvm::cl::OptionCategory category("quant CPU code generation (--mlir-to-llvmir, "
                                  "--to-object, --to-shared-lib, "
                                  "--to-executable)");

llvm::cl::opt<std::string> targetTriple(
    "target-triple", llvm::cl::desc("target triple (default: the host's)"),
    llvm::cl::cat(category));
llvm::cl::opt<std::string> targetCpu(
    "target-cpu",
    llvm::cl::desc("target CPU, e.g. znver4, x86-64-v3 (default: the host's)"),
    llvm::cl::cat(category));
llvm::cl::opt<std::string> targetFeatures(
    "target-features",
    llvm::cl::desc("target features, e.g. +avx512vnni,-avx512bf16 (default: "
                   "the host's when --target-cpu is not given)"),
    llvm::cl::cat(category));
llvm::cl::opt<unsigned> optLevel("O",
                                 llvm::cl::desc("LLVM optimisation level 0-3"),
                                 llvm::cl::init(3), llvm::cl::Prefix,
                                 llvm::cl::cat(category));
llvm::cl::opt<std::string> runtimeDir(
    "runtime-dir",
    llvm::cl::desc("directory of libquant_runtime.so and quant/ukernels/*.bc "
                   "(default: ../lib next to quant-translate)"),
    llvm::cl::cat(category));
llvm::cl::opt<std::string> linkerProgram(
    "linker", llvm::cl::desc("C compiler driver used to link (default: cc)"),
    llvm::cl::init("cc"), llvm::cl::cat(category));

enum class Artifact { LLVMIR, Object, SharedLibrary, Executable };

/// Symbols of the model ABI that stay visible; everything else is
/// internalised so the kernels inline into the model and unused code goes.
bool isExported(llvm::StringRef name) {
  return name == "quant_model_run" || name == "quant_model_signature" ||
         name == "main";
}

std::string defaultRuntimeDir() {
  if (!runtimeDir.empty())
    return runtimeDir;
  std::string executable = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  llvm::SmallString<256> dir(llvm::sys::path::parent_path(executable));
  llvm::sys::path::append(dir, "..", "lib");
  llvm::sys::path::remove_dots(dir, /*remove_dot_dot=*/true);
  return std::string(dir);
}

/// Creates the target machine: the host's by default.
FailureOr<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(Operation *op) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(targetTriple.empty() ? llvm::sys::getDefaultTargetTriple()
                                           : targetTriple.getValue());
  std::string error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return op->emitError("no LLVM target for '") << triple.str() << "': "
                                                 << error;
  std::string cpu = targetCpu;
  std::string features = targetFeatures;
  if (cpu.empty()) {
    cpu = llvm::sys::getHostCPUName().str();
    if (features.empty()) {
      llvm::SubtargetFeatures host;
      for (const auto &feature : llvm::sys::getHostCPUFeatures())
        host.AddFeature(feature.first(), feature.second);
      features = host.getString();
    }
  }
  llvm::CodeGenOptLevel level = optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
                                : optLevel == 2 ? llvm::CodeGenOptLevel::Default
                                : optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                                : llvm::CodeGenOptLevel::None;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, level));
  if (!machine)
    return op->emitError("cannot create a target machine for ")
           << triple.str() << " / " << cpu;
  return machine;
}

/// The micro-kernel variant the target can run: AVX-512 VNNI or portable.
std::string ukernelBitcodePath(llvm::TargetMachine &machine) {
  const llvm::MCSubtargetInfo *info = machine.getMCSubtargetInfo();
  bool vnni = machine.getTargetTriple().isX86() &&
              info->checkFeatures("+avx512f,+avx512bw,+avx512vl,+avx512vnni");
  llvm::SmallString<256> path(defaultRuntimeDir());
  llvm::sys::path::append(path, "quant", "ukernels",
                          vnni ? "x86_64-avx512vnni.bc" : "generic.bc");
  return std::string(path);
}

LogicalResult linkUKernels(Operation *op, llvm::Module &module,
                           llvm::TargetMachine &machine) {
  std::string path = ukernelBitcodePath(machine);
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return op->emitError("cannot read the micro-kernel bitcode '")
           << path << "': " << buffer.getError().message()
           << " (set --runtime-dir)";
  llvm::Expected<std::unique_ptr<llvm::Module>> kernels =
      llvm::parseBitcodeFile(**buffer, module.getContext());
  if (!kernels)
    return op->emitError("malformed micro-kernel bitcode '")
           << path << "': " << llvm::toString(kernels.takeError());
  (*kernels)->setTargetTriple(module.getTargetTriple());
  (*kernels)->setDataLayout(module.getDataLayout());
  if (llvm::Linker::linkModules(module, std::move(*kernels),
                                llvm::Linker::LinkOnlyNeeded))
    return op->emitError("cannot link the micro-kernels from '") << path
                                                                 << "'";
  return success();
}

/// int main(argc, argv): the runtime's driver over the linked-in model.
void addExecutableMain(llvm::Module &module) {
  llvm::LLVMContext &ctx = module.getContext();
  llvm::IRBuilder<> b(ctx);
  llvm::Type *i32 = b.getInt32Ty();
  llvm::PointerType *ptr = b.getPtrTy();
  llvm::FunctionCallee fromSymbols = module.getOrInsertFunction(
      "qr_model_from_symbols", llvm::FunctionType::get(ptr, {ptr, ptr}, false));
  llvm::FunctionCallee driver = module.getOrInsertFunction(
      "qr_driver_main", llvm::FunctionType::get(i32, {i32, ptr, ptr}, false));
  auto *main = llvm::Function::Create(
      llvm::FunctionType::get(i32, {i32, ptr}, false),
      llvm::GlobalValue::ExternalLinkage, "main", module);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", main));
  llvm::Value *model =
      b.CreateCall(fromSymbols, {module.getNamedValue("quant_model_signature"),
                                 module.getFunction("quant_model_run")});
  b.CreateRet(
      b.CreateCall(driver, {main->getArg(0), main->getArg(1), model}));
}

/// Translates, links the kernels, sets the target and optimises.
FailureOr<std::unique_ptr<llvm::Module>>
buildLLVMModule(Operation *op, llvm::LLVMContext &ctx,
                llvm::TargetMachine &machine, Artifact artifact) {
  std::unique_ptr<llvm::Module> module = translateModuleToLLVMIR(op, ctx);
  if (!module)
    return op->emitError("cannot translate the module to LLVM IR (is it "
                         "fully lowered, e.g. by --qnn-lower-to-cpu?)");
  bool isModel = module->getFunction("quant_model_run") &&
                 module->getNamedValue("quant_model_signature");
  if (artifact != Artifact::LLVMIR && artifact != Artifact::Object &&
      !isModel)
    return op->emitError("no model entry (quant_model_run); lower the "
                         "module with --qnn-lower-to-cpu first");
  module->setTargetTriple(machine.getTargetTriple());
  module->setDataLayout(machine.createDataLayout());
  for (llvm::Function &function : *module) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", machine.getTargetCPU());
    function.addFnAttr("target-features", machine.getTargetFeatureString());
  }
  if (failed(linkUKernels(op, *module, machine)))
    return failure();
  if (artifact == Artifact::Executable)
    addExecutableMain(*module);
  if (isModel) {
    // Appending globals (llvm.global_ctors, which loads a GPU model's
    // kernels) are directives to the linker, not symbols.
    for (llvm::GlobalValue &value : module->global_values())
      if (!value.isDeclaration() && !value.hasAppendingLinkage() &&
          !isExported(value.getName()))
        value.setLinkage(llvm::GlobalValue::InternalLinkage);
  }

  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgscc);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgscc, modules);
  llvm::OptimizationLevel level = optLevel >= 3   ? llvm::OptimizationLevel::O3
                                  : optLevel == 2 ? llvm::OptimizationLevel::O2
                                  : optLevel == 1 ? llvm::OptimizationLevel::O1
                                                  : llvm::OptimizationLevel::O0;
  llvm::ModulePassManager passes =
      level == llvm::OptimizationLevel::O0
          ? builder.buildO0DefaultPipeline(level)
          : builder.buildPerModuleDefaultPipeline(level);
  passes.run(*module, modules);
  if (llvm::verifyModule(*module, &llvm::errs()))
    return op->emitError("LLVM IR verification failed after optimisation");
  return module;
}

LogicalResult emitObject(Operation *op, llvm::Module &module,
                         llvm::TargetMachine &machine,
                         llvm::SmallVectorImpl<char> &object) {
  llvm::raw_svector_ostream stream(object);
  llvm::legacy::PassManager codegen;
  if (machine.addPassesToEmitFile(codegen, stream, nullptr,
                                  llvm::CodeGenFileType::ObjectFile))
    return op->emitError("the target cannot emit object files");
  codegen.run(module);
  return success();
}

/// Links `object` with the runtime into a shared library or executable and
/// returns its bytes.
LogicalResult link(Operation *op, llvm::ArrayRef<char> object, bool shared,
                   llvm::SmallVectorImpl<char> &linked) {
  llvm::ErrorOr<std::string> linker =
      llvm::sys::findProgramByName(linkerProgram);
  if (!linker)
    return op->emitError("cannot find the linker '")
           << linkerProgram.getValue() << "' (set --linker)";
  llvm::SmallString<128> objectPath, outputPath, logPath;
  if (llvm::sys::fs::createTemporaryFile("quant-model", "o", objectPath) ||
      llvm::sys::fs::createTemporaryFile("quant-model", shared ? "so" : "out",
                                         outputPath) ||
      llvm::sys::fs::createTemporaryFile("quant-link", "log", logPath))
    return op->emitError("cannot create temporary files for linking");
  llvm::FileRemover removeObject(objectPath), removeOutput(outputPath),
      removeLog(logPath);
  {
    std::error_code error;
    llvm::raw_fd_ostream file(objectPath, error);
    if (error)
      return op->emitError("cannot write ") << objectPath << ": "
                                            << error.message();
    file.write(object.data(), object.size());
  }
  std::string dir = defaultRuntimeDir();
  std::string rpath = "-Wl,-rpath," + dir;
  std::string libraryDir = "-L" + dir;
  llvm::SmallVector<llvm::StringRef> args = {*linker};
  if (shared)
    args.push_back("-shared");
  args.append({"-o", outputPath, objectPath, libraryDir, "-lquant_runtime",
               rpath, "-lm"});
  std::optional<llvm::StringRef> redirects[] = {std::nullopt,
                                                llvm::StringRef(logPath),
                                                llvm::StringRef(logPath)};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(*linker, args, std::nullopt,
                                         redirects, 0, 0, &message);
  if (status != 0) {
    auto log = llvm::MemoryBuffer::getFile(logPath);
    return op->emitError("linking failed (")
           << llvm::join(args, " ") << "): "
           << (log ? (*log)->getBuffer().trim().str() : message);
  }
  auto output = llvm::MemoryBuffer::getFile(outputPath, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!output)
    return op->emitError("cannot read the linked output: ")
           << output.getError().message();
  linked.assign((*output)->getBufferStart(), (*output)->getBufferEnd());
  return success();
}

/// mlir-translate creates `-o FILE` without the execute bits.
void markOutputExecutable() {
  auto &options = llvm::cl::getRegisteredOptions();
  auto it = options.find("o");
  if (it == options.end())
    return;
  auto *output = static_cast<llvm::cl::opt<std::string> *>(it->second);
  if (output->getValue().empty() || output->getValue() == "-")
    return;
  llvm::sys::fs::setPermissions(output->getValue(),
                                llvm::sys::fs::all_read |
                                    llvm::sys::fs::all_exe |
                                    llvm::sys::fs::owner_write);
}

LogicalResult translate(Operation *op, llvm::raw_ostream &output,
                        Artifact artifact) {
  FailureOr<std::unique_ptr<llvm::TargetMachine>> machine =
      createTargetMachine(op);
  if (failed(machine))
    return failure();
  llvm::LLVMContext ctx;
  FailureOr<std::unique_ptr<llvm::Module>> module =
      buildLLVMModule(op, ctx, **machine, artifact);
  if (failed(module))
    return failure();
  if (artifact == Artifact::LLVMIR) {
    (*module)->print(output, nullptr);
    return success();
  }
  llvm::SmallVector<char, 0> object;
  if (failed(emitObject(op, **module, **machine, object)))
    return failure();
  if (artifact == Artifact::Object) {
    output.write(object.data(), object.size());
    return success();
  }
  llvm::SmallVector<char, 0> linked;
  if (failed(link(op, object, artifact == Artifact::SharedLibrary, linked)))
    return failure();
  output.write(linked.data(), linked.size());
  if (artifact == Artifact::Executable)
    markOutputExecutable();
  return success();
}

void registerArtifact(llvm::StringRef flag, llvm::StringRef description,
                      Artifact artifact) {
  TranslateFromMLIRRegistration(
      flag, description,
      [artifact](Operation *op, llvm::raw_ostream &output) {
        return translate(op, output, artifact);
      },
      [](DialectRegistry &registry) {
        registerAllToLLVMIRTranslations(registry);
      });
}

} // namespace

LogicalResult qnn::compileToSharedLibrary(Operation *module,
                                          llvm::raw_ostream &output) {
  return translate(module, output, Artifact::SharedLibrary);
}

void qnn::registerCPUTargetTranslations() {
  registerArtifact("mlir-to-llvmir",
                   "llvm dialect to optimised LLVM IR for the target, with "
                   "the micro-kernels linked in",
                   Artifact::LLVMIR);
  registerArtifact("to-object", "compile to a native object file",
                   Artifact::Object);
  registerArtifact("to-shared-lib",
                   "compile a model to a shared library quant-run loads",
                   Artifact::SharedLibrary);
  registerArtifact("to-executable",
                   "compile a model to an executable linked with the runtime "
                   "(same options as quant-run)",
                   Artifact::Executable);
}
