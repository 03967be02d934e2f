#pragma once
// Per-batch summaries for the batch panel: cells and QC medians per batch, and the batch x
// cluster composition table with the entropy of each cluster's batch mix (a cluster drawn from
// one batch has entropy 0; one that mirrors equal batches reaches log(number of batches)).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "transcura/progress.hpp"

namespace transcura {

/// QC values per cell (scanpy's obs columns); an empty span = not available (medians NaN).
struct BatchQcColumns {
    std::span<const double> total_counts;  // total_counts
    std::span<const double> n_genes;       // n_genes_by_counts
    std::span<const double> pct_mito;      // pct_counts_mt
};

struct BatchSummaryOptions {
    RunControl control;
};

struct BatchQcSummary {
    std::string name;
    int64_t n_cells = 0;
    double fraction = 0.0;             // of cells with a batch
    double median_total_counts = 0.0;  // numpy-style medians; NaN when not given or no cells
    double median_genes = 0.0;
    double median_pct_mito = 0.0;
};

struct BatchComposition {
    std::vector<std::string> clusters;  // row names
    std::vector<std::string> batches;   // column names
    /// counts[c * batches.size() + b]: cells of cluster c in batch b.
    std::vector<int64_t> counts;
    std::vector<int64_t> cluster_sizes;
    /// Shannon entropy (natural log) of each cluster's batch proportions.
    std::vector<double> entropy;
    /// entropy / log(number of batches): 0 = one batch, 1 = all batches equally; NaN with
    /// fewer than two batches or an empty cluster.
    std::vector<double> normalized_entropy;

    int64_t count(size_t cluster, size_t batch) const {
        return counts[cluster * batches.size() + batch];
    }
};

struct BatchSummaryResults {
    std::vector<BatchQcSummary> per_batch;  // in code order, one per batch name
    BatchComposition composition;           // empty when no cluster codes are given
    int64_t cells_without_batch = 0;
};

/// `batch_codes` index `batch_names` (negative = missing). `cluster_codes` (optional, may be
/// empty) index `cluster_names`; cells with a missing cluster are left out of the table.
BatchSummaryResults summarize_batches(const std::vector<int32_t>& batch_codes,
                                      const std::vector<std::string>& batch_names,
                                      const BatchQcColumns& qc = {},
                                      const std::vector<int32_t>& cluster_codes = {},
                                      const std::vector<std::string>& cluster_names = {},
                                      const BatchSummaryOptions& options = {});

}  // namespace transcura
