// The standard pipeline (see pipeline.hpp): QC -> filter -> normalise -> HVG -> PCA -> kNN ->
// UMAP -> Leiden.
#include "transcura/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <optional>
#include <string>

#include "engine/memory.hpp"
#include "engine/parallel.hpp"
#include "transcura/errors.hpp"
#include "transcura/hvg.hpp"
#include "transcura/knn.hpp"
#include "transcura/leiden.hpp"
#include "transcura/normalize.hpp"
#include "transcura/pca.hpp"
#include "transcura/qc.hpp"
#include "transcura/umap.hpp"

namespace transcura {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

/// CPU seconds of the whole process (all threads): on a shared machine a steadier measure of a
/// step's cost than wall time.
double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

/// Wall and CPU time of one step, added to the results' maps (a step may be timed in parts).
class StepTimer {
public:
    explicit StepTimer(PipelineResults& results) : results_(results) {}
    void start() {
        wall_ = Clock::now();
        cpu_ = process_cpu_seconds();
    }
    void stop(const std::string& step) {
        results_.seconds[step] += seconds_since(wall_);
        results_.cpu_seconds[step] += process_cpu_seconds() - cpu_;
    }

private:
    PipelineResults& results_;
    Clock::time_point wall_;
    double cpu_ = 0.0;
};

/// Progress of a step mapped onto [begin, end) of the whole pipeline; same threads and cancel.
RunControl step_control(const RunControl& parent, double begin, double end) {
    return parent.part(begin, end);
}

/// Rows of a CSR (parallel copy), or of a dense matrix.
Matrix subset_rows(const Matrix& X, const std::vector<int64_t>& rows, const RunControl& control) {
    if (!X.is_sparse()) return X.subset(&rows, nullptr);
    const CsrMatrix& in = X.sparse();
    CsrMatrix out;
    const int64_t n = static_cast<int64_t>(rows.size());
    out.n_rows = n;
    out.n_cols = in.n_cols;
    out.indptr.assign(static_cast<size_t>(n + 1), 0);
    for (int64_t r = 0; r < n; ++r)
        out.indptr[r + 1] = out.indptr[r] + in.indptr[rows[r] + 1] - in.indptr[rows[r]];
    engine::resize_huge(out.indices, static_cast<size_t>(out.indptr[n]));
    engine::resize_huge(out.data, static_cast<size_t>(out.indptr[n]));
    engine::for_chunks(engine::make_chunks(n, 1024), control, [&](int64_t, int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
            const int64_t from = in.indptr[rows[r]], count = in.indptr[rows[r] + 1] - from;
            std::copy_n(in.indices.begin() + from, count, out.indices.begin() + out.indptr[r]);
            std::copy_n(in.data.begin() + from, count, out.data.begin() + out.indptr[r]);
        }
    });
    return Matrix(std::move(out));
}

/// The kept cells with every per-cell annotation; cell graphs (obsp) are dropped because the
/// pipeline builds its own.
Cohort subset_cells(const Cohort& in, const std::vector<int64_t>& cells,
                    const RunControl& control) {
    Cohort out;
    out.obs_names.reserve(cells.size());
    for (int64_t c : cells) out.obs_names.push_back(in.obs_names[c]);
    out.var_names = in.var_names;
    out.X = subset_rows(*in.X, cells, control);
    out.obs = in.obs.subset(cells);
    out.var = in.var;
    for (const auto& [key, m] : in.obsm) {
        DenseD rows(static_cast<int64_t>(cells.size()), m.n_cols);
        for (size_t r = 0; r < cells.size(); ++r)
            std::copy_n(m.row(cells[r]), m.n_cols, rows.row(static_cast<int64_t>(r)));
        out.obsm[key] = std::move(rows);
    }
    out.varm = in.varm;
    for (const auto& [key, m] : in.layers) out.layers[key] = m.subset(&cells, nullptr);
    if (in.raw) {
        RawData raw;
        raw.X = in.raw->X.subset(&cells, nullptr);
        raw.var_names = in.raw->var_names;
        raw.var = in.raw->var;
        out.raw = std::move(raw);
    }
    out.uns = in.uns;
    out.source_path = in.source_path;
    out.source_format = in.source_format;
    return out;
}

/// The kept rows' entries of `values` (a CSR's indices or data) moved to the front, in order.
template <typename Vector>
void compact_rows(Vector& values, const std::vector<int64_t>& indptr,
                  const std::vector<int64_t>& cells) {
    int64_t write = 0;
    for (const int64_t cell : cells) {
        const int64_t from = indptr[cell], count = indptr[cell + 1] - from;
        if (from != write)
            std::copy(values.begin() + from, values.begin() + from + count, values.begin() + write);
        write += count;
    }
}

/// The same as subset_cells, but consuming the cohort: X is compacted in place (rows only move
/// towards the front), so no second copy of the counts is ever allocated.
Cohort keep_cells_in_place(Cohort&& c, const std::vector<int64_t>& cells,
                           const RunControl& control) {
    const int64_t n = static_cast<int64_t>(cells.size());
    if (c.X->is_sparse()) {
        CsrMatrix& m = c.X->sparse();
        // Indices and values are separate arrays, so with two threads each is compacted on its
        // own (the same CPU time, spread over both cores when they are free).
        engine::for_chunks(engine::make_chunks(2, 1), control, [&](int64_t part, int64_t, int64_t) {
            if (part == 0)
                compact_rows(m.indices, m.indptr, cells);
            else
                compact_rows(m.data, m.indptr, cells);
        });
        int64_t write = 0;
        for (int64_t r = 0; r < n; ++r) {
            const int64_t count = m.indptr[cells[r] + 1] - m.indptr[cells[r]];
            m.indptr[r] = write;
            write += count;
        }
        m.indptr[n] = write;
        m.indptr.resize(static_cast<size_t>(n + 1));
        m.indices.resize(static_cast<size_t>(write));
        m.data.resize(static_cast<size_t>(write));
        m.n_rows = n;
    } else {
        DenseF& d = c.X->dense();
        for (int64_t r = 0; r < n; ++r)
            if (cells[r] != r) std::copy_n(d.row(cells[r]), d.n_cols, d.row(r));
        d.values.resize(static_cast<size_t>(n * d.n_cols));
        d.n_rows = n;
    }
    for (int64_t r = 0; r < n; ++r)
        if (cells[r] != r) c.obs_names[r] = std::move(c.obs_names[cells[r]]);
    c.obs_names.resize(static_cast<size_t>(n));
    c.obs = c.obs.subset(cells);
    for (auto& [key, m] : c.obsm) {
        for (int64_t r = 0; r < n; ++r)
            if (cells[r] != r) std::copy_n(m.row(cells[r]), m.n_cols, m.row(r));
        m.values.resize(static_cast<size_t>(n * m.n_cols));
        m.n_rows = n;
    }
    for (auto& [key, m] : c.layers) m = m.subset(&cells, nullptr);
    if (c.raw) c.raw->X = c.raw->X.subset(&cells, nullptr);
    c.obsp.clear();
    return std::move(c);
}

/// What keeps `m` from being a count matrix: "" when nothing does; else "negative", "NaN",
/// "infinite" or (when integers are required) "non-integer" values.
std::string why_not_counts(const Matrix& m, bool require_integers, const RunControl& control) {
    const float* values = m.is_sparse() ? m.sparse().data.data() : m.dense().values.data();
    const size_t n = m.is_sparse() ? m.sparse().data.size() : m.dense().values.size();
    // This pass over every value runs before any step (0.4 s at 100k cells one value at a
    // time). Blocks are flagged in parallel without a branch per value, so the compiler
    // vectorises the scan; the flagged blocks are then looked at value by value in order, so
    // the answer is that of the first problem.
    constexpr size_t kBlock = size_t{1} << 12;
    const engine::Chunking blocks =
        engine::make_chunks(static_cast<int64_t>((n + kBlock - 1) / kBlock), 64);
    std::vector<uint8_t> suspect(static_cast<size_t>(blocks.n), 0);
    engine::for_chunks(blocks, control, [&](int64_t, int64_t first, int64_t last) {
        for (int64_t b = first; b < last; ++b) {
            const size_t start = static_cast<size_t>(b) * kBlock;
            const size_t stop = std::min(n, start + kBlock);
            // NaN and negatives fail v >= 0; +inf is above the largest float. Every float
            // from 2^23 up is an integer; below, one is when truncation keeps it.
            unsigned bad = 0;
            if (require_integers) {
                for (size_t i = start; i < stop; ++i) {
                    const float v = values[i];
                    const float below = (v >= 0.0f) & (v < 8388608.0f) ? v : 0.0f;
                    bad |= !(v >= 0.0f) | (v > std::numeric_limits<float>::max()) |
                           (static_cast<float>(static_cast<int32_t>(below)) != below);
                }
            } else {
                for (size_t i = start; i < stop; ++i) {
                    const float v = values[i];
                    bad |= !(v >= 0.0f) | (v > std::numeric_limits<float>::max());
                }
            }
            suspect[static_cast<size_t>(b)] = bad != 0;
        }
    });
    for (size_t b = 0; b < suspect.size(); ++b) {
        if (!suspect[b]) continue;
        for (size_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i) {
            const float v = values[i];
            if (std::isnan(v)) return "NaN";
            if (v < 0.0f) return "negative";
            if (!std::isfinite(v)) return "infinite";
            if (require_integers && v != std::nearbyint(v)) return "non-integer";
        }
    }
    return "";
}

/// The pipeline normalises counts. When X holds scaled or centred data (negative or non-finite
/// values, as in scanpy's processed files), the counts are looked for where AnnData users keep
/// them: layers["counts"], then raw/X, taken only if they hold non-negative integers (raw/X is
/// often log-normalised). Returns `input` with those counts as X (moved out of `consumable`
/// when given, the same object as `input`, else copied) and `source` set,
/// or nothing when X itself is usable; throws with what was checked when nothing holds counts.
std::optional<Cohort> with_counts_as_x(const Cohort& input, Cohort* consumable,
                                       const RunControl& control,
                                       std::string& source) {
    const std::string x_problem = why_not_counts(*input.X, false, control);
    if (x_problem.empty()) return std::nullopt;
    std::string checked;
    if (auto layer = input.layers.find("counts"); layer != input.layers.end()) {
        const std::string problem = why_not_counts(layer->second, true, control);
        if (problem.empty()) {
            Cohort copy = consumable ? std::move(*consumable) : input;
            copy.X = std::move(copy.layers.at("counts"));
            copy.layers.erase("counts");
            source = "layers/counts";
            return copy;
        }
        checked += "; layers/counts holds " + problem + " values";
    }
    if (input.raw) {
        const std::string problem = why_not_counts(input.raw->X, true, control);
        if (problem.empty()) {
            Cohort copy = consumable ? std::move(*consumable) : input;
            RawData raw = std::move(*copy.raw);
            copy.raw.reset();
            const bool same_genes = raw.var_names == copy.var_names;
            copy.X = std::move(raw.X);
            copy.var_names = std::move(raw.var_names);
            copy.var = std::move(raw.var);
            if (!same_genes) {  // shaped like the old X's genes
                copy.layers.clear();
                copy.varm.clear();
            }
            source = "raw/X";
            return copy;
        }
        checked += "; raw/X holds " + problem + " values";
    }
    throw InvalidArgument("pipeline: X holds " + x_problem +
                          " values, so it is not a count matrix (scaled or log-transformed "
                          "data?)" +
                          checked + "; the pipeline needs raw counts in X, layers/counts or raw/X");
}

/// `consumable`, when given, is the same object as `input` and may be taken apart.
PipelineResults run(const Cohort& input, Cohort* consumable, const PipelineOptions& o) {
    if (!input.X) throw InvalidArgument("the cohort has no expression matrix X");
    std::string counts_source = "X";
    if (std::optional<Cohort> counts =
            with_counts_as_x(input, consumable, o.control, counts_source)) {
        PipelineResults results = run(*counts, &*counts, o);
        results.cohort.uns["transcura_pipeline"]["counts_from"] = counts_source;
        return results;
    }
    if (o.min_genes < 0 || o.n_hvg < 1 || o.n_pcs < 1 || o.n_neighbors < 2 || !(o.target_sum > 0))
        throw InvalidArgument("pipeline: invalid parameters");
    if (!(o.resolution > 0) || !(o.min_dist >= 0) || o.umap_epochs < 0 ||
        (o.umap_components != 2 && o.umap_components != 3))
        throw InvalidArgument(
            "pipeline: invalid parameters (resolution > 0, min_dist >= 0, umap_epochs >= 0 and "
            "2 or 3 UMAP components are required)");
    const RunControl& control = o.control;
    PipelineResults results;
    results.cells_before = input.n_obs();
    StepTimer timer(results);
    timer.start();

    // ---- QC on all cells ----
    std::vector<int32_t> batch_all;
    if (!o.batch_key.empty()) batch_all = batch_codes(input, o.batch_key);
    QcOptions qc_options;
    qc_options.control = step_control(control, 0.0, 0.05);
    const QcResults qc = compute_qc(*input.X, input.var_names, qc_options,
                                    o.batch_key.empty() ? nullptr : &batch_all);
    timer.stop("qc");
    control.check();

    // ---- filter ----
    timer.start();
    const std::vector<double>* pct_mt = nullptr;
    for (size_t s = 0; s < qc.set_names.size(); ++s)
        if (qc.set_names[s] == "mt") pct_mt = &qc.set_pct[s];
    std::vector<int64_t> kept;
    for (int64_t i = 0; i < input.n_obs(); ++i) {
        const bool enough_genes = qc.n_genes_by_counts[i] >= o.min_genes;
        const double mt = pct_mt ? (*pct_mt)[i] : 0.0;
        const bool mito_ok = std::isnan(mt) || mt <= o.max_pct_mt;
        if (enough_genes && mito_ok) kept.push_back(i);
    }
    if (kept.size() < 3)
        throw InvalidArgument("pipeline: only " + std::to_string(kept.size()) +
                              " cells pass the QC thresholds (min_genes " +
                              std::to_string(o.min_genes) + ", max_pct_mt " +
                              std::to_string(o.max_pct_mt) + ")");
    Cohort out = consumable ? keep_cells_in_place(std::move(*consumable), kept,
                                                  step_control(control, 0.05, 0.1))
                            : subset_cells(input, kept, step_control(control, 0.05, 0.1));
    for (auto& column : qc.obs_columns()) out.obs.set(column.subset(kept));
    // Per-gene QC metrics describe all input cells (computed before filtering, as in scanpy's
    // recipe).
    for (auto& column : qc.var_columns()) out.var.set(std::move(column));
    std::vector<int32_t> batch;
    if (!o.batch_key.empty())
        for (int64_t c : kept) batch.push_back(batch_all[c]);
    results.cells_after = static_cast<int64_t>(kept.size());
    timer.stop("filter");
    control.check();

    // ---- normalise (cell factors; the log-normalised HVG matrix is built after HVG) ----
    timer.start();
    const Matrix& counts = *out.X;
    double target_used = o.target_sum;
    // QC's total_counts are these cells' row totals (the same sums in the same order): no
    // second pass over the counts for them.
    std::vector<double> kept_totals(kept.size());
    for (size_t r = 0; r < kept.size(); ++r) kept_totals[r] = qc.total_counts[kept[r]];
    const std::vector<double> factors =
        normalization_factors_from_totals(std::move(kept_totals), o.target_sum, &target_used);
    timer.stop("normalize");
    control.check();

    // ---- HVG (seurat flavour on the log-normalised data) ----
    timer.start();
    HvgOptions hvg_options;
    hvg_options.n_top_genes = std::min<int>(o.n_hvg, static_cast<int>(out.n_vars()));
    hvg_options.control = step_control(control, 0.12, 0.2);
    const HvgResults hvg = highly_variable_genes_normalized(counts, factors, hvg_options,
                                                            batch.empty() ? nullptr : &batch);
    hvg.add_to(out);
    const std::vector<int64_t> hvg_genes = hvg.selected();
    timer.stop("hvg");
    control.check();

    timer.start();
    Matrix log_hvg(
        normalized_log_columns(counts, factors, hvg_genes, step_control(control, 0.2, 0.25)));
    timer.stop("normalize");
    control.check();

    // ---- PCA on the HVGs, centred, not scaled ----
    timer.start();
    PcaOptions pca_options;
    pca_options.n_components = o.n_pcs;
    pca_options.seed = o.seed;
    pca_options.control = step_control(control, 0.25, 0.4);
    const PcaResults pca = run_pca(log_hvg, pca_options);
    log_hvg = Matrix();
    const int64_t k = pca.scores.n_cols;
    out.obsm["X_pca"] = pca.scores;
    DenseD pcs(out.n_vars(), k);  // scanpy's varm["PCs"]: zero rows for genes not in the HVGs
    for (size_t q = 0; q < hvg_genes.size(); ++q)
        std::copy_n(pca.loadings.row(static_cast<int64_t>(q)), k, pcs.row(hvg_genes[q]));
    out.varm["PCs"] = std::move(pcs);
    out.uns["pca"] = {{"variance", pca.explained_variance},
                      {"variance_ratio", pca.explained_variance_ratio},
                      {"params", {{"zero_center", true}, {"use_highly_variable", true}}}};
    timer.stop("pca");
    control.check();

    // ---- kNN on the PCs ----
    timer.start();
    KnnOptions knn_options;
    knn_options.k = o.n_neighbors;
    knn_options.exact_max_cells = o.knn_exact_max_cells;
    knn_options.seed = o.seed;
    knn_options.control = step_control(control, 0.4, 0.5);
    const KnnResults knn = knn_graph(out.obsm["X_pca"], knn_options);
    out.obsp["distances"] = knn_distance_matrix(knn.neighbors, out.n_obs());
    out.uns["neighbors"] = {{"connectivities_key", "connectivities"},
                            {"distances_key", "distances"},
                            {"params",
                             {{"n_neighbors", knn.neighbors.k},
                              {"method", "umap"},
                              {"metric", "euclidean"},
                              {"use_rep", "X_pca"},
                              {"random_state", o.seed},
                              {"knn_search", knn.exact ? "exact" : "hnsw"}}}};
    timer.stop("knn");
    control.check();

    // ---- UMAP: steppable, so the live layout can be shown every few epochs ----
    timer.start();
    UmapOptions umap_options;
    umap_options.n_components = o.umap_components;
    umap_options.min_dist = o.min_dist;
    umap_options.n_epochs = o.umap_epochs;
    umap_options.seed = o.seed;
    umap_options.control = step_control(control, 0.5, 0.92);
    UmapLayout umap(knn.neighbors, umap_options);
    umap.initialize();
    if (o.on_umap_epoch) {
        const int step = std::max(1, umap.n_epochs() / 40);
        o.on_umap_epoch(umap.layout(), umap.epoch(), umap.n_epochs());
        while (!umap.done()) {
            umap.run(step);
            o.on_umap_epoch(umap.layout(), umap.epoch(), umap.n_epochs());
        }
    } else {
        umap.run_to_end();
    }
    out.obsm["X_umap"] = umap.layout();
    // The fuzzy simplicial set: scanpy's connectivities, and the graph Leiden clusters.
    out.obsp["connectivities"] = umap.graph();
    out.uns["umap"] = {{"params",
                        {{"a", umap.a()},
                         {"b", umap.b()},
                         {"min_dist", o.min_dist},
                         {"spread", umap_options.spread},
                         {"n_components", o.umap_components},
                         {"n_epochs", umap.n_epochs()},
                         {"init", umap.spectral_init_used() ? "spectral" : "random"},
                         {"random_state", o.seed}}}};
    timer.stop("umap");
    control.check();

    // ---- Leiden on the connectivities ----
    timer.start();
    LeidenOptions leiden_options;
    leiden_options.resolution = o.resolution;
    leiden_options.seed = o.seed;
    leiden_options.control = step_control(control, 0.92, 0.99);
    const LeidenResults clusters = leiden(out.obsp["connectivities"], leiden_options);
    std::vector<std::string> cluster_names;
    for (int c = 0; c < clusters.n_clusters; ++c) cluster_names.push_back(std::to_string(c));
    out.obs.set(Column::make_categorical("leiden", clusters.membership, cluster_names));
    out.uns["leiden"] = {{"params",
                          {{"resolution", o.resolution},
                           {"random_state", o.seed},
                           {"n_iterations", leiden_options.n_iterations}}},
                         {"n_clusters", clusters.n_clusters},
                         {"modularity", clusters.quality}};
    timer.stop("leiden");
    control.check();

    out.uns["hvg"] = {{"flavor", "seurat"}};
    out.uns["log1p"] = {{"base", nullptr}};
    out.uns["transcura_pipeline"] = {{"batch_key", o.batch_key},
                                     {"min_genes", o.min_genes},
                                     {"max_pct_mt", o.max_pct_mt},
                                     {"target_sum", target_used},
                                     {"n_hvg", o.n_hvg},
                                     {"n_pcs", o.n_pcs},
                                     {"n_neighbors", o.n_neighbors},
                                     {"min_dist", o.min_dist},
                                     {"umap_components", o.umap_components},
                                     {"umap_epochs", umap.n_epochs()},
                                     {"knn_exact_max_cells", o.knn_exact_max_cells},
                                     {"resolution", o.resolution},
                                     {"seed", o.seed},
                                     {"cells_before", results.cells_before},
                                     {"cells_after", results.cells_after},
                                     {"hvg_flavor", "seurat"},
                                     {"pca_scaled", false},
                                     {"counts_from", "X"},
                                     {"version", TRANSCURA_VERSION}};
    control.report(1.0, "done");
    results.cohort = std::move(out);
    return results;
}

}  // namespace

PipelineResults run_pipeline(const Cohort& input, const PipelineOptions& options) {
    return run(input, nullptr, options);
}

PipelineResults run_pipeline(Cohort&& input, const PipelineOptions& options) {
    return run(input, &input, options);
}

}  // namespace transcura
