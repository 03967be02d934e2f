#pragma once
// Local Inverse Simpson's Index (Korsunsky et al. 2019, harmonypy.compute_lisi): for each cell,
// a Gaussian kernel over its nearest neighbours is calibrated to a fixed perplexity, and the
// inverse Simpson's index of the neighbours' categories under that kernel is the effective
// number of categories around the cell. iLISI uses batch codes (1 = one batch only, up to the
// number of batches = perfectly mixed); cLISI uses cell-type labels (1 = pure neighbourhoods).
//
// The neighbour table the batch metrics share (LISI, kBET, graph connectivity) is knn.hpp's
// NeighborLists, so the diagnostics search neighbours once per embedding.
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/knn.hpp"  // NeighborLists, exact_neighbors
#include "transcura/progress.hpp"

namespace transcura {

struct LisiOptions {
    /// Effective number of neighbours the kernel is calibrated to. harmonypy default: 30.
    double perplexity = 30.0;
    /// Neighbours searched, counting the cell itself (which is then dropped): 0 = 3 *
    /// perplexity as harmonypy (90 for the default).
    int n_neighbors = 0;
    /// Binary search on the kernel precision stops when |entropy - log(perplexity)| < tolerance
    /// or after max_iterations halvings/doublings (harmonypy's compute_simpson: 1e-5, 50).
    double tolerance = 1e-5;
    int max_iterations = 50;
    RunControl control;
};

struct LisiResults {
    std::vector<double> per_cell;  // one value per cell of the embedding (or query row)
    double median = 0.0;           // numpy-style median (mean of the two middle values)
    int n_neighbors = 0;           // neighbours used per cell, the cell itself excluded
};

/// LISI of categorical `codes` (0..n-1; negative = missing, such neighbours carry no category,
/// as in harmonypy) over the exact neighbours of each cell of `embedding`.
LisiResults compute_lisi(const DenseD& embedding, const std::vector<int32_t>& codes,
                         const LisiOptions& options = {});

/// Same from precomputed neighbours (first column = the cell itself, dropped, as harmonypy
/// drops it); uses the first `n_neighbors` columns, or all when the table is narrower.
LisiResults compute_lisi(const NeighborLists& neighbors, const std::vector<int32_t>& codes,
                         const LisiOptions& options = {});

/// numpy.median of a copy of `values` (NaNs are skipped); NaN when nothing is left.
double median_of(std::vector<double> values);

}  // namespace transcura
