// transcura-cli convert IN OUT: any readable format to .h5ad, .loom, .csv/.tsv or an MTX folder.
#include <cstdio>

#include "commands.hpp"
#include "read_options.hpp"
#include "transcura/io.hpp"

namespace cli {

int convert(const Args& args) {
    ArgParser parser(args);
    const std::string to = parser.option("to");
    const bool overwrite = parser.flag("overwrite");
    const long long compression = parser.integer("compression", 0);
    transcura::ReadOptions options = read_options_from(parser);
    Args files = parser.positionals();
    if (files.size() != 2) throw UsageError("expects IN and OUT");
    const std::string& in = files[0];
    const std::string& out = files[1];

    transcura::Format format = transcura::format_for_output(out);
    if (!to.empty()) {
        if (to == "h5ad") format = transcura::Format::H5ad;
        else if (to == "loom") format = transcura::Format::Loom;
        else if (to == "mtx" || to == "10x-mtx") format = transcura::Format::TenxMtx;
        else if (to == "csv") format = transcura::Format::Csv;
        else if (to == "tsv") format = transcura::Format::Tsv;
        else throw UsageError("--to is h5ad, loom, mtx, csv or tsv, not '" + to + "'");
    }
    if (format == transcura::Format::Unknown)
        throw UsageError("cannot tell the output format from '" + out +
                         "': use .h5ad, .loom, .csv, .tsv, a folder path ending in '/', or --to");
    if (compression < 0 || compression > 9) throw UsageError("--compression is 0 to 9");

    transcura::Cohort cohort = transcura::read_cohort(in, options);
    transcura::WriteOptions write_options;
    write_options.overwrite = overwrite;
    write_options.compression = static_cast<int>(compression);
    transcura::write_cohort(cohort, out, format, write_options);
    std::fprintf(stderr, "wrote %s (%s, %lld x %lld)\n", out.c_str(), transcura::to_string(format),
                 static_cast<long long>(cohort.n_obs()), static_cast<long long>(cohort.n_vars()));
    return 0;
}

}  // namespace cli
