// hnswlib-backed neighbour table for the batch diagnostics.
#include "hnsw_neighbors.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <hnswlib/hnswlib.h>

#include "parallel.hpp"
#include "transcura/errors.hpp"

namespace transcura::batch_detail {

NeighborLists hnsw_neighbors(const DenseD& embedding, int k, const HnswOptions& options,
                             const RunControl& control) {
    const int64_t n = embedding.n_rows;
    const int64_t d = embedding.n_cols;
    if (k <= 0) throw InvalidArgument("HNSW neighbours: k must be positive");
    NeighborLists result;
    result.n_queries = n;
    result.k = static_cast<int>(std::min<int64_t>(k, n));
    const int kk = result.k;
    result.indices.assign(static_cast<size_t>(n * kk), 0);
    result.distances.assign(static_cast<size_t>(n * kk), 0.0);
    if (n == 0) return result;

    // hnswlib's L2 space works on float.
    std::vector<float> points(static_cast<size_t>(n * d));
    for (size_t i = 0; i < points.size(); ++i) points[i] = static_cast<float>(embedding.values[i]);
    hnswlib::L2Space space(static_cast<size_t>(d));
    hnswlib::HierarchicalNSW<float> index(
        &space, static_cast<size_t>(n), static_cast<size_t>(options.m),
        static_cast<size_t>(options.ef_construction), static_cast<size_t>(options.seed));
    for (int64_t i = 0; i < n; ++i) {
        index.addPoint(points.data() + i * d, static_cast<hnswlib::labeltype>(i));
        if (i % 4096 == 0) {
            control.check();
            control.report(0.6 * static_cast<double>(i) / static_cast<double>(n),
                           "neighbour index");
        }
    }
    index.setEf(static_cast<size_t>(options.ef_search > 0 ? options.ef_search : kk + 20));

    constexpr int64_t kBlock = 1024;
    const int64_t n_blocks = (n + kBlock - 1) / kBlock;
    parallel_for(n_blocks, control.threads(), [&](int64_t block) {
        std::vector<std::pair<double, int64_t>> found;
        for (int64_t i = block * kBlock; i < std::min(n, (block + 1) * kBlock); ++i) {
            auto queue = index.searchKnn(points.data() + i * d, static_cast<size_t>(kk));
            found.clear();
            bool has_self = false;
            while (!queue.empty()) {
                const auto j = static_cast<int64_t>(queue.top().second);
                has_self |= j == i;
                found.push_back({0.0, j});
                queue.pop();
            }
            // An approximate search can miss the cell itself (e.g. among duplicates): the
            // convention of the table is "self first", so put it in place of the farthest.
            if (!has_self) {
                std::sort(found.begin(), found.end(),
                          [&](const auto& a, const auto& b) { return a.second < b.second; });
                if (static_cast<int>(found.size()) >= kk) found.pop_back();
                found.push_back({0.0, i});
            }
            const double* x = embedding.row(i);
            for (auto& [dist, j] : found) {
                const double* y = embedding.row(j);
                double sum = 0.0;
                for (int64_t c = 0; c < d; ++c) sum += (x[c] - y[c]) * (x[c] - y[c]);
                dist = std::sqrt(sum);
            }
            // Self first even when a duplicate sits at distance 0 too.
            std::sort(found.begin(), found.end(), [&](const auto& a, const auto& b) {
                if ((a.second == i) != (b.second == i)) return a.second == i;
                return a < b;
            });
            for (int j = 0; j < kk && j < static_cast<int>(found.size()); ++j) {
                const auto& [distance, index_j] = found[static_cast<size_t>(j)];
                result.indices[static_cast<size_t>(i * kk + j)] = index_j;
                result.distances[static_cast<size_t>(i * kk + j)] = distance;
            }
        }
    });
    control.check();
    control.report(1.0, "neighbours");
    return result;
}

}  // namespace transcura::batch_detail
