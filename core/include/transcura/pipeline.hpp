#pragma once
// The standard pipeline: QC -> filter -> normalise -> log1p -> HVG -> PCA -> kNN -> UMAP ->
// Leiden, as `transcura-cli run` and the GUI run it. Results come back as a new cohort
// (kept cells, raw counts in X, QC columns and leiden in obs, X_pca/X_umap in obsm).
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct PipelineOptions {
    std::string batch_key;        // "" = no batch (HVG and QC outlier flags per batch when set)
    int min_genes = 200;          // cells with fewer detected genes are dropped
    double max_pct_mt = 20.0;     // cells with more % mitochondrial counts are dropped
    int n_hvg = 2000;
    int n_pcs = 50;
    int n_neighbors = 15;
    double min_dist = 0.5;
    int umap_components = 2;
    double resolution = 1.0;
    uint64_t seed = 0;
    RunControl control;           // threads, progress (fraction of the whole pipeline), cancel
    /// Called with the current UMAP layout (n_cells x components, row-major) every few epochs,
    /// so a GUI can show the live layout. May be empty.
    std::function<void(const DenseD& layout, int epoch, int n_epochs)> on_umap_epoch;
};

struct PipelineResults {
    Cohort cohort;                           // the kept cells with everything added
    std::map<std::string, double> seconds;   // step name -> wall seconds
    int64_t cells_before = 0;
    int64_t cells_after = 0;
};

/// Runs every step; throws Cancelled when control.cancel is set, leaving `input` untouched.
PipelineResults run_pipeline(const Cohort& input, const PipelineOptions& options);

}  // namespace transcura
