// transcura-cli info FILE [--json]: what a cohort file holds.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "read_options.hpp"
#include "transcura/io.hpp"

namespace cli {

int info(const Args& args) {
    ArgParser parser(args);
    const bool as_json = parser.flag("json");
    transcura::ReadOptions options = read_options_from(parser);
    Args files = parser.positionals();
    if (files.size() != 1) throw UsageError("expects exactly one FILE");
    const std::string& path = files.front();
    transcura::Format format = transcura::detect_format(path);
    transcura::Cohort cohort = transcura::read_cohort(path, options);

    if (as_json) {
        nlohmann::json out;
        out["format"] = transcura::to_string(format);
        out["n_obs"] = cohort.n_obs();
        out["n_vars"] = cohort.n_vars();
        out["nnz"] = cohort.nnz();
        out["obs_columns"] = cohort.obs.names();
        out["var_columns"] = cohort.var.names();
        nlohmann::json obsm = nlohmann::json::array();
        for (const auto& [key, m] : cohort.obsm) obsm.push_back(key);
        out["obsm"] = obsm;
        std::cout << out.dump() << "\n";
        return 0;
    }
    std::printf("file     %s\n", path.c_str());
    std::printf("format   %s\n", transcura::to_string(format));
    std::printf("n_obs    %lld\n", static_cast<long long>(cohort.n_obs()));
    std::printf("n_vars   %lld\n", static_cast<long long>(cohort.n_vars()));
    std::printf("nnz      %lld\n", static_cast<long long>(cohort.nnz()));
    std::printf("X        %s\n", !cohort.X ? "absent" : cohort.X->is_sparse() ? "sparse (CSR)" : "dense");
    auto print_frame = [](const char* title, const transcura::DataFrame& frame) {
        std::printf("%s (%zu)\n", title, frame.columns.size());
        for (const auto& column : frame.columns) {
            std::printf("  %-28s %s", column.name.c_str(), transcura::to_string(column.type));
            if (column.type == transcura::ColumnType::Categorical)
                std::printf(" (%zu categories)", column.categories.size());
            std::printf("\n");
        }
    };
    print_frame("obs columns", cohort.obs);
    print_frame("var columns", cohort.var);
    std::printf("obsm (%zu)\n", cohort.obsm.size());
    for (const auto& [key, m] : cohort.obsm)
        std::printf("  %-28s %lld x %lld\n", key.c_str(), static_cast<long long>(m.n_rows),
                    static_cast<long long>(m.n_cols));
    if (!cohort.layers.empty()) {
        std::printf("layers (%zu)\n", cohort.layers.size());
        for (const auto& [key, m] : cohort.layers) std::printf("  %s\n", key.c_str());
    }
    if (cohort.raw)
        std::printf("raw      %lld x %lld\n", static_cast<long long>(cohort.raw->X.n_rows()),
                    static_cast<long long>(cohort.raw->X.n_cols()));
    return 0;
}

}  // namespace cli
