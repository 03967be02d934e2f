#pragma once
// Silhouette widths (Rousseeuw 1987) on an embedding, Euclidean, as scikit-learn's
// silhouette_samples / silhouette_score, and the two scib scores built on them:
//  - batch ASW (scib silhouette_batch): within each label, the silhouette of the batch codes;
//    per cell 1 - |s|, averaged per label, then over labels. 1 = batches well mixed.
//  - label ASW (scib silhouette): silhouette_score of the labels rescaled to (s + 1) / 2.
// Exact and O(n^2 d): all pairwise distances are formed in blocks (parallel, never stored
// whole). Above `max_cells` a seeded uniform subsample is scored instead, and the results
// say so: 20k cells take a few seconds on two cores.
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct SilhouetteOptions {
    /// Largest number of cells scored. Above it, a seeded uniform subsample of this size is
    /// used (batch ASW then scores each label's sampled cells). 0 = always all cells.
    int64_t max_cells = 20000;
    uint64_t seed = 0;
    RunControl control;
};

struct SilhouetteResults {
    std::vector<double> per_cell;  // silhouette width; NaN for unscored cells (missing code,
                                   // or left out of the subsample)
    double score = 0.0;            // mean over scored cells (silhouette_score)
    double scaled = 0.0;           // (score + 1) / 2, scib's label ASW
    int64_t n_scored = 0;
    bool subsampled = false;
};

/// Silhouette of `codes` (negative = missing, left out). Singleton clusters score 0, as in
/// scikit-learn. Throws InvalidArgument unless 2 <= number of present codes <= scored cells - 1.
SilhouetteResults silhouette(const DenseD& embedding, const std::vector<int32_t>& codes,
                             const SilhouetteOptions& options = {});

struct BatchAswResults {
    double score = 0.0;             // mean over scored labels of mean(1 - |s|); NaN if none
    std::vector<double> per_label;  // indexed by label code; NaN where skipped (one batch, or
                                    // as many batches as cells, as scib skips them)
    std::vector<double> per_cell;   // 1 - |s| within the cell's label; NaN where not scored
    int64_t n_scored = 0;
    int n_labels_scored = 0;
    bool subsampled = false;
};

/// scib's batch ASW. Cells with a missing batch or label code are left out.
BatchAswResults batch_asw(const DenseD& embedding, const std::vector<int32_t>& batch_codes,
                          const std::vector<int32_t>& label_codes,
                          const SilhouetteOptions& options = {});

}  // namespace transcura
