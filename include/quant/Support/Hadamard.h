//===- Hadamard.h - Hadamard matrices and fast transforms --------*- C++ -*-===//
//
// Hadamard matrices of order 2^k, 12·2^k, 20·2^k and 28·2^k, built as the
// Kronecker product H_{2^k} ⊗ H_b of a Sylvester matrix and a Paley base
// matrix H_b (b ∈ {12, 20, 28}), and the matching O(n log n) transform.
// Free of MLIR so that passes, the runtime and tests can share it.
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_SUPPORT_HADAMARD_H
#define QUANT_SUPPORT_HADAMARD_H

#include <cstdint>
#include <vector>

namespace quant {

/// Order `b` of the base matrix with `n = b · 2^k` (1 for powers of two,
/// 12, 20 or 28), or 0 when no Hadamard matrix of order `n` is supported.
int64_t hadamardBaseOrder(int64_t n);

inline bool isSupportedHadamardSize(int64_t n) {
  return hadamardBaseOrder(n) != 0;
}

/// The unnormalized ±1 Hadamard matrix of a supported order `n`, row-major,
/// with H·Hᵀ = n·I. Row/column index i = i_pow2 · b + i_base.
std::vector<int8_t> hadamardMatrix(int64_t n);

/// In place: x ← x · H / sqrt(n) for a contiguous vector of supported
/// length n, in O(n log n + n·b) operations.
void fastHadamardTransform(float *x, int64_t n);
void fastHadamardTransform(double *x, int64_t n);

} // namespace quant

#endif // QUANT_SUPPORT_HADAMARD_H
