// normalize_total / log1p / scale, and highly variable genes (seurat and seurat_v3, with and
// without batches) against a numpy/pandas re-implementation of scanpy 1.9's code
// (tests/scripts/oracle_hvg.py) on the real two-batch Kang 2018 PBMC cohort.
#include <QJsonArray>
#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

#include "test_support.hpp"
#include "transcura/errors.hpp"
#include "transcura/h5ad.hpp"
#include "transcura/hvg.hpp"
#include "transcura/normalize.hpp"
#include "transcura/qc.hpp"

using namespace transcura;

namespace {

const QString kKang = "multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad";

const Cohort& kang() {
    static const Cohort cohort = read_h5ad(test_support::shared_data(kKang).toStdString());
    return cohort;
}

double max_relative_error(const std::vector<double>& mine, const QJsonArray& expected,
                          double floor = 1e-6) {
    if (static_cast<qsizetype>(mine.size()) != expected.size()) return INFINITY;
    double worst = 0;
    for (qsizetype i = 0; i < expected.size(); ++i) {
        if (expected[i].isNull() != std::isnan(mine[i])) return INFINITY;
        if (expected[i].isNull()) continue;
        const double want = expected[i].toDouble();
        worst = std::max(worst, std::fabs(mine[i] - want) / std::max(floor, std::fabs(want)));
    }
    return worst;
}

double jaccard(const std::vector<uint8_t>& mine, const QJsonArray& expected) {
    double both = 0, any = 0;
    for (qsizetype i = 0; i < expected.size(); ++i) {
        const bool a = mine[i], b = expected[i].toBool();
        both += a && b;
        any += a || b;
    }
    return any > 0 ? both / any : 1.0;
}

}  // namespace

class TestNormalizeHvg : public QObject {
    Q_OBJECT

private slots:
    void normalize_total_and_log1p() {
        const Matrix& X = *kang().X;
        NormalizeOptions options;
        const NormalizeResults r = normalize_total(X, options);
        QVERIFY(r.X.is_sparse());
        QCOMPARE(r.X.nnz(), X.nnz());
        const CsrMatrix& m = r.X.sparse();
        for (int64_t i = 0; i < m.n_rows; ++i) {
            double sum = 0;
            for (int64_t k = m.indptr[i]; k < m.indptr[i + 1]; ++k) sum += m.data[k];
            QVERIFY(std::fabs(sum - 1e4) <= 1e-3);
        }
        // target_sum <= 0: the median cell total, as scanpy's target_sum=None.
        options.target_sum = 0;
        const NormalizeResults med = normalize_total(X, options);
        std::vector<double> totals;
        for (int64_t i = 0; i < X.n_rows(); ++i) {
            double sum = 0;
            for (int64_t k = X.sparse().indptr[i]; k < X.sparse().indptr[i + 1]; ++k)
                sum += X.sparse().data[k];
            totals.push_back(sum);
        }
        std::sort(totals.begin(), totals.end());
        QCOMPARE(med.target_sum, 0.5 * (totals[999] + totals[1000]));
        // log1p in the same pass equals log1p afterwards (up to the float rounding in between).
        options.target_sum = 1e4;
        options.log1p = true;
        const NormalizeResults logged = normalize_total(X, options);
        Matrix later = r.X;
        log1p_inplace(later);
        QCOMPARE(logged.X.nnz(), later.nnz());
        for (int64_t k = 0; k < later.nnz(); ++k)
            QVERIFY(std::fabs(logged.X.sparse().data[k] - later.sparse().data[k]) <=
                    1e-6f * later.sparse().data[k]);
        // Only some columns, never materialising the rest: identical values.
        std::vector<int64_t> genes = {5, 17, 300, 301, 8000, 9014};
        const CsrMatrix cols = normalized_log_columns(X, r.size_factors, genes);
        const Matrix reference = logged.X.subset(nullptr, &genes);
        QVERIFY(cols.indptr == reference.sparse().indptr);
        QVERIFY(cols.data == reference.sparse().data);
        QVERIFY(cols.indices == reference.sparse().indices);
    }

    void log_columns_in_any_gene_order_sparse_or_dense() {
        // Counts (small and large integers, the per-cell cached log1p and the direct one),
        // fractions, stored zeros; genes selected out of order; CSR and dense input; 1 and 2
        // threads. Each entry must be exactly log1p(count * factor) as float, rows in column order.
        const int64_t n_cells = 3000, n_genes = 50;
        CsrMatrix m;
        m.n_rows = n_cells;
        m.n_cols = n_genes;
        DenseF dense(n_cells, n_genes);
        std::mt19937 rng(11);
        for (int64_t i = 0; i < n_cells; ++i) {
            for (int64_t g = 0; g < n_genes; ++g) {
                if (rng() % 3 != 0) continue;
                const unsigned kind = rng() % 10;
                const float v = kind == 0   ? 0.0f  // a stored zero
                                : kind == 1 ? 0.25f * static_cast<float>(1 + rng() % 50)
                                : kind == 2 ? static_cast<float>(64 + rng() % 500)
                                            : static_cast<float>(1 + rng() % 8);
                m.indices.push_back(static_cast<int32_t>(g));
                m.data.push_back(v);
                dense(i, g) = v;
            }
            m.indptr.push_back(static_cast<int64_t>(m.data.size()));
        }
        std::vector<double> factors(n_cells);
        for (int64_t i = 0; i < n_cells; ++i) factors[i] = 0.5 + 0.001 * static_cast<double>(i);
        const std::vector<int64_t> genes = {40, 3, 17, 0, 49, 8, 22};
        std::vector<int32_t> position(n_genes, -1);
        for (size_t j = 0; j < genes.size(); ++j) position[genes[j]] = static_cast<int32_t>(j);
        CsrMatrix want;
        want.n_rows = n_cells;
        want.n_cols = static_cast<int64_t>(genes.size());
        for (int64_t i = 0; i < n_cells; ++i) {
            std::vector<std::pair<int32_t, float>> row;
            for (int64_t k = m.indptr[i]; k < m.indptr[i + 1]; ++k)
                if (position[m.indices[k]] >= 0 && m.data[k] != 0.0f)
                    row.emplace_back(position[m.indices[k]],
                                     static_cast<float>(std::log1p(m.data[k] * factors[i])));
            std::sort(row.begin(), row.end());
            for (const auto& [p, v] : row) {
                want.indices.push_back(p);
                want.data.push_back(v);
            }
            want.indptr.push_back(static_cast<int64_t>(want.data.size()));
        }
        for (int threads : {1, 2})
            for (const Matrix& counts : {Matrix(m), Matrix(dense)}) {
                RunControl control;
                control.num_threads = threads;
                const CsrMatrix got = normalized_log_columns(counts, factors, genes, control);
                QCOMPARE(got.n_rows, want.n_rows);
                QCOMPARE(got.n_cols, want.n_cols);
                QVERIFY(got.indptr == want.indptr);
                QVERIFY(got.indices == want.indices);
                QVERIFY(got.data == want.data);
            }
        // Factors from totals at hand are those computed from the matrix.
        std::vector<double> totals(n_cells, 0.0);
        for (int64_t i = 0; i < n_cells; ++i)
            for (int64_t k = m.indptr[i]; k < m.indptr[i + 1]; ++k)
                if (m.data[k] != 0.0f) totals[i] += m.data[k];
        double used_a = 0, used_b = 0;
        QVERIFY(normalization_factors_from_totals(totals, 0.0, &used_a) ==
                normalization_factors(Matrix(m), 0.0, {}, &used_b));
        QCOMPARE(used_a, used_b);
    }

    void scale_dense_and_sparse() {
        DenseF d(4, 3);
        const float values[4][3] = {{1, 0, 5}, {2, 0, 5}, {3, 0, 5}, {10, 0, 5}};
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 3; ++j) d(i, j) = values[i][j];
        Matrix dense(d);
        ScaleOptions options;
        options.max_value = 1.2;
        const ScaleResults r = scale(dense, options);
        QVERIFY(r.modified);
        QCOMPARE(r.means[0], 4.0);
        const double sd = std::sqrt((9 + 4 + 1 + 36) / 3.0);
        QVERIFY(std::fabs(r.stds[0] - sd) < 1e-12);
        QCOMPARE(r.stds[1], 1.0);  // zero variance -> 1, as scanpy
        QVERIFY(std::fabs(dense.dense()(0, 0) - (1 - 4) / sd) < 1e-6);
        QCOMPARE(dense.dense()(3, 0), 1.2f);  // clipped
        QCOMPARE(dense.dense()(2, 2), 0.0f);
        // Sparse + centring: never densified, left untouched, factors returned.
        Matrix sparse(d.n_rows ? Matrix(d).to_csr() : CsrMatrix{});
        const auto before = sparse.sparse().data;
        const ScaleResults rs = scale(sparse, ScaleOptions{});
        QVERIFY(!rs.modified && sparse.is_sparse() && sparse.sparse().data == before);
        QCOMPARE(rs.means[0], 4.0);
        // Sparse without centring: divided by the std in place, clipped.
        ScaleOptions no_center;
        no_center.zero_center = false;
        no_center.max_value = 1.0;
        scale(sparse, no_center);
        QVERIFY(sparse.is_sparse() && sparse.sparse().nnz() == 8);
        QVERIFY(std::fabs(sparse.sparse().data[0] - 1 / sd) < 1e-6);
    }

    void gene_moments() {
        std::vector<double> mean, var;
        gene_mean_var(*kang().X, mean, var);
        const CsrMatrix csc = kang().X->sparse().transposed();
        for (int64_t g : {0, 11, 4000, 9014}) {
            double s = 0, ss = 0;
            for (int64_t k = csc.indptr[g]; k < csc.indptr[g + 1]; ++k) s += csc.data[k];
            const double m = s / 2000.0;
            for (int64_t k = csc.indptr[g]; k < csc.indptr[g + 1]; ++k)
                ss += (csc.data[k] - m) * (csc.data[k] - m);
            ss += (2000 - (csc.indptr[g + 1] - csc.indptr[g])) * m * m;
            QVERIFY(std::fabs(mean[g] - m) <= 1e-12 * (1 + m));
            QVERIFY(std::fabs(var[g] - ss / 1999.0) <= 1e-9 * (1 + ss));
        }
    }

    void seurat_against_oracle_data() {
        QTest::addColumn<bool>("batches");
        QTest::newRow("one batch") << false;
        QTest::newRow("stim/ctrl") << true;
    }
    void seurat_against_oracle() {
        QFETCH(bool, batches);
        const Cohort& cohort = kang();
        const std::vector<int32_t> codes = batch_codes(cohort, "stim");
        HvgOptions options;
        options.n_top_genes = 2000;
        const std::vector<double> factors = normalization_factors(*cohort.X, 1e4);
        const HvgResults fast = highly_variable_genes_normalized(*cohort.X, factors, options,
                                                                 batches ? &codes : nullptr);
        NormalizeOptions log_options;
        log_options.log1p = true;
        const Matrix logged = normalize_total(*cohort.X, log_options).X;
        const HvgResults classic =
            highly_variable_genes(logged, options, batches ? &codes : nullptr);

        QStringList args{test_support::shared_data(kKang), "seurat", "2000"};
        if (batches)
            args << "--batch"
                 << "stim";
        const QJsonObject oracle = test_support::python_json("oracle_hvg.py", args);
        QVERIFY2(!oracle.isEmpty(), "oracle_hvg.py failed");
        for (const HvgResults* r : {&fast, &classic}) {
            // The classic path goes through float32 log values and back: looser tolerance,
            // absolute below 1.
            const double tol = r == &fast ? 1e-6 : 1e-4, floor = r == &fast ? 1e-6 : 1.0;
            const double e_means = max_relative_error(r->means, oracle["means"].toArray(), floor);
            const double e_disp =
                max_relative_error(r->dispersions, oracle["dispersions"].toArray(), floor);
            const double e_norm = max_relative_error(r->dispersions_norm,
                                                     oracle["dispersions_norm"].toArray(), floor);
            const double j = jaccard(r->highly_variable, oracle["highly_variable"].toArray());
            qInfo(
                "%s: rel. error means %.1e dispersions %.1e norm %.1e; HVG Jaccard %.4f (%zu "
                "genes)",
                r == &fast ? "from counts" : "from log data", e_means, e_disp, e_norm, j,
                r->selected().size());
            QVERIFY(e_means <= tol && e_disp <= tol && e_norm <= tol);
            QVERIFY(j >= (r == &fast ? 0.999 : 0.99));
        }
        if (batches) {
            const QJsonArray nb = oracle["highly_variable_nbatches"].toArray();
            int differ = 0;
            for (qsizetype g = 0; g < nb.size(); ++g)
                differ += fast.highly_variable_nbatches[g] != nb[g].toInt();
            QVERIFY(differ <= 2);
            QCOMPARE(static_cast<int>(fast.selected().size()), 2000);  // exactly n_top with batches
        }
    }

    void seurat_v3_against_oracle_data() {
        QTest::addColumn<bool>("batches");
        QTest::newRow("one batch") << false;
        QTest::newRow("stim/ctrl") << true;
    }
    void seurat_v3_against_oracle() {
        QFETCH(bool, batches);
        const Cohort& cohort = kang();
        const std::vector<int32_t> codes = batch_codes(cohort, "stim");
        HvgOptions options;
        options.flavor = HvgFlavor::SeuratV3;
        options.n_top_genes = 2000;
        const HvgResults r = highly_variable_genes(*cohort.X, options, batches ? &codes : nullptr);
        QStringList args{test_support::shared_data(kKang), "seurat_v3", "2000"};
        if (batches)
            args << "--batch"
                 << "stim";
        const QJsonObject oracle = test_support::python_json("oracle_hvg.py", args);
        QVERIFY2(!oracle.isEmpty(), "oracle_hvg.py failed");
        const double j = jaccard(r.highly_variable, oracle["highly_variable"].toArray());
        const double e = max_relative_error(r.variances_norm, oracle["variances_norm"].toArray());
        qInfo("seurat_v3: HVG Jaccard %.4f, variances_norm rel. error %.1e", j, e);
        QVERIFY(j >= 0.9);
        QVERIFY(e <= 1e-5);
        QCOMPARE(static_cast<int>(r.selected().size()), 2000);
    }

    void loess_reproduces_quadratics() {
        std::vector<double> x, y;
        for (int i = 0; i < 500; ++i) {
            const double v = std::sin(i * 0.7) * 3;  // unsorted, with repeats
            x.push_back(v);
            y.push_back(1 + 2 * v - 0.5 * v * v);
        }
        const std::vector<double> fit = loess_fit(x, y, 0.3);
        for (size_t i = 0; i < x.size(); ++i) QVERIFY(std::fabs(fit[i] - y[i]) < 1e-8);
    }

    void options_and_threads() {
        const Cohort& cohort = kang();
        HvgOptions options;
        options.n_top_genes = -1;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, highly_variable_genes(*cohort.X, options));
        options.n_top_genes = 500;
        options.control.num_threads = 1;
        const std::vector<double> factors = normalization_factors(*cohort.X, 1e4);
        const HvgResults a = highly_variable_genes_normalized(*cohort.X, factors, options);
        options.control.num_threads = 2;
        const HvgResults b = highly_variable_genes_normalized(*cohort.X, factors, options);
        QVERIFY(a.dispersions_norm.size() == b.dispersions_norm.size());
        for (size_t g = 0; g < a.dispersions_norm.size(); ++g)
            QVERIFY(a.dispersions_norm[g] == b.dispersions_norm[g] ||
                    (std::isnan(a.dispersions_norm[g]) && std::isnan(b.dispersions_norm[g])));
        // Cut-off mode (n_top_genes = 0) uses scanpy's min_mean/max_mean/min_disp.
        options.n_top_genes = 0;
        const HvgResults cut = highly_variable_genes_normalized(*cohort.X, factors, options);
        for (int64_t g : cut.selected())
            QVERIFY(cut.means[g] > 0.0125 && cut.means[g] < 3 && cut.dispersions_norm[g] > 0.5);
        Cohort copy = cohort;
        a.add_to(copy);
        QVERIFY(copy.var.contains("highly_variable") && copy.var.contains("dispersions_norm"));
    }
};

QTEST_APPLESS_MAIN(TestNormalizeHvg)
#include "tst_normalize_hvg.moc"
