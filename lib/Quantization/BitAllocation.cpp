//===- BitAllocation.cpp - HAWQ-V3-style bit allocation by ILP ------------===//
//
// The ILP is handed to COIN-OR CBC through its C API. Everything CBC does not
// need to know is done here, in exact double arithmetic on the caller's data:
// validation, each budget's minimum achievable value (for the infeasibility
// message, and so that a budget that alone is infeasible never reaches the
// solver), and the totals of the rounded solution, which are checked against
// the budgets because CBC accepts rows violated by up to its own feasibility
// tolerance.
//
//===----------------------------------------------------------------------===//

#include "quant/Quantization/BitAllocation.h"

#include <coin/Cbc_C_Interface.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>

namespace quant {

namespace {

/// A budget equal to an achievable total must be feasible although the
/// caller's total and ours may be summed in different orders.
constexpr double kBudgetRelativeTolerance = 1e-9;

/// Brute force refuses problems with more allocations than this.
constexpr double kBruteForceMaxAllocations = 1e8;

/// Solves again with a tighter row when CBC's rounded solution exceeds a
/// budget by more than the tolerance, at most this many times.
constexpr int kMaxBudgetRepairs = 3;

/// CBC's budget rows allow this much more (relative) than the budget.
/// With only kBudgetRelativeTolerance, CBC 2.10 proved infeasible an
/// instance whose one feasible allocation meets a budget exactly (1e-8
/// still did, 1e-7 does not); what CBC returns beyond
/// kBudgetRelativeTolerance is sent back by the repair above.
constexpr double kCbcRowRelativeSlack = 1e-7;

double budgetLimit(double budget,
                   double relativeTolerance = kBudgetRelativeTolerance) {
  return budget + relativeTolerance * std::fabs(budget);
}

enum class Metric { Size, Bops, Latency };

struct Budget {
  Metric metric;
  double value;
};

double metricOf(const BitCandidate &candidate, Metric metric) {
  switch (metric) {
  case Metric::Size:
    return candidate.sizeBytes;
  case Metric::Bops:
    return candidate.bops;
  case Metric::Latency:
    return candidate.latency;
  }
  return 0;
}

/// The budgets that constrain anything; +inf is no constraint.
std::vector<Budget> activeBudgets(const AllocationProblem &problem) {
  std::vector<Budget> budgets;
  auto add = [&](Metric metric, const std::optional<double> &value) {
    if (value && !(std::isinf(*value) && *value > 0))
      budgets.push_back({metric, *value});
  };
  add(Metric::Size, problem.sizeBudgetBytes);
  add(Metric::Bops, problem.bopsBudget);
  add(Metric::Latency, problem.latencyBudget);
  return budgets;
}

struct Totals {
  double objective = 0, sizeBytes = 0, bops = 0, latency = 0;

  double of(Metric metric) const {
    switch (metric) {
    case Metric::Size:
      return sizeBytes;
    case Metric::Bops:
      return bops;
    case Metric::Latency:
      return latency;
    }
    return 0;
  }
};

/// Sums in layer order, so that CBC's answer and brute force's are compared
/// on identically rounded totals.
Totals totalsOf(const AllocationProblem &problem,
                const std::vector<size_t> &choice) {
  Totals totals;
  for (size_t l = 0; l < problem.layers.size(); ++l) {
    const BitCandidate &candidate = problem.layers[l].candidates[choice[l]];
    totals.objective += candidate.cost;
    totals.sizeBytes += candidate.sizeBytes;
    totals.bops += candidate.bops;
    totals.latency += candidate.latency;
  }
  return totals;
}

bool withinBudgets(const Totals &totals, const std::vector<Budget> &budgets) {
  return std::all_of(budgets.begin(), budgets.end(), [&](const Budget &b) {
    return totals.of(b.metric) <= budgetLimit(b.value);
  });
}

void fillTotals(AllocationResult &result, const Totals &totals) {
  result.objective = totals.objective;
  result.sizeBytes = totals.sizeBytes;
  result.bops = totals.bops;
  result.latency = totals.latency;
}

//===----------------------------------------------------------------------===//
// Validation and the structure of shared groups
//===----------------------------------------------------------------------===//

/// Layers tied together by shared groups (transitively: a layer in two groups
/// ties both), each with the joint choices it can take. An ungrouped layer is
/// a unit of its own whose options are its candidates.
struct TiedUnit {
  std::vector<size_t> layers;
  /// options[o][i]: candidate index of layers[i] in joint option o.
  std::vector<std::vector<size_t>> options;
};

std::string layerLabel(const AllocationProblem &problem, size_t layer) {
  const std::string &name = problem.layers[layer].name;
  return "layer " + std::to_string(layer) +
         (name.empty() ? std::string() : " '" + name + "'");
}

std::string bitSetString(const std::vector<unsigned> &bits) {
  std::string text = "{";
  for (size_t i = 0; i < bits.size(); ++i)
    text += (i ? ", " : "") + std::to_string(bits[i]);
  return text + "}";
}

std::vector<unsigned> sortedBits(const LayerChoices &layer) {
  std::vector<unsigned> bits;
  for (const BitCandidate &candidate : layer.candidates)
    bits.push_back(candidate.bits);
  std::sort(bits.begin(), bits.end());
  return bits;
}

/// Checks the problem and splits it into tied units; returns an error message
/// when the problem is malformed.
std::optional<std::string> analyse(const AllocationProblem &problem,
                                   std::vector<TiedUnit> &units) {
  const size_t numLayers = problem.layers.size();
  bool latencyBudgeted = problem.latencyBudget.has_value();
  for (const auto &[budget, label] :
       {std::pair{problem.sizeBudgetBytes, "size"},
        std::pair{problem.bopsBudget, "BOPs"},
        std::pair{problem.latencyBudget, "latency"}})
    if (budget && std::isnan(*budget))
      return std::string(label) + " budget is NaN";
  if (!(problem.timeLimitSeconds > 0)) {
    std::ostringstream message;
    message << "time limit must be positive, got " << problem.timeLimitSeconds
            << " s";
    return message.str();
  }

  for (size_t l = 0; l < numLayers; ++l) {
    const LayerChoices &layer = problem.layers[l];
    if (layer.candidates.empty())
      return layerLabel(problem, l) + " has no candidate bit-widths";
    for (const BitCandidate &c : layer.candidates) {
      std::string where =
          layerLabel(problem, l) + " at " + std::to_string(c.bits) + " bits";
      if (!std::isfinite(c.cost) || !std::isfinite(c.sizeBytes) ||
          !std::isfinite(c.bops) || !std::isfinite(c.latency))
        return where + " has a non-finite cost, size, BOPs or latency";
      if (latencyBudgeted && c.latency < 0)
        return where + " has no latency, but a latency budget is set";
    }
  }

  // Union-find over layers, joined by the groups.
  std::vector<size_t> parent(numLayers);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](size_t l) {
    while (parent[l] != l)
      l = parent[l] = parent[parent[l]];
    return l;
  };
  for (size_t g = 0; g < problem.sharedGroups.size(); ++g) {
    const std::vector<size_t> &group = problem.sharedGroups[g];
    for (size_t member : group)
      if (member >= numLayers)
        return "shared group " + std::to_string(g) + " names layer " +
               std::to_string(member) + " but there are only " +
               std::to_string(numLayers) + " layers";
    for (size_t i = 1; i < group.size(); ++i)
      parent[find(group[i])] = find(group[0]);
  }

  std::vector<size_t> unitOfRoot(numLayers, SIZE_MAX);
  units.clear();
  for (size_t l = 0; l < numLayers; ++l) {
    size_t root = find(l);
    if (unitOfRoot[root] == SIZE_MAX) {
      unitOfRoot[root] = units.size();
      units.emplace_back();
    }
    units[unitOfRoot[root]].layers.push_back(l);
  }

  for (TiedUnit &unit : units) {
    const LayerChoices &first = problem.layers[unit.layers.front()];
    if (unit.layers.size() == 1) {
      for (size_t c = 0; c < first.candidates.size(); ++c)
        unit.options.push_back({c});
      continue;
    }
    // Tied layers choose a bit-width, not a candidate, so each bit-width must
    // name exactly one candidate in every member.
    std::vector<unsigned> bits = sortedBits(first);
    for (size_t member : unit.layers) {
      std::vector<unsigned> memberBits = sortedBits(problem.layers[member]);
      if (std::adjacent_find(memberBits.begin(), memberBits.end()) !=
          memberBits.end())
        return layerLabel(problem, member) +
               " is in a shared group but offers a bit-width twice: " +
               bitSetString(memberBits);
      if (memberBits != bits)
        return layerLabel(problem, unit.layers.front()) + " and " +
               layerLabel(problem, member) +
               " must share a bit-width but offer different ones: " +
               bitSetString(bits) + " vs " + bitSetString(memberBits);
    }
    for (unsigned b : bits) {
      std::vector<size_t> option;
      for (size_t member : unit.layers) {
        const auto &candidates = problem.layers[member].candidates;
        option.push_back(
            std::find_if(candidates.begin(), candidates.end(),
                         [&](const BitCandidate &c) { return c.bits == b; }) -
            candidates.begin());
      }
      unit.options.push_back(std::move(option));
    }
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Infeasibility diagnostics
//===----------------------------------------------------------------------===//

/// The smallest total of `metric` over all allocations that respect the
/// shared groups (budgets are separable, so per unit minima add up).
double minimumAchievable(const AllocationProblem &problem,
                         const std::vector<TiedUnit> &units, Metric metric) {
  double total = 0;
  for (const TiedUnit &unit : units) {
    double best = std::numeric_limits<double>::infinity();
    for (const std::vector<size_t> &option : unit.options) {
      double sum = 0;
      for (size_t i = 0; i < unit.layers.size(); ++i)
        sum += metricOf(problem.layers[unit.layers[i]].candidates[option[i]],
                        metric);
      best = std::min(best, sum);
    }
    total += best;
  }
  return total;
}

/// The two numbers printed with the fewest significant digits (at least 3)
/// that tell them apart.
std::pair<std::string, std::string> distinguishable(double a, double b) {
  char textA[64], textB[64];
  for (int digits = 3; digits <= 17; ++digits) {
    std::snprintf(textA, sizeof(textA), "%.*g", digits, a);
    std::snprintf(textB, sizeof(textB), "%.*g", digits, b);
    if (std::string(textA) != textB)
      break;
  }
  return {textA, textB};
}

/// "size budget 3 MiB" / "the smallest model is 3.4 MiB" with both numbers
/// printed precisely enough to differ.
std::pair<std::string, std::string> describe(Metric metric, double budget,
                                             double minimum) {
  constexpr double kMiB = 1024.0 * 1024.0;
  switch (metric) {
  case Metric::Size: {
    auto [b, m] = distinguishable(budget / kMiB, minimum / kMiB);
    return {"size budget " + b + " MiB", "the smallest model is " + m + " MiB"};
  }
  case Metric::Bops: {
    auto [b, m] = distinguishable(budget, minimum);
    return {"BOPs budget " + b, "the fewest BOPs achievable are " + m};
  }
  case Metric::Latency: {
    auto [b, m] = distinguishable(budget, minimum);
    return {"latency budget " + b, "the lowest latency achievable is " + m};
  }
  }
  return {};
}

/// The message for budgets that are each infeasible alone, or nullopt when
/// every budget alone is feasible.
std::optional<std::string>
singleBudgetInfeasibility(const AllocationProblem &problem,
                          const std::vector<TiedUnit> &units,
                          const std::vector<Budget> &budgets) {
  std::string message;
  for (const Budget &budget : budgets) {
    double minimum = minimumAchievable(problem, units, budget.metric);
    if (minimum <= budgetLimit(budget.value))
      continue;
    auto [budgetText, minimumText] =
        describe(budget.metric, budget.value, minimum);
    message += (message.empty() ? "" : "; ") + budgetText +
               " is infeasible: " + minimumText;
  }
  if (message.empty())
    return std::nullopt;
  return message;
}

std::string jointInfeasibility(const AllocationProblem &problem,
                               const std::vector<TiedUnit> &units,
                               const std::vector<Budget> &budgets) {
  std::string message = "the budgets are infeasible together although each "
                        "alone is feasible:";
  for (size_t i = 0; i < budgets.size(); ++i) {
    double minimum = minimumAchievable(problem, units, budgets[i].metric);
    auto [budgetText, minimumText] =
        describe(budgets[i].metric, budgets[i].value, minimum);
    message += (i ? "; " : " ") + budgetText + " (" + minimumText + ")";
  }
  return message;
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

//===----------------------------------------------------------------------===//
// CBC
//===----------------------------------------------------------------------===//

/// Owns a Cbc_Model.
struct CbcModelDeleter {
  void operator()(Cbc_Model *model) const { Cbc_deleteModel(model); }
};
using CbcModelPtr = std::unique_ptr<Cbc_Model, CbcModelDeleter>;

struct CbcOutcome {
  enum Kind {
    Optimal,
    Infeasible,
    TimeLimitWithSolution,
    TimeLimitEmpty,
    Failed
  };
  Kind kind = Failed;
  std::vector<size_t> choice;
  std::string failure;
};

/// Brings a budget row to order one: divides by the budget, or for a zero
/// budget by the largest coefficient.
double budgetRowScale(const AllocationProblem &problem, const Budget &budget) {
  double magnitude = std::fabs(budget.value);
  if (magnitude == 0)
    for (const LayerChoices &layer : problem.layers)
      for (const BitCandidate &c : layer.candidates)
        magnitude = std::max(magnitude, std::fabs(metricOf(c, budget.metric)));
  return magnitude > 0 ? 1 / magnitude : 1;
}

/// Which candidates can be part of an allocation within the budgets, by a
/// bound: a unit's option is dropped when, with every other unit at its
/// minimum, it alone would break a budget. Returns nullopt when some unit is
/// left with no option (the budgets are infeasible together).
///
/// Besides shrinking the ILP, this keeps out of CBC the columns that can
/// never fit, e.g. 16-bit candidates under a tight size budget: such a
/// column was what led CBC 2.10's preprocessing (now off) to report a
/// suboptimal allocation as optimal.
std::optional<std::vector<std::vector<bool>>>
viableCandidates(const AllocationProblem &problem,
                 const std::vector<TiedUnit> &units,
                 const std::vector<Budget> &budgets) {
  std::vector<std::vector<bool>> viable(problem.layers.size());
  for (size_t l = 0; l < problem.layers.size(); ++l)
    viable[l].assign(problem.layers[l].candidates.size(), false);

  auto optionTotal = [&](const TiedUnit &unit, size_t option, Metric metric) {
    double sum = 0;
    for (size_t i = 0; i < unit.layers.size(); ++i)
      sum += metricOf(
          problem.layers[unit.layers[i]].candidates[unit.options[option][i]],
          metric);
    return sum;
  };
  // Per budget: each unit's minimum and the sum of the minima.
  std::vector<std::vector<double>> unitMinimum(budgets.size());
  std::vector<double> totalMinimum(budgets.size(), 0);
  for (size_t i = 0; i < budgets.size(); ++i)
    for (const TiedUnit &unit : units) {
      double best = std::numeric_limits<double>::infinity();
      for (size_t o = 0; o < unit.options.size(); ++o)
        best = std::min(best, optionTotal(unit, o, budgets[i].metric));
      unitMinimum[i].push_back(best);
      totalMinimum[i] += best;
    }

  for (size_t u = 0; u < units.size(); ++u) {
    bool anyViable = false;
    for (size_t o = 0; o < units[u].options.size(); ++o) {
      bool fits = true;
      for (size_t i = 0; i < budgets.size() && fits; ++i) {
        double lowerBound = totalMinimum[i] - unitMinimum[i][u] +
                            optionTotal(units[u], o, budgets[i].metric);
        // Only drop what is out by a clear margin, so that summation order
        // never drops an option that fits; CBC decides the rest.
        double margin =
            1e-9 * (std::fabs(budgets[i].value) + std::fabs(totalMinimum[i]));
        fits = lowerBound <= budgetLimit(budgets[i].value) + margin;
      }
      if (!fits)
        continue;
      anyViable = true;
      for (size_t i = 0; i < units[u].layers.size(); ++i)
        viable[units[u].layers[i]][units[u].options[o][i]] = true;
    }
    if (!anyViable)
      return std::nullopt;
  }
  return viable;
}

/// Builds the ILP over the viable candidates, with each budget row's
/// right-hand side lowered by `budgetTightening[i]` (in the row's scale),
/// and solves it.
CbcOutcome solveOnce(const AllocationProblem &problem,
                     const std::vector<Budget> &budgets,
                     const std::vector<std::vector<bool>> &viable,
                     const std::vector<double> &budgetTightening,
                     double timeLimitSeconds) {
  const size_t numLayers = problem.layers.size();
  // columnOf[l][c]: CBC column of candidate c of layer l, or -1.
  std::vector<std::vector<int>> columnOf(numLayers);
  std::vector<std::pair<size_t, size_t>> candidateOf;
  for (size_t l = 0; l < numLayers; ++l)
    for (size_t c = 0; c < problem.layers[l].candidates.size(); ++c) {
      columnOf[l].push_back(viable[l][c] ? static_cast<int>(candidateOf.size())
                                         : -1);
      if (viable[l][c])
        candidateOf.push_back({l, c});
    }
  const size_t numColumns = candidateOf.size();

  // Rows: one assignment row per layer, then the budgets, then the ties.
  // CBC's tolerances are absolute, so every budget row is scaled to order
  // one. The objective is scaled so that its largest coefficient is
  // kObjectiveMagnitude: CBC 2.10 still applied a cutoff increment of 1e-5
  // despite "increment 1e-10" and returned allocations 1e-5 (of max |Ω|)
  // worse than brute force; at this magnitude such differences are
  // decisive. The solution's totals are recomputed unscaled.
  constexpr double kObjectiveMagnitude = 1e6;
  double costScale = 0;
  for (const auto &[l, c] : candidateOf)
    costScale =
        std::max(costScale, std::fabs(problem.layers[l].candidates[c].cost));
  costScale = costScale > 0 ? kObjectiveMagnitude / costScale : 1;

  std::vector<std::vector<std::pair<int, double>>> columns(numColumns);
  std::vector<double> rowLower, rowUpper;
  const double infinity = std::numeric_limits<double>::max();
  for (size_t l = 0; l < numLayers; ++l) {
    for (int column : columnOf[l])
      if (column >= 0)
        columns[column].push_back({static_cast<int>(rowLower.size()), 1.0});
    rowLower.push_back(1);
    rowUpper.push_back(1);
  }
  for (size_t i = 0; i < budgets.size(); ++i) {
    const Budget &budget = budgets[i];
    double rowScale = budgetRowScale(problem, budget);
    int row = static_cast<int>(rowLower.size());
    std::vector<double> smallestPerLayer(numLayers, infinity);
    for (size_t column = 0; column < numColumns; ++column) {
      auto [l, c] = candidateOf[column];
      double value =
          metricOf(problem.layers[l].candidates[c], budget.metric) * rowScale;
      smallestPerLayer[l] = std::min(smallestPerLayer[l], value);
      if (value != 0)
        columns[column].push_back({row, value});
    }
    // Every allocation's total is at least the sum of the per-layer minima;
    // a finite lower bound matters because an infinite one trips an
    // assertion in Debian's CLP 1.17 dual simplex
    // (ClpSimplexDual::updateDualsInDual) on some instances.
    double smallestTotal = 0;
    for (double smallest : smallestPerLayer)
      if (std::isfinite(smallest))
        smallestTotal += smallest;
    rowLower.push_back(smallestTotal - 1e-9 * (1 + std::fabs(smallestTotal)));
    rowUpper.push_back(budgetLimit(budget.value, kCbcRowRelativeSlack) *
                           rowScale -
                       budgetTightening[i]);
  }
  for (const std::vector<size_t> &group : problem.sharedGroups)
    for (size_t i = 1; i < group.size(); ++i) {
      size_t leader = group[0], member = group[i];
      if (member == leader)
        continue;
      // x_{leader,b} − x_{member,b} = 0 for every bit-width b; validation
      // guarantees each b names exactly one candidate in both, and the
      // viability bound keeps or drops a bit-width for the whole group.
      for (size_t a = 0; a < problem.layers[leader].candidates.size(); ++a)
        for (size_t b = 0; b < problem.layers[member].candidates.size(); ++b) {
          if (problem.layers[leader].candidates[a].bits !=
                  problem.layers[member].candidates[b].bits ||
              columnOf[leader][a] < 0)
            continue;
          assert(columnOf[member][b] >= 0 && "ties are dropped together");
          int row = static_cast<int>(rowLower.size());
          columns[columnOf[leader][a]].push_back({row, 1.0});
          columns[columnOf[member][b]].push_back({row, -1.0});
          rowLower.push_back(0);
          rowUpper.push_back(0);
        }
    }

  std::vector<CoinBigIndex> starts{0};
  std::vector<int> indices;
  std::vector<double> values, objective, columnLower(numColumns, 0),
      columnUpper(numColumns, 1);
  for (const auto &[l, c] : candidateOf)
    objective.push_back(problem.layers[l].candidates[c].cost * costScale);
  for (const auto &column : columns) {
    for (const auto &[row, value] : column) {
      indices.push_back(row);
      values.push_back(value);
    }
    starts.push_back(static_cast<CoinBigIndex>(indices.size()));
  }

  CbcModelPtr model(Cbc_newModel());
  Cbc_loadProblem(model.get(), static_cast<int>(numColumns),
                  static_cast<int>(rowLower.size()), starts.data(),
                  indices.data(), values.data(), columnLower.data(),
                  columnUpper.data(), objective.data(), rowLower.data(),
                  rowUpper.data());
  for (size_t c = 0; c < numColumns; ++c)
    Cbc_setInteger(model.get(), static_cast<int>(c));
  Cbc_setObjSense(model.get(), 1); // minimise
  Cbc_setLogLevel(model.get(), 0);
  if (std::isfinite(timeLimitSeconds))
    Cbc_setMaximumSeconds(model.get(), timeLimitSeconds);
  // Prove optimality rather than stop at CBC's defaults: an allowable gap of
  // 1e-10 and, above all, a cutoff increment of 1e-5, with which CBC only
  // accepts solutions that improve the incumbent by 1e-5 and so returned
  // allocations 1e-4 (relative) worse than brute force on random instances.
  // With the objective scaled to max |Ω| = 1e6, 1e-10 is far below any
  // difference in quantization error that matters.
  Cbc_setAllowableGap(model.get(), 1e-10);
  Cbc_setAllowableFractionGap(model.get(), 0);
  Cbc_setParameter(model.get(), "increment", "1e-10");
  // CBC 2.10's preprocessing (CglPreProcess) fixed variables wrongly on
  // 4-layer instances and reported a worse allocation as optimal (similar
  // reports: coin-or/Cbc#293, #283); here it only costs time anyway.
  Cbc_setParameter(model.get(), "preprocess", "off");
  // The feasibility pump's mini branch-and-bound took 70% of the time with
  // its default passes; one pass still finds an incumbent the tight LP bound
  // of a multiple-choice knapsack closes in a few nodes.
  Cbc_setParameter(model.get(), "passFeasibilityPump", "1");

  Cbc_solve(model.get());

  CbcOutcome outcome;
  auto readChoice = [&](const double *solution) {
    outcome.choice.assign(numLayers, 0);
    for (size_t l = 0; l < numLayers; ++l) {
      size_t chosen = SIZE_MAX, count = 0;
      for (size_t c = 0; c < columnOf[l].size(); ++c)
        if (columnOf[l][c] >= 0 && solution[columnOf[l][c]] > 0.5) {
          chosen = c;
          ++count;
        }
      if (count != 1) {
        outcome.failure = "CBC's solution picks " + std::to_string(count) +
                          " candidates for " + layerLabel(problem, l);
        return false;
      }
      outcome.choice[l] = chosen;
    }
    return true;
  };

  if (Cbc_isProvenOptimal(model.get())) {
    const double *solution = Cbc_bestSolution(model.get());
    if (!solution)
      solution = Cbc_getColSolution(model.get());
    outcome.kind =
        readChoice(solution) ? CbcOutcome::Optimal : CbcOutcome::Failed;
    return outcome;
  }
  if (Cbc_isProvenInfeasible(model.get())) {
    outcome.kind = CbcOutcome::Infeasible;
    return outcome;
  }
  if (Cbc_isSecondsLimitReached(model.get())) {
    const double *solution = Cbc_bestSolution(model.get());
    if (!solution) {
      outcome.kind = CbcOutcome::TimeLimitEmpty;
      return outcome;
    }
    outcome.kind = readChoice(solution) ? CbcOutcome::TimeLimitWithSolution
                                        : CbcOutcome::Failed;
    return outcome;
  }
  outcome.failure = "CBC stopped without a result (status " +
                    std::to_string(Cbc_status(model.get())) +
                    ", secondary status " +
                    std::to_string(Cbc_secondaryStatus(model.get())) + ")";
  return outcome;
}

} // namespace

const char *toString(AllocationStatus status) {
  switch (status) {
  case AllocationStatus::Optimal:
    return "optimal";
  case AllocationStatus::Infeasible:
    return "infeasible";
  case AllocationStatus::TimeLimit:
    return "time limit";
  case AllocationStatus::Error:
    return "error";
  }
  return "unknown";
}

AllocationResult solveWithCbc(const AllocationProblem &problem) {
  auto start = std::chrono::steady_clock::now();
  AllocationResult result;
  auto finish = [&](AllocationStatus status, std::string message = {}) {
    result.status = status;
    result.message = std::move(message);
    result.solveSeconds = secondsSince(start);
    return result;
  };

  std::vector<TiedUnit> units;
  if (std::optional<std::string> error = analyse(problem, units))
    return finish(AllocationStatus::Error, *error);
  std::vector<Budget> budgets = activeBudgets(problem);
  if (std::optional<std::string> message =
          singleBudgetInfeasibility(problem, units, budgets))
    return finish(AllocationStatus::Infeasible, *message);

  if (problem.layers.empty())
    return finish(AllocationStatus::Optimal); // nothing to allocate
  std::optional<std::vector<std::vector<bool>>> viable =
      viableCandidates(problem, units, budgets);
  if (!viable)
    return finish(AllocationStatus::Infeasible,
                  jointInfeasibility(problem, units, budgets));

  std::vector<double> tightening(budgets.size(), 0);
  for (int attempt = 0; attempt <= kMaxBudgetRepairs; ++attempt) {
    // A repeated solve gets what is left of the time limit.
    double secondsLeft = problem.timeLimitSeconds - secondsSince(start);
    CbcOutcome outcome =
        solveOnce(problem, budgets, *viable, tightening,
                  std::max(secondsLeft, 0.01 * problem.timeLimitSeconds));
    switch (outcome.kind) {
    case CbcOutcome::Failed:
      return finish(AllocationStatus::Error, outcome.failure);
    case CbcOutcome::Infeasible:
      return finish(AllocationStatus::Infeasible,
                    jointInfeasibility(problem, units, budgets));
    case CbcOutcome::TimeLimitEmpty: {
      std::ostringstream message;
      message << "the time limit of " << problem.timeLimitSeconds
              << " s was reached before CBC found a feasible allocation";
      return finish(AllocationStatus::TimeLimit, message.str());
    }
    case CbcOutcome::Optimal:
    case CbcOutcome::TimeLimitWithSolution:
      break;
    }

    Totals totals = totalsOf(problem, outcome.choice);
    bool repaired = false;
    for (size_t i = 0; i < budgets.size(); ++i) {
      double excess =
          totals.of(budgets[i].metric) - budgetLimit(budgets[i].value);
      if (excess <= 0)
        continue;
      // CBC accepted the row within its feasibility tolerance; ask again
      // with the row lowered by twice the overshoot (in the row's scale).
      tightening[i] += 2 * excess * budgetRowScale(problem, budgets[i]);
      repaired = true;
    }
    if (repaired)
      continue;

    result.choice = std::move(outcome.choice);
    fillTotals(result, totals);
    if (outcome.kind == CbcOutcome::Optimal)
      return finish(AllocationStatus::Optimal);
    std::ostringstream message;
    message << "the time limit of " << problem.timeLimitSeconds
            << " s was reached; the allocation is the best found, not proven "
               "optimal";
    return finish(AllocationStatus::TimeLimit, message.str());
  }
  return finish(AllocationStatus::Error,
                "CBC's allocations kept exceeding a budget beyond its "
                "feasibility tolerance");
}

AllocationResult solveByBruteForce(const AllocationProblem &problem) {
  auto start = std::chrono::steady_clock::now();
  AllocationResult result;
  auto finish = [&](AllocationStatus status, std::string message = {}) {
    result.status = status;
    result.message = std::move(message);
    result.solveSeconds = secondsSince(start);
    return result;
  };

  std::vector<TiedUnit> units;
  if (std::optional<std::string> error = analyse(problem, units))
    return finish(AllocationStatus::Error, *error);
  double allocations = 1;
  for (const TiedUnit &unit : units)
    allocations *= unit.options.size();
  if (allocations > kBruteForceMaxAllocations)
    return finish(AllocationStatus::Error,
                  "too many allocations for brute force (" +
                      std::to_string(allocations) + ")");

  std::vector<Budget> budgets = activeBudgets(problem);
  std::vector<size_t> optionOfUnit(units.size(), 0);
  std::vector<size_t> choice(problem.layers.size(), 0);
  std::optional<Totals> best;
  while (true) {
    for (size_t u = 0; u < units.size(); ++u)
      for (size_t i = 0; i < units[u].layers.size(); ++i)
        choice[units[u].layers[i]] = units[u].options[optionOfUnit[u]][i];
    Totals totals = totalsOf(problem, choice);
    if (withinBudgets(totals, budgets) &&
        (!best || totals.objective < best->objective)) {
      best = totals;
      result.choice = choice;
    }
    // Odometer over the units' options.
    size_t u = 0;
    while (u < units.size() && ++optionOfUnit[u] == units[u].options.size())
      optionOfUnit[u++] = 0;
    if (u == units.size())
      break;
  }

  if (!best) {
    std::optional<std::string> message =
        singleBudgetInfeasibility(problem, units, budgets);
    return finish(AllocationStatus::Infeasible,
                  message ? *message
                          : jointInfeasibility(problem, units, budgets));
  }
  fillTotals(result, *best);
  return finish(AllocationStatus::Optimal);
}

double hutchinsonTrace(const Matrix &x, int samples, uint64_t seed) {
  assert(samples > 0 && "Hutchinson needs at least one probe vector");
  std::mt19937_64 generator(seed);
  std::vector<double> probe(x.cols);
  double sum = 0;
  for (int s = 0; s < samples; ++s) {
    // One 64-bit draw gives 64 Rademacher signs.
    uint64_t bits = 0;
    for (int64_t k = 0; k < x.cols; ++k) {
      if (k % 64 == 0)
        bits = generator();
      probe[k] = (bits >> (k % 64)) & 1 ? 1.0 : -1.0;
    }
    // vᵀ XᵀX v = ‖X v‖².
    for (int64_t t = 0; t < x.rows; ++t) {
      const double *row = x.data.data() + t * x.cols;
      double dot = 0;
      for (int64_t k = 0; k < x.cols; ++k)
        dot += row[k] * probe[k];
      sum += dot * dot;
    }
  }
  return sum / samples;
}

} // namespace quant
