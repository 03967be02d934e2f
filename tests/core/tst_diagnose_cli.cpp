// transcura-cli diagnose end to end: on the real two-batch Kang 2018 cohort (JSON equal to the
// library calls, Harmony improving the mixing, per-cell scores written back), one-line errors
// for bad keys, and the dose-response through the CLI (pipeline path, no X_pca in the input) on
// simulated cohorts with a growing batch effect, where the UMAP of the Harmony-corrected PCs
// (X_umap_harmony, laid out as the pipeline lays out X_umap) mixes the batches X_umap keeps
// apart.
#include <cmath>
#include <fstream>

#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "test_support.hpp"
#include "transcura/diagnostics.hpp"
#include "transcura/harmony.hpp"
#include "transcura/io.hpp"
#include "transcura/knn.hpp"
#include "transcura/lisi.hpp"
#include "transcura/pipeline.hpp"
#include "transcura/simulate.hpp"
#include "transcura/umap.hpp"

using namespace transcura;

namespace {

const char* const kSummaryKeys[] = {"ilisi_median",      "clisi_median", "kbet_acceptance",
                                    "asw_batch",         "asw_label",    "pcr_batch",
                                    "graph_connectivity"};

nlohmann::json read_json(const QString& path) {
    std::ifstream file(path.toStdString());
    if (!file) return {};
    try {
        return nlohmann::json::parse(file);
    } catch (const std::exception&) {
        return {};
    }
}

double number(const nlohmann::json& value) {
    return value.is_number() ? value.get<double>() : std::nan("");
}

bool close(double a, double b, double tolerance = 1e-12) {
    return std::abs(a - b) <= tolerance;
}

bool all_finite(const DenseD& m) {
    for (double v : m.values)
        if (!std::isfinite(v)) return false;
    return true;
}

}  // namespace

class TestDiagnoseCli : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    QString kang_;

    QString path(const QString& name) const { return dir_.filePath(name); }

    test_support::ProcessResult cli(const QStringList& args) {
        return test_support::run(test_support::cli(), QStringList{"diagnose"} + args);
    }

    /// The one-line refusal of a bad invocation: exit code 1, one stderr line naming `what`.
    void expect_refusal(const QStringList& args, const QString& what) {
        const test_support::ProcessResult r = cli(args);
        const QString err = QString::fromUtf8(r.err).trimmed();
        QVERIFY2(r.exit_code == 1, qPrintable(args.join(' ') + " -> " + err));
        QVERIFY2(!err.contains('\n'), qPrintable(err));
        QVERIFY2(err.contains(what), qPrintable(err));
        QVERIFY2(r.out.isEmpty(), r.out.constData());
    }

    /// The UMAP of the corrected PCs in a file written by `diagnose --harmony --write` from a
    /// pipeline run: one finite row per cell, laid out exactly as the pipeline lays out X_umap
    /// (its kNN and UMAP with the same options, seed and threads, here on X_pca_harmony), and
    /// mixing the batches better than X_umap does.
    void check_harmony_umap(const QString& written) {
        const Cohort out = read_cohort(written.toStdString());
        QVERIFY(out.obsm.count("X_umap") && out.obsm.count("X_umap_harmony"));
        const DenseD& before = out.obsm.at("X_umap");
        const DenseD& after = out.obsm.at("X_umap_harmony");
        QCOMPARE(after.n_rows, out.n_obs());
        QCOMPARE(after.n_cols, before.n_cols);
        QVERIFY(all_finite(after));
        QVERIFY(out.uns.contains("umap_harmony"));

        const PipelineOptions pipeline;
        KnnOptions knn_options;
        knn_options.k = pipeline.n_neighbors;
        knn_options.exact_max_cells = pipeline.knn_exact_max_cells;
        knn_options.seed = pipeline.seed;
        knn_options.control.num_threads = 2;  // as the CLI ran
        UmapOptions umap_options;
        umap_options.n_components = pipeline.umap_components;
        umap_options.min_dist = pipeline.min_dist;
        umap_options.n_epochs = pipeline.umap_epochs;
        umap_options.seed = pipeline.seed;
        umap_options.control.num_threads = 2;
        const KnnResults knn = knn_graph(out.obsm.at("X_pca_harmony"), knn_options);
        const UmapResults umap = run_umap(knn.neighbors, umap_options);
        QCOMPARE(umap.embedding.values.size(), after.values.size());
        double worst = 0;
        for (size_t i = 0; i < after.values.size(); ++i)
            worst = std::max(worst, std::abs(umap.embedding.values[i] - after.values[i]));
        QVERIFY2(worst < 1e-9, qPrintable(QString::number(worst)));

        const CodedLabels batch = obs_categories(out, "batch", "batch key");
        const CodedLabels types = obs_categories(out, "cell_type", "label key");
        LisiOptions lisi;
        lisi.control.num_threads = 2;
        const double ilisi_before = compute_lisi(before, batch.codes, lisi).median;
        const double ilisi_after = compute_lisi(after, batch.codes, lisi).median;
        const double clisi_before = compute_lisi(before, types.codes, lisi).median;
        const double clisi_after = compute_lisi(after, types.codes, lisi).median;
        qInfo("  UMAP iLISI %.3f (X_umap) -> %.3f (X_umap_harmony), cLISI %.3f -> %.3f",
              ilisi_before, ilisi_after, clisi_before, clisi_after);
        QVERIFY(ilisi_after > ilisi_before + 0.5);
        QVERIFY(clisi_after <= clisi_before + 0.05);  // the cell types stay apart
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        kang_ = test_support::shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad");
        QVERIFY2(QFile::exists(kang_), qPrintable(kang_));
    }

    void kangJsonEqualsLibrary() {
        const QString json_path = path("kang.json");
        const QString written = path("kang_diagnosed.h5ad");
        const test_support::ProcessResult r =
            cli({kang_, "--batch-key", "stim", "--harmony", "--json", json_path, "--write", written,
                 "--threads", "2"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        // The table goes to stdout next to the JSON file.
        QVERIFY(r.out.contains("iLISI median") && r.out.contains("X_pca_harmony"));
        QVERIFY(r.out.contains("200 cells tested"));  // kBET's sample size, stated
        const nlohmann::json json = read_json(json_path);
        QVERIFY(json.is_object());
        QCOMPARE(json.size(), size_t(2));
        for (const char* embedding : {"X_pca", "X_pca_harmony"}) {
            QVERIFY2(json.contains(embedding), embedding);
            const nlohmann::json& e = json[embedding];
            for (const char* key : kSummaryKeys) QVERIFY2(e.contains(key), key);
            QVERIFY(e["per_batch"].is_object());
            QCOMPARE(e["per_batch"].size(), size_t(2));
            QCOMPARE(e["per_batch"]["CTRL"]["n_cells"].get<int64_t>(), int64_t(1000));
            QCOMPARE(e["per_batch"]["STIM"]["n_cells"].get<int64_t>(), int64_t(1000));
            // No labels in the file and no leiden column: the label metrics are undefined.
            QVERIFY(e["clisi_median"].is_null() && e["asw_label"].is_null() &&
                    e["graph_connectivity"].is_null());
            const double ilisi = number(e["ilisi_median"]);
            QVERIFY(ilisi >= 1.0 && ilisi <= 2.0);
            for (const char* key : {"kbet_acceptance", "asw_batch", "pcr_batch"}) {
                const double v = number(e[key]);
                QVERIFY2(v >= 0.0 && v <= 1.0, key);
            }
            QCOMPARE(e["details"]["kbet_tested"].get<int64_t>(), int64_t(200));
        }

        // The same numbers from the library on the same embedding.
        Cohort cohort = read_cohort(kang_.toStdString());
        const CodedLabels batch = obs_categories(cohort, "stim", "batch key");
        QCOMPARE(batch.names, (std::vector<std::string>{"CTRL", "STIM"}));
        const DenseD& pcs = cohort.obsm.at("X_pca");
        DiagnosticsOptions options;
        options.control.num_threads = 1;  // a different thread count: same results
        const DiagnosticsResults raw = run_diagnostics(pcs, batch, {}, {}, options);
        HarmonyOptions harmony_options;
        harmony_options.control.num_threads = 1;
        const HarmonyResults harmony = run_harmony(pcs, batch.codes, harmony_options);
        const DiagnosticsResults corrected =
            run_diagnostics(harmony.corrected, batch, {}, {}, options);
        const nlohmann::json& a = json["X_pca"];
        const nlohmann::json& b = json["X_pca_harmony"];
        QVERIFY(close(number(a["ilisi_median"]), raw.ilisi_median));
        QVERIFY(close(number(a["kbet_acceptance"]), raw.kbet_acceptance));
        QVERIFY(close(number(a["asw_batch"]), raw.asw_batch));
        QVERIFY(close(number(a["pcr_batch"]), raw.pcr_batch));
        QVERIFY(close(number(b["ilisi_median"]), corrected.ilisi_median));
        QVERIFY(close(number(b["kbet_acceptance"]), corrected.kbet_acceptance));
        QVERIFY(close(number(b["asw_batch"]), corrected.asw_batch));
        QVERIFY(close(number(b["pcr_batch"]), corrected.pcr_batch));
        QCOMPARE(b["harmony"]["iterations"].get<int>(), harmony.iterations);
        qInfo(
            "Kang 2018 (stim): iLISI %.3f -> %.3f, kBET %.3f -> %.3f, batch ASW %.3f -> %.3f, "
            "PCR %.4f -> %.4f (Harmony %d iterations)",
            raw.ilisi_median, corrected.ilisi_median, raw.kbet_acceptance,
            corrected.kbet_acceptance, raw.asw_batch, corrected.asw_batch, raw.pcr_batch,
            corrected.pcr_batch, harmony.iterations);
        // IFN-beta stimulation separates the conditions; Harmony mixes them.
        QVERIFY(corrected.ilisi_median > raw.ilisi_median + 0.5);
        QVERIFY(corrected.kbet_acceptance > raw.kbet_acceptance + 0.3);
        QVERIFY(corrected.pcr_batch < raw.pcr_batch);

        // --write: per-cell scores in obs, the corrected PCs and their UMAP in obsm, the JSON
        // in uns.
        const Cohort out = read_cohort(written.toStdString());
        QCOMPARE(out.n_obs(), int64_t(2000));
        QVERIFY(out.obsm.count("X_pca_harmony"));
        QVERIFY(out.obsm.count("X_umap_harmony"));
        QCOMPARE(out.obsm.at("X_umap_harmony").n_rows, int64_t(2000));
        QCOMPARE(out.obsm.at("X_umap_harmony").n_cols, int64_t(2));
        QVERIFY(all_finite(out.obsm.at("X_umap_harmony")));
        QCOMPARE(b["harmony"]["umap_key"].get<std::string>(), std::string("X_umap_harmony"));
        QVERIFY(r.out.contains("UMAP of the corrected embedding: X_umap_harmony"));
        const DenseD& stored = out.obsm.at("X_pca_harmony");
        QCOMPARE(stored.values.size(), harmony.corrected.values.size());
        double worst = 0;
        for (size_t i = 0; i < stored.values.size(); ++i)
            worst = std::max(worst, std::abs(stored.values[i] - harmony.corrected.values[i]));
        QVERIFY(worst < 1e-9);
        const Column* ilisi = out.obs.find("ilisi_X_pca");
        const Column* ilisi_h = out.obs.find("ilisi_X_pca_harmony");
        const Column* verdict = out.obs.find("kbet_accepted_X_pca_harmony");
        QVERIFY(ilisi && ilisi_h && verdict);
        QVERIFY(!out.obs.contains("clisi_X_pca"));  // no labels
        int64_t tested = 0, accepted = 0;
        for (size_t i = 0; i < 2000; ++i) {
            QVERIFY(close(ilisi->number(i), raw.ilisi[i], 1e-6));  // float32 column on disk
            QVERIFY(close(ilisi_h->number(i), corrected.ilisi[i], 1e-6));
            if (!std::isnan(verdict->number(i))) {
                ++tested;
                accepted += verdict->number(i) == 1.0;
            }
        }
        QCOMPARE(tested, int64_t(200));
        QVERIFY(close(static_cast<double>(accepted) / 200.0, corrected.kbet_acceptance));
        QVERIFY(out.uns.contains("batch_diagnostics"));

        // anndata reads the file; harmonypy's LISI on the stored corrected PCs matches the
        // stored per-cell iLISI (both exact neighbours at 2000 cells).
        const QJsonObject seen =
            test_support::python_json("check_diagnose_output.py", {written, "X_pca", "stim"});
        QCOMPARE(seen["n_obs"].toInt(), 2000);
        QCOMPARE(seen["obsm"].toObject()["X_pca_harmony"].toArray().at(1).toInt(),
                 static_cast<int>(pcs.n_cols));
        const QJsonObject columns = seen["columns"].toObject();
        for (const char* name : {"ilisi_X_pca", "ilisi_X_pca_harmony", "kbet_accepted_X_pca",
                                 "kbet_accepted_X_pca_harmony"})
            QVERIFY2(columns.contains(name), name);
        QCOMPARE(columns["kbet_accepted_X_pca_harmony"].toObject()["tested"].toInt(), 200);
        QCOMPARE(columns["ilisi_X_pca"].toObject()["nan"].toInt(), 0);
        const QJsonArray theirs = seen["harmonypy_ilisi"].toArray();
        QCOMPARE(theirs.size(), 2000);
        double lisi_worst = 0;
        for (int i = 0; i < 2000; ++i)
            lisi_worst = std::max(lisi_worst, std::abs(theirs.at(i).toDouble() -
                                                       ilisi_h->number(static_cast<size_t>(i))));
        qInfo("stored iLISI vs harmonypy.compute_lisi on the stored X_pca_harmony: max |diff| %.3g",
              lisi_worst);
        QVERIFY(lisi_worst < 1e-3);
        QVERIFY(seen["has_uns_batch_diagnostics"].toBool());

        // JSON on stdout with "-": exactly the file's content.
        const test_support::ProcessResult s =
            cli({kang_, "--batch-key", "stim", "--json", "-", "--quiet"});
        QVERIFY2(s.exit_code == 0, s.err.constData());
        const nlohmann::json on_stdout = nlohmann::json::parse(s.out.toStdString());
        QCOMPARE(on_stdout.size(), size_t(1));
        QCOMPARE(number(on_stdout["X_pca"]["ilisi_median"]), number(a["ilisi_median"]));

        // --no-harmony-umap: the corrected PCs are written, their UMAP is not laid out.
        const QString without = path("kang_no_umap.h5ad");
        const test_support::ProcessResult n =
            cli({kang_, "--batch-key", "stim", "--harmony", "--no-harmony-umap", "--write", without,
                 "--json", path("kang_no_umap.json"), "--threads", "2", "--quiet"});
        QVERIFY2(n.exit_code == 0, n.err.constData());
        const Cohort plain = read_cohort(without.toStdString());
        QVERIFY(plain.obsm.count("X_pca_harmony") && !plain.obsm.count("X_umap_harmony"));
        QVERIFY(
            !read_json(path("kang_no_umap.json"))["X_pca_harmony"]["harmony"].contains("umap_key"));
    }

    void badInputIsRefusedInOneLine() {
        expect_refusal({kang_, "--batch-key", "sample"}, "'sample'");
        expect_refusal({kang_, "--batch-key", "n_counts"}, "'n_counts'");  // continuous
        expect_refusal({kang_, "--batch-key", "stim", "--label-key", "cell_type"}, "'cell_type'");
        expect_refusal({kang_, "--batch-key", "stim", "--embedding", "X_scvi"}, "X_scvi");
        // One batch only.
        Cohort one = read_cohort(kang_.toStdString());
        std::vector<int32_t> zeros(static_cast<size_t>(one.n_obs()), 0);
        one.obs.set(Column::make_categorical("site", zeros, {"lab1", "lab2"}));
        // No X_pca and no X to compute it from.
        Cohort bare;
        bare.obs_names = one.obs_names;
        bare.obs = one.obs;
        write_cohort(one, path("one_batch.h5ad").toStdString(), Format::H5ad);
        write_cohort(bare, path("bare.h5ad").toStdString(), Format::H5ad);
        expect_refusal({path("one_batch.h5ad"), "--batch-key", "site"}, "only one batch");
        expect_refusal({path("bare.h5ad"), "--batch-key", "stim"}, "no X");
        // Usage errors: exit code 2.
        QCOMPARE(cli({kang_}).exit_code, 2);
        QCOMPARE(cli({kang_, "--batch-key", "stim", "--bogus"}).exit_code, 2);
    }

    void leidenClustersAreTheDefaultLabels() {
        // No X_pca and no --label-key: the pipeline runs and its Leiden clusters label cLISI,
        // label ASW, graph connectivity and the composition table.
        SimulateOptions sim;
        sim.n_cells = 1500;
        sim.n_genes = 1500;
        sim.n_types = 4;
        sim.n_batches = 2;
        sim.batch_effect = 0.05;
        sim.seed = 11;
        const QString input = path("leiden_input.h5ad");
        write_cohort(simulate_cohort(sim).cohort, input.toStdString(), Format::H5ad);
        const QString json_path = path("leiden.json");
        const test_support::ProcessResult r =
            cli({input, "--batch-key", "batch", "--json", json_path, "--threads", "2", "--quiet"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        const nlohmann::json json = read_json(json_path);
        QVERIFY(json.contains("X_pca"));
        const nlohmann::json& e = json["X_pca"];
        QCOMPARE(e["label_key"].get<std::string>(), std::string("leiden"));
        QVERIFY(e["n_labels"].get<int>() >= 2);
        QVERIFY(e["clisi_median"].is_number() && e["asw_label"].is_number() &&
                e["graph_connectivity"].is_number());
        QCOMPARE(e["composition"]["clusters"].size(), size_t(e["n_labels"].get<int>()));
    }

    void harmonyUmapFollowsThePipelineParameters() {
        // A pipeline run with non-default kNN / UMAP parameters: the Harmony UMAP is laid out
        // with the same ones (read back from uns), and cancelling while it is laid out leaves
        // the cohort as it was.
        SimulateOptions sim;
        sim.n_cells = 800;
        sim.n_genes = 1000;
        sim.n_types = 4;
        sim.n_batches = 2;
        sim.batch_effect = 0.3;
        sim.seed = 5;
        PipelineOptions pipeline;
        pipeline.batch_key = "batch";
        pipeline.n_neighbors = 10;
        pipeline.min_dist = 0.3;
        pipeline.umap_epochs = 60;
        pipeline.n_pcs = 20;
        pipeline.seed = 4;
        pipeline.control.num_threads = 2;
        Cohort cohort = run_pipeline(simulate_cohort(sim).cohort, pipeline).cohort;

        CohortDiagnosticsOptions options;
        options.batch_key = "batch";
        options.harmony = true;
        options.control.num_threads = 2;
        CancelToken cancel;
        options.control.cancel = &cancel;
        double cancelled_at = -1;
        options.control.progress = [&](double fraction, const std::string& what) {
            if (what == "UMAP of X_pca_harmony" && cancelled_at < 0) {
                cancelled_at = fraction;
                cancel.cancel();
            }
        };
        Cohort untouched = cohort;
        QVERIFY_THROWS_EXCEPTION(Cancelled, diagnose_cohort(untouched, options));
        QVERIFY(cancelled_at >= 0.75 && cancelled_at <= 1.0);
        QVERIFY(!untouched.obsm.count("X_pca_harmony") && !untouched.obsm.count("X_umap_harmony"));
        QCOMPARE(untouched.obs.names(), cohort.obs.names());

        options.control.cancel = nullptr;
        options.control.progress = {};
        const CohortDiagnosticsResults r = diagnose_cohort(cohort, options);
        QVERIFY(r.harmony_umap_run);
        QCOMPARE(r.harmony_umap_key, std::string("X_umap_harmony"));
        QCOMPARE(r.harmony_umap_neighbors, 10);
        QCOMPARE(r.harmony_umap_epochs, 60);
        KnnOptions knn_options;
        knn_options.k = 10;
        knn_options.seed = 4;
        knn_options.control.num_threads = 2;
        UmapOptions umap_options;
        umap_options.min_dist = 0.3;
        umap_options.n_epochs = 60;
        umap_options.seed = 4;
        umap_options.control.num_threads = 2;
        const UmapResults want = run_umap(
            knn_graph(cohort.obsm.at("X_pca_harmony"), knn_options).neighbors, umap_options);
        const DenseD& got = cohort.obsm.at("X_umap_harmony");
        QCOMPARE(got.n_rows, cohort.n_obs());
        QVERIFY(got.values == want.embedding.values);
        QCOMPARE(cohort.uns["umap_harmony"]["params"]["min_dist"].get<double>(), 0.3);

        // Without Harmony, or with harmony_umap off, no layout.
        Cohort plain = run_pipeline(simulate_cohort(sim).cohort, pipeline).cohort;
        options.harmony_umap = false;
        QVERIFY(!diagnose_cohort(plain, options).harmony_umap_run);
        QVERIFY(plain.obsm.count("X_pca_harmony") && !plain.obsm.count("X_umap_harmony"));
    }

    void doseResponseThroughTheCli() {
        // tst_kbet_pcr checks the metrics on PCs made in-process; here the whole path: a
        // simulated h5ad without X_pca, so diagnose runs the standard pipeline first. Effect 0,
        // 0.2, 0.5, 1.0: iLISI and kBET acceptance fall, PCR rises; without an effect kBET
        // accepts > 0.8 and iLISI is near the 3 batches. On a strong effect (0.5) Harmony mixes
        // the batches without blurring the cell types (cLISI, label ASW within 0.05).
        double last_ilisi = 1e9, last_accept = 2, last_pcr = -1;
        for (double effect : {0.0, 0.2, 0.5, 1.0}) {
            SimulateOptions sim;
            sim.n_cells = 2400;
            sim.n_genes = 2000;
            sim.n_types = 6;
            sim.n_batches = 3;
            sim.batch_effect = effect;
            sim.donor_effect = 0.0;  // nested in batches: would be a batch effect too
            sim.depth_shift = 0.0;
            sim.damaged_fraction = 0.0;
            sim.seed = 7;
            const QString input = path(QString("sim_%1.h5ad").arg(effect));
            write_cohort(simulate_cohort(sim).cohort, input.toStdString(), Format::H5ad);
            const QString json_path = path(QString("sim_%1.json").arg(effect));
            QStringList args{input,    "--batch-key", "batch",     "--label-key", "cell_type",
                             "--json", json_path,     "--threads", "2",           "--quiet"};
            // Harmony (like harmonypy, checked by hand) cannot undo the 1.0 effect of this
            // simulator, whose batches share no neighbourhood at all; 0.5 is the strong case.
            const bool strongest = effect == 0.5;
            const QString written = path(QString("sim_%1_diagnosed.h5ad").arg(effect));
            if (strongest)
                args << "--harmony"
                     << "--write" << written;
            const test_support::ProcessResult r = cli(args);
            QVERIFY2(r.exit_code == 0, r.err.constData());
            const nlohmann::json json = read_json(json_path);
            QVERIFY(json.contains("X_pca"));
            const nlohmann::json& e = json["X_pca"];
            const double ilisi = number(e["ilisi_median"]);
            const double accept = number(e["kbet_acceptance"]);
            const double pcr = number(e["pcr_batch"]);
            const double clisi = number(e["clisi_median"]);
            const double asw_label = number(e["asw_label"]);
            qInfo(
                "CLI, batch effect %.1f: iLISI %.3f, kBET %.3f, PCR %.4f, cLISI %.3f, label "
                "ASW %.3f, graph connectivity %.3f",
                effect, ilisi, accept, pcr, clisi, asw_label, number(e["graph_connectivity"]));
            QCOMPARE(e["n_labels"].get<int>(), 6);
            QVERIFY(e.contains("composition"));
            QCOMPARE(e["composition"]["clusters"].size(), size_t(6));
            if (effect == 0.0) {
                QVERIFY(accept > 0.8);
                QVERIFY(ilisi > 2.5 && ilisi <= 3.0);
                QVERIFY(number(e["composition"]["normalized_entropy"][0]) > 0.95);
            } else if (effect == 0.2) {
                QVERIFY(ilisi < last_ilisi);
                QVERIFY(accept < last_accept);
            } else {
                // The engine's gene-wise effect separates the batches fully from 0.5 on: iLISI
                // and kBET sit at their floor (1, 0), so only "not higher" can hold.
                QVERIFY(ilisi <= last_ilisi + 1e-9);
                QVERIFY(accept <= last_accept);
            }
            QVERIFY(pcr > last_pcr);
            last_ilisi = ilisi;
            last_accept = accept;
            last_pcr = pcr;
            if (strongest) {
                QVERIFY(json.contains("X_pca_harmony"));
                const nlohmann::json& h = json["X_pca_harmony"];
                qInfo(
                    "  after Harmony: iLISI %.3f, kBET %.3f, PCR %.4f, cLISI %.3f, label "
                    "ASW %.3f",
                    number(h["ilisi_median"]), number(h["kbet_acceptance"]), number(h["pcr_batch"]),
                    number(h["clisi_median"]), number(h["asw_label"]));
                QVERIFY(number(h["ilisi_median"]) > ilisi + 0.5);
                QVERIFY(number(h["kbet_acceptance"]) > accept);
                QVERIFY(number(h["pcr_batch"]) < pcr);
                QVERIFY(number(h["clisi_median"]) <= clisi + 0.05);
                QVERIFY(number(h["asw_label"]) >= asw_label - 0.05);
                check_harmony_umap(written);
            }
        }
        QVERIFY(last_ilisi < 1.2);
        QVERIFY(last_accept < 0.2);
    }
};

QTEST_APPLESS_MAIN(TestDiagnoseCli)
#include "tst_diagnose_cli.moc"
