#pragma once
// All batch diagnostics of one embedding in one call, as the batch panel and
// `transcura-cli diagnose` show them: iLISI / cLISI, kBET, batch and label ASW, PC regression,
// graph connectivity and per-batch summaries. Neighbours are searched once (k = max(3 x
// perplexity, kBET's k0)) and shared by LISI, kBET and graph connectivity: exact up to
// exact_max_cells cells, HNSW above (or a table the caller already has). Silhouettes are exact
// on up to silhouette.max_cells cells (a seeded uniform subsample above, reported).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "transcura/batch_summary.hpp"
#include "transcura/cohort.hpp"
#include "transcura/graph_connectivity.hpp"
#include "transcura/kbet.hpp"
#include "transcura/lisi.hpp"
#include "transcura/pcr.hpp"
#include "transcura/progress.hpp"
#include "transcura/silhouette.hpp"

namespace transcura {

/// Categorical codes (negative = missing) and the names they index.
struct CodedLabels {
    std::vector<int32_t> codes;
    std::vector<std::string> names;
};

struct DiagnosticsOptions {
    double perplexity = 30.0;          // LISI
    KbetOptions kbet;                  // k0, tested share, alpha, seed (its control is unused)
    SilhouetteOptions silhouette;      // max_cells (default 20000), seed (control unused)
    int graph_neighbors = 15;          // graph connectivity, counting the cell itself
    std::vector<double> pc_variances;  // PCR weights; empty = column variances
    /// Neighbours are exact up to this many cells, HNSW (M 16, ef_construction 100, ef k + 20,
    /// built on one thread in cell order, seeded) above.
    int64_t exact_max_cells = 20000;
    uint64_t seed = 0;  // HNSW index
    RunControl control;
};

struct DiagnosticsResults {
    int64_t n_cells = 0;
    int n_batches = 0;  // batches with cells
    int n_labels = 0;   // labels with cells (0 = no labels given)
    // Summaries (NaN where undefined: c-metrics without labels; kBET with one batch).
    double ilisi_median = 0.0;        // 1 .. n_batches; higher = better mixed
    double clisi_median = 0.0;        // 1 .. n_labels; lower = purer cell types
    double kbet_acceptance = 0.0;     // 0 .. 1; higher = better mixed
    double asw_batch = 0.0;           // scib batch ASW, 0 .. 1; higher = better mixed
    double asw_label = 0.0;           // scib label ASW, 0 .. 1; higher = better separated
    double pcr_batch = 0.0;           // 0 .. 1; variance explained by batch
    double graph_connectivity = 0.0;  // 0 .. 1; higher = cell types connected across batches
    // Per cell (n_cells each): iLISI, cLISI (NaN without labels), kBET verdict (1 accepted,
    // 0 rejected, -1 not tested).
    std::vector<double> ilisi;
    std::vector<double> clisi;
    std::vector<int8_t> kbet_accepted;
    // Details.
    KbetResults kbet;  // k0, tested count, expected rejection, p-values
    PcrResults pcr;
    BatchAswResults batch_asw;
    SilhouetteResults label_silhouette;
    GraphConnectivityResults connectivity;
    BatchSummaryResults per_batch;  // QC medians per batch; composition vs labels
    bool neighbors_exact = true;
    int neighbors_k = 0;
    std::map<std::string, double> seconds;  // wall time per part
};

/// `embedding` n x d (e.g. X_pca); `batch` required (two or more batches for most metrics);
/// `labels` optional (codes empty = none: batch ASW then treats all cells as one label, and
/// cLISI, label ASW, graph connectivity and the composition table are NaN / empty); `qc`
/// optional per-cell QC columns for the per-batch medians. `neighbors`, when given, must hold
/// every cell with the cell itself first and at least max(3 x perplexity, k0) columns.
DiagnosticsResults run_diagnostics(const DenseD& embedding, const CodedLabels& batch,
                                   const CodedLabels& labels = {}, const BatchQcColumns& qc = {},
                                   const DiagnosticsOptions& options = {},
                                   const NeighborLists* neighbors = nullptr);

/// The summary as `transcura-cli diagnose` writes it per embedding: ilisi_median,
/// clisi_median, kbet_acceptance, asw_batch, asw_label, pcr_batch, graph_connectivity (null
/// when undefined), details (kbet_k0, kbet_tested, kbet_expected_rejection, silhouette_cells,
/// neighbors), and per_batch keyed by batch name (n_cells, median_total_counts, median_genes,
/// median_pct_mito, ilisi_median, kbet_acceptance).
nlohmann::json diagnostics_to_json(const DiagnosticsResults& results, const CodedLabels& batch);

/// Adds the per-cell scores to `obs` as float columns ilisi<suffix>, clisi<suffix> (when
/// labels were given) and kbet_accepted<suffix> (1 / 0, NaN where not tested).
void add_diagnostics_to_obs(DataFrame& obs, const DiagnosticsResults& results,
                            const std::string& suffix = {});

}  // namespace transcura
