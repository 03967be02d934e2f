#pragma once
// Quality-control metrics per cell and per gene, named as scanpy's calculate_qc_metrics names
// them, and MAD-based outlier flags (per batch when a batch column is given).
//
// Per cell: total_counts, log1p_total_counts, n_genes_by_counts, log1p_n_genes_by_counts,
//   pct_counts_in_top_50_genes, and for every gene set S (mt, ribo, hb by default):
//   total_counts_S, log1p_total_counts_S, pct_counts_S.
// Per gene: n_cells_by_counts, mean_counts, log1p_mean_counts, pct_dropout_by_counts,
//   total_counts, log1p_total_counts.
// Works on CSR and dense X; explicit zeros are not counted as detected. Parallel over cells in
// fixed chunks, so results do not depend on the thread count.
#include <cstdint>
#include <string>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

/// A named gene set: genes whose name starts with one of `prefixes` (case-sensitive, and the
/// character after the prefix must exist and not be one of `not_followed_by` when that is
/// non-empty), plus the genes named in `genes`.
struct QcGeneSet {
    std::string name;  // column suffix: "mt" -> pct_counts_mt
    std::vector<std::string> prefixes;
    std::string not_followed_by;
    std::vector<std::string> genes;

    bool contains(const std::string& gene) const;
};

/// scanpy's common recipe: mt = MT-/mt- ; ribo = RPS/RPL (+ mouse Rps/Rpl) ;
/// hb = ^HB[^(P)] (+ mouse ^Hb[^(p)]), which keeps HBA1, HBB ... and drops HBP1.
std::vector<QcGeneSet> default_qc_gene_sets();

/// MAD outlier rule: value outside median -/+ nmads * MAD (MAD unscaled, as
/// scipy.stats.median_abs_deviation and the sc-best-practices recipe use). A side may be off.
struct MadRule {
    std::string metric;  // a per-cell QC column name, e.g. "log1p_total_counts"
    double nmads = 5.0;
    bool low = true;
    bool high = true;
};

struct QcOptions {
    std::vector<QcGeneSet> gene_sets = default_qc_gene_sets();
    /// Top-n share (scanpy's percent_top); 50 gives pct_counts_in_top_50_genes. 0 = skip.
    int top_n = 50;
    /// Rules combined into obs["outlier"]: sc-best-practices uses 5 MADs on the log counts,
    /// log genes and top-share, both sides.
    std::vector<MadRule> outlier_rules = {{"log1p_total_counts", 5.0, true, true},
                                          {"log1p_n_genes_by_counts", 5.0, true, true},
                                          {"pct_counts_in_top_50_genes", 5.0, true, true}};
    /// Rule for obs["mt_outlier"]: 3 MADs above the median % mitochondrial counts (only the high
    /// side: few mitochondrial reads is not a sign of damage). Empty metric = skip.
    MadRule mt_rule = {"pct_counts_mt", 3.0, false, true};
    RunControl control;
};

struct QcResults {
    // per cell
    std::vector<double> total_counts;
    std::vector<double> n_genes_by_counts;
    std::vector<double> pct_counts_in_top_n;      // NaN for cells without counts
    std::vector<std::vector<double>> set_totals;  // per gene set, per cell
    std::vector<std::vector<double>> set_pct;     // per gene set, per cell (NaN if no counts)
    std::vector<uint8_t> outlier;                 // any outlier_rules
    std::vector<uint8_t> mt_outlier;              // mt_rule (empty when skipped)
    // per gene
    std::vector<double> n_cells_by_counts;
    std::vector<double> gene_total_counts;
    // echo of what was computed
    std::vector<std::string> set_names;
    std::vector<int64_t> set_sizes;  // genes found per set
    int top_n = 50;

    /// Per-cell columns with scanpy names, in scanpy's order (plus outlier, mt_outlier).
    std::vector<Column> obs_columns() const;
    /// Per-gene columns with scanpy names (mean and dropout need the cell count).
    std::vector<Column> var_columns() const;
    /// Adds/replaces the columns in cohort.obs and cohort.var (sizes must match).
    void add_to(Cohort& cohort) const;
};

/// Throws InvalidArgument when X is missing or a rule names an unknown metric.
/// `batch` (optional, one code per cell, -1 = missing, which forms its own group) makes the MAD
/// statistics per batch.
QcResults compute_qc(const Matrix& X, const std::vector<std::string>& var_names,
                     const QcOptions& options = {}, const std::vector<int32_t>* batch = nullptr);

/// Convenience: QC of a cohort's X; `batch_key` names a categorical (or any) obs column ("" =
/// none).
QcResults compute_qc(const Cohort& cohort, const QcOptions& options = {},
                     const std::string& batch_key = {});

/// Batch codes of an obs column: categorical codes, or the distinct values of any other column
/// in order of first appearance (missing -> -1). Throws InvalidArgument for an unknown column.
std::vector<int32_t> batch_codes(const Cohort& cohort, const std::string& key,
                                 std::vector<std::string>* names = nullptr);

/// Outlier flags for one metric under a MAD rule, per group of `batch` (may be null).
std::vector<uint8_t> mad_outliers(const std::vector<double>& values, const MadRule& rule,
                                  const std::vector<int32_t>* batch);

}  // namespace transcura
