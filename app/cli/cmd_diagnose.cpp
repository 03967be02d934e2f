// transcura-cli diagnose IN --batch-key K: batch-effect diagnostics of an embedding (iLISI,
// cLISI, kBET, batch / label ASW, PC regression, graph connectivity, per-batch summaries), and
// with --harmony the same on its Harmony correction, side by side. A table on stdout; --json
// writes one object per embedding; --write saves the cohort with the per-cell scores in obs and
// the corrected embedding in obsm, with (unless --no-harmony-umap) the UMAP of the corrected
// PCs laid out as the pipeline lays out X_umap, as obsm X_umap_harmony.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "read_options.hpp"
#include "transcura/diagnostics.hpp"
#include "transcura/errors.hpp"
#include "transcura/io.hpp"
#include "transcura/pipeline.hpp"

namespace cli {

namespace {

using transcura::CohortDiagnosticsResults;
using transcura::DiagnosticsResults;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Fixed-width cell: the value with `digits` decimals, or "-" when undefined.
std::string cell(double value, int digits = 3) {
    char buffer[32];
    if (!std::isfinite(value)) return "-";
    std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
    return buffer;
}

void print_table(const std::string& input, const CohortDiagnosticsResults& r) {
    const DiagnosticsResults& first = r.embeddings.front().results;
    std::printf("%s: %lld cells, batch key '%s' (%d batches), labels %s\n", input.c_str(),
                static_cast<long long>(first.n_cells), r.batch_key.c_str(), first.n_batches,
                r.label_key.empty()
                    ? "none"
                    : ("'" + r.label_key + "' (" + std::to_string(first.n_labels) + ")").c_str());
    std::printf("\n%-22s", "metric");
    for (const auto& e : r.embeddings) std::printf(" %15s", e.name.c_str());
    std::printf("   range, better\n");
    struct Row {
        const char* name;
        double DiagnosticsResults::*value;
        const char* note;
    };
    const std::string ilisi_note = "1 .. " + std::to_string(first.n_batches) + ", higher mixed";
    const std::string clisi_note = first.n_labels > 0
                                       ? "1 .. " + std::to_string(first.n_labels) + ", lower purer"
                                       : "needs labels (--label-key, or obs leiden)";
    const Row rows[] = {
        {"iLISI median", &DiagnosticsResults::ilisi_median, ilisi_note.c_str()},
        {"cLISI median", &DiagnosticsResults::clisi_median, clisi_note.c_str()},
        {"kBET acceptance", &DiagnosticsResults::kbet_acceptance, "0 .. 1, higher mixed"},
        {"batch ASW", &DiagnosticsResults::asw_batch, "0 .. 1, higher mixed"},
        {"label ASW", &DiagnosticsResults::asw_label, "0 .. 1, higher separated"},
        {"PC regression (batch)", &DiagnosticsResults::pcr_batch, "0 .. 1, lower"},
        {"graph connectivity", &DiagnosticsResults::graph_connectivity, "0 .. 1, higher"},
    };
    for (const Row& row : rows) {
        std::printf("%-22s", row.name);
        for (const auto& e : r.embeddings) std::printf(" %15s", cell(e.results.*row.value).c_str());
        std::printf("   %s\n", row.note);
    }
    std::printf(
        "\nkBET: neighbourhoods of k0 = %d cells, %lld cells tested (alpha 0.05), "
        "random neighbourhoods rejected at %s; neighbours %s (k = %d)\n",
        first.kbet.k0, static_cast<long long>(first.kbet.n_tested),
        cell(first.kbet.expected_rejection_rate).c_str(), first.neighbors_exact ? "exact" : "HNSW",
        first.neighbors_k);
    if (first.batch_asw.subsampled || first.label_silhouette.subsampled)
        std::printf("silhouettes on a seeded subsample of %lld cells\n",
                    static_cast<long long>(first.batch_asw.n_scored));
    if (r.harmony_run)
        std::printf("Harmony: %d iterations (%s), %d clusters, %.2f s\n", r.harmony.iterations,
                    r.harmony.converged ? "converged" : "iteration cap", r.harmony.n_clusters,
                    r.harmony_seconds);
    if (r.harmony_umap_run)
        std::printf(
            "UMAP of the corrected embedding: %s (k = %d, %s neighbours, %d epochs), %.2f s\n",
            r.harmony_umap_key.c_str(), r.harmony_umap_neighbors,
            r.harmony_umap_knn_exact ? "exact" : "HNSW", r.harmony_umap_epochs,
            r.harmony_umap_seconds);

    // Per batch: QC medians and the mixing scores of each embedding.
    std::printf("\n%-16s %8s %11s %10s %7s", "batch", "cells", "med.counts", "med.genes", "%mito");
    for (const auto& e : r.embeddings) std::printf("  %s", ("iLISI/kBET " + e.name).c_str());
    std::printf("\n");
    for (size_t b = 0; b < first.per_batch.per_batch.size(); ++b) {
        const auto& s = first.per_batch.per_batch[b];
        std::printf("%-16s %8lld %11s %10s %7s", s.name.c_str(), static_cast<long long>(s.n_cells),
                    cell(s.median_total_counts, 0).c_str(), cell(s.median_genes, 0).c_str(),
                    cell(s.median_pct_mito, 2).c_str());
        for (const auto& e : r.embeddings) {
            std::vector<double> ilisi;
            long long tested = 0, accepted = 0;
            for (size_t i = 0; i < r.batch.codes.size(); ++i) {
                if (r.batch.codes[i] != static_cast<int32_t>(b)) continue;
                ilisi.push_back(e.results.ilisi[i]);
                if (e.results.kbet_accepted[i] >= 0) {
                    ++tested;
                    accepted += e.results.kbet_accepted[i];
                }
            }
            const std::string pair =
                cell(transcura::median_of(std::move(ilisi))) + " / " +
                cell(tested ? static_cast<double>(accepted) / static_cast<double>(tested) : NAN);
            std::printf("  %*s", static_cast<int>(11 + e.name.size()), pair.c_str());
        }
        std::printf("\n");
    }

    // Batch x label composition and how evenly each label draws on the batches.
    const auto& table = first.per_batch.composition;
    if (!table.clusters.empty()) {
        std::printf("\n%-16s %8s", r.label_key.c_str(), "cells");
        for (const auto& b : table.batches) std::printf(" %10.10s", b.c_str());
        std::printf(" %9s\n", "entropy");
        for (size_t c = 0; c < table.clusters.size(); ++c) {
            if (table.cluster_sizes[c] == 0) continue;
            std::printf("%-16.16s %8lld", table.clusters[c].c_str(),
                        static_cast<long long>(table.cluster_sizes[c]));
            for (size_t b = 0; b < table.batches.size(); ++b)
                std::printf(" %10lld", static_cast<long long>(table.count(c, b)));
            std::printf(" %9s\n", cell(table.normalized_entropy[c]).c_str());
        }
        std::printf("(entropy of each %s's batch mix / log(batches): 0 = one batch, 1 = even)\n",
                    r.label_key.c_str());
    }
}

}  // namespace

int diagnose(const Args& raw_args) {
    ArgParser parser(raw_args);
    transcura::CohortDiagnosticsOptions options;
    options.batch_key = parser.option("batch-key");
    options.label_key = parser.option("label-key");
    options.embedding = parser.option("embedding", "X_pca");
    options.harmony = parser.flag("harmony");
    options.harmony_options.theta = parser.number("theta", options.harmony_options.theta);
    const auto seed = static_cast<uint64_t>(parser.integer("seed", 0));
    options.harmony_options.seed = seed;
    options.diagnostics.seed = seed;
    options.diagnostics.kbet.seed = seed;
    options.diagnostics.silhouette.seed = seed;
    options.control.num_threads = static_cast<int>(parser.integer("threads", 0));
    // Used only when the embedding has to be computed (IN has no X_pca).
    transcura::PipelineOptions pipeline;
    pipeline.n_pcs = static_cast<int>(parser.integer("n-pcs", pipeline.n_pcs));
    pipeline.n_hvg = static_cast<int>(parser.integer("n-hvg", pipeline.n_hvg));
    pipeline.min_genes = static_cast<int>(parser.integer("min-genes", pipeline.min_genes));
    pipeline.max_pct_mt = parser.number("max-pct-mt", pipeline.max_pct_mt);
    pipeline.seed = seed;
    const std::string json_path = parser.option("json");
    const std::string write_path = parser.option("write");
    // The Harmony UMAP is only kept in the written file: laid out only then, unless refused.
    const bool no_harmony_umap = parser.flag("no-harmony-umap");
    options.harmony_umap = options.harmony && !write_path.empty() && !no_harmony_umap;
    const bool quiet = parser.flag("quiet");
    transcura::ReadOptions read_options = read_options_from(parser);
    const Args files = parser.positionals();
    if (files.size() != 1) throw UsageError("expects one input file");
    if (options.batch_key.empty()) throw UsageError("needs --batch-key K");
    if (options.embedding.empty()) throw UsageError("--embedding needs an obsm key");
    if (options.control.num_threads < 0 || pipeline.n_pcs < 2 || pipeline.n_hvg < 1 ||
        !(options.harmony_options.theta >= 0))
        throw UsageError("invalid parameter value");
    const std::string& input = files[0];
    pipeline.batch_key = options.batch_key;
    pipeline.control.num_threads = options.control.num_threads;

    const auto start = std::chrono::steady_clock::now();
    transcura::Cohort cohort = transcura::read_cohort(input, read_options);
    // Every refusal names the input file.
    auto refuse = [&](const std::string& problem) -> transcura::InvalidArgument {
        return transcura::InvalidArgument(input + ": " + problem);
    };
    try {
        // Check the keys before a possibly long pipeline run.
        const transcura::CodedLabels batch =
            transcura::obs_categories(cohort, options.batch_key, "batch key");
        if (!options.label_key.empty())
            transcura::obs_categories(cohort, options.label_key, "label key");
        int present = 0;
        std::vector<char> seen(batch.names.size(), 0);
        for (int32_t c : batch.codes)
            if (c >= 0 && !seen[static_cast<size_t>(c)]) {
                seen[static_cast<size_t>(c)] = 1;
                ++present;
            }
        if (present < 2)
            throw transcura::InvalidArgument(
                "batch key: obs column '" + options.batch_key + "' has " +
                (present == 0 ? std::string("no values")
                              : "only one batch ('" + batch.names.front() + "')") +
                "; batch diagnostics need at least two batches");
    } catch (const transcura::InvalidArgument& error) {
        throw refuse(error.what());
    }

    if (!cohort.obsm.count(options.embedding)) {
        if (options.embedding != "X_pca") throw refuse("obsm has no '" + options.embedding + "'");
        if (!cohort.X || cohort.X->n_cols() == 0)
            throw refuse("obsm has no X_pca and there is no X to compute it from");
        if (!quiet)
            std::fprintf(stderr,
                         "%s has no X_pca: running the standard pipeline (as transcura-cli run "
                         "--batch-key %s)\n",
                         input.c_str(), options.batch_key.c_str());
        transcura::PipelineResults ran = transcura::run_pipeline(std::move(cohort), pipeline);
        cohort = std::move(ran.cohort);
        if (!quiet)
            std::fprintf(stderr, "  %lld of %lld cells kept after QC\n",
                         static_cast<long long>(ran.cells_after),
                         static_cast<long long>(ran.cells_before));
    }

    CohortDiagnosticsResults results;
    try {
        results = transcura::diagnose_cohort(cohort, options);
    } catch (const transcura::InvalidArgument& error) {
        throw refuse(error.what());
    }
    const nlohmann::json json = transcura::cohort_diagnostics_to_json(results);

    if (!json_path.empty()) {
        if (json_path == "-") {
            std::cout << json.dump(2) << "\n";
        } else {
            std::ofstream file(json_path);
            file << json.dump(2) << "\n";
            if (!file)
                throw transcura::IoError("cannot write the diagnostics to '" + json_path + "'");
        }
    }
    if (!quiet && json_path != "-") print_table(input, results);
    if (!write_path.empty()) {
        cohort.uns["batch_diagnostics"] = json;
        transcura::write_cohort(cohort, write_path, transcura::Format::H5ad);
        if (!quiet) std::fprintf(stderr, "wrote %s\n", write_path.c_str());
    }
    if (!quiet) std::fprintf(stderr, "diagnose: %.2f s\n", seconds_since(start));
    return 0;
}

}  // namespace cli
