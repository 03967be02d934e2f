// Batch diagnostics of a whole cohort: obs columns turned into batch / label codes (refusing
// columns that are no grouping), the QC columns found, the diagnostics run on an embedding and,
// when asked, on its Harmony correction; results go back into the cohort.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>

#include "transcura/diagnostics.hpp"
#include "transcura/errors.hpp"
#include "transcura/knn.hpp"
#include "transcura/pipeline.hpp"
#include "transcura/qc.hpp"
#include "transcura/umap.hpp"

namespace transcura {
namespace {

constexpr size_t kMaxNumericLevels = 100;

/// Progress of a part mapped onto [begin, end) of the whole call; same threads and cancel.
RunControl part_control(const RunControl& parent, double begin, double end) {
    return parent.part(begin, end);
}

/// The same, reported as `what` whatever the step says (its own words, "UMAP: optimising
/// layout", would not tell which embedding is being laid out).
RunControl named_part(const RunControl& parent, double begin, double end, std::string what) {
    RunControl part = parent.part(begin, end);
    if (part.progress)
        part.progress = [inner = std::move(part.progress), what = std::move(what)](
                            double fraction, const std::string&) { inner(fraction, what); };
    return part;
}

std::string too_many_levels(const std::string& role, const std::string& key, size_t levels,
                            size_t cells) {
    return role + ": obs column '" + key + "' has " + std::to_string(levels) +
           " distinct values for " + std::to_string(cells) +
           " cells: an identifier or a measurement, not a grouping";
}

/// A categorical column with its unused categories dropped (codes renumbered, order kept).
CodedLabels compact_categorical(const Column& column) {
    std::vector<int32_t> renumber(column.categories.size(), -1);
    for (int32_t c : column.codes)
        if (c >= 0 && static_cast<size_t>(c) < renumber.size())
            renumber[static_cast<size_t>(c)] = 0;
    CodedLabels out;
    for (size_t c = 0; c < renumber.size(); ++c)
        if (renumber[c] == 0) {
            renumber[c] = static_cast<int32_t>(out.names.size());
            out.names.push_back(column.categories[c]);
        }
    out.codes.reserve(column.codes.size());
    for (int32_t c : column.codes)
        out.codes.push_back(c >= 0 && static_cast<size_t>(c) < renumber.size()
                                ? renumber[static_cast<size_t>(c)]
                                : -1);
    return out;
}

const Column* first_column(const DataFrame& obs, std::initializer_list<const char*> names) {
    for (const char* name : names)
        if (const Column* column = obs.find(name); column && column->is_numeric()) return column;
    return nullptr;
}

std::vector<double> numbers_of(const Column& column) {
    std::vector<double> values(column.size());
    for (size_t i = 0; i < values.size(); ++i) values[i] = column.number(i);
    return values;
}

/// Per-cell QC values for the per-batch medians: obs columns when present, else X's QC.
struct QcValues {
    std::vector<double> total_counts, n_genes, pct_mito;
    BatchQcColumns columns() const { return BatchQcColumns{total_counts, n_genes, pct_mito}; }
};

QcValues qc_values(const Cohort& cohort, const RunControl& control) {
    QcValues v;
    const Column* counts = first_column(cohort.obs, {"total_counts", "n_counts", "nCount_RNA"});
    const Column* genes =
        first_column(cohort.obs, {"n_genes_by_counts", "n_genes", "nFeature_RNA"});
    const Column* mito =
        first_column(cohort.obs, {"pct_counts_mt", "percent_mito", "percent.mt", "pct_mito"});
    if (!counts && !genes && !mito && cohort.X && cohort.X->n_rows() == cohort.n_obs()) {
        QcOptions options;
        options.control = control;
        const QcResults qc = compute_qc(*cohort.X, cohort.var_names, options);
        v.total_counts = qc.total_counts;
        v.n_genes = qc.n_genes_by_counts;
        for (size_t s = 0; s < qc.set_names.size(); ++s)
            if (qc.set_names[s] == "mt" && qc.set_sizes[s] > 0) v.pct_mito = qc.set_pct[s];
        return v;
    }
    if (counts) v.total_counts = numbers_of(*counts);
    if (genes) v.n_genes = numbers_of(*genes);
    if (mito) v.pct_mito = numbers_of(*mito);
    return v;
}

int present_levels(const CodedLabels& labels) {
    std::vector<char> seen(labels.names.size(), 0);
    int present = 0;
    for (int32_t c : labels.codes)
        if (c >= 0 && !seen[static_cast<size_t>(c)]) {
            seen[static_cast<size_t>(c)] = 1;
            ++present;
        }
    return present;
}

/// uns[group]["params"][key] when it is a number (or a one-element array of one, as some
/// writers store scalars), else nullptr.
const nlohmann::json* recorded_number(const nlohmann::json& uns, const char* group,
                                      const char* key) {
    const auto g = uns.find(group);
    if (g == uns.end() || !g->is_object()) return nullptr;
    const auto params = g->find("params");
    if (params == g->end() || !params->is_object()) return nullptr;
    const auto value = params->find(key);
    if (value == params->end()) return nullptr;
    const nlohmann::json* v = &*value;
    if (v->is_array() && v->size() == 1) v = &(*v)[0];
    return v->is_number() ? v : nullptr;
}

/// The kNN and UMAP parameters the pipeline used for X_umap, as it records them in uns
/// (pipeline.cpp), each falling back to PipelineOptions' default: the Harmony UMAP is then
/// laid out exactly as X_umap was, only from the corrected PCs.
struct LayoutParameters {
    KnnOptions knn;
    UmapOptions umap;
};

LayoutParameters pipeline_layout_parameters(const nlohmann::json& uns) {
    const PipelineOptions defaults;
    auto integer = [&](const char* group, const char* key, int64_t fallback, int64_t low) {
        const nlohmann::json* v = recorded_number(uns, group, key);
        if (!v) return fallback;
        const double d = v->get<double>();
        return d >= static_cast<double>(low) && d == std::floor(d) && d < 1e12
                   ? static_cast<int64_t>(d)
                   : fallback;
    };
    auto real = [&](const char* group, const char* key, double fallback) {
        const nlohmann::json* v = recorded_number(uns, group, key);
        return v && std::isfinite(v->get<double>()) ? v->get<double>() : fallback;
    };
    LayoutParameters p;
    p.knn.k = static_cast<int>(integer("neighbors", "n_neighbors", defaults.n_neighbors, 2));
    p.knn.exact_max_cells = defaults.knn_exact_max_cells;
    // The threshold itself is not recorded, only which search answered: keep to it.
    if (const auto n = uns.find("neighbors"); n != uns.end() && n->is_object())
        if (const auto params = n->find("params"); params != n->end() && params->is_object())
            if (const auto search = params->find("knn_search");
                search != params->end() && search->is_string())
                p.knn.exact_max_cells =
                    search->get<std::string>() == "hnsw" ? 0 : std::numeric_limits<int64_t>::max();
    const auto seed = static_cast<uint64_t>(
        integer("umap", "random_state",
                integer("neighbors", "random_state", static_cast<int64_t>(defaults.seed), 0), 0));
    p.knn.seed = seed;
    p.umap.n_components =
        static_cast<int>(integer("umap", "n_components", defaults.umap_components, 2));
    if (p.umap.n_components > 3) p.umap.n_components = defaults.umap_components;
    p.umap.min_dist = std::max(0.0, real("umap", "min_dist", defaults.min_dist));
    if (const double spread = real("umap", "spread", p.umap.spread); spread > 0)
        p.umap.spread = spread;
    p.umap.n_epochs = static_cast<int>(integer("umap", "n_epochs", defaults.umap_epochs, 0));
    p.umap.seed = seed;
    return p;
}

}  // namespace

std::string harmony_umap_key(const std::string& embedding) {
    if (embedding == "X_pca") return "X_umap_harmony";
    const std::string name = embedding.rfind("X_", 0) == 0 ? embedding.substr(2) : embedding;
    return "X_umap_" + name + "_harmony";
}

CodedLabels obs_categories(const Cohort& cohort, const std::string& key, const std::string& role) {
    const Column* column = cohort.obs.find(key);
    if (!column) {
        std::string known;
        for (const auto& name : cohort.obs.names()) known += (known.empty() ? "" : ", ") + name;
        throw InvalidArgument(role + ": obs has no column '" + key +
                              "' (obs columns: " + (known.empty() ? "none" : known) + ")");
    }
    const size_t n = column->size();
    const size_t limit = std::max<size_t>(kMaxNumericLevels, n / 2);
    CodedLabels out;
    if (column->type == ColumnType::Categorical) {
        out = compact_categorical(*column);
        if (out.names.size() > limit)
            throw InvalidArgument(too_many_levels(role, key, out.names.size(), n));
        return out;
    }
    const bool numeric = column->type == ColumnType::Float || column->type == ColumnType::Int;
    if (numeric) {
        // Whole numbers with few levels (batch 1, 2, 3) are groups; anything else is a
        // measurement. Levels are sorted by value.
        std::map<double, int32_t> levels;
        for (size_t i = 0; i < n; ++i) {
            if (column->is_missing(i)) continue;
            const double value = column->number(i);
            if (value != std::floor(value))
                throw InvalidArgument(role + ": obs column '" + key + "' holds " + column->text(i) +
                                      ", not a whole number: a measurement, not a grouping");
            levels.emplace(value, 0);
            if (levels.size() > kMaxNumericLevels)
                throw InvalidArgument(role + ": obs column '" + key +
                                      "' is numeric with more than " +
                                      std::to_string(kMaxNumericLevels) +
                                      " distinct values: a measurement, not a grouping");
        }
        int32_t code = 0;
        for (auto& [value, c] : levels) c = code++;
        out.names.assign(levels.size(), {});
        out.codes.assign(n, -1);
        for (size_t i = 0; i < n; ++i) {
            if (column->is_missing(i)) continue;
            const int32_t c = levels.at(column->number(i));
            out.codes[i] = c;
            if (out.names[static_cast<size_t>(c)].empty())
                out.names[static_cast<size_t>(c)] = column->text(i);
        }
        return out;
    }
    // String or bool: levels sorted by text, as pandas' categorical would order them.
    std::map<std::string, int32_t> levels;
    for (size_t i = 0; i < n; ++i)
        if (!column->is_missing(i)) levels.emplace(column->text(i), 0);
    if (levels.size() > limit) throw InvalidArgument(too_many_levels(role, key, levels.size(), n));
    for (auto& [name, c] : levels) {
        c = static_cast<int32_t>(out.names.size());
        out.names.push_back(name);
    }
    out.codes.assign(n, -1);
    for (size_t i = 0; i < n; ++i)
        if (!column->is_missing(i)) out.codes[i] = levels.at(column->text(i));
    return out;
}

CohortDiagnosticsResults diagnose_cohort(Cohort& cohort, const CohortDiagnosticsOptions& options) {
    using Clock = std::chrono::steady_clock;
    const RunControl& control = options.control;
    if (options.batch_key.empty()) throw InvalidArgument("diagnostics: no batch key given");
    CohortDiagnosticsResults r;
    r.batch_key = options.batch_key;
    r.batch = obs_categories(cohort, options.batch_key, "batch key");
    const int n_batches = present_levels(r.batch);
    if (n_batches < 2)
        throw InvalidArgument("batch key: obs column '" + options.batch_key + "' has " +
                              (n_batches == 0
                                   ? std::string("no values")
                                   : "only one batch ('" + r.batch.names.front() + "')") +
                              "; batch diagnostics need at least two batches");

    r.label_key = options.label_key;
    if (r.label_key.empty() && cohort.obs.contains("leiden")) r.label_key = "leiden";
    if (!r.label_key.empty()) r.labels = obs_categories(cohort, r.label_key, "label key");

    const auto found = cohort.obsm.find(options.embedding);
    if (found == cohort.obsm.end()) {
        std::string known;
        for (const auto& [key, m] : cohort.obsm) known += (known.empty() ? "" : ", ") + key;
        throw InvalidArgument("embedding: obsm has no '" + options.embedding +
                              "' (obsm: " + (known.empty() ? "none" : known) + ")");
    }
    const DenseD& embedding = found->second;
    if (embedding.n_rows != cohort.n_obs() || embedding.n_cols < 1)
        throw InvalidArgument("embedding: obsm['" + options.embedding + "'] is " +
                              std::to_string(embedding.n_rows) + " x " +
                              std::to_string(embedding.n_cols) + " for " +
                              std::to_string(cohort.n_obs()) + " cells");
    for (double v : embedding.values)
        if (!std::isfinite(v))
            throw InvalidArgument("embedding: obsm['" + options.embedding +
                                  "'] holds NaN or infinite values");
    int64_t without_batch = 0;
    for (int32_t c : r.batch.codes) without_batch += c < 0;
    if (options.harmony && without_batch > 0)
        throw InvalidArgument("batch key: " + std::to_string(without_batch) +
                              " cells have no value in obs column '" + options.batch_key +
                              "'; Harmony needs a batch for every cell");

    LayoutParameters layout = pipeline_layout_parameters(cohort.uns);
    const bool lay_out = options.harmony && options.harmony_umap &&
                         embedding.n_cols > layout.umap.n_components &&
                         cohort.n_obs() > layout.knn.k;
    // Progress shares: roughly the measured wall time of each part (2000 - 20000 cells).
    struct Shares {
        double raw_end, harmony_end, corrected_end, knn_end;
    };
    const Shares shares = !options.harmony ? Shares{1.0, 1.0, 1.0, 1.0}
                          : lay_out        ? Shares{0.25, 0.5, 0.7, 0.75}
                                           : Shares{0.35, 0.65, 1.0, 1.0};
    const QcValues qc = qc_values(cohort, part_control(control, 0.0, 0.01));

    DiagnosticsOptions diagnostics = options.diagnostics;
    diagnostics.control = part_control(control, 0.01, shares.raw_end);
    EmbeddingDiagnostics raw;
    raw.name = options.embedding;
    raw.results = run_diagnostics(embedding, r.batch, r.labels, qc.columns(), diagnostics);
    r.embeddings.push_back(std::move(raw));

    if (options.harmony) {
        HarmonyOptions harmony = options.harmony_options;
        harmony.control = part_control(control, shares.raw_end, shares.harmony_end);
        const auto t0 = Clock::now();
        r.harmony = run_harmony(embedding, r.batch.codes, harmony);
        r.harmony_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        r.harmony_run = true;
        EmbeddingDiagnostics corrected;
        corrected.name = options.embedding + "_harmony";
        diagnostics.control = part_control(control, shares.harmony_end, shares.corrected_end);
        corrected.results =
            run_diagnostics(r.harmony.corrected, r.batch, r.labels, qc.columns(), diagnostics);
        if (lay_out) {
            // The pipeline's kNN + UMAP step, on the corrected PCs (see pipeline.cpp).
            const auto t1 = Clock::now();
            layout.knn.control = named_part(control, shares.corrected_end, shares.knn_end,
                                            "neighbours of " + corrected.name);
            const KnnResults knn = knn_graph(r.harmony.corrected, layout.knn);
            layout.umap.control =
                named_part(control, shares.knn_end, 1.0, "UMAP of " + corrected.name);
            UmapLayout umap(knn.neighbors, layout.umap);
            umap.run_to_end();
            r.harmony_umap_key = harmony_umap_key(options.embedding);
            r.harmony_umap_neighbors = knn.neighbors.k;
            r.harmony_umap_epochs = umap.n_epochs();
            r.harmony_umap_knn_exact = knn.exact;
            cohort.obsm[r.harmony_umap_key] = umap.layout();
            cohort.uns["umap_harmony"] = {
                {"params",
                 {{"use_rep", corrected.name},
                  {"obsm_key", r.harmony_umap_key},
                  {"n_neighbors", knn.neighbors.k},
                  {"knn_search", knn.exact ? "exact" : "hnsw"},
                  {"a", umap.a()},
                  {"b", umap.b()},
                  {"min_dist", layout.umap.min_dist},
                  {"spread", layout.umap.spread},
                  {"n_components", layout.umap.n_components},
                  {"n_epochs", umap.n_epochs()},
                  {"init", umap.spectral_init_used() ? "spectral" : "random"},
                  {"random_state", layout.umap.seed}}}};
            r.harmony_umap_run = true;
            r.harmony_umap_seconds = std::chrono::duration<double>(Clock::now() - t1).count();
        }
        cohort.obsm[corrected.name] = std::move(r.harmony.corrected);
        r.harmony.corrected = DenseD();
        r.embeddings.push_back(std::move(corrected));
    }
    if (options.add_to_obs)
        for (const auto& e : r.embeddings)
            add_diagnostics_to_obs(cohort.obs, e.results, "_" + e.name);
    control.report(1.0, "batch diagnostics");
    return r;
}

nlohmann::json cohort_diagnostics_to_json(const CohortDiagnosticsResults& r) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& e : r.embeddings) {
        nlohmann::json one = diagnostics_to_json(e.results, r.batch);
        one["batch_key"] = r.batch_key;
        one["label_key"] =
            r.label_key.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.label_key);
        if (r.harmony_run && &e != &r.embeddings.front()) {
            one["harmony"] = {{"iterations", r.harmony.iterations},
                              {"converged", r.harmony.converged},
                              {"n_clusters", r.harmony.n_clusters},
                              {"seconds", r.harmony_seconds}};
            if (r.harmony_umap_run) {
                one["harmony"]["umap_key"] = r.harmony_umap_key;
                one["harmony"]["umap_seconds"] = r.harmony_umap_seconds;
            }
        }
        out[e.name] = std::move(one);
    }
    return out;
}

}  // namespace transcura
