// PCA of the implicitly centred sparse matrix against exact decompositions: numpy's eigh of the
// covariance (tests/scripts/oracle_pca.py) on Kang 2018 HVGs, the exact-SVD X_pca stored in the
// Kang h5ad (all 9015 genes), and a Jacobi eigen-solver on small matrices.
#include <QJsonArray>
#include <QtTest/QtTest>

#include <cmath>
#include <fstream>

#include "test_support.hpp"
#include "transcura/errors.hpp"
#include "transcura/h5ad.hpp"
#include "transcura/hvg.hpp"
#include "transcura/normalize.hpp"
#include "transcura/pca.hpp"

using namespace transcura;

namespace {

const QString kKang = "multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad";

Matrix log_normalized(const Cohort& cohort) {
    NormalizeOptions options;
    options.log1p = true;
    return normalize_total(*cohort.X, options).X;
}

double cosine(const DenseD& a, int64_t ca, const std::vector<double>& b) {
    double dot = 0, na = 0, nb = 0;
    for (int64_t i = 0; i < a.n_rows; ++i) {
        dot += a(i, ca) * b[i];
        na += a(i, ca) * a(i, ca);
        nb += b[i] * b[i];
    }
    return dot / std::sqrt(na * nb);
}

using Columns = std::vector<std::vector<double>>;

/// Modified Gram-Schmidt, twice.
Columns orthonormal(Columns columns) {
    for (int pass = 0; pass < 2; ++pass)
        for (size_t j = 0; j < columns.size(); ++j) {
            for (size_t q = 0; q < j; ++q) {
                double dot = 0;
                for (size_t i = 0; i < columns[j].size(); ++i) dot += columns[q][i] * columns[j][i];
                for (size_t i = 0; i < columns[j].size(); ++i) columns[j][i] -= dot * columns[q][i];
            }
            double norm = 0;
            for (double v : columns[j]) norm += v * v;
            for (double& v : columns[j]) v /= std::sqrt(norm);
        }
    return columns;
}

/// Mean squared cosine of the principal angles between two k-dimensional column spaces
/// (1 = same subspace).
double subspace_agreement(const Columns& a, const Columns& b) {
    const Columns qa = orthonormal(a), qb = orthonormal(b);
    double sum = 0;
    for (const auto& x : qa)
        for (const auto& y : qb) {
            double dot = 0;
            for (size_t i = 0; i < x.size(); ++i) dot += x[i] * y[i];
            sum += dot * dot;
        }
    return sum / static_cast<double>(a.size());
}

Columns first_columns(const DenseD& m, int64_t k) {
    Columns out(k, std::vector<double>(m.n_rows));
    for (int64_t i = 0; i < m.n_rows; ++i)
        for (int64_t c = 0; c < k; ++c) out[c][i] = m(i, c);
    return out;
}

/// Eigenvalues (decreasing) of a small symmetric matrix by cyclic Jacobi rotations.
std::vector<double> jacobi_eigenvalues(std::vector<std::vector<double>> a) {
    const size_t n = a.size();
    for (int sweep = 0; sweep < 100; ++sweep) {
        double off = 0;
        for (size_t p = 0; p < n; ++p)
            for (size_t q = p + 1; q < n; ++q) off += a[p][q] * a[p][q];
        if (off < 1e-30) break;
        for (size_t p = 0; p < n; ++p)
            for (size_t q = p + 1; q < n; ++q) {
                if (std::fabs(a[p][q]) < 1e-300) continue;
                const double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                const double t =
                    (theta >= 0 ? 1 : -1) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
                const double c = 1 / std::sqrt(t * t + 1), s = t * c;
                for (size_t k = 0; k < n; ++k) {  // rows p, q
                    const double apk = a[p][k], aqk = a[q][k];
                    a[p][k] = c * apk - s * aqk;
                    a[q][k] = s * apk + c * aqk;
                }
                for (size_t k = 0; k < n; ++k) {  // columns p, q
                    const double akp = a[k][p], akq = a[k][q];
                    a[k][p] = c * akp - s * akq;
                    a[k][q] = s * akp + c * akq;
                }
            }
    }
    std::vector<double> values(n);
    for (size_t i = 0; i < n; ++i) values[i] = a[i][i];
    std::sort(values.rbegin(), values.rend());
    return values;
}

}  // namespace

class TestPca : public QObject {
    Q_OBJECT

private slots:
    void exact_on_kang_hvgs() {
        const QString path = test_support::shared_data(kKang);
        const Cohort cohort = read_h5ad(path.toStdString());
        const Matrix X = log_normalized(cohort);
        HvgOptions hvg_options;
        hvg_options.n_top_genes = 1000;
        const std::vector<int64_t> genes = highly_variable_genes(X, hvg_options).selected();
        QVERIFY(genes.size() >= 1000 && genes.size() < 1010);
        QTemporaryDir dir;
        const QString gene_file = dir.filePath("genes.txt");
        {
            std::ofstream out(gene_file.toStdString());
            for (int64_t g : genes) out << g << "\n";
        }
        const Matrix sub = X.subset(nullptr, &genes);
        PcaOptions options;
        options.n_components = 50;
        const PcaResults mine = run_pca(sub, options);
        QCOMPARE(mine.scores.n_rows, cohort.n_obs());
        QCOMPARE(mine.scores.n_cols, int64_t(50));
        QCOMPARE(mine.loadings.n_rows, static_cast<int64_t>(genes.size()));

        const QJsonObject exact = test_support::python_json(
            "oracle_pca.py", {path, "50", "--genes", gene_file, "--scores", "20"});
        QVERIFY2(!exact.isEmpty(), "oracle_pca.py failed");
        QVERIFY(std::fabs(mine.total_variance - exact["total_variance"].toDouble()) <=
                1e-6 * exact["total_variance"].toDouble());
        const QJsonArray ratio = exact["explained_variance_ratio"].toArray();
        double worst20 = 0, worst50 = 0;
        for (int c = 0; c < 50; ++c) {
            const double rel = std::fabs(mine.explained_variance_ratio[c] - ratio[c].toDouble()) /
                               ratio[c].toDouble();
            (c < 20 ? worst20 : worst50) = std::max(c < 20 ? worst20 : worst50, rel);
        }
        qInfo("explained variance ratio, max relative error: top 20 %.2e, components 21-50 %.2e",
              worst20, worst50);
        QVERIFY2(worst20 <= 1e-3, qPrintable(QString::number(worst20)));
        QVERIFY2(worst50 <= 2e-2, qPrintable(QString::number(worst50)));

        // Scores: same sign convention, so each of the top 10 agrees on its own; the top-20
        // subspace agrees as a whole.
        const QJsonArray scores = exact["scores"].toArray();
        Columns reference(20);
        for (int c = 0; c < 20; ++c) {
            const QJsonArray column = scores[c].toArray();
            for (qsizetype i = 0; i < column.size(); ++i)
                reference[c].push_back(column[i].toDouble());
            if (c < 10)
                QVERIFY2(cosine(mine.scores, c, reference[c]) > 0.9999,
                         qPrintable(QString("PC%1").arg(c + 1)));
        }
        const double agreement = subspace_agreement(first_columns(mine.scores, 20), reference);
        qInfo("top-20 score subspace agreement %.8f", agreement);
        QVERIFY(agreement > 0.9999);
    }

    void stored_exact_pca_all_genes() {
        // The h5ad's X_pca is numpy's exact SVD of the same centred log data (README recipe).
        const Cohort cohort = read_h5ad(test_support::shared_data(kKang).toStdString());
        const DenseD& stored = cohort.obsm.at("X_pca");
        PcaOptions options;
        options.n_components = 30;
        const PcaResults mine = run_pca(log_normalized(cohort), options);
        for (int c = 0; c < 20; ++c) {
            std::vector<double> column(stored.n_rows);
            double mean = 0, var = 0;
            for (int64_t i = 0; i < stored.n_rows; ++i) mean += column[i] = stored(i, c);
            mean /= stored.n_rows;
            for (double v : column) var += (v - mean) * (v - mean);
            var /= stored.n_rows - 1;
            QVERIFY2(std::fabs(mine.explained_variance[c] - var) <= 1e-3 * var,
                     qPrintable(QString("PC%1").arg(c + 1)));
            QVERIFY2(cosine(mine.scores, c, column) > 0.9999,
                     qPrintable(QString("PC%1").arg(c + 1)));
        }
    }

    void small_matrices_match_jacobi_svd() {
        // 40 x 12 sparse-ish matrix; every component (k = 12 = all) against the exact
        // eigenvalues of its covariance.
        CsrMatrix m;
        m.n_rows = 40;
        m.n_cols = 12;
        std::vector<std::vector<double>> dense(40, std::vector<double>(12, 0.0));
        uint64_t state = 12345;
        for (int i = 0; i < 40; ++i) {
            for (int j = 0; j < 12; ++j) {
                state = state * 6364136223846793005ull + 1442695040888963407ull;
                if ((state >> 60) < 7) continue;  // ~45% zeros
                const float v = static_cast<float>((state >> 40) % 1000) / 100.0f;
                m.indices.push_back(j);
                m.data.push_back(v);
                dense[i][j] = v;
            }
            m.indptr.push_back(static_cast<int64_t>(m.indices.size()));
        }
        PcaOptions options;
        options.n_components = 12;
        for (bool scaled : {false, true}) {
            options.scale = scaled;
            const PcaResults r = run_pca(Matrix(m), options);
            std::vector<std::vector<double>> centred = dense;
            for (int j = 0; j < 12; ++j) {
                double mean = 0, ss = 0;
                for (int i = 0; i < 40; ++i) mean += dense[i][j] / 40.0;
                for (int i = 0; i < 40; ++i) ss += (dense[i][j] - mean) * (dense[i][j] - mean);
                const double sd = scaled && ss > 0 ? std::sqrt(ss / 39.0) : 1.0;
                for (int i = 0; i < 40; ++i) centred[i][j] = (dense[i][j] - mean) / sd;
            }
            std::vector<std::vector<double>> cov(12, std::vector<double>(12, 0.0));
            double total = 0;
            for (int a2 = 0; a2 < 12; ++a2)
                for (int b2 = 0; b2 < 12; ++b2)
                    for (int i = 0; i < 40; ++i)
                        cov[a2][b2] += centred[i][a2] * centred[i][b2] / 39.0;
            for (int j = 0; j < 12; ++j) total += cov[j][j];
            const std::vector<double> ev = jacobi_eigenvalues(cov);
            for (int c = 0; c < 12; ++c) {
                QVERIFY(std::fabs(r.explained_variance[c] - ev[c]) <= 1e-9 * (1 + ev[c]));
                QVERIFY(std::fabs(r.explained_variance_ratio[c] - ev[c] / total) <= 1e-9);
            }
            // Dense storage gives the same decomposition.
            DenseF d(40, 12);
            for (int i = 0; i < 40; ++i)
                for (int j = 0; j < 12; ++j) d(i, j) = static_cast<float>(dense[i][j]);
            const PcaResults rd = run_pca(Matrix(d), options);
            for (int c = 0; c < 12; ++c)
                QVERIFY(std::fabs(rd.explained_variance[c] - r.explained_variance[c]) <=
                        1e-9 * (1 + r.explained_variance[c]));
            for (int c = 0; c < 6; ++c)  // well-separated leading components: same scores
                for (int i = 0; i < 40; ++i)
                    QVERIFY(std::fabs(rd.scores(i, c) - r.scores(i, c)) < 1e-6);
            // Sign convention: the largest-|loading| gene is positive.
            for (int c = 0; c < 12; ++c) {
                int best = 0;
                for (int j = 1; j < 12; ++j)
                    if (std::fabs(r.loadings(j, c)) > std::fabs(r.loadings(best, c))) best = j;
                QVERIFY(r.loadings(best, c) > 0);
            }
        }
    }

    void deterministic_for_seed_and_threads() {
        const Cohort cohort = read_h5ad(test_support::shared_data(kKang).toStdString());
        const std::vector<int64_t> genes = [] {
            std::vector<int64_t> g;
            for (int64_t j = 0; j < 9015; j += 5) g.push_back(j);
            return g;
        }();
        const Matrix X = log_normalized(cohort).subset(nullptr, &genes);
        PcaOptions options;
        options.n_components = 20;
        options.control.num_threads = 1;
        const PcaResults a = run_pca(X, options);
        options.control.num_threads = 2;
        const PcaResults b = run_pca(X, options);
        const PcaResults c = run_pca(X, options);
        QVERIFY(a.scores.values == b.scores.values);
        QVERIFY(b.scores.values == c.scores.values);
        QVERIFY(a.loadings.values == c.loadings.values);
        options.seed = 99;
        const PcaResults d = run_pca(X, options);
        QVERIFY(d.scores.values != a.scores.values);
        QVERIFY(std::fabs(d.explained_variance[0] - a.explained_variance[0]) <
                1e-8 * a.explained_variance[0]);
    }

    void errors_and_cancel() {
        DenseF one(1, 5, 1.0f);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, run_pca(Matrix(one)));
        DenseF some(10, 5, 1.0f);
        PcaOptions options;
        options.n_components = 0;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, run_pca(Matrix(some), options));
        options.n_components = 50;  // clamped to min(n, p)
        QCOMPARE(run_pca(Matrix(some), options).scores.n_cols, int64_t(5));
        CancelToken token;
        token.cancel();
        options.control.cancel = &token;
        QVERIFY_THROWS_EXCEPTION(Cancelled, run_pca(Matrix(some), options));
    }
};

QTEST_APPLESS_MAIN(TestPca)
#include "tst_pca.moc"
