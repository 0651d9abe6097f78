//===- MemRefCopy.cpp - strided copies for compiled models ----------------===//
//
// MLIR's memref-to-llvm conversion lowers a memref.copy between buffers
// with identity layouts to memcpy, and every other copy (into a subview,
// e.g. the interior of a padded tensor) to a call of `memrefCopy` with
// unranked descriptors — the function upstream ships in its C runner
// utilities. Compiled models link this runtime instead, so it lives here
// with the same ABI.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

/// MLIR's ranked descriptor, laid out as {allocated, aligned, offset,
/// sizes[rank], strides[rank]}.
struct StridedDescriptor {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizesAndStrides[];
};

struct UnrankedDescriptor {
  int64_t rank;
  StridedDescriptor *descriptor;
};

} // namespace

extern "C" void memrefCopy(int64_t elementSize, UnrankedDescriptor *source,
                           UnrankedDescriptor *target) {
  int64_t rank = source->rank;
  const StridedDescriptor &from = *source->descriptor;
  const StridedDescriptor &to = *target->descriptor;
  const int64_t *sizes = from.sizesAndStrides;
  const int64_t *fromStrides = from.sizesAndStrides + rank;
  const int64_t *toStrides = to.sizesAndStrides + rank;
  const char *in = from.aligned + from.offset * elementSize;
  char *out = to.aligned + to.offset * elementSize;
  for (int64_t d = 0; d < rank; ++d)
    if (sizes[d] == 0)
      return;
  if (rank == 0) {
    std::memcpy(out, in, elementSize);
    return;
  }
  // Rows of the innermost dimension are copied whole when both sides are
  // contiguous there; an odometer walks the outer dimensions.
  bool contiguousRows = fromStrides[rank - 1] == 1 && toStrides[rank - 1] == 1;
  int64_t rowElements = contiguousRows ? sizes[rank - 1] : 1;
  int64_t outerRank = contiguousRows ? rank - 1 : rank;
  constexpr int64_t kMaxRank = 64;
  if (outerRank > kMaxRank) {
    std::fprintf(stderr, "quant runtime: memrefCopy of rank %lld exceeds %lld\n",
                 static_cast<long long>(rank), static_cast<long long>(kMaxRank));
    std::abort();
  }
  int64_t index[kMaxRank] = {0};
  for (;;) {
    int64_t inOffset = 0, outOffset = 0;
    for (int64_t d = 0; d < outerRank; ++d) {
      inOffset += index[d] * fromStrides[d];
      outOffset += index[d] * toStrides[d];
    }
    std::memcpy(out + outOffset * elementSize, in + inOffset * elementSize,
                rowElements * elementSize);
    int64_t d = outerRank - 1;
    for (; d >= 0; --d) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
    if (d < 0)
      return;
  }
}
