// transcura-cli run IN -o OUT.h5ad: the standard pipeline (QC -> filter -> normalise -> log1p ->
// HVG -> PCA -> kNN -> UMAP -> Leiden), with optional per-step timings as JSON.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "read_options.hpp"
#include "transcura/errors.hpp"
#include "transcura/io.hpp"
#include "transcura/pipeline.hpp"

namespace cli {

namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// CPU seconds of the process, all threads (user + system).
double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void write_json(const std::map<std::string, double>& values, const std::string& path) {
    nlohmann::json json = nlohmann::json::object();
    for (const auto& [step, s] : values) json[step] = s;
    std::ofstream file(path);
    file << json.dump(2) << "\n";
    if (!file) throw transcura::IoError("cannot write timings to '" + path + "'");
}
}  // namespace

int run(const Args& raw_args) {
    Args args = raw_args;
    for (auto& a : args)
        if (a == "-o") a = "--output";  // ArgParser knows long options only
    ArgParser parser(args);
    transcura::PipelineOptions options;
    options.batch_key = parser.option("batch-key");
    options.min_genes = static_cast<int>(parser.integer("min-genes", options.min_genes));
    options.max_pct_mt = parser.number("max-pct-mt", options.max_pct_mt);
    options.target_sum = parser.number("target-sum", options.target_sum);
    options.n_hvg = static_cast<int>(parser.integer("n-hvg", options.n_hvg));
    options.n_pcs = static_cast<int>(parser.integer("n-pcs", options.n_pcs));
    options.n_neighbors = static_cast<int>(parser.integer("neighbors", options.n_neighbors));
    options.min_dist = parser.number("min-dist", options.min_dist);
    options.umap_components =
        static_cast<int>(parser.integer("umap-components", options.umap_components));
    options.umap_epochs = static_cast<int>(parser.integer("umap-epochs", options.umap_epochs));
    options.knn_exact_max_cells =
        parser.integer("knn-exact-max-cells", options.knn_exact_max_cells);
    options.resolution = parser.number("resolution", options.resolution);
    options.seed = static_cast<uint64_t>(parser.integer("seed", 0));
    options.control.num_threads = static_cast<int>(parser.integer("threads", 0));
    const std::string out = parser.option("output");
    const std::string timings = parser.option("timings");
    const std::string cpu_timings = parser.option("cpu-timings");  // same steps, CPU seconds
    const bool no_overwrite = parser.flag("no-overwrite");
    const bool quiet = parser.flag("quiet");
    transcura::ReadOptions read_options = read_options_from(parser);
    const Args files = parser.positionals();
    if (files.size() != 1) throw UsageError("expects one input file");
    if (out.empty()) throw UsageError("needs -o OUT.h5ad");
    auto require = [](bool ok, const char* what) {
        if (!ok) throw UsageError(std::string("invalid parameter value: ") + what);
    };
    require(options.min_genes >= 0, "--min-genes must be >= 0");
    require(options.n_hvg >= 1, "--n-hvg must be >= 1");
    require(options.n_pcs >= 1, "--n-pcs must be >= 1");
    require(options.n_neighbors >= 2, "--neighbors must be >= 2 (it counts the cell itself)");
    require(options.control.num_threads >= 0, "--threads must be >= 0 (0 = all cores)");
    require(options.resolution > 0, "--resolution must be > 0");
    require(options.min_dist >= 0, "--min-dist must be >= 0");
    require(options.target_sum > 0, "--target-sum must be > 0");
    require(options.umap_epochs >= 0, "--umap-epochs must be >= 0 (0 = automatic)");
    require(options.umap_components == 2 || options.umap_components == 3,
            "--umap-components must be 2 or 3");

    std::map<std::string, double> seconds, cpu_seconds;
    auto t = std::chrono::steady_clock::now();
    double cpu = process_cpu_seconds();
    transcura::Cohort input = transcura::read_cohort(files[0], read_options);
    seconds["read"] = seconds_since(t);
    cpu_seconds["read"] = process_cpu_seconds() - cpu;

    // Consumed: the kept cells are compacted in place rather than copied.
    transcura::PipelineResults results = transcura::run_pipeline(std::move(input), options);
    for (const auto& [step, s] : results.seconds) seconds[step] = s;
    for (const auto& [step, s] : results.cpu_seconds) cpu_seconds[step] = s;

    t = std::chrono::steady_clock::now();
    cpu = process_cpu_seconds();
    transcura::WriteOptions write_options;
    write_options.overwrite = !no_overwrite;
    transcura::write_cohort(results.cohort, out, transcura::Format::H5ad, write_options);
    seconds["write"] = seconds_since(t);
    cpu_seconds["write"] = process_cpu_seconds() - cpu;

    double total = 0.0;
    for (const auto& [step, s] : seconds) total += s;
    if (!timings.empty()) write_json(seconds, timings);
    if (!cpu_timings.empty()) write_json(cpu_seconds, cpu_timings);
    if (!quiet) {
        std::fprintf(stderr, "%lld of %lld cells kept; wrote %s\n",
                     static_cast<long long>(results.cells_after),
                     static_cast<long long>(results.cells_before), out.c_str());
        const auto& from = results.cohort.uns["transcura_pipeline"]["counts_from"];
        if (from.is_string() && from.get<std::string>() != "X")
            std::fprintf(stderr, "  X holds no counts: the counts in %s were used\n",
                         from.get<std::string>().c_str());
        for (const char* step :
             {"read", "qc", "filter", "normalize", "hvg", "pca", "knn", "umap", "leiden", "write"})
            if (seconds.count(step)) std::fprintf(stderr, "  %-9s %8.3f s\n", step, seconds[step]);
        std::fprintf(stderr, "  %-9s %8.3f s\n", "total", total);
    }
    return 0;
}

}  // namespace cli
