#pragma once
// Train/validation/test splits of a cohort view: by fractions, grouped (no value of the group key
// in two splits), stratified by another key as far as the groups allow, seeded and deterministic
// (own RNG: the same seed gives the same split on every platform).
//
// Grouped: groups (all cells sharing a group value; missing values form one group) are shuffled
//   with the seed, ordered largest first (ties in shuffled order) and each is placed in the split
//   that most lowers a cost: the chi-square distance of the split sizes from their targets
//   (weighted by the number of strata) plus that of the split x stratum counts from
//   fraction x stratum size. Then single-group moves and pairwise swaps between splits are
//   tried until none lowers the cost. With require_nonempty, a split left empty while there are
//   at least as many groups as splits takes the group whose move costs least. This runs
//   `restarts` times (later runs place the groups in random order) and keeps the cheapest; with
//   few groups (splits^groups <= exhaustive_limit) every assignment is tried instead.
// Ungrouped: each stratum (or all cells) is shuffled and cut by largest remainder, remainders
//   given to the splits furthest below their overall targets, so sizes are within a cell or two
//   of fraction x n.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct SplitFraction {
    std::string name;
    double fraction = 0.0;
    bool operator==(const SplitFraction&) const = default;
};

/// "train=0.8,validation=0.1,test=0.1" -> fractions. Throws InvalidArgument on bad syntax,
/// duplicate or empty names, fractions <= 0, or a sum that is not 1 (within 1e-6).
std::vector<SplitFraction> parse_split_fractions(const std::string& text);
/// The inverse, with up to 6 significant digits.
std::string format_split_fractions(const std::vector<SplitFraction>& fractions);

struct SplitOptions {
    std::vector<SplitFraction> fractions = {{"train", 0.8}, {"validation", 0.1}, {"test", 0.1}};
    /// obs column whose values must not cross splits (donor, sample, batch). "" = split cells.
    std::string group_key;
    /// obs column whose proportions each split should keep (cell type). "" = none.
    std::string stratify_key;
    uint64_t seed = 0;
    /// Grouped: give every split at least one group when there are enough groups.
    bool require_nonempty = true;
    /// Grouped: passes of move/swap refinement (each pass is O(groups^2 x splits^2) for swaps;
    /// swaps are skipped above 2000 groups).
    int refine_passes = 20;
    /// Grouped: greedy + refinement runs (the first largest-first, then random orders); the
    /// cheapest wins. Above 500 groups one run is made.
    int restarts = 8;
    /// Grouped: when splits^groups is at most this, every assignment is tried instead.
    int64_t exhaustive_limit = 200000;
    RunControl control;
};

struct SplitResults {
    std::vector<std::string> names;  // split names in the order asked
    std::vector<double> requested_fractions;
    /// Per split: positions within the input view, increasing.
    std::vector<std::vector<int64_t>> positions;
    /// Per cell of the view: index of its split.
    std::vector<int32_t> assignment;
    std::string group_key, stratify_key;
    uint64_t seed = 0;
    /// Per split: the group values it holds (grouped splits only), sorted.
    std::vector<std::vector<std::string>> groups;
    /// Stratified splits: the strata and the cells of each per split ([split][stratum]).
    std::vector<std::string> strata;
    std::vector<std::vector<int64_t>> strata_counts;
    /// Things the user should know ("3 groups for 3 splits: fractions cannot be met", ...).
    std::vector<std::string> warnings;

    int64_t size(size_t split) const { return static_cast<int64_t>(positions[split].size()); }
    int64_t total() const { return static_cast<int64_t>(assignment.size()); }
    /// size / total per split (0 when empty).
    std::vector<double> achieved_fractions() const;
    /// The view of one split (narrowing `view`, the view that was split).
    CohortView split_view(const CohortView& view, size_t split) const;

    /// {"names", "requested_fractions", "achieved_fractions", "n_obs": {name: n},
    ///  "group_key", "stratify_key", "seed", "groups": {name: [...]}, "warnings",
    ///  "strata": {name: {stratum: n}} when stratified}
    nlohmann::json to_json() const;
};

/// Throws InvalidArgument for bad fractions or an unknown group/stratify column.
SplitResults split_cohort(const CohortView& view, const SplitOptions& options = {});

/// Everything in one split called `name` (no --split): lets the leakage report and the export
/// treat both cases alike.
SplitResults single_split(const CohortView& view, const std::string& name = "subset");

}  // namespace transcura
