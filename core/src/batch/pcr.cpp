// PC regression in closed form: with a one-hot categorical design and an intercept, the OLS
// fit is each batch's mean, so R^2 = between-batch sum of squares / total sum of squares.
// Sums are taken in two passes (means first) to keep cancellation small.
#include "transcura/pcr.hpp"

#include <algorithm>

#include "transcura/errors.hpp"

namespace transcura {

PcrResults pc_regression(const DenseD& embedding, const std::vector<int32_t>& batch_codes,
                         const PcrOptions& options) {
    const int64_t n = embedding.n_rows;
    const int64_t d = embedding.n_cols;
    if (static_cast<int64_t>(batch_codes.size()) != n)
        throw InvalidArgument("PC regression: one batch code per cell expected");
    if (!options.pc_variances.empty() && static_cast<int64_t>(options.pc_variances.size()) != d)
        throw InvalidArgument("PC regression: one variance per PC expected");
    int n_batches = 0;
    int64_t used = 0;
    for (int32_t b : batch_codes) {
        n_batches = std::max(n_batches, b + 1);
        if (b >= 0) ++used;
    }
    if (used < 2) throw InvalidArgument("PC regression: needs at least two cells with a batch");
    options.control.check();

    std::vector<int64_t> sizes(static_cast<size_t>(n_batches), 0);
    for (int32_t b : batch_codes)
        if (b >= 0) ++sizes[static_cast<size_t>(b)];
    PcrResults results;
    results.r2_per_pc.assign(static_cast<size_t>(d), 0.0);
    std::vector<double> variances(static_cast<size_t>(d), 0.0);

#pragma omp parallel for schedule(static) num_threads(options.control.threads())
    for (int64_t j = 0; j < d; ++j) {
        std::vector<double> batch_sum(static_cast<size_t>(n_batches), 0.0);
        double total = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            const int32_t b = batch_codes[static_cast<size_t>(i)];
            if (b < 0) continue;
            batch_sum[static_cast<size_t>(b)] += embedding(i, j);
            total += embedding(i, j);
        }
        const double mean = total / static_cast<double>(used);
        double ss_total = 0.0;
        double ss_within = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            const int32_t b = batch_codes[static_cast<size_t>(i)];
            if (b < 0) continue;
            const double x = embedding(i, j);
            const double batch_mean = batch_sum[static_cast<size_t>(b)] /
                                      static_cast<double>(sizes[static_cast<size_t>(b)]);
            ss_total += (x - mean) * (x - mean);
            ss_within += (x - batch_mean) * (x - batch_mean);
        }
        // R^2 = 1 - SS_residual / SS_total, as an OLS fit reports it.
        results.r2_per_pc[static_cast<size_t>(j)] = ss_total > 0 ? 1.0 - ss_within / ss_total : 0;
        variances[static_cast<size_t>(j)] = ss_total / static_cast<double>(used);
    }
    if (!options.pc_variances.empty()) variances = options.pc_variances;
    double variance_sum = 0.0;
    for (double v : variances) variance_sum += v;
    results.weights.assign(static_cast<size_t>(d), 0.0);
    for (int64_t j = 0; j < d; ++j) {
        results.weights[static_cast<size_t>(j)] =
            variance_sum > 0 ? variances[static_cast<size_t>(j)] / variance_sum : 0.0;
        results.r2_weighted +=
            results.r2_per_pc[static_cast<size_t>(j)] * results.weights[static_cast<size_t>(j)];
    }
    options.control.report(1.0, "PC regression");
    return results;
}

}  // namespace transcura
