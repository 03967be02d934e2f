#pragma once
// Approximate k nearest neighbours for the diagnostics on large cohorts: a thin forwarder to the
// engine's HNSW search (transcura/knn.hpp, core/src/engine/knn_hnsw.cpp).
#include <cstdint>

#include "transcura/cohort.hpp"
#include "transcura/knn.hpp"
#include "transcura/progress.hpp"

namespace transcura::batch_detail {

struct HnswOptions {
    int m = 16;  // graph degree
    int ef_construction = 100;
    int ef_search = 0;  // 0 = the engine's default, max(120, 2k + 90)
    uint64_t seed = 0;
};

/// k nearest neighbours of every cell, the cell itself first; deterministic for a seed.
/// Returned distances are re-measured exactly in double precision.
inline NeighborLists hnsw_neighbors(const DenseD& embedding, int k, const HnswOptions& options,
                                    const RunControl& control) {
    KnnOptions knn;
    knn.k = k;
    knn.hnsw_m = options.m;
    knn.hnsw_ef_construction = options.ef_construction;
    knn.hnsw_ef_search = options.ef_search;
    knn.seed = options.seed;
    knn.control = control;
    return hnsw_knn(embedding, knn);
}

}  // namespace transcura::batch_detail
