#pragma once
// The k-nearest-neighbour graph of an embedding (the PCs): exact search by blocked matrix
// products for small cohorts, HNSW (hnswlib, Malkov & Yashunin 2018) above a size threshold.
// The table it returns feeds UMAP's fuzzy simplicial set, Leiden (through the connectivities)
// and the batch metrics (LISI, kBET, graph connectivity), which share the NeighborLists type.
//
// Convention of the table, as in umap-learn and scanpy: k counts the cell itself, which is the
// first entry of its row (distance 0), then the other neighbours nearest first.
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

struct KnnOptions {
    /// Neighbours per cell, counting the cell itself (scanpy's n_neighbors). Default 15.
    int k = 15;
    /// Exact search up to this many cells, HNSW above (0 or negative = always HNSW). Measured
    /// on a 2-core AVX-512 machine, 50 PCs of a simulated cohort, k = 15, CPU seconds: at 19k
    /// cells exact 0.55 s, HNSW 1.8 s (recall 0.986); at 95k cells exact 11 s (7.5 s since the
    /// three partial-distance tests and the nearest-chunks-first order; blocks of up to 512
    /// queries then took a third off again: 15.3 -> 9 s on a loaded machine), HNSW 17 s with recall
    /// 0.93 at ef_search 60, 20 s with recall 0.97 at ef_search 120 (PCs of single-cell data
    /// have a high intrinsic dimension, which graph search finds hard). Exact grows as n^2, so
    /// HNSW only pays off beyond ~150k cells.
    int64_t exact_max_cells = 150000;
    /// HNSW graph degree (hnswlib's M; layer 0 keeps 2M links).
    int hnsw_m = 16;
    /// Candidate list while building the index (hnswlib's ef_construction).
    int hnsw_ef_construction = 100;
    /// Candidate list while searching: 0 = max(120, 2k + 90) (see the recall figures above).
    int hnsw_ef_search = 0;
    /// HNSW insertion order and layer levels. The index is deterministic for a given seed,
    /// whatever the number of threads.
    uint64_t seed = 0;
    RunControl control;
};

struct KnnResults {
    NeighborLists neighbors;  // row i = cell i, the cell itself first
    bool exact = true;        // false when HNSW answered
};

/// The kNN table of every cell of `embedding` (cells x dimensions). Throws InvalidArgument for
/// k < 1, a shape mismatch or non-finite coordinates; Cancelled when control.cancel is set.
KnnResults knn_graph(const DenseD& embedding, const KnnOptions& options = {});

/// The HNSW search whatever the number of cells (knn_graph's large-cohort path), for tests and
/// for callers that want approximate neighbours on purpose.
NeighborLists hnsw_knn(const DenseD& embedding, const KnnOptions& options);

/// scanpy's obsp["distances"]: n x n CSR holding, per row, the distances to the k-1 neighbours
/// other than the cell itself, columns sorted.
CsrMatrix knn_distance_matrix(const NeighborLists& neighbors, int64_t n_cells);

/// Fraction of the true neighbours (`truth`, e.g. exact_neighbors) found by `approximate`,
/// over all rows and all k columns of `truth` (both tables: same rows, self first).
double knn_recall(const NeighborLists& approximate, const NeighborLists& truth);

}  // namespace transcura
