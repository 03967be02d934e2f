// QC metrics against a numpy re-implementation of scanpy's calculate_qc_metrics and the
// sc-best-practices MAD outlier rule (tests/scripts/oracle_qc.py), on real CSR (Kang 2018), real
// dense (10x PBMC 10k protein v3) and simulated (with mitochondrial genes and batches) data.
#include <QJsonArray>
#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <random>

#include "test_support.hpp"
#include "transcura/errors.hpp"
#include "transcura/h5ad.hpp"
#include "transcura/qc.hpp"
#include "transcura/simulate.hpp"

using namespace transcura;

namespace {

/// Largest relative difference (absolute below 1) between a column and an oracle array; NaN
/// must match null. Returns +inf on a length or NaN mismatch.
double max_relative_error(const Column& column, const QJsonArray& expected) {
    if (static_cast<qsizetype>(column.size()) != expected.size()) return INFINITY;
    double worst = 0.0;
    for (qsizetype i = 0; i < expected.size(); ++i) {
        const double mine = column.number(static_cast<size_t>(i));
        if (expected[i].isNull()) {
            if (!std::isnan(mine)) return INFINITY;
            continue;
        }
        const double want =
            expected[i].isBool() ? (expected[i].toBool() ? 1.0 : 0.0) : expected[i].toDouble();
        if (std::isnan(mine)) return INFINITY;
        worst = std::max(worst, std::fabs(mine - want) / std::max(1.0, std::fabs(want)));
    }
    return worst;
}

void compare_with_oracle(const Cohort& cohort, const QString& path, const std::string& batch_key) {
    QcResults qc = compute_qc(cohort, QcOptions{}, batch_key);
    Cohort annotated = cohort;
    qc.add_to(annotated);
    QStringList args{path};
    if (!batch_key.empty()) args << "--batch" << QString::fromStdString(batch_key);
    const QJsonObject oracle = test_support::python_json("oracle_qc.py", args);
    QVERIFY2(!oracle.isEmpty(), "oracle_qc.py failed");
    const QJsonObject obs = oracle["obs"].toObject(), var = oracle["var"].toObject();
    QVERIFY(obs.size() >= 15);
    for (auto it = obs.begin(); it != obs.end(); ++it) {
        const Column* column = annotated.obs.find(it.key().toStdString());
        QVERIFY2(column, qPrintable("missing obs column " + it.key()));
        const double error = max_relative_error(*column, it.value().toArray());
        QVERIFY2(error <= 1e-6,
                 qPrintable(QString("obs %1: max relative error %2").arg(it.key()).arg(error)));
    }
    for (auto it = var.begin(); it != var.end(); ++it) {
        const Column* column = annotated.var.find(it.key().toStdString());
        QVERIFY2(column, qPrintable("missing var column " + it.key()));
        const double error = max_relative_error(*column, it.value().toArray());
        QVERIFY2(error <= 1e-6,
                 qPrintable(QString("var %1: max relative error %2").arg(it.key()).arg(error)));
    }
    const QJsonObject sizes = oracle["set_sizes"].toObject();
    for (size_t s = 0; s < qc.set_names.size(); ++s)
        QCOMPARE(qc.set_sizes[s],
                 static_cast<int64_t>(sizes[QString::fromStdString(qc.set_names[s])].toInt()));
}

}  // namespace

class TestQc : public QObject {
    Q_OBJECT

private slots:
    void gene_set_rules() {
        const auto sets = default_qc_gene_sets();
        QCOMPARE(sets.size(), size_t(3));
        const QcGeneSet &mt = sets[0], &ribo = sets[1], &hb = sets[2];
        QVERIFY(mt.contains("MT-ND1") && mt.contains("mt-Co1") && !mt.contains("MTND1") &&
                !mt.contains("MT"));
        QVERIFY(ribo.contains("RPL5") && ribo.contains("RPS27A") && ribo.contains("Rpl13") &&
                !ribo.contains("RP11-34P13"));
        // scanpy's ^HB[^(P)]: HBA1/HBB yes, pseudogene HBP1 no, bare "HB" no.
        QVERIFY(hb.contains("HBA1") && hb.contains("HBB") && hb.contains("Hbb-bs"));
        QVERIFY(!hb.contains("HBP1") && !hb.contains("HB") && !hb.contains("Hbp1"));
        QcGeneSet explicit_set{"custom", {}, "", {"GENE1", "GENE7"}};
        QVERIFY(explicit_set.contains("GENE7") && !explicit_set.contains("GENE2"));
    }

    void mad_rule_per_batch() {
        // Batch 0 is centred at 10 (MAD 1), batch 1 at 100 (MAD 1): 20 is an outlier only in 0.
        std::vector<double> values = {9, 10, 11, 10, 20, 99, 100, 101, 100, 20, NAN};
        std::vector<int32_t> batch = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};
        MadRule rule{"x", 5.0, true, true};
        auto flags = mad_outliers(values, rule, &batch);
        QCOMPARE(int(flags[4]), 1);  // 20 in batch 0: 10 MADs above
        QCOMPARE(int(flags[9]), 1);  // 20 in batch 1: far below
        QCOMPARE(int(flags[0]), 0);
        QCOMPARE(int(flags[10]), 0);  // NaN is never an outlier
        rule.low = false;
        flags = mad_outliers(values, rule, &batch);
        QCOMPARE(int(flags[9]), 0);
        // Pooled: median 20, MAD 10.5, so the four values near 100 are flagged instead.
        flags = mad_outliers(values, MadRule{"x", 5.0, true, true}, nullptr);
        QCOMPARE(int(std::count(flags.begin(), flags.end(), 1)), 4);
        QCOMPARE(int(flags[6]), 1);
    }

    void kang_sparse_with_batch() {
        const QString path =
            test_support::shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad");
        const Cohort cohort = read_h5ad(path.toStdString());
        QVERIFY(cohort.X && cohort.X->is_sparse());
        compare_with_oracle(cohort, path, "stim");
    }

    void dense_pbmc() {
        const QString path =
            test_support::shared_data("h5ad/scvi_pbmc_protein_v3/pbmc_10k_protein_v3.h5ad");
        const Cohort cohort = read_h5ad(path.toStdString());
        QVERIFY(cohort.X && !cohort.X->is_sparse());
        compare_with_oracle(cohort, path, "");
    }

    void simulated_with_mito_and_batches() {
        SimulateOptions options;
        options.n_cells = 3000;
        options.n_genes = 3000;
        options.n_batches = 3;
        options.damaged_fraction = 0.1;
        options.seed = 7;
        const Cohort cohort = simulate_cohort(options).cohort;
        QTemporaryDir dir;
        const QString path = dir.filePath("sim.h5ad");
        write_h5ad(cohort, path.toStdString());
        compare_with_oracle(cohort, path, "batch");
        // The damaged cells are what the mitochondrial rule is for.
        QcResults qc = compute_qc(cohort, QcOptions{}, "batch");
        const Column* damaged = cohort.obs.find("damaged");
        int caught = 0, damaged_total = 0, false_alarms = 0;
        for (size_t i = 0; i < damaged->size(); ++i) {
            damaged_total += damaged->bools[i];
            caught += damaged->bools[i] && qc.mt_outlier[i];
            false_alarms += !damaged->bools[i] && qc.mt_outlier[i];
        }
        QVERIFY2(caught >= 0.95 * damaged_total,
                 qPrintable(QString("%1 of %2").arg(caught).arg(damaged_total)));
        QVERIFY(false_alarms <= 0.02 * (damaged->size() - damaged_total));
    }

    void thread_count_does_not_change_results() {
        SimulateOptions sim;
        sim.n_cells = 2000;
        sim.n_genes = 1500;
        const Cohort cohort = simulate_cohort(sim).cohort;
        QcOptions one, two;
        one.control.num_threads = 1;
        two.control.num_threads = 2;
        const QcResults a = compute_qc(cohort, one, "batch"), b = compute_qc(cohort, two, "batch");
        QVERIFY(a.total_counts == b.total_counts);
        QVERIFY(a.gene_total_counts == b.gene_total_counts);
        QVERIFY(a.pct_counts_in_top_n == b.pct_counts_in_top_n);
        QVERIFY(a.outlier == b.outlier);
    }

    void top_n_share_matches_a_full_sort() {
        // Cells whose scales jump by 1000x from one to the next (the previous cell's n-th largest
        // value, the first threshold tried, is then far off either way), ties (counts), stored
        // zeros, cells with fewer non-zeros than n, negative and fractional values.
        const int64_t n_cells = 600, n_genes = 400;
        CsrMatrix m;
        m.n_rows = n_cells;
        m.n_cols = n_genes;
        std::mt19937 rng(7);
        for (int64_t i = 0; i < n_cells; ++i) {
            const int kind = static_cast<int>(i % 6);
            const double scale = (i / 6) % 2 ? 1000.0 : 1.0;
            const int64_t stored = kind == 4 ? 30 : 40 + static_cast<int64_t>(rng() % 300);
            for (int64_t g = 0; g < n_genes; ++g) {
                if (static_cast<int64_t>(rng() % n_genes) >= stored) continue;
                float v;
                if (kind == 5)
                    v = static_cast<float>(std::uniform_real_distribution<double>(-2, 5)(rng));
                else if (kind == 3)
                    v = static_cast<float>(scale * std::exponential_distribution<double>(1)(rng));
                else
                    v = static_cast<float>(
                        std::floor(scale * std::exponential_distribution<double>(0.7)(rng)));
                m.indices.push_back(static_cast<int32_t>(g));
                m.data.push_back(v);  // some are 0: stored zeros
            }
            m.indptr.push_back(static_cast<int64_t>(m.data.size()));
        }
        std::vector<std::string> names;
        for (int64_t g = 0; g < n_genes; ++g) names.push_back(std::to_string(g));
        const Matrix X(m);
        for (int top_n : {1, 7, 50, 120}) {
            QcOptions options;
            options.top_n = top_n;
            options.outlier_rules.clear();
            const QcResults r = compute_qc(X, names, options);
            for (int64_t i = 0; i < n_cells; ++i) {
                std::vector<float> values;
                for (int64_t k = m.indptr[i]; k < m.indptr[i + 1]; ++k)
                    if (m.data[k] != 0.0f) values.push_back(m.data[k]);
                std::sort(values.begin(), values.end(), std::greater<float>());
                double top = 0.0;
                for (size_t j = 0; j < values.size() && j < static_cast<size_t>(top_n); ++j)
                    top += values[j];
                const double want = 100.0 * top / r.total_counts[i];
                const double got = r.pct_counts_in_top_n[i];
                if (!(r.total_counts[i] > 0)) {
                    QVERIFY(std::isnan(got));
                    continue;
                }
                // Integer counts: exact whatever the order; otherwise to rounding.
                const bool counts = i % 6 != 3 && i % 6 != 5;
                if (counts)
                    QCOMPARE(got, want);
                else
                    QVERIFY2(std::fabs(got - want) <= 1e-12 * std::fabs(want),
                             qPrintable(QString("cell %1 top %2: %3 vs %4")
                                            .arg(i).arg(top_n).arg(got).arg(want)));
            }
        }
    }

    void errors() {
        Cohort cohort;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, compute_qc(cohort));
        SimulateOptions sim;
        sim.n_cells = 50;
        sim.n_genes = 200;
        cohort = simulate_cohort(sim).cohort;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument,
                                 compute_qc(cohort, QcOptions{}, "no_such_column"));
        QcOptions bad;
        bad.outlier_rules = {{"no_such_metric", 5.0, true, true}};
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, compute_qc(cohort, bad));
        std::vector<std::string> short_names = {"A"};
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, compute_qc(*cohort.X, short_names));
        // Fewer genes than top_n: the top-n column is skipped, not an error.
        QcOptions top;
        top.top_n = 500;
        QVERIFY(compute_qc(cohort, top).pct_counts_in_top_n.empty());
        top.top_n = 20;  // the default rules name the top-50 share: skipped, not an error
        QcResults twenty = compute_qc(cohort, top);
        Cohort annotated = cohort;
        twenty.add_to(annotated);
        QVERIFY(annotated.obs.contains("pct_counts_in_top_20_genes"));
    }
};

QTEST_APPLESS_MAIN(TestQc)
#include "tst_qc.moc"
