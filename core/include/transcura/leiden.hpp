#pragma once
// Leiden community detection (Traag, Waltman & van Eck 2019) on a weighted cell graph, with
// igraph's igraph_community_leiden and the modularity objective with a resolution parameter:
// leidenalg's RBConfigurationVertexPartition, which scanpy's sc.tl.leiden uses. The graph is
// normally UMAP's fuzzy simplicial set (scanpy's obsp["connectivities"], umap.hpp).
//
// Clusters are numbered by size, 0 = largest (ties: the cluster holding the lower cell index
// first), as leidenalg numbers them and scanpy shows them.
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct LeidenOptions {
    /// Modularity resolution (gamma): higher gives more, smaller clusters. scanpy default 1.0.
    double resolution = 1.0;
    /// Refinement passes; negative = until a pass changes nothing (scanpy's n_iterations=-1).
    int n_iterations = -1;
    /// Randomness of the refinement step (leidenalg/igraph default 0.01).
    double beta = 0.01;
    /// Seeds igraph's random number generator: same seed, same clusters.
    uint64_t seed = 0;
    /// Progress is reported per pass; cancel is polled between passes. Runs on one thread.
    RunControl control;
};

struct LeidenResults {
    std::vector<int32_t> membership;  // cluster of each cell, 0 = largest cluster
    int n_clusters = 0;
    double quality = 0.0;  // modularity at the given resolution
    int n_passes = 0;
};

/// Leiden clusters of the n x n `weighted_graph`: symmetric, non-negative weights; an
/// asymmetric matrix is symmetrised as (W + W^T) / 2 and the diagonal is ignored. Throws
/// InvalidArgument for a non-square matrix, negative or non-finite weights, or resolution <= 0.
LeidenResults leiden(const CsrMatrix& weighted_graph, const LeidenOptions& options = {});

/// Adjusted Rand index of two labelings of the same items (Hubert & Arabie 1985, as
/// sklearn.metrics.adjusted_rand_score); negative labels are treated as one more label.
double adjusted_rand_index(const std::vector<int32_t>& a, const std::vector<int32_t>& b);

}  // namespace transcura
