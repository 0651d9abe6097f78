//===- PillarOps.cpp - qnn.pillar_conv ------------------------------------===//
//
// The semantics written in QNNOps.td, computed the obvious way: the active
// sites in a std::map, the output active set built in the documented order,
// and every output a direct sum over its kernel window in float64. No
// rulebook and no hashing, so it checks the runtime's rulebook builder
// (runtime/ukernels/PillarConv.c) rather than sharing its logic.
//
//===----------------------------------------------------------------------===//

#include "EvaluatorInternal.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

using namespace mlir;
using namespace mlir::qnn;
using namespace mlir::qnn::evaluator;

namespace {

using Site = std::array<int64_t, 3>; // batch, y, x

/// Reads `coords` [N, 3] into sites, rejecting out-of-grid and duplicate
/// pillars; fills `rows` with site → pillar index.
FailureOr<std::vector<Site>> readSites(PillarConvOp op,
                                       const EvalTensor &coords, int64_t height,
                                       int64_t width,
                                       std::map<Site, int64_t> &rows) {
  int64_t count = coords.shape[0];
  std::vector<Site> sites;
  for (int64_t i = 0; i < count; ++i) {
    Site site{toInt64(coords.data[3 * i]), toInt64(coords.data[3 * i + 1]),
              toInt64(coords.data[3 * i + 2])};
    if (site[0] < 0 || site[1] < 0 || site[1] >= height || site[2] < 0 ||
        site[2] >= width)
      return op.emitOpError("pillar ")
             << i << " at (batch " << site[0] << ", y " << site[1] << ", x "
             << site[2] << ") is outside the " << height << "x" << width
             << " grid";
    auto [it, inserted] = rows.emplace(site, i);
    if (!inserted)
      return op.emitOpError("pillars ")
             << it->second << " and " << i << " share coordinates (batch "
             << site[0] << ", y " << site[1] << ", x " << site[2] << ")";
    sites.push_back(site);
  }
  return sites;
}

/// Which pillars dilate: importance ≥ threshold, or the round-half-up
/// (ratio · N) most important (at least one), ties to the lower index; NaN
/// importance never qualifies.
std::vector<bool> selectImportant(PillarConvOp op,
                                  const std::vector<double> &importance) {
  int64_t count = importance.size();
  std::vector<bool> important(count, false);
  if (std::optional<APFloat> threshold = op.getThreshold()) {
    for (int64_t i = 0; i < count; ++i)
      important[i] = importance[i] >= threshold->convertToDouble();
    return important;
  }
  double ratio = op.getTopkRatio()->convertToDouble();
  int64_t k = static_cast<int64_t>(std::floor(ratio * count + 0.5));
  k = std::min(count, std::max<int64_t>(k, count > 0 ? 1 : 0));
  auto rank = [](double v) {
    return std::isnan(v) ? -std::numeric_limits<double>::infinity() : v;
  };
  std::vector<int64_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return rank(importance[a]) > rank(importance[b]);
  });
  for (int64_t i = 0; i < k; ++i)
    important[order[i]] = true;
  return important;
}

} // namespace

FailureOr<Results> evaluator::evaluatePillarConv(PillarConvOp op,
                                                 Operands operands) {
  Operation *operation = op.getOperation();
  const EvalTensor &featureValues =
      *operandValue(operation, operands, op.getFeatures());
  const EvalTensor &coords = *operandValue(operation, operands, op.getCoords());
  const EvalTensor &weightValues =
      *operandValue(operation, operands, op.getWeight());
  if (featureValues.shape.size() != 2 || coords.shape.size() != 2 ||
      coords.shape[1] != 3 || coords.shape[0] != featureValues.shape[0] ||
      weightValues.shape.size() != 4)
    return op.emitOpError("expects features [N, C_in], coords [N, 3] and a "
                          "4-D weight");
  FailureOr<EvalTensor> features = dequantizeActivation(
      operation, op.getFeatures(), featureValues, nullptr);
  FailureOr<EvalTensor> weight = dequantizeWeight(
      operation, op.getWeight(), weightValues,
      operandValue(operation, operands, op.getScales()),
      operandValue(operation, operands, op.getZeroPoints()),
      WeightLayout{/*reductionAxis=*/2, /*outputAxis=*/3});
  if (failed(features) || failed(weight))
    return failure();

  int64_t count = featureValues.shape[0], cin = featureValues.shape[1];
  int64_t kernel = weight->shape[0], cout = weight->shape[3];
  int64_t radius = kernel / 2, stride = op.getStride();
  int64_t height = op.getGrid()[0], width = op.getGrid()[1];
  if (weight->shape[1] != kernel || weight->shape[2] != cin)
    return op.emitOpError("weight of shape ")
           << formatShape(weight->shape) << " does not fit " << cin
           << " input channels";

  std::map<Site, int64_t> inputRows;
  FailureOr<std::vector<Site>> inputs =
      readSites(op, coords, height, width, inputRows);
  if (failed(inputs))
    return failure();

  // Candidates: the active sites in input order, then (selective dilation)
  // the new neighbourhood sites of important pillars, pillars in input
  // order, window in raster order.
  std::vector<Site> candidates = *inputs;
  if (op.getKind() == PillarConvKind::selective_dilation) {
    std::vector<double> importance(count);
    if (const EvalTensor *given =
            operandValue(operation, operands, op.getImportance())) {
      if (given->numElements() != count)
        return op.emitOpError("'importance' holds ")
               << given->numElements() << " values for " << count
               << " pillars";
      importance = given->data;
    } else {
      for (int64_t i = 0; i < count; ++i) {
        double sum = 0.0;
        for (int64_t c = 0; c < cin; ++c)
          sum += features->data[i * cin + c] * features->data[i * cin + c];
        importance[i] = std::sqrt(sum);
      }
    }
    std::vector<bool> important = selectImportant(op, importance);
    std::map<Site, bool> isCandidate;
    for (const Site &site : *inputs)
      isCandidate[site] = true;
    for (int64_t i = 0; i < count; ++i) {
      if (!important[i])
        continue;
      for (int64_t dy = -radius; dy <= radius; ++dy)
        for (int64_t dx = -radius; dx <= radius; ++dx) {
          Site site{(*inputs)[i][0], (*inputs)[i][1] + dy,
                    (*inputs)[i][2] + dx};
          if (site[1] < 0 || site[1] >= height || site[2] < 0 ||
              site[2] >= width || !isCandidate.emplace(site, true).second)
            continue;
          candidates.push_back(site);
        }
    }
  }

  // Outputs: the candidates, or their halved sites in first-occurrence
  // order with stride 2.
  std::vector<Site> outputs;
  if (stride == 1) {
    outputs = candidates;
  } else {
    std::map<Site, bool> seen;
    for (const Site &site : candidates) {
      Site halved{site[0], site[1] / 2, site[2] / 2};
      if (seen.emplace(halved, true).second)
        outputs.push_back(halved);
    }
  }

  int64_t m = outputs.size();
  EvalTensor accumulator(ArrayRef<int64_t>{m, cout});
  for (int64_t o = 0; o < m; ++o)
    for (int64_t ky = 0; ky < kernel; ++ky)
      for (int64_t kx = 0; kx < kernel; ++kx) {
        auto it = inputRows.find({outputs[o][0],
                                  stride * outputs[o][1] + ky - radius,
                                  stride * outputs[o][2] + kx - radius});
        if (it == inputRows.end())
          continue;
        for (int64_t c = 0; c < cin; ++c) {
          double v = features->data[it->second * cin + c];
          for (int64_t n = 0; n < cout; ++n)
            accumulator.data[o * cout + n] +=
                v * weight->data[((ky * kernel + kx) * cin + c) * cout + n];
        }
      }
  FailureOr<EvalTensor> result = finishEpilogue(
      operation, std::move(accumulator),
      operandValue(operation, operands, op.getBias()), 1, Activation::none);
  if (failed(result))
    return failure();

  EvalTensor outputCoords(ArrayRef<int64_t>{m, 3});
  for (int64_t o = 0; o < m; ++o)
    for (int64_t d = 0; d < 3; ++d)
      outputCoords.data[3 * o + d] = outputs[o][d];
  Results results;
  results.push_back(std::move(*result));
  results.push_back(std::move(outputCoords));
  return results;
}
