// The whole pipeline (QC -> filter -> normalise -> HVG -> PCA -> kNN -> UMAP -> Leiden):
// `transcura-cli run` end to end on a real file (Kang 2018, batch key stim) and on a simulated
// cohort, its output read back by anndata 0.8 (tests/scripts/check_pipeline_output.py), the
// --timings JSON, determinism of X_umap and leiden, bad input; and in process: the live-layout
// callback, progress across the steps, cancel, and the HNSW path.
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cmath>

#include "test_support.hpp"
#include "transcura/errors.hpp"
#include "transcura/io.hpp"
#include "transcura/leiden.hpp"
#include "transcura/pipeline.hpp"
#include "transcura/qc.hpp"
#include "transcura/simulate.hpp"

using namespace transcura;

namespace {

const QString kKang = "multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad";

QStringList json_strings(const QJsonValue& value) {
    QStringList out;
    for (const QJsonValue& v : value.toArray()) out << v.toString();
    return out;
}

Cohort small_simulated(int64_t cells, uint64_t seed) {
    SimulateOptions sim;
    sim.n_cells = cells;
    sim.n_genes = 2000;
    sim.n_types = 5;
    sim.n_batches = 2;
    sim.batch_effect = 0.1;
    sim.seed = seed;
    sim.control.num_threads = 2;
    return simulate_cohort(sim).cohort;
}

}  // namespace

class TestPipeline : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    QString path(const QString& name) const { return dir_.filePath(name); }

    /// Runs the CLI; returns its exit code, stderr in *err.
    int cli(const QStringList& args, QByteArray* err = nullptr) {
        const test_support::ProcessResult r = test_support::run(test_support::cli(), args);
        if (err) *err = r.err;
        if (r.exit_code != 0 && !err) qWarning().noquote() << r.err;
        return r.exit_code;
    }

    /// Checks an output file as anndata reads it; returns the checker's JSON.
    QJsonObject check_output(const QString& input, const QString& output) {
        const QJsonObject r =
            test_support::python_json("check_pipeline_output.py", {input, output});
        [&] {
            QVERIFY(r.value("same_counts").toBool());  // raw counts of the kept cells in X
            QVERIFY(r.value("order_kept").toBool());
            QCOMPARE(r.value("n_obs").toInt(), r.value("expected_kept").toInt());
            const QStringList obs = json_strings(r.value("obs"));
            for (const char* column :
                 {"n_genes_by_counts", "total_counts", "pct_counts_mt", "pct_counts_ribo",
                  "pct_counts_hb", "pct_counts_in_top_50_genes", "leiden"})
                QVERIFY2(obs.contains(column), column);
            QVERIFY(json_strings(r.value("var")).contains("highly_variable"));
            const QJsonObject obsm = r.value("obsm").toObject();
            QCOMPARE(obsm.value("X_pca").toArray().at(0).toInt(), r.value("n_obs").toInt());
            QCOMPARE(obsm.value("X_pca").toArray().at(1).toInt(), 50);
            QCOMPARE(obsm.value("X_umap").toArray().at(0).toInt(), r.value("n_obs").toInt());
            QCOMPARE(obsm.value("X_umap").toArray().at(1).toInt(), 2);
            QVERIFY(r.value("umap_finite").toBool());
            QVERIFY(r.value("pca_finite").toBool());
            const QJsonObject obsp = r.value("obsp").toObject();
            QVERIFY(obsp.contains("connectivities") && obsp.contains("distances"));
            QVERIFY(r.value("connectivities_symmetric").toBool());
            const QStringList uns = json_strings(r.value("uns"));
            for (const char* key : {"pca", "neighbors", "umap", "leiden", "transcura_pipeline"})
                QVERIFY2(uns.contains(key), key);
            QVERIFY(json_strings(r.value("uns_neighbors_params")).contains("n_neighbors"));
            QVERIFY(json_strings(r.value("uns_umap_params")).contains("min_dist"));
            QVERIFY(json_strings(r.value("uns_leiden_params")).contains("resolution"));
            QVERIFY(r.value("leiden_categorical").toBool());
            QVERIFY(r.value("leiden_categories_ok").toBool());
            QVERIFY(r.value("leiden_sorted_by_size").toBool());
            QVERIFY(r.value("n_leiden").toInt() >= 2);
        }();
        return r;
    }

private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    void runRealFileEndToEnd() {
        const QString input = test_support::shared_data(kKang);
        if (!QFile::exists(input)) QSKIP("Kang 2018 file not available");
        const QString out = path("kang.h5ad"), timings = path("kang.json");
        const QString cpu_timings = path("kang_cpu.json");
        QCOMPARE(cli({"run", input, "-o", out, "--batch-key", "stim", "--threads", "2", "--timings",
                      timings, "--cpu-timings", cpu_timings, "--quiet"}),
                 0);
        const QJsonObject r = check_output(input, out);
        QVERIFY(r.value("n_obs").toInt() > 1900);
        for (const QString& json : {timings, cpu_timings}) {
            QFile file(json);
            QVERIFY(file.open(QIODevice::ReadOnly));
            const QJsonObject t = QJsonDocument::fromJson(file.readAll()).object();
            QCOMPARE(t.size(), 10);
            for (const char* step : {"read", "qc", "filter", "normalize", "hvg", "pca", "knn",
                                     "umap", "leiden", "write"}) {
                QVERIFY2(t.contains(step), step);
                QVERIFY(t.value(step).isDouble() && t.value(step).toDouble() >= 0.0);
            }
        }
        // Same seed and threads: identical layout and clusters.
        const QString again = path("kang_again.h5ad");
        QCOMPARE(
            cli({"run", input, "-o", again, "--batch-key", "stim", "--threads", "2", "--quiet"}),
            0);
        const Cohort a = read_cohort(out.toStdString());
        const Cohort b = read_cohort(again.toStdString());
        QVERIFY(a.obsm.at("X_umap").values == b.obsm.at("X_umap").values);
        QVERIFY(a.obs.find("leiden")->codes == b.obs.find("leiden")->codes);
        QVERIFY(a.obsm.at("X_pca").values == b.obsm.at("X_pca").values);
    }

    void runSimulatedEndToEnd() {
        const QString sim = path("sim.h5ad"), out = path("sim_out.h5ad");
        QCOMPARE(cli({"simulate", "--cells", "2500", "--genes", "2000", "--types", "6", "--batches",
                      "2", "--batch-effect", "0.1", "--seed", "4", "-o", sim}),
                 0);
        QCOMPARE(cli({"run", sim, "-o", out, "--batch-key", "batch", "--threads", "2",
                      "--umap-epochs", "150", "--quiet"}),
                 0);
        const QJsonObject r = check_output(sim, out);
        const double ari = r.value("leiden_ari").toDouble(-1);
        qInfo() << "simulated cohort: Leiden ARI vs cell types" << ari << "with"
                << r.value("n_leiden").toInt() << "clusters";
        QVERIFY2(ari > 0.8, qPrintable(QString::number(ari)));
    }

    void badInputGivesOneLineError_data() {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("mentions");
        const QString kang = test_support::shared_data(kKang);
        const QString out = path("bad.h5ad");
        QTest::newRow("missing file")
            << QStringList{"run", path("nope.h5ad"), "-o", out} << "nope.h5ad";
        QTest::newRow("negative resolution")
            << QStringList{"run", kang, "-o", out, "--resolution", "-1"} << "--resolution";
        QTest::newRow("one neighbour")
            << QStringList{"run", kang, "-o", out, "--neighbors", "1"} << "--neighbors";
        QTest::newRow("four components")
            << QStringList{"run", kang, "-o", out, "--umap-components", "4"} << "--umap-components";
        QTest::newRow("not a number") << QStringList{"run", kang, "-o", out, "--seed", "abc"} << "";
        QTest::newRow("unknown batch key")
            << QStringList{"run", kang, "-o", out, "--batch-key", "no_such_column"}
            << "no_such_column";
        QTest::newRow("no output") << QStringList{"run", kang} << "";
    }

    void badInputGivesOneLineError() {
        QFETCH(QStringList, args);
        QFETCH(QString, mentions);
        if (!QFile::exists(test_support::shared_data(kKang))) QSKIP("Kang 2018 file not available");
        QByteArray err;
        const int code = cli(args, &err);
        QVERIFY(code != 0);
        // One error line; usage errors add the command's usage line (the CLI's convention).
        const QList<QByteArray> lines = err.trimmed().split('\n');
        const QByteArray text = lines.front();
        QVERIFY2(text.startsWith("transcura-cli"), err.constData());
        QVERIFY2(lines.size() == 1 || (lines.size() == 2 && lines[1].startsWith("usage: ")),
                 err.constData());
        if (!mentions.isEmpty()) QVERIFY2(text.contains(mentions.toUtf8()), text.constData());
        QVERIFY(!QFile::exists(path("bad.h5ad")));
    }

    void liveLayoutProgressAndDeterminismInProcess() {
        const Cohort input = small_simulated(1500, 8);
        PipelineOptions options;
        options.batch_key = "batch";
        options.n_hvg = 800;
        options.n_pcs = 20;
        options.umap_epochs = 120;
        options.control.num_threads = 2;
        std::vector<double> fractions;
        std::vector<int> epochs;
        int total_epochs = 0;
        options.control.progress = [&](double f, const std::string&) { fractions.push_back(f); };
        options.on_umap_epoch = [&](const DenseD& layout, int epoch, int n_epochs) {
            QCOMPARE(layout.n_cols, int64_t(2));
            epochs.push_back(epoch);
            total_epochs = n_epochs;
        };
        const PipelineResults a = run_pipeline(input, options);
        QCOMPARE(total_epochs, 120);
        QVERIFY(epochs.size() >= 10);
        QCOMPARE(epochs.front(), 0);
        QCOMPARE(epochs.back(), 120);
        for (size_t i = 1; i < epochs.size(); ++i) QVERIFY(epochs[i] > epochs[i - 1]);
        QVERIFY(!fractions.empty());
        for (size_t i = 1; i < fractions.size(); ++i)
            QVERIFY2(fractions[i] >= fractions[i - 1] - 1e-12,
                     qPrintable(QString("%1 then %2").arg(fractions[i - 1]).arg(fractions[i])));
        QCOMPARE(fractions.back(), 1.0);
        for (const char* step :
             {"qc", "filter", "normalize", "hvg", "pca", "knn", "umap", "leiden"})
            QVERIFY2(a.seconds.count(step), step);

        // The live layout does not change the result; same seed and threads, same output.
        PipelineOptions quiet = options;
        quiet.on_umap_epoch = nullptr;
        quiet.control.progress = nullptr;
        const PipelineResults b = run_pipeline(input, quiet);
        QVERIFY(a.cohort.obsm.at("X_umap").values == b.cohort.obsm.at("X_umap").values);
        QVERIFY(a.cohort.obs.find("leiden")->codes == b.cohort.obs.find("leiden")->codes);
        const double ari = adjusted_rand_index(a.cohort.obs.find("leiden")->codes,
                                               batch_codes(a.cohort, "cell_type"));
        QVERIFY2(ari > 0.8, qPrintable(QString::number(ari)));
        // A different seed moves the layout.
        quiet.seed = 1;
        QVERIFY(run_pipeline(input, quiet).cohort.obsm.at("X_umap").values !=
                a.cohort.obsm.at("X_umap").values);
    }

    void hnswPathInPipeline() {
        PipelineOptions options;
        options.n_hvg = 800;
        options.n_pcs = 20;
        options.umap_epochs = 100;
        options.knn_exact_max_cells = 100;  // force HNSW
        options.control.num_threads = 2;
        const PipelineResults r = run_pipeline(small_simulated(1500, 9), options);
        QCOMPARE(r.cohort.uns["neighbors"]["params"]["knn_search"].get<std::string>(),
                 std::string("hnsw"));
        const double ari = adjusted_rand_index(r.cohort.obs.find("leiden")->codes,
                                               batch_codes(r.cohort, "cell_type"));
        QVERIFY2(ari > 0.8, qPrintable(QString::number(ari)));
    }

    void cancelDuringUmap() {
        CancelToken cancel;
        PipelineOptions options;
        options.n_hvg = 500;
        options.n_pcs = 15;
        options.control.num_threads = 2;
        options.control.cancel = &cancel;
        options.on_umap_epoch = [&](const DenseD&, int epoch, int) {
            if (epoch > 0) cancel.cancel();
        };
        const Cohort input = small_simulated(800, 10);
        QVERIFY_THROWS_EXCEPTION(Cancelled, run_pipeline(input, options));
        // The input is untouched and a new run works.
        cancel.reset();
        options.on_umap_epoch = nullptr;
        options.umap_epochs = 50;
        QVERIFY(run_pipeline(input, options).cohort.obsm.count("X_umap"));
    }

    void countsFoundInLayersOrRaw() {
        // X scaled (negative values) with the counts in layers/counts or raw/X, as scanpy
        // workflows leave them: the pipeline runs on those counts, as if they were X.
        PipelineOptions options;
        options.n_hvg = 500;
        options.n_pcs = 15;
        options.umap_epochs = 30;
        options.control.num_threads = 2;
        const Cohort counts = small_simulated(600, 12);
        const PipelineResults reference = run_pipeline(counts, options);
        QCOMPARE(reference.cohort.uns["transcura_pipeline"]["counts_from"].get<std::string>(),
                 std::string("X"));
        Matrix scaled = *counts.X;
        for (float& v : scaled.sparse().data) v = -v;

        Cohort in_layer = counts;
        in_layer.layers["counts"] = *in_layer.X;
        in_layer.X = scaled;
        const PipelineResults from_layer = run_pipeline(in_layer, options);
        QCOMPARE(from_layer.cohort.uns["transcura_pipeline"]["counts_from"].get<std::string>(),
                 std::string("layers/counts"));
        QVERIFY(from_layer.cohort.obsm.at("X_umap").values ==
                reference.cohort.obsm.at("X_umap").values);
        QVERIFY(from_layer.cohort.X->sparse().data == reference.cohort.X->sparse().data);

        Cohort in_raw = counts;
        in_raw.raw = RawData{*counts.X, counts.var_names, counts.var};
        in_raw.X = scaled;
        const PipelineResults from_raw = run_pipeline(in_raw, options);
        QCOMPARE(from_raw.cohort.uns["transcura_pipeline"]["counts_from"].get<std::string>(),
                 std::string("raw/X"));
        QVERIFY(from_raw.cohort.obsm.at("X_umap").values ==
                reference.cohort.obsm.at("X_umap").values);
        QVERIFY(!from_raw.cohort.raw);

        // Log-normalised raw/X (non-integer) is not taken for counts: a clear refusal.
        for (float& v : in_raw.raw->X.sparse().data) v = std::log1p(v) + 0.25f;
        try {
            run_pipeline(in_raw, options);
            QFAIL("scaled X with log-normalised raw/X was accepted");
        } catch (const InvalidArgument& e) {
            const QString message = QString::fromUtf8(e.what());
            QVERIFY2(message.contains("X holds negative values") &&
                         message.contains("raw/X holds non-integer values"),
                     e.what());
        }
    }

    void rejectsBadOptions() {
        const Cohort input = small_simulated(300, 11);
        PipelineOptions options;
        options.resolution = 0;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, run_pipeline(input, options));
        options.resolution = 1;
        options.umap_components = 5;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, run_pipeline(input, options));
        options.umap_components = 2;
        options.batch_key = "missing_key";
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, run_pipeline(input, options));
    }
};

QTEST_GUILESS_MAIN(TestPipeline)
#include "tst_pipeline.moc"
