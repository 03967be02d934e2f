// transcura-cli export IN --recipe R.json -o OUTDIR: replay a curation recipe headless, optionally
// split into train/validation/test, and write the subset(s) with a provenance manifest.
#include <cstdio>

#include "commands.hpp"
#include "read_options.hpp"
#include "transcura/errors.hpp"
#include "transcura/export.hpp"

namespace cli {

int export_subset(const Args& args) {
    Args normalized = args;
    for (auto& a : normalized)
        if (a == "-o") a = "--output";  // ArgParser knows long options only
    ArgParser parser(normalized);
    const std::string recipe_path = parser.option("recipe");
    const std::string output_dir = parser.option("output");
    const std::string format = parser.option("format", "h5ad");
    const std::string split = parser.option("split");
    const std::string group_by = parser.option("group-by");
    const std::string stratify_by = parser.option("stratify-by");
    const long long seed = parser.integer("seed", 0);
    const std::string batch_key = parser.option("batch-key");
    const long long threads = parser.integer("threads", 0);
    const long long compression = parser.integer("compression", 0);
    const bool overwrite = parser.flag("overwrite");
    const bool add_qc = parser.flag("add-qc");
    const bool quiet = parser.flag("quiet");
    const transcura::ReadOptions read_options = read_options_from(parser);
    Args files = parser.positionals();
    if (files.size() != 1) throw UsageError("expects one input file IN");
    if (output_dir.empty()) throw UsageError("needs -o OUTDIR");
    if (seed < 0) throw UsageError("--seed must be >= 0");
    if (compression < 0 || compression > 9) throw UsageError("--compression is 0 to 9");
    if (split.empty() && (!group_by.empty() || !stratify_by.empty()))
        throw UsageError("--group-by and --stratify-by need --split");

    transcura::ExportOptions options;
    options.output_dir = output_dir;
    options.overwrite = overwrite;
    options.batch_key = batch_key;
    options.add_qc_columns = add_qc;
    options.compression = static_cast<int>(compression);
    options.read_options = read_options;
    options.control.num_threads = static_cast<int>(threads);
    try {
        options.format = transcura::parse_export_format(format);
        if (!split.empty()) {
            transcura::SplitOptions split_options;
            split_options.fractions = transcura::parse_split_fractions(split);
            split_options.group_key = group_by;
            split_options.stratify_key = stratify_by;
            split_options.seed = static_cast<uint64_t>(seed);
            options.split = split_options;
        }
    } catch (const transcura::InvalidArgument& error) {
        throw UsageError(error.what());
    }
    if (!quiet) {
        options.control.progress = [last = std::string()](double, const std::string& what) mutable {
            if (what == last) return;
            last = what;
            std::fprintf(stderr, "%s\n", what.c_str());
        };
    }
    // No recipe = keep everything (an export of the whole cohort, possibly split).
    const transcura::Recipe recipe =
        recipe_path.empty() ? transcura::Recipe{} : transcura::Recipe::load(recipe_path);
    const transcura::ExportResults results = transcura::export_file(files[0], recipe, options);
    for (const auto& output : results.outputs)
        std::fprintf(stderr, "wrote %s (%lld x %lld, sha256 %s)\n", output.path.c_str(),
                     static_cast<long long>(output.n_obs), static_cast<long long>(output.n_vars),
                     output.sha256.c_str());
    std::fprintf(stderr, "wrote %s\n", results.manifest_path.c_str());
    return 0;
}

}  // namespace cli
