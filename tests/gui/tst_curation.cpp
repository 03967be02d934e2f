// Curation in the GUI, driven like a user: a real file opened through File ▸ Open, a recipe built
// in the panel with simulated input (a QC threshold placed and dragged, a category unchecked, a
// lasso selection dropped, ribosomal genes dropped), live counts checked against core's
// apply_recipe after every edit, each step undone and redone (recipe, counts and QC lines
// follow), the recipe saved and loaded, an export through the Export dialog, and the same
// recipe replayed with transcura-cli export: the manifests (outputs' sha256 and n_obs) agree.
#include <QDockWidget>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMenuBar>
#include <QScrollArea>
#include <QStandardPaths>
#include <QTemporaryDir>

#include "curation_controller.hpp"
#include "embedding_controller.hpp"
#include "embedding_view.hpp"
#include "error_reporter.hpp"
#include "export_action.hpp"
#include "export_dialog.hpp"
#include "gui_test_support.hpp"
#include "main_window.hpp"
#include "open_action.hpp"
#include "pipeline_controller.hpp"
#include "qc_panel.hpp"
#include "recipe_panel.hpp"
#include "selection_sync.hpp"
#include "test_support.hpp"
#include "transcura/recipe.hpp"
#include "view_actions.hpp"

using namespace transcura;
using shell::MainWindow;

namespace {

const char* kBatchKey = "phase";

QString pbmc() {
    return test_support::shared_data(
        "h5ad/scanpy_pbmc68k_reduced/10x_pbmc68k_reduced.2025-11.h5ad");
}

bool open_through_menu(MainWindow& window, const QString& path, int timeout_ms = 240000) {
    window.openActions()->setFileChooser([path] { return path; });
    window.openActions()->openAction()->trigger();
    return QTest::qWaitFor([&] { return !window.controller()->isBusy(); }, timeout_ms);
}

void lasso(QWidget* w, const QPolygonF& polygon) {
    QTest::mousePress(w, Qt::LeftButton, {}, polygon.first().toPoint());
    for (qsizetype i = 1; i < polygon.size(); ++i) QTest::mouseMove(w, polygon[i].toPoint());
    QTest::mouseRelease(w, Qt::LeftButton, {}, polygon.last().toPoint());
}

QJsonObject read_json(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(file.readAll()).object();
}

/// What the panel should show for the window's recipe, from core directly.
struct Expected {
    Recipe recipe;
    int64_t cells = 0, genes = 0;
    std::vector<int64_t> per_batch;
};

}  // namespace

class TstCuration : public QObject {
    Q_OBJECT

    std::unique_ptr<MainWindow> window_;
    std::shared_ptr<const Cohort> cohort_;

    shell::CurationController* curation() const { return window_->curation(); }

    bool waitCounts() {
        return QTest::qWaitFor([&] { return !curation()->countsPending(); }, 60000);
    }

    /// Live counts == core's apply_recipe on the same recipe; also what the panel's table shows.
    Expected checkCounts() {
        Expected e;
        if (!waitCounts()) {
            QTest::qFail("counts did not finish", __FILE__, __LINE__);
            return e;
        }
        e.recipe = curation()->recipe();
        ApplyRecipeOptions options;
        options.batch_key = kBatchKey;
        const ApplyRecipeResults core = apply_recipe(cohort_, e.recipe, options);
        e.cells = core.view.n_obs();
        e.genes = core.view.n_vars();
        e.per_batch = core.cells_per_batch_after;
        const widgets::RecipeCounts& live = curation()->counts();
        if (!live.valid || live.cells_after != e.cells || live.genes_after != e.genes ||
            live.batch_after != e.per_batch || live.batch_before != core.cells_per_batch_before ||
            live.batch_names.size() != qsizetype(core.batch_names.size())) {
            QTest::qFail(qPrintable(QStringLiteral("live counts %1 cells / %2 genes, core %3 / %4 "
                                                   "(error: %5)")
                                        .arg(live.cells_after)
                                        .arg(live.genes_after)
                                        .arg(e.cells)
                                        .arg(e.genes)
                                        .arg(live.error) +
                                    QString::fromStdString(e.recipe.dump()) +
                                    QString::fromStdString(core.report_json().dump())),
                         __FILE__, __LINE__);
            return e;
        }
        for (const StepReport& step : core.steps)
            if (step.enabled && live.step_cells_removed.at(step.step) != step.cells_removed())
                QTest::qFail("per-step counts differ from core", __FILE__, __LINE__);
        // The table's last row ("All cells") shows the kept cells.
        QTableWidget* table = window_->recipePanel()->countsTable();
        const int last = table->rowCount() - 1;
        if (last != int(core.batch_names.size()) ||
            table->item(last, 2)->text() != QStringLiteral("%L1").arg(e.cells))
            QTest::qFail("the counts table does not show core's counts", __FILE__, __LINE__);
        return e;
    }

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("TranscuraTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_curation"));
        QSettings().clear();
        window_ = std::make_unique<MainWindow>();
        window_->controller()->setRunOnOpen(false);
        window_->errors()->setDialogsEnabled(false);
        window_->resize(1500, 900);
        window_->show();
        QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
        QVERIFY(open_through_menu(*window_, pbmc()));
        cohort_ = window_->controller()->cohort();
        QVERIFY(cohort_);
        QCOMPARE(cohort_->n_obs(), int64_t(700));
        QVERIFY(window_->curationDock()->isVisible());
        QCOMPARE(curation()->cohort(), cohort_);
        // Menus: Edit ▸ Undo/Redo with the standard shortcuts, File ▸ export and recipes.
        QCOMPARE(curation()->undoAction()->shortcut(), QKeySequence(QKeySequence::Undo));
        QCOMPARE(curation()->redoAction()->shortcut(), QKeySequence(QKeySequence::Redo));
        QStringList menus;
        for (QAction* a : window_->menuBar()->actions()) menus << a->text();
        QVERIFY2(menus.contains(QStringLiteral("&Edit")), qPrintable(menus.join(',')));
        QVERIFY(window_->exportCuratedAction()->action()->isEnabled());
    }
    void cleanupTestCase() { window_.reset(); }

    void buildsUndoesRedoesSavesExportsAndReplaysThroughTheCli() {
        auto* qc = window_->qcPanel();
        auto* panel = window_->recipePanel();
        QUndoStack* stack = curation()->undoStack();
        std::vector<Expected> history;

        qc->setBatchKey(QString::fromLatin1(kBatchKey));
        QCOMPARE(curation()->batchKey(), QString::fromLatin1(kBatchKey));
        history.push_back(checkCounts());
        QVERIFY(!QTest::currentTestFailed());
        QCOMPARE(history.back().cells, int64_t(700));
        QCOMPARE(curation()->counts().batch_names.size(), qsizetype(3));  // G1, S, G2M

        // 1. A threshold: double-click places a lower line on n_genes, then drag it right.
        qc->setMetric(QStringLiteral("n_genes"));
        auto* plot = qc->distribution();
        const QRect area = plot->rect();
        QTest::mouseDClick(plot, Qt::LeftButton, {},
                           QPoint(area.left() + area.width() * 30 / 100, area.center().y()));
        QVERIFY(!std::isnan(plot->lower()));
        const QPoint grab(int(plot->thresholdPixel(false)), area.center().y());
        QTest::mousePress(plot, Qt::LeftButton, {}, grab);
        for (int dx = 5; dx <= 30; dx += 5) QTest::mouseMove(plot, grab + QPoint(dx, 0));
        QTest::mouseRelease(plot, Qt::LeftButton, {}, grab + QPoint(30, 0));
        // The double-click and the drag: two commands (the drag's moves are merged).
        QCOMPARE(stack->count(), 2);
        QCOMPARE(curation()->recipe().steps.size(), size_t(1));
        const auto* threshold = curation()->recipe().steps[0].as<ThresholdStep>();
        QVERIFY(threshold);
        QCOMPARE(threshold->column, std::string("n_genes"));
        QVERIFY(threshold->min && !threshold->max);
        QCOMPARE(*threshold->min, plot->lower());
        const double dragged_min = *threshold->min;
        history.push_back(checkCounts());
        QVERIFY(!QTest::currentTestFailed());
        QVERIFY2(history.back().cells < 700 && history.back().cells > 100,
                 qPrintable(QString::number(history.back().cells)));
        // The first command (the double-click alone) is undoable too; fold it for the history.
        stack->undo();
        QVERIFY(curation()->recipe().steps.size() == 1);
        QVERIFY(*curation()->recipe().steps[0].as<ThresholdStep>()->min < dragged_min);
        QCOMPARE(plot->lower(), *curation()->recipe().steps[0].as<ThresholdStep>()->min);
        stack->redo();
        QCOMPARE(curation()->recipe(), history.back().recipe);

        // 2. Exclude a category: uncheck it with the keyboard in the category list.
        panel->setCategoryColumn(QStringLiteral("bulk_labels"));
        QListWidget* categories = panel->categoryList();
        QVERIFY(categories->count() >= 5);
        categories->setFocus();
        categories->setCurrentRow(1);
        const QString excluded = categories->item(1)->data(Qt::UserRole).toString();
        QTest::keyClick(categories, Qt::Key_Space);
        QCOMPARE(categories->item(1)->checkState(), Qt::Unchecked);
        QCOMPARE(curation()->recipe().steps.size(), size_t(2));
        const auto* exclude = curation()->recipe().steps[1].as<CategoryStep>();
        QVERIFY(exclude && !exclude->include);
        QCOMPARE(exclude->column, std::string("bulk_labels"));
        QVERIFY(exclude->values == std::vector<std::string>{excluded.toStdString()});
        history.push_back(checkCounts());
        QVERIFY(!QTest::currentTestFailed());
        QVERIFY(history.back().cells < history[1].cells);

        // 3. A lasso selection in the embedding, dropped with the panel's button.
        auto* view = window_->embeddingView();
        window_->viewActions()->lasso()->trigger();
        const QRectF r = QRectF(view->rect()).adjusted(20, 20, -20, -20);
        const QPolygonF polygon{r.topLeft(),
                                {r.center().x(), r.top()},
                                r.center(),
                                {r.left(), r.center().y()},
                                r.topLeft()};
        lasso(view, polygon);
        const std::vector<int64_t> selected = window_->selection()->selection();
        QVERIFY2(selected.size() > 10, qPrintable(QString::number(selected.size())));
        QVERIFY(panel->dropSelectedButton()->isEnabled());
        panel->findChild<QScrollArea*>()->ensureWidgetVisible(panel->dropSelectedButton());
        QTest::mouseClick(panel->dropSelectedButton(), Qt::LeftButton);
        QCOMPARE(curation()->recipe().steps.size(), size_t(3));
        const auto* selection = curation()->recipe().steps[2].as<SelectionStep>();
        QVERIFY(selection && !selection->keep && selection->cells);
        QCOMPARE(selection->embedding, window_->embedding()->embeddingKey().toStdString());
        QCOMPARE(selection->cells->size(), selected.size());
        for (size_t i = 0; i < selected.size(); ++i)
            QCOMPARE((*selection->cells)[i], cohort_->obs_names[size_t(selected[i])]);
        QVERIFY(selection->polygon.size() >= 3);
        // The polygon (the selection's hull) spans exactly the selected cells' extent.
        const DenseD& coords = cohort_->obsm.at(selection->embedding);
        double lo_x = 1e300, hi_x = -1e300, lo_y = 1e300, hi_y = -1e300;
        for (int64_t cell : selected) {
            lo_x = std::min(lo_x, coords(cell, 0));
            hi_x = std::max(hi_x, coords(cell, 0));
            lo_y = std::min(lo_y, coords(cell, 1));
            hi_y = std::max(hi_y, coords(cell, 1));
        }
        double plo_x = 1e300, phi_x = -1e300, plo_y = 1e300, phi_y = -1e300;
        for (const auto& [x, y] : selection->polygon) {
            plo_x = std::min(plo_x, x);
            phi_x = std::max(phi_x, x);
            plo_y = std::min(plo_y, y);
            phi_y = std::max(phi_y, y);
        }
        QCOMPARE(plo_x, lo_x);
        QCOMPARE(phi_x, hi_x);
        QCOMPARE(plo_y, lo_y);
        QCOMPARE(phi_y, hi_y);
        history.push_back(checkCounts());
        QVERIFY(!QTest::currentTestFailed());
        QVERIFY(history.back().cells < history[2].cells);

        // 4. Drop ribosomal genes.
        // Scrolled into view first, as a user would (the panel scrolls in a short dock).
        panel->findChild<QScrollArea*>()->ensureWidgetVisible(panel->dropRiboBox());
        QTest::mouseClick(panel->dropRiboBox(), Qt::LeftButton, {},
                          QPoint(8, panel->dropRiboBox()->height() / 2));  // on the box
        QVERIFY(panel->dropRiboBox()->isChecked());
        QCOMPARE(curation()->recipe().steps.size(), size_t(4));
        QVERIFY(curation()->recipe().steps[3].as<GeneFilterStep>()->drop_ribo);
        history.push_back(checkCounts());
        QVERIFY(!QTest::currentTestFailed());
        QVERIFY2(history.back().genes < cohort_->n_vars(),
                 qPrintable(QString::number(history.back().genes)));
        QCOMPARE(panel->stepList()->count(), 4);
        // The dock as shown (scrolled to the top), and its whole content at the dock's width.
        auto* scroll = panel->findChild<QScrollArea*>();
        scroll->ensureWidgetVisible(panel->stepList());
        QTest::qWait(100);  // let the layouts settle before grabbing
        gui_test::save_screenshot(panel, QStringLiteral("curation_recipe_panel"));
        QTest::qWait(100);  // let the layouts settle before grabbing
        gui_test::save_screenshot(scroll->widget(), QStringLiteral("curation_recipe_panel_full"));
        QTest::qWait(100);  // let the layouts settle before grabbing
        gui_test::save_screenshot(window_.get(), QStringLiteral("curation_window"));

        // Undo every step through Edit ▸ Undo: recipe, counts, QC line and checkboxes follow.
        // The threshold took two commands (placed by the double-click, then dragged).
        auto expect_state = [&](const Expected& want) {
            const Expected now = checkCounts();
            if (QTest::currentTestFailed()) return;
            QCOMPARE(now.recipe, want.recipe);
            QCOMPARE(now.cells, want.cells);
            QCOMPARE(now.genes, want.genes);
            QVERIFY(now.per_batch == want.per_batch);
            QCOMPARE(panel->stepList()->count(), int(want.recipe.steps.size()));
            const auto min = threshold_min(want.recipe);
            if (min)
                QCOMPARE(plot->lower(), *min);
            else
                QVERIFY(std::isnan(plot->lower()));
            QCOMPARE(qc->thresholds().size(), size_t(min ? 1 : 0));
        };
        for (size_t k = history.size() - 1; k >= 2; --k) {
            curation()->undoAction()->trigger();
            expect_state(history[k - 1]);
            QVERIFY(!QTest::currentTestFailed());
            if (k == 2) QCOMPARE(categories->item(1)->checkState(), Qt::Checked);
            if (k == 4) QVERIFY(!panel->dropRiboBox()->isChecked());
        }
        curation()->undoAction()->trigger();  // the drag
        QCOMPARE(curation()->recipe().steps.size(), size_t(1));
        QVERIFY(plot->lower() < dragged_min);
        QCOMPARE(plot->lower(), *threshold_min(curation()->recipe()));
        QVERIFY(checkCounts().cells > history[1].cells);
        curation()->undoAction()->trigger();  // the double-click
        expect_state(history[0]);
        QVERIFY(!QTest::currentTestFailed());
        QVERIFY(!stack->canUndo());
        // Redo every step through Edit ▸ Redo.
        curation()->redoAction()->trigger();
        for (size_t k = 1; k < history.size(); ++k) {
            curation()->redoAction()->trigger();
            expect_state(history[k]);
            QVERIFY(!QTest::currentTestFailed());
        }
        QCOMPARE(plot->lower(), *threshold_min(history.back().recipe));
        QCOMPARE(categories->item(1)->checkState(), Qt::Unchecked);
        QVERIFY(!stack->canRedo());

        // Disable and re-enable a step from the list (undoable as well).
        QListWidgetItem* item = panel->stepList()->item(1);
        item->setCheckState(Qt::Unchecked);
        QVERIFY(!curation()->recipe().steps[1].enabled);
        const Expected disabled = checkCounts();
        QVERIFY(!QTest::currentTestFailed());
        QVERIFY(disabled.cells > history.back().cells);
        // This one with the keyboard: Ctrl+Z in the main window, Ctrl+Shift+Z / Ctrl+Y redoes.
        window_->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(window_.get()));
        QTest::keySequence(window_->windowHandle(), QKeySequence::Undo);
        QCOMPARE(checkCounts().recipe, history.back().recipe);
        QTest::keySequence(window_->windowHandle(), QKeySequence::Redo);
        QCOMPARE(checkCounts().recipe, disabled.recipe);
        QTest::keySequence(window_->windowHandle(), QKeySequence::Undo);
        QCOMPARE(checkCounts().recipe, history.back().recipe);

        // Remove a step with the button (the selection), and with Delete (the threshold).
        auto* scroll_area = panel->findChild<QScrollArea*>();
        panel->stepList()->setCurrentRow(2);
        scroll_area->ensureWidgetVisible(panel->removeStepButton());
        QVERIFY(panel->removeStepButton()->isEnabled());
        QTest::mouseClick(panel->removeStepButton(), Qt::LeftButton);
        QCOMPARE(curation()->recipe().steps.size(), size_t(3));
        QVERIFY(!curation()->recipe().steps[2].as<SelectionStep>());
        QCOMPARE(checkCounts().cells, history[2].cells);  // without the selection
        panel->stepList()->setFocus();
        panel->stepList()->setCurrentRow(0);
        QTest::keyClick(panel->stepList(), Qt::Key_Delete);
        QCOMPARE(curation()->recipe().steps.size(), size_t(2));
        QVERIFY(std::isnan(plot->lower()));  // the line went with its step
        QVERIFY(!QTest::currentTestFailed());
        curation()->undoAction()->trigger();
        curation()->undoAction()->trigger();
        QCOMPARE(checkCounts().recipe, history.back().recipe);
        QCOMPARE(plot->lower(), *threshold_min(history.back().recipe));

        // Save the recipe (File ▸ Save Recipe…), then load it into an empty recipe: the QC
        // line comes back where it was.
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString recipe_path = dir.filePath(QStringLiteral("recipe.json"));
        curation()->setFileChooser([&](bool save) { return save ? recipe_path : recipe_path; });
        curation()->saveAction()->trigger();
        QVERIFY(QFile::exists(recipe_path));
        QVERIFY2(Recipe::load(recipe_path.toStdString()) == history.back().recipe,
                 qPrintable(QString::fromStdString(Recipe::load(recipe_path.toStdString()).dump() +
                                                   history.back().recipe.dump())));
        curation()->replaceRecipe(Recipe{}, QStringLiteral("clear"));
        QVERIFY(std::isnan(plot->lower()));
        QCOMPARE(checkCounts().cells, int64_t(700));
        curation()->loadAction()->trigger();
        QCOMPARE(curation()->recipe(), history.back().recipe);
        QCOMPARE(plot->lower(), *threshold_min(history.back().recipe));
        QCOMPARE(checkCounts().cells, history.back().cells);

        // A broken recipe file is refused with a message naming it; the recipe stays.
        const QString broken = dir.filePath(QStringLiteral("broken.json"));
        {
            QFile f(broken);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(R"({"steps": [{"type": "threshold"}]})");
        }
        QVERIFY(!curation()->loadRecipe(broken));
        QVERIFY2(window_->errors()->lastMessage().contains(QStringLiteral("broken.json")),
                 qPrintable(window_->errors()->lastMessage()));
        QCOMPARE(curation()->recipe(), history.back().recipe);

        // A well-formed recipe naming a column this file lacks loads (it may be meant for
        // another file), and the panel says which column, in red, instead of counting.
        const QString foreign = dir.filePath(QStringLiteral("foreign.json"));
        {
            QFile f(foreign);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(R"({"steps": [{"type": "threshold", "column": "no_such_column", "min": 1}]})");
        }
        QVERIFY(curation()->loadRecipe(foreign));
        QVERIFY(waitCounts());
        QVERIFY(!curation()->counts().valid);
        QVERIFY2(curation()->counts().error.contains(QStringLiteral("no_such_column")),
                 qPrintable(curation()->counts().error));
        auto* issues = panel->findChild<QLabel*>(QStringLiteral("recipeIssues"));
        QVERIFY(issues && issues->text().contains(QStringLiteral("no_such_column")));
        QTest::qWait(100);
        gui_test::save_screenshot(panel, QStringLiteral("curation_recipe_panel_error"));
        curation()->undoAction()->trigger();
        QCOMPARE(checkCounts().recipe, history.back().recipe);

        // Export through the dialog (File ▸ Export Curated Cohort…).
        shell::ExportAction* exporter = window_->exportCuratedAction();
        widgets::ExportDialog* dialog = exporter->dialog();
        window_->exportCuratedAction()->action()->trigger();
        QVERIFY(QTest::qWaitForWindowExposed(dialog));
        QCOMPARE(dialog->format(), QStringLiteral("h5ad"));
        const QString gui_out = dir.filePath(QStringLiteral("gui"));
        dialog->setOutputDir(gui_out);
        dialog->splitBox()->click();
        QVERIFY(dialog->splitEnabled());
        dialog->setGroupKey(QStringLiteral("louvain"));
        dialog->setStratifyKey(QStringLiteral("bulk_labels"));
        dialog->setBatchKey(QString::fromLatin1(kBatchKey));
        dialog->seedBox()->setValue(7);
        QVERIFY(QTest::qWaitFor([&] { return !exporter->isPlanning(); }, 120000));
        const widgets::ExportPreview& preview = dialog->preview();
        QVERIFY2(preview.valid, qPrintable(preview.error));
        QCOMPARE(preview.n_obs, history.back().cells);
        QCOMPARE(preview.split_names, (QStringList{"train", "validation", "test"}));
        int64_t total = 0;
        for (int64_t n : preview.split_sizes) total += n;
        QCOMPARE(total, history.back().cells);
        QCOMPARE(dialog->splitTable()->rowCount(), 3);
        const QJsonObject manifest_preview =
            QJsonDocument::fromJson(preview.manifest.toUtf8()).object();
        QVERIFY(manifest_preview.contains(QStringLiteral("recipe")));
        QVERIFY(manifest_preview.contains(QStringLiteral("leakage")));
        QVERIFY2(preview.leakage.contains(QStringLiteral("no louvain value in two splits")),
                 qPrintable(preview.leakage));
        QVERIFY(dialog->exportButton()->isEnabled());
        QTest::qWait(100);  // let the layouts settle before grabbing
        gui_test::save_screenshot(dialog, QStringLiteral("curation_export_dialog"));

        QSignalSpy exported(exporter, &shell::ExportAction::exported);
        QTest::mouseClick(dialog->exportButton(), Qt::LeftButton);
        QVERIFY(exporter->isExporting());
        QVERIFY(QTest::qWaitFor([&] { return !exporter->isExporting(); }, 240000));
        QCOMPARE(exported.count(), 1);
        const QJsonObject gui_manifest = read_json(QDir(gui_out).filePath("manifest.json"));
        QVERIFY(!gui_manifest.isEmpty());
        QTest::qWait(100);  // let the layouts settle before grabbing
        gui_test::save_screenshot(dialog, QStringLiteral("curation_export_dialog_done"));

        // Replay: transcura-cli export with the saved recipe and the dialog's options.
        const QString cli_out = dir.filePath(QStringLiteral("cli"));
        QStringList args{QStringLiteral("export"), pbmc(), QStringLiteral("--recipe"), recipe_path};
        QStringList options = dialog->cliArguments();
        QCOMPARE(options.at(0), QStringLiteral("-o"));
        options[1] = cli_out;
        QVERIFY(options.contains(QStringLiteral("--group-by")));
        const auto run = test_support::run(test_support::cli(), args + options);
        QVERIFY2(run.exit_code == 0, run.err.constData());
        const QJsonObject cli_manifest = read_json(QDir(cli_out).filePath("manifest.json"));
        const QJsonObject gui_outputs = gui_manifest.value("outputs").toObject();
        const QJsonObject cli_outputs = cli_manifest.value("outputs").toObject();
        QCOMPARE(gui_outputs.keys(), (QStringList{"test", "train", "validation"}));
        QCOMPARE(cli_outputs.keys(), gui_outputs.keys());
        int64_t exported_cells = 0;
        for (const QString& name : gui_outputs.keys()) {
            const QJsonObject g = gui_outputs.value(name).toObject();
            const QJsonObject c = cli_outputs.value(name).toObject();
            QVERIFY(!g.value("sha256").toString().isEmpty());
            QCOMPARE(g.value("sha256").toString(), c.value("sha256").toString());
            QCOMPARE(g.value("n_obs").toInteger(), c.value("n_obs").toInteger());
            QCOMPARE(g.value("n_vars").toInteger(), history.back().genes);
            exported_cells += g.value("n_obs").toInteger();
        }
        QCOMPARE(exported_cells, history.back().cells);
        QCOMPARE(gui_manifest.value("recipe"), cli_manifest.value("recipe"));
        QCOMPARE(gui_manifest.value("input"), cli_manifest.value("input"));
        QCOMPARE(gui_manifest.value("leakage"), cli_manifest.value("leakage"));
        QCOMPARE(gui_manifest, cli_manifest);  // nothing else differs either
        qInfo().noquote() << "GUI and CLI exports agree:" << gui_outputs.keys().join(' ')
                          << exported_cells << "cells";

        // Exporting again without "Replace existing outputs" is refused, nothing is touched.
        QVERIFY(QTest::qWaitFor([&] { return !exporter->isPlanning(); }, 120000));
        QVERIFY(!dialog->preview().valid);
        QVERIFY2(dialog->preview().error.contains(QStringLiteral("exists")),
                 qPrintable(dialog->preview().error));
        QSignalSpy failed(exporter, &shell::ExportAction::exportFailed);
        exporter->startExport();
        QVERIFY(QTest::qWaitFor([&] { return !exporter->isExporting(); }, 120000));
        QCOMPARE(failed.count(), 1);
        QVERIFY2(window_->errors()->lastMessage().contains(QStringLiteral("exists")),
                 qPrintable(window_->errors()->lastMessage()));
        QCOMPARE(read_json(QDir(gui_out).filePath("manifest.json")), gui_manifest);

        // With overwrite, an export cancelled at once leaves the previous outputs as they were
        // (or, if it finished first, writes the same bytes again).
        dialog->overwriteBox()->click();
        QVERIFY(QTest::qWaitFor([&] { return !exporter->isPlanning(); }, 120000));
        QVERIFY(dialog->exportButton()->isEnabled());
        QTest::mouseClick(dialog->exportButton(), Qt::LeftButton);
        QVERIFY(dialog->cancelButton()->isEnabled());
        QTest::mouseClick(dialog->cancelButton(), Qt::LeftButton);
        QVERIFY(QTest::qWaitFor([&] { return !exporter->isExporting(); }, 240000));
        QCOMPARE(read_json(QDir(gui_out).filePath("manifest.json")), gui_manifest);
        QStringList leftovers =
            QDir(gui_out).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot);
        leftovers.sort();
        QCOMPARE(leftovers,
                 (QStringList{"manifest.json", "test.h5ad", "train.h5ad", "validation.h5ad"}));
        dialog->close();
    }

private:
    static std::optional<double> threshold_min(const Recipe& recipe) {
        for (const RecipeStep& step : recipe.steps)
            if (const auto* t = step.as<ThresholdStep>()) return t->min;
        return std::nullopt;
    }
};

TRANSCURA_GUI_TEST_MAIN(TstCuration)
#include "tst_curation.moc"
