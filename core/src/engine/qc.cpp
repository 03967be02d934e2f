// QC metrics (scanpy's calculate_qc_metrics) and MAD outlier flags.
#include "transcura/qc.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <unordered_map>

#include "engine/parallel.hpp"
#include "transcura/errors.hpp"

namespace transcura {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double percent(double part, double total) {
    return total > 0 ? 100.0 * part / total : kNaN;
}

/// Sums of a cell's `n` largest non-zero values. A cell's n-th largest value is close to the
/// previous cell's, so that is tried as a threshold first: one vectorised count of the values
/// at or above it, and if between n and 16 n are, only those are copied and partially ordered.
/// Otherwise the threshold is halved or doubled (a few times), and as a last resort all
/// non-zero values are. (Copying every value and std::nth_element over all of them was two
/// thirds of the QC step: 1.1 of 1.7 CPU s at 100k cells.) The threshold only decides which
/// values are looked at, never the result: the n largest are the same values whichever way they
/// are found (the summation order can differ, which for counts changes nothing). One object per
/// thread, reused across cells.
class TopSum {
public:
    explicit TopSum(int n) : n_(static_cast<size_t>(std::max(1, n))) {}

    double operator()(const float* values, size_t count) {
        float threshold = guess_;
        float usable = 0.0f;  // a threshold with at least n values at or above it, the fewest
        size_t usable_count = SIZE_MAX;
        for (int attempt = 0; attempt < 6 && threshold > 0.0f; ++attempt) {
            const size_t at_least = count_at_least(values, count, threshold);
            if (at_least >= n_ && at_least < usable_count) {
                usable = threshold;
                usable_count = at_least;
            }
            if (at_least < n_)
                threshold *= 0.5f;
            else if (at_least > 16 * n_)
                threshold *= 2.0f;
            else
                break;
        }
        candidates_.clear();
        if (usable_count != SIZE_MAX) {
            for (size_t i = 0; i < count; ++i)
                if (values[i] >= usable) candidates_.push_back(values[i]);
        } else {
            for (size_t i = 0; i < count; ++i)
                if (values[i] != 0.0f) candidates_.push_back(values[i]);
            if (candidates_.size() <= n_) {  // all of them, in order
                double sum = 0.0;
                for (float v : candidates_) sum += v;
                return sum;
            }
        }
        std::nth_element(candidates_.begin(), candidates_.begin() + (n_ - 1), candidates_.end(),
                         std::greater<float>());
        guess_ = candidates_[n_ - 1];
        double sum = 0.0;
        for (size_t j = 0; j < n_; ++j) sum += candidates_[j];
        return sum;
    }

private:
    static size_t count_at_least(const float* values, size_t count, float threshold) {
        uint32_t at_least = 0;  // a cell has fewer than 2^32 values
        for (size_t i = 0; i < count; ++i) at_least += values[i] >= threshold;
        return at_least;
    }
    size_t n_;
    float guess_ = 0.0f;
    std::vector<float> candidates_;
};

/// A gene's two sums over a chunk of cells, side by side (one cache line per value).
struct GeneSums {
    double cells;  // cells with a non-zero value
    double total;
};

struct CellSums {
    double total = 0.0;
    int64_t detected = 0;
};

/// One cell's `count` values (gene_of(k), values[k]) added to its sums, its genes' sums and its
/// gene sets' sums. Everything through restrict pointers and locals: with the sums captured by
/// reference the compiler kept the running total in memory (a store-to-load chain per value).
template <typename GeneOf>
CellSums add_cell(size_t count, GeneOf gene_of, const float* __restrict values,
                  const uint32_t* __restrict membership, GeneSums* __restrict gene_sums,
                  double* __restrict set_sum) {
    double total = 0.0;
    int64_t detected = 0;
    for (size_t k = 0; k < count; ++k) {
        const float v = values[k];
        if (v == 0.0f) continue;
        const auto g = gene_of(k);
        total += v;
        ++detected;
        gene_sums[g].cells += 1.0;
        gene_sums[g].total += v;
        for (uint32_t bits = membership[g]; bits; bits &= bits - 1)
            set_sum[__builtin_ctz(bits)] += v;
    }
    return CellSums{total, detected};
}

double median_of(std::vector<double>& values) {
    if (values.empty()) return kNaN;
    const size_t mid = values.size() / 2;
    std::nth_element(values.begin(), values.begin() + mid, values.end());
    double upper = values[mid];
    if (values.size() % 2 == 1) return upper;
    double lower = *std::max_element(values.begin(), values.begin() + mid);
    return 0.5 * (lower + upper);
}

}  // namespace

bool QcGeneSet::contains(const std::string& gene) const {
    for (const auto& prefix : prefixes) {
        if (gene.size() < prefix.size() || gene.compare(0, prefix.size(), prefix) != 0) continue;
        if (not_followed_by.empty()) return true;
        if (gene.size() > prefix.size() &&
            not_followed_by.find(gene[prefix.size()]) == std::string::npos)
            return true;
    }
    return std::find(genes.begin(), genes.end(), gene) != genes.end();
}

std::vector<QcGeneSet> default_qc_gene_sets() {
    return {
        {"mt", {"MT-", "mt-"}, "", {}},
        {"ribo", {"RPS", "RPL", "Rps", "Rpl"}, "", {}},
        // scanpy's recipe uses the regex ^HB[^(P)]: "HB" then one character that is not '(',
        // 'P' or ')'. The mouse form drops the lowercase pseudogenes the same way.
        {"hb", {"HB", "Hb"}, "(P)p", {}},
    };
}

std::vector<uint8_t> mad_outliers(const std::vector<double>& values, const MadRule& rule,
                                  const std::vector<int32_t>* batch) {
    const size_t n = values.size();
    std::vector<uint8_t> flags(n, 0);
    if (batch && batch->size() != n) throw InvalidArgument("mad_outliers: batch size mismatch");
    // Group cells by batch code (missing codes form their own group).
    std::map<int32_t, std::vector<size_t>> groups;
    for (size_t i = 0; i < n; ++i) groups[batch ? (*batch)[i] : 0].push_back(i);
    std::vector<double> scratch;
    for (const auto& [code, members] : groups) {
        scratch.clear();
        for (size_t i : members)
            if (!std::isnan(values[i])) scratch.push_back(values[i]);
        if (scratch.empty()) continue;
        const double median = median_of(scratch);
        for (auto& v : scratch) v = std::fabs(v - median);
        const double mad = median_of(scratch);
        const double low = median - rule.nmads * mad, high = median + rule.nmads * mad;
        for (size_t i : members) {
            const double v = values[i];
            if (std::isnan(v)) continue;
            flags[i] = (rule.low && v < low) || (rule.high && v > high);
        }
    }
    return flags;
}

std::vector<int32_t> batch_codes(const Cohort& cohort, const std::string& key,
                                 std::vector<std::string>* names) {
    const Column* column = cohort.obs.find(key);
    if (!column) throw InvalidArgument("obs has no column '" + key + "'");
    const size_t n = column->size();
    std::vector<int32_t> codes(n, -1);
    if (column->type == ColumnType::Categorical) {
        codes = column->codes;
        if (names) *names = column->categories;
        return codes;
    }
    std::unordered_map<std::string, int32_t> seen;
    std::vector<std::string> order;
    for (size_t i = 0; i < n; ++i) {
        if (column->is_missing(i)) continue;
        const std::string text = column->text(i);
        auto [it, inserted] = seen.emplace(text, static_cast<int32_t>(order.size()));
        if (inserted) order.push_back(text);
        codes[i] = it->second;
    }
    if (names) *names = order;
    return codes;
}

QcResults compute_qc(const Matrix& X, const std::vector<std::string>& var_names,
                     const QcOptions& options, const std::vector<int32_t>* batch) {
    const int64_t n_cells = X.n_rows(), n_genes = X.n_cols();
    if (static_cast<int64_t>(var_names.size()) != n_genes)
        throw InvalidArgument("compute_qc: " + std::to_string(var_names.size()) +
                              " gene names for " + std::to_string(n_genes) + " genes");
    if (batch && static_cast<int64_t>(batch->size()) != n_cells)
        throw InvalidArgument("compute_qc: batch codes do not match the cells");
    const RunControl& control = options.control;
    QcResults r;
    r.top_n = options.top_n;
    const size_t n_sets = options.gene_sets.size();
    // Gene -> bit mask of the sets it belongs to (at most 32 sets).
    if (n_sets > 32) throw InvalidArgument("compute_qc: at most 32 gene sets");
    std::vector<uint32_t> membership(static_cast<size_t>(n_genes), 0);
    r.set_sizes.assign(n_sets, 0);
    for (size_t s = 0; s < n_sets; ++s) {
        r.set_names.push_back(options.gene_sets[s].name);
        for (int64_t g = 0; g < n_genes; ++g)
            if (options.gene_sets[s].contains(var_names[g])) {
                membership[g] |= 1u << s;
                ++r.set_sizes[s];
            }
    }
    const bool want_top = options.top_n > 0 && options.top_n <= n_genes;

    r.total_counts.assign(n_cells, 0.0);
    r.n_genes_by_counts.assign(n_cells, 0.0);
    r.set_totals.assign(n_sets, std::vector<double>(n_cells, 0.0));
    r.set_pct.assign(n_sets, std::vector<double>(n_cells, kNaN));
    if (want_top) r.pct_counts_in_top_n.assign(n_cells, kNaN);

    // Per-gene sums are reduced over a fixed number of cell chunks, in chunk order.
    const engine::Chunking chunks = engine::make_chunks(n_cells, 512, 32);
    std::vector<std::vector<GeneSums>> chunk_gene_sums(chunks.count());
    engine::for_chunks(chunks, control, [&](int64_t c, int64_t begin, int64_t end) {
        auto& gene_sums = chunk_gene_sums[c];
        gene_sums.assign(static_cast<size_t>(n_genes), GeneSums{0.0, 0.0});
        TopSum top_sum(options.top_n);
        double set_sum[32];
        for (int64_t i = begin; i < end; ++i) {
            std::fill(set_sum, set_sum + n_sets, 0.0);
            const float* values;  // the cell's values, for the top-n share
            size_t count;
            CellSums cell;
            if (X.is_sparse()) {
                const CsrMatrix& m = X.sparse();
                const int32_t* genes = m.indices.data() + m.indptr[i];
                values = m.data.data() + m.indptr[i];
                count = static_cast<size_t>(m.indptr[i + 1] - m.indptr[i]);
                cell = add_cell(
                    count, [genes](size_t k) { return genes[k]; }, values, membership.data(),
                    gene_sums.data(), set_sum);
            } else {
                values = X.dense().row(i);
                count = static_cast<size_t>(n_genes);
                cell = add_cell(
                    count, [](size_t k) { return k; }, values, membership.data(),
                    gene_sums.data(), set_sum);
            }
            r.total_counts[i] = cell.total;
            r.n_genes_by_counts[i] = static_cast<double>(cell.detected);
            for (size_t s = 0; s < n_sets; ++s) {
                r.set_totals[s][i] = set_sum[s];
                r.set_pct[s][i] = percent(set_sum[s], cell.total);
            }
            if (want_top) r.pct_counts_in_top_n[i] = percent(top_sum(values, count), cell.total);
        }
    });

    r.n_cells_by_counts.assign(n_genes, 0.0);
    r.gene_total_counts.assign(n_genes, 0.0);
    engine::for_chunks(engine::make_chunks(n_genes, 2048), control,
                       [&](int64_t, int64_t begin, int64_t end) {
                           for (size_t c = 0; c < chunk_gene_sums.size(); ++c)
                               for (int64_t g = begin; g < end; ++g) {
                                   r.n_cells_by_counts[g] += chunk_gene_sums[c][g].cells;
                                   r.gene_total_counts[g] += chunk_gene_sums[c][g].total;
                               }
                       });

    // Outlier flags.
    const std::vector<Column> columns = r.obs_columns();
    auto metric = [&](const std::string& name) -> std::vector<double> {
        for (const auto& column : columns)
            if (column.name == name) {
                std::vector<double> values(n_cells);
                for (int64_t i = 0; i < n_cells; ++i)
                    values[i] = column.number(static_cast<size_t>(i));
                return values;
            }
        throw InvalidArgument("QC outlier rule names an unknown metric '" + name + "'");
    };
    r.outlier.assign(n_cells, 0);
    for (const auto& rule : options.outlier_rules) {
        // A top-n share that was not computed (top_n changed or larger than the gene count) is
        // skipped rather than an error: the default rules name the top-50 column.
        const bool has_column = std::any_of(columns.begin(), columns.end(),
                                            [&](const Column& c) { return c.name == rule.metric; });
        if (!has_column && rule.metric.rfind("pct_counts_in_top_", 0) == 0) continue;
        const auto flags = mad_outliers(metric(rule.metric), rule, batch);
        for (int64_t i = 0; i < n_cells; ++i) r.outlier[i] |= flags[i];
    }
    if (!options.mt_rule.metric.empty() &&
        std::find(r.set_names.begin(), r.set_names.end(), "mt") != r.set_names.end())
        r.mt_outlier = mad_outliers(metric(options.mt_rule.metric), options.mt_rule, batch);
    control.report(1.0, "QC metrics");
    return r;
}

QcResults compute_qc(const Cohort& cohort, const QcOptions& options, const std::string& batch_key) {
    if (!cohort.X) throw InvalidArgument("compute_qc: the cohort has no X matrix");
    if (batch_key.empty()) return compute_qc(*cohort.X, cohort.var_names, options, nullptr);
    const std::vector<int32_t> codes = batch_codes(cohort, batch_key);
    return compute_qc(*cohort.X, cohort.var_names, options, &codes);
}

std::vector<Column> QcResults::obs_columns() const {
    const size_t n = total_counts.size();
    std::vector<Column> columns;
    auto log1p_of = [&](const std::vector<double>& values) {
        std::vector<double> out(values.size());
        for (size_t i = 0; i < values.size(); ++i) out[i] = std::log1p(values[i]);
        return out;
    };
    std::vector<int64_t> genes(n);
    for (size_t i = 0; i < n; ++i) genes[i] = static_cast<int64_t>(n_genes_by_counts[i]);
    columns.push_back(Column::make_int("n_genes_by_counts", genes));
    columns.push_back(Column::make_float("log1p_n_genes_by_counts", log1p_of(n_genes_by_counts)));
    columns.push_back(Column::make_float("total_counts", total_counts));
    columns.push_back(Column::make_float("log1p_total_counts", log1p_of(total_counts)));
    if (!pct_counts_in_top_n.empty())
        columns.push_back(Column::make_float(
            "pct_counts_in_top_" + std::to_string(top_n) + "_genes", pct_counts_in_top_n));
    for (size_t s = 0; s < set_names.size(); ++s) {
        columns.push_back(Column::make_float("total_counts_" + set_names[s], set_totals[s]));
        columns.push_back(
            Column::make_float("log1p_total_counts_" + set_names[s], log1p_of(set_totals[s])));
        columns.push_back(Column::make_float("pct_counts_" + set_names[s], set_pct[s]));
    }
    if (outlier.size() == n) columns.push_back(Column::make_bool("outlier", outlier));
    if (mt_outlier.size() == n) columns.push_back(Column::make_bool("mt_outlier", mt_outlier));
    return columns;
}

std::vector<Column> QcResults::var_columns() const {
    const size_t n_genes = n_cells_by_counts.size();
    const double n_cells = static_cast<double>(total_counts.size());
    std::vector<int64_t> cells(n_genes);
    std::vector<double> mean(n_genes), log1p_mean(n_genes), dropout(n_genes), log1p_total(n_genes);
    for (size_t g = 0; g < n_genes; ++g) {
        cells[g] = static_cast<int64_t>(n_cells_by_counts[g]);
        mean[g] = n_cells > 0 ? gene_total_counts[g] / n_cells : kNaN;
        log1p_mean[g] = std::log1p(mean[g]);
        dropout[g] = n_cells > 0 ? 100.0 * (1.0 - n_cells_by_counts[g] / n_cells) : kNaN;
        log1p_total[g] = std::log1p(gene_total_counts[g]);
    }
    return {Column::make_int("n_cells_by_counts", cells),
            Column::make_float("mean_counts", mean),
            Column::make_float("log1p_mean_counts", log1p_mean),
            Column::make_float("pct_dropout_by_counts", dropout),
            Column::make_float("total_counts", gene_total_counts),
            Column::make_float("log1p_total_counts", log1p_total)};
}

void QcResults::add_to(Cohort& cohort) const {
    if (cohort.n_obs() != static_cast<int64_t>(total_counts.size()) ||
        cohort.n_vars() != static_cast<int64_t>(n_cells_by_counts.size()))
        throw InvalidArgument("QC results do not match the cohort's shape");
    for (auto& column : obs_columns()) cohort.obs.set(std::move(column));
    for (auto& column : var_columns()) cohort.var.set(std::move(column));
}

}  // namespace transcura
