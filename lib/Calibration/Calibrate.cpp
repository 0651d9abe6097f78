//===- Calibrate.cpp - --qnn-calibrate ------------------------------------===//
//
// Calibration runs the model the way it will be deployed: a copy returns
// every observed activation as an extra result, goes through
// --qnn-lower-to-cpu and the CPU target into a shared library, and the
// runtime runs it on each sample. Statistics take two sweeps over the
// samples: ranges first, then per-channel histograms of |x| on those ranges
// for the percentile.
//
//===----------------------------------------------------------------------===//

#include "quant/Calibration/Passes.h"

#include "quant/Conversion/Passes.h"
#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Runtime/Runtime.h"
#include "quant/Support/Npz.h"
#include "quant/Target/CPU/CPUTarget.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>

namespace mlir {
namespace qnn {
#define GEN_PASS_DEF_QNNCALIBRATE
#include "quant/Calibration/Passes.h.inc"
} // namespace qnn
} // namespace mlir

using namespace mlir;
using namespace mlir::qnn;

namespace {

constexpr int64_t kHistogramBins = 2048;

/// An activation observed during calibration and the ops it feeds.
struct Tap {
  Value value;
  int64_t axis;
  SmallVector<Operation *> consumers;
};

/// The activation a quantisable op reads and its channel axis, if the op
/// is one calibration describes.
std::optional<std::pair<Value, int64_t>> observedActivation(Operation *op) {
  auto isFloatTensor = [](Value v) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    return type && type.hasStaticShape() && type.getElementType().isF32();
  };
  auto hasConstantWeight = [](Operation *o) {
    return matchPattern(o->getOperand(1), m_Constant());
  };
  Value input;
  int64_t axis = -1;
  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    input = matmul.getInput();
    axis = cast<RankedTensorType>(input.getType()).getRank() - 1;
  } else if (auto conv = dyn_cast<Conv2DOp>(op)) {
    input = conv.getInput();
    axis = conv.getLayout() == ConvLayout::nchw ? 1 : 3;
  } else if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op) &&
             hasConstantWeight(op) &&
             !cast<linalg::LinalgOp>(op).hasUserDefinedMaps()) {
    input = op->getOperand(0);
    axis = cast<RankedTensorType>(input.getType()).getRank() - 1;
  } else if (isa<linalg::Conv2DNchwFchwOp, linalg::Conv2DNhwcHwcfOp>(op) &&
             hasConstantWeight(op)) {
    input = op->getOperand(0);
    axis = isa<linalg::Conv2DNchwFchwOp>(op) ? 1 : 3;
  } else {
    return std::nullopt;
  }
  if (!isFloatTensor(input))
    return std::nullopt;
  // Raising absorbs a zero pad; the statistics describe the unpadded input.
  if (auto pad = input.getDefiningOp<tensor::PadOp>();
      pad && isa<linalg::LinalgOp>(op) && isFloatTensor(pad.getSource()))
    input = pad.getSource();
  return std::make_pair(input, axis);
}

/// Running per-channel statistics of one tap.
struct ChannelStats {
  int64_t axis = 0, channels = 0, inner = 1;
  std::vector<double> min, max, absmax;
  std::vector<std::vector<int64_t>> histogram; // of |x| on [0, absmax]

  ChannelStats(ArrayRef<int64_t> shape, int64_t axis) : axis(axis) {
    channels = shape[axis];
    for (int64_t d = axis + 1; d < static_cast<int64_t>(shape.size()); ++d)
      inner *= shape[d];
    min.assign(channels, std::numeric_limits<double>::infinity());
    max.assign(channels, -std::numeric_limits<double>::infinity());
    absmax.assign(channels, 0.0);
  }

  void addRange(const float *data, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      int64_t c = (i / inner) % channels;
      double v = data[i];
      min[c] = std::min(min[c], v);
      max[c] = std::max(max[c], v);
      absmax[c] = std::max(absmax[c], std::abs(v));
    }
  }

  void addHistogram(const float *data, int64_t n) {
    if (histogram.empty())
      histogram.assign(channels, std::vector<int64_t>(kHistogramBins, 0));
    for (int64_t i = 0; i < n; ++i) {
      int64_t c = (i / inner) % channels;
      if (absmax[c] == 0.0)
        continue;
      auto bin = static_cast<int64_t>(std::abs(data[i]) / absmax[c] *
                                      kHistogramBins);
      ++histogram[c][std::min(bin, kHistogramBins - 1)];
    }
  }

  /// The `percentile` of |x| per channel, linear within the histogram bin.
  std::vector<double> percentileAbsmax(double percentile) const {
    std::vector<double> result(channels, 0.0);
    for (int64_t c = 0; c < channels; ++c) {
      if (histogram.empty() || absmax[c] == 0.0 || percentile >= 100.0) {
        result[c] = absmax[c];
        continue;
      }
      int64_t total = 0;
      for (int64_t count : histogram[c])
        total += count;
      double target = percentile / 100.0 * static_cast<double>(total);
      double below = 0.0, width = absmax[c] / kHistogramBins;
      for (int64_t b = 0; b < kHistogramBins; ++b) {
        double count = static_cast<double>(histogram[c][b]);
        if (below + count >= target) {
          double fraction = count > 0 ? (target - below) / count : 1.0;
          result[c] = std::min(absmax[c], (b + fraction) * width);
          break;
        }
        below += count;
      }
    }
    return result;
  }
};

/// Shows how far the sample sweeps are, on one redrawn line when stderr is
/// a terminal and in tenths otherwise.
class Progress {
public:
  Progress(int64_t total) : total(total) {}

  void update(StringRef sweep, int64_t done) {
    bool terminal = llvm::errs().is_displayed();
    int64_t tenth = done * 10 / total;
    if (!terminal && done != total && tenth == lastTenth)
      return;
    lastTenth = tenth;
    constexpr int width = 30;
    int filled = static_cast<int>(done * width / total);
    llvm::errs() << (terminal ? "\r" : "") << "qnn-calibrate: " << sweep
                 << " [" << std::string(filled, '#')
                 << std::string(width - filled, '.') << "] " << done << "/"
                 << total << (terminal && done != total ? "" : "\n");
  }

private:
  int64_t total;
  int64_t lastTenth = -1;
};

/// A loaded model and tensors for one run.
struct CompiledModel {
  qr_model *model = nullptr;
  std::vector<qr_tensor *> inputs, outputs;

  ~CompiledModel() {
    for (qr_tensor *t : inputs)
      qr_tensor_destroy(t);
    for (qr_tensor *t : outputs)
      qr_tensor_destroy(t);
    if (model)
      qr_model_destroy(model);
  }
};

struct QNNCalibratePass
    : public qnn::impl::QNNCalibrateBase<QNNCalibratePass> {
  using Base::Base;

  void runOnOperation() override;

private:
  /// Samples per argument: [S, ...argument shape] as float32.
  FailureOr<std::vector<std::vector<float>>>
  readSamples(func::FuncOp function, int64_t &count);
  /// The module with the taps as extra results, compiled to `path`.
  LogicalResult compileInstrumented(func::FuncOp function,
                                    ArrayRef<Tap> taps, StringRef path);
};

FailureOr<std::vector<std::vector<float>>>
QNNCalibratePass::readSamples(func::FuncOp function, int64_t &count) {
  std::string error;
  bool isDirectory = llvm::sys::fs::is_directory(file);
  std::optional<std::vector<::quant::NpzEntry>> entries =
      isDirectory ? ::quant::readNpyDirectory(file, error)
                  : ::quant::readNpzFile(file, error);
  if (!entries)
    return function.emitError("--qnn-calibrate: ") << error;
  if (entries->empty())
    return function.emitError("--qnn-calibrate: '")
           << file << "' holds no samples";

  unsigned arguments = function.getNumArguments();
  auto argumentName = [&](unsigned i) {
    if (auto name = function.getArgAttrOfType<StringAttr>(i, "onnx.name"))
      return name.getValue().str();
    return "input" + std::to_string(i);
  };
  // Per argument, the arrays that hold its samples.
  std::vector<std::vector<const ::quant::NpyArray *>> sources(arguments);
  for (unsigned i = 0; i < arguments; ++i)
    for (const ::quant::NpzEntry &entry : *entries)
      if (entry.name == argumentName(i))
        sources[i].push_back(&entry.array);
  if (arguments == 1 && sources[0].empty() &&
      (isDirectory || entries->size() == 1))
    for (const ::quant::NpzEntry &entry : *entries)
      sources[0].push_back(&entry.array);

  std::vector<std::vector<float>> samples(arguments);
  count = -1;
  for (unsigned i = 0; i < arguments; ++i) {
    auto type = dyn_cast<RankedTensorType>(function.getArgumentTypes()[i]);
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
      return function.emitError("--qnn-calibrate: argument ")
             << i << " must be a static f32 tensor";
    if (sources[i].empty())
      return function.emitError("--qnn-calibrate: no samples named '")
             << argumentName(i) << "' in '" << file << "'";
    int64_t argCount = 0;
    for (const ::quant::NpyArray *array : sources[i]) {
      ArrayRef<int64_t> shape = array->shape;
      bool single = shape == type.getShape();
      bool stacked = shape.size() == type.getShape().size() + 1 &&
                     shape.drop_front() == type.getShape();
      if (!single && !stacked) {
        auto diag = function.emitError("--qnn-calibrate: samples for '")
                    << argumentName(i) << "' have shape [";
        llvm::interleave(shape, diag, "x");
        diag << "]; expected " << type << " or a stack [S, ...] of it";
        return failure();
      }
      std::vector<double> values = array->toDoubles();
      samples[i].insert(samples[i].end(), values.begin(), values.end());
      argCount += single ? 1 : shape[0];
    }
    if (count >= 0 && argCount != count)
      return function.emitError("--qnn-calibrate: arguments have different "
                                "sample counts (")
             << count << " and " << argCount << ")";
    count = argCount;
  }
  if (maxSamples > 0 && count > maxSamples)
    count = maxSamples;
  return samples;
}

LogicalResult QNNCalibratePass::compileInstrumented(func::FuncOp function,
                                                    ArrayRef<Tap> taps,
                                                    StringRef path) {
  // Instrument a copy: the taps become extra results of the entry.
  OwningOpRef<ModuleOp> copy = getOperation().clone();
  auto copiedFunction = copy->lookupSymbol<func::FuncOp>(function.getName());
  llvm::DenseMap<Operation *, Operation *> copiedOps;
  SmallVector<Operation *> originals, copies;
  function.walk([&](Operation *op) { originals.push_back(op); });
  copiedFunction.walk([&](Operation *op) { copies.push_back(op); });
  for (auto [original, copied] : llvm::zip_equal(originals, copies))
    copiedOps[original] = copied;
  auto copiedValue = [&](Value value) -> Value {
    if (auto argument = dyn_cast<BlockArgument>(value))
      return copiedFunction.getArgument(argument.getArgNumber());
    auto result = cast<OpResult>(value);
    return copiedOps[result.getOwner()]->getResult(result.getResultNumber());
  };
  auto returnOp =
      cast<func::ReturnOp>(copiedFunction.getBody().front().getTerminator());
  SmallVector<Value> results(returnOp.getOperands());
  for (const Tap &tap : taps)
    results.push_back(copiedValue(tap.value));
  returnOp->setOperands(results);
  copiedFunction.setType(FunctionType::get(
      &getContext(), copiedFunction.getArgumentTypes(),
      ValueRange(results).getTypes()));
  copiedFunction.setAllResultAttrs(ArrayRef<DictionaryAttr>{});
  for (auto other :
       llvm::make_early_inc_range(copy->getOps<func::FuncOp>()))
    if (other != copiedFunction && !other.isPrivate() && !other.isExternal())
      other.setPrivate();

  // Lower in a context of its own: this pass may run on a multi-threaded
  // context, where lowering could not load the dialects it needs.
  std::string bytecode;
  {
    llvm::raw_string_ostream stream(bytecode);
    if (failed(writeBytecodeToFile(*copy, stream)))
      return function.emitError("--qnn-calibrate: cannot serialize the model");
  }
  DialectRegistry registry;
  getContext().getDialectRegistry().appendTo(registry);
  registerAllToLLVMIRTranslations(registry);
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  // Diagnostics of the copy point into a module the user never sees.
  std::string lowerError;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error && lowerError.empty())
      lowerError = diag.str();
    return success();
  });
  OwningOpRef<ModuleOp> lowered =
      parseSourceString<ModuleOp>(bytecode, ParserConfig(&context));
  PassManager pm(&context);
  if (!lowered ||
      failed(parsePassPipeline("qnn-lower-to-cpu{entry=" +
                                   function.getName().str() + "}",
                               pm)) ||
      failed(pm.run(*lowered)))
    return function.emitError("--qnn-calibrate: the float model does not "
                              "compile for the CPU: ")
           << lowerError;
  std::error_code ec;
  llvm::raw_fd_ostream output(path, ec);
  if (ec)
    return function.emitError("--qnn-calibrate: cannot write ")
           << path << ": " << ec.message();
  if (failed(compileToSharedLibrary(*lowered, output)))
    return function.emitError("--qnn-calibrate: code generation failed: ")
           << lowerError;
  return success();
}

void QNNCalibratePass::runOnOperation() {
  ModuleOp module = getOperation();
  if (file.empty()) {
    module.emitError("--qnn-calibrate needs calibration samples: "
                     "--qnn-calibrate=calib.npz (or a directory of .npy)");
    return signalPassFailure();
  }
  if (!(percentile > 0.0 && percentile <= 100.0)) {
    module.emitError("--qnn-calibrate: percentile must be in (0, 100]");
    return signalPassFailure();
  }
  func::FuncOp function = findModelEntry(module, entry, "calibrate");
  if (!function)
    return signalPassFailure();

  SmallVector<Tap> taps;
  llvm::DenseMap<Value, size_t> tapIndex;
  function.walk([&](Operation *op) {
    std::optional<std::pair<Value, int64_t>> observed = observedActivation(op);
    if (!observed)
      return;
    auto [it, inserted] = tapIndex.try_emplace(observed->first, taps.size());
    if (inserted)
      taps.push_back({observed->first, observed->second, {}});
    taps[it->second].consumers.push_back(op);
  });
  if (taps.empty()) {
    function.emitWarning("--qnn-calibrate: no quantisable op to calibrate");
    return;
  }

  int64_t count;
  FailureOr<std::vector<std::vector<float>>> samples =
      readSamples(function, count);
  if (failed(samples))
    return signalPassFailure();

  llvm::errs() << "qnn-calibrate: compiling '" << function.getName()
               << "' with " << taps.size() << " observed activations\n";
  SmallString<128> libraryPath;
  if (llvm::sys::fs::createTemporaryFile("quant-calibrate", "so",
                                         libraryPath)) {
    function.emitError("--qnn-calibrate: cannot create a temporary file");
    return signalPassFailure();
  }
  llvm::FileRemover removeLibrary(libraryPath);
  if (failed(compileInstrumented(function, taps, libraryPath)))
    return signalPassFailure();

  CompiledModel compiled;
  compiled.model = qr_model_load(libraryPath.c_str());
  if (!compiled.model) {
    function.emitError("--qnn-calibrate: cannot load the compiled model: ")
        << qr_last_error();
    return signalPassFailure();
  }
  for (int32_t i = 0; i < qr_model_num_inputs(compiled.model); ++i)
    compiled.inputs.push_back(qr_tensor_create(
        qr_model_input_dtype(compiled.model, i),
        qr_model_input_rank(compiled.model, i),
        qr_model_input_shape(compiled.model, i)));
  for (int32_t i = 0; i < qr_model_num_outputs(compiled.model); ++i)
    compiled.outputs.push_back(qr_tensor_create(
        qr_model_output_dtype(compiled.model, i),
        qr_model_output_rank(compiled.model, i),
        qr_model_output_shape(compiled.model, i)));
  size_t firstTap = compiled.outputs.size() - taps.size();

  std::vector<ChannelStats> stats;
  for (const Tap &tap : taps)
    stats.emplace_back(cast<RankedTensorType>(tap.value.getType()).getShape(),
                       tap.axis);
  bool needHistogram = percentile < 100.0;
  Progress progress(needHistogram ? 2 * count : count);
  for (int sweep = 0; sweep < (needHistogram ? 2 : 1); ++sweep) {
    for (int64_t s = 0; s < count; ++s) {
      for (auto [i, input] : llvm::enumerate(compiled.inputs)) {
        size_t n = qr_tensor_num_elements(input);
        std::memcpy(qr_tensor_data(input), (*samples)[i].data() + s * n,
                    n * sizeof(float));
      }
      if (qr_model_run(compiled.model, compiled.inputs.size(),
                       compiled.inputs.data(), compiled.outputs.size(),
                       compiled.outputs.data()) != 0) {
        function.emitError("--qnn-calibrate: sample ")
            << s << " failed to run: " << qr_last_error();
        return signalPassFailure();
      }
      for (auto [t, tapStats] : llvm::enumerate(stats)) {
        qr_tensor *output = compiled.outputs[firstTap + t];
        auto *data = static_cast<const float *>(qr_tensor_data(output));
        int64_t n = qr_tensor_num_elements(output);
        if (sweep == 0)
          tapStats.addRange(data, n);
        else
          tapStats.addHistogram(data, n);
      }
      progress.update(sweep == 0 ? "ranges    " : "histograms",
                      sweep * count + s + 1);
    }
  }

  MLIRContext *ctx = &getContext();
  for (auto [tap, tapStats] : llvm::zip_equal(taps, stats)) {
    auto array = [&](ArrayRef<double> values) {
      return DenseF64ArrayAttr::get(ctx, values);
    };
    auto attr = CalibStatsAttr::get(
        ctx, tap.axis, count, array(tapStats.absmax), array(tapStats.min),
        array(tapStats.max), APFloat(double(percentile)),
        array(tapStats.percentileAbsmax(percentile)));
    for (Operation *op : tap.consumers)
      op->setAttr(QNNDialect::getCalibStatsAttrName(), attr);
  }
}

} // namespace

void qnn::registerCalibratePass() {
  registerPassPipeline(
      "qnn-calibrate",
      "Run the float model on calibration samples (.npz or a directory of "
      ".npy) through the CPU path and attach qnn.calib_stats; "
      "--qnn-calibrate=calib.npz or "
      "--qnn-calibrate=\"file=F percentile=99.99 max-samples=0 entry=NAME\"",
      [](OpPassManager &pm, StringRef options,
         function_ref<LogicalResult(const Twine &)> errorHandler) {
        std::string text = options.trim().str();
        if (!text.empty() && !StringRef(text).contains('='))
          text = "file=\"" + text + "\"";
        std::unique_ptr<Pass> pass = createQNNCalibrate();
        if (failed(pass->initializeOptions(text, errorHandler)))
          return failure();
        pm.addPass(std::move(pass));
        return success();
      },
      [](function_ref<void(const mlir::detail::PassOptions &)>) {});
}
