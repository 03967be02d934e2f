// Curation recipes: JSON round trip, validation messages, and application against an independent
// numpy implementation (tests/scripts/check_export_recipe.py) on real files (Kang 2018 with
// computed QC columns, pbmc68k_reduced with lasso polygons on X_umap) and simulated cohorts.
#include <QJsonArray>
#include <QtTest/QtTest>

#include <fstream>
#include <numeric>

#include "test_support.hpp"
#include "transcura/errors.hpp"
#include "transcura/io.hpp"
#include "transcura/recipe.hpp"
#include "transcura/simulate.hpp"

using namespace transcura;
using nlohmann::json;

namespace {

const QString kKang = "multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad";
const QString kPbmc = "h5ad/scanpy_pbmc68k_reduced/10x_pbmc68k_reduced.2025-11.h5ad";

std::shared_ptr<const Cohort> read_shared(const QString& relative) {
    return std::make_shared<const Cohort>(
        read_cohort(test_support::shared_data(relative).toStdString()));
}

std::vector<std::string> view_obs_names(const ApplyRecipeResults& r) {
    std::vector<std::string> names;
    for (int64_t c : r.view.cells()) names.push_back(r.cohort->obs_names[static_cast<size_t>(c)]);
    return names;
}

std::vector<std::string> view_var_names(const ApplyRecipeResults& r) {
    std::vector<std::string> names;
    for (int64_t g : r.view.genes()) names.push_back(r.cohort->var_names[static_cast<size_t>(g)]);
    return names;
}

std::vector<std::string> strings(const QJsonArray& array) {
    std::vector<std::string> out;
    for (const auto& v : array) out.push_back(v.toString().toStdString());
    return out;
}

/// Applies `recipe` to `file` with the numpy oracle and compares cells, genes and step counts.
void compare_with_oracle(const QString& file, const Recipe& recipe,
                         const ApplyRecipeResults& mine) {
    QTemporaryDir dir;
    const QString recipe_path = dir.filePath("recipe.json");
    recipe.save(recipe_path.toStdString());
    const QJsonObject oracle =
        test_support::python_json("check_export_recipe.py", {file, recipe_path});
    QVERIFY2(!oracle.isEmpty(), "check_export_recipe.py failed");
    const auto want_cells = strings(oracle["obs_names"].toArray());
    const auto want_genes = strings(oracle["var_names"].toArray());
    QCOMPARE(static_cast<qsizetype>(mine.view.n_obs()), static_cast<qsizetype>(want_cells.size()));
    QVERIFY(view_obs_names(mine) == want_cells);
    QCOMPARE(static_cast<qsizetype>(mine.view.n_vars()), static_cast<qsizetype>(want_genes.size()));
    QVERIFY(view_var_names(mine) == want_genes);
    const QJsonArray steps = oracle["steps"].toArray();
    QCOMPARE(static_cast<qsizetype>(mine.steps.size()), steps.size());
    for (qsizetype i = 0; i < steps.size(); ++i) {
        QCOMPARE(mine.steps[static_cast<size_t>(i)].cells_after,
                 static_cast<int64_t>(steps[i].toObject()["cells_after"].toInteger()));
        QCOMPARE(mine.steps[static_cast<size_t>(i)].genes_after,
                 static_cast<int64_t>(steps[i].toObject()["genes_after"].toInteger()));
    }
}

bool any_message_contains(const std::vector<RecipeIssue>& issues, const std::string& text,
                          RecipeIssue::Severity severity = RecipeIssue::Severity::Error) {
    for (const auto& issue : issues)
        if (issue.severity == severity && issue.message.find(text) != std::string::npos)
            return true;
    return false;
}

}  // namespace

class TestRecipe : public QObject {
    Q_OBJECT

private slots:
    void issueFormatRoundTrip() {
        // The format as issue 6 writes it, plus the extensions (genes options, enabled, label,
        // an unknown key that must survive).
        const std::string text = R"({"description": "issue 6 example", "steps": [
          {"type": "threshold", "column": "n_genes_by_counts", "min": 200},
          {"type": "threshold", "column": "pct_counts_mt", "max": 20, "label": "mito"},
          {"type": "threshold", "column": "total_counts", "min": 500, "max": 40000},
          {"type": "include", "column": "cell_type", "values": ["B", "T"]},
          {"type": "exclude", "column": "donor", "values": ["d3"], "enabled": false},
          {"type": "genes", "min_cells": 3, "drop": ["MALAT1"], "drop_mito": true},
          {"type": "selection", "name": "island", "embedding": "X_umap",
           "polygon": [[0, 0], [1, 0], [1, 1]], "cells": ["a", "b"], "keep": true,
           "drawn_by": "someone"},
          {"type": "selection", "name": "lasso", "embedding": "X_umap",
           "polygon": [[0, 0], [2, 0], [0, 2]], "keep": false}
        ]})";
        const Recipe recipe = Recipe::parse(text, "issue.json");
        QCOMPARE(recipe.steps.size(), size_t(8));
        QVERIFY(recipe.steps[0].as<ThresholdStep>()->min == 200.0);
        QVERIFY(!recipe.steps[0].as<ThresholdStep>()->max);
        QCOMPARE(recipe.steps[1].label, std::string("mito"));
        QCOMPARE(recipe.steps[3].type(), std::string("include"));
        QCOMPARE(recipe.steps[4].type(), std::string("exclude"));
        QVERIFY(!recipe.steps[4].enabled);
        QVERIFY(recipe.steps[5].as<GeneFilterStep>()->drop_mito);
        QCOMPARE(recipe.steps[5].as<GeneFilterStep>()->min_cells, int64_t(3));
        const auto* island = recipe.steps[6].as<SelectionStep>();
        QVERIFY(island && island->cells && island->cells->size() == 2);
        QCOMPARE(recipe.steps[6].extra["drawn_by"].get<std::string>(), std::string("someone"));
        QVERIFY(!recipe.steps[7].as<SelectionStep>()->cells);
        QVERIFY(!recipe.steps[7].as<SelectionStep>()->keep);

        const std::string dumped = recipe.dump();
        const Recipe again = Recipe::parse(dumped, "dumped");
        QVERIFY(again == recipe);
        QCOMPARE(again.dump(), dumped);
        QVERIFY(json::parse(dumped)["steps"][6]["drawn_by"] == "someone");
        QVERIFY(json::parse(dumped)["description"] == "issue 6 example");

        QTemporaryDir dir;
        const std::string path = dir.filePath("r.json").toStdString();
        recipe.save(path);
        QVERIFY(Recipe::load(path) == recipe);
        QVERIFY_THROWS_EXCEPTION(IoError, recipe.save(path, false));

        // Value semantics for an undo stack: a changed copy differs, restoring makes it equal.
        Recipe edited = recipe;
        edited.steps[0].as<ThresholdStep>()->min = 300;
        QVERIFY(!(edited == recipe));
        edited.steps[0].as<ThresholdStep>()->min = 200;
        QVERIFY(edited == recipe);
        QCOMPARE(recipe.steps[0].describe(), std::string("n_genes_by_counts >= 200"));
        QCOMPARE(recipe.steps[2].describe(), std::string("500 <= total_counts <= 40000"));
    }

    void malformedRecipesNameTheStep() {
        auto fails_with = [](const std::string& text, const std::string& expected) {
            try {
                Recipe::parse(text, "bad.json");
            } catch (const FormatError& error) {
                const std::string message = error.what();
                if (message.find(expected) != std::string::npos && message.find("bad.json") == 0)
                    return true;
                qWarning() << "message was" << error.what();
                return false;
            }
            return false;
        };
        QVERIFY(fails_with("{\"steps\": [{\"type\": \"magic\"}]}",
                           "steps[0]: unknown step type 'magic'"));
        QVERIFY(fails_with(
            "{\"steps\": [{\"type\": \"threshold\", \"min\": 1}, {\"type\": \"threshold\"}]}",
            "steps[0]: needs \"column\""));
        QVERIFY(fails_with(
            "{\"steps\": [{\"type\": \"threshold\", \"column\": \"x\", \"min\": \"high\"}]}",
            "\"min\" must be a number"));
        QVERIFY(fails_with("{\"steps\": [{\"type\": \"include\", \"column\": \"x\"}]}",
                           "needs \"values\""));
        QVERIFY(
            fails_with("{\"steps\": [{\"type\": \"selection\", \"embedding\": \"X_umap\", "
                       "\"polygon\": [[0, 0, 1]]}]}",
                       "[x, y] points"));
        QVERIFY(fails_with("{\"steps\": [{\"type\": \"selection\", \"name\": \"s\"}]}",
                           "needs \"cells\" or \"polygon\""));
        QVERIFY(
            fails_with("{\"steps\": [{\"type\": \"genes\", \"min_cells\": 2.5}]}", "whole number"));
        QVERIFY(fails_with("[1, 2]", "\"steps\""));
        QVERIFY(fails_with("{\"steps\": [", "not valid JSON"));
    }

    void validationNamesWhatIsMissing() {
        const auto kang = read_shared(kKang);
        const Recipe recipe = Recipe::parse(R"({"steps": [
          {"type": "threshold", "column": "pct_mito", "max": 5},
          {"type": "include", "column": "stim", "values": ["CTRL", "INTERFERON"]},
          {"type": "selection", "name": "lasso", "embedding": "X_umap", "polygon": [[0,0],[1,0],[0,1]]},
          {"type": "exclude", "column": "cell_type", "values": ["B"]},
          {"type": "threshold", "column": "stim", "min": 1},
          {"type": "threshold", "column": "pct_counts_mt", "max": 10},
          {"type": "genes", "keep": ["NOT_A_GENE"]},
          {"type": "threshold", "column": "n_counts", "min": 10, "max": 1}
        ]})");
        const auto issues = validate_recipe(recipe, *kang);
        QVERIFY(any_message_contains(issues, "step 1 (threshold): obs has no column 'pct_mito'"));
        QVERIFY(any_message_contains(
            issues, "step 2 (include): column 'stim' has no category 'INTERFERON'"));
        QVERIFY(
            any_message_contains(issues, "obsm has no embedding 'X_umap' (available: 'X_pca')"));
        QVERIFY(any_message_contains(issues, "step 4 (exclude): obs has no column 'cell_type'"));
        QVERIFY(any_message_contains(issues, "'stim' is categorical, not numeric"));
        QVERIFY(any_message_contains(issues, "NOT_A_GENE", RecipeIssue::Severity::Warning));
        QVERIFY(any_message_contains(issues, "above max"));
        // pct_counts_mt is computable: no error for step 6.
        for (const auto& issue : issues) QVERIFY2(issue.step != 5, issue.message.c_str());
        try {
            apply_recipe(kang, recipe);
            QFAIL("an invalid recipe was applied");
        } catch (const InvalidArgument& error) {
            const std::string message = error.what();
            QVERIFY(message.find("pct_mito") != std::string::npos);
            QVERIFY(message.find("INTERFERON") != std::string::npos);
            QVERIFY(message.find("X_umap") != std::string::npos);
        }
        // Disabled steps only warn.
        Recipe disabled = recipe;
        for (auto& step : disabled.steps) step.enabled = false;
        for (const auto& issue : validate_recipe(disabled, *kang))
            QVERIFY(issue.severity == RecipeIssue::Severity::Warning);
        QCOMPARE(apply_recipe(kang, disabled).view.n_obs(), kang->n_obs());
    }

    void kangWithComputedQcMatchesOracle() {
        const auto kang = read_shared(kKang);
        QVERIFY(!kang->obs.contains("pct_counts_mt"));
        const Recipe recipe = Recipe::parse(R"({"steps": [
          {"type": "threshold", "column": "n_genes_by_counts", "min": 500},
          {"type": "threshold", "column": "pct_counts_mt", "max": 3.5},
          {"type": "threshold", "column": "total_counts", "min": 1000, "max": 4000},
          {"type": "include", "column": "stim", "values": ["CTRL", "STIM"]},
          {"type": "genes", "min_cells": 20, "drop_ribo": true, "drop": ["MALAT1", "B2M"]}
        ]})");
        ApplyRecipeOptions options;
        options.batch_key = "stim";
        const ApplyRecipeResults r = apply_recipe(kang, recipe, options);
        QVERIFY(r.cohort != kang);  // a copy with the QC columns
        QVERIFY(r.cohort->obs.contains("pct_counts_mt"));
        QVERIFY(std::find(r.computed_columns.begin(), r.computed_columns.end(),
                          "n_genes_by_counts") != r.computed_columns.end());
        QVERIFY(r.view.n_obs() > 200 && r.view.n_obs() < 1900);
        QVERIFY(r.view.n_vars() > 1000 && r.view.n_vars() < 9000);
        compare_with_oracle(test_support::shared_data(kKang), recipe, r);

        // Per-batch bookkeeping adds up, and removed indices are what left the view.
        QCOMPARE(r.batch_names, (std::vector<std::string>{"CTRL", "STIM"}));
        QCOMPARE(r.cells_per_batch_before, (std::vector<int64_t>{1000, 1000}));
        int64_t removed = 0;
        for (const auto& step : r.steps) {
            QCOMPARE(static_cast<int64_t>(step.removed_cells.size()), step.cells_removed());
            QCOMPARE(static_cast<int64_t>(step.removed_genes.size()), step.genes_removed());
            QCOMPARE(std::accumulate(step.cells_removed_per_batch.begin(),
                                     step.cells_removed_per_batch.end(), int64_t(0)),
                     step.cells_removed());
            removed += step.cells_removed();
        }
        QCOMPARE(removed, kang->n_obs() - r.view.n_obs());
        QCOMPARE(r.cells_per_batch_after[0] + r.cells_per_batch_after[1], r.view.n_obs());
        const json report = r.report_json();
        QCOMPARE(report["steps"].size(), size_t(5));
        QCOMPARE(report["steps"][1]["cells_removed_per_batch"]["CTRL"].get<int64_t>(),
                 r.steps[1].cells_removed_per_batch[0]);

        // stop_after: the state after the first two steps.
        ApplyRecipeOptions partial = options;
        partial.stop_after = 2;
        const ApplyRecipeResults two = apply_recipe(kang, recipe, partial);
        QCOMPARE(two.steps.size(), size_t(2));
        QCOMPARE(two.view.n_obs(), r.steps[1].cells_after);

        // Adding the columns beforehand spares the copy and gives the same view.
        auto prepared = std::make_shared<Cohort>(*kang);
        add_missing_qc_columns(*prepared, {}, "stim");
        std::shared_ptr<const Cohort> frozen = prepared;
        const ApplyRecipeResults same = apply_recipe(frozen, recipe, options);
        QVERIFY(same.cohort == frozen);
        QVERIFY(same.view.cells() == r.view.cells() && same.view.genes() == r.view.genes());
    }

    void pbmcSelectionsMatchOracle() {
        const auto pbmc = read_shared(kPbmc);
        // A lasso around part of the UMAP, and a second one dropped; categories and a threshold
        // on an existing float column.
        const Recipe recipe = Recipe::parse(R"({"steps": [
          {"type": "selection", "name": "big lasso", "embedding": "X_umap",
           "polygon": [[-13, -11], [9, -11], [9, 4], [0, 10.5], [-13, 6]], "keep": true},
          {"type": "selection", "name": "hole", "embedding": "X_umap",
           "polygon": [[-4, -3], [3, -3], [3, 3], [-4, 3]], "keep": false},
          {"type": "exclude", "column": "bulk_labels", "values": ["Dendritic"]},
          {"type": "include", "column": "phase", "values": ["G1", "S"]},
          {"type": "threshold", "column": "percent_mito", "max": 0.05}
        ]})");
        QVERIFY(validate_recipe(recipe, *pbmc).empty());
        const ApplyRecipeResults r = apply_recipe(pbmc, recipe);
        QVERIFY(r.cohort == pbmc);  // nothing computed, no copy
        QVERIFY(r.steps[0].cells_removed() > 0 && r.steps[1].cells_removed() > 0);
        QVERIFY(r.view.n_obs() > 50);
        compare_with_oracle(test_support::shared_data(kPbmc), recipe, r);

        // The GUI path: resolve the lasso to names, store them; replay uses the names only,
        // even on a cohort without the embedding.
        const auto* lasso = recipe.steps[1].as<SelectionStep>();
        const std::vector<std::string> names = cells_in_polygon(*pbmc, "X_umap", lasso->polygon);
        QCOMPARE(static_cast<int64_t>(names.size()),
                 r.steps[1].cells_removed() +
                     static_cast<int64_t>(
                         std::count_if(names.begin(), names.end(), [&](const std::string& n) {
                             const auto& removed0 = r.steps[0].removed_cells;
                             return std::any_of(removed0.begin(), removed0.end(), [&](int64_t c) {
                                 return pbmc->obs_names[static_cast<size_t>(c)] == n;
                             });
                         })));
        Recipe resolved = recipe;
        resolved.steps[1].as<SelectionStep>()->cells = names;
        resolved.steps[0].as<SelectionStep>()->cells =
            cells_in_polygon(*pbmc, "X_umap", recipe.steps[0].as<SelectionStep>()->polygon);
        Cohort without_umap = *pbmc;
        without_umap.obsm.erase("X_umap");
        auto stripped = std::make_shared<const Cohort>(std::move(without_umap));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, apply_recipe(stripped, recipe));
        const ApplyRecipeResults replay = apply_recipe(stripped, Recipe::parse(resolved.dump()));
        QVERIFY(replay.view.cells() == r.view.cells());
        compare_with_oracle(test_support::shared_data(kPbmc), resolved,
                            apply_recipe(pbmc, resolved));
    }

    void simulatedGenesAndUnmatchedNames() {
        SimulateOptions sim;
        sim.n_cells = 1500;
        sim.n_genes = 800;
        sim.n_batches = 3;
        sim.seed = 11;
        auto cohort = std::make_shared<const Cohort>(simulate_cohort(sim).cohort);
        std::vector<std::string> chosen(cohort->obs_names.begin(), cohort->obs_names.begin() + 100);
        chosen.push_back("not-a-cell");
        chosen.push_back("not-a-cell");
        Recipe recipe;
        SelectionStep drop{"first hundred", "X_umap", {{0, 0}, {1, 0}, {0, 1}}, chosen, false};
        auto add = [&](auto payload) {
            RecipeStep step;
            step.payload = payload;
            recipe.steps.push_back(step);
        };
        add(drop);
        add(ThresholdStep{"pct_counts_mt", std::nullopt, 15.0});
        add(CategoryStep{"cell_type", {cohort->obs.find("cell_type")->categories[0]}, false});
        add(GeneFilterStep{5, {}, {}, true, true, true});
        const auto issues = validate_recipe(recipe, *cohort);
        QVERIFY(any_message_contains(issues, "1 of 102 cells are not in this cohort",
                                     RecipeIssue::Severity::Warning));
        QVERIFY(
            any_message_contains(issues, "no embedding 'X_umap'", RecipeIssue::Severity::Warning));
        ApplyRecipeOptions options;
        options.batch_key = "batch";
        const ApplyRecipeResults r = apply_recipe(cohort, recipe, options);
        QCOMPARE(r.steps[0].cells_removed(), int64_t(100));
        QCOMPARE(r.steps[0].unmatched_cells, int64_t(1));
        // Damaged cells (mito share ~40%) go in the threshold step.
        const Column* damaged = cohort->obs.find("damaged");
        int64_t damaged_left = 0;
        for (int64_t c : r.view.cells()) damaged_left += damaged->bools[static_cast<size_t>(c)];
        QCOMPARE(damaged_left, int64_t(0));
        for (int64_t g : r.view.genes()) {
            const std::string kind = cohort->var.find("gene_kind")->text(static_cast<size_t>(g));
            QCOMPARE(kind, std::string("other"));
        }
        QCOMPARE(r.batch_names.size(), size_t(3));

        QTemporaryDir dir;
        const std::string path = dir.filePath("sim.h5ad").toStdString();
        write_cohort(*cohort, path, Format::H5ad);
        compare_with_oracle(QString::fromStdString(path), recipe, r);
    }
};

QTEST_APPLESS_MAIN(TestRecipe)
#include "tst_recipe.moc"
