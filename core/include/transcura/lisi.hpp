#pragma once
// Local Inverse Simpson's Index (Korsunsky et al. 2019, harmonypy.compute_lisi): for each cell,
// a Gaussian kernel over its nearest neighbours is calibrated to a fixed perplexity, and the
// inverse Simpson's index of the neighbours' categories under that kernel is the effective
// number of categories around the cell. iLISI uses batch codes (1 = one batch only, up to the
// number of batches = perfectly mixed); cLISI uses cell-type labels (1 = pure neighbourhoods).
//
// This header also holds the neighbour table the batch metrics share (LISI, kBET, graph
// connectivity), so the diagnostics search neighbours once per embedding.
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

/// k nearest neighbours per query cell, nearest first, Euclidean distances. When the queries
/// are cells of the searched embedding, each row normally starts with the cell itself.
struct NeighborLists {
    int64_t n_queries = 0;
    int k = 0;
    std::vector<int64_t> queries;   // the query cell of each row; empty = row i is cell i
    std::vector<int64_t> indices;   // n_queries * k, row-major
    std::vector<double> distances;  // n_queries * k, row-major

    const int64_t* row_indices(int64_t row) const { return indices.data() + row * k; }
    const double* row_distances(int64_t row) const { return distances.data() + row * k; }
    int64_t query_cell(int64_t row) const { return queries.empty() ? row : queries[row]; }
};

/// Exact k nearest neighbours (the query cell itself included) by blocked matrix products,
/// parallel over query blocks. Candidates are ranked by squared distance computed as
/// |x|^2 + |y|^2 - 2 x.y, then the kept k are re-measured exactly and sorted by (distance,
/// index), so ties are broken by the smaller index. `queries` empty = every cell. O(n^2 d):
/// intended for up to ~50k cells, or for a small set of queries (kBET's tested cells).
NeighborLists exact_neighbors(const DenseD& embedding, int k, const RunControl& control = {},
                              const std::vector<int64_t>& queries = {});

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
