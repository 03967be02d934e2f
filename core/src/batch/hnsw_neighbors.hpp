#pragma once
// Approximate k nearest neighbours for the diagnostics on large cohorts (hnswlib), until the
// engine's shared kNN step is used instead.
#include <cstdint>

#include "transcura/cohort.hpp"
#include "transcura/lisi.hpp"
#include "transcura/progress.hpp"

namespace transcura::batch_detail {

struct HnswOptions {
    int m = 16;  // graph degree
    int ef_construction = 100;
    int ef_search = 0;  // 0 = k + 20 (recall@100 ~0.98 on 50 PC-like dimensions)
    uint64_t seed = 0;
};

/// k nearest neighbours of every cell, the cell itself first. The index is built on one
/// thread in cell order (so the graph, and the answer, depend only on the seed); queries run in
/// parallel. Returned distances are re-measured exactly in double precision.
NeighborLists hnsw_neighbors(const DenseD& embedding, int k, const HnswOptions& options,
                             const RunControl& control);

}  // namespace transcura::batch_detail
