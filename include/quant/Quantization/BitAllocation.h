//===- BitAllocation.h - HAWQ-V3-style bit allocation by ILP ----*- C++ -*-===//
//
// The MLIR-free core of `--qnn-allocate-bits`: choose one bit-width per layer
// from its candidates so that the summed sensitivity-weighted quantization
// error Σ Ω_l(b) is minimal subject to optional model-size, BOPs and latency
// budgets, and so that layers in a shared group (e.g. q/k/v) take the same
// bit-width. The problem is a multiple-choice knapsack with side constraints;
// it is solved exactly as a 0/1 integer linear program with COIN-OR CBC:
//
//   minimise    Σ_l Σ_b Ω_l(b) · x_{l,b}
//   subject to  Σ_b x_{l,b} = 1                       for every layer l
//               Σ_l Σ_b sizeBytes_l(b) · x_{l,b} ≤ sizeBudgetBytes   (if set)
//               Σ_l Σ_b bops_l(b)      · x_{l,b} ≤ bopsBudget        (if set)
//               Σ_l Σ_b latency_l(b)   · x_{l,b} ≤ latencyBudget     (if set)
//               x_{l,b} = x_{m,b'}  for l, m in one shared group, bits equal
//               x_{l,b} ∈ {0, 1}
//
//===----------------------------------------------------------------------===//

#ifndef QUANT_QUANTIZATION_BITALLOCATION_H
#define QUANT_QUANTIZATION_BITALLOCATION_H

#include "quant/Quantization/Matrix.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace quant {

/// One bit-width a layer may take, with what it costs.
struct BitCandidate {
  unsigned bits = 0;
  /// Ω_l(b) = sensitivity_l · ‖Q_b(W_l) − W_l‖², the term minimised.
  double cost = 0;
  /// Weight storage at this bit-width, bytes.
  double sizeBytes = 0;
  /// Bit operations: MACs_l · bits · activation bits.
  double bops = 0;
  /// Measured or modelled latency; < 0 means unknown, which is an error only
  /// when a latency budget is set.
  double latency = -1;
};

struct LayerChoices {
  std::string name;
  std::vector<BitCandidate> candidates;
};

struct AllocationProblem {
  std::vector<LayerChoices> layers;
  std::optional<double> sizeBudgetBytes, bopsBudget, latencyBudget;
  /// Layer indices that must take the same bit-width. Every layer of a group
  /// must offer the same set of candidate bit-widths (validated).
  std::vector<std::vector<size_t>> sharedGroups;
  double timeLimitSeconds = 60;
};

enum class AllocationStatus {
  Optimal,
  Infeasible,
  /// The time limit was hit: `choice` is the best allocation found (within
  /// the budgets) but not proven optimal, or empty when none was found in
  /// time (`message` says which).
  TimeLimit,
  /// Invalid problem or solver failure; `message` says what.
  Error,
};

struct AllocationResult {
  AllocationStatus status = AllocationStatus::Error;
  /// Candidate index per layer (empty unless Optimal or TimeLimit). Its
  /// totals never exceed a budget by more than the 1e-9 relative tolerance.
  std::vector<size_t> choice;
  /// Totals of the chosen allocation.
  double objective = 0, sizeBytes = 0, bops = 0, latency = 0;
  double solveSeconds = 0;
  /// For Infeasible: which budget(s) and the minimum achievable value of
  /// each, e.g. "size budget 3.0 MiB is infeasible: the smallest model is
  /// 3.4 MiB"; for Error: what is wrong with the problem.
  std::string message;
};

/// Human-readable name of a status ("optimal", "infeasible", "time limit",
/// "error").
const char *toString(AllocationStatus status);

/// Solves the ILP exactly with COIN-OR CBC (binary x_{l,b}; budgets as ≤
/// constraints with a relative tolerance of 1e-9, so that a budget equal to
/// an achievable total is feasible; shared groups as equalities of the
/// bit-width choice). Before calling CBC the problem is validated and each
/// budget's minimum achievable value is computed, so that an infeasible
/// budget is reported with that minimum.
AllocationResult solveWithCbc(const AllocationProblem &problem);

/// Exhaustive search over all allocations (respecting shared groups), for
/// tests on small instances: Error beyond 1e8 allocations. Same validation,
/// tolerance and messages as solveWithCbc; ties go to the allocation found
/// first.
AllocationResult solveByBruteForce(const AllocationProblem &problem);

/// Hutchinson estimate of trace(H) for H = XᵀX (x: tokens × K) without
/// forming H: the average over `samples` (≥ 1) Rademacher vectors
/// v ∈ {±1}^K of vᵀHv = ‖X v‖². Unbiased; one probe's variance is
/// 2 Σ_{i≠j} H_ij², so it is exact when X's columns are orthogonal. (For XᵀX
/// itself the exact trace ‖X‖²_F costs as much as one probe; the estimator is
/// for Hessians available only as products, and for checking them.)
double hutchinsonTrace(const Matrix &x, int samples, uint64_t seed);

} // namespace quant

#endif // QUANT_QUANTIZATION_BITALLOCATION_H
