// LISI and the exact neighbour search behind it, against harmonypy.compute_lisi on the real
// pbmc3500 PCs (3 donors) and against brute force.
#include <cmath>
#include <random>

#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "batch_test_io.hpp"
#include "test_support.hpp"
#include "transcura/lisi.hpp"

using namespace transcura;

class TestLisi : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    DenseD pcs_;
    std::vector<int32_t> donors_;
    std::vector<int32_t> labels_;

    QString path(const char* name) const { return dir_.filePath(QString::fromLatin1(name)); }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        QJsonObject info =
            test_support::python_json("oracle_batch.py", {"prepare_pbmc", dir_.path()});
        QCOMPARE(info.value("n").toInt(), 3500);
        QCOMPARE(info.value("d").toInt(), 30);
        pcs_ = batch_test::read_matrix(path("pcs.bin"), 3500, 30);
        donors_ = batch_test::read_raw<int32_t>(path("donor.bin"));
        labels_ = batch_test::read_raw<int32_t>(path("labels.bin"));
        QCOMPARE(pcs_.n_rows, int64_t(3500));
        QCOMPARE(donors_.size(), size_t(3500));
        QCOMPARE(labels_.size(), size_t(3500));
    }

    void exactNeighborsMatchBruteForce() {
        std::mt19937_64 rng(7);
        std::normal_distribution<double> normal;
        DenseD data(700, 5);
        for (double& v : data.values) v = normal(rng);
        // Two exact duplicates: ties must be broken by the smaller index.
        for (int j = 0; j < 5; ++j) data(11, j) = data(10, j);
        RunControl control;
        control.num_threads = 2;
        NeighborLists nn = exact_neighbors(data, 12, control);
        QCOMPARE(nn.n_queries, int64_t(700));
        QCOMPARE(nn.k, 12);
        for (int64_t i = 0; i < data.n_rows; ++i) {
            std::vector<std::pair<double, int64_t>> all;
            for (int64_t j = 0; j < data.n_rows; ++j) {
                double s = 0;
                for (int c = 0; c < 5; ++c) s += std::pow(data(i, c) - data(j, c), 2);
                all.push_back({std::sqrt(s), j});
            }
            std::sort(all.begin(), all.end());
            for (int j = 0; j < 12; ++j) {
                QCOMPARE(nn.row_indices(i)[j], all[static_cast<size_t>(j)].second);
                QVERIFY(std::abs(nn.row_distances(i)[j] - all[static_cast<size_t>(j)].first) <
                        1e-12);
            }
        }
        QCOMPARE(nn.row_indices(11)[0], int64_t(10));  // duplicate, smaller index first
        // Query subset.
        NeighborLists some = exact_neighbors(data, 3, control, {5, 600});
        QCOMPARE(some.n_queries, int64_t(2));
        QCOMPARE(some.query_cell(1), int64_t(600));
        QCOMPARE(some.row_indices(1)[0], int64_t(600));
        QCOMPARE(some.row_indices(1)[1], nn.row_indices(600)[1]);
    }

    void matchesHarmonypyOnPbmc() {
        QVERIFY(batch_test::write_raw(path("donor_codes.bin"), donors_));
        QJsonObject oracle = test_support::python_json(
            "oracle_batch.py",
            {"lisi", path("pcs.bin"), "3500", "30", path("donor.bin"), path("labels.bin")});
        const std::vector<double> ilisi_ref = batch_test::doubles(oracle["lisi"].toArray()[0]);
        const std::vector<double> clisi_ref = batch_test::doubles(oracle["lisi"].toArray()[1]);
        QCOMPARE(ilisi_ref.size(), size_t(3500));

        LisiOptions options;
        options.control.num_threads = 2;
        NeighborLists nn = exact_neighbors(pcs_, 90, options.control);
        LisiResults ilisi = compute_lisi(nn, donors_, options);
        LisiResults clisi = compute_lisi(nn, labels_, options);
        QCOMPARE(ilisi.n_neighbors, 89);
        double worst_i = 0, worst_c = 0;
        for (size_t i = 0; i < 3500; ++i) {
            worst_i = std::max(worst_i, std::abs(ilisi.per_cell[i] - ilisi_ref[i]));
            worst_c = std::max(worst_c, std::abs(clisi.per_cell[i] - clisi_ref[i]));
        }
        qInfo(
            "iLISI median %.6f (harmonypy %.6f), max |diff| %.3g; cLISI median %.6f "
            "(harmonypy %.6f), max |diff| %.3g",
            ilisi.median, oracle["median"].toArray()[0].toDouble(), worst_i, clisi.median,
            oracle["median"].toArray()[1].toDouble(), worst_c);
        QVERIFY(worst_i < 1e-3);
        QVERIFY(worst_c < 1e-3);
        QVERIFY(std::abs(ilisi.median - oracle["median"].toArray()[0].toDouble()) < 1e-3);
        // 3 donors, strong donor effect before correction: iLISI well below 3.
        QVERIFY(ilisi.median > 1.0 && ilisi.median < 2.0);

        // The convenience overload searches the same neighbours.
        LisiResults direct = compute_lisi(pcs_, donors_, options);
        QCOMPARE(direct.per_cell, ilisi.per_cell);
    }

    void bitIdenticalAcrossThreads() {
        LisiOptions one;
        one.control.num_threads = 1;
        LisiOptions two;
        two.control.num_threads = 2;
        QCOMPARE(compute_lisi(pcs_, labels_, one).per_cell,
                 compute_lisi(pcs_, labels_, two).per_cell);
    }

    void edgeCases() {
        // One category everywhere: LISI exactly 1. Missing codes carry no category.
        std::vector<int32_t> same(3500, 0);
        LisiOptions options;
        LisiResults r = compute_lisi(pcs_, same, options);
        for (double v : r.per_cell) QVERIFY(std::abs(v - 1.0) < 1e-12);
        std::vector<int32_t> half = donors_;
        for (size_t i = 0; i < half.size(); i += 2) half[i] = -1;
        LisiResults h = compute_lisi(pcs_, half, options);
        QVERIFY(h.median > 0);
        // Wrong sizes are errors, not crashes.
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, compute_lisi(pcs_, std::vector<int32_t>(10)));
        QCOMPARE(median_of({3, 1, 2, 10}), 2.5);
        QCOMPARE(median_of({3, 1, 2}), 2.0);
        QVERIFY(std::isnan(median_of({})));
    }
};

QTEST_APPLESS_MAIN(TestLisi)
#include "tst_lisi.moc"
