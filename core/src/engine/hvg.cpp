// Highly variable genes: scanpy's seurat and seurat_v3 flavours (see hvg.hpp).
#include "transcura/hvg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>

#include "engine/parallel.hpp"
#include "transcura/errors.hpp"

namespace transcura {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Per-gene sum, sum of squares and non-zero count of value(x, row, gene) over a set of rows,
/// reduced over fixed chunks in order. value(0, ...) must be 0 (zeros are skipped).
struct Moments {
    std::vector<double> sum, sumsq, nonzero;
    int64_t n = 0;
    double mean(int64_t g) const { return sum[g] / static_cast<double>(n); }
    /// ddof = 1, computed as scanpy's _get_mean_var does.
    double var(int64_t g) const {
        const double nd = static_cast<double>(n), m = mean(g);
        return n > 1 ? (sumsq[g] / nd - m * m) * nd / (nd - 1.0) : 0.0;
    }
};

template <typename Value>
Moments moments(const Matrix& X, const std::vector<int64_t>& rows, Value value,
                const RunControl& control) {
    const int64_t G = X.n_cols();
    const engine::Chunking chunks = engine::make_chunks(static_cast<int64_t>(rows.size()), 512, 32);
    // A gene's three sums side by side: one cache line per value instead of three.
    struct Sums {
        double sum, sumsq, nonzero;
    };
    std::vector<std::vector<Sums>> partial(chunks.count());
    engine::for_chunks(chunks, control, [&](int64_t c, int64_t b, int64_t e) {
        std::vector<Sums>& m = partial[c];
        m.assign(G, Sums{0.0, 0.0, 0.0});
        for (int64_t r = b; r < e; ++r) {
            const int64_t i = rows[r];
            auto add = [&](int64_t g, float x) {
                if (x == 0.0f) return;
                const double v = value(x, i, g);
                Sums& to = m[g];
                to.sum += v;
                to.sumsq += v * v;
                to.nonzero += 1.0;
            };
            if (X.is_sparse()) {
                const CsrMatrix& s = X.sparse();
                for (int64_t k = s.indptr[i]; k < s.indptr[i + 1]; ++k)
                    add(s.indices[k], s.data[k]);
            } else {
                const float* row = X.dense().row(i);
                for (int64_t g = 0; g < G; ++g) add(g, row[g]);
            }
        }
    });
    Moments total;
    total.n = static_cast<int64_t>(rows.size());
    total.sum.assign(G, 0.0);
    total.sumsq.assign(G, 0.0);
    total.nonzero.assign(G, 0.0);
    for (const auto& m : partial)
        for (int64_t g = 0; g < G; ++g) {
            total.sum[g] += m[g].sum;
            total.sumsq[g] += m[g].sumsq;
            total.nonzero[g] += m[g].nonzero;
        }
    return total;
}

/// Rows of each batch (one group of all rows without batches), in code order; -1 last.
std::vector<std::vector<int64_t>> batch_rows(int64_t n, const std::vector<int32_t>* batch) {
    if (!batch) {
        std::vector<int64_t> all(static_cast<size_t>(n));
        std::iota(all.begin(), all.end(), 0);
        return {all};
    }
    if (static_cast<int64_t>(batch->size()) != n)
        throw InvalidArgument("highly_variable_genes: batch codes do not match the cells");
    std::map<int64_t, std::vector<int64_t>> groups;  // -1 sorts first; moved last below
    for (int64_t i = 0; i < n; ++i) groups[(*batch)[i] < 0 ? INT64_MAX : (*batch)[i]].push_back(i);
    std::vector<std::vector<int64_t>> out;
    for (auto& [code, rows] : groups) out.push_back(std::move(rows));
    return out;
}

/// The seurat flavour within one batch, for the genes in `genes`. Inputs: mean and variance of
/// the expm1 (normalised, not logged) values. Outputs indexed like `genes`.
struct SeuratBatch {
    std::vector<double> means, dispersions, dispersions_norm;
    std::vector<uint8_t> highly_variable;
};

SeuratBatch seurat_single(const std::vector<double>& mean_in, const std::vector<double>& var_in,
                          const HvgOptions& o) {
    const size_t n = mean_in.size();
    SeuratBatch r;
    r.means.resize(n);
    r.dispersions.resize(n);
    r.dispersions_norm.assign(n, kNaN);
    r.highly_variable.assign(n, 0);
    for (size_t g = 0; g < n; ++g) {
        double mean = mean_in[g];
        if (mean == 0) mean = 1e-12;
        double dispersion = var_in[g] / mean;
        r.dispersions[g] = dispersion == 0 ? kNaN : std::log(dispersion);
        r.means[g] = std::log1p(mean);
    }
    if (n == 0) return r;
    // pandas.cut(means, n_bins): equal-width bins over [min, max], intervals (a, b], the lowest
    // edge lowered by 0.1% of the range.
    double lo = *std::min_element(r.means.begin(), r.means.end());
    double hi = *std::max_element(r.means.begin(), r.means.end());
    const int bins = std::max(1, o.n_bins);
    std::vector<double> edges(static_cast<size_t>(bins + 1));
    if (lo == hi) {
        const double adjust = lo != 0 ? 0.001 * std::fabs(lo) : 0.001;
        lo -= adjust;
        hi += adjust;
        for (int b = 0; b <= bins; ++b) edges[b] = lo + b * ((hi - lo) / bins);
        edges[bins] = hi;
    } else {
        for (int b = 0; b <= bins; ++b) edges[b] = lo + b * ((hi - lo) / bins);
        edges[bins] = hi;
        edges[0] -= (hi - lo) * 0.001;
    }
    std::vector<int> bin(n);
    for (size_t g = 0; g < n; ++g) {
        // searchsorted(edges, x, side='left') - 1
        const int64_t pos =
            std::lower_bound(edges.begin(), edges.end(), r.means[g]) - edges.begin();
        bin[g] = static_cast<int>(std::clamp<int64_t>(pos - 1, 0, bins - 1));
    }
    std::vector<double> sum(bins, 0.0), count(bins, 0.0);
    for (size_t g = 0; g < n; ++g)
        if (!std::isnan(r.dispersions[g])) {
            sum[bin[g]] += r.dispersions[g];
            count[bin[g]] += 1.0;
        }
    std::vector<double> bin_mean(bins, kNaN), bin_std(bins, kNaN);
    for (int b = 0; b < bins; ++b)
        if (count[b] > 0) bin_mean[b] = sum[b] / count[b];
    std::vector<double> ss(bins, 0.0);
    for (size_t g = 0; g < n; ++g)
        if (!std::isnan(r.dispersions[g])) {
            const double d = r.dispersions[g] - bin_mean[bin[g]];
            ss[bin[g]] += d * d;
        }
    for (int b = 0; b < bins; ++b) {
        if (count[b] > 1) {
            bin_std[b] = std::sqrt(ss[b] / (count[b] - 1.0));
        } else {
            // scanpy: a bin whose std is undefined (one gene) gets std = mean, mean = 0, so that
            // gene's normalised dispersion is 1.
            bin_std[b] = bin_mean[b];
            bin_mean[b] = 0.0;
        }
    }
    for (size_t g = 0; g < n; ++g)
        r.dispersions_norm[g] = (r.dispersions[g] - bin_mean[bin[g]]) / bin_std[bin[g]];

    if (o.n_top_genes > 0) {
        std::vector<double> finite;
        for (double d : r.dispersions_norm)
            if (!std::isnan(d)) finite.push_back(d);
        if (finite.empty()) return r;
        const size_t nth = std::min<size_t>(static_cast<size_t>(o.n_top_genes), finite.size()) - 1;
        std::nth_element(finite.begin(), finite.begin() + nth, finite.end(),
                         std::greater<double>());
        const double cutoff = finite[nth];
        for (size_t g = 0; g < n; ++g) {
            const double d = std::isnan(r.dispersions_norm[g]) ? 0.0 : r.dispersions_norm[g];
            r.highly_variable[g] = d >= cutoff;
        }
    } else {
        for (size_t g = 0; g < n; ++g) {
            const double d = r.dispersions_norm[g];
            r.highly_variable[g] =
                r.means[g] > o.min_mean && r.means[g] < o.max_mean && d > o.min_disp;
        }
    }
    return r;
}

/// Seurat flavour over batches given a per-batch moments function of the expm1 values.
template <typename MomentsOf>
HvgResults seurat(int64_t n_cells, int64_t G, const HvgOptions& o,
                  const std::vector<int32_t>* batch, MomentsOf moments_of) {
    const auto groups = batch_rows(n_cells, batch);
    HvgResults r;
    r.flavor = HvgFlavor::Seurat;
    r.n_batches = static_cast<int>(groups.size());
    if (!batch) {
        const Moments m = moments_of(groups[0]);
        std::vector<double> mean(G), var(G);
        for (int64_t g = 0; g < G; ++g) mean[g] = m.mean(g), var[g] = m.var(g);
        SeuratBatch s = seurat_single(mean, var, o);
        r.means = std::move(s.means);
        r.dispersions = std::move(s.dispersions);
        r.dispersions_norm = std::move(s.dispersions_norm);
        r.highly_variable = std::move(s.highly_variable);
        return r;
    }
    // Per batch, on the genes detected in it; undetected genes count as 0 in the averages
    // (scanpy appends zero rows for them).
    std::vector<double> sum_mean(G, 0.0), sum_disp(G, 0.0), sum_norm(G, 0.0);
    std::vector<double> n_mean(G, 0.0), n_disp(G, 0.0), n_norm(G, 0.0);
    r.highly_variable_nbatches.assign(G, 0);
    for (const auto& rows : groups) {
        const Moments m = moments_of(rows);
        std::vector<int64_t> genes;
        std::vector<double> mean, var;
        for (int64_t g = 0; g < G; ++g)
            if (m.nonzero[g] >= 1) {
                genes.push_back(g);
                mean.push_back(m.mean(g));
                var.push_back(m.var(g));
            }
        SeuratBatch s = seurat_single(mean, var, o);
        std::vector<uint8_t> seen(G, 0);
        auto add = [](double v, double& sum, double& count) {
            if (!std::isnan(v)) sum += v, count += 1.0;
        };
        for (size_t q = 0; q < genes.size(); ++q) {
            const int64_t g = genes[q];
            seen[g] = 1;
            add(s.means[q], sum_mean[g], n_mean[g]);
            add(s.dispersions[q], sum_disp[g], n_disp[g]);
            add(s.dispersions_norm[q], sum_norm[g], n_norm[g]);
            r.highly_variable_nbatches[g] += s.highly_variable[q];
        }
        for (int64_t g = 0; g < G; ++g)
            if (!seen[g]) n_mean[g] += 1, n_disp[g] += 1, n_norm[g] += 1;  // zeros
        o.control.check();
    }
    r.means.resize(G);
    r.dispersions.resize(G);
    r.dispersions_norm.resize(G);
    r.highly_variable_intersection.resize(G);
    for (int64_t g = 0; g < G; ++g) {
        r.means[g] = n_mean[g] > 0 ? sum_mean[g] / n_mean[g] : kNaN;
        r.dispersions[g] = n_disp[g] > 0 ? sum_disp[g] / n_disp[g] : kNaN;
        r.dispersions_norm[g] = n_norm[g] > 0 ? sum_norm[g] / n_norm[g] : kNaN;
        r.highly_variable_intersection[g] = r.highly_variable_nbatches[g] == r.n_batches;
    }
    r.highly_variable.assign(G, 0);
    if (o.n_top_genes > 0) {
        std::vector<int64_t> order(G);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
            if (r.highly_variable_nbatches[a] != r.highly_variable_nbatches[b])
                return r.highly_variable_nbatches[a] > r.highly_variable_nbatches[b];
            const double da = r.dispersions_norm[a], db = r.dispersions_norm[b];
            if (std::isnan(da) || std::isnan(db)) return !std::isnan(da) && std::isnan(db);
            return da > db;
        });
        for (int64_t q = 0; q < std::min<int64_t>(o.n_top_genes, G); ++q)
            r.highly_variable[order[q]] = 1;
    } else {
        for (int64_t g = 0; g < G; ++g)
            r.highly_variable[g] = r.highly_variable_nbatches[g] > 0 && r.means[g] > o.min_mean &&
                                   r.means[g] < o.max_mean && r.dispersions_norm[g] > o.min_disp;
    }
    return r;
}

HvgResults seurat_v3(const Matrix& X, const HvgOptions& o, const std::vector<int32_t>* batch) {
    const int64_t n = X.n_rows(), G = X.n_cols();
    if (o.n_top_genes <= 0) throw InvalidArgument("seurat_v3 needs n_top_genes > 0");
    const auto groups = batch_rows(n, batch);
    HvgResults r;
    r.flavor = HvgFlavor::SeuratV3;
    r.n_batches = static_cast<int>(groups.size());
    {
        std::vector<int64_t> all(static_cast<size_t>(n));
        std::iota(all.begin(), all.end(), 0);
        const Moments m = moments(
            X, all, [](float x, int64_t, int64_t) { return double(x); }, o.control);
        r.means.resize(G);
        r.variances.resize(G);
        for (int64_t g = 0; g < G; ++g) r.means[g] = m.mean(g), r.variances[g] = m.var(g);
    }
    std::vector<std::vector<double>> norm_vars;
    for (const auto& rows : groups) {
        const Moments m = moments(
            X, rows, [](float x, int64_t, int64_t) { return double(x); }, o.control);
        std::vector<double> mean(G), var(G), x, y;
        std::vector<int64_t> fitted;
        for (int64_t g = 0; g < G; ++g) {
            mean[g] = m.mean(g);
            var[g] = m.var(g);
            if (var[g] > 0) {
                fitted.push_back(g);
                x.push_back(std::log10(mean[g]));
                y.push_back(std::log10(var[g]));
            }
        }
        const std::vector<double> fit = loess_fit(x, y, o.span, o.control);
        std::vector<double> reg_std(G, 1.0), clip(G);
        for (size_t q = 0; q < fitted.size(); ++q)
            reg_std[fitted[q]] = std::sqrt(std::pow(10.0, fit[q]));
        const double N = static_cast<double>(rows.size());
        for (int64_t g = 0; g < G; ++g) clip[g] = reg_std[g] * std::sqrt(N) + mean[g];
        const Moments c = moments(
            X, rows, [&](float v, int64_t, int64_t g) { return std::min<double>(v, clip[g]); },
            o.control);
        std::vector<double> norm(G);
        for (int64_t g = 0; g < G; ++g)
            norm[g] = 1.0 / ((N - 1.0) * reg_std[g] * reg_std[g]) *
                      (N * mean[g] * mean[g] + c.sumsq[g] - 2.0 * c.sum[g] * mean[g]);
        norm_vars.push_back(std::move(norm));
        o.control.check();
    }
    // Rank within each batch (0 = most variable, ties by gene index), keep ranks < n_top.
    const int64_t n_top = std::min<int64_t>(o.n_top_genes, G);
    std::vector<std::vector<double>> ranks(norm_vars.size(), std::vector<double>(G, kNaN));
    r.highly_variable_nbatches.assign(G, 0);
    for (size_t b = 0; b < norm_vars.size(); ++b) {
        std::vector<int64_t> order(G);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](int64_t a, int64_t c) { return norm_vars[b][a] > norm_vars[b][c]; });
        for (int64_t q = 0; q < n_top; ++q) {
            ranks[b][order[q]] = static_cast<double>(q);
            ++r.highly_variable_nbatches[order[q]];
        }
    }
    r.variances_norm.assign(G, 0.0);
    r.highly_variable_rank.assign(G, kNaN);
    for (int64_t g = 0; g < G; ++g) {
        std::vector<double> present;
        for (size_t b = 0; b < norm_vars.size(); ++b) {
            r.variances_norm[g] += norm_vars[b][g] / static_cast<double>(norm_vars.size());
            if (!std::isnan(ranks[b][g])) present.push_back(ranks[b][g]);
        }
        if (present.empty()) continue;
        std::sort(present.begin(), present.end());
        const size_t mid = present.size() / 2;
        r.highly_variable_rank[g] =
            present.size() % 2 ? present[mid] : 0.5 * (present[mid - 1] + present[mid]);
    }
    std::vector<int64_t> order(G);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        const double ra = r.highly_variable_rank[a], rb = r.highly_variable_rank[b];
        if (std::isnan(ra) || std::isnan(rb)) return !std::isnan(ra) && std::isnan(rb);
        if (ra != rb) return ra < rb;
        return r.highly_variable_nbatches[a] > r.highly_variable_nbatches[b];
    });
    r.highly_variable.assign(G, 0);
    for (int64_t q = 0; q < n_top; ++q) r.highly_variable[order[q]] = 1;
    return r;
}

void check_options(const HvgOptions& o) {
    if (o.n_top_genes < 0) throw InvalidArgument("n_top_genes must be >= 0");
    if (o.n_bins < 1) throw InvalidArgument("n_bins must be >= 1");
    if (!(o.span > 0 && o.span <= 1)) throw InvalidArgument("loess span must be in (0, 1]");
}

}  // namespace

std::vector<double> loess_fit(const std::vector<double>& x_in, const std::vector<double>& y_in,
                              double span, const RunControl& control) {
    const int64_t n = static_cast<int64_t>(x_in.size());
    std::vector<double> fitted(static_cast<size_t>(n), kNaN);
    if (n == 0) return fitted;
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return x_in[a] < x_in[b]; });
    std::vector<double> x(n), y(n);
    for (int64_t i = 0; i < n; ++i) x[i] = x_in[order[i]], y[i] = y_in[order[i]];
    const int64_t q =
        std::clamp<int64_t>(static_cast<int64_t>(std::floor(n * span)), std::min<int64_t>(n, 3), n);
    // The q nearest neighbours of x[i] form a contiguous window of the sorted x; its start only
    // moves right as i grows.
    std::vector<int64_t> start(n);
    int64_t lo = 0;
    for (int64_t i = 0; i < n; ++i) {
        while (lo + q < n && x[lo + q] - x[i] < x[i] - x[lo]) ++lo;
        start[i] = lo;
    }
    std::vector<double> sorted_fit(n);
    engine::for_chunks(engine::make_chunks(n, 64), control, [&](int64_t, int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            const int64_t w0 = start[i], w1 = start[i] + q;  // [w0, w1)
            const double x0 = x[i];
            double h = std::max(x0 - x[w0], x[w1 - 1] - x0);
            if (!(h > 0)) h = 1.0;  // all neighbours tied: plain (weighted) mean
            // Weighted least squares of y on (1, u, u^2), u = (x - x0) / h: fitted value = a.
            double s[5] = {0, 0, 0, 0, 0}, t[3] = {0, 0, 0};
            for (int64_t j = w0; j < w1; ++j) {
                const double u = (x[j] - x0) / h;
                const double d = std::fabs(u);
                if (d >= 1.0) continue;
                const double c = 1.0 - d * d * d;
                const double w = c * c * c;
                const double u2 = u * u;
                s[0] += w;
                s[1] += w * u;
                s[2] += w * u2;
                s[3] += w * u2 * u;
                s[4] += w * u2 * u2;
                t[0] += w * y[j];
                t[1] += w * u * y[j];
                t[2] += w * u2 * y[j];
            }
            // Solve [[s0 s1 s2][s1 s2 s3][s2 s3 s4]] beta = t by Cramer's rule on the 3x3 system;
            // fall back to lower degree when it is (nearly) singular.
            const double det = s[0] * (s[2] * s[4] - s[3] * s[3]) -
                               s[1] * (s[1] * s[4] - s[3] * s[2]) +
                               s[2] * (s[1] * s[3] - s[2] * s[2]);
            const double scale = s[0] * s[2] * s[4] + 1e-300;
            double a;
            if (std::fabs(det) > 1e-10 * scale) {
                a = (t[0] * (s[2] * s[4] - s[3] * s[3]) - s[1] * (t[1] * s[4] - s[3] * t[2]) +
                     s[2] * (t[1] * s[3] - s[2] * t[2])) /
                    det;
            } else {
                const double det2 = s[0] * s[2] - s[1] * s[1];
                a = std::fabs(det2) > 1e-10 * (s[0] * s[2] + 1e-300)
                        ? (t[0] * s[2] - s[1] * t[1]) / det2
                        : (s[0] > 0 ? t[0] / s[0] : y[i]);
            }
            sorted_fit[i] = a;
        }
    });
    for (int64_t i = 0; i < n; ++i) fitted[order[i]] = sorted_fit[i];
    return fitted;
}

HvgResults highly_variable_genes(const Matrix& X, const HvgOptions& o,
                                 const std::vector<int32_t>* batch) {
    check_options(o);
    if (o.flavor == HvgFlavor::SeuratV3) return seurat_v3(X, o, batch);
    return seurat(X.n_rows(), X.n_cols(), o, batch, [&](const std::vector<int64_t>& rows) {
        return moments(
            X, rows, [](float v, int64_t, int64_t) { return std::expm1(double(v)); }, o.control);
    });
}

HvgResults highly_variable_genes_normalized(const Matrix& counts,
                                            const std::vector<double>& factors, const HvgOptions& o,
                                            const std::vector<int32_t>* batch) {
    check_options(o);
    if (o.flavor != HvgFlavor::Seurat)
        throw InvalidArgument("highly_variable_genes_normalized is the seurat flavour only");
    if (static_cast<int64_t>(factors.size()) != counts.n_rows())
        throw InvalidArgument("highly_variable_genes_normalized: one factor per cell needed");
    // expm1(log1p(x f)) = x f: the moments of the normalised values, no log/exp round trip.
    return seurat(
        counts.n_rows(), counts.n_cols(), o, batch, [&](const std::vector<int64_t>& rows) {
            return moments(
                counts, rows, [&](float v, int64_t i, int64_t) { return double(v) * factors[i]; },
                o.control);
        });
}

std::vector<int64_t> HvgResults::selected() const {
    std::vector<int64_t> genes;
    for (size_t g = 0; g < highly_variable.size(); ++g)
        if (highly_variable[g]) genes.push_back(static_cast<int64_t>(g));
    return genes;
}

std::vector<Column> HvgResults::var_columns() const {
    std::vector<Column> columns;
    columns.push_back(Column::make_bool("highly_variable", highly_variable));
    if (flavor == HvgFlavor::Seurat) {
        columns.push_back(Column::make_float("means", means));
        columns.push_back(Column::make_float("dispersions", dispersions));
        columns.push_back(Column::make_float("dispersions_norm", dispersions_norm));
        if (!highly_variable_nbatches.empty()) {
            columns.push_back(
                Column::make_int("highly_variable_nbatches", highly_variable_nbatches));
            columns.push_back(
                Column::make_bool("highly_variable_intersection", highly_variable_intersection));
        }
    } else {
        columns.push_back(Column::make_float("highly_variable_rank", highly_variable_rank));
        columns.push_back(Column::make_float("means", means));
        columns.push_back(Column::make_float("variances", variances));
        columns.push_back(Column::make_float("variances_norm", variances_norm));
        columns.push_back(Column::make_int("highly_variable_nbatches", highly_variable_nbatches));
    }
    return columns;
}

void HvgResults::add_to(Cohort& cohort) const {
    if (cohort.n_vars() != static_cast<int64_t>(highly_variable.size()))
        throw InvalidArgument("HVG results do not match the cohort's genes");
    for (auto& column : var_columns()) cohort.var.set(std::move(column));
}

}  // namespace transcura
