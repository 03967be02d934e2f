// The main window driven like a user: File ▸ Open on real files (through the same action as the
// menu), the pipeline in the background, lasso selection checked against the coordinates, table
// and embedding selections in sync, QC thresholds dragged, a corrupt file giving an error dialog
// while the window keeps working, cancellation keeping the previous cohort, drag and drop, plot
// export, and screenshots of every panel.
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QMessageBox>
#include <QMimeData>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>

#include "cohort_table.hpp"
#include "embedding_controller.hpp"
#include "embedding_view.hpp"
#include "error_reporter.hpp"
#include "export_plot_action.hpp"
#include "gui_test_support.hpp"
#include "main_window.hpp"
#include "open_action.hpp"
#include "pipeline_controller.hpp"
#include "qc_panel.hpp"
#include "run_pipeline_action.hpp"
#include "selection_sync.hpp"
#include "test_support.hpp"
#include "view_actions.hpp"

using namespace transcura;
using shell::MainWindow;

namespace {

QString pbmc() {
    return test_support::shared_data(
        "h5ad/scanpy_pbmc68k_reduced/10x_pbmc68k_reduced.2025-11.h5ad");
}
QString kang() {
    return test_support::shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad");
}

/// Opens `path` through File ▸ Open (the action, with the dialog replaced) and waits.
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

}  // namespace

class TstShell : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("TranscuraTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_shell"));
        QSettings().clear();
    }

    void init() {
        window_ = std::make_unique<MainWindow>();
        window_->controller()->setRunOnOpen(false);
        window_->resize(1280, 800);
        window_->show();
        QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    }
    void cleanup() { window_.reset(); }

    void opensARealFileAndShowsOnePointPerCell() {
        QSignalSpy changed(window_->controller(), &shell::PipelineController::cohortChanged);
        QVERIFY(open_through_menu(*window_, pbmc()));
        QCOMPARE(changed.count(), 1);
        auto cohort = window_->controller()->cohort();
        QVERIFY(cohort);
        QCOMPARE(cohort->n_obs(), int64_t(700));
        QCOMPARE(window_->embeddingView()->pointCount(), cohort->n_obs());
        QCOMPARE(window_->embedding()->embeddingKey(), QStringLiteral("X_umap"));
        QCOMPARE(window_->embedding()->colorColumn(), QStringLiteral("louvain"));
        QCOMPARE(window_->cohortTable()->model()->rowCount(), 700);
        QVERIFY(
            window_->openActions()->recentFiles().contains(QFileInfo(pbmc()).absoluteFilePath()));
        QVERIFY(window_->windowTitle().contains(QStringLiteral("10x_pbmc68k_reduced")));
        // Colour by a gene typed in the toolbar (raw has it).
        QVERIFY(window_->embedding()->colorByGene(QStringLiteral("CD79A")));
        QVERIFY(window_->embeddingView()->colorTitle().contains(QStringLiteral("CD79A")));
        gui_test::save_screenshot(window_.get(), QStringLiteral("shell_pbmc_window"));
        window_->embedding()->colorByColumn(QStringLiteral("louvain"));
        gui_test::save_screenshot(window_->embeddingView(), QStringLiteral("shell_pbmc_embedding"));
        gui_test::save_screenshot(window_->cohortTable(), QStringLiteral("shell_pbmc_table"));
    }

    void opensEveryFormat() {
        struct Case {
            const char* path;
            int64_t cells;
        };
        const Case cases[] = {
            {"multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.loom", 2000},
            {"multibatch/kang2018_ifnb_2000/ctrl/filtered_feature_bc_matrix.h5", 1000},
            {"multibatch/kang2018_ifnb_2000/stim/filtered_feature_bc_matrix", 1000},
            {"10x/scanpy_cellranger_3.0.0/filtered_feature_bc_matrix/matrix.mtx.gz", 1107},
            {"bulk/batchqc_gse147507/counts.csv", 61},
            {"h5ad/anndata_archives/v0.5.0/adata.h5ad", 700},
            {"h5ad/anndata_archives/v0.11.4/adata.h5ad", 10},
        };
        QSignalSpy failed(window_->controller(), &shell::PipelineController::failed);
        for (const Case& c : cases) {
            QVERIFY(open_through_menu(*window_, test_support::shared_data(c.path)));
            QVERIFY2(failed.isEmpty(),
                     qPrintable(c.path + QStringLiteral(": ") +
                                (failed.isEmpty() ? QString() : failed.last().at(2).toString())));
            QCOMPARE(window_->controller()->cohort()->n_obs(), c.cells);
            QCOMPARE(window_->cohortTable()->model()->rowCount(), int(c.cells));
            const int64_t points = window_->embeddingView()->pointCount();
            QVERIFY(points == 0 || points == c.cells);
        }
        gui_test::save_screenshot(window_.get(), QStringLiteral("shell_no_embedding_window"));
    }

    void lassoSelectsTheCellsInsideAndSyncsTheTable() {
        QVERIFY(open_through_menu(*window_, pbmc()));
        auto* view = window_->embeddingView();
        window_->viewActions()->lasso()->trigger();
        QCOMPARE(view->mode(), widgets::EmbeddingView::Mode::Lasso);
        const QPolygonF polygon{{180, 120}, {460, 100}, {520, 330},
                                {300, 420}, {160, 300}, {180, 120}};
        lasso(view, polygon);
        // Independent check against the cohort's own coordinates.
        const DenseD& umap = window_->controller()->cohort()->obsm.at("X_umap");
        QPolygonF in_data;
        for (QPointF p : polygon) in_data << view->widgetToData(p);
        std::vector<int64_t> expected;
        for (int64_t i = 0; i < umap.n_rows; ++i)
            if (gui_test::inside_polygon(umap(i, 0), umap(i, 1), in_data)) expected.push_back(i);
        QVERIFY2(expected.size() > 20, qPrintable(QString::number(expected.size())));
        QCOMPARE(view->selection().size(), expected.size());
        QVERIFY(view->selection() == expected);
        QVERIFY(window_->selection()->selection() == expected);
        for (int64_t i : expected)
            QVERIFY(window_->cohortTable()->model()->isCellHighlighted(int(i)));
        QVERIFY(window_->selection()->summary().startsWith(QString::number(expected.size())));
        gui_test::save_screenshot(window_.get(), QStringLiteral("shell_lasso_window"));

        // And back: selecting rows in the table selects those cells in the embedding.
        window_->cohortTable()->selectCells({3, 10, 42});
        QVERIFY(view->selection() == (std::vector<int64_t>{3, 10, 42}));
        QCOMPARE(window_->selection()->selection().size(), size_t(3));
    }

    void corruptFileGivesAnErrorDialogAndTheWindowKeepsWorking() {
        QVERIFY(open_through_menu(*window_, pbmc()));
        auto before = window_->controller()->cohort();
        QTemporaryDir dir;
        const QString corrupt = dir.filePath(QStringLiteral("corrupt.h5ad"));
        {
            QFile source(pbmc());
            QVERIFY(source.open(QIODevice::ReadOnly));
            QByteArray bytes = source.read(source.size() / 3);  // HDF5 header, truncated body
            QFile out(corrupt);
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(bytes);
        }
        QSignalSpy reported(window_->errors(), &shell::ErrorReporter::reported);
        QVERIFY(open_through_menu(*window_, corrupt));
        QTRY_COMPARE(reported.count(), 1);
        QMessageBox* box = nullptr;
        QTRY_VERIFY((box = window_->findChild<QMessageBox*>(
                         QString::fromLatin1(shell::ErrorReporter::kDialogObjectName))) != nullptr);
        QVERIFY(box->isVisible());
        QVERIFY2(box->text().contains(QStringLiteral("corrupt.h5ad")), qPrintable(box->text()));
        QVERIFY(!box->informativeText().isEmpty());
        qInfo().noquote() << "error dialog:" << box->text() << "|" << box->informativeText();
        gui_test::save_screenshot(box, QStringLiteral("shell_error_dialog"));
        box->accept();
        // The previous cohort is still there and the window still works.
        QCOMPARE(window_->controller()->cohort(), before);
        QCOMPARE(window_->embeddingView()->pointCount(), int64_t(700));
        const QString missing = dir.filePath(QStringLiteral("does_not_exist.h5ad"));
        QVERIFY(open_through_menu(*window_, missing));
        QTRY_COMPARE(reported.count(), 2);
        QVERIFY(window_->errors()->lastMessage().contains(QStringLiteral("does_not_exist.h5ad")));
        QVERIFY(open_through_menu(*window_, kang()));
        QCOMPARE(window_->embeddingView()->pointCount(), int64_t(2000));
    }

    void cancellingKeepsThePreviousCohort() {
        QVERIFY(open_through_menu(*window_, pbmc()));
        auto before = window_->controller()->cohort();
        QSignalSpy cancelled(window_->controller(), &shell::PipelineController::cancelled);
        window_->controller()->setRunOnOpen(true);
        window_->openActions()->openPath(kang());
        QVERIFY(window_->controller()->isBusy());
        window_->pipelineActions()->cancelAction()->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(!window_->controller()->isBusy(), 120000);
        QCOMPARE(cancelled.count(), 1);
        QCOMPARE(window_->controller()->cohort(), before);
        QCOMPARE(window_->embeddingView()->pointCount(), int64_t(700));
        QCOMPARE(window_->cohortTable()->model()->rowCount(), 700);
    }

    void runsThePipelineWithoutFreezingAndDragsQcThresholds() {
        window_->controller()->setRunOnOpen(true);
        PipelineOptions options;
        options.batch_key = "stim";
        window_->controller()->setParameters(options);
        // Measure the longest time the GUI thread does not come back to its event loop.
        QElapsedTimer clock;
        qint64 last = 0, worst = 0;
        QTimer ticker;
        ticker.setInterval(5);
        connect(&ticker, &QTimer::timeout, this, [&] {
            const qint64 now = clock.elapsed();
            if (window_->controller()->isBusy()) worst = std::max(worst, now - last);
            last = now;
        });
        clock.start();
        ticker.start();
        QVERIFY(open_through_menu(*window_, kang()));
        ticker.stop();
        qInfo("pipeline on kang (2000 cells): longest GUI-thread stall while busy %lld ms", worst);
        QVERIFY2(worst < 400, qPrintable(QString::number(worst)));
        auto cohort = window_->controller()->cohort();
        QVERIFY(cohort && cohort->obs.contains("total_counts"));
        QCOMPARE(window_->embeddingView()->pointCount(), cohort->n_obs());
        QCOMPARE(window_->qcPanel()->batchKey(), QStringLiteral("stim"));

        // Drag a lower threshold on total counts and check the removed counts.
        auto* qc = window_->qcPanel();
        qc->setMetric(QStringLiteral("total_counts"));
        auto* plot = qc->distribution();
        const QRect area = plot->rect();
        const QPoint place(area.left() + area.width() * 35 / 100, area.center().y());
        QTest::mouseDClick(plot, Qt::LeftButton, {}, place);
        QVERIFY(!std::isnan(plot->lower()));
        const QPoint grab(int(plot->thresholdPixel(false)), area.center().y());
        QTest::mousePress(plot, Qt::LeftButton, {}, grab);
        QTest::mouseMove(plot, grab + QPoint(25, 0));
        QTest::mouseRelease(plot, Qt::LeftButton, {}, grab + QPoint(40, 0));
        const double lower = plot->lower();
        QVERIFY(lower > 0);
        const Column* totals = cohort->obs.find("total_counts");
        const Column* stim = cohort->obs.find("stim");
        int64_t removed = 0, removed_ctrl = 0;
        for (size_t i = 0; i < totals->size(); ++i)
            if (totals->number(i) < lower) {
                ++removed;
                if (stim->text(i) == "CTRL") ++removed_ctrl;
            }
        QCOMPARE(qc->counts().removed, removed);
        QVERIFY(removed > 0);
        QCOMPARE(qc->counts().group_removed.size(), size_t(2));
        QCOMPARE(qc->counts().group_removed[0] + qc->counts().group_removed[1], removed);
        QVERIFY(qc->summaryText().contains(QLocale().toString(qlonglong(removed))));
        qInfo().noquote() << "QC summary:" << qc->summaryText();
        gui_test::save_screenshot(window_.get(), QStringLiteral("shell_kang_pipeline_window"));
        gui_test::save_screenshot(qc, QStringLiteral("shell_qc_panel"));
        qc->distribution()->setStyle(widgets::QcDistributionPlot::Style::Violin);
        gui_test::save_screenshot(qc, QStringLiteral("shell_qc_panel_violins"));
        Q_UNUSED(removed_ctrl);
    }

    void showsALiveLayoutAndComesBack() {
        QVERIFY(open_through_menu(*window_, pbmc()));
        auto* view = window_->embeddingView();
        const DenseD& umap = window_->controller()->cohort()->obsm.at("X_umap");
        // A layout of another size (cells dropped by QC) replaces the points...
        auto layout = std::make_shared<DenseD>(500, 2);
        for (int64_t i = 0; i < 500; ++i) {
            (*layout)(i, 0) = std::cos(i * 0.1) * i;
            (*layout)(i, 1) = std::sin(i * 0.1) * i;
        }
        window_->embedding()->showLiveLayout(layout, 10, 200);
        QCOMPARE(view->pointCount(), int64_t(500));
        QVERIFY(window_->embedding()->showingLiveLayout());
        // ... and later epochs move them in place.
        auto next = std::make_shared<DenseD>(*layout);
        for (double& v : next->values) v *= 0.5;
        window_->embedding()->showLiveLayout(next, 50, 200);
        // Live frames come at most every ~100 ms: this one may be shown a moment later.
        QTRY_COMPARE(view->coordinates()[3 * 7], float((*next)(7, 0)));
        QVERIFY(!view->grabFramebuffer().isNull());
        // A cancelled run goes back to the cohort's own embedding.
        emit window_->controller()->cancelled();
        QCOMPARE(view->pointCount(), int64_t(700));
        QCOMPARE(view->coordinates()[3 * 5], float(umap(5, 0)));
        QCOMPARE(window_->embedding()->colorColumn(), QStringLiteral("louvain"));
    }

    void readsAGeneInTheBackgroundOnLargeMatrices() {
        QVERIFY(open_through_menu(*window_, pbmc()));
        auto* embedding = window_->embedding();
        auto* view = window_->embeddingView();
        // The synchronous path's colours are the reference.
        QVERIFY(embedding->colorByGene(QStringLiteral("CD79A")));
        QVERIFY(!embedding->geneColorPending());
        std::vector<QColor> expected;
        for (int64_t i = 0; i < view->pointCount(); ++i) expected.push_back(view->pointColor(i));
        embedding->colorByColumn(QStringLiteral("louvain"));
        embedding->setBackgroundGeneThreshold(0);  // every matrix counts as large
        QSignalSpy colored(embedding, &shell::EmbeddingController::geneColored);
        QVERIFY(embedding->colorByGene(QStringLiteral("CD79A")));
        QCOMPARE(embedding->colorGene(), QStringLiteral("CD79A"));
        QTRY_COMPARE(colored.count(), 1);
        QVERIFY(!embedding->geneColorPending());
        QVERIFY(view->colorTitle().contains(QStringLiteral("CD79A")));
        for (int64_t i = 0; i < view->pointCount(); ++i)
            QCOMPARE(view->pointColor(i), expected[static_cast<size_t>(i)]);
        QVERIFY(!embedding->colorByGene(QStringLiteral("NO_SUCH_GENE")));
        // A column chosen while the gene is read wins: the late gene colours are dropped.
        QVERIFY(embedding->colorByGene(QStringLiteral("CD79A")));
        embedding->colorByColumn(QStringLiteral("louvain"));
        QTest::qWait(300);
        QCOMPARE(colored.count(), 1);
        QCOMPARE(view->colorTitle(), QStringLiteral("louvain"));
    }

    void drawsALiveLayoutWithinItsPointBudget() {
        QVERIFY(open_through_menu(*window_, pbmc()));
        auto* view = window_->embeddingView();
        auto layout = std::make_shared<DenseD>(600, 2);
        for (int64_t i = 0; i < 600; ++i) {
            (*layout)(i, 0) = std::cos(i * 0.1) * i;
            (*layout)(i, 1) = std::sin(i * 0.1) * i;
        }
        window_->embedding()->showLiveLayout(layout, 10, 200);
        view->setPointBudget(100);  // as the controller does when frames render slowly
        QVERIFY(!view->grabFramebuffer().isNull());
        QVERIFY(view->drawnPoints() > 0 && view->drawnPoints() <= 100);
        // The final layout (the cohort) is drawn in full.
        emit window_->controller()->cancelled();
        QCOMPARE(view->pointBudget(), int64_t(0));
        QVERIFY(!view->grabFramebuffer().isNull());
        QCOMPARE(view->drawnPoints(), int64_t(700));
    }

    void dropsAFileOnTheWindow() {
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(pbmc())});
        QDragEnterEvent enter(QPoint(100, 100), Qt::CopyAction, &mime, Qt::LeftButton, {});
        QCoreApplication::sendEvent(window_.get(), &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(100, 100), Qt::CopyAction, &mime, Qt::LeftButton, {});
        QCoreApplication::sendEvent(window_.get(), &drop);
        QTRY_VERIFY_WITH_TIMEOUT(!window_->controller()->isBusy(), 60000);
        QCOMPARE(window_->embeddingView()->pointCount(), int64_t(700));
    }

    void exportsEveryPlot() {
        QVERIFY(open_through_menu(*window_, kang()));
        QTemporaryDir dir;
        QStringList written;
        connect(window_->exportActions(), &shell::ExportPlotAction::exported, this,
                [&](const QString& path) { written << path; });
        int k = 0;
        for (QAction* action : window_->exportActions()->actions()) {
            const char* ext[] = {"png", "svg", "pdf"};
            QString path = dir.filePath(QStringLiteral("plot%1.%2").arg(k).arg(ext[k % 3]));
            window_->exportActions()->setFileChooser([path](const QString&) { return path; });
            action->trigger();
            QVERIFY(QFileInfo(path).size() > 500);
            ++k;
        }
        // The embedding, the two QC plots and the batch panel's bars and heatmap.
        QCOMPARE(written.size(), 5);
    }

private:
    std::unique_ptr<MainWindow> window_;
};

TRANSCURA_GUI_TEST_MAIN(TstShell)
#include "tst_shell.moc"
