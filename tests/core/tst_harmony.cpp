// Harmony against harmonypy's reference output on the real pbmc3500 PCs (3 donors) and against
// harmonypy itself on a strong-batch cohort from the engine's simulator.
#include <cmath>

#include <QJsonObject>
#include <QtTest/QtTest>

#include "batch_test_io.hpp"
#include "test_support.hpp"
#include "transcura/harmony.hpp"
#include "transcura/lisi.hpp"
#include "transcura/silhouette.hpp"
#include "transcura/simulate.hpp"

using namespace transcura;

namespace {

double pearson(const DenseD& a, const DenseD& b, int64_t column) {
    double ma = 0, mb = 0;
    for (int64_t i = 0; i < a.n_rows; ++i) {
        ma += a(i, column);
        mb += b(i, column);
    }
    ma /= static_cast<double>(a.n_rows);
    mb /= static_cast<double>(a.n_rows);
    double sab = 0, saa = 0, sbb = 0;
    for (int64_t i = 0; i < a.n_rows; ++i) {
        const double x = a(i, column) - ma, y = b(i, column) - mb;
        sab += x * y;
        saa += x * x;
        sbb += y * y;
    }
    return sab / std::sqrt(saa * sbb);
}

}  // namespace

class TestHarmony : public QObject {
    Q_OBJECT

private:
    batch_test::Pbmc3500 pbmc_;
    HarmonyResults result_;

private slots:
    void initTestCase() {
        QVERIFY(pbmc_.load());  // oracle_batch.py prepare_pbmc, read back
    }

    void matchesReferenceOnPbmc() {
        HarmonyOptions options;
        options.control.num_threads = 2;
        QElapsedTimer timer;
        timer.start();
        result_ = run_harmony(pbmc_.pcs, pbmc_.donors, options);
        const qint64 ms = timer.elapsed();
        QCOMPARE(result_.n_clusters, 100);  // min(round(3500 / 30), 100)
        QCOMPARE(result_.corrected.n_rows, int64_t(3500));
        double lowest = 1, mean = 0;
        for (int j = 0; j < 30; ++j) {
            const double r = pearson(result_.corrected, pbmc_.harmonized, j);
            lowest = std::min(lowest, r);
            mean += r / 30;
        }
        QString rounds;
        for (int r : result_.kmeans_rounds) rounds += QString::number(r) + " ";
        qInfo(
            "Harmony on pbmc3500: %d iterations (converged %d), k-means rounds %s, %lld ms; "
            "per-PC correlation with the reference: min %.5f, mean %.5f",
            result_.iterations, result_.converged, qPrintable(rounds), static_cast<long long>(ms),
            lowest, mean);
        // harmonypy's own test accepts >= 0.9 per PC against this file; we ask for more.
        QVERIFY(lowest > 0.98);
        // The objective decreases step by step.
        for (size_t i = 1; i < result_.objective.size(); ++i)
            QVERIFY(result_.objective[i] < result_.objective[i - 1] + 1e-9);
    }

    void mixesAtLeastAsWellAsHarmonypy() {
        QVERIFY(result_.corrected.n_rows == 3500);
        QVERIFY(batch_test::write_raw(pbmc_.path("corrected.bin"), result_.corrected.values));
        QJsonObject oracle = test_support::python_json(
            "oracle_batch.py",
            {"harmony", pbmc_.path("pcs.bin"), "3500", "30", pbmc_.path("donor.bin"),
             pbmc_.path("labels.bin"), pbmc_.path("harmonypy.bin")});
        QVERIFY(oracle.contains("ilisi_after"));
        const double ilisi = compute_lisi(result_.corrected, pbmc_.donors).median;
        const double clisi = compute_lisi(result_.corrected, pbmc_.labels).median;
        const double ilisi_before = compute_lisi(pbmc_.pcs, pbmc_.donors).median;
        qInfo(
            "iLISI median: before %.4f, ours %.4f, harmonypy %.4f; cLISI median: before "
            "%.4f, ours %.4f, harmonypy %.4f",
            ilisi_before, ilisi, oracle["ilisi_after"].toDouble(),
            compute_lisi(pbmc_.pcs, pbmc_.labels).median, clisi, oracle["clisi_after"].toDouble());
        QVERIFY(ilisi >= oracle["ilisi_after"].toDouble() - 0.02);
        QVERIFY(clisi <= oracle["clisi_after"].toDouble() + 0.05);
        QVERIFY(ilisi > ilisi_before + 0.5);
    }

    void steppableDeterministicCancellable() {
        HarmonyOptions options;
        options.max_iter_harmony = 3;
        options.kmeans_n_init = 2;
        options.control.num_threads = 1;
        Harmony stepper(pbmc_.pcs, pbmc_.donors, options);
        QCOMPARE(stepper.iteration(), 0);
        QCOMPARE(stepper.corrected().values, pbmc_.pcs.values);
        int steps = 0;
        while (stepper.step()) ++steps;
        QVERIFY(stepper.finished());
        QCOMPARE(stepper.iteration(), steps + 1);
        QVERIFY(stepper.iteration() <= 3);
        options.control.num_threads = 2;
        const HarmonyResults two = run_harmony(pbmc_.pcs, pbmc_.donors, options);
        QCOMPARE(two.corrected.values, stepper.corrected().values);  // any thread count
        options.seed = 5;
        QVERIFY(run_harmony(pbmc_.pcs, pbmc_.donors, options).corrected.values !=
                two.corrected.values);

        CancelToken token;
        token.cancel();
        options.control.cancel = &token;
        QVERIFY_THROWS_EXCEPTION(Cancelled, run_harmony(pbmc_.pcs, pbmc_.donors, options));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument,
                                 Harmony(pbmc_.pcs, std::vector<int32_t>(3500, -1), {}));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument,
                                 Harmony(pbmc_.pcs, std::vector<int32_t>(5, 0), {}));
    }

    void strongSimulatedBatch() {
        // The engine's simulator: 3000 cells x 2000 genes, 6 cell types, 3 batches with a strong
        // gene-wise batch effect (0.5; donors and depths differ too), log-normalised, 30 PCs.
        // Batches separate completely before correction.
        SimulateOptions sim_options;
        sim_options.n_cells = 3000;
        sim_options.n_genes = 2000;
        sim_options.n_types = 6;
        sim_options.n_batches = 3;
        sim_options.batch_effect = 0.5;
        sim_options.seed = 3;
        const Cohort cohort = simulate_cohort(sim_options).cohort;
        const DenseD pcs = batch_test::log_normalized_pcs(cohort);
        const std::vector<int32_t>& batch = cohort.obs.find("batch")->codes;
        const std::vector<int32_t>& types = cohort.obs.find("cell_type")->codes;
        QVERIFY(batch_test::write_raw(pbmc_.sim("emb.bin"), pcs.values));
        QVERIFY(batch_test::write_raw(pbmc_.sim("batch.bin"), batch));
        QVERIFY(batch_test::write_raw(pbmc_.sim("labels.bin"), types));

        QJsonObject oracle = test_support::python_json(
            "oracle_batch.py",
            {"harmony", pbmc_.sim("emb.bin"), "3000", "30", pbmc_.sim("batch.bin"),
             pbmc_.sim("labels.bin"), pbmc_.sim("harmonypy.bin")});
        QVERIFY(oracle.contains("ilisi_after"));
        const HarmonyResults ours = run_harmony(pcs, batch);
        const DenseD theirs = batch_test::read_matrix(pbmc_.sim("harmonypy.bin"), 3000, 30);
        QCOMPARE(theirs.n_rows, int64_t(3000));
        const double ilisi = compute_lisi(ours.corrected, batch).median;
        const double clisi = compute_lisi(ours.corrected, types).median;
        const double asw = silhouette(ours.corrected, types).scaled;
        const double asw_theirs = silhouette(theirs, types).scaled;
        const double asw_before = silhouette(pcs, types).scaled;
        const double ilisi_before = compute_lisi(pcs, batch).median;
        qInfo(
            "simulated strong batch: iLISI before %.3f, ours %.3f, harmonypy %.3f; cLISI "
            "before %.3f, ours %.3f, harmonypy %.3f; label ASW before %.4f, ours %.4f, "
            "harmonypy %.4f",
            ilisi_before, ilisi, oracle["ilisi_after"].toDouble(), compute_lisi(pcs, types).median,
            clisi, oracle["clisi_after"].toDouble(), asw_before, asw, asw_theirs);
        QVERIFY(ilisi_before < 1.1);
        QVERIFY(ilisi >= oracle["ilisi_after"].toDouble() - 0.02);
        QVERIFY(ilisi > ilisi_before + 0.5);
        QVERIFY(clisi <= oracle["clisi_after"].toDouble() + 0.05);
        QVERIFY(asw >= asw_theirs - 0.05);
        QVERIFY(asw >= asw_before - 0.05);
    }
};

QTEST_APPLESS_MAIN(TestHarmony)
#include "tst_harmony.moc"
