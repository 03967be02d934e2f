// UMAP's fuzzy simplicial set and curve parameters, as umap-learn 0.5 computes them
// (umap_.py: smooth_knn_dist, compute_membership_strengths, fuzzy_simplicial_set,
// find_ab_params).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "engine/parallel.hpp"
#include "engine/umap_internal.hpp"
#include "transcura/errors.hpp"
#include "transcura/umap.hpp"

namespace transcura {
namespace {

// umap-learn's constants.
constexpr double kSmoothKTolerance = 1e-5;
constexpr double kMinKDistScale = 1e-3;
constexpr int kSmoothKIterations = 64;

int checked_neighbors(const NeighborLists& knn, int n_neighbors, const char* who) {
    if (!knn.queries.empty()) {
        for (int64_t row = 0; row < knn.n_queries; ++row)
            if (knn.queries[static_cast<size_t>(row)] != row)
                throw InvalidArgument(std::string(who) +
                                      ": the neighbour table must have one row per cell, row i "
                                      "for cell i (got a query subset)");
    }
    if (knn.k < 1 || knn.n_queries < 1)
        throw InvalidArgument(std::string(who) + ": the neighbour table is empty");
    if (knn.indices.size() != static_cast<size_t>(knn.n_queries * knn.k) ||
        knn.distances.size() != knn.indices.size())
        throw InvalidArgument(std::string(who) + ": the neighbour table has " +
                              std::to_string(knn.indices.size()) + " indices and " +
                              std::to_string(knn.distances.size()) + " distances for " +
                              std::to_string(knn.n_queries) + " rows of " + std::to_string(knn.k));
    const int used = n_neighbors <= 0 ? knn.k : n_neighbors;
    if (used > knn.k)
        throw InvalidArgument(std::string(who) + ": n_neighbors " + std::to_string(used) +
                              " is more than the " + std::to_string(knn.k) +
                              " neighbours in the table");
    if (used < 2)
        throw InvalidArgument(std::string(who) +
                              ": n_neighbors must be at least 2 (the cell itself and one other)");
    for (int64_t idx : knn.indices)
        if (idx >= knn.n_queries)
            throw InvalidArgument(std::string(who) + ": neighbour index " + std::to_string(idx) +
                                  " is out of range for " + std::to_string(knn.n_queries) +
                                  " cells");
    return used;
}

}  // namespace

SmoothKnnResults smooth_knn_dist(const NeighborLists& knn, int n_neighbors,
                                 const RunControl& control) {
    const int k = checked_neighbors(knn, n_neighbors, "UMAP fuzzy set");
    const int64_t n = knn.n_queries;
    const double target = std::log2(static_cast<double>(k));

    // Mean of every distance used (numpy's np.mean(distances)), summed by fixed chunks.
    const engine::Chunking chunks = engine::make_chunks(n, 512);
    std::vector<double> chunk_sums(static_cast<size_t>(chunks.count()), 0.0);
    engine::for_chunks(chunks, control, [&](int64_t c, int64_t begin, int64_t end) {
        double s = 0;
        for (int64_t i = begin; i < end; ++i)
            for (int j = 0; j < k; ++j) s += knn.row_distances(i)[j];
        chunk_sums[static_cast<size_t>(c)] = s;
    });
    const double mean_distances =
        std::accumulate(chunk_sums.begin(), chunk_sums.end(), 0.0) / static_cast<double>(n * k);

    SmoothKnnResults out;
    out.sigmas.assign(static_cast<size_t>(n), 0.0);
    out.rhos.assign(static_cast<size_t>(n), 0.0);
    engine::for_chunks(chunks, control, [&](int64_t, int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            const double* d = knn.row_distances(i);
            // rho: the nearest non-zero distance (local_connectivity 1: index 1, no
            // interpolation). The table is sorted, so it is the first positive entry.
            double rho = 0.0;
            for (int j = 0; j < k; ++j)
                if (d[j] > 0.0) {
                    rho = d[j];
                    break;
                }
            double lo = 0.0, hi = std::numeric_limits<double>::infinity(), mid = 1.0;
            for (int iter = 0; iter < kSmoothKIterations; ++iter) {
                double psum = 0.0;
                for (int j = 1; j < k; ++j) {  // umap-learn skips column 0 (the cell itself)
                    const double gap = d[j] - rho;
                    psum += gap > 0.0 ? std::exp(-(gap / mid)) : 1.0;
                }
                if (std::fabs(psum - target) < kSmoothKTolerance) break;
                if (psum > target) {
                    hi = mid;
                    mid = (lo + hi) / 2.0;
                } else {
                    lo = mid;
                    mid = std::isinf(hi) ? mid * 2.0 : (lo + hi) / 2.0;
                }
            }
            double sigma = mid;
            if (rho > 0.0) {
                double row_mean = 0.0;
                for (int j = 0; j < k; ++j) row_mean += d[j];
                row_mean /= k;
                sigma = std::max(sigma, kMinKDistScale * row_mean);
            } else {
                sigma = std::max(sigma, kMinKDistScale * mean_distances);
            }
            out.sigmas[static_cast<size_t>(i)] = sigma;
            out.rhos[static_cast<size_t>(i)] = rho;
        }
    });
    return out;
}

CsrMatrix fuzzy_simplicial_set(const NeighborLists& knn, int n_neighbors,
                               const RunControl& control) {
    const int k = checked_neighbors(knn, n_neighbors, "UMAP fuzzy set");
    const int64_t n = knn.n_queries;
    const SmoothKnnResults smooth = smooth_knn_dist(knn, k, control);
    control.check();

    // Directed memberships A (rows sorted by column, duplicates summed as scipy's coo->csr).
    std::vector<int64_t> a_ptr(static_cast<size_t>(n) + 1, 0);
    std::vector<int32_t> a_col(static_cast<size_t>(n * k));
    std::vector<double> a_val(static_cast<size_t>(n * k));
    const engine::Chunking chunks = engine::make_chunks(n, 512);
    std::vector<int> row_len(static_cast<size_t>(n), 0);
    engine::for_chunks(chunks, control, [&](int64_t, int64_t begin, int64_t end) {
        std::vector<std::pair<int32_t, double>> row;
        for (int64_t i = begin; i < end; ++i) {
            row.clear();
            const int64_t* idx = knn.row_indices(i);
            const double* d = knn.row_distances(i);
            const double rho = smooth.rhos[static_cast<size_t>(i)];
            const double sigma = smooth.sigmas[static_cast<size_t>(i)];
            for (int j = 0; j < k; ++j) {
                if (idx[j] < 0 || idx[j] == i) continue;  // missing, or the cell itself (0)
                const double gap = d[j] - rho;
                const double w = (gap <= 0.0 || sigma == 0.0) ? 1.0 : std::exp(-(gap / sigma));
                // umap-learn stores memberships as float32 and drops the ones that underflow.
                if (static_cast<float>(w) > 0.0f) row.emplace_back(static_cast<int32_t>(idx[j]), w);
            }
            std::sort(row.begin(), row.end(),
                      [](const auto& x, const auto& y) { return x.first < y.first; });
            int len = 0;
            const size_t base = static_cast<size_t>(i * k);
            for (size_t e = 0; e < row.size(); ++e) {
                if (len > 0 && a_col[base + len - 1] == row[e].first) {
                    a_val[base + len - 1] += row[e].second;
                } else {
                    a_col[base + len] = row[e].first;
                    a_val[base + len] = row[e].second;
                    ++len;
                }
            }
            row_len[static_cast<size_t>(i)] = len;
        }
    });
    // Compact (row i's entries start at i * k) into CSR.
    for (int64_t i = 0; i < n; ++i) a_ptr[static_cast<size_t>(i) + 1] = a_ptr[i] + row_len[i];
    for (int64_t i = 0; i < n; ++i) {
        const size_t from = static_cast<size_t>(i * k), to = static_cast<size_t>(a_ptr[i]);
        for (int e = 0; e < row_len[static_cast<size_t>(i)]; ++e) {
            a_col[to + e] = a_col[from + e];
            a_val[to + e] = a_val[from + e];
        }
    }
    const int64_t nnz = a_ptr[static_cast<size_t>(n)];

    // A^T by counting sort: filling rows in increasing source row keeps its columns sorted.
    std::vector<int64_t> t_ptr(static_cast<size_t>(n) + 1, 0);
    for (int64_t e = 0; e < nnz; ++e) ++t_ptr[static_cast<size_t>(a_col[e]) + 1];
    for (int64_t i = 0; i < n; ++i) t_ptr[i + 1] += t_ptr[i];
    std::vector<int32_t> t_col(static_cast<size_t>(nnz));
    std::vector<double> t_val(static_cast<size_t>(nnz));
    {
        std::vector<int64_t> fill(t_ptr.begin(), t_ptr.end() - 1);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t e = a_ptr[i]; e < a_ptr[i + 1]; ++e) {
                const int64_t at = fill[static_cast<size_t>(a_col[e])]++;
                t_col[at] = static_cast<int32_t>(i);
                t_val[at] = a_val[e];
            }
    }
    control.check();

    // Fuzzy union A + A^T - A∘A^T, row by row (merge of two sorted rows): rows in parallel,
    // once to count the entries, once to write them where the counts put them.
    CsrMatrix out;
    out.n_rows = n;
    out.n_cols = n;
    out.indptr.assign(static_cast<size_t>(n) + 1, 0);
    auto merge_row = [&](int64_t i, auto&& emit) {
        int64_t p = a_ptr[i], q = t_ptr[i];
        const int64_t p_end = a_ptr[i + 1], q_end = t_ptr[i + 1];
        while (p < p_end || q < q_end) {
            int32_t col;
            double x = 0.0, y = 0.0;
            if (q >= q_end || (p < p_end && a_col[p] < t_col[q])) {
                col = a_col[p];
                x = a_val[p++];
            } else if (p >= p_end || t_col[q] < a_col[p]) {
                col = t_col[q];
                y = t_val[q++];
            } else {
                col = a_col[p];
                x = a_val[p++];
                y = t_val[q++];
            }
            const double w = x + y - x * y;
            if (w != 0.0) emit(col, w);
        }
    };
    engine::for_chunks(chunks, control, [&](int64_t, int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            int64_t count = 0;
            merge_row(i, [&](int32_t, double) { ++count; });
            out.indptr[static_cast<size_t>(i) + 1] = count;
        }
    });
    for (int64_t i = 0; i < n; ++i) out.indptr[i + 1] += out.indptr[i];
    out.indices.resize(static_cast<size_t>(out.indptr[n]));
    out.data.resize(static_cast<size_t>(out.indptr[n]));
    engine::for_chunks(chunks, control, [&](int64_t, int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            int64_t at = out.indptr[i];
            merge_row(i, [&](int32_t col, double w) {
                out.indices[at] = col;
                out.data[at] = static_cast<float>(w);
                ++at;
            });
        }
    });
    return out;
}

std::pair<double, double> find_ab_params(double spread, double min_dist) {
    if (!(spread > 0.0) || !(min_dist >= 0.0) || min_dist >= 3.0 * spread)
        throw InvalidArgument(
            "UMAP: min_dist must be in [0, 3 * spread) and spread positive (got "
            "min_dist " +
            std::to_string(min_dist) + ", spread " + std::to_string(spread) + ")");
    // The target curve on numpy.linspace(0, 3 * spread, 300).
    constexpr int kPoints = 300;
    std::vector<double> xs(kPoints), ys(kPoints);
    for (int i = 0; i < kPoints; ++i) {
        xs[i] = 3.0 * spread * i / (kPoints - 1);
        ys[i] = xs[i] < min_dist ? 1.0 : std::exp(-(xs[i] - min_dist) / spread);
    }
    auto cost = [&](double a, double b) {
        double s = 0;
        for (int i = 0; i < kPoints; ++i) {
            const double f = 1.0 / (1.0 + a * std::pow(xs[i], 2.0 * b));
            s += (f - ys[i]) * (f - ys[i]);
        }
        return s;
    };
    // Levenberg-Marquardt from scipy.optimize.curve_fit's default start (1, 1), analytic
    // Jacobian. The least-squares problem has one minimum in the region of interest, so the
    // result agrees with scipy's to its tolerance.
    double a = 1.0, b = 1.0, lambda = 1e-3;
    double current = cost(a, b);
    for (int iter = 0; iter < 500; ++iter) {
        double jtj00 = 0, jtj01 = 0, jtj11 = 0, jtr0 = 0, jtr1 = 0;
        for (int i = 0; i < kPoints; ++i) {
            const double x = xs[i];
            const double p = x > 0.0 ? std::pow(x, 2.0 * b) : 0.0;
            const double denom = 1.0 + a * p;
            const double f = 1.0 / denom;
            const double r = f - ys[i];
            const double da = -p / (denom * denom);
            const double db = x > 0.0 ? -a * p * 2.0 * std::log(x) / (denom * denom) : 0.0;
            jtj00 += da * da;
            jtj01 += da * db;
            jtj11 += db * db;
            jtr0 += da * r;
            jtr1 += db * r;
        }
        bool improved = false;
        for (int attempt = 0; attempt < 50 && !improved; ++attempt) {
            const double m00 = jtj00 * (1.0 + lambda), m11 = jtj11 * (1.0 + lambda);
            const double det = m00 * m11 - jtj01 * jtj01;
            if (det == 0.0) break;
            const double step_a = -(m11 * jtr0 - jtj01 * jtr1) / det;
            const double step_b = -(m00 * jtr1 - jtj01 * jtr0) / det;
            const double trial = cost(a + step_a, b + step_b);
            if (trial < current) {
                const double change = current - trial;
                a += step_a;
                b += step_b;
                current = trial;
                lambda = std::max(lambda / 10.0, 1e-12);
                improved = true;
                if (change <= 1e-15 * std::max(current, 1e-300) &&
                    std::fabs(step_a) < 1e-12 * std::fabs(a) &&
                    std::fabs(step_b) < 1e-12 * std::fabs(b))
                    return {a, b};
            } else {
                lambda *= 10.0;
            }
        }
        if (!improved) break;  // no descent step left: converged
    }
    return {a, b};
}

int default_umap_epochs(int64_t n_cells) {
    return n_cells <= 10000 ? 500 : 200;
}

}  // namespace transcura
