// LISI, following harmonypy's compute_simpson step for step (same initial precision, bracket
// doubling/halving, tolerance, iteration cap and the H == 0 convention) so per-cell values
// agree with harmonypy.compute_lisi given the same neighbours.
#include "transcura/lisi.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "transcura/errors.hpp"

namespace transcura {
namespace {

/// Kernel weights at precision `beta` and their entropy H (harmonypy's formula).
double kernel(const double* distances, int count, double beta, std::vector<double>& weights) {
    double sum = 0.0;
    double weighted = 0.0;
    for (int j = 0; j < count; ++j) {
        weights[static_cast<size_t>(j)] = std::exp(-distances[j] * beta);
        sum += weights[static_cast<size_t>(j)];
    }
    if (sum == 0.0) {
        std::fill(weights.begin(), weights.begin() + count, 0.0);
        return 0.0;
    }
    for (int j = 0; j < count; ++j) weighted += distances[j] * weights[static_cast<size_t>(j)];
    const double entropy = std::log(sum) + beta * weighted / sum;
    for (int j = 0; j < count; ++j) weights[static_cast<size_t>(j)] /= sum;
    return entropy;
}

/// Simpson's index of one cell's neighbourhood (harmonypy's compute_simpson for one column).
double simpson_index(const double* distances, const int64_t* indices, int count,
                     const std::vector<int32_t>& codes, int n_categories,
                     const LisiOptions& options, std::vector<double>& weights,
                     std::vector<double>& per_category) {
    const double log_u = std::log(options.perplexity);
    double beta = 1.0;
    double beta_min = -std::numeric_limits<double>::infinity();
    double beta_max = std::numeric_limits<double>::infinity();
    double entropy = kernel(distances, count, beta, weights);
    double h_diff = entropy - log_u;
    for (int t = 0; t < options.max_iterations; ++t) {
        if (std::abs(h_diff) < options.tolerance) break;
        if (h_diff > 0) {
            beta_min = beta;
            beta = std::isfinite(beta_max) ? (beta + beta_max) / 2 : beta * 2;
        } else {
            beta_max = beta;
            beta = std::isfinite(beta_min) ? (beta + beta_min) / 2 : beta / 2;
        }
        entropy = kernel(distances, count, beta, weights);
        h_diff = entropy - log_u;
    }
    // harmonypy's convention for a degenerate kernel: start from -1 (LISI then comes out
    // negative or infinite, flagging the cell rather than hiding it).
    double simpson = entropy == 0.0 ? -1.0 : 0.0;
    std::fill(per_category.begin(), per_category.end(), 0.0);
    for (int j = 0; j < count; ++j) {
        const int32_t code = codes[static_cast<size_t>(indices[j])];
        if (code >= 0 && code < n_categories)
            per_category[static_cast<size_t>(code)] += weights[static_cast<size_t>(j)];
    }
    for (double p : per_category) simpson += p * p;
    return simpson;
}

}  // namespace

double median_of(std::vector<double> values) {
    values.erase(
        std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
        values.end());
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    const size_t mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid),
                     values.end());
    const double upper = values[mid];
    if (values.size() % 2 == 1) return upper;
    const double lower =
        *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
    return (lower + upper) / 2.0;
}

LisiResults compute_lisi(const NeighborLists& neighbors, const std::vector<int32_t>& codes,
                         const LisiOptions& options) {
    if (!(options.perplexity > 0)) throw InvalidArgument("LISI: perplexity must be positive");
    const int wanted = options.n_neighbors > 0
                           ? options.n_neighbors
                           : static_cast<int>(std::lround(3.0 * options.perplexity));
    const int columns = std::min(wanted, neighbors.k);
    const int count = columns - 1;  // the first column (the cell itself) is dropped
    if (count < 1) throw InvalidArgument("LISI: need at least one neighbour besides the cell");
    int n_categories = 0;
    for (int32_t code : codes) n_categories = std::max(n_categories, code + 1);
    for (int64_t row = 0; row < neighbors.n_queries; ++row)
        for (int j = 0; j < columns; ++j)
            if (neighbors.row_indices(row)[j] >= static_cast<int64_t>(codes.size()))
                throw InvalidArgument("LISI: neighbour index beyond the code vector");

    LisiResults results;
    results.n_neighbors = count;
    results.per_cell.assign(static_cast<size_t>(neighbors.n_queries), 0.0);
    const RunControl& control = options.control;
    control.check();

#pragma omp parallel num_threads(control.threads())
    {
        std::vector<double> weights(static_cast<size_t>(count));
        std::vector<double> per_category(static_cast<size_t>(n_categories));
#pragma omp for schedule(static)
        for (int64_t row = 0; row < neighbors.n_queries; ++row) {
            const double simpson =
                simpson_index(neighbors.row_distances(row) + 1, neighbors.row_indices(row) + 1,
                              count, codes, n_categories, options, weights, per_category);
            results.per_cell[static_cast<size_t>(row)] = 1.0 / simpson;
        }
    }
    control.check();
    results.median = median_of(results.per_cell);
    return results;
}

LisiResults compute_lisi(const DenseD& embedding, const std::vector<int32_t>& codes,
                         const LisiOptions& options) {
    if (static_cast<int64_t>(codes.size()) != embedding.n_rows)
        throw InvalidArgument("LISI: one code per cell expected");
    const int wanted = options.n_neighbors > 0
                           ? options.n_neighbors
                           : static_cast<int>(std::lround(3.0 * options.perplexity));
    NeighborLists neighbors = exact_neighbors(embedding, wanted, options.control);
    return compute_lisi(neighbors, codes, options);
}

}  // namespace transcura
