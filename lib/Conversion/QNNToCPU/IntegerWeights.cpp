//===- IntegerWeights.cpp - constant integer weights ----------------------===//

#include "IntegerWeights.h"

#include "quant/Dialect/QNN/Transforms/ConstantUtils.h"
#include "quant/Runtime/GpuKernels.h"
#include "quant/Runtime/UKernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::qnn;

IntegerWeights IntegerWeights::selectColumns(ArrayRef<int64_t> columns,
                                             unsigned newBits,
                                             bool isSigned) const {
  IntegerWeights part;
  part.rows = rows;
  part.cols = columns.size();
  part.groups = groups;
  part.bits = newBits;
  int32_t shift = isSigned ? (1 << (bits - 1)) - (1 << (newBits - 1)) : 0;
  for (int64_t k = 0; k < rows; ++k)
    for (int64_t n : columns)
      part.codes.push_back(codes[k * cols + n] - shift);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t n : columns) {
      part.scales.push_back(scales[g * cols + n]);
      part.zeroPoints.push_back(zeroPoints[g * cols + n] - shift);
    }
  return part;
}

FailureOr<IntegerWeights>
qnn::readIntegerWeights(Operation *op, Value weight, Value scales,
                        Value zeroPoints, int64_t rows, int64_t cols,
                        function_ref<int64_t(int64_t, int64_t)> index) {
  IntegerWeights result;
  result.rows = rows;
  result.cols = cols;
  result.bits = getElementTypeOrSelf(weight.getType()).getIntOrFloatBitWidth();
  std::optional<std::vector<int64_t>> values = getConstantIntegerValues(weight);
  std::optional<std::vector<double>> scaleValues =
      scales ? getConstantFloatValues(scales) : std::nullopt;
  std::optional<std::vector<int64_t>> zeroValues =
      zeroPoints ? getConstantIntegerValues(zeroPoints) : std::nullopt;
  if (!values || !scaleValues || (zeroPoints && !zeroValues))
    return failure(); // reported by checkLowerable
  result.groups = static_cast<int64_t>(scaleValues->size()) / cols;
  uint64_t mask = (uint64_t(1) << result.bits) - 1;
  int32_t bias = zeroValues ? 0 : 1 << (result.bits - 1);
  auto code = [&](int64_t raw) -> int64_t {
    if (zeroValues)
      return static_cast<int64_t>(static_cast<uint64_t>(raw) & mask);
    // Signed storage: sign-extend from the storage width, then bias.
    int64_t shifted = static_cast<int64_t>(static_cast<uint64_t>(raw)
                                           << (64 - result.bits)) >>
                      (64 - result.bits);
    return shifted + bias;
  };
  result.codes.resize(rows * cols);
  for (int64_t k = 0; k < rows; ++k)
    for (int64_t n = 0; n < cols; ++n)
      result.codes[k * cols + n] = code((*values)[index(k, n)]);
  result.scales.assign(scaleValues->begin(), scaleValues->end());
  result.zeroPoints.resize(result.scales.size(), bias);
  if (zeroValues)
    for (size_t i = 0; i < zeroValues->size(); ++i)
      result.zeroPoints[i] =
          static_cast<int32_t>(static_cast<uint64_t>((*zeroValues)[i]) & mask);
  return result;
}

FailureOr<std::vector<char>> qnn::packWeightBytes(Operation *op,
                                                  const IntegerWeights &weights,
                                                  KernelTarget target) {
  bool gpu = target == KernelTarget::gpu;
  int64_t groupSize = weights.rows / weights.groups;
  size_t bytes = gpu ? qr_gpu_packed_weights_bytes(weights.bits, weights.rows,
                                                   weights.cols, groupSize)
                     : qr_uk_packed_weights_bytes(weights.bits, weights.rows,
                                                  weights.cols, groupSize);
  if (!bytes)
    return op->emitOpError("the ")
           << (gpu ? "GPU" : "CPU") << " kernels cannot pack " << weights.bits
           << "-bit weights of shape [" << weights.rows << ", " << weights.cols
           << "] in groups of " << groupSize;
  // 64-byte aligned scratch: the packers write vector-sized records.
  std::vector<uint64_t> storage((bytes + 7) / 8 + 8);
  auto *aligned = reinterpret_cast<char *>(
      (reinterpret_cast<uintptr_t>(storage.data()) + 63) & ~uintptr_t(63));
  int status =
      gpu ? qr_gpu_pack_weights(weights.bits, weights.rows, weights.cols,
                                groupSize, weights.codes.data(),
                                weights.scales.data(),
                                weights.zeroPoints.data(), aligned)
          : qr_uk_pack_weights(weights.bits, weights.rows, weights.cols,
                               groupSize, weights.codes.data(),
                               weights.scales.data(), weights.zeroPoints.data(),
                               aligned);
  if (status != 0)
    return op->emitOpError("weight codes or zero points do not fit ")
           << weights.bits << " bits";
  return std::vector<char>(aligned, aligned + bytes);
}

FailureOr<Value> qnn::packWeights(OpBuilder &b, Location loc, Operation *op,
                                  const IntegerWeights &weights,
                                  KernelTarget target) {
  FailureOr<std::vector<char>> bytes = packWeightBytes(op, weights, target);
  if (failed(bytes))
    return failure();
  auto type = RankedTensorType::get({static_cast<int64_t>(bytes->size())},
                                    b.getI8Type());
  auto attr = DenseElementsAttr::getFromRawBuffer(type, *bytes);
  return arith::ConstantOp::create(b, loc, type, attr).getResult();
}

/// Integer weights must be constants the compiler can pack, at a width the
/// kernels unpack.
LogicalResult qnn::checkIntegerWeights(Operation *op, Value weight,
                                       Value scales, Value zeroPoints,
                                       KernelTarget target) {
  bool gpu = target == KernelTarget::gpu;
  if (!getConstantIntegerValues(weight) || !scales ||
      !getConstantFloatValues(scales) ||
      (zeroPoints && !getConstantIntegerValues(zeroPoints)))
    return op->emitOpError("needs constant integer weights, scales and zero "
                           "points to pack them for the ")
           << (gpu ? "GPU" : "CPU");
  unsigned bits =
      getElementTypeOrSelf(weight.getType()).getIntOrFloatBitWidth();
  if (gpu && bits != 4 && bits != 8)
    return op->emitOpError("the GPU kernels take 4 and 8-bit weights, not ")
           << bits;
  if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
    return op->emitOpError("the CPU kernels take 2, 3, 4 and 8-bit weights, "
                           "not ")
           << bits;
  return success();
}

LogicalResult qnn::checkGpuGroups(Operation *op, int64_t depth,
                                  int64_t groups) {
  int64_t groupSize = groups > 0 ? depth / groups : 0;
  if (groups == 1 || (groupSize % 64 == 0 && groupSize > 0))
    return success();
  return op->emitOpError("the GPU kernels take per-channel weight scales or "
                         "groups of a multiple of 64 along K, not groups of ")
         << groupSize;
}

void IntegerWeights::repeatGroups(int64_t positions) {
  if (groups == 1)
    return;
  std::vector<float> repeatedScales;
  std::vector<int32_t> repeatedZeroPoints;
  for (int64_t position = 0; position < positions; ++position) {
    repeatedScales.insert(repeatedScales.end(), scales.begin(), scales.end());
    repeatedZeroPoints.insert(repeatedZeroPoints.end(), zeroPoints.begin(),
                              zeroPoints.end());
  }
  groups *= positions;
  scales = std::move(repeatedScales);
  zeroPoints = std::move(repeatedZeroPoints);
}
