// Per-batch QC medians and the batch x cluster composition with its entropy.
#include "transcura/batch_summary.hpp"

#include <cmath>
#include <limits>

#include "transcura/errors.hpp"
#include "transcura/lisi.hpp"  // median_of

namespace transcura {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

void check_size(std::span<const double> values, size_t n, const char* what) {
    if (!values.empty() && values.size() != n)
        throw InvalidArgument(std::string("batch summary: ") + what + " has " +
                              std::to_string(values.size()) + " values for " + std::to_string(n) +
                              " cells");
}

double batch_median(std::span<const double> values, const std::vector<int64_t>& cells) {
    if (values.empty() || cells.empty()) return kNaN;
    std::vector<double> picked;
    picked.reserve(cells.size());
    for (int64_t i : cells) picked.push_back(values[static_cast<size_t>(i)]);
    return median_of(std::move(picked));
}

}  // namespace

BatchSummaryResults summarize_batches(const std::vector<int32_t>& batch_codes,
                                      const std::vector<std::string>& batch_names,
                                      const BatchQcColumns& qc,
                                      const std::vector<int32_t>& cluster_codes,
                                      const std::vector<std::string>& cluster_names,
                                      const BatchSummaryOptions& options) {
    const size_t n = batch_codes.size();
    const size_t n_batches = batch_names.size();
    check_size(qc.total_counts, n, "total_counts");
    check_size(qc.n_genes, n, "n_genes");
    check_size(qc.pct_mito, n, "pct_mito");
    if (!cluster_codes.empty() && cluster_codes.size() != n)
        throw InvalidArgument("batch summary: one cluster code per cell expected");
    for (int32_t b : batch_codes)
        if (b >= static_cast<int32_t>(n_batches))
            throw InvalidArgument("batch summary: batch code without a name");
    for (int32_t c : cluster_codes)
        if (c >= static_cast<int32_t>(cluster_names.size()))
            throw InvalidArgument("batch summary: cluster code without a name");
    options.control.check();

    BatchSummaryResults results;
    std::vector<std::vector<int64_t>> members(n_batches);
    for (size_t i = 0; i < n; ++i) {
        if (batch_codes[i] < 0) {
            ++results.cells_without_batch;
            continue;
        }
        members[static_cast<size_t>(batch_codes[i])].push_back(static_cast<int64_t>(i));
    }
    const auto with_batch =
        static_cast<double>(n) - static_cast<double>(results.cells_without_batch);
    for (size_t b = 0; b < n_batches; ++b) {
        BatchQcSummary s;
        s.name = batch_names[b];
        s.n_cells = static_cast<int64_t>(members[b].size());
        s.fraction = with_batch > 0 ? static_cast<double>(s.n_cells) / with_batch : kNaN;
        s.median_total_counts = batch_median(qc.total_counts, members[b]);
        s.median_genes = batch_median(qc.n_genes, members[b]);
        s.median_pct_mito = batch_median(qc.pct_mito, members[b]);
        results.per_batch.push_back(std::move(s));
    }

    if (!cluster_codes.empty()) {
        BatchComposition& table = results.composition;
        table.clusters = cluster_names;
        table.batches = batch_names;
        const size_t n_clusters = cluster_names.size();
        table.counts.assign(n_clusters * n_batches, 0);
        table.cluster_sizes.assign(n_clusters, 0);
        for (size_t i = 0; i < n; ++i) {
            if (batch_codes[i] < 0 || cluster_codes[i] < 0) continue;
            ++table.counts[static_cast<size_t>(cluster_codes[i]) * n_batches +
                           static_cast<size_t>(batch_codes[i])];
            ++table.cluster_sizes[static_cast<size_t>(cluster_codes[i])];
        }
        int present = 0;
        for (const auto& s : results.per_batch) present += s.n_cells > 0;
        for (size_t c = 0; c < n_clusters; ++c) {
            double h = 0.0;
            const auto size = static_cast<double>(table.cluster_sizes[c]);
            for (size_t b = 0; b < n_batches && size > 0; ++b) {
                const double p = static_cast<double>(table.count(c, b)) / size;
                if (p > 0) h -= p * std::log(p);
            }
            table.entropy.push_back(size > 0 ? h : kNaN);
            table.normalized_entropy.push_back(size > 0 && present > 1 ? h / std::log(present)
                                                                       : kNaN);
        }
    }
    options.control.report(1.0, "batch summary");
    return results;
}

}  // namespace transcura
