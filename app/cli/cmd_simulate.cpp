// transcura-cli simulate: a negative-binomial cohort with cell types, batches, donors and damaged
// cells, ground truth in obs (batch, donor, cell_type, damaged).
#include <chrono>
#include <cstdio>

#include "commands.hpp"
#include "transcura/io.hpp"
#include "transcura/simulate.hpp"

namespace cli {

int simulate(const Args& raw_args) {
    Args args = raw_args;
    for (auto& a : args)
        if (a == "-o") a = "--output";  // ArgParser knows long options only
    ArgParser parser(args);
    transcura::SimulateOptions options;
    options.n_cells = parser.integer("cells", options.n_cells);
    options.n_genes = parser.integer("genes", options.n_genes);
    options.n_types = static_cast<int>(parser.integer("types", options.n_types));
    options.n_batches = static_cast<int>(parser.integer("batches", options.n_batches));
    options.batch_effect = parser.number("batch-effect", options.batch_effect);
    options.donors_per_batch =
        static_cast<int>(parser.integer("donors-per-batch", options.donors_per_batch));
    options.damaged_fraction = parser.number("damaged-fraction", options.damaged_fraction);
    options.mean_library_size = parser.number("library-size", options.mean_library_size);
    options.markers_per_type =
        static_cast<int>(parser.integer("markers", options.markers_per_type));
    options.seed = static_cast<uint64_t>(parser.integer("seed", 0));
    options.control.num_threads = static_cast<int>(parser.integer("threads", 0));
    const std::string out = parser.option("output");
    const bool no_overwrite = parser.flag("no-overwrite");
    if (!parser.positionals().empty())
        throw UsageError("unexpected argument " + parser.positionals()[0]);
    if (out.empty()) throw UsageError("needs -o OUT.h5ad");
    if (options.n_cells <= 0 || options.n_genes <= 0 || options.n_types <= 0 ||
        options.n_batches <= 0 || options.donors_per_batch <= 0 || options.control.num_threads < 0)
        throw UsageError(
            "--cells, --genes, --types, --batches, --donors-per-batch must be positive");
    if (options.batch_effect < 0) throw UsageError("--batch-effect must be >= 0");

    const auto start = std::chrono::steady_clock::now();
    transcura::SimulateResults results = transcura::simulate_cohort(options);
    const double simulate_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    transcura::WriteOptions write_options;
    write_options.overwrite = !no_overwrite;
    transcura::write_cohort(results.cohort, out, transcura::Format::H5ad, write_options);
    std::fprintf(stderr, "simulated %lld cells x %lld genes, %lld non-zeros in %.2f s; wrote %s\n",
                 static_cast<long long>(results.cohort.n_obs()),
                 static_cast<long long>(results.cohort.n_vars()),
                 static_cast<long long>(results.cohort.nnz()), simulate_seconds, out.c_str());
    return 0;
}

}  // namespace cli
