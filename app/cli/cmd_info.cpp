// transcura-cli info FILE [--json] [--checksum]: what a cohort file holds. --checksum adds a sum
// and a position-weighted checksum of X (the one tests/scripts/oracle_cohort.py computes), which
// proves X was read in full, and the wall and CPU seconds the read took (bench/bench_read.sh).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "read_options.hpp"
#include "transcura/io.hpp"

namespace cli {

namespace {

/// CPU seconds (user + system, all threads) this process has used so far.
double cpu_seconds() {
    rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct XDigest {
    double sum = 0;
    double checksum = 0;  // each value weighted by ((row * 31 + col) % 1000 + 1)
};

XDigest digest(const transcura::Matrix& x) {
    XDigest d;
    auto weight = [](int64_t row, int64_t col) {
        return static_cast<double>((row * 31 + col) % 1000 + 1);
    };
    if (x.is_sparse()) {
        const transcura::CsrMatrix& m = x.sparse();
        for (int64_t r = 0; r < m.n_rows; ++r)
            for (int64_t i = m.indptr[r]; i < m.indptr[r + 1]; ++i) {
                d.sum += m.data[i];
                d.checksum += static_cast<double>(m.data[i]) * weight(r, m.indices[i]);
            }
    } else {
        const transcura::DenseF& m = x.dense();
        for (int64_t r = 0; r < m.n_rows; ++r)
            for (int64_t c = 0; c < m.n_cols; ++c) {
                d.sum += m(r, c);
                d.checksum += static_cast<double>(m(r, c)) * weight(r, c);
            }
    }
    return d;
}

}  // namespace

int info(const Args& args) {
    ArgParser parser(args);
    const bool as_json = parser.flag("json");
    const bool with_checksum = parser.flag("checksum");
    transcura::ReadOptions options = read_options_from(parser);
    Args files = parser.positionals();
    if (files.size() != 1) throw UsageError("expects exactly one FILE");
    const std::string& path = files.front();
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    transcura::Format format = transcura::detect_format(path);
    transcura::Cohort cohort = transcura::read_cohort(path, options);
    const double read_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double read_cpu_seconds = cpu_seconds() - cpu_start;
    XDigest x_digest;
    if (with_checksum && cohort.X) x_digest = digest(*cohort.X);

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
        if (with_checksum) {
            out["x_sum"] = x_digest.sum;
            out["x_checksum"] = x_digest.checksum;
            out["read_seconds"] = read_seconds;
            out["read_cpu_seconds"] = read_cpu_seconds;
        }
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
    if (with_checksum)
        std::printf("X sum    %.17g\nchecksum %.17g\nread in  %.3f s\n", x_digest.sum,
                    x_digest.checksum, read_seconds);
    if (cohort.raw)
        std::printf("raw      %lld x %lld\n", static_cast<long long>(cohort.raw->X.n_rows()),
                    static_cast<long long>(cohort.raw->X.n_cols()));
    return 0;
}

}  // namespace cli
