// The GUI thread while a large cohort arrives: the main window hands it to its docks one dock
// per event-loop turn and says when every dock has it (cohortShown); the cohort table adds its
// rows in chunks; the QC scatter draws a large cloud off the GUI thread (exports at once); the
// status bar's progress follows reports from a timer, not in the turn that brought them; the
// live UMAP frames are measured whole (to the end of the window's composition).
#include <cmath>
#include <functional>
#include <random>

#include <QLabel>
#include <QPainter>
#include <QProgressBar>
#include <QStandardPaths>

#include "cohort_table.hpp"
#include "curation_controller.hpp"
#include "embedding_controller.hpp"
#include "embedding_view.hpp"
#include "gui_test_support.hpp"
#include "main_window.hpp"
#include "pipeline_controller.hpp"
#include "qc_panel.hpp"
#include "qc_plots.hpp"
#include "selection_sync.hpp"
#include "status_progress.hpp"

Q_DECLARE_METATYPE(std::shared_ptr<const transcura::Cohort>)

using namespace transcura;
using shell::MainWindow;

namespace {

/// QC columns, three batches and a 2D layout of 12 blobs; no counts matrix.
std::shared_ptr<Cohort> simulated_cohort(int64_t n, uint32_t seed = 5) {
    std::mt19937_64 rng(seed);
    std::lognormal_distribution<double> library(7.8, 0.5);
    std::normal_distribution<double> noise(0.0, 1.0);
    auto cohort = std::make_shared<Cohort>();
    const size_t cells = static_cast<size_t>(n);
    cohort->obs_names.resize(cells);
    std::vector<double> totals(cells), genes(cells), mito(cells);
    std::vector<int32_t> batch(cells), blob(cells);
    DenseD umap(n, 2);
    for (int64_t i = 0; i < n; ++i) {
        const size_t c = static_cast<size_t>(i);
        cohort->obs_names[c] = "cell" + std::to_string(i);
        totals[c] = std::round(library(rng));
        genes[c] = std::round(std::pow(totals[c], 0.8) + 20 * noise(rng));
        mito[c] = std::clamp(4 + 2 * noise(rng), 0.0, 100.0);
        batch[c] = static_cast<int32_t>(i % 3);
        blob[c] = static_cast<int32_t>((i / 3) % 12);
        const double angle = 2 * M_PI * blob[c] / 12;
        umap(i, 0) = 12 * std::cos(angle) + noise(rng);
        umap(i, 1) = 12 * std::sin(angle) + noise(rng);
    }
    std::vector<std::string> names;
    for (int b = 0; b < 12; ++b) names.push_back("blob" + std::to_string(b));
    cohort->obs.set(Column::make_float("total_counts", std::move(totals)));
    cohort->obs.set(Column::make_float("n_genes_by_counts", std::move(genes)));
    cohort->obs.set(Column::make_float("pct_counts_mt", std::move(mito)));
    cohort->obs.set(Column::make_categorical("batch", std::move(batch), {"b1", "b2", "b3"}));
    cohort->obs.set(Column::make_categorical("cluster", std::move(blob), names));
    cohort->obsm["X_umap"] = std::move(umap);
    return cohort;
}

std::unique_ptr<MainWindow> make_window() {
    auto window = std::make_unique<MainWindow>();
    window->controller()->setRunOnOpen(false);
    window->resize(1280, 800);
    window->show();
    return window;
}

/// Pixels of a plot image that are neither white nor grey (the coloured points).
int64_t coloured_pixels(const QImage& image) {
    int64_t n = 0;
    const QImage rgb = image.convertToFormat(QImage::Format_RGB32);
    for (int y = 0; y < rgb.height(); ++y)
        for (int x = 0; x < rgb.width(); ++x) {
            const QColor c = QColor::fromRgb(rgb.pixel(x, y));
            n += c.saturation() > 60;
        }
    return n;
}

/// Counts the paint events a widget receives.
struct PaintCounter : QObject {
    PaintCounter(QWidget* widget, std::function<void()> on_paint) : on_paint_(std::move(on_paint)) {
        widget->installEventFilter(this);
    }
    bool eventFilter(QObject*, QEvent* event) override {
        if (event->type() == QEvent::Paint) {
            ++count;
            on_paint_();
        }
        return false;
    }
    int count = 0;

private:
    std::function<void()> on_paint_;
};

}  // namespace

class TstMainWindow : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("TranscuraTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_main_window"));
        QSettings().clear();
    }

    void handsALargeCohortToTheDocksOneTurnEach() {
        auto window = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));
        PipelineOptions options;
        options.batch_key = "batch";
        window->controller()->setParameters(options);
        const auto cohort = simulated_cohort(200000);
        QSignalSpy shown(window.get(), &MainWindow::cohortShown);
        // The heartbeat (informational: a loaded CI machine makes any bound on it flaky).
        QElapsedTimer clock;
        qint64 last = 0, longest = 0;
        QTimer ticker;
        ticker.setInterval(2);
        connect(&ticker, &QTimer::timeout, this, [&] {
            longest = std::max(longest, clock.elapsed() - last);
            last = clock.elapsed();
        });
        clock.start();
        ticker.start();
        emit window->controller()->cohortChanged(cohort, QStringLiteral("simulated.h5ad"));
        // The signal's own turn gave the cohort to the embedding only, whose points are laid
        // out on a worker (above EmbeddingController::kBackgroundPointsAbove).
        QVERIFY(window->isHandingOffCohort());
        QCOMPARE(shown.count(), 0);
        QVERIFY(window->embedding()->pointsPending());
        QCOMPARE(window->embedding()->embeddingKey(), QStringLiteral("X_umap"));
        QVERIFY(window->cohortTable()->model()->cohort() != cohort.get());
        QCOMPARE(window->curation()->cohort(), nullptr);
        QVERIFY(shown.wait(20000));
        ticker.stop();
        QVERIFY(!window->isHandingOffCohort());
        QCOMPARE(shown.first().at(0).value<std::shared_ptr<const Cohort>>(),
                 std::shared_ptr<const Cohort>(cohort));
        // Shown only once the embedding has its points (and colours).
        QVERIFY(!window->embedding()->pointsPending());
        QCOMPARE(window->embeddingView()->pointCount(), int64_t(200000));
        QCOMPARE(window->embeddingView()->coordinates()[3 * 7 + 1],
                 static_cast<float>(cohort->obsm.at("X_umap")(7, 1)));
        QCOMPARE(window->embeddingView()->colorTitle(), QStringLiteral("cluster"));
        QCOMPARE(window->cohortTable()->model()->cohort(), cohort.get());
        QCOMPARE(window->qcPanel()->batchKey(), QStringLiteral("batch"));
        QCOMPARE(window->curation()->cohort().get(), cohort.get());
        qInfo("200k-cell hand-off: longest GUI-thread turn %lld ms (2 ms heartbeat)", longest);
        // The table's rows follow in chunks; the QC plots in steps.
        QTRY_COMPARE_WITH_TIMEOUT(window->cohortTable()->model()->rowCount(), 200000, 20000);
        QCOMPARE(window->qcPanel()->scatter()->pointCount(), int64_t(200000));
        QCOMPARE(window->qcPanel()->counts().total, int64_t(200000));
        gui_test::save_screenshot(window.get(), QStringLiteral("main_window_200k_handoff"));
    }

    void aNewerCohortTakesOverAHandOffUnderWay() {
        auto window = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));
        window->setStagedHandOffAbove(0);  // staged even for small cohorts
        const auto first = simulated_cohort(3000), second = simulated_cohort(4000, 9);
        QSignalSpy shown(window.get(), &MainWindow::cohortShown);
        emit window->controller()->cohortChanged(first, QStringLiteral("first.h5ad"));
        QVERIFY(window->isHandingOffCohort());
        emit window->controller()->cohortChanged(second, QStringLiteral("second.h5ad"));
        QVERIFY(shown.wait(10000));
        QTest::qWait(100);  // the first hand-off's remaining stages must not run or report
        QCOMPARE(shown.count(), 1);
        QCOMPARE(shown.first().at(1).toString(), QStringLiteral("second.h5ad"));
        QCOMPARE(window->cohortTable()->model()->rowCount(), 4000);
        QCOMPARE(window->embeddingView()->pointCount(), int64_t(4000));
        QCOMPARE(window->qcPanel()->counts().total, int64_t(4000));
        QCOMPARE(window->curation()->cohort().get(), second.get());
    }

    void aNewerCohortOvertakesPointsStillPrepared() {
        auto window = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));
        window->setStagedHandOffAbove(0);
        window->embedding()->setBackgroundPointsAbove(0);  // on a worker even when small
        const auto first = simulated_cohort(60000), second = simulated_cohort(5000, 9);
        QSignalSpy shown(window.get(), &MainWindow::cohortShown);
        QSignalSpy points(window->embedding(), &shell::EmbeddingController::pointsShown);
        emit window->controller()->cohortChanged(first, QStringLiteral("first.h5ad"));
        QVERIFY(window->embedding()->pointsPending());
        QCOMPARE(window->embeddingView()->pointCount(), int64_t(0));  // nothing shown before
        QCOMPARE(window->embeddingView()->toolTip(), QString());
        emit window->controller()->cohortChanged(second, QStringLiteral("second.h5ad"));
        QVERIFY(window->embedding()->pointsPending());
        QVERIFY(shown.wait(10000));
        QCOMPARE(window->embeddingView()->pointCount(), int64_t(5000));  // before cohortShown
        QTest::qWait(300);  // the first cohort's points (still prepared then) must never show
        QCOMPARE(shown.count(), 1);
        QCOMPARE(shown.first().at(1).toString(), QStringLiteral("second.h5ad"));
        QCOMPARE(points.count(), 1);
        QVERIFY(!window->embedding()->pointsPending());
        const widgets::EmbeddingView* view = window->embeddingView();
        QCOMPARE(view->pointCount(), int64_t(5000));
        const DenseD& umap = second->obsm.at("X_umap");
        for (int64_t i : {int64_t(0), int64_t(2345), int64_t(4999)}) {
            QCOMPARE(view->coordinates()[size_t(3 * i)], static_cast<float>(umap(i, 0)));
            QCOMPARE(view->coordinates()[size_t(3 * i + 1)], static_cast<float>(umap(i, 1)));
            QCOMPARE(view->coordinates()[size_t(3 * i + 2)], 0.0f);
        }
        // Coloured as a cohort shown at once would be: by its cluster labels.
        QCOMPARE(view->colorTitle(), QStringLiteral("cluster"));
        QCOMPARE(view->pointColor(3), view->pointColor(3 + 36));  // blob (i / 3) % 12 again
        QVERIFY(view->pointColor(3) != view->pointColor(6));

        // An embedding chosen while the points are prepared wins over them too.
        emit window->controller()->cohortChanged(first, QStringLiteral("first.h5ad"));
        QVERIFY(window->embedding()->pointsPending());
        QVERIFY(window->embedding()->showEmbedding(QStringLiteral("X_umap"), 1, 0));
        QVERIFY(!window->embedding()->pointsPending());
        QCOMPARE(points.count(), 2);
        QVERIFY(shown.wait(10000));
        QTest::qWait(300);
        QCOMPARE(view->pointCount(), int64_t(60000));
        QCOMPARE(view->coordinates()[0], static_cast<float>(first->obsm.at("X_umap")(0, 1)));
        QCOMPARE(window->embedding()->xComponent(), 1);
    }

    void smallCohortsAreShownInOneTurn() {
        auto window = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));
        const auto cohort = simulated_cohort(2000);
        QSignalSpy shown(window.get(), &MainWindow::cohortShown);
        emit window->controller()->cohortChanged(cohort, QStringLiteral("small.h5ad"));
        // Every dock has it at once; cohortShown follows the other listeners of the signal.
        QCOMPARE(window->cohortTable()->model()->rowCount(), 2000);
        QCOMPARE(window->curation()->cohort().get(), cohort.get());
        QCOMPARE(shown.count(), 0);
        QVERIFY(shown.wait(5000));
        QVERIFY(!window->isHandingOffCohort());
    }

    void tableRowsArriveInChunks() {
        widgets::CohortTable table;
        table.resize(700, 300);
        table.show();
        QVERIFY(QTest::qWaitForWindowExposed(&table));
        table.model()->setFillChunkRows(1000);
        const auto cohort = simulated_cohort(3500);
        QSignalSpy chunks(table.model(), &widgets::ObsTableModel::rowsFilled);
        QSignalSpy filled(table.model(), &widgets::ObsTableModel::filled);
        table.setCohort(cohort);
        QCOMPARE(table.model()->rowCount(), 1000);
        QVERIFY(table.model()->isFilling());
        QCOMPARE(table.model()->rowOf(2500), -1);  // not shown yet
        table.setSelectedCells({10, 2500});        // a cell not shown yet is no error
        QVERIFY(table.model()->isCellHighlighted(2500));
        QVERIFY(filled.wait(5000));
        QCOMPARE(chunks.count(), 3);  // 2000, 3000, 3500
        QCOMPARE(chunks.last().at(0).toInt(), 3500);
        QCOMPARE(table.model()->rowCount(), 3500);
        QCOMPARE(table.proxy()->rowCount(), 3500);
        QCOMPARE(table.model()->rowOf(2500), 2500);
        // A filter set while rows arrive applies to the rows added after it; sorting first adds
        // every row.
        table.setCohort(cohort);
        table.proxy()->setFilter(4, QStringLiteral("b2"));  // batch
        QVERIFY(table.model()->isFilling());
        table.view()->sortByColumn(1, Qt::DescendingOrder);  // total_counts
        QVERIFY(!table.model()->isFilling());
        QCOMPARE(table.model()->rowCount(), 3500);
        QCOMPARE(table.proxy()->rowCount(), 1167);  // cells 1, 4, .., 3499 are in b2
        const Column* total = cohort->obs.find("total_counts");
        QCOMPARE(table.model()->index(0, 1).data().toDouble(),
                 *std::max_element(total->floats.begin(), total->floats.end()));
        QTest::qWait(50);  // no chunk of the replaced fill arrives late
        QCOMPARE(table.model()->rowCount(), 3500);
    }

    void largeScatterIsRasterizedOffTheGuiThread() {
        widgets::QcScatterPlot plot;
        plot.resize(560, 400);
        plot.show();
        QVERIFY(QTest::qWaitForWindowExposed(&plot));
        const int64_t n = int64_t(widgets::QcScatterPlot::kBackgroundRasterAbove) + 50000;
        const auto cohort = simulated_cohort(n);
        auto numbers = [&](const char* name) { return cohort->obs.find(name)->floats; };
        plot.setData(QStringLiteral("total_counts"), numbers("total_counts"),
                     QStringLiteral("n_genes_by_counts"), numbers("n_genes_by_counts"),
                     QStringLiteral("pct_counts_mt"), numbers("pct_counts_mt"));
        const QImage drawing = plot.grab().toImage();  // paints: starts the raster job
        QVERIFY(plot.isRasterizing());
        gui_test::save_screenshot(&plot, QStringLiteral("qc_scatter_rasterizing"));
        // An export draws the points at once, job or not.
        QImage exported(plot.size(), QImage::Format_ARGB32);
        exported.fill(Qt::white);
        {
            QPainter painter(&exported);
            plot.renderExport(painter, QRectF(exported.rect()));
        }
        const int64_t before = coloured_pixels(drawing);  // the colour bar alone
        QVERIFY(coloured_pixels(exported) > before + 1000);
        QTRY_VERIFY_WITH_TIMEOUT(!plot.isRasterizing(), 20000);
        const QImage done = plot.grab().toImage();
        QVERIFY(!plot.isRasterizing());  // the result is current: no second job
        QVERIFY(coloured_pixels(done) > before + 1000);
        gui_test::save_screenshot(&plot, QStringLiteral("qc_scatter_rasterized"));
        // A small cloud is drawn in the paint itself.
        plot.setData(QStringLiteral("x"), {1, 2, 3}, QStringLiteral("y"), {3, 2, 1}, {}, {});
        plot.grab();
        QVERIFY(!plot.isRasterizing());
    }

    void qcPanelReadsALargeScatterOnAWorker() {
        widgets::QcPanel panel;
        panel.resize(560, 720);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        auto* scatter = panel.findChild<widgets::QcScatterPlot*>();  // not the accessor: it
        QVERIFY(scatter);                                            // would rebuild at once
        const int64_t n = widgets::QcPanel::kBackgroundScatterAbove + 50000;
        const auto large = simulated_cohort(n), small = simulated_cohort(1000, 7);
        panel.setCohort(large, QStringLiteral("batch"));
        QTRY_COMPARE_WITH_TIMEOUT(scatter->pointCount(), n, 20000);
        // A newer cohort while the large one's columns are read: the late result is dropped.
        // (About when the scatter's step runs: 5 ms per step; a result it drops is not shown.)
        panel.setCohort(large, QStringLiteral("batch"));
        QTest::qWait(20);
        panel.setCohort(small, QStringLiteral("batch"));
        QTRY_COMPARE_WITH_TIMEOUT(scatter->pointCount(), int64_t(1000), 20000);
        QTest::qWait(300);
        QCOMPARE(scatter->pointCount(), int64_t(1000));
        QCOMPARE(panel.scatter()->pointCount(), int64_t(1000));
    }

    void progressIsShownFromATimer() {
        shell::PipelineController controller;
        shell::StatusProgress progress_widget(&controller);
        auto* progress = &progress_widget;
        progress->show();
        QVERIFY(QTest::qWaitForWindowExposed(progress));
        auto* label = progress->findChild<QLabel*>();
        QVERIFY(label);
        emit controller.progress(0.25, QStringLiteral("first report"));
        QVERIFY(label->text() != QStringLiteral("first report"));  // not in the same turn
        QTRY_COMPARE(label->text(), QStringLiteral("first report"));
        QCOMPARE(progress->bar()->value(), 250);
        // Reports in quick succession: the latest is shown, a few times a second at most.
        int changes = 0;
        QString seen = label->text();
        QElapsedTimer clock;
        clock.start();
        for (int i = 1; i <= 40; ++i) {
            emit controller.progress(0.25 + i / 100.0, QStringLiteral("report %1").arg(i));
            QTest::qWait(10);
            if (label->text() != seen) {
                ++changes;
                seen = label->text();
            }
        }
        QTRY_COMPARE(label->text(), QStringLiteral("report 40"));
        QCOMPARE(progress->bar()->value(), 650);
        QVERIFY(!progress->bar()->isHidden());
        // Unknown progress: no animated bar (it would repaint the window all the time).
        emit controller.progress(-1, QStringLiteral("reading"));
        QTRY_COMPARE(label->text(), QStringLiteral("reading"));
        QVERIFY(progress->bar()->isHidden());
        const double seconds = clock.elapsed() / 1000.0;
        // A new value is painted in a later turn (an update), never inside the report's timer
        // (QProgressBar::setValue alone repaints at once: a whole window composition).
        emit controller.progress(0.5, QStringLiteral("known again"));
        QTRY_VERIFY(!progress->bar()->isHidden());
        bool in_set_value = false;  // from the value's change to the next turn
        int synchronous = 0;
        PaintCounter painted(progress->bar(), [&] { synchronous += in_set_value; });
        connect(progress->bar(), &QProgressBar::valueChanged, this, [&] {
            in_set_value = true;
            QMetaObject::invokeMethod(
                this, [&] { in_set_value = false; }, Qt::QueuedConnection);
        });
        emit controller.progress(0.9, QStringLiteral("later"));
        QTRY_COMPARE(progress->bar()->value(), 900);
        QTRY_VERIFY(painted.count > 0);
        QCOMPARE(synchronous, 0);
        disconnect(progress->bar(), &QProgressBar::valueChanged, this, nullptr);
        QVERIFY2(changes <= 1 + seconds * 1000 / shell::StatusProgress::kMinIntervalMs,
                 qPrintable(QStringLiteral("%1 changes in %2 s").arg(changes).arg(seconds)));
    }

    void liveFramesAreMeasuredWhole() {
        auto window = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));
        auto* embedding = window->embedding();
        const int64_t n = 60000;
        std::mt19937_64 rng(3);
        std::normal_distribution<double> normal(0.0, 3.0);
        auto layout = [&] {
            auto m = std::make_shared<DenseD>(n, 2);
            for (int64_t i = 0; i < n; ++i) {
                (*m)(i, 0) = normal(rng);
                (*m)(i, 1) = normal(rng);
            }
            return std::shared_ptr<const DenseD>(m);
        };
        QCOMPARE(embedding->lastLiveFrameMs(), 0.0);
        for (int epoch = 1; epoch <= 6; ++epoch) {
            embedding->showLiveLayout(layout(), epoch * 10, 200);
            QTest::qWait(150);  // past the minimum interval: every frame is drawn
        }
        QVERIFY(embedding->showingLiveLayout());
        const double whole = embedding->lastLiveFrameMs();
        const double render = window->embeddingView()->lastRenderMs();
        qInfo("live frame of %lld points: whole %.1f ms, paintGL %.1f ms, budget %lld",
              static_cast<long long>(window->embeddingView()->drawnPoints()), whole, render,
              static_cast<long long>(embedding->liveFrameBudget()));
        QVERIFY(whole > 0);
        QVERIFY2(whole >= render, qPrintable(QStringLiteral("%1 < %2").arg(whole).arg(render)));
        QVERIFY(embedding->liveFrameBudget() >= 4000 && embedding->liveFrameBudget() <= 200000);
        QCOMPARE(window->embeddingView()->pointBudget(), embedding->liveFrameBudget());
    }
};

TRANSCURA_GUI_TEST_MAIN(TstMainWindow)
#include "tst_main_window.moc"
