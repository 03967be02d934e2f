// normalize_total, log1p, scale and per-gene moments.
#include "transcura/normalize.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine/memory.hpp"
#include "engine/parallel.hpp"
#include "transcura/errors.hpp"

namespace transcura {
namespace {

double row_total(const Matrix& X, int64_t i) {
    double total = 0.0;
    if (X.is_sparse()) {
        const CsrMatrix& m = X.sparse();
        for (int64_t k = m.indptr[i]; k < m.indptr[i + 1]; ++k) total += m.data[k];
    } else {
        const float* row = X.dense().row(i);
        for (int64_t g = 0; g < X.n_cols(); ++g) total += row[g];
    }
    return total;
}

}  // namespace

std::vector<double> normalization_factors(const Matrix& X, double target_sum,
                                          const RunControl& control, double* used_target) {
    const int64_t n = X.n_rows();
    std::vector<double> totals(static_cast<size_t>(n));
    engine::for_chunks(engine::make_chunks(n, 1024), control, [&](int64_t, int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) totals[i] = row_total(X, i);
    });
    return normalization_factors_from_totals(std::move(totals), target_sum, used_target);
}

std::vector<double> normalization_factors_from_totals(std::vector<double> totals,
                                                      double target_sum, double* used_target) {
    double target = target_sum;
    if (!(target > 0)) {
        std::vector<double> nonzero;
        for (double t : totals)
            if (t > 0) nonzero.push_back(t);
        if (nonzero.empty()) {
            target = 1.0;
        } else {  // numpy's median: mean of the two middle values for an even count
            const size_t mid = nonzero.size() / 2;
            std::nth_element(nonzero.begin(), nonzero.begin() + mid, nonzero.end());
            target = nonzero[mid];
            if (nonzero.size() % 2 == 0)
                target = 0.5 * (target + *std::max_element(nonzero.begin(), nonzero.begin() + mid));
        }
    }
    for (auto& t : totals) t = t > 0 ? target / t : 0.0;
    if (used_target) *used_target = target;
    return totals;
}

NormalizeResults normalize_total(const Matrix& X, const NormalizeOptions& options) {
    NormalizeResults r;
    r.size_factors = normalization_factors(X, options.target_sum, options.control, &r.target_sum);
    r.X = X;
    const bool take_log = options.log1p;
    const int64_t n = X.n_rows();
    engine::for_chunks(engine::make_chunks(n, 1024), options.control,
                       [&](int64_t, int64_t b, int64_t e) {
                           for (int64_t i = b; i < e; ++i) {
                               const double f = r.size_factors[i];
                               auto apply = [&](float& v) {
                                   const double scaled = v * f;
                                   v = static_cast<float>(take_log ? std::log1p(scaled) : scaled);
                               };
                               if (r.X.is_sparse()) {
                                   CsrMatrix& m = r.X.sparse();
                                   for (int64_t k = m.indptr[i]; k < m.indptr[i + 1]; ++k)
                                       apply(m.data[k]);
                               } else {
                                   float* row = r.X.dense().row(i);
                                   for (int64_t g = 0; g < r.X.n_cols(); ++g) apply(row[g]);
                               }
                           }
                       });
    return r;
}

void log1p_inplace(Matrix& X, const RunControl& control) {
    float* values = X.is_sparse() ? X.sparse().data.data() : X.dense().values.data();
    const int64_t n =
        static_cast<int64_t>(X.is_sparse() ? X.sparse().data.size() : X.dense().values.size());
    engine::for_chunks(engine::make_chunks(n, 1 << 16), control,
                       [&](int64_t, int64_t b, int64_t e) {
                           for (int64_t k = b; k < e; ++k) values[k] = std::log1p(values[k]);
                       });
}

namespace {

/// log1p(v f) of one cell's values. Counts are mostly small integers, so within a cell the same
/// few values recur: theirs are computed once per cell (log1p was a third of building the HVG
/// matrix). The same expression either way, so the same values.
class CellLog1p {
public:
    explicit CellLog1p(double factor) : factor_(factor) {}
    float operator()(float v) {
        const int small = v >= 0.0f && v < static_cast<float>(kCached) ? static_cast<int>(v) : -1;
        if (small < 0 || static_cast<float>(small) != v)
            return static_cast<float>(std::log1p(v * factor_));
        if (!(have_ >> small & 1)) {
            cached_[small] = static_cast<float>(std::log1p(v * factor_));
            have_ |= uint64_t{1} << small;
        }
        return cached_[small];
    }

private:
    static constexpr int kCached = 64;
    double factor_;
    uint64_t have_ = 0;
    float cached_[kCached];
};

/// The selected entries of a chunk of rows: column positions and log-normalised values, rows
/// one after another.
struct GatheredRows {
    DefaultInitVector<int32_t> columns;
    DefaultInitVector<float> values;
};

}  // namespace

CsrMatrix normalized_log_columns(const Matrix& counts, const std::vector<double>& factors,
                                 const std::vector<int64_t>& genes, const RunControl& control) {
    const int64_t n = counts.n_rows(), n_genes = counts.n_cols();
    if (static_cast<int64_t>(factors.size()) != n)
        throw InvalidArgument("normalized_log_columns: one factor per cell needed");
    std::vector<int32_t> position(static_cast<size_t>(n_genes), -1);
    for (size_t j = 0; j < genes.size(); ++j) {
        if (genes[j] < 0 || genes[j] >= n_genes) throw InvalidArgument("gene index out of range");
        position[genes[j]] = static_cast<int32_t>(j);
    }
    const bool sorted = std::is_sorted(genes.begin(), genes.end());
    CsrMatrix out;
    out.n_rows = n;
    out.n_cols = static_cast<int64_t>(genes.size());
    out.indptr.assign(static_cast<size_t>(n + 1), 0);
    // One pass over the counts (a counting pass first, then a filling one, read them twice):
    // each chunk of rows gathers its selected entries into scratch with room for all its stored
    // values, without a branch per value (which entries are selected is unpredictable), logs
    // them there while they are in cache, and keeps an exact-size copy; the rows are then
    // copied into place.
    const engine::Chunking chunks = engine::make_chunks(n, 1024);
    std::vector<GatheredRows> gathered(static_cast<size_t>(chunks.count()));
    engine::for_chunks(chunks, control, [&](int64_t c, int64_t b, int64_t e) {
        GatheredRows scratch;
        const size_t room = counts.is_sparse()
                                ? static_cast<size_t>(counts.sparse().indptr[e] -
                                                      counts.sparse().indptr[b])
                                : static_cast<size_t>(e - b) * genes.size();
        scratch.columns.resize(room);
        scratch.values.resize(room);
        int32_t* columns = scratch.columns.data();
        float* values = scratch.values.data();
        size_t k = 0;
        for (int64_t i = b; i < e; ++i) {
            const size_t row_start = k;
            if (counts.is_sparse()) {
                const CsrMatrix& m = counts.sparse();
                for (int64_t q = m.indptr[i]; q < m.indptr[i + 1]; ++q) {
                    const int32_t p = position[m.indices[q]];
                    const float v = m.data[q];
                    columns[k] = p;  // kept only if selected and non-zero
                    values[k] = v;
                    k += static_cast<size_t>(p >= 0) & static_cast<size_t>(v != 0.0f);
                }
            } else {
                const float* row = counts.dense().row(i);
                for (size_t j = 0; j < genes.size(); ++j) {
                    const float v = row[genes[j]];
                    columns[k] = static_cast<int32_t>(j);
                    values[k] = v;
                    k += static_cast<size_t>(v != 0.0f);
                }
            }
            CellLog1p log1p_of(factors[i]);
            for (size_t q = row_start; q < k; ++q) values[q] = log1p_of(values[q]);
            if (!sorted) {
                // Keep CSR column order within rows when the selection is not increasing.
                std::vector<std::pair<int32_t, float>> entries;
                for (size_t q = row_start; q < k; ++q) entries.emplace_back(columns[q], values[q]);
                std::sort(entries.begin(), entries.end(),
                          [](const auto& x, const auto& y) { return x.first < y.first; });
                for (size_t q = 0; q < entries.size(); ++q) {
                    columns[row_start + q] = entries[q].first;
                    values[row_start + q] = entries[q].second;
                }
            }
            out.indptr[i + 1] = static_cast<int64_t>(k - row_start);
        }
        GatheredRows& kept = gathered[static_cast<size_t>(c)];
        kept.columns.assign(columns, columns + k);
        kept.values.assign(values, values + k);
    });
    for (int64_t i = 0; i < n; ++i) out.indptr[i + 1] += out.indptr[i];
    engine::resize_huge(out.indices, static_cast<size_t>(out.indptr[n]));
    engine::resize_huge(out.data, static_cast<size_t>(out.indptr[n]));
    engine::for_chunks(chunks, control, [&](int64_t c, int64_t b, int64_t) {
        GatheredRows& kept = gathered[static_cast<size_t>(c)];
        std::copy(kept.columns.begin(), kept.columns.end(), out.indices.begin() + out.indptr[b]);
        std::copy(kept.values.begin(), kept.values.end(), out.data.begin() + out.indptr[b]);
        kept = GatheredRows();
    });
    return out;
}

void gene_mean_var(const Matrix& X, std::vector<double>& means, std::vector<double>& variances,
                   const RunControl& control) {
    const int64_t n = X.n_rows(), n_genes = X.n_cols();
    const engine::Chunking chunks = engine::make_chunks(n, 512, 32);
    std::vector<std::vector<double>> sums(chunks.count()), squares(chunks.count());
    engine::for_chunks(chunks, control, [&](int64_t c, int64_t b, int64_t e) {
        sums[c].assign(static_cast<size_t>(n_genes), 0.0);
        squares[c].assign(static_cast<size_t>(n_genes), 0.0);
        double* s = sums[c].data();
        double* q = squares[c].data();
        for (int64_t i = b; i < e; ++i) {
            if (X.is_sparse()) {
                const CsrMatrix& m = X.sparse();
                for (int64_t k = m.indptr[i]; k < m.indptr[i + 1]; ++k) {
                    const double v = m.data[k];
                    s[m.indices[k]] += v;
                    q[m.indices[k]] += v * v;
                }
            } else {
                const float* row = X.dense().row(i);
                for (int64_t g = 0; g < n_genes; ++g) {
                    const double v = row[g];
                    s[g] += v;
                    q[g] += v * v;
                }
            }
        }
    });
    means.assign(static_cast<size_t>(n_genes), 0.0);
    variances.assign(static_cast<size_t>(n_genes), 0.0);
    const double nd = static_cast<double>(n);
    engine::for_chunks(
        engine::make_chunks(n_genes, 2048), control, [&](int64_t, int64_t b, int64_t e) {
            for (int64_t g = b; g < e; ++g) {
                double s = 0.0, q = 0.0;
                for (size_t c = 0; c < sums.size(); ++c) {
                    s += sums[c][g];
                    q += squares[c][g];
                }
                const double mean = n > 0 ? s / nd : 0.0;
                means[g] = mean;
                // scanpy's _get_mean_var: (E[x^2] - E[x]^2) * n / (n - 1)
                variances[g] = n > 1 ? (q / nd - mean * mean) * nd / (nd - 1.0) : 0.0;
            }
        });
}

ScaleResults scale(Matrix& X, const ScaleOptions& options) {
    ScaleResults r;
    std::vector<double> variances;
    gene_mean_var(X, r.means, variances, options.control);
    r.stds.resize(variances.size());
    for (size_t g = 0; g < variances.size(); ++g) {
        const double sd = std::sqrt(std::max(variances[g], 0.0));
        r.stds[g] = sd > 0 ? sd : 1.0;
    }
    const double clip = options.max_value;
    const int64_t n = X.n_rows(), n_genes = X.n_cols();
    if (!X.is_sparse()) {
        DenseF& m = X.dense();
        engine::for_chunks(
            engine::make_chunks(n, 256), options.control, [&](int64_t, int64_t b, int64_t e) {
                for (int64_t i = b; i < e; ++i) {
                    float* row = m.row(i);
                    for (int64_t g = 0; g < n_genes; ++g) {
                        double v = (row[g] - (options.zero_center ? r.means[g] : 0.0)) / r.stds[g];
                        if (clip > 0)
                            v = std::clamp(v, options.zero_center ? -clip : -HUGE_VAL, clip);
                        row[g] = static_cast<float>(v);
                    }
                }
            });
        r.modified = true;
    } else if (!options.zero_center) {
        CsrMatrix& m = X.sparse();
        engine::for_chunks(engine::make_chunks(m.nnz(), 1 << 16), options.control,
                           [&](int64_t, int64_t b, int64_t e) {
                               for (int64_t k = b; k < e; ++k) {
                                   double v = m.data[k] / r.stds[m.indices[k]];
                                   if (clip > 0) v = std::min(v, clip);
                                   m.data[k] = static_cast<float>(v);
                               }
                           });
        r.modified = true;
    }
    return r;
}

}  // namespace transcura
