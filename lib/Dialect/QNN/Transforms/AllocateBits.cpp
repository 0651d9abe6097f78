//===- AllocateBits.cpp - HAWQ-V3 bit allocation by ILP -------------------===//

#include "Calibration.h"
#include "quant/Dialect/QNN/Transforms/ConstantUtils.h"

#include "quant/Dialect/QNN/IR/QNN.h"
#include "quant/Dialect/QNN/Transforms/Passes.h"
#include "quant/Quantization/BitAllocation.h"
#include "quant/Quantization/Quantizer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::qnn {
#define GEN_PASS_DEF_QNNALLOCATEBITS
#include "quant/Dialect/QNN/Transforms/Passes.h.inc"
} // namespace mlir::qnn

using namespace mlir;
using namespace mlir::qnn;

// The spec's tool-level spellings; the pass options take precedence.
static llvm::cl::opt<std::string>
    clReport("qnn-report",
             llvm::cl::desc("write the --qnn-allocate-bits report (JSON) here"),
             llvm::cl::value_desc("file.json"));
static llvm::cl::opt<bool>
    clVerbose("qnn-verbose",
              llvm::cl::desc("print the --qnn-allocate-bits table to stderr"));

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

/// A layer the allocation decides on: its op and weight as a K×N matrix
/// (convolutions reduce over C·KH·KW).
struct Layer {
  Operation *op;
  Value input;
  ::quant::Matrix weight;
  int64_t macs;
  std::string name;
};

std::string layerName(Operation *op, size_t index) {
  if (auto loc = dyn_cast<NameLoc>(op->getLoc()))
    return loc.getName().str();
  std::string name;
  llvm::raw_string_ostream os(name);
  os << op->getName().getStringRef() << "#" << index;
  if (auto loc = dyn_cast<FileLineColLoc>(op->getLoc()))
    os << " (line " << loc.getLine() << ")";
  return name;
}

/// Float weights of a float matmul or conv as K×N, or nullopt.
std::optional<Layer> asLayer(Operation *op) {
  if (auto matmul = dyn_cast<MatmulOp>(op)) {
    if (!isa<FloatType>(matmul.getWeight().getType().getElementType()) ||
        !isa<FloatType>(matmul.getInput().getType().getElementType()))
      return std::nullopt;
    std::optional<::quant::Matrix> weight =
        getConstantMatrix(matmul.getWeight());
    if (!weight || !matmul.getInput().getType().hasStaticShape())
      return std::nullopt;
    int64_t tokens = matmul.getInput().getType().getNumElements() / weight->rows;
    return Layer{op, matmul.getInput(), std::move(*weight),
                 tokens * weight->rows * weight->cols, ""};
  }
  auto conv = dyn_cast<Conv2DOp>(op);
  if (!conv || !isa<FloatType>(conv.getWeight().getType().getElementType()))
    return std::nullopt;
  std::optional<std::vector<double>> values =
      getConstantFloatValues(conv.getWeight());
  auto result = cast<RankedTensorType>(conv.getResult().getType());
  if (!values || !result.hasStaticShape())
    return std::nullopt;
  ArrayRef<int64_t> shape = conv.getWeight().getType().getShape();
  bool nchw = conv.getLayout() == ConvLayout::nchw;
  int64_t f = nchw ? shape[0] : shape[3];
  int64_t reduction = conv.getWeight().getType().getNumElements() / f;
  // Ω only needs ‖Q(W) − W‖² per output channel: the row order within a
  // channel is irrelevant, the channel must be a column.
  ::quant::Matrix weight(reduction, f);
  for (int64_t i = 0, e = values->size(); i < e; ++i) {
    int64_t channel = nchw ? i / reduction : i % f;
    int64_t row = nchw ? i % reduction : i / f;
    weight(row, channel) = (*values)[i];
  }
  int64_t outputs = result.getNumElements() / f;
  return Layer{op, conv.getInput(), std::move(weight), outputs * reduction * f,
               ""};
}

/// Per-layer latencies keyed by (K, N, bits).
using LatencyTable = std::map<std::tuple<int64_t, int64_t, unsigned>, double>;

FailureOr<LatencyTable> readLatencyTable(func::FuncOp func, StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return func.emitError("cannot read latency table '") << path << "'";
  llvm::Expected<llvm::json::Value> json =
      llvm::json::parse((*buffer)->getBuffer());
  if (!json)
    return func.emitError("latency table '")
           << path << "' is not JSON: " << llvm::toString(json.takeError());
  LatencyTable table;
  const llvm::json::Object *root = json->getAsObject();
  const llvm::json::Array *layers = root ? root->getArray("layers") : nullptr;
  if (!layers)
    return func.emitError("latency table '")
           << path << "' needs a \"layers\" array";
  for (const llvm::json::Value &entry : *layers) {
    const llvm::json::Object *object = entry.getAsObject();
    std::optional<int64_t> k = object ? object->getInteger("k") : std::nullopt;
    std::optional<int64_t> n = object ? object->getInteger("n") : std::nullopt;
    std::optional<int64_t> bits =
        object ? object->getInteger("bits") : std::nullopt;
    std::optional<double> seconds =
        object ? object->getNumber("seconds") : std::nullopt;
    if (!k || !n || !bits || !seconds || *seconds < 0)
      return func.emitError("latency table '")
             << path << "': every entry needs integer k, n, bits and a "
             << "non-negative number seconds";
    table[{*k, *n, static_cast<unsigned>(*bits)}] = *seconds;
  }
  return table;
}

struct QNNAllocateBitsPass
    : qnn::impl::QNNAllocateBitsBase<QNNAllocateBitsPass> {
  using Base::Base;

  void runOnOperation() override;

private:
  LogicalResult validateOptions(func::FuncOp func);
  void writeReport(func::FuncOp func, ArrayRef<Layer> layers,
                   const ::quant::AllocationProblem &problem,
                   const ::quant::AllocationResult &result);
  void printTable(ArrayRef<Layer> layers,
                  const ::quant::AllocationProblem &problem,
                  const ::quant::AllocationResult &result);
};

LogicalResult QNNAllocateBitsPass::validateOptions(func::FuncOp func) {
  for (unsigned bits : candidates)
    if (!llvm::is_contained({2u, 3u, 4u, 8u}, bits))
      return func.emitError("--qnn-allocate-bits candidates must be among "
                            "2, 3, 4, 8, got ")
             << bits;
  if (group != 0 && group != 32 && group != 64 && group != 128)
    return func.emitError("--qnn-allocate-bits group must be 0, 32, 64 or "
                          "128, got ")
           << static_cast<int64_t>(group);
  if (budgetMiB < 0 || budgetBops < 0 || budgetLatency < 0)
    return func.emitError("--qnn-allocate-bits budgets must be non-negative");
  if (budgetLatency > 0 && latencyTable.empty())
    return func.emitError(
        "--qnn-allocate-bits budget-latency needs a latency-table");
  if (solver != "cbc" && solver != "brute-force")
    return func.emitError("--qnn-allocate-bits solver must be cbc or "
                          "brute-force, got '")
           << solver << "'";
  return success();
}

void QNNAllocateBitsPass::runOnOperation() {
  func::FuncOp func = getOperation();
  if (failed(validateOptions(func)))
    return signalPassFailure();
  SmallVector<unsigned> bitChoices(candidates.begin(), candidates.end());
  if (bitChoices.empty())
    bitChoices = {2, 3, 4, 8};
  llvm::sort(bitChoices);
  bitChoices.erase(llvm::unique(bitChoices), bitChoices.end());

  SmallVector<Layer> layers;
  func.walk([&](Operation *op) {
    if (std::optional<Layer> layer = asLayer(op)) {
      layer->name = layerName(op, layers.size());
      layers.push_back(std::move(*layer));
    }
  });
  if (layers.empty())
    return;

  std::optional<LatencyTable> latencies;
  if (!latencyTable.empty()) {
    FailureOr<LatencyTable> table = readLatencyTable(func, latencyTable);
    if (failed(table))
      return signalPassFailure();
    latencies = std::move(*table);
  }

  llvm::DenseMap<Value, ::quant::Matrix> samples;
  if (!calibration.empty()) {
    SmallVector<Value> inputs = llvm::map_to_vector(
        layers, [](const Layer &layer) { return layer.input; });
    FailureOr<llvm::DenseMap<Value, ::quant::Matrix>> collected =
        collectActivations(func, calibration, "--qnn-allocate-bits calibration",
                           inputs);
    if (failed(collected))
      return signalPassFailure();
    samples = std::move(*collected);
  }

  ::quant::AllocationProblem problem;
  problem.timeLimitSeconds = timeLimit;
  if (budgetMiB > 0)
    problem.sizeBudgetBytes = budgetMiB * kMiB;
  if (budgetBops > 0)
    problem.bopsBudget = budgetBops;
  if (budgetLatency > 0)
    problem.latencyBudget = budgetLatency;
  for (const Layer &layer : layers) {
    int64_t k = layer.weight.rows, n = layer.weight.cols;
    if (group != 0 && isa<MatmulOp>(layer.op) && k % group != 0) {
      layer.op->emitOpError("group size ")
          << static_cast<int64_t>(group)
          << " does not divide the reduction dimension (" << k << ")";
      return signalPassFailure();
    }
    double sensitivity = static_cast<double>(k);
    if (auto it = samples.find(layer.input); it != samples.end())
      sensitivity = ::quant::hutchinsonTrace(it->second, hutchinsonSamples,
                                             seed) /
                    static_cast<double>(it->second.rows);
    // Convolutions group along C only; their K here is C·KH·KW.
    int64_t groupLength =
        isa<MatmulOp>(layer.op) && group != 0 ? int64_t(group) : 0;
    int64_t groups = groupLength == 0 ? 1 : k / groupLength;
    ::quant::LayerChoices choices;
    choices.name = layer.name;
    for (unsigned bits : bitChoices) {
      ::quant::QuantizedWeight quantized = ::quant::quantizeRTN(
          layer.weight, {bits, groupLength, static_cast<bool>(symmetric)});
      ::quant::BitCandidate candidate;
      candidate.bits = bits;
      candidate.cost = sensitivity * ::quant::squaredDistance(
                                         quantized.dequantize(), layer.weight);
      candidate.sizeBytes = k * n * bits / 8.0 + groups * n * 4.0 +
                            (symmetric ? 0.0 : groups * n * bits / 8.0);
      candidate.bops = static_cast<double>(layer.macs) * bits * abits;
      if (latencies) {
        auto it = latencies->find({k, n, bits});
        if (it == latencies->end()) {
          layer.op->emitOpError("latency table '")
              << latencyTable << "' has no entry for k = " << k
              << ", n = " << n << ", bits = " << bits;
          return signalPassFailure();
        }
        candidate.latency = it->second;
      }
      choices.candidates.push_back(candidate);
    }
    problem.layers.push_back(std::move(choices));
  }

  if (shareInputs) {
    llvm::MapVector<Value, std::vector<size_t>> byInput;
    for (auto [index, layer] : llvm::enumerate(layers))
      if (isa<MatmulOp>(layer.op))
        byInput[layer.input].push_back(index);
    for (auto &[input, members] : byInput)
      if (members.size() > 1)
        problem.sharedGroups.push_back(members);
  }

  llvm::errs() << "qnn-allocate-bits: solving for " << layers.size()
               << " layers x " << bitChoices.size() << " candidates with "
               << solver << "\n";
  ::quant::AllocationResult result = solver == "cbc"
                                         ? ::quant::solveWithCbc(problem)
                                         : ::quant::solveByBruteForce(problem);
  if (result.status == ::quant::AllocationStatus::Infeasible ||
      result.status == ::quant::AllocationStatus::Error ||
      result.choice.empty()) {
    func.emitError("--qnn-allocate-bits: ")
        << ::quant::toString(result.status) << ": " << result.message;
    return signalPassFailure();
  }
  if (result.status == ::quant::AllocationStatus::TimeLimit)
    func.emitWarning("--qnn-allocate-bits hit the time limit; the allocation "
                     "is within budget but not proven optimal");

  Builder builder(&getContext());
  for (auto [index, layer] : llvm::enumerate(layers))
    layer.op->setAttr(QNNDialect::getBitsAttrName(),
                      builder.getI64IntegerAttr(
                          problem.layers[index]
                              .candidates[result.choice[index]]
                              .bits));

  writeReport(func, layers, problem, result);
  if (verbose || clVerbose)
    printTable(layers, problem, result);
}

void QNNAllocateBitsPass::writeReport(
    func::FuncOp func, ArrayRef<Layer> layers,
    const ::quant::AllocationProblem &problem,
    const ::quant::AllocationResult &result) {
  std::string path = report.empty() ? std::string(clReport) : report;
  if (path.empty())
    return;
  llvm::json::Array layerReports;
  for (auto [index, layer] : llvm::enumerate(layers)) {
    const ::quant::BitCandidate &chosen =
        problem.layers[index].candidates[result.choice[index]];
    llvm::json::Object entry{{"name", layer.name},
                             {"op", layer.op->getName().getStringRef()},
                             {"k", layer.weight.rows},
                             {"n", layer.weight.cols},
                             {"bits", chosen.bits},
                             {"omega", chosen.cost},
                             {"size_mib", chosen.sizeBytes / kMiB},
                             {"bops", chosen.bops}};
    if (chosen.latency >= 0)
      entry["latency_seconds"] = chosen.latency;
    layerReports.push_back(std::move(entry));
  }
  llvm::json::Object budgets;
  if (problem.sizeBudgetBytes)
    budgets["size_mib"] = *problem.sizeBudgetBytes / kMiB;
  if (problem.bopsBudget)
    budgets["bops"] = *problem.bopsBudget;
  if (problem.latencyBudget)
    budgets["latency_seconds"] = *problem.latencyBudget;
  llvm::json::Object totals{{"omega", result.objective},
                            {"size_mib", result.sizeBytes / kMiB},
                            {"bops", result.bops}};
  if (problem.latencyBudget)
    totals["latency_seconds"] = result.latency;
  llvm::json::Value document(llvm::json::Object{
      {"function", func.getName()},
      {"solver", solver},
      {"status", ::quant::toString(result.status)},
      {"solve_seconds", result.solveSeconds},
      {"budgets", std::move(budgets)},
      {"totals", std::move(totals)},
      {"layers", std::move(layerReports)}});
  std::error_code error;
  llvm::raw_fd_ostream out(path, error);
  if (error) {
    func.emitError("cannot write report '") << path << "': " << error.message();
    return signalPassFailure();
  }
  out << llvm::formatv("{0:2}", document) << "\n";
}

void QNNAllocateBitsPass::printTable(const ArrayRef<Layer> layers,
                                     const ::quant::AllocationProblem &problem,
                                     const ::quant::AllocationResult &result) {
  llvm::raw_ostream &os = llvm::errs();
  os << llvm::format("%-32s %8s %8s %5s %12s %10s\n", "layer", "K", "N",
                     "bits", "omega", "MiB");
  for (auto [index, layer] : llvm::enumerate(layers)) {
    const ::quant::BitCandidate &chosen =
        problem.layers[index].candidates[result.choice[index]];
    os << llvm::format("%-32s %8lld %8lld %5u %12.4g %10.4f\n",
                       layer.name.c_str(), (long long)layer.weight.rows,
                       (long long)layer.weight.cols, chosen.bits, chosen.cost,
                       chosen.sizeBytes / kMiB);
  }
  os << llvm::format("total: omega %.6g, %.4f MiB", result.objective,
                     result.sizeBytes / kMiB);
  if (problem.sizeBudgetBytes)
    os << llvm::format(" (budget %.4f MiB)", *problem.sizeBudgetBytes / kMiB);
  os << llvm::format(", %.4g BOPs; %s in %.3f s\n", result.bops,
                     ::quant::toString(result.status), result.solveSeconds);
}

} // namespace
