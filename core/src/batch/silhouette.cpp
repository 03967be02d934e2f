// Silhouette widths from blocked pairwise distances. Distances use the same Gram form as
// scikit-learn's euclidean_distances (|x|^2 + |y|^2 - 2 x.y, clipped at 0, self = 0), so the
// two agree to rounding. Each cell's row of distances is summed by one thread in a fixed
// column order, so results do not depend on the thread count.
#include "transcura/silhouette.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <thread>

#include <omp.h>
#include <Eigen/Dense>

#include "parallel.hpp"
#include "sampling.hpp"
#include "transcura/errors.hpp"

namespace transcura {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr int64_t kRowBlock = 64;
constexpr int64_t kColumnBlock = 2048;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Silhouette of `codes` (compact, 0..n_codes-1) for the cells listed in `cells`.
std::vector<double> silhouette_of(const DenseD& embedding, const std::vector<int64_t>& cells,
                                  const std::vector<int32_t>& codes, int n_codes,
                                  const RunControl& control) {
    const auto n = static_cast<int64_t>(cells.size());
    const int64_t d = embedding.n_cols;
    RowMatrix x(n, d);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) x(i, j) = embedding(cells[static_cast<size_t>(i)], j);
    const Eigen::VectorXd norms = x.rowwise().squaredNorm();
    std::vector<int64_t> sizes(static_cast<size_t>(n_codes), 0);
    for (int32_t c : codes) ++sizes[static_cast<size_t>(c)];

    std::vector<double> result(static_cast<size_t>(n), 0.0);
    const int64_t n_blocks = (n + kRowBlock - 1) / kRowBlock;
    std::atomic<int64_t> done{0};
    std::atomic<bool> cancelled{false};
    const std::thread::id caller = std::this_thread::get_id();  // progress is reported there

    batch_detail::parallel_for(n_blocks, control.threads(), [&](int64_t block) {
        if (cancelled.load(std::memory_order_relaxed)) return;
        const int64_t row0 = block * kRowBlock;
        const int64_t rows = std::min(kRowBlock, n - row0);
        // Sum of distances from each row to each code's cells.
        std::vector<double> sums(static_cast<size_t>(rows * n_codes), 0.0);
        RowMatrix gram;
        for (int64_t col0 = 0; col0 < n; col0 += kColumnBlock) {
            const int64_t cols = std::min(kColumnBlock, n - col0);
            gram.noalias() = x.middleRows(row0, rows) * x.middleRows(col0, cols).transpose();
            for (int64_t r = 0; r < rows; ++r) {
                double* row_sums = sums.data() + r * n_codes;
                const double* g = gram.data() + r * cols;
                const double ni = norms[row0 + r];
                for (int64_t c = 0; c < cols; ++c) {
                    if (col0 + c == row0 + r) continue;  // self distance is 0
                    const double d2 = std::max(ni + norms[col0 + c] - 2.0 * g[c], 0.0);
                    row_sums[codes[static_cast<size_t>(col0 + c)]] += std::sqrt(d2);
                }
            }
        }
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t i = row0 + r;
            const int32_t own = codes[static_cast<size_t>(i)];
            const double* row_sums = sums.data() + r * n_codes;
            const int64_t own_size = sizes[static_cast<size_t>(own)];
            double nearest = std::numeric_limits<double>::infinity();
            for (int c = 0; c < n_codes; ++c)
                if (c != own && sizes[static_cast<size_t>(c)] > 0)
                    nearest = std::min(
                        nearest, row_sums[c] / static_cast<double>(sizes[static_cast<size_t>(c)]));
            // Singleton cluster: 0/0 in scikit-learn, turned into 0 by nan_to_num.
            if (own_size <= 1) continue;
            const double within = row_sums[own] / static_cast<double>(own_size - 1);
            const double denominator = std::max(within, nearest);
            const double s = (nearest - within) / denominator;
            result[static_cast<size_t>(i)] = std::isfinite(s) ? s : 0.0;
        }
        const int64_t finished = ++done;
        if (std::this_thread::get_id() == caller) {
            if (control.cancel && control.cancel->cancelled()) cancelled = true;
            control.report(static_cast<double>(finished) / static_cast<double>(n_blocks),
                           "silhouette");
        }
    });
    control.check();
    return result;
}

/// Maps the codes of `cells` to 0..m-1 in increasing code order; returns m.
int compact_codes(const std::vector<int32_t>& codes, const std::vector<int64_t>& cells,
                  std::vector<int32_t>& compact) {
    std::map<int32_t, int32_t> remap;
    for (int64_t cell : cells) remap.emplace(codes[static_cast<size_t>(cell)], 0);
    int32_t next = 0;
    for (auto& [code, index] : remap) index = next++;
    compact.resize(cells.size());
    for (size_t i = 0; i < cells.size(); ++i)
        compact[i] = remap[codes[static_cast<size_t>(cells[i])]];
    return next;
}

void check_inputs(const DenseD& embedding, const std::vector<int32_t>& codes, const char* what) {
    if (static_cast<int64_t>(codes.size()) != embedding.n_rows)
        throw InvalidArgument(std::string("silhouette: one ") + what + " code per cell expected");
    if (embedding.values.size() != static_cast<size_t>(embedding.n_rows * embedding.n_cols))
        throw InvalidArgument("silhouette: embedding size does not match its shape");
}

}  // namespace

SilhouetteResults silhouette(const DenseD& embedding, const std::vector<int32_t>& codes,
                             const SilhouetteOptions& options) {
    check_inputs(embedding, codes, "label");
    std::vector<int64_t> cells;
    for (int64_t i = 0; i < embedding.n_rows; ++i)
        if (codes[static_cast<size_t>(i)] >= 0) cells.push_back(i);
    SilhouetteResults results;
    if (options.max_cells > 0 && static_cast<int64_t>(cells.size()) > options.max_cells) {
        cells = batch_detail::sample_sorted(cells, options.max_cells, options.seed);
        results.subsampled = true;
    }
    std::vector<int32_t> compact;
    const int n_codes = compact_codes(codes, cells, compact);
    if (n_codes < 2 || n_codes > static_cast<int>(cells.size()) - 1)
        throw InvalidArgument(
            "silhouette: needs between 2 and (scored cells - 1) distinct "
            "labels, got " +
            std::to_string(n_codes));
    const std::vector<double> s =
        silhouette_of(embedding, cells, compact, n_codes, options.control);
    results.per_cell.assign(static_cast<size_t>(embedding.n_rows), kNaN);
    double sum = 0.0;
    for (size_t i = 0; i < cells.size(); ++i) {
        results.per_cell[static_cast<size_t>(cells[i])] = s[i];
        sum += s[i];
    }
    results.n_scored = static_cast<int64_t>(cells.size());
    results.score = sum / static_cast<double>(cells.size());
    results.scaled = (results.score + 1.0) / 2.0;
    return results;
}

BatchAswResults batch_asw(const DenseD& embedding, const std::vector<int32_t>& batch_codes,
                          const std::vector<int32_t>& label_codes,
                          const SilhouetteOptions& options) {
    check_inputs(embedding, batch_codes, "batch");
    check_inputs(embedding, label_codes, "label");
    // One seeded uniform subsample of all scorable cells (the same draw as silhouette() when
    // every cell has a label and a batch), then each label's sampled cells.
    std::vector<int64_t> cells;
    for (int64_t i = 0; i < embedding.n_rows; ++i)
        if (label_codes[static_cast<size_t>(i)] >= 0 && batch_codes[static_cast<size_t>(i)] >= 0)
            cells.push_back(i);
    const bool subsampled =
        options.max_cells > 0 && static_cast<int64_t>(cells.size()) > options.max_cells;
    if (subsampled) cells = batch_detail::sample_sorted(cells, options.max_cells, options.seed);
    int n_labels = 0;
    for (int32_t l : label_codes) n_labels = std::max(n_labels, l + 1);
    std::vector<std::vector<int64_t>> members(static_cast<size_t>(n_labels));
    for (int64_t i : cells)
        members[static_cast<size_t>(label_codes[static_cast<size_t>(i)])].push_back(i);
    BatchAswResults results;
    results.subsampled = subsampled;
    results.per_label.assign(static_cast<size_t>(n_labels), kNaN);
    results.per_cell.assign(static_cast<size_t>(embedding.n_rows), kNaN);
    double total = 0.0;
    for (int label = 0; label < n_labels; ++label) {
        const std::vector<int64_t>& group = members[static_cast<size_t>(label)];
        std::vector<int32_t> compact;
        const int n_batches = compact_codes(batch_codes, group, compact);
        if (n_batches < 2 || n_batches >= static_cast<int>(group.size())) continue;
        RunControl control = options.control;
        control.progress = {};  // per-label progress would jump back and forth
        const std::vector<double> s = silhouette_of(embedding, group, compact, n_batches, control);
        double sum = 0.0;
        for (size_t i = 0; i < group.size(); ++i) {
            const double score = 1.0 - std::abs(s[i]);
            results.per_cell[static_cast<size_t>(group[i])] = score;
            sum += score;
        }
        results.per_label[static_cast<size_t>(label)] = sum / static_cast<double>(group.size());
        total += results.per_label[static_cast<size_t>(label)];
        results.n_scored += static_cast<int64_t>(group.size());
        ++results.n_labels_scored;
        options.control.report(static_cast<double>(label + 1) / n_labels, "batch ASW");
    }
    results.score = results.n_labels_scored > 0 ? total / results.n_labels_scored : kNaN;
    return results;
}

}  // namespace transcura
