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
#include "transcura/harmony.hpp"
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
    /// Neighbours are exact up to this many cells, HNSW (the engine's, M 16, ef_construction
    /// 100, ef_search max(60, k + 45), deterministic for the seed) above.
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
/// neighbors), per_batch keyed by batch name (n_cells, median_total_counts, median_genes,
/// median_pct_mito, ilisi_median, kbet_acceptance) and, when labels were given, composition
/// (clusters, batches, counts[cluster][batch], entropy, normalized_entropy).
nlohmann::json diagnostics_to_json(const DiagnosticsResults& results, const CodedLabels& batch);

/// Adds the per-cell scores to `obs` as float columns ilisi<suffix>, clisi<suffix> (when
/// labels were given) and kbet_accepted<suffix> (1 / 0, NaN where not tested).
void add_diagnostics_to_obs(DataFrame& obs, const DiagnosticsResults& results,
                            const std::string& suffix = {});

// ---- A whole cohort, as `transcura-cli diagnose` and the batch panel run it ----

/// Categorical codes of an obs column used as batches or labels. Categorical, string and bool
/// columns are taken as they are (unused categories dropped, names sorted for non-categorical
/// columns); numeric columns only when every value is a whole number and there are at most 100
/// distinct values (batch 1, 2, 3), since a continuous column such as total_counts is no
/// grouping. Throws InvalidArgument naming the column when it is absent, continuous, or has
/// more distinct values than max(100, half the cells) (an identifier rather than a group).
/// `role` ("batch key", "label key") names it in messages.
CodedLabels obs_categories(const Cohort& cohort, const std::string& key, const std::string& role);

struct CohortDiagnosticsOptions {
    std::string batch_key;            // required: two or more batches
    std::string label_key;            // "" = obs "leiden" when present, else no labels
    std::string embedding = "X_pca";  // an obsm key
    /// Also correct the embedding with Harmony (batch = batch_key), store it as
    /// obsm[<embedding>_harmony] and diagnose it the same way, side by side.
    bool harmony = false;
    HarmonyOptions harmony_options;  // its control is replaced by `control`
    /// With Harmony, also lay out a UMAP of the corrected embedding as the pipeline lays out
    /// X_umap from X_pca (knn_graph then UmapLayout, with the neighbours, exact or HNSW search,
    /// components, min_dist, spread, epochs and seed the pipeline recorded in uns["neighbors"] /
    /// uns["umap"], the pipeline's defaults where absent), stored as
    /// obsm[harmony_umap_key(embedding)], so the layouts before and after Harmony can be compared.
    /// Skipped when the embedding has no more columns than the layout (a UMAP of a 2-D embedding
    /// shows nothing new). Costs about as much as the pipeline's kNN + UMAP steps.
    bool harmony_umap = true;
    DiagnosticsOptions diagnostics;  // its control is replaced by `control`
    /// Per-cell scores into obs as ilisi_<embedding>, clisi_<embedding> (with labels) and
    /// kbet_accepted_<embedding> (1 / 0, NaN where not tested), for each embedding diagnosed.
    bool add_to_obs = true;
    RunControl control;  // threads, progress over the whole call, cancel
};

struct EmbeddingDiagnostics {
    std::string name;  // obsm key
    DiagnosticsResults results;
};

struct CohortDiagnosticsResults {
    std::string batch_key;
    std::string label_key;  // the column used for labels ("" = none)
    CodedLabels batch;
    CodedLabels labels;  // codes empty when no labels
    /// The given embedding, then <embedding>_harmony when Harmony ran.
    std::vector<EmbeddingDiagnostics> embeddings;
    bool harmony_run = false;
    HarmonyResults harmony;  // iterations, objective...; `corrected` is moved into the cohort
    double harmony_seconds = 0.0;
    /// The UMAP of the corrected embedding (harmony_umap), when laid out.
    bool harmony_umap_run = false;
    std::string harmony_umap_key;  // its obsm key
    int harmony_umap_neighbors = 0;
    int harmony_umap_epochs = 0;
    bool harmony_umap_knn_exact = true;
    double harmony_umap_seconds = 0.0;  // kNN + UMAP
};

/// The obsm key of the UMAP laid out from an embedding's Harmony correction: X_umap_harmony
/// for X_pca (the pipeline's X_umap after Harmony), X_umap_<name>_harmony for X_<name>.
std::string harmony_umap_key(const std::string& embedding);

/// Validates the keys (InvalidArgument: unknown column, continuous column, one batch only,
/// missing embedding, cells without a batch when Harmony is asked), then runs the diagnostics
/// on obsm[embedding] (and on its Harmony correction), adding the results to `cohort`: the
/// corrected embedding (and its UMAP, with its parameters in uns["umap_harmony"]) to obsm, the
/// per-cell scores to obs. Per-batch QC medians come from obs
/// (total_counts / n_counts, n_genes_by_counts / n_genes, pct_counts_mt / percent_mito), or
/// from X's QC metrics when obs has none of them.
CohortDiagnosticsResults diagnose_cohort(Cohort& cohort, const CohortDiagnosticsOptions& options);

/// `transcura-cli diagnose --json`: one object per embedding name, each diagnostics_to_json
/// plus batch_key, label_key and, for the Harmony embedding, harmony (iterations, converged,
/// n_clusters, seconds and, when its UMAP was laid out, umap_key and umap_seconds).
nlohmann::json cohort_diagnostics_to_json(const CohortDiagnosticsResults& results);

}  // namespace transcura
