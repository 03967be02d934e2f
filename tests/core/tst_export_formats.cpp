// Export formats and interruption: pbmc68k lasso selections exported as .h5ad, Loom, MTX and
// CSV (read back by anndata, loompy, scipy and pandas), and a CLI killed midway (while writing
// and early) leaves no partial output under the final names and the source unchanged.
#include "transcura/io.hpp"
#include "transcura/sha256.hpp"
#include "transcura/simulate.hpp"
#include "tst_export_support.hpp"

using namespace transcura;
using namespace export_test;

class TestExportFormats : public QObject {
    Q_OBJECT

private slots:
    void pbmcEveryFormat() {
        QTemporaryDir dir;
        const QString input = test_support::shared_data(kPbmc);
        const QString recipe = write_text(dir, "r.json", R"({"steps": [
            {"type": "selection", "name": "left", "embedding": "X_umap",
             "polygon": [[-13, -11], [2, -11], [2, 10], [-13, 10]], "keep": true},
            {"type": "exclude", "column": "bulk_labels", "values": ["Dendritic"]}]})");
        const QJsonObject oracle =
            test_support::python_json("check_export_recipe.py", {input, recipe});
        const std::set<std::string> expected = strings(oracle["obs_names"].toArray());
        QVERIFY(expected.size() > 100 && expected.size() < 650);
        const QStringList formats{"h5ad", "loom", "mtx", "csv"};
        QStringList folders{"verify"};
        for (const QString& format : formats) {
            const QString out = dir.filePath("out-" + format);
            const auto run =
                cli({"export", input, "--recipe", recipe, "-o", out, "--format", format});
            QVERIFY2(run.exit_code == 0, run.err.constData());
            folders << out;
        }
        const QJsonObject all = test_support::python_json("check_export.py", folders);
        for (const QString& format : formats) {
            const QString out = dir.filePath("out-" + format);
            const QJsonObject checked = all[out].toObject();
            QVERIFY2(checked["errors"].toArray().isEmpty() && checked.contains("outputs"),
                     qPrintable(format));
            const QJsonObject subset = checked["outputs"].toObject()["subset"].toObject();
            QVERIFY2(strings(subset["obs_names"].toArray()) == expected, qPrintable(format));
            QCOMPARE(subset["n_vars"].toInt(), 765);
            QVERIFY2(subset["var_names"].toArray() == oracle["var_names"].toArray(),
                     qPrintable(format));
            QVERIFY2(contains(subset["obs_columns"].toArray(), "bulk_labels"), qPrintable(format));
            QVERIFY2(contains(subset["obs_columns"].toArray(), "percent_mito"), qPrintable(format));
            if (format == "h5ad") {
                QVERIFY(contains(subset["obsm"].toArray(), "X_umap"));
                QVERIFY(contains(subset["obsm"].toArray(), "X_pca"));
            } else if (format == "loom") {
                QVERIFY(contains(subset["obs_columns"].toArray(), "X_umap"));
            } else {
                QVERIFY(contains(subset["obs_columns"].toArray(), "X_umap_2"));
            }
            QVERIFY(contains(subset["var_columns"].toArray(), "highly_variable"));
            const json manifest = read_json(out + "/manifest.json");
            QCOMPARE(manifest["parameters"]["format"].get<std::string>(), format.toStdString());
            QVERIFY(manifest["parameters"]["split"].is_null());
            QCOMPARE(manifest["outputs"]["subset"]["n_obs"].get<size_t>(), expected.size());
            if (format == "mtx" || format == "csv")
                QCOMPARE(manifest["outputs"]["subset"]["files"].size(),
                         size_t(format == "mtx" ? 5 : 3));
        }
    }

    void killedCliLeavesNothing() {
        QTemporaryDir dir;
        SimulateOptions sim;
        sim.n_cells = 10000;
        sim.n_genes = 2000;
        sim.seed = 9;
        const QString input = dir.filePath("large.h5ad");
        write_cohort(simulate_cohort(sim).cohort, input.toStdString(), Format::H5ad);
        const std::string source_hash = sha256_file(input.toStdString());
        const QString out = dir.filePath("out");
        // No batch key: planning is quick, so most of the run is spent writing.
        const QStringList args{"export", input,     "-o",
                               out,      "--split", "train=0.8,validation=0.1,test=0.1"};
        const std::set<std::string> finals = {"train.h5ad", "validation.h5ad", "test.h5ad",
                                              "manifest.json"};
        // Kill while writing (once the staging folder exists) and, separately, early.
        int killed_while_writing = 0;
        for (int attempt = 0; attempt < 3; ++attempt) {
            fs::remove_all(out.toStdString());
            QProcess process;
            process.start(test_support::cli(), QStringList(args) << "--quiet");
            QVERIFY(process.waitForStarted());
            QElapsedTimer timer;
            timer.start();
            bool staging_seen = false;
            while (timer.elapsed() < 60000 && process.state() == QProcess::Running) {
                if (attempt == 2 && timer.elapsed() > 100)
                    break;  // early kill: reading or planning
                for (const auto& name : entries(out))
                    if (name.rfind(".transcura-export-", 0) == 0) staging_seen = true;
                if (staging_seen) break;
                QThread::msleep(5);
            }
            const bool running = process.state() == QProcess::Running;
            process.kill();
            process.waitForFinished();
            if (running && staging_seen) ++killed_while_writing;
            for (const auto& name : entries(out)) QVERIFY2(!finals.count(name), name.c_str());
            QCOMPARE(sha256_file(input.toStdString()), source_hash);
        }
        qInfo("killed %d of 2 runs while they were writing, 1 early", killed_while_writing);
        QVERIFY2(killed_while_writing >= 1, "the export finished before it could be killed");
        // A full run afterwards works, the leftover staging folder notwithstanding.
        const auto run = cli(args);
        QVERIFY2(run.exit_code == 0, run.err.constData());
        for (const auto& name : finals) QVERIFY(entries(out).count(name));
        for (const auto& name : entries(out))  // staging folders of the killed runs are cleaned up
            QVERIFY2(name.rfind(".transcura-", 0) != 0, name.c_str());
        QVERIFY(verify(out)["errors"].toArray().isEmpty());
        QCOMPARE(sha256_file(input.toStdString()), source_hash);
    }
};

QTEST_APPLESS_MAIN(TestExportFormats)
#include "tst_export_formats.moc"
