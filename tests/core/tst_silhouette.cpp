// Silhouette, scib batch ASW and label ASW against scikit-learn (and scib's formulas written
// out with scikit-learn) on the real pbmc3500 PCs with donors as batches.
#include <cmath>

#include <QJsonArray>
#include <QJsonObject>
#include <QtTest/QtTest>

#include "batch_test_io.hpp"
#include "test_support.hpp"
#include "transcura/silhouette.hpp"

using namespace transcura;

class TestSilhouette : public QObject {
    Q_OBJECT

private:
    batch_test::Pbmc3500 pbmc_;

    static double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
        if (a.size() != b.size()) return INFINITY;
        double worst = 0;
        for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
        return worst;
    }

    /// Equal element by element, NaN matching NaN (unscored cells).
    static bool same(const std::vector<double>& a, const std::vector<double>& b) {
        if (a.size() != b.size()) return false;
        for (size_t i = 0; i < a.size(); ++i)
            if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
        return true;
    }

private slots:
    void initTestCase() {
        QVERIFY(pbmc_.load());  // oracle_batch.py prepare_pbmc, read back
    }

    void samplesMatchSklearn_data() {
        QTest::addColumn<QString>("codes");
        QTest::newRow("labels") << "labels.bin";
        QTest::newRow("donors") << "donor.bin";
    }

    void samplesMatchSklearn() {
        QFETCH(QString, codes);
        QJsonObject oracle = test_support::python_json(
            "oracle_batch.py",
            {"silhouette", pbmc_.path("pcs.bin"), "3500", "30", pbmc_.path(codes)});
        const std::vector<double> ref = batch_test::doubles(oracle["samples"]);
        QCOMPARE(ref.size(), size_t(3500));
        SilhouetteOptions options;
        options.control.num_threads = 2;
        SilhouetteResults r =
            silhouette(pbmc_.pcs, batch_test::read_raw<int32_t>(pbmc_.path(codes)), options);
        const double worst = max_diff(r.per_cell, ref);
        qInfo("silhouette_score %.9f (sklearn %.9f), per-cell max |diff| %.3g", r.score,
              oracle["score"].toDouble(), worst);
        QVERIFY(worst < 1e-6);
        QVERIFY(std::abs(r.score - oracle["score"].toDouble()) < 1e-6);
        QCOMPARE(r.n_scored, int64_t(3500));
        QVERIFY(!r.subsampled);
    }

    void scibScoresMatch() {
        QJsonObject oracle = test_support::python_json(
            "oracle_batch.py", {"asw", pbmc_.path("pcs.bin"), "3500", "30", pbmc_.path("donor.bin"),
                                pbmc_.path("labels.bin")});
        SilhouetteOptions options;
        BatchAswResults b = batch_asw(pbmc_.pcs, pbmc_.donors, pbmc_.labels, options);
        SilhouetteResults l = silhouette(pbmc_.pcs, pbmc_.labels, options);
        qInfo("batch ASW %.9f (scib formula %.9f, %d labels); label ASW %.9f (%.9f)", b.score,
              oracle["asw_batch"].toDouble(), b.n_labels_scored, l.scaled,
              oracle["asw_label"].toDouble());
        QVERIFY(std::abs(b.score - oracle["asw_batch"].toDouble()) < 1e-6);
        QVERIFY(std::abs(l.scaled - oracle["asw_label"].toDouble()) < 1e-6);
        const QJsonObject per_label = oracle["per_label"].toObject();
        QCOMPARE(b.n_labels_scored, static_cast<int>(per_label.size()));
        for (const QString& key : per_label.keys())
            QVERIFY(std::abs(b.per_label[static_cast<size_t>(key.toInt())] -
                             per_label[key].toDouble()) < 1e-6);
        QVERIFY(b.score > 0 && b.score <= 1);
    }

    void subsampleIsExactOnTheSample() {
        SilhouetteOptions options;
        options.max_cells = 1000;
        options.seed = 3;
        SilhouetteResults r = silhouette(pbmc_.pcs, pbmc_.labels, options);
        QVERIFY(r.subsampled);
        QCOMPARE(r.n_scored, int64_t(1000));
        // Scoring the sampled cells alone gives the same widths.
        DenseD sample(1000, 30);
        std::vector<int32_t> codes;
        std::vector<double> expected;
        for (int64_t i = 0; i < 3500; ++i) {
            if (std::isnan(r.per_cell[static_cast<size_t>(i)])) continue;
            for (int j = 0; j < 30; ++j)
                sample(static_cast<int64_t>(codes.size()), j) = pbmc_.pcs(i, j);
            codes.push_back(pbmc_.labels[static_cast<size_t>(i)]);
            expected.push_back(r.per_cell[static_cast<size_t>(i)]);
        }
        QCOMPARE(codes.size(), size_t(1000));
        SilhouetteResults full = silhouette(sample, codes, {});
        QVERIFY(max_diff(full.per_cell, expected) < 1e-12);
        // Same seed, same cells; another seed, other cells.
        QVERIFY(same(silhouette(pbmc_.pcs, pbmc_.labels, options).per_cell, r.per_cell));
        options.seed = 4;
        QVERIFY(!same(silhouette(pbmc_.pcs, pbmc_.labels, options).per_cell, r.per_cell));
    }

    void threadsAndEdgeCases() {
        SilhouetteOptions one;
        one.control.num_threads = 1;
        SilhouetteOptions two;
        two.control.num_threads = 2;
        QCOMPARE(silhouette(pbmc_.pcs, pbmc_.donors, one).per_cell,
                 silhouette(pbmc_.pcs, pbmc_.donors, two).per_cell);

        // Tiny hand-checked case: two tight pairs far apart, one singleton.
        DenseD tiny(5, 1);
        tiny.values = {0.0, 1.0, 10.0, 11.0, 30.0};
        SilhouetteResults t = silhouette(tiny, {0, 0, 1, 1, 2});
        // Cell 0: a = 1, b = mean(10, 11) = 10.5 -> (10.5 - 1) / 10.5.
        QVERIFY(std::abs(t.per_cell[0] - 9.5 / 10.5) < 1e-12);
        QCOMPARE(t.per_cell[4], 0.0);  // singleton
        // Missing codes are left out; one label is an error.
        SilhouetteResults m = silhouette(tiny, {0, 0, -1, 1, 1});
        QVERIFY(std::isnan(m.per_cell[2]));
        QCOMPARE(m.n_scored, int64_t(4));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, silhouette(tiny, {0, 0, 0, 0, 0}));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, silhouette(tiny, {0, 1}));
        // Batch ASW: a label with one batch is skipped.
        BatchAswResults b = batch_asw(tiny, {0, 1, 0, 0, 1}, {0, 0, 1, 1, 1});
        QCOMPARE(b.n_labels_scored, 1);
        QVERIFY(std::isnan(b.per_label[0]));  // 2 cells, 2 batches: as many batches as cells
    }
};

QTEST_APPLESS_MAIN(TestSilhouette)
#include "tst_silhouette.moc"
