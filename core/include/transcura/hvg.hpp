#pragma once
// Highly variable genes, as scanpy's highly_variable_genes computes them.
//
// seurat (Satija et al. 2015; scanpy's default): on log1p-normalised data, per gene the mean and
//   variance (ddof 1) of expm1(X); dispersion = variance / mean; log dispersion and log1p mean;
//   genes cut into n_bins equal-width bins of the mean (pandas.cut); dispersions normalised to
//   z-scores within their bin (a bin with one gene gives it 1). The n_top_genes largest
//   normalised dispersions are kept (ties at the cut-off all kept, as scanpy).
// seurat_v3 (Stuart et al. 2019): on raw counts, a loess fit (local quadratic, tricube weights,
//   span 0.3; the 'direct' definition of Cleveland's loess) of log10 variance on log10 mean;
//   values clipped at mean + sqrt(n) * fitted sd; the variance of the clipped standardised
//   values ranks the genes.
// With batches: seurat runs per batch on the genes expressed in it, then genes are ranked by the
//   number of batches selecting them, ties broken by the mean normalised dispersion;
//   seurat_v3 ranks by the median within-batch rank, ties broken by the number of batches.
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

enum class HvgFlavor { Seurat, SeuratV3 };

struct HvgOptions {
    HvgFlavor flavor = HvgFlavor::Seurat;
    /// Genes to keep. 0 = use the cut-offs below (seurat flavour only).
    int n_top_genes = 2000;
    int n_bins = 20;
    /// seurat cut-offs when n_top_genes is 0 (scanpy's defaults).
    double min_mean = 0.0125, max_mean = 3.0, min_disp = 0.5;
    /// seurat_v3 loess span (fraction of genes in each local fit).
    double span = 0.3;
    RunControl control;
};

struct HvgResults {
    HvgFlavor flavor = HvgFlavor::Seurat;
    std::vector<uint8_t> highly_variable;
    std::vector<double> means;                 // seurat: log1p of the mean; v3: mean of counts
    std::vector<double> dispersions;           // seurat: log dispersion
    std::vector<double> dispersions_norm;      // seurat
    std::vector<double> variances;             // v3: variance of counts
    std::vector<double> variances_norm;        // v3: mean over batches of the standardised variance
    std::vector<double> highly_variable_rank;  // v3 (NaN for genes ranked in no batch)
    std::vector<int64_t> highly_variable_nbatches;      // with batches (v3: always)
    std::vector<uint8_t> highly_variable_intersection;  // seurat with batches
    int n_batches = 1;

    /// Indices of the selected genes, increasing.
    std::vector<int64_t> selected() const;
    /// var columns with scanpy names.
    std::vector<Column> var_columns() const;
    void add_to(Cohort& cohort) const;
};

/// `X`: log1p-normalised data for seurat, raw counts for seurat_v3. `batch` (optional): one code
/// per cell, -1 = missing (forms its own batch). Throws InvalidArgument on bad options.
HvgResults highly_variable_genes(const Matrix& X, const HvgOptions& options = {},
                                 const std::vector<int32_t>* batch = nullptr);

/// seurat flavour on log1p(counts_ij * cell_factors_i) without materialising that matrix (the
/// pipeline's path: `cell_factors` from normalization_factors()).
HvgResults highly_variable_genes_normalized(const Matrix& counts,
                                            const std::vector<double>& cell_factors,
                                            const HvgOptions& options = {},
                                            const std::vector<int32_t>* batch = nullptr);

/// Loess fit (degree 2, tricube weights, the nearest span * n points) evaluated at every x:
/// exposed for tests.
std::vector<double> loess_fit(const std::vector<double>& x, const std::vector<double>& y,
                              double span, const RunControl& control = {});

}  // namespace transcura
