// kBET: chi-square tests of neighbourhood batch composition on a seeded sample of cells.
#include "transcura/kbet.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sampling.hpp"
#include "transcura/errors.hpp"

namespace transcura {
namespace {

const double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Regularised lower incomplete gamma P(a, x) by its series (converges fast for x < a + 1).
double gamma_p_series(double a, double x) {
    double term = 1.0 / a;
    double sum = term;
    for (int n = 1; n < 100000; ++n) {
        term *= x / (a + n);
        sum += term;
        if (std::abs(term) < std::abs(sum) * 1e-17) break;
    }
    return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

/// Regularised upper incomplete gamma Q(a, x) by its continued fraction (modified Lentz),
/// for x >= a + 1.
double gamma_q_fraction(double a, double x) {
    const double tiny = 1e-300;
    double b = x + 1.0 - a;
    double c = 1.0 / tiny;
    double d = 1.0 / b;
    double h = d;
    for (int i = 1; i < 100000; ++i) {
        const double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (std::abs(d) < tiny) d = tiny;
        c = b + an / c;
        if (std::abs(c) < tiny) c = tiny;
        d = 1.0 / d;
        const double delta = d * c;
        h *= delta;
        if (std::abs(delta - 1.0) < 1e-16) break;
    }
    return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

struct BatchFrequencies {
    std::vector<double> frequency;  // per code; 0 for codes with no cells
    int present = 0;
};

BatchFrequencies frequencies(const std::vector<int32_t>& codes) {
    BatchFrequencies f;
    int n_codes = 0;
    for (int32_t c : codes) n_codes = std::max(n_codes, c + 1);
    std::vector<int64_t> counts(static_cast<size_t>(n_codes), 0);
    int64_t total = 0;
    for (int32_t c : codes)
        if (c >= 0) {
            ++counts[static_cast<size_t>(c)];
            ++total;
        }
    f.frequency.assign(static_cast<size_t>(n_codes), 0.0);
    for (int c = 0; c < n_codes; ++c) {
        if (counts[static_cast<size_t>(c)] == 0) continue;
        f.frequency[static_cast<size_t>(c)] =
            static_cast<double>(counts[static_cast<size_t>(c)]) / static_cast<double>(total);
        ++f.present;
    }
    return f;
}

/// kBET's chi_batch_test for one neighbourhood (cells given by index).
double neighbourhood_p_value(const int64_t* cells, int count, const std::vector<int32_t>& codes,
                             const BatchFrequencies& f, std::vector<double>& observed) {
    std::fill(observed.begin(), observed.end(), 0.0);
    int counted = 0;
    for (int j = 0; j < count; ++j) {
        const int32_t c = codes[static_cast<size_t>(cells[j])];
        if (c < 0) continue;
        observed[static_cast<size_t>(c)] += 1.0;
        ++counted;
    }
    if (counted == 0) return kNaN;
    double statistic = 0.0;
    for (size_t c = 0; c < observed.size(); ++c) {
        if (f.frequency[c] == 0.0) continue;
        const double expected = f.frequency[c] * counted;
        statistic += (observed[c] - expected) * (observed[c] - expected) / expected;
    }
    return chi2_sf(statistic, f.present - 1);
}

int64_t tested_count(int64_t candidates, const KbetOptions& options) {
    auto m =
        static_cast<int64_t>(std::ceil(static_cast<double>(candidates) * options.test_fraction));
    if (options.max_tested > 0) m = std::min(m, options.max_tested);
    return std::clamp<int64_t>(m, std::min<int64_t>(1, candidates), candidates);
}

/// Rows of `neighbors` whose query cell has a batch, sampled; returns row numbers.
std::vector<int64_t> choose_rows(const NeighborLists& neighbors, const std::vector<int32_t>& codes,
                                 const KbetOptions& options) {
    std::vector<int64_t> rows;
    for (int64_t r = 0; r < neighbors.n_queries; ++r)
        if (codes[static_cast<size_t>(neighbors.query_cell(r))] >= 0) rows.push_back(r);
    return batch_detail::sample_sorted(
        rows, tested_count(static_cast<int64_t>(rows.size()), options), options.seed);
}

KbetResults run_tests(const NeighborLists& neighbors, const std::vector<int64_t>& rows, int k0,
                      const std::vector<int32_t>& codes, const KbetOptions& options) {
    const BatchFrequencies f = frequencies(codes);
    KbetResults results;
    results.k0 = k0;
    results.n_batches = f.present;
    results.p_values.assign(codes.size(), kNaN);
    results.accepted.assign(codes.size(), int8_t{-1});
    if (f.present < 2 || rows.empty()) {
        results.rejection_rate = results.acceptance_rate = kNaN;
        results.expected_rejection_rate = kNaN;
        return results;
    }
    const auto m = static_cast<int64_t>(rows.size());
    std::vector<double> p(static_cast<size_t>(m));
    std::vector<double> p_random(static_cast<size_t>(m));
    const auto n = static_cast<int64_t>(codes.size());
    const uint64_t random_base = batch_detail::SplitMix64(options.seed ^ 0xA5A5A5A5ULL).next();
#pragma omp parallel num_threads(options.control.threads())
    {
        std::vector<double> observed(f.frequency.size());
        std::vector<int64_t> random_cells(static_cast<size_t>(k0));
#pragma omp for schedule(static)
        for (int64_t t = 0; t < m; ++t) {
            const int64_t row = rows[static_cast<size_t>(t)];
            p[static_cast<size_t>(t)] =
                neighbourhood_p_value(neighbors.row_indices(row), k0, codes, f, observed);
            // Random neighbourhood of k0 distinct cells, seeded per test so the result does not
            // depend on the thread count (kBET's sample.int(n, k0)). The per-test state is a
            // mixed output, not seed + t * increment: SplitMix64 states that differ by its own
            // increment give the same stream shifted by one draw, i.e. nearly the same cells.
            batch_detail::SplitMix64 rng(
                batch_detail::SplitMix64(random_base + static_cast<uint64_t>(t)).next());
            for (int j = 0; j < k0; ++j) {
                int64_t cell;
                do cell = static_cast<int64_t>(rng.below(static_cast<uint64_t>(n)));
                while (std::find(random_cells.begin(), random_cells.begin() + j, cell) !=
                       random_cells.begin() + j);
                random_cells[static_cast<size_t>(j)] = cell;
            }
            p_random[static_cast<size_t>(t)] =
                neighbourhood_p_value(random_cells.data(), k0, codes, f, observed);
        }
    }
    int64_t rejected = 0;
    int64_t rejected_random = 0;
    for (int64_t t = 0; t < m; ++t) {
        const int64_t cell = neighbors.query_cell(rows[static_cast<size_t>(t)]);
        const double pv = p[static_cast<size_t>(t)];
        results.tested_cells.push_back(cell);
        results.p_values[static_cast<size_t>(cell)] = pv;
        // kBET counts an undefined p-value (NA) as a rejection (chi_batch_test returns 0).
        const bool reject = !(pv >= options.alpha);
        results.accepted[static_cast<size_t>(cell)] = reject ? 0 : 1;
        rejected += reject;
        rejected_random += !(p_random[static_cast<size_t>(t)] >= options.alpha);
    }
    std::sort(results.tested_cells.begin(), results.tested_cells.end());
    results.n_tested = m;
    results.rejection_rate = static_cast<double>(rejected) / static_cast<double>(m);
    results.acceptance_rate = 1.0 - results.rejection_rate;
    results.expected_rejection_rate = static_cast<double>(rejected_random) / static_cast<double>(m);
    options.control.report(1.0, "kBET");
    return results;
}

int resolve_k0(const std::vector<int32_t>& codes, const KbetOptions& options, int64_t n) {
    int k0 = options.k0 > 0 ? options.k0 : kbet_default_k0(codes, options.max_k0);
    return static_cast<int>(std::clamp<int64_t>(k0, std::min<int64_t>(2, n), n));
}

}  // namespace

double chi2_sf(double x, double df) {
    if (!(df > 0) || std::isnan(x)) return kNaN;
    if (x <= 0) return 1.0;
    if (std::isinf(x)) return 0.0;
    const double a = df / 2.0;
    const double half = x / 2.0;
    if (half < a + 1.0) return 1.0 - gamma_p_series(a, half);
    return gamma_q_fraction(a, half);
}

int kbet_default_k0(const std::vector<int32_t>& batch_codes, int max_k0) {
    const BatchFrequencies f = frequencies(batch_codes);
    int64_t with_batch = 0;
    for (int32_t c : batch_codes) with_batch += c >= 0;
    if (f.present == 0) return 2;
    // floor(mean(batch sizes) / 4), as kBET without its heuristic.
    const auto k0 =
        static_cast<int64_t>(std::floor(static_cast<double>(with_batch) / f.present / 4.0));
    return static_cast<int>(std::clamp<int64_t>(k0, 2, max_k0 > 0 ? max_k0 : INT32_MAX));
}

KbetResults kbet(const NeighborLists& neighbors, const std::vector<int32_t>& batch_codes,
                 const KbetOptions& options) {
    const auto n = static_cast<int64_t>(batch_codes.size());
    const int k0 = resolve_k0(batch_codes, options, n);
    if (neighbors.k < k0)
        throw InvalidArgument("kBET: the neighbour table has " + std::to_string(neighbors.k) +
                              " columns, k0 = " + std::to_string(k0) + " needed");
    for (int64_t r = 0; r < neighbors.n_queries; ++r)
        if (neighbors.query_cell(r) >= n || neighbors.row_indices(r)[k0 - 1] >= n)
            throw InvalidArgument("kBET: neighbour index beyond the batch codes");
    options.control.check();
    return run_tests(neighbors, choose_rows(neighbors, batch_codes, options), k0, batch_codes,
                     options);
}

KbetResults kbet(const DenseD& embedding, const std::vector<int32_t>& batch_codes,
                 const KbetOptions& options) {
    const int64_t n = embedding.n_rows;
    if (static_cast<int64_t>(batch_codes.size()) != n)
        throw InvalidArgument("kBET: one batch code per cell expected");
    const int k0 = resolve_k0(batch_codes, options, n);
    // Sample exactly as the table variant would over all cells, then search only those.
    NeighborLists all_rows;
    all_rows.n_queries = n;
    const std::vector<int64_t> tested = choose_rows(all_rows, batch_codes, options);
    NeighborLists neighbors = exact_neighbors(embedding, k0, options.control, tested);
    std::vector<int64_t> rows = batch_detail::iota_cells(neighbors.n_queries);
    return run_tests(neighbors, rows, k0, batch_codes, options);
}

}  // namespace transcura
