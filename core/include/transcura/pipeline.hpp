#pragma once
// The standard pipeline: QC -> filter -> normalise -> log1p -> HVG -> PCA -> kNN -> UMAP ->
// Leiden, as `transcura-cli run` and the GUI run it. Results come back as a new cohort
// (kept cells, raw counts in X, QC columns and leiden in obs, X_pca/X_umap in obsm).
//
// The recipe is scanpy's standard one: QC metrics (qc.hpp) on all cells; cells with fewer than
// min_genes detected genes or more than max_pct_mt % mitochondrial counts dropped; counts
// normalised to target_sum per cell and log1p; seurat-flavour HVGs on the log data (per batch
// when batch_key is set); PCA of the HVGs centred but NOT scaled (scanpy's sc.pp.pca after
// sc.pp.highly_variable_genes without sc.pp.scale); kNN on the PCs (k counting the cell
// itself); UMAP (its fuzzy simplicial set is obsp["connectivities"]); Leiden on those
// connectivities, clusters numbered by size. The
// normalised matrix is never materialised: HVG statistics come from the counts and the cell
// factors, and only the HVG columns are log-normalised for PCA.
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct PipelineOptions {
    std::string batch_key;     // "" = no batch (HVG and QC outlier flags per batch when set)
    int min_genes = 200;       // cells with fewer detected genes are dropped
    double max_pct_mt = 20.0;  // cells with more % mitochondrial counts are dropped
    double target_sum = 1e4;   // normalize_total target
    int n_hvg = 2000;
    int n_pcs = 50;
    int n_neighbors = 15;  // counting the cell itself, as scanpy
    /// Exact kNN search up to this many kept cells, HNSW above (knn.hpp's default).
    int64_t knn_exact_max_cells = 150000;
    double min_dist = 0.5;
    int umap_components = 2;
    int umap_epochs = 0;  // 0 = umap-learn's rule (500 up to 10k cells, else 200)
    double resolution = 1.0;
    uint64_t seed = 0;
    RunControl control;  // threads, progress (fraction of the whole pipeline), cancel
    /// Called with the current UMAP layout (n_cells x components, row-major) every few epochs,
    /// so a GUI can show the live layout. May be empty.
    std::function<void(const DenseD& layout, int epoch, int n_epochs)> on_umap_epoch;
};

struct PipelineResults {
    Cohort cohort;  // the kept cells with everything added
    /// step name -> wall seconds: qc, filter, normalize, hvg, pca, knn, umap, leiden (the UMAP
    /// time includes the fuzzy simplicial set, which is also Leiden's graph)
    std::map<std::string, double> seconds;
    /// The same steps' CPU seconds (user + system, all threads of the process).
    std::map<std::string, double> cpu_seconds;
    int64_t cells_before = 0;
    int64_t cells_after = 0;
};

/// Runs every step; throws Cancelled when control.cancel is set, leaving `input` untouched.
PipelineResults run_pipeline(const Cohort& input, const PipelineOptions& options);

/// The same, consuming `input`: the kept cells are compacted in place instead of copied, which
/// halves peak memory on large cohorts (the CLI's path). `input` is left empty/unspecified.
PipelineResults run_pipeline(Cohort&& input, const PipelineOptions& options);

}  // namespace transcura
