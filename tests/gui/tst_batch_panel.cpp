// The batch panel driven through the main window on the Kang 2018 IFN-beta cohort (batch
// `stim`): its table holds exactly what `transcura-cli diagnose --harmony` computes (a separate
// process), the composition heatmap counts the cells of each cluster per batch, clicking a
// metric recolours the embedding by its per-cell score, the corrected embedding and its UMAP
// (X_umap_harmony, which mixes the conditions X_umap keeps apart) can be shown from the
// embedding chooser, a run can be cancelled (also while that UMAP is laid out), and
// screenshots of the panel are saved.
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPushButton>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>

#include <cmath>

#include "batch_controller.hpp"
#include "batch_panel.hpp"
#include "batch_plots.hpp"
#include "embedding_controller.hpp"
#include "embedding_toolbar.hpp"
#include "embedding_view.hpp"
#include "gui_test_support.hpp"
#include "main_window.hpp"
#include "open_action.hpp"
#include "pipeline_controller.hpp"
#include "test_support.hpp"
#include "transcura/lisi.hpp"

using namespace transcura;
using shell::MainWindow;
using widgets::BatchMetric;

namespace {

QString kang() {
    return test_support::shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad");
}

bool open_and_wait(MainWindow& window, const QString& path, int timeout_ms = 300000) {
    window.openActions()->setFileChooser([path] { return path; });
    window.openActions()->openAction()->trigger();
    return QTest::qWaitFor(
        [&] { return !window.controller()->isBusy() && !window.batchController()->isBusy(); },
        timeout_ms);
}

double json_or_nan(const QJsonObject& object, const char* key) {
    const QJsonValue v = object.value(QLatin1String(key));
    return v.isDouble() ? v.toDouble() : NAN;
}

bool same(double a, double b, double tolerance = 1e-9) {
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    return std::abs(a - b) <= tolerance * std::max(1.0, std::abs(b));
}

/// Clicks a cell of the metrics table as a user would.
void click_cell(QTableWidget* table, int row, int column) {
    const QRect rect = table->visualRect(table->model()->index(row, column));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, rect.center());
}

/// The embedding chooser of the window's embedding toolbar.
QComboBox* embedding_chooser(QWidget* window) {
    auto* toolbar = window->findChild<widgets::EmbeddingToolbar*>();
    if (!toolbar) return nullptr;
    for (QComboBox* box : toolbar->findChildren<QComboBox*>())
        if (box->toolTip().contains(QStringLiteral("obsm"))) return box;
    return nullptr;
}

QStringList chooser_items(QComboBox* box) {
    QStringList items;
    for (int i = 0; box && i < box->count(); ++i) items << box->itemText(i);
    return items;
}

bool finite_layout(const DenseD& m, int64_t rows) {
    if (m.n_rows != rows || m.n_cols != 2) return false;
    for (double v : m.values)
        if (!std::isfinite(v)) return false;
    return true;
}

/// Chooses an embedding in the toolbar's chooser as a user would.
bool choose_embedding(QWidget* window, const QString& key) {
    QComboBox* box = embedding_chooser(window);
    const int index = box ? box->findText(key) : -1;
    if (index < 0) return false;
    box->setCurrentIndex(index);
    return true;
}

/// Whether a drawn colour is the colour map's value for t (one LUT step of rounding allowed).
bool map_colour(const widgets::ColorMap& map, double t, const QColor& drawn) {
    for (int step = -1; step <= 1; ++step) {
        const QColor c = map.at(t + step / 255.0);
        if (c.red() == drawn.red() && c.green() == drawn.green() && c.blue() == drawn.blue())
            return true;
    }
    return false;
}

}  // namespace

class TstBatchPanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("TranscuraTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_batch_panel"));
        QSettings().clear();
    }

    void init() {
        window_ = std::make_unique<MainWindow>();
        window_->controller()->setRunOnOpen(false);
        window_->batchController()->setAutoRun(true);
        window_->resize(1280, 800);
        window_->show();
        QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    }
    void cleanup() { window_.reset(); }

    void tableEqualsTheCliDiagnostics() {
        QSignalSpy finished(window_->batchController(), &shell::BatchController::finished);
        QVERIFY(open_and_wait(*window_, kang()));
        QCOMPARE(finished.count(), 1);  // ran on open: the cohort has a batch key and X_pca
        auto* panel = window_->batchPanel();
        QCOMPARE(panel->batchKey(), QStringLiteral("stim"));
        QCOMPARE(panel->labelKey(), QString());
        QCOMPARE(panel->embeddingKey(), QStringLiteral("X_pca"));
        auto analysis = window_->batchController()->analysis();
        QVERIFY(analysis && analysis->harmony && analysis->corrected);
        QCOMPARE(analysis->n_cells(), int64_t(2000));
        // The UMAP of the corrected PCs: one finite 2-D row per cell, offered in the chooser
        // next to the cohort's own embeddings.
        auto umap = window_->batchController()->correctedUmap();
        QVERIFY(umap && finite_layout(*umap, 2000));
        const QStringList offered = chooser_items(embedding_chooser(window_.get()));
        QVERIFY2(offered.contains(QStringLiteral("X_umap_harmony")) &&
                     offered.contains(QStringLiteral("X_pca_harmony")) &&
                     offered.contains(QStringLiteral("X_pca")),
                 qPrintable(offered.join(' ')));

        // The same diagnostics by the command line, in its own process.
        QTemporaryDir dir;
        const QString json_path = dir.filePath(QStringLiteral("diagnose.json"));
        auto run = test_support::run(
            test_support::cli(),
            {QStringLiteral("diagnose"), kang(), QStringLiteral("--batch-key"),
             QStringLiteral("stim"), QStringLiteral("--harmony"), QStringLiteral("--json"),
             json_path, QStringLiteral("--write"), dir.filePath(QStringLiteral("diagnosed.h5ad"))});
        QVERIFY2(run.exit_code == 0, run.err.constData());
        QFile file(json_path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject cli = QJsonDocument::fromJson(file.readAll()).object();
        const QJsonObject raw = cli.value(QStringLiteral("X_pca")).toObject();
        const QJsonObject corrected = cli.value(QStringLiteral("X_pca_harmony")).toObject();
        QVERIFY(!raw.isEmpty() && !corrected.isEmpty());

        const std::pair<BatchMetric, const char*> rows[] = {
            {BatchMetric::ILisi, "ilisi_median"},
            {BatchMetric::CLisi, "clisi_median"},
            {BatchMetric::Kbet, "kbet_acceptance"},
            {BatchMetric::AswBatch, "asw_batch"},
            {BatchMetric::AswLabel, "asw_label"},
            {BatchMetric::Pcr, "pcr_batch"},
            {BatchMetric::GraphConnectivity, "graph_connectivity"},
        };
        QTableWidget* table = panel->metricsTable();
        for (const auto& [metric, key] : rows) {
            const double want_raw = json_or_nan(raw, key);
            const double want_harmony = json_or_nan(corrected, key);
            const double got_raw = widgets::BatchAnalysis::summary(analysis->raw, metric);
            const double got_harmony = widgets::BatchAnalysis::summary(*analysis->harmony, metric);
            QVERIFY2(
                same(got_raw, want_raw),
                qPrintable(
                    QStringLiteral("%1 raw: %2 vs cli %3").arg(key).arg(got_raw).arg(want_raw)));
            QVERIFY2(same(got_harmony, want_harmony),
                     qPrintable(QStringLiteral("%1 harmony: %2 vs cli %3")
                                    .arg(key)
                                    .arg(got_harmony)
                                    .arg(want_harmony)));
            // And what the table shows is that value, rounded.
            const int row = widgets::BatchPanel::rowOf(metric);
            const QString shown_raw = table->item(row, 1)->text();
            const QString shown_harmony = table->item(row, 2)->text();
            if (std::isfinite(want_raw))
                QCOMPARE(shown_raw, QString::number(want_raw, 'f', 3));
            else
                QCOMPARE(shown_raw, QStringLiteral("\u2014"));
            if (std::isfinite(want_harmony))
                QCOMPARE(shown_harmony, QString::number(want_harmony, 'f', 3));
        }
        qInfo(
            "kang stim: iLISI %.3f -> %.3f, kBET %.3f -> %.3f, batch ASW %.3f -> %.3f, "
            "PCR %.3f -> %.3f",
            analysis->raw.ilisi_median, analysis->harmony->ilisi_median,
            analysis->raw.kbet_acceptance, analysis->harmony->kbet_acceptance,
            analysis->raw.asw_batch, analysis->harmony->asw_batch, analysis->raw.pcr_batch,
            analysis->harmony->pcr_batch);
        // Harmony mixes the two conditions better than the raw PCs.
        QVERIFY(analysis->harmony->ilisi_median > analysis->raw.ilisi_median);

        // Per-batch bars: the CLI's per-batch iLISI medians.
        const auto& bars = panel->barPlot()->series();
        QCOMPARE(panel->barPlot()->categories(), QStringList({"CTRL", "STIM"}));
        QCOMPARE(bars.size(), size_t(2));
        for (int b = 0; b < 2; ++b) {
            const QString name = panel->barPlot()->categories()[b];
            QVERIFY(
                same(bars[0].values[size_t(b)], raw["per_batch"][name]["ilisi_median"].toDouble()));
            QVERIFY(same(bars[1].values[size_t(b)],
                         corrected["per_batch"][name]["ilisi_median"].toDouble()));
        }
        panel->setBarQuantity(widgets::BatchPanel::BarQuantity::Cells);
        QCOMPARE(panel->barPlot()->series()[0].values, (std::vector<double>{1000, 1000}));
        panel->setBarQuantity(widgets::BatchPanel::BarQuantity::Ilisi);
        // No labels: the heatmap says what to do instead of drawing an empty grid.
        QVERIFY(panel->heatmap()->composition().clusters.empty());

        // The CLI's file holds X_pca_harmony and X_umap_harmony already; the batch run on open
        // offers its own, which replace them in the chooser: each key once.
        QVERIFY(open_and_wait(*window_, dir.filePath(QStringLiteral("diagnosed.h5ad"))));
        QCOMPARE(finished.count(), 2);
        QStringList keys = chooser_items(embedding_chooser(window_.get()));
        QCOMPARE(keys.count(QStringLiteral("X_umap_harmony")), 1);
        QCOMPARE(keys.count(QStringLiteral("X_pca_harmony")), 1);
        keys.removeDuplicates();
        QCOMPARE(keys.size(), chooser_items(embedding_chooser(window_.get())).size());
    }

    void clickingAMetricRecoloursTheEmbedding() {
        QVERIFY(open_and_wait(*window_, kang()));
        auto analysis = window_->batchController()->analysis();
        QVERIFY(analysis);
        auto* view = window_->embeddingView();
        QCOMPARE(view->pointCount(), int64_t(2000));
        window_->batchDock()->raise();
        QTableWidget* table = window_->batchPanel()->metricsTable();

        // iLISI, raw: a continuous colour from 1 (one batch) to 2 (both).
        click_cell(table, widgets::BatchPanel::rowOf(BatchMetric::ILisi), 1);
        QVERIFY2(view->colorTitle().contains(QStringLiteral("iLISI")),
                 qPrintable(view->colorTitle()));
        QVERIFY(window_->embedding()->showingCustomColors());
        const widgets::ColorMap viridis(widgets::ColorMapKind::Viridis);
        for (int64_t i : {0, 17, 999, 1000, 1500, 1999}) {
            const double t = analysis->raw.ilisi[size_t(i)] - 1.0;  // (v - 1) / (2 - 1)
            QVERIFY2(map_colour(viridis, t, view->pointColor(i)),
                     qPrintable(QStringLiteral("cell %1").arg(i)));
        }

        // kBET after Harmony: accepted / rejected / not tested, cell by cell.
        click_cell(table, widgets::BatchPanel::rowOf(BatchMetric::Kbet), 2);
        QVERIFY(view->colorTitle().contains(QStringLiteral("kBET")));
        QVERIFY(view->colorTitle().contains(QStringLiteral("Harmony")));
        const auto& verdicts = analysis->harmony->kbet_accepted;
        int64_t tested = 0;
        for (int64_t i = 0; i < 2000; ++i) {
            const QColor c = view->pointColor(i);
            const int8_t v = verdicts[size_t(i)];
            const QColor want = v == 1   ? QColor(40, 150, 80)
                                : v == 0 ? QColor(210, 60, 50)
                                         : QColor(215, 215, 215);
            QCOMPARE(c.rgb(), want.rgb());
            tested += v >= 0;
        }
        QCOMPARE(tested, analysis->harmony->kbet.n_tested);
        gui_test::save_screenshot(window_.get(), QStringLiteral("batch_kbet_window"));

        // The corrected embedding in the view: its first two components, colours kept.
        auto* box = window_->batchPanel()->showCorrectedBox();
        QVERIFY(box->isEnabled());
        box->setChecked(true);
        QCOMPARE(window_->embedding()->embeddingKey(), shell::BatchController::correctedKey());
        const DenseD& corrected = *analysis->corrected;
        QCOMPARE(view->coordinates()[3 * 5], float(corrected(5, 0)));
        QCOMPARE(view->coordinates()[3 * 5 + 1], float(corrected(5, 1)));
        QVERIFY(view->colorTitle().contains(QStringLiteral("kBET")));
        gui_test::save_screenshot(window_.get(), QStringLiteral("batch_corrected_window"));
        box->setChecked(false);
        QCOMPARE(window_->embedding()->embeddingKey(), QStringLiteral("X_pca"));

        // Choosing a column again ends the metric colouring.
        window_->embedding()->colorByColumn(QStringLiteral("stim"));
        QVERIFY(!window_->embedding()->showingCustomColors());
    }

    void pipelineLabelsFillTheHeatmap() {
        // The full pipeline gives leiden clusters: cLISI, label ASW, graph connectivity and the
        // batch x cluster composition appear.
        window_->controller()->setRunOnOpen(true);
        PipelineOptions options;
        options.batch_key = "stim";
        window_->controller()->setParameters(options);
        QVERIFY(open_and_wait(*window_, kang(), 600000));
        auto cohort = window_->controller()->cohort();
        QVERIFY(cohort && cohort->obs.contains("leiden"));
        auto* panel = window_->batchPanel();
        QCOMPARE(panel->labelKey(), QStringLiteral("leiden"));
        auto analysis = window_->batchController()->analysis();
        QVERIFY(analysis);
        QVERIFY(std::isfinite(analysis->raw.clisi_median));
        QVERIFY(std::isfinite(analysis->raw.graph_connectivity));

        // The heatmap's counts, recounted here from the obs columns.
        const BatchComposition& composition = panel->heatmap()->composition();
        QVERIFY(composition.clusters.size() >= 3);
        QCOMPARE(composition.batches, (std::vector<std::string>{"CTRL", "STIM"}));
        const Column* leiden = cohort->obs.find("leiden");
        const Column* stim = cohort->obs.find("stim");
        int64_t total = 0;
        for (size_t c = 0; c < composition.clusters.size(); ++c)
            for (size_t b = 0; b < composition.batches.size(); ++b) {
                int64_t expected = 0;
                for (size_t i = 0; i < leiden->size(); ++i)
                    expected += leiden->text(i) == composition.clusters[c] &&
                                stim->text(i) == composition.batches[b];
                QCOMPARE(composition.count(c, b), expected);
                total += expected;
            }
        QCOMPARE(total, cohort->n_obs());

        // Clicking cLISI colours by it (1 .. number of labels).
        click_cell(panel->metricsTable(), widgets::BatchPanel::rowOf(BatchMetric::CLisi), 1);
        QVERIFY(window_->embeddingView()->colorTitle().contains(QStringLiteral("cLISI")));

        // Screenshots of the panel at 1280x800, and its plots alone.
        window_->batchDock()->raise();
        QTest::qWait(50);
        QCOMPARE(window_->size(), QSize(1280, 800));  // the docks fit the window
        gui_test::save_screenshot(window_.get(), QStringLiteral("batch_window"));
        gui_test::save_screenshot(panel, QStringLiteral("batch_panel_bars"));
        panel->showPlot(1);
        QTest::qWait(50);
        gui_test::save_screenshot(window_.get(), QStringLiteral("batch_window_heatmap"));
        gui_test::save_screenshot(panel, QStringLiteral("batch_panel_heatmap"));
        panel->showPlot(0);
        panel->setBarQuantity(widgets::BatchPanel::BarQuantity::Kbet);
        gui_test::save_screenshot(panel->barPlot(), QStringLiteral("batch_bars_kbet"));
        panel->setBarQuantity(widgets::BatchPanel::BarQuantity::MedianCounts);
        gui_test::save_screenshot(panel->barPlot(), QStringLiteral("batch_bars_counts"));
        qInfo("kang pipeline: %zu leiden clusters, cLISI %.3f, graph connectivity %.3f -> %.3f",
              composition.clusters.size(), analysis->raw.clisi_median,
              analysis->raw.graph_connectivity, analysis->harmony->graph_connectivity);

        // The pipeline's X_umap against the UMAP of the Harmony-corrected PCs, chosen in the
        // embedding chooser: the conditions X_umap keeps apart mix after Harmony.
        auto umap = window_->batchController()->correctedUmap();
        QVERIFY(umap && finite_layout(*umap, cohort->n_obs()));
        QVERIFY(cohort->obsm.count("X_umap"));
        LisiOptions lisi;
        lisi.control.num_threads = 2;
        const double ilisi_umap =
            compute_lisi(cohort->obsm.at("X_umap"), analysis->batch.codes, lisi).median;
        const double ilisi_harmony = compute_lisi(*umap, analysis->batch.codes, lisi).median;
        qInfo("kang pipeline: UMAP iLISI %.3f (X_umap) -> %.3f (X_umap_harmony)", ilisi_umap,
              ilisi_harmony);
        QVERIFY(ilisi_harmony > ilisi_umap + 0.3);
        window_->embedding()->colorByColumn(QStringLiteral("stim"));
        QVERIFY(choose_embedding(window_.get(), QStringLiteral("X_umap_harmony")));
        QCOMPARE(window_->embedding()->embeddingKey(), QStringLiteral("X_umap_harmony"));
        auto* view = window_->embeddingView();
        QCOMPARE(view->pointCount(), cohort->n_obs());
        for (int64_t i : {int64_t(0), int64_t(7), cohort->n_obs() - 1}) {
            QCOMPARE(view->coordinates()[3 * i], float((*umap)(i, 0)));
            QCOMPARE(view->coordinates()[3 * i + 1], float((*umap)(i, 1)));
        }
        QTest::qWait(50);
        gui_test::save_screenshot(window_.get(), QStringLiteral("batch_umap_harmony_window"));
        QVERIFY(choose_embedding(window_.get(), QStringLiteral("X_umap")));
        QTest::qWait(50);
        gui_test::save_screenshot(window_.get(), QStringLiteral("batch_umap_raw_window"));

        // A rerun while X_umap_harmony is shown: progress reaches the UMAP part, cancelling
        // there keeps the last results and the view on the same layout.
        QVERIFY(choose_embedding(window_.get(), QStringLiteral("X_umap_harmony")));
        auto* controller = window_->batchController();
        QSignalSpy cancelled(controller, &shell::BatchController::cancelled);
        double fraction = 0;
        QString what;
        auto watch = connect(controller, &shell::BatchController::progress, this,
                             [&](double f, const QString& text) {
                                 fraction = f;
                                 what = text;
                             });
        controller->run();
        QVERIFY(QTest::qWaitFor([&] { return what.contains(QStringLiteral("UMAP of")); }, 120000));
        controller->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!controller->isBusy(), 60000);
        disconnect(watch);
        qInfo("cancelled at %.2f: %s", fraction, qPrintable(what));
        QVERIFY(fraction >= 0.75 && fraction <= 1.0);
        QCOMPARE(cancelled.count(), 1);
        QCOMPARE(controller->correctedUmap(), umap);
        QCOMPARE(window_->embedding()->embeddingKey(), QStringLiteral("X_umap_harmony"));
    }

    void harmonyUmapCanBeLeftOut() {
        QVERIFY(open_and_wait(*window_, kang()));
        auto* controller = window_->batchController();
        QVERIFY(controller->correctedUmap());
        window_->batchPanel()->setHarmonyUmapEnabled(false);
        QSignalSpy finished(controller, &shell::BatchController::finished);
        controller->run();
        QVERIFY(finished.wait(120000));
        QVERIFY(controller->analysis() && controller->analysis()->harmony);
        QVERIFY(!controller->correctedUmap());
        const QStringList offered = chooser_items(embedding_chooser(window_.get()));
        QVERIFY2(!offered.contains(QStringLiteral("X_umap_harmony")) &&
                     offered.contains(QStringLiteral("X_pca_harmony")),
                 qPrintable(offered.join(' ')));
        // The choice is remembered for the next window.
        QCOMPARE(QSettings().value(QStringLiteral("batch/harmonyUmap")).toBool(), false);
        window_->batchPanel()->setHarmonyUmapEnabled(true);
        QSettings().setValue(QStringLiteral("batch/harmonyUmap"), true);
    }

    void cancelAndErrorsKeepThePanelUsable() {
        QVERIFY(open_and_wait(*window_, kang()));
        auto before = window_->batchController()->analysis();
        QVERIFY(before);
        auto* controller = window_->batchController();
        QSignalSpy cancelled(controller, &shell::BatchController::cancelled);
        controller->run();
        QVERIFY(controller->isBusy());
        controller->cancel();
        QTRY_VERIFY_WITH_TIMEOUT(!controller->isBusy(), 60000);
        QCOMPARE(cancelled.count(), 1);
        QVERIFY(window_->batchPanel()->runButton()->isEnabled());
        // A key that is no grouping gives a message naming it, not a crash.
        QSignalSpy failed(controller, &shell::BatchController::failed);
        controller->run(shell::BatchRequest{QStringLiteral("n_counts"), QString(),
                                            QStringLiteral("X_pca"), false});
        QTRY_VERIFY_WITH_TIMEOUT(!controller->isBusy(), 60000);
        QCOMPARE(failed.count(), 1);
        QVERIFY2(failed.first().first().toString().contains(QStringLiteral("n_counts")),
                 qPrintable(failed.first().first().toString()));
        // And it runs again afterwards.
        QSignalSpy finished(controller, &shell::BatchController::finished);
        window_->batchPanel()->runButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
    }

private:
    std::unique_ptr<MainWindow> window_;
};

TRANSCURA_GUI_TEST_MAIN(TstBatchPanel)
#include "tst_batch_panel.moc"
