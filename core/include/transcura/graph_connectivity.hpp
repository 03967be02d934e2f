#pragma once
// Graph connectivity (scib, Luecken et al. 2022): for each label, the share of the label's cells
// in the largest connected component of the kNN graph restricted to that label; the score is
// the mean over labels. 1 = every cell type forms one connected piece across batches.
// The graph is the union-symmetrised kNN graph of the embedding with n_neighbors counting the
// cell itself (scanpy's convention, scib's default of 15); edge weights do not matter.
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/lisi.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct GraphConnectivityOptions {
    int n_neighbors = 15;  // counting the cell itself
    RunControl control;
};

struct GraphConnectivityResults {
    double score = 0.0;             // mean over labels with cells; NaN when none
    std::vector<double> per_label;  // indexed by label code; NaN for labels without cells
    std::vector<int64_t> label_sizes;
};

/// Cells with a negative (missing) label are left out of every subgraph.
GraphConnectivityResults graph_connectivity(const DenseD& embedding,
                                            const std::vector<int32_t>& label_codes,
                                            const GraphConnectivityOptions& options = {});

/// From precomputed neighbours of every cell (queries empty); uses the first n_neighbors
/// columns (all when the table is narrower).
GraphConnectivityResults graph_connectivity(const NeighborLists& neighbors,
                                            const std::vector<int32_t>& label_codes,
                                            const GraphConnectivityOptions& options = {});

}  // namespace transcura
