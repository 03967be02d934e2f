#pragma once
// UMAP (McInnes, Healy & Melville 2018), following umap-learn 0.5:
//  1. fuzzy simplicial set: per cell, rho = distance to the nearest non-identical neighbour and
//     sigma from a binary search so that sum_j exp(-(d_ij - rho) / sigma) = log2(k)
//     (smooth_knn_dist, local_connectivity 1); membership w_ij = exp(-(d_ij - rho_i) / sigma_i),
//     symmetrised as the fuzzy union A + A^T - A∘A^T (set_op_mix_ratio 1). This symmetric graph
//     is also scanpy's obsp["connectivities"], the input of Leiden.
//  2. a, b of the low-dimensional kernel 1 / (1 + a d^(2b)) fitted to min_dist / spread by
//     least squares (find_ab_params).
//  3. initial layout: spectral (eigenvectors of the normalised graph Laplacian), scaled to
//     [0, 10] with a little noise; a seeded uniform random layout when the eigen solver does not
//     converge or the graph is not connected (umap-learn would lay components out separately
//     with a meta-embedding; our fallback is the random init umap-learn uses when spectral fails).
//  4. SGD: each edge is sampled in proportion to its weight (epochs_per_sample), attracts its two
//     ends, and is followed by negative_sample_rate repulsive samples; gradients clipped at 4,
//     learning rate decaying linearly to 0 (optimize_layout_euclidean).
//
// Threads: an epoch's edge updates are applied in a fixed order (see umap_optimize.cpp), so the
// layout depends only on the seed and the thread count, never on scheduling: same seed and same
// num_threads give a bit-identical layout.
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/lisi.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct UmapOptions {
    /// Dimension of the layout: 2 or 3.
    int n_components = 2;
    /// Minimum distance between embedded points (scanpy's default is 0.5, umap-learn's 0.1) and
    /// the scale of the embedded points; a and b are fitted from these.
    double min_dist = 0.5;
    double spread = 1.0;
    /// 0 = umap-learn's rule: 500 if n_cells <= 10000, else 200.
    int n_epochs = 0;
    /// Initial SGD step, decaying linearly to 0 over the epochs.
    double learning_rate = 1.0;
    /// Repulsive samples per attractive sample.
    int negative_sample_rate = 5;
    /// Weight of the repulsive term (umap-learn's gamma).
    double repulsion_strength = 1.0;
    /// Spectral initialisation; falls back to a seeded random layout when it fails.
    bool spectral_init = true;
    /// Neighbours per cell used for the fuzzy set, counting the cell itself; 0 = knn.k.
    int n_neighbors = 0;
    uint64_t seed = 0;
    RunControl control;
};

/// Per-cell results of smooth_knn_dist (for tests and diagnostics).
struct SmoothKnnResults {
    std::vector<double> sigmas;
    std::vector<double> rhos;
};

/// umap-learn's smooth_knn_dist with local_connectivity 1 and bandwidth 1, over the first
/// n_neighbors columns (0 = knn.k) of each row.
SmoothKnnResults smooth_knn_dist(const NeighborLists& knn, int n_neighbors = 0,
                                 const RunControl& control = {});

/// The symmetric fuzzy simplicial set of a kNN table (row i = cell i, normally itself first;
/// entries pointing at the row's own cell get weight 0). n_neighbors 0 = knn.k. Rows sorted by
/// column, no explicit zeros, values in (0, 1].
CsrMatrix fuzzy_simplicial_set(const NeighborLists& knn, int n_neighbors = 0,
                               const RunControl& control = {});

/// a, b with 1 / (1 + a x^(2b)) ~ 1 for x < min_dist and exp(-(x - min_dist) / spread) beyond,
/// by Levenberg-Marquardt on 300 points in [0, 3 spread] (umap-learn's find_ab_params).
std::pair<double, double> find_ab_params(double spread, double min_dist);

/// umap-learn's default epoch count for n cells.
int default_umap_epochs(int64_t n_cells);

/// Steppable UMAP: construct, initialize() (fuzzy set + initial layout), then run(epochs) as
/// many times as wanted; layout() is valid between calls (the GUI draws it live). run() polls
/// control.cancel between epochs and throws Cancelled with a complete layout of the last
/// finished epoch (run() may then be called again to resume); it reports control.progress about
/// 100 times over the whole run, with layout() already updated to the reported epoch.
/// Running in chunks gives exactly the layout of one run. Not thread-safe: read layout() from
/// the thread that calls run() (between calls or inside the progress callback) and copy it
/// there for another thread.
class UmapLayout {
public:
    UmapLayout(const NeighborLists& knn, UmapOptions options);
    ~UmapLayout();
    UmapLayout(UmapLayout&&) noexcept;
    UmapLayout& operator=(UmapLayout&&) noexcept;
    UmapLayout(const UmapLayout&) = delete;
    UmapLayout& operator=(const UmapLayout&) = delete;

    /// Builds the fuzzy set, the epoch schedule and the initial layout. Called by run() if needed.
    void initialize();
    /// Runs up to `epochs` more epochs (fewer at the end); returns the epochs done so far.
    int run(int epochs);
    /// Runs the remaining epochs.
    int run_to_end();

    bool initialized() const;
    bool done() const;
    int epoch() const;
    int n_epochs() const;
    /// n_cells x n_components; empty before initialize().
    const DenseD& layout() const;
    /// The symmetric fuzzy simplicial set (before pruning of weak edges); empty before
    /// initialize().
    const CsrMatrix& graph() const;
    bool spectral_init_used() const;
    double a() const;
    double b() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

struct UmapResults {
    DenseD embedding;  // n_cells x n_components
    int n_epochs = 0;
    bool spectral_init_used = false;
};

/// The whole thing: initialise and run every epoch.
UmapResults run_umap(const NeighborLists& knn, const UmapOptions& options);

}  // namespace transcura
