#pragma once
// PCA of the implicitly centred (optionally scaled) expression matrix, never densified.
//
// Randomized block Krylov method (Musco & Musco 2015; block Lanczos with full
// re-orthogonalisation): a Gaussian start block of `block_size` columns on the gene side, then
// `iterations` rounds of multiplication by A_c' A_c, each new block orthogonalised against all
// previous ones; the top components come from a Rayleigh-Ritz step on that Krylov basis.
// Centring and scaling are applied implicitly inside the sparse products
// (A_c x = A (D x) - 1 (mu' D x)), so a sparse input stays sparse. Against an exact SVD of the
// centred Kang 2018 PBMC matrix (2000 x 9015) the default settings give explained-variance ratios
// within 1e-8 relative for the top 30 components and 5e-3 for all 50, with ~2x fewer products
// than subspace iteration reaching 1e-2.
//
// Every product is computed row by row and every reduction over cells runs over fixed chunks in
// order, so the result is bit-identical for a given seed whatever the number of threads.
// Sign convention: each component is flipped so that its largest-|loading| gene is positive.
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct PcaOptions {
    /// Number of components (clamped to min(cells, genes)); scanpy's default 50.
    int n_components = 50;
    /// Centre each gene (implicitly). Without centring the decomposition is a truncated SVD and
    /// explained_variance is the variance of each score column.
    bool zero_center = true;
    /// Divide each gene by its standard deviation (ddof = 1; zero std -> 1), implicitly.
    bool scale = false;
    /// Columns per Krylov block. Small blocks with many rounds converge fastest per product.
    int block_size = 10;
    /// Rounds of multiplication by A_c' A_c. The basis has block_size * (iterations + 1)
    /// columns; it is enlarged automatically to at least n_components + 10.
    int iterations = 25;
    uint64_t seed = 0;
    RunControl control;
};

struct PcaResults {
    DenseD scores;                                 // cells x k (U * S, like scanpy's X_pca)
    DenseD loadings;                               // genes x k (scanpy's varm["PCs"])
    std::vector<double> singular_values;           // k
    std::vector<double> explained_variance;        // k: S^2 / (n - 1)
    std::vector<double> explained_variance_ratio;  // k: / total variance (as scikit-learn)
    double total_variance = 0.0;                   // sum of per-gene variances of the centred input
    std::vector<double> means;                     // per gene (0 when not centring)
    std::vector<double> scales;                    // per gene divisor (1 when not scaling)
};

/// Throws InvalidArgument for an empty matrix or n_components < 1; Cancelled when cancelled.
PcaResults run_pca(const Matrix& X, const PcaOptions& options = {});

}  // namespace transcura
