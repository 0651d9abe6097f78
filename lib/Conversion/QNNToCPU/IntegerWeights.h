//===- IntegerWeights.h - constant integer weights --------------*- C++ -*-===//
//
// Constant integer weights read into the unpacked form of the kernel
// contract (include/quant/Runtime/UKernels.h, GpuKernels.h: codes, scales,
// zero points) and packed at compile time in the CPU or GPU layout.
// Shared by the qnn op lowerings of lib/Conversion/QNNToCPU.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_LIB_CONVERSION_QNNTOCPU_INTEGERWEIGHTS_H
#define QUANT_LIB_CONVERSION_QNNTOCPU_INTEGERWEIGHTS_H

#include "quant/Conversion/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LLVM.h"

#include <cstdint>
#include <vector>

namespace mlir {
namespace qnn {

/// Integer weights [K, N] as codes, scales and zero points, ready to pack.
struct IntegerWeights {
  int64_t rows = 0, cols = 0, groups = 1;
  unsigned bits = 8;
  std::vector<uint8_t> codes;      // [K][N]
  std::vector<float> scales;       // [G][N]
  std::vector<int32_t> zeroPoints; // [G][N]

  /// The columns `columns` at `newBits`: codes and zero points are
  /// re-biased when signed storage moves to a narrower width.
  IntegerWeights selectColumns(ArrayRef<int64_t> columns, unsigned newBits,
                               bool isSigned) const;

  /// For K made of `positions` runs of the same channels (a convolution's
  /// kernel positions): scale groups along the channels repeat in every
  /// run, so that groups stay contiguous along K. Per-channel scales (one
  /// group) stay one group over all of K.
  void repeatGroups(int64_t positions);
};

/// Reads integer weights `weight` [.., K, N]-shaped through `index(k, n)`
/// (the flat position of element (k, n) in the constant) with [G, N]
/// scales and optional zero points. Fails silently when they are not
/// constants (checkIntegerWeights reports that).
FailureOr<IntegerWeights>
readIntegerWeights(Operation *op, Value weight, Value scales, Value zeroPoints,
                   int64_t rows, int64_t cols,
                   function_ref<int64_t(int64_t, int64_t)> index);

/// The packed blob of `weights` in the layout of `target`'s kernels
/// (qr_uk_pack_weights or qr_gpu_pack_weights), or an error on `op`.
FailureOr<std::vector<char>>
packWeightBytes(Operation *op, const IntegerWeights &weights,
                KernelTarget target = KernelTarget::cpu);

/// The packed blob of `weights` as an i8 constant.
FailureOr<Value> packWeights(OpBuilder &b, Location loc, Operation *op,
                             const IntegerWeights &weights,
                             KernelTarget target = KernelTarget::cpu);

/// Integer weights must be constants the compiler can pack, at a width
/// `target`'s kernels unpack.
LogicalResult checkIntegerWeights(Operation *op, Value weight, Value scales,
                                  Value zeroPoints,
                                  KernelTarget target = KernelTarget::cpu);

/// The GPU weight layout (GpuKernels.h) packs 64 k at a time: a group is all
/// of K or a multiple of 64. `groups` groups of `depth / groups` along K.
LogicalResult checkGpuGroups(Operation *op, int64_t depth, int64_t groups);

} // namespace qnn
} // namespace mlir

#endif // QUANT_LIB_CONVERSION_QNNTOCPU_INTEGERWEIGHTS_H
