// Export: SHA-256 test vectors; `transcura-cli export` on Kang 2018 (computed QC thresholds,
// stratified splits) and simulated donors (grouped splits), checked by anndata and hashlib
// (tests/scripts/check_export.py) and the numpy recipe oracle; determinism; refusal to overwrite;
// invalid recipes and usage errors; an export cancelled through the API leaves nothing behind.
// Formats and a CLI killed midway are in tst_export_formats.cpp.
#include "transcura/errors.hpp"
#include "transcura/io.hpp"
#include "transcura/sha256.hpp"
#include "transcura/simulate.hpp"
#include "tst_export_support.hpp"

using namespace transcura;
using namespace export_test;

class TestExport : public QObject {
    Q_OBJECT

private slots:
    void sha256Vectors() {
        // FIPS 180-4 / NIST examples.
        QCOMPARE(sha256_hex(""),
                 std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
        QCOMPARE(sha256_hex("abc"),
                 std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
        QCOMPARE(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
                 std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
        QCOMPARE(sha256_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmn"
                            "opjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
                 std::string("cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"));
        Sha256 million;
        const std::string chunk(997, 'a');  // odd chunks cross the 64-byte blocks everywhere
        size_t fed = 0;
        while (fed + chunk.size() <= 1000000) million.update(chunk), fed += chunk.size();
        million.update(std::string(1000000 - fed, 'a'));
        QCOMPARE(million.hex(),
                 std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
        // 55/56/64-byte messages sit on the padding boundaries.
        QCOMPARE(sha256_hex(std::string(55, 'a')),
                 std::string("9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"));
        QCOMPARE(sha256_hex(std::string(56, 'a')),
                 std::string("b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"));
        QCOMPARE(sha256_hex(std::string(64, 'a')),
                 std::string("ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"));
        // Real files against shared/data/SHA256SUMS.
        std::ifstream sums(test_support::shared_data("SHA256SUMS").toStdString());
        std::string sha, name;
        int checked = 0;
        while (sums >> sha >> name) {
            if (name.find("kang2018_ifnb_2000.h5ad") == std::string::npos &&
                name.find("pbmc68k") == std::string::npos &&
                name.find("Cortex") == std::string::npos)
                continue;
            QCOMPARE(
                sha256_file(test_support::shared_data(QString::fromStdString(name)).toStdString()),
                sha);
            ++checked;
        }
        QCOMPARE(checked, 3);
        QVERIFY_THROWS_EXCEPTION(IoError, sha256_file("/nonexistent/file"));
    }

    void kangSplitsThroughCli() {
        QTemporaryDir dir;
        const QString input = test_support::shared_data(kKang);
        const std::string source_hash = sha256_file(input.toStdString());
        const QString recipe = write_text(dir, "recipe.json", kKangRecipe);
        const QString out = dir.filePath("out");
        const QStringList args{"export",
                               input,
                               "--recipe",
                               recipe,
                               "-o",
                               out,
                               "--split",
                               "train=0.8,validation=0.1,test=0.1",
                               "--stratify-by",
                               "stim",
                               "--batch-key",
                               "stim",
                               "--seed",
                               "7"};
        QElapsedTimer timer;
        timer.start();
        const auto run = cli(args);
        QVERIFY2(run.exit_code == 0, run.err.constData());
        qInfo("export of Kang 2018 (2000 cells) with 3 splits: %lld ms", timer.elapsed());
        QCOMPARE(entries(out), (std::set<std::string>{"manifest.json", "test.h5ad", "train.h5ad",
                                                      "validation.h5ad"}));

        const QJsonObject checked = verify(out);
        QVERIFY(!checked.isEmpty());
        QVERIFY2(checked["errors"].toArray().isEmpty(),
                 qPrintable(QJsonDocument(checked["errors"].toArray()).toJson()));
        QVERIFY(checked["input_sha256_ok"].toBool());

        // The kept cells are the numpy oracle's, split without overlap.
        const QJsonObject oracle =
            test_support::python_json("check_export_recipe.py", {input, recipe});
        const std::set<std::string> expected = strings(oracle["obs_names"].toArray());
        const QJsonObject outputs = checked["outputs"].toObject();
        std::set<std::string> seen;
        size_t total = 0;
        for (const QString split : {"train", "validation", "test"}) {
            const QJsonObject o = outputs[split].toObject();
            const std::set<std::string> names = strings(o["obs_names"].toArray());
            total += names.size();
            seen.insert(names.begin(), names.end());
            QCOMPARE(o["n_vars"].toInt(), oracle["var_names"].toArray().size());
            QVERIFY(o["var_names"].toArray() == oracle["var_names"].toArray());
            for (const char* column :
                 {"stim", "n_counts", "n_genes_by_counts", "pct_counts_mt", "total_counts"})
                QVERIFY2(contains(o["obs_columns"].toArray(), column), column);
            QVERIFY(contains(o["var_columns"].toArray(), "n_cells"));
            QVERIFY(contains(o["obsm"].toArray(), "X_pca"));
        }
        QCOMPARE(total, seen.size());
        QVERIFY(seen == expected);

        const json manifest = read_json(out + "/manifest.json");
        QCOMPARE(manifest["input"]["sha256"].get<std::string>(), source_hash);
        QCOMPARE(manifest["input"]["size"].get<int64_t>(),
                 static_cast<int64_t>(fs::file_size(input.toStdString())));
        QVERIFY(manifest["recipe"] == Recipe::parse(kKangRecipe).to_json());
        QVERIFY(Recipe::from_json(manifest["recipe"]) == Recipe::parse(kKangRecipe));
        QCOMPARE(manifest["software"]["version"].get<std::string>(),
                 std::string(TRANSCURA_VERSION));
        QCOMPARE(manifest["parameters"]["split"]["stratify_by"].get<std::string>(),
                 std::string("stim"));
        QCOMPARE(manifest["parameters"]["split"]["seed"].get<int>(), 7);
        const double n = static_cast<double>(expected.size());
        const std::map<std::string, double> asked = {
            {"train", 0.8}, {"validation", 0.1}, {"test", 0.1}};
        int64_t batch_total = 0;
        for (const auto& [split, fraction] : asked) {
            const int64_t size = manifest["outputs"][split]["n_obs"].get<int64_t>();
            QCOMPARE(manifest["counts"]["per_split"][split].get<int64_t>(), size);
            QVERIFY(std::abs(static_cast<double>(size) / n - fraction) < 0.02);
            const auto& per_batch = manifest["counts"]["per_split_per_batch"][split];
            QCOMPARE(per_batch["CTRL"].get<int64_t>() + per_batch["STIM"].get<int64_t>(), size);
            batch_total += size;
            // Stratified by stim: each split about half and half.
            QVERIFY(std::abs(per_batch["CTRL"].get<double>() / static_cast<double>(size) - 0.5) <
                    0.05);
        }
        QCOMPARE(batch_total, static_cast<int64_t>(expected.size()));
        QVERIFY(manifest["leakage"]["duplicate_profiles"]["checked"].get<bool>());
        QCOMPARE(manifest["leakage"]["duplicate_profiles"]["cells"].get<int64_t>(), int64_t(0));
        const auto& predictability = manifest["leakage"]["batch_predictability"];
        QVERIFY(predictability["pcs"].get<std::string>().find("obsm/X_pca") == 0);
        QVERIFY(predictability["per_split"]["train"]["balanced_accuracy"].get<double>() > 0.9);
        QCOMPARE(manifest["recipe_report"]["steps"].size(), size_t(3));
        const auto& computed = manifest["recipe_report"]["computed_columns"];
        QVERIFY(std::find(computed.begin(), computed.end(), "pct_counts_mt") != computed.end());
        QCOMPARE(sha256_file(input.toStdString()), source_hash);  // source untouched

        // Same command again, elsewhere: byte-identical outputs and manifest.
        const QString again = dir.filePath("again");
        QStringList second = args;
        second[second.indexOf(out)] = again;
        QVERIFY(cli(second).exit_code == 0);
        for (const char* file : {"train.h5ad", "validation.h5ad", "test.h5ad", "manifest.json"})
            QVERIFY2(slurp(out + "/" + file) == slurp(again + "/" + file), file);

        // The GUI's path (a recipe saved to a file, an in-memory cohort without the QC columns,
        // plan_export + write_export) writes the same bytes as the CLI.
        {
            const Recipe saved = Recipe::load(recipe.toStdString());
            auto cohort = std::make_shared<const Cohort>(read_cohort(input.toStdString()));
            ExportOptions options;
            options.output_dir = dir.filePath("gui").toStdString();
            options.batch_key = "stim";
            options.split = SplitOptions{};
            options.split->stratify_key = "stim";
            options.split->seed = 7;
            const ExportPlan plan =
                plan_export(cohort, saved, options, describe_input(input.toStdString(), *cohort));
            const ExportResults written = write_export(plan, options);
            QCOMPARE(written.outputs.size(), size_t(3));
            for (const char* file : {"train.h5ad", "validation.h5ad", "test.h5ad", "manifest.json"})
                QVERIFY2(slurp(out + "/" + file) == slurp(dir.filePath("gui") + "/" + file), file);
        }

        // Existing outputs are not overwritten without --overwrite.
        const std::string before = slurp(out + "/manifest.json");
        QStringList changed = args;
        changed[changed.indexOf("7")] = "8";
        const auto refused = cli(changed);
        QCOMPARE(refused.exit_code, 1);
        QVERIFY2(refused.err.contains("already exists") && refused.err.contains("--overwrite"),
                 refused.err.constData());
        QCOMPARE(refused.err.count('\n'), 1);
        QCOMPARE(slurp(out + "/manifest.json"), before);
        QCOMPARE(entries(out), (std::set<std::string>{"manifest.json", "test.h5ad", "train.h5ad",
                                                      "validation.h5ad"}));
        QVERIFY(cli(changed << "--overwrite").exit_code == 0);
        QVERIFY(slurp(out + "/manifest.json") != before);
        QCOMPARE(read_json(out + "/manifest.json")["parameters"]["split"]["seed"].get<int>(), 8);
        QVERIFY(verify(out)["errors"].toArray().isEmpty());
    }

    void groupedDonorsThroughCli() {
        QTemporaryDir dir;
        SimulateOptions sim;
        sim.n_cells = 6000;
        sim.n_genes = 1000;
        sim.n_batches = 4;
        sim.donors_per_batch = 20;
        sim.seed = 5;
        const QString input = dir.filePath("donors.h5ad");
        write_cohort(simulate_cohort(sim).cohort, input.toStdString(), Format::H5ad);
        const QString recipe = write_text(dir, "r.json", R"({"steps": [
            {"type": "threshold", "column": "pct_counts_mt", "max": 20},
            {"type": "genes", "min_cells": 5, "drop_mito": true}]})");
        const QString out = dir.filePath("out");
        const auto run = cli({"export", input, "--recipe", recipe, "-o", out, "--split",
                              "train=0.7,validation=0.15,test=0.15", "--group-by", "donor",
                              "--stratify-by", "cell_type", "--batch-key", "batch"});
        QVERIFY2(run.exit_code == 0, run.err.constData());
        const QJsonObject checked = verify(out, "donor");
        QVERIFY(checked["errors"].toArray().isEmpty());
        QVERIFY2(checked["shared_groups"].toArray().isEmpty(), "a donor is in two splits");
        const json manifest = read_json(out + "/manifest.json");
        QVERIFY(manifest["leakage"]["groups_checked"].get<bool>());
        QVERIFY(manifest["leakage"]["shared_groups"].empty());
        QVERIFY(manifest["splits"]["warnings"].empty());
        const auto achieved = manifest["splits"]["achieved_fractions"];
        const auto requested = manifest["splits"]["requested_fractions"];
        for (size_t i = 0; i < 3; ++i)
            QVERIFY(std::abs(achieved[i].get<double>() - requested[i].get<double>()) <= 0.02);
        // The PCs were computed for the report (the input has none) and are not exported.
        QVERIFY(manifest["leakage"]["batch_predictability"]["pcs"].get<std::string>().rfind(
                    "computed", 0) == 0);
        QVERIFY(!contains(checked["outputs"].toObject()["train"].toObject()["obsm"].toArray(),
                          "X_pca"));
        QCOMPARE(manifest["counts"]["per_batch"].size(), size_t(4));
        for (const QString split : {"train", "validation", "test"})
            QVERIFY(contains(
                checked["outputs"].toObject()[split].toObject()["obs_columns"].toArray(), "donor"));
    }

    void invalidRecipesAndUsage() {
        QTemporaryDir dir;
        const QString input = test_support::shared_data(kKang);
        const QString out = dir.filePath("out");
        auto rejected = [&](const std::string& recipe, const QByteArray& named) {
            const QString path = write_text(dir, "bad.json", recipe);
            const auto run = cli({"export", input, "--recipe", path, "-o", out});
            if (run.exit_code != 1 || !run.err.contains(named) || run.err.count('\n') != 1) {
                qWarning() << run.exit_code << run.err;
                return false;
            }
            return !fs::exists(out.toStdString()) || entries(out).empty();
        };
        QVERIFY(rejected(R"({"steps": [{"type": "threshold", "column": "pct_mito", "max": 5}]})",
                         "'pct_mito'"));
        QVERIFY(
            rejected(R"({"steps": [{"type": "exclude", "column": "stim", "values": ["IFNB"]}]})",
                     "no category 'IFNB'"));
        QVERIFY(rejected(R"({"steps": [{"type": "selection", "name": "s", "embedding": "X_umap",
                             "polygon": [[0, 0], [1, 0], [0, 1]]}]})",
                         "no embedding 'X_umap'"));
        QVERIFY(rejected(R"({"steps": [{"type": "include", "column": "donor", "values": ["a"]}]})",
                         "'donor'"));
        QVERIFY(rejected(R"({"steps": [{"type": "unknown"}]})", "unknown step type"));
        const QString good = write_text(dir, "good.json", kKangRecipe);
        auto usage = [&](QStringList args) {
            const auto run = cli(QStringList{"export"} + args);
            if (run.exit_code != 2) qWarning() << args << run.exit_code << run.err;
            return run.exit_code == 2;
        };
        QVERIFY(usage({input, "--recipe", good}));
        QVERIFY(usage({input, "--recipe", good, "-o", out, "--split", "train=0.9"}));
        QVERIFY(usage({input, "--recipe", good, "-o", out, "--format", "parquet"}));
        QVERIFY(usage({input, "--recipe", good, "-o", out, "--group-by", "stim"}));
        QVERIFY(usage({"--recipe", good, "-o", out}));
        // An output that is the input is refused even with --overwrite; the input survives.
        const QString own = dir.filePath("own");
        QDir().mkpath(own);
        QVERIFY(QFile::copy(input, own + "/subset.h5ad"));
        const std::string own_hash = sha256_file((own + "/subset.h5ad").toStdString());
        const auto onto_source =
            cli({"export", own + "/subset.h5ad", "--recipe", good, "-o", own, "--overwrite"});
        QCOMPARE(onto_source.exit_code, 1);
        QVERIFY2(onto_source.err.contains("refusing to overwrite"), onto_source.err.constData());
        QCOMPARE(sha256_file((own + "/subset.h5ad").toStdString()), own_hash);
        QCOMPARE(entries(own), std::set<std::string>{"subset.h5ad"});
        const auto missing_key = cli({"export", input, "--recipe", good, "-o", out, "--split",
                                      "a=0.5,b=0.5", "--group-by", "donor"});
        QCOMPARE(missing_key.exit_code, 1);
        QVERIFY(missing_key.err.contains("'donor'"));
        QVERIFY(!fs::exists(out.toStdString()) || entries(out).empty());
    }

    void cancelledExportThroughApi() {
        QTemporaryDir dir;
        SimulateOptions sim;
        sim.n_cells = 2000;
        sim.n_genes = 500;
        auto cohort = std::make_shared<const Cohort>(simulate_cohort(sim).cohort);
        CancelToken token;
        ExportOptions options;
        options.output_dir = dir.filePath("out").toStdString();
        options.split = SplitOptions{};
        options.split->group_key = "donor";
        options.control.cancel = &token;
        std::vector<std::string> stages;
        bool cancel_once = true;
        options.control.progress = [&](double, const std::string& what) {
            stages.push_back(what);
            if (cancel_once && what.rfind("writing validation", 0) == 0)
                token.cancel(), cancel_once = false;
        };
        const Recipe recipe = Recipe::parse(
            R"({"steps": [{"type": "threshold", "column": "total_counts", "min": 500}]})");
        options.add_qc_columns = true;
        ExportPlan plan = plan_export(cohort, recipe, options);
        QVERIFY(!cohort->obs.contains("pct_counts_ribo"));
        QVERIFY(plan.applied.cohort->obs.contains("pct_counts_ribo"));  // --add-qc
        QVERIFY(plan.manifest_preview["parameters"]["add_qc_columns"].get<bool>());
        QVERIFY(plan.manifest_preview["outputs"]["train"]["sha256"].is_null());
        QCOMPARE(plan.manifest_preview["outputs"]["train"]["n_obs"].get<int64_t>(),
                 plan.splits.size(0));
        ExportOptions other_format = options;
        other_format.format = ExportFormat::Loom;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, write_export(plan, other_format));
        QVERIFY_THROWS_EXCEPTION(Cancelled, write_export(plan, options));
        QVERIFY(entries(dir.filePath("out")).empty());  // staging folder removed too
        token.reset();
        const ExportResults done = write_export(plan, options);
        QCOMPARE(done.outputs.size(), size_t(3));
        QCOMPARE(done.outputs[0].sha256, sha256_file(done.outputs[0].path));
        QCOMPARE(done.manifest["outputs"]["test"]["sha256"].get<std::string>(),
                 done.outputs[2].sha256);
        QVERIFY(std::find(stages.begin(), stages.end(), "moving outputs into place") !=
                stages.end());
        // Writing the same plan again without overwrite is refused before any work.
        QVERIFY_THROWS_EXCEPTION(IoError, write_export(plan, options));
        QVERIFY_THROWS_EXCEPTION(IoError, plan_export(cohort, recipe, options));
        options.overwrite = true;
        QCOMPARE(write_export(plan, options).outputs[1].sha256, done.outputs[1].sha256);
    }
};

QTEST_APPLESS_MAIN(TestExport)
#include "tst_export.moc"
