// Sessions: File ▸ Save Session then File ▸ Open Session in a fresh window gives the same view —
// embedding and components, colouring (column, gene or a batch metric after Harmony), camera,
// selection, point size and opacity, hidden categories, QC thresholds — down to the rendered
// pixels; a file that is not a session gives an error dialog and the window keeps working.
#include <QDockWidget>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMessageBox>
#include <QStandardPaths>
#include <QTemporaryDir>

#include <cmath>

#include "batch_controller.hpp"
#include "batch_panel.hpp"
#include "embedding_controller.hpp"
#include "embedding_view.hpp"
#include "error_reporter.hpp"
#include "gui_test_support.hpp"
#include "main_window.hpp"
#include "open_action.hpp"
#include "pipeline_controller.hpp"
#include "qc_panel.hpp"
#include "selection_sync.hpp"
#include "session_action.hpp"
#include "cohort_table.hpp"
#include "curation_controller.hpp"
#include "test_support.hpp"

using namespace transcura;
using shell::MainWindow;
using widgets::BatchMetric;

namespace {

QString pbmc() {
    return test_support::shared_data(
        "h5ad/scanpy_pbmc68k_reduced/10x_pbmc68k_reduced.2025-11.h5ad");
}
QString kang() {
    return test_support::shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad");
}

std::unique_ptr<MainWindow> make_window() {
    auto window = std::make_unique<MainWindow>();
    window->controller()->setRunOnOpen(false);
    window->resize(1280, 800);
    window->show();
    return window;
}

bool idle(MainWindow& window) {
    return !window.controller()->isBusy() && !window.batchController()->isBusy();
}

bool open_and_wait(MainWindow& window, const QString& path) {
    window.openActions()->openPath(path);
    return QTest::qWaitFor([&] { return idle(window); }, 240000);
}

/// Saves through File ▸ Save Session (dialog replaced), restores through File ▸ Open Session
/// in `target`, and waits for the restore.
bool save_and_restore(MainWindow& source, MainWindow& target, const QString& path) {
    source.sessionActions()->setFileChooser([path](bool) { return path; });
    QSignalSpy saved(source.sessionActions(), &shell::SessionAction::saved);
    source.sessionActions()->saveAction()->trigger();
    if (saved.count() != 1) return false;
    QSignalSpy restored(target.sessionActions(), &shell::SessionAction::restored);
    target.sessionActions()->setFileChooser([path](bool) { return path; });
    target.sessionActions()->openAction()->trigger();
    return QTest::qWaitFor([&] { return restored.count() == 1 && idle(target); }, 240000);
}

void compare_cameras(const widgets::CameraState& a, const widgets::CameraState& b) {
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(a.focal[size_t(i)], b.focal[size_t(i)]);
        QCOMPARE(a.position[size_t(i)], b.position[size_t(i)]);
        QCOMPARE(a.view_up[size_t(i)], b.view_up[size_t(i)]);
    }
    QCOMPARE(a.parallel_scale, b.parallel_scale);
}

/// Share of pixels that differ between two frames of the same size.
double differing_share(const QImage& a, const QImage& b) {
    if (a.size() != b.size() || a.isNull()) return 1.0;
    const QImage x = a.convertToFormat(QImage::Format_RGB32);
    const QImage y = b.convertToFormat(QImage::Format_RGB32);
    int64_t differ = 0;
    for (int row = 0; row < x.height(); ++row) {
        const QRgb* p = reinterpret_cast<const QRgb*>(x.constScanLine(row));
        const QRgb* q = reinterpret_cast<const QRgb*>(y.constScanLine(row));
        for (int col = 0; col < x.width(); ++col) differ += p[col] != q[col];
    }
    return double(differ) / (double(x.width()) * x.height());
}

}  // namespace

class TstSession : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName(QStringLiteral("TranscuraTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_session"));
        QSettings().clear();
    }

    void restoresTheSameView() {
        auto source = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(source.get()));
        QVERIFY(open_and_wait(*source, pbmc()));
        auto* view = source->embeddingView();
        // PCs 2 and 3 of X_pca, coloured by a gene, zoomed and panned, with a selection.
        QVERIFY(source->embedding()->showEmbedding(QStringLiteral("X_pca"), 1, 2));
        source->embedding()->colorByColumn(QStringLiteral("louvain"));
        view->setCategoryHidden(2, true);
        source->embedding()->setPointSize(5.5);
        source->embedding()->setOpacity(0.6);
        widgets::CameraState camera = view->cameraState();
        camera.parallel_scale *= 0.6;
        camera.focal[0] += 0.7;
        camera.position[0] += 0.7;
        view->setCameraState(camera);
        source->selection()->select({4, 8, 15, 16, 23, 42, 108, 511});
        source->qcPanel()->setThreshold(QStringLiteral("n_genes"), 500, NAN);
        view->setMode(widgets::EmbeddingView::Mode::Lasso);

        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("pbmc.transcura.json"));
        auto target = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(target.get()));
        QVERIFY(save_and_restore(*source, *target, path));

        // The file is readable JSON naming the cohort.
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject json = QJsonDocument::fromJson(file.readAll()).object();
        QCOMPARE(json.value("format").toString(), QStringLiteral("transcura-session"));
        QCOMPARE(json.value("cohort").toObject().value("path").toString(),
                 QFileInfo(pbmc()).absoluteFilePath());

        auto* restored = target->embeddingView();
        QCOMPARE(target->controller()->cohort()->n_obs(), int64_t(700));
        QCOMPARE(target->embedding()->embeddingKey(), QStringLiteral("X_pca"));
        QCOMPARE(target->embedding()->xComponent(), 1);
        QCOMPARE(target->embedding()->yComponent(), 2);
        QCOMPARE(target->embedding()->colorColumn(), QStringLiteral("louvain"));
        QCOMPARE(restored->colorTitle(), view->colorTitle());
        QVERIFY(restored->hiddenCategories() == view->hiddenCategories());
        QCOMPARE(restored->pointSize(), 5.5);
        QCOMPARE(restored->opacity(), 0.6);
        compare_cameras(restored->cameraState(), view->cameraState());
        QVERIFY(restored->selection() == view->selection());
        QVERIFY(target->selection()->selection() == source->selection()->selection());
        QCOMPARE(target->selection()->summary(), source->selection()->summary());
        QCOMPARE(restored->mode(), widgets::EmbeddingView::Mode::Lasso);
        QCOMPARE(target->qcPanel()->thresholds().at(QStringLiteral("n_genes")).lower, 500.0);
        for (int64_t i = 0; i < 700; ++i) QCOMPARE(restored->pointColor(i), view->pointColor(i));
        // Same pixels: both windows are 1280x800 and show the same thing.
        const QImage a = view->grabFramebuffer(), b = restored->grabFramebuffer();
        const double differ = differing_share(a, b);
        qInfo("restored view: %.4f%% of %dx%d pixels differ", 100 * differ, a.width(), a.height());
        QVERIFY2(differ < 0.001, qPrintable(QString::number(differ)));
        gui_test::save_screenshot(source.get(), QStringLiteral("session_saved_window"));
        gui_test::save_screenshot(target.get(), QStringLiteral("session_restored_window"));

        // A gene colouring round-trips too.
        QVERIFY(source->embedding()->colorByGene(QStringLiteral("CD79A")));
        auto third = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(third.get()));
        QVERIFY(save_and_restore(*source, *third, path));
        QCOMPARE(third->embedding()->colorGene(), QStringLiteral("CD79A"));
        QCOMPARE(third->embeddingView()->colorTitle(), view->colorTitle());
        QVERIFY(third->embeddingView()->selection() == view->selection());
    }

    void restoresABatchMetricOnTheCorrectedEmbedding() {
        auto source = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(source.get()));
        QVERIFY(open_and_wait(*source, kang()));
        QVERIFY(source->batchController()->analysis());  // ran on open
        source->batchPanel()->setShowCorrected(true);
        source->batchPanel()->activateMetric(BatchMetric::Kbet, true);
        QCOMPARE(source->embedding()->embeddingKey(), shell::BatchController::correctedKey());
        source->selection()->select({1, 2, 3, 1500});
        widgets::CameraState camera = source->embeddingView()->cameraState();
        camera.parallel_scale *= 0.8;
        source->embeddingView()->setCameraState(camera);

        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("kang.transcura.json"));
        auto target = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(target.get()));
        QVERIFY(save_and_restore(*source, *target, path));
        auto* a = source->embeddingView();
        auto* b = target->embeddingView();
        QCOMPARE(target->batchPanel()->batchKey(), QStringLiteral("stim"));
        QCOMPARE(target->embedding()->embeddingKey(), shell::BatchController::correctedKey());
        QVERIFY(target->batchPanel()->showCorrected());
        QCOMPARE(b->colorTitle(), a->colorTitle());
        QCOMPARE(b->pointCount(), a->pointCount());
        QVERIFY(b->coordinates() == a->coordinates());
        for (int64_t i = 0; i < a->pointCount(); ++i) QCOMPARE(b->pointColor(i), a->pointColor(i));
        compare_cameras(b->cameraState(), a->cameraState());
        QVERIFY(b->selection() == a->selection());
        gui_test::save_screenshot(target.get(), QStringLiteral("session_kang_restored_window"));
    }

    void restoresTheHarmonyUmap() {
        auto source = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(source.get()));
        QVERIFY(open_and_wait(*source, kang()));
        QVERIFY(source->batchController()->analysis());  // ran on open, with its Harmony UMAP
        QVERIFY(source->embedding()->showEmbedding(shell::BatchController::correctedUmapKey()));
        source->embedding()->colorByColumn(QStringLiteral("stim"));

        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("kang_umap.transcura.json"));
        auto target = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(target.get()));
        QVERIFY(save_and_restore(*source, *target, path));
        auto* a = source->embeddingView();
        auto* b = target->embeddingView();
        QCOMPARE(target->embedding()->embeddingKey(), shell::BatchController::correctedUmapKey());
        QCOMPARE(b->pointCount(), a->pointCount());
        QVERIFY(b->coordinates() == a->coordinates());
        QCOMPARE(b->colorTitle(), a->colorTitle());
        compare_cameras(b->cameraState(), a->cameraState());
    }

    void restoresOnceAStagedHandOffIsDone() {
        // A large cohort reaches the docks over several event-loop turns (forced here for a
        // small one): the view is applied when every dock shows it, not at cohortChanged.
        auto source = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(source.get()));
        QVERIFY(open_and_wait(*source, pbmc()));
        source->embedding()->colorByColumn(QStringLiteral("louvain"));
        source->selection()->select({3, 30, 300});
        source->qcPanel()->setMetric(QStringLiteral("n_counts"));
        source->qcPanel()->setThreshold(QStringLiteral("n_genes"), 450, NAN);
        auto target = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(target.get()));
        target->setStagedHandOffAbove(0);
        // What the window had when the restore finished.
        bool handing_off_at_restore = true, docks_ready_at_restore = false;
        QSignalSpy shown(target.get(), &MainWindow::cohortShown);
        connect(target->sessionActions(), &shell::SessionAction::restored, this, [&] {
            handing_off_at_restore = target->isHandingOffCohort();
            const Cohort* cohort = target->controller()->cohort().get();
            docks_ready_at_restore = cohort && target->cohortTable()->model()->cohort() == cohort &&
                                     target->curation()->cohort().get() == cohort;
        });
        QTemporaryDir dir;
        QVERIFY(save_and_restore(*source, *target,
                                 dir.filePath(QStringLiteral("staged.transcura.json"))));
        QVERIFY(!handing_off_at_restore);
        QVERIFY(docks_ready_at_restore);
        QCOMPARE(shown.count(), 1);
        QCOMPARE(target->selection()->selection(), (std::vector<int64_t>{3, 30, 300}));
        QVERIFY(target->embeddingView()->selection() == source->embeddingView()->selection());
        QCOMPARE(target->cohortTable()->model()->rowCount(), 700);
        QVERIFY(target->cohortTable()->model()->isCellHighlighted(30));
        QCOMPARE(target->qcPanel()->metric(), QStringLiteral("n_counts"));
        QCOMPARE(target->qcPanel()->thresholds().at(QStringLiteral("n_genes")).lower, 450.0);
        QCOMPARE(target->qcPanel()->counts().removed, source->qcPanel()->counts().removed);
        QCOMPARE(target->embeddingView()->colorTitle(), source->embeddingView()->colorTitle());
    }

    void badSessionFileGivesAnErrorAndTheWindowKeepsWorking() {
        auto window = make_window();
        QVERIFY(QTest::qWaitForWindowExposed(window.get()));
        QVERIFY(open_and_wait(*window, pbmc()));
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("not_a_session.json"));
        {
            QFile out(path);
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write("{\"hello\": 1}");
        }
        QSignalSpy failed(window->sessionActions(), &shell::SessionAction::restoreFailed);
        QVERIFY(!window->sessionActions()->restore(path));
        QCOMPARE(failed.count(), 1);
        QMessageBox* box = nullptr;
        QTRY_VERIFY((box = window->findChild<QMessageBox*>(
                         QString::fromLatin1(shell::ErrorReporter::kDialogObjectName))) != nullptr);
        QVERIFY2(box->text().contains(QStringLiteral("not_a_session.json")),
                 qPrintable(box->text()));
        QVERIFY(box->informativeText().contains(QStringLiteral("not a Transcura session")));
        box->accept();
        // A session whose cohort file is gone names that file.
        const QString moved = dir.filePath(QStringLiteral("moved.json"));
        {
            QFile out(moved);
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(R"({"format": "transcura-session", "version": 1,
                          "cohort": {"path": "/nonexistent/gone.h5ad"}})");
        }
        QVERIFY(!window->sessionActions()->restore(moved));
        QCOMPARE(failed.count(), 2);
        QVERIFY(window->errors()->lastMessage().contains(QStringLiteral("gone.h5ad")) ||
                failed.last().at(1).toString().contains(QStringLiteral("gone.h5ad")));
        QCOMPARE(window->embeddingView()->pointCount(), int64_t(700));
        QVERIFY(open_and_wait(*window, kang()));
        QCOMPARE(window->embeddingView()->pointCount(), int64_t(2000));
    }

private:
};

TRANSCURA_GUI_TEST_MAIN(TstSession)
#include "tst_session.moc"
