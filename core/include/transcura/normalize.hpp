#pragma once
// Library-size normalisation, log1p and per-gene scaling (scanpy's normalize_total, log1p and
// scale). Sparse matrices stay sparse: scaling of sparse data is returned as per-gene factors
// (centring is left to PCA, which handles it implicitly).
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct NormalizeOptions {
    /// Every cell is scaled to this total. <= 0 means the median of the non-zero cell totals
    /// (scanpy's target_sum=None). Cells without counts stay zero.
    double target_sum = 1e4;
    /// Apply log1p after scaling (scanpy's normalize_total followed by log1p).
    bool log1p = false;
    RunControl control;
};

struct NormalizeResults {
    Matrix X;                          // same storage kind as the input, float32
    std::vector<double> size_factors;  // per cell: target / total (0 for empty cells)
    double target_sum = 0.0;           // the target actually used
};

/// Per-cell factors target / total, the totals and the target actually used.
std::vector<double> normalization_factors(const Matrix& X, double target_sum,
                                          const RunControl& control = {},
                                          double* used_target = nullptr);
/// The same factors from per-cell totals already at hand (QC's total_counts: the same sums in
/// the same order, so the same factors) without another pass over the matrix.
std::vector<double> normalization_factors_from_totals(std::vector<double> totals,
                                                      double target_sum,
                                                      double* used_target = nullptr);

/// Returns a normalised copy; the input is not modified.
NormalizeResults normalize_total(const Matrix& X, const NormalizeOptions& options = {});

/// In place: x -> log(1 + x) (natural log, as scanpy). Zeros stay zeros, so CSR keeps its
/// structure.
void log1p_inplace(Matrix& X, const RunControl& control = {});

/// Normalise (by `factors`) and log1p only the columns in `genes`, into a new CSR with those
/// columns in that order: the PCA input of the pipeline without materialising the full
/// normalised matrix.
CsrMatrix normalized_log_columns(const Matrix& counts, const std::vector<double>& factors,
                                 const std::vector<int64_t>& genes, const RunControl& control = {});

struct ScaleOptions {
    bool zero_center = true;
    /// Clip scaled values to at most this (and at least -this when centring). <= 0: no clipping.
    double max_value = 0.0;
    RunControl control;
};

struct ScaleResults {
    std::vector<double> means;  // per gene
    std::vector<double> stds;   // per gene, ddof = 1 like scanpy; 0 replaced by 1
    /// Dense input: scaled in place. Sparse input is never densified: it is scaled in place only
    /// when zero_center is false (x / std, clipped at max_value); with zero_center the matrix is
    /// untouched and `means`/`stds` are the factors for an implicitly centred PCA.
    bool modified = false;
};

/// scanpy.pp.scale semantics (mean/std per gene, std with ddof=1, zero std -> 1).
ScaleResults scale(Matrix& X, const ScaleOptions& options = {});

/// Per-gene mean and variance (ddof = 1) in one pass, reduced over fixed chunks (bit-identical
/// for any thread count).
void gene_mean_var(const Matrix& X, std::vector<double>& means, std::vector<double>& variances,
                   const RunControl& control = {});

}  // namespace transcura
