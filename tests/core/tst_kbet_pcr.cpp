// kBET (and its chi-square tail), PC regression and graph connectivity against scipy / numpy /
// scikit-learn oracles on the real pbmc3500 PCs, plus the dose-response on simulated cohorts.
#include <cmath>

#include <QJsonArray>
#include <QJsonObject>
#include <QtTest/QtTest>

#include "batch_test_io.hpp"
#include "test_support.hpp"
#include "transcura/batch_summary.hpp"
#include "transcura/diagnostics.hpp"
#include "transcura/graph_connectivity.hpp"
#include "transcura/kbet.hpp"
#include "transcura/lisi.hpp"
#include "transcura/pcr.hpp"
#include "transcura/simulate.hpp"

using namespace transcura;

class TestKbetPcr : public QObject {
    Q_OBJECT

private:
    batch_test::Pbmc3500 pbmc_;

private slots:
    void initTestCase() {
        QVERIFY(pbmc_.load());  // oracle_batch.py prepare_pbmc, read back
    }

    void chiSquareTailMatchesScipy() {
        const std::vector<double> xs = {1e-6, 0.01, 0.5, 1,   2,   3.841458820694124, 7.5, 10, 25,
                                        50,   120,  300, 900, 1400};
        const std::vector<double> dfs = {1, 2, 3, 4, 5, 9, 20, 49.5, 99};
        QStringList pairs;
        for (double df : dfs)
            for (double x : xs) pairs << QString("%1,%2").arg(x, 0, 'g', 17).arg(df, 0, 'g', 17);
        QJsonObject oracle =
            test_support::python_json("oracle_batch.py", QStringList{"chi2"} + pairs);
        const std::vector<double> ref = batch_test::doubles(oracle["sf"]);
        QCOMPARE(ref.size(), size_t(pairs.size()));
        double worst = 0;
        size_t k = 0;
        for (double df : dfs)
            for (double x : xs) {
                const double mine = chi2_sf(x, df);
                const double want = ref[k++];
                const double err =
                    want > 1e-290 ? std::abs(mine - want) / want : std::abs(mine - want);
                worst = std::max(worst, err);
                if (err > 1e-10)
                    qWarning("chi2_sf(%g, %g) = %.17g, scipy %.17g", x, df, mine, want);
            }
        qInfo("chi2_sf: worst relative error vs scipy %.3g over %zu points", worst, ref.size());
        QVERIFY(worst < 1e-10);
        QCOMPARE(chi2_sf(3.841458820694124, 1) > 0.0499999, true);
        QCOMPARE(chi2_sf(0, 3), 1.0);
        QVERIFY(std::isnan(chi2_sf(1, 0)));
    }

    void kbetMatchesOracleOnPbmc() {
        KbetOptions options;
        options.seed = 11;
        options.control.num_threads = 2;
        QCOMPARE(kbet_default_k0(pbmc_.donors, 0), 291);  // floor(3500 / 3 / 4)
        KbetResults r = kbet(pbmc_.pcs, pbmc_.donors, options);
        QCOMPARE(r.k0, 100);  // capped
        QCOMPARE(r.n_tested, int64_t(350));
        QCOMPARE(r.n_batches, 3);
        QVERIFY(batch_test::write_raw(pbmc_.path("tested.bin"), r.tested_cells));
        QJsonObject oracle = test_support::python_json(
            "oracle_batch.py", {"kbet", pbmc_.path("pcs.bin"), "3500", "30",
                                pbmc_.path("donor.bin"), pbmc_.path("tested.bin"), "100"});
        const std::vector<double> ref = batch_test::doubles(oracle["pvalues"]);
        QCOMPARE(ref.size(), size_t(350));
        double worst = 0;
        int64_t tested_seen = 0;
        for (size_t t = 0; t < ref.size(); ++t) {
            const double mine = r.p_values[static_cast<size_t>(r.tested_cells[t])];
            worst = std::max(worst, std::abs(mine - ref[t]));
            tested_seen += r.accepted[static_cast<size_t>(r.tested_cells[t])] >= 0;
        }
        QCOMPARE(tested_seen, int64_t(350));
        qInfo(
            "kBET k0=%d tested=%lld acceptance %.4f (oracle %.4f), expected rejection %.4f, "
            "max |p diff| %.3g",
            r.k0, static_cast<long long>(r.n_tested), r.acceptance_rate,
            1 - oracle["rejection"].toDouble(), r.expected_rejection_rate, worst);
        QVERIFY(worst < 1e-9);
        QVERIFY(std::abs(r.rejection_rate - oracle["rejection"].toDouble()) < 1e-12);

        // From a shared neighbour table: same cells, same p-values.
        NeighborLists table = exact_neighbors(pbmc_.pcs, 100, options.control);
        KbetResults t = kbet(table, pbmc_.donors, options);
        QCOMPARE(t.tested_cells, r.tested_cells);
        QCOMPARE(t.acceptance_rate, r.acceptance_rate);
        QCOMPARE(t.expected_rejection_rate, r.expected_rejection_rate);

        // Harmony's reference output mixes donors: acceptance rises; random neighbourhoods are
        // rejected at about alpha.
        KbetResults h = kbet(pbmc_.harmonized, pbmc_.donors, options);
        qInfo("kBET acceptance after Harmony (reference): %.4f", h.acceptance_rate);
        QVERIFY(h.acceptance_rate > r.acceptance_rate + 0.2);
        QVERIFY(r.expected_rejection_rate < 0.15);
        // Thread count does not change anything.
        options.control.num_threads = 1;
        QCOMPARE(kbet(pbmc_.pcs, pbmc_.donors, options).p_values.size(), r.p_values.size());
        QCOMPARE(kbet(pbmc_.pcs, pbmc_.donors, options).expected_rejection_rate,
                 r.expected_rejection_rate);
    }

    void pcrMatchesLeastSquares() {
        QJsonObject oracle = test_support::python_json(
            "oracle_batch.py",
            {"pcr", pbmc_.path("pcs.bin"), "3500", "30", pbmc_.path("donor.bin")});
        const std::vector<double> ref = batch_test::doubles(oracle["r2"]);
        PcrResults r = pc_regression(pbmc_.pcs, pbmc_.donors);
        QCOMPARE(r.r2_per_pc.size(), size_t(30));
        double worst = 0;
        for (size_t j = 0; j < 30; ++j) worst = std::max(worst, std::abs(r.r2_per_pc[j] - ref[j]));
        qInfo("PCR weighted R2 %.9f (lstsq %.9f), per-PC max |diff| %.3g", r.r2_weighted,
              oracle["weighted"].toDouble(), worst);
        QVERIFY(worst < 1e-9);
        QVERIFY(std::abs(r.r2_weighted - oracle["weighted"].toDouble()) < 1e-9);
        // Given variances are used as weights.
        PcrOptions options;
        options.pc_variances.assign(30, 0.0);
        options.pc_variances[0] = 2.0;
        QVERIFY(std::abs(pc_regression(pbmc_.pcs, pbmc_.donors, options).r2_weighted - ref[0]) <
                1e-12);
        QVERIFY(pc_regression(pbmc_.harmonized, pbmc_.donors).r2_weighted < r.r2_weighted);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument,
                                 pc_regression(pbmc_.pcs, std::vector<int32_t>(3)));
    }

    void graphConnectivityMatchesScib() {
        QJsonObject oracle = test_support::python_json(
            "oracle_batch.py",
            {"graph", pbmc_.path("pcs.bin"), "3500", "30", pbmc_.path("labels.bin"), "15"});
        GraphConnectivityResults r = graph_connectivity(pbmc_.pcs, pbmc_.labels);
        const std::vector<double> ref = batch_test::doubles(oracle["per_label"]);
        QCOMPARE(r.per_label.size(), ref.size());
        for (size_t l = 0; l < ref.size(); ++l) QVERIFY(std::abs(r.per_label[l] - ref[l]) < 1e-12);
        qInfo("graph connectivity %.6f (scipy %.6f)", r.score, oracle["score"].toDouble());
        QVERIFY(std::abs(r.score - oracle["score"].toDouble()) < 1e-12);
        // Two far apart halves of one label: the largest component holds half the cells.
        DenseD two(40, 2);
        std::vector<int32_t> one_label(40, 0);
        for (int i = 0; i < 40; ++i) {
            two(i, 0) = (i < 20 ? 0.0 : 100.0) + 0.01 * i;
            two(i, 1) = 0.0;
        }
        GraphConnectivityOptions options;
        options.n_neighbors = 5;
        QCOMPARE(graph_connectivity(two, one_label, options).score, 0.5);
    }

    void metricsFollowTheBatchEffect() {
        // Simulated cohorts with a growing batch shift: iLISI and kBET acceptance fall, PCR
        // rises; with no shift kBET accepts > 0.8 and iLISI is near the 3 batches.
        double last_ilisi = 1e9, last_accept = 2, last_pcr = -1;
        for (const char* shift : {"0", "0.2", "0.5", "1.0"}) {
            QJsonObject info = test_support::python_json(
                "oracle_batch.py", {"simulate", pbmc_.sim_dir(), "3000", shift, "5"});
            QCOMPARE(info["n"].toInt(), 3000);
            const DenseD emb = batch_test::read_matrix(pbmc_.sim("emb.bin"), 3000, 30);
            const std::vector<int32_t> batch =
                batch_test::read_raw<int32_t>(pbmc_.sim("batch.bin"));
            LisiResults ilisi = compute_lisi(emb, batch);
            KbetResults k = kbet(emb, batch);
            PcrResults p = pc_regression(emb, batch);
            qInfo("shift %s: iLISI median %.3f, kBET acceptance %.3f (k0 %d), PCR %.4f", shift,
                  ilisi.median, k.acceptance_rate, k.k0, p.r2_weighted);
            if (QByteArray(shift) == "0") {
                QVERIFY(k.acceptance_rate > 0.8);
                QVERIFY(ilisi.median > 2.3);
            }
            QVERIFY(ilisi.median < last_ilisi);
            QVERIFY(k.acceptance_rate <= last_accept);
            QVERIFY(p.r2_weighted > last_pcr);
            last_ilisi = ilisi.median;
            last_accept = k.acceptance_rate;
            last_pcr = p.r2_weighted;
        }
        QVERIFY(last_accept < 0.2);
    }

    void engineSimulatorDoseResponse() {
        // The engine's simulator with gene-wise batch effect 0, 0.2, 0.5, 1.0 (3000 cells x 2000
        // genes, 3 batches, log-normalised, 30 PCs): iLISI and kBET acceptance fall, PCR rises;
        // without an effect kBET accepts > 0.8 and iLISI is near the 3 batches.
        double last_ilisi = 1e9, last_accept = 2, last_pcr = -1;
        for (double effect : {0.0, 0.2, 0.5, 1.0}) {
            SimulateOptions sim_options;
            sim_options.n_cells = 3000;
            sim_options.n_genes = 2000;
            sim_options.n_types = 6;
            sim_options.n_batches = 3;
            sim_options.batch_effect = effect;
            sim_options.donor_effect = 0.0;  // nested in batches: would be a batch effect too
            sim_options.depth_shift = 0.0;
            sim_options.seed = 3;
            const Cohort cohort = simulate_cohort(sim_options).cohort;
            const DenseD pcs = batch_test::log_normalized_pcs(cohort);
            const std::vector<int32_t>& batch = cohort.obs.find("batch")->codes;
            const double ilisi = compute_lisi(pcs, batch).median;
            const double accept = kbet(pcs, batch).acceptance_rate;
            const double pcr = pc_regression(pcs, batch).r2_weighted;
            qInfo(
                "engine simulator, batch effect %.1f: iLISI median %.3f, kBET acceptance "
                "%.3f, PCR %.4f",
                effect, ilisi, accept, pcr);
            if (effect == 0.0) {
                QVERIFY(accept > 0.8);
                QVERIFY(ilisi > 2.5);
            } else {
                QVERIFY(ilisi <= last_ilisi);
                QVERIFY(accept <= last_accept);
            }
            QVERIFY(pcr > last_pcr);
            last_ilisi = ilisi;
            last_accept = accept;
            last_pcr = pcr;
        }
        QVERIFY(last_ilisi < 1.2);
        QVERIFY(last_accept < 0.2);
    }

    void batchSummaries() {
        // 3 batches (one empty), QC medians and composition entropy checked by hand.
        const std::vector<int32_t> batch = {0, 0, 0, 1, 1, -1, 0};
        const std::vector<double> counts = {100, 300, 200, 50, 70, 999, 400};
        const std::vector<double> genes = {10, 30, 20, 5, 7, 99, 40};
        const std::vector<int32_t> clusters = {0, 1, 0, 0, 1, 1, -1};
        BatchQcColumns qc;
        qc.total_counts = counts;
        qc.n_genes = genes;
        BatchSummaryResults r = summarize_batches(batch, {"a", "b", "c"}, qc, clusters, {"x", "y"});
        QCOMPARE(r.per_batch.size(), size_t(3));
        QCOMPARE(r.per_batch[0].n_cells, int64_t(4));
        QCOMPARE(r.per_batch[0].median_total_counts, 250.0);  // mean of 200 and 300
        QCOMPARE(r.per_batch[1].median_genes, 6.0);
        QVERIFY(std::isnan(r.per_batch[0].median_pct_mito));
        QCOMPARE(r.per_batch[2].n_cells, int64_t(0));
        QVERIFY(std::isnan(r.per_batch[2].median_total_counts));
        QCOMPARE(r.cells_without_batch, int64_t(1));
        const BatchComposition& t = r.composition;
        QCOMPARE(t.count(0, 0), int64_t(2));  // cluster x: cells 0, 2 in a; 3 in b
        QCOMPARE(t.count(0, 1), int64_t(1));
        QCOMPARE(t.count(1, 0), int64_t(1));
        QCOMPARE(t.cluster_sizes[0], int64_t(3));
        const double h = -(2.0 / 3) * std::log(2.0 / 3) - (1.0 / 3) * std::log(1.0 / 3);
        QVERIFY(std::abs(t.entropy[0] - h) < 1e-12);
        QVERIFY(std::abs(t.normalized_entropy[0] - h / std::log(2.0)) < 1e-12);
        QVERIFY(std::abs(t.normalized_entropy[1] - 1.0) < 1e-12);  // one cell of each
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, summarize_batches({0, 3}, {"a"}));
    }

    void diagnosticsCombineTheMetrics() {
        // Exact path on pbmc3500: every summary equals the metric computed on its own, and the
        // oracles' values.
        const CodedLabels batch{pbmc_.donors, {"A", "B", "C"}};
        CodedLabels labels{pbmc_.labels, {}};
        for (int l = 0; l < 8; ++l) labels.names.push_back("type" + std::to_string(l));
        DiagnosticsOptions options;
        options.control.num_threads = 2;
        std::vector<double> progress;
        options.control.progress = [&](double f, const std::string&) { progress.push_back(f); };
        const DiagnosticsResults r = run_diagnostics(pbmc_.pcs, batch, labels, {}, options);
        QVERIFY(r.neighbors_exact);
        QCOMPARE(r.n_batches, 3);
        QCOMPARE(r.n_labels, 8);
        QCOMPARE(r.ilisi_median, compute_lisi(pbmc_.pcs, pbmc_.donors).median);
        QCOMPARE(r.clisi_median, compute_lisi(pbmc_.pcs, pbmc_.labels).median);
        QCOMPARE(r.kbet_acceptance, kbet(pbmc_.pcs, pbmc_.donors).acceptance_rate);
        QCOMPARE(r.pcr_batch, pc_regression(pbmc_.pcs, pbmc_.donors).r2_weighted);
        QCOMPARE(r.graph_connectivity, graph_connectivity(pbmc_.pcs, pbmc_.labels).score);
        QJsonObject asw = test_support::python_json(
            "oracle_batch.py", {"asw", pbmc_.path("pcs.bin"), "3500", "30", pbmc_.path("donor.bin"),
                                pbmc_.path("labels.bin")});
        QVERIFY(std::abs(r.asw_batch - asw["asw_batch"].toDouble()) < 1e-6);
        QVERIFY(std::abs(r.asw_label - asw["asw_label"].toDouble()) < 1e-6);
        QVERIFY(!progress.empty() && progress.back() == 1.0);
        QVERIFY(std::is_sorted(progress.begin(), progress.end()));

        const nlohmann::json json = diagnostics_to_json(r, batch);
        for (const char* key : {"ilisi_median", "clisi_median", "kbet_acceptance", "asw_batch",
                                "asw_label", "pcr_batch", "graph_connectivity", "per_batch"})
            QVERIFY2(json.contains(key), key);
        QCOMPARE(json["per_batch"].size(), size_t(3));
        QCOMPARE(json["per_batch"]["B"]["n_cells"].get<int64_t>(), int64_t(2000));
        QVERIFY(json["per_batch"]["A"]["median_total_counts"].is_null());

        DataFrame obs;
        add_diagnostics_to_obs(obs, r, "_X_pca");
        QVERIFY(obs.contains("ilisi_X_pca") && obs.contains("clisi_X_pca"));
        const Column* verdict = obs.find("kbet_accepted_X_pca");
        QVERIFY(verdict && verdict->size() == 3500);

        // HNSW path (forced): close to the exact results.
        options.exact_max_cells = 1000;
        const DiagnosticsResults h = run_diagnostics(pbmc_.pcs, batch, labels, {}, options);
        QVERIFY(!h.neighbors_exact);
        double worst = 0;
        for (size_t i = 0; i < 3500; ++i)
            worst = std::max(worst, std::abs(h.ilisi[i] - r.ilisi[i]));
        qInfo(
            "HNSW vs exact: iLISI median %.5f vs %.5f (max per-cell |diff| %.3g), kBET %.4f vs "
            "%.4f",
            h.ilisi_median, r.ilisi_median, worst, h.kbet_acceptance, r.kbet_acceptance);
        QVERIFY(std::abs(h.ilisi_median - r.ilisi_median) < 0.01);
        QVERIFY(std::abs(h.kbet_acceptance - r.kbet_acceptance) < 0.02);
        // A caller's neighbour table is used as is; a narrow one is refused.
        const NeighborLists table = exact_neighbors(pbmc_.pcs, 100);
        const DiagnosticsResults t = run_diagnostics(pbmc_.pcs, batch, labels, {}, {}, &table);
        QCOMPARE(t.ilisi, r.ilisi);
        const NeighborLists narrow = exact_neighbors(pbmc_.pcs, 15);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument,
                                 run_diagnostics(pbmc_.pcs, batch, labels, {}, {}, &narrow));
        // Without labels: label metrics are undefined, batch ASW uses one group.
        const DiagnosticsResults u = run_diagnostics(pbmc_.pcs, batch, {}, {}, {}, &table);
        QVERIFY(std::isnan(u.clisi_median) && std::isnan(u.asw_label));
        QVERIFY(std::isnan(u.graph_connectivity));
        QVERIFY(u.asw_batch > 0 && u.asw_batch <= 1);
        QVERIFY(diagnostics_to_json(u, batch)["clisi_median"].is_null());
    }
};

QTEST_APPLESS_MAIN(TestKbetPcr)
#include "tst_kbet_pcr.moc"
