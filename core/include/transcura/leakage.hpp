#pragma once
// Leakage report of a split: what could make a test score optimistic.
//
// 1. Groups shared between splits: values of the group key present in more than one split
//    (a grouped split guarantees none; the report checks it anyway, also for hand-made splits).
// 2. Identical count profiles across splits: each cell's sparse row (column indices and values,
//    explicit zeros dropped) is hashed (64-bit); cells whose hash matches a cell in another split
//    are compared exactly, so hash collisions never count. Cells without any count are ignored
//    (an empty profile is not evidence of duplication) and counted separately.
// 3. Batch predictability within each split: how well the batch key can be predicted from the
//    first PCs. Method: k-nearest-neighbour classifier (k = 15, Euclidean, majority vote, ties to
//    the nearest neighbour's class) in stratified k-fold cross-validation (5 folds, seeded),
//    on at most max_cells cells per split (a seeded random sample). Reported:
//    accuracy and balanced accuracy (mean per-batch recall) against chance (the majority share
//    and 1 / number of batches). Balanced accuracy near chance = batches mixed; near 1 = batch is
//    written all over the PCs. The PCs are obsm[embedding] when the cohort has it, else computed
//    on the exported cells (library-size normalisation to 1e4, log1p, 2000 seurat HVGs, PCA);
//    when neither is possible the entry is null with the reason.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"
#include "transcura/splits.hpp"

namespace transcura {

struct LeakageOptions {
    /// Group key checked for sharing ("" = not checked; the split's group key when exporting).
    std::string group_key;
    /// Batch key for predictability ("" = not computed).
    std::string batch_key;
    /// obsm key of the PCs; computed when absent and compute_pcs_if_missing.
    std::string embedding = "X_pca";
    bool compute_pcs_if_missing = true;
    /// PCs used (the first n of the embedding, or computed).
    int n_pcs = 30;
    int n_hvg = 2000;
    int n_neighbors = 15;
    int folds = 5;
    /// Cells per split used by the classifier (cost is quadratic in it).
    int64_t max_cells = 4000;
    /// Up to this many example pairs of duplicated profiles.
    int max_examples = 10;
    uint64_t seed = 0;
    RunControl control;
};

struct BatchPredictability {
    std::string split;
    bool computed = false;
    std::string reason;   // why not computed ("one batch only", "fewer than 10 cells", ...)
    int64_t n_cells = 0;  // cells used
    int n_batches = 0;
    double accuracy = 0, balanced_accuracy = 0;
    double chance_accuracy = 0, chance_balanced_accuracy = 0;
};

struct DuplicateExample {
    std::string cell_a, split_a, cell_b, split_b;
};

struct LeakageResults {
    std::string group_key;
    bool groups_checked = false;
    std::vector<std::string> shared_groups;  // must be empty for a grouped split

    int64_t duplicate_cells = 0;     // cells with an identical profile in another split
    int64_t duplicate_profiles = 0;  // distinct profiles present in two or more splits
    int64_t empty_profiles = 0;      // cells without counts, ignored
    std::vector<DuplicateExample> duplicate_examples;
    bool duplicates_checked = false;
    std::string duplicates_reason;  // when not checked (no X)

    std::string batch_key;
    std::string method;      // "knn-15 5-fold stratified CV on 30 PCs"
    std::string pcs_source;  // "obsm/X_pca" or "computed" or ""
    std::vector<BatchPredictability> batch_predictability;  // per split

    /// {"group_key", "groups_checked", "shared_groups", "duplicate_profiles": {"checked",
    ///  "cells", "profiles", "empty_profiles_ignored", "examples", "reason"},
    ///  "batch_predictability": {"batch_key", "method", "pcs", "per_split": {split: {...} | null},
    ///  "reasons": {split: reason}}}
    nlohmann::json to_json() const;
};

/// `splits` must come from split_cohort(view, ...) or single_split(view). Throws InvalidArgument
/// for unknown keys; Cancelled when cancelled.
LeakageResults leakage_report(const CohortView& view, const SplitResults& splits,
                              const LeakageOptions& options = {});

/// 64-bit hash of a sparse row (indices and float bits, zeros skipped): exposed for tests.
uint64_t profile_hash(const int32_t* indices, const float* values, int64_t n);

}  // namespace transcura
