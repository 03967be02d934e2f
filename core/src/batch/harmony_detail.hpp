#pragma once
// Pieces of Harmony shared between harmony.cpp and harmony_kmeans.cpp.
#include <cstdint>
#include <vector>

#include <Eigen/Dense>

#include "transcura/progress.hpp"

namespace transcura::batch_detail {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A run of consecutive rows. Reductions over cells are summed per chunk, then over chunks in
/// order, so results are the same for every thread count.
struct Chunk {
    int64_t begin = 0;
    int64_t end = 0;
    int32_t batch = -1;  // the batch of every row in the chunk (rows sorted by batch), or -1
};

constexpr int64_t kChunkRows = 1024;

/// Chunks of at most kChunkRows rows that never cross a segment boundary.
inline std::vector<Chunk> make_chunks(const std::vector<int64_t>& segment_starts, int64_t n) {
    std::vector<Chunk> chunks;
    for (size_t s = 0; s < segment_starts.size(); ++s) {
        const int64_t end = s + 1 < segment_starts.size() ? segment_starts[s + 1] : n;
        for (int64_t begin = segment_starts[s]; begin < end; begin += kChunkRows)
            chunks.push_back({begin, std::min(begin + kChunkRows, end), static_cast<int32_t>(s)});
    }
    return chunks;
}

struct KmeansOptions {
    int k = 0;
    int n_init = 10;    // scikit-learn KMeans as harmonypy calls it: 10 runs ...
    int max_iter = 25;  // ... of at most 25 Lloyd iterations, best inertia kept
    double tol = 1e-4;  // relative to the mean feature variance, as scikit-learn
    uint64_t seed = 0;
};

/// k-means centroids (k x d) of the rows of `data`: greedy k-means++ seeding (2 + ln k local
/// trials, as scikit-learn) followed by Lloyd iterations; the run with the lowest inertia wins.
RowMatrix kmeans_centroids(const RowMatrix& data, const KmeansOptions& options,
                           const RunControl& control);

}  // namespace transcura::batch_detail
