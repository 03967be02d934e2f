// Exact k nearest neighbours (knn.hpp): blocked Gram products (Eigen) with a bounded max-heap per
// query, then an exact re-measure of the kept neighbours. Used by the engine's kNN step for
// small cohorts and by the batch metrics.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <utility>

#include <omp.h>
#include <Eigen/Dense>

#include "batch/parallel.hpp"
#include "transcura/errors.hpp"
#include "transcura/knn.hpp"

namespace transcura {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRowMap = Eigen::Map<const RowMatrix>;

constexpr int64_t kQueryBlock = 128;
constexpr int64_t kReferenceBlock = 2048;

}  // namespace

NeighborLists exact_neighbors(const DenseD& embedding, int k, const RunControl& control,
                              const std::vector<int64_t>& queries) {
    const int64_t n = embedding.n_rows;
    const int64_t d = embedding.n_cols;
    if (k <= 0) throw InvalidArgument("exact_neighbors: k must be positive");
    if (embedding.values.size() != static_cast<size_t>(n * d))
        throw InvalidArgument("exact_neighbors: embedding size does not match its shape");
    for (int64_t q : queries)
        if (q < 0 || q >= n) throw InvalidArgument("exact_neighbors: query cell out of range");

    NeighborLists result;
    result.k = static_cast<int>(std::min<int64_t>(k, n));
    result.queries = queries;
    result.n_queries = queries.empty() ? n : static_cast<int64_t>(queries.size());
    const int kk = result.k;
    result.indices.assign(static_cast<size_t>(result.n_queries * kk), 0);
    result.distances.assign(static_cast<size_t>(result.n_queries * kk), 0.0);
    if (n == 0 || result.n_queries == 0) return result;

    ConstRowMap data(embedding.values.data(), n, d);
    Eigen::VectorXd norms = data.rowwise().squaredNorm();

    const int64_t n_blocks = (result.n_queries + kQueryBlock - 1) / kQueryBlock;
    std::atomic<int64_t> blocks_done{0};
    std::atomic<bool> cancelled{false};

    batch_detail::parallel_for(n_blocks, control.threads(), [&](int64_t block) {
        if (cancelled.load(std::memory_order_relaxed)) return;
        const int64_t row0 = block * kQueryBlock;
        const int64_t rows = std::min(kQueryBlock, result.n_queries - row0);
        RowMatrix query(rows, d);
        Eigen::VectorXd query_norms(rows);
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t cell = result.query_cell(row0 + r);
            query.row(r) = data.row(cell);
            query_norms[r] = norms[cell];
        }
        // One bounded max-heap (squared distance, index) per query row.
        std::vector<std::vector<std::pair<double, int64_t>>> heaps(static_cast<size_t>(rows));
        for (auto& heap : heaps) heap.reserve(static_cast<size_t>(kk));
        RowMatrix gram;
        for (int64_t col0 = 0; col0 < n; col0 += kReferenceBlock) {
            const int64_t cols = std::min(kReferenceBlock, n - col0);
            gram.noalias() = query * data.middleRows(col0, cols).transpose();
            for (int64_t r = 0; r < rows; ++r) {
                auto& heap = heaps[static_cast<size_t>(r)];
                const double* g = gram.data() + r * cols;
                for (int64_t c = 0; c < cols; ++c) {
                    const double d2 = query_norms[r] + norms[col0 + c] - 2.0 * g[c];
                    const std::pair<double, int64_t> candidate{d2, col0 + c};
                    if (static_cast<int>(heap.size()) < kk) {
                        heap.push_back(candidate);
                        std::push_heap(heap.begin(), heap.end());
                    } else if (candidate < heap.front()) {
                        std::pop_heap(heap.begin(), heap.end());
                        heap.back() = candidate;
                        std::push_heap(heap.begin(), heap.end());
                    }
                }
            }
        }
        // Re-measure exactly (the Gram form loses digits for close points) and sort.
        for (int64_t r = 0; r < rows; ++r) {
            auto& heap = heaps[static_cast<size_t>(r)];
            const double* x = query.data() + r * d;
            for (auto& [dist, index] : heap) {
                const double* y = embedding.row(index);
                double sum = 0.0;
                for (int64_t j = 0; j < d; ++j) {
                    const double diff = x[j] - y[j];
                    sum += diff * diff;
                }
                dist = std::sqrt(sum);
            }
            std::sort(heap.begin(), heap.end());
            int64_t* out_index = result.indices.data() + (row0 + r) * kk;
            double* out_dist = result.distances.data() + (row0 + r) * kk;
            for (int j = 0; j < kk; ++j) {
                out_index[j] = heap[static_cast<size_t>(j)].second;
                out_dist[j] = heap[static_cast<size_t>(j)].first;
            }
        }
        const int64_t done = ++blocks_done;
        if (omp_get_thread_num() == 0) {
            if (control.cancel && control.cancel->cancelled()) cancelled = true;
            control.report(static_cast<double>(done) / static_cast<double>(n_blocks),
                           "exact nearest neighbours");
        }
    });
    control.check();
    return result;
}

}  // namespace transcura
