// The embedding view on synthetic point clouds: rendering where the camera says, lasso and box
// selection driven by mouse events and checked against an independent point-in-polygon, hover
// picking, hidden categories, live position updates, export, and timings at 1M points.
#include <cmath>
#include <random>

#include <QElapsedTimer>
#include <QFileInfo>
#include <QTemporaryDir>

#include "embedding_overlays.hpp"
#include "embedding_view.hpp"
#include "gui_test_support.hpp"
#include "plot_export.hpp"

using transcura::widgets::EmbeddingView;

namespace {

struct Blobs {
    std::vector<float> xy;
    std::vector<int32_t> labels;
};

Blobs make_blobs(int64_t n, int k, uint32_t seed = 7) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> noise(0.0f, 1.0f);
    Blobs b;
    b.xy.resize(static_cast<size_t>(2 * n));
    b.labels.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        int c = static_cast<int>(i % k);
        double angle = 2 * M_PI * c / k;
        b.xy[2 * i] = static_cast<float>(10 * std::cos(angle) + 1.6 * noise(rng));
        b.xy[2 * i + 1] = static_cast<float>(6 * std::sin(angle) + 1.6 * noise(rng));
        b.labels[i] = c;
    }
    return b;
}

QStringList names(int k) {
    QStringList out;
    for (int c = 0; c < k; ++c) out << QStringLiteral("type %1").arg(c + 1);
    return out;
}

void drag_lasso(QWidget* w, const QPolygonF& polygon, Qt::KeyboardModifiers mods = {}) {
    QTest::mousePress(w, Qt::LeftButton, mods, polygon.first().toPoint());
    for (qsizetype i = 1; i < polygon.size(); ++i) {
        // intermediate points along each edge, as a real drag delivers them
        QPointF a = polygon[i - 1], b = polygon[i];
        for (int s = 1; s <= 4; ++s) QTest::mouseMove(w, (a + (b - a) * (s / 4.0)).toPoint());
    }
    QTest::mouseRelease(w, Qt::LeftButton, mods, polygon.last().toPoint());
}

/// The lasso the view actually received: the integer mouse positions it was sent.
QPolygonF delivered(const QPolygonF& polygon) {
    QPolygonF out{polygon.first().toPoint()};
    for (qsizetype i = 1; i < polygon.size(); ++i) {
        QPointF a = polygon[i - 1], b = polygon[i];
        for (int s = 1; s <= 4; ++s) {
            QPointF p = QPointF((a + (b - a) * (s / 4.0)).toPoint());
            if (QLineF(out.last(), p).length() >= 2.0) out << p;
        }
    }
    return out;
}

}  // namespace

class TstEmbedding : public QObject {
    Q_OBJECT

private slots:
    void init() {
        view_ = std::make_unique<EmbeddingView>();
        view_->resize(900, 640);
        view_->show();
        QVERIFY(QTest::qWaitForWindowExposed(view_.get()));
    }
    void cleanup() { view_.reset(); }

    void rendersWhereTheCameraSays() {
        // Four points at the corners of a square and one in the middle, large and red.
        view_->setPoints(std::vector<float>{0, 0, 10, 0, 0, 10, 10, 10, 5, 5}, 2);
        view_->setUniformColor(QColor(220, 0, 0));
        view_->setPointSize(9);
        view_->resetView();
        QImage image = view_->grabFramebuffer();
        QVERIFY(!image.isNull());
        const double ratio = image.width() / double(view_->width());
        for (auto [x, y] : {std::pair{0.0, 0.0}, {10.0, 10.0}, {5.0, 5.0}, {10.0, 0.0}}) {
            QPointF p = view_->dataToWidget(x, y) * ratio;
            QColor c = image.pixelColor(p.toPoint());
            QVERIFY2(
                c.red() > 180 && c.green() < 80,
                qPrintable(
                    QStringLiteral("no red point at (%1,%2): %3").arg(x).arg(y).arg(c.name())));
            QPointF back = view_->widgetToData(view_->dataToWidget(x, y));
            QVERIFY(std::abs(back.x() - x) < 1e-4 && std::abs(back.y() - y) < 1e-4);
        }
        // Nothing drawn away from the points.
        QColor empty = image.pixelColor((view_->dataToWidget(2.5, 7.5) * ratio).toPoint());
        QCOMPARE(empty, QColor(Qt::white));
    }

    void aSelectionOfAnotherCohortKeepsOnlyThisOnesPoints() {
        // A dock still on the previous, larger cohort may pass indices past these points.
        view_->setPoints(std::vector<float>{0, 0, 10, 0, 0, 10, 10, 10, 5, 5}, 2);
        view_->setUniformColor(QColor(220, 0, 0));
        view_->resetView();
        view_->setSelection({-1, 1, 4, 5, 900000});
        QCOMPARE(view_->selection(), (std::vector<int64_t>{1, 4}));
        QImage image = view_->grabFramebuffer();  // draws the selected layer
        QVERIFY(!image.isNull());
    }

    void survivesMovingToAnotherWindow() {
        // Reparenting to another top level replaces the GL context (as undocking would).
        view_->setPoints(std::vector<float>{0, 0, 1, 1}, 2);
        view_->setUniformColor(QColor(0, 0, 220));
        view_->setPointSize(12);
        QVERIFY(!view_->grabFramebuffer().isNull());
        QWidget other;
        other.resize(500, 400);
        view_->setParent(&other);
        view_->setGeometry(0, 0, 500, 400);
        other.show();
        QVERIFY(QTest::qWaitForWindowExposed(&other));
        QImage image = view_->grabFramebuffer();
        QVERIFY(!image.isNull());
        const double ratio = image.width() / double(view_->width());
        QColor c = image.pixelColor((view_->dataToWidget(1, 1) * ratio).toPoint());
        QVERIFY2(c.blue() > 180 && c.red() < 80, qPrintable(c.name()));
        view_->setParent(nullptr);
    }

    void lassoSelectsExactlyThePointsInside() {
        Blobs b = make_blobs(20000, 6);
        view_->setPoints(b.xy, 2);
        view_->setCategorical(QStringLiteral("cell type"), b.labels, names(6));
        view_->setMode(EmbeddingView::Mode::Lasso);
        QSignalSpy spy(view_.get(), &EmbeddingView::selectionMade);
        const QPolygonF lasso{{300, 150}, {620, 180}, {700, 420},
                              {450, 520}, {280, 380}, {300, 150}};
        drag_lasso(view_.get(), lasso);
        QCOMPARE(spy.count(), 1);

        // Independent check: the delivered mouse path mapped to data coordinates.
        QPolygonF in_data;
        for (QPointF p : delivered(lasso)) in_data << view_->widgetToData(p);
        std::vector<int64_t> expected;
        for (int64_t i = 0; i < 20000; ++i)
            if (gui_test::inside_polygon(b.xy[2 * i], b.xy[2 * i + 1], in_data))
                expected.push_back(i);
        QVERIFY(expected.size() > 100);
        QCOMPARE(view_->selection().size(), expected.size());
        QVERIFY(view_->selection() == expected);
        gui_test::save_screenshot(view_.get(), QStringLiteral("embedding_lasso"));

        // Shift adds a box; Ctrl removes it again.
        view_->setMode(EmbeddingView::Mode::Box);
        const std::vector<int64_t> before = view_->selection();
        QTest::mousePress(view_.get(), Qt::LeftButton, Qt::ShiftModifier, QPoint(100, 100));
        QTest::mouseMove(view_.get(), QPoint(200, 200));
        QTest::mouseRelease(view_.get(), Qt::LeftButton, Qt::ShiftModifier, QPoint(250, 260));
        QRectF box(view_->widgetToData(QPointF(100, 100)), view_->widgetToData(QPointF(250, 260)));
        box = box.normalized();
        std::vector<int64_t> in_box;
        for (int64_t i = 0; i < 20000; ++i)
            if (box.contains(b.xy[2 * i], b.xy[2 * i + 1])) in_box.push_back(i);
        std::vector<int64_t> united;
        std::set_union(before.begin(), before.end(), in_box.begin(), in_box.end(),
                       std::back_inserter(united));
        QVERIFY(!in_box.empty());
        QVERIFY(view_->selection() == united);
        QTest::mousePress(view_.get(), Qt::LeftButton, Qt::ControlModifier, QPoint(100, 100));
        QTest::mouseMove(view_.get(), QPoint(200, 200));
        QTest::mouseRelease(view_.get(), Qt::LeftButton, Qt::ControlModifier, QPoint(250, 260));
        std::vector<int64_t> after;
        std::set_difference(united.begin(), united.end(), in_box.begin(), in_box.end(),
                            std::back_inserter(after));
        QVERIFY(view_->selection() == after);
        // Escape clears.
        QTest::keyClick(view_.get(), Qt::Key_Escape);
        QVERIFY(view_->selection().empty());
    }

    void hiddenCategoriesAreNotSelectedOrPicked() {
        Blobs b = make_blobs(6000, 3);
        view_->setPoints(b.xy, 2);
        view_->setCategorical(QStringLiteral("cell type"), b.labels, names(3));
        view_->setCategoryHidden(1, true);
        QVERIFY(view_->pointColor(0).isValid());
        std::vector<int64_t> all = view_->pointsInWidgetPolygon(
            QPolygonF(QRectF(-10, -10, view_->width() + 20, view_->height() + 20)));
        QCOMPARE(static_cast<int64_t>(all.size()), int64_t(4000));
        for (int64_t i : all) QVERIFY(b.labels[i] != 1);
        // Picking returns only visible points.
        for (int64_t i = 0; i < 60; ++i) {
            int64_t hit = view_->pointAt(view_->dataToWidget(b.xy[2 * i], b.xy[2 * i + 1]));
            QVERIFY(hit >= 0 ? b.labels[hit] != 1 : b.labels[i] == 1);
        }
        gui_test::save_screenshot(view_.get(), QStringLiteral("embedding_hidden_category"));
    }

    void fittedPointsStayClearOfTheLegend() {
        // The automatic fit leaves the legend's strip free, also when the colouring (and so
        // the legend) comes after the fit; once the user moves the camera it stays put.
        Blobs b = make_blobs(3000, 6);
        view_->setPoints(b.xy, 2);
        QTest::qWait(50);
        view_->setCategorical(QStringLiteral("a long legend title"), b.labels, names(6));
        QWidget* legend = view_->findChild<transcura::widgets::LegendOverlay*>();
        QVERIFY(legend && legend->isVisible());
        const double left_of_legend = legend->geometry().left();
        for (int64_t i = 0; i < 3000; ++i) {
            const QPointF p = view_->dataToWidget(b.xy[2 * i], b.xy[2 * i + 1]);
            QVERIFY2(
                p.x() < left_of_legend,
                qPrintable(
                    QString("%1 at x %2, legend from %3").arg(i).arg(p.x()).arg(left_of_legend)));
            QVERIFY(p.x() > 0 && p.y() > 0 && p.y() < view_->height());
        }
        // A camera the user set is kept when the colouring changes.
        transcura::widgets::CameraState camera = view_->cameraState();
        camera.parallel_scale *= 0.5;
        view_->setCameraState(camera);
        std::vector<float> values(3000);
        for (int64_t i = 0; i < 3000; ++i) values[i] = b.xy[2 * i];
        view_->setContinuous(QStringLiteral("x"), values);
        QCOMPARE(view_->cameraState().parallel_scale, camera.parallel_scale);
    }

    void hoverPicksTheNearestPoint() {
        view_->setPoints(std::vector<float>{0, 0, 1, 0, 0, 1, 1, 1, 0.5f, 0.5f}, 2);
        for (int64_t i = 0; i < 5; ++i) {
            QPointF p = view_->dataToWidget(i == 4 ? 0.5 : (i % 2), i == 4 ? 0.5 : (i / 2));
            QCOMPARE(view_->pointAt(p + QPointF(1, -1)), i);
        }
        QCOMPARE(view_->pointAt(view_->dataToWidget(0.25, 0.75)), int64_t(-1));
        QString shown;
        view_->setTooltipProvider(
            [&](int64_t i) { return shown = QStringLiteral("cell %1").arg(i); });
        QTest::mouseMove(view_.get(), view_->dataToWidget(1, 1).toPoint());
        QTRY_COMPARE(shown, QStringLiteral("cell 3"));
    }

    void continuousColoursAndLiveUpdates() {
        Blobs b = make_blobs(30000, 5);
        view_->setPoints(b.xy, 2);
        std::vector<float> values(30000);
        for (size_t i = 0; i < values.size(); ++i) values[i] = b.xy[2 * i] + b.xy[2 * i + 1];
        values[3] = NAN;
        view_->setContinuous(QStringLiteral("x + y"), values);
        QCOMPARE(view_->pointColor(3), QColor(200, 200, 200));
        gui_test::save_screenshot(view_.get(), QStringLiteral("embedding_continuous"));
        // Positions move in place: same count, same colours, camera kept.
        auto camera = view_->cameraState();
        std::vector<float> moved = b.xy;
        for (float& v : moved) v *= 0.5f;
        QColor before = view_->pointColor(10);
        view_->updatePositions(moved.data(), 30000, 2);
        QCOMPARE(view_->pointCount(), int64_t(30000));
        QCOMPARE(view_->pointColor(10), before);
        QCOMPARE(view_->cameraState().parallel_scale, camera.parallel_scale);
        QCOMPARE(view_->coordinates()[3 * 10], moved[2 * 10]);
        QVERIFY(!view_->grabFramebuffer().isNull());
    }

    void threeDimensionsRotateAndSelect() {
        std::mt19937 rng(3);
        std::normal_distribution<float> noise;
        std::vector<float> xyz(3 * 5000);
        for (float& v : xyz) v = noise(rng);
        view_->setPoints(xyz, 3);
        QCOMPARE(view_->dimensions(), 3);
        QTest::mousePress(view_.get(), Qt::LeftButton, {}, QPoint(400, 300));
        QTest::mouseMove(view_.get(), QPoint(460, 330));
        QTest::mouseRelease(view_.get(), Qt::LeftButton, {}, QPoint(460, 330));
        view_->setMode(EmbeddingView::Mode::Lasso);
        const QPolygonF lasso{{350, 250}, {550, 260}, {520, 420}, {340, 400}, {350, 250}};
        drag_lasso(view_.get(), lasso);
        QPolygonF path = delivered(lasso);
        std::vector<int64_t> expected;
        for (int64_t i = 0; i < 5000; ++i) {
            QPointF p = view_->dataToWidget(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]);
            if (gui_test::inside_polygon(p.x(), p.y(), path)) expected.push_back(i);
        }
        QVERIFY(expected.size() > 50);
        QVERIFY(view_->selection() == expected);
        gui_test::save_screenshot(view_.get(), QStringLiteral("embedding_3d"));
    }

    void exportsPngSvgPdf() {
        Blobs b = make_blobs(5000, 4);
        view_->setPoints(b.xy, 2);
        view_->setCategorical(QStringLiteral("cell type"), b.labels, names(4));
        QTemporaryDir dir;
        for (const char* ext : {"png", "svg", "pdf"}) {
            QString path = dir.filePath(QStringLiteral("embedding.") + ext);
            QString error;
            QVERIFY2(transcura::widgets::export_plot(*view_, path, &error), qPrintable(error));
            QVERIFY(QFileInfo(path).size() > 1000);
        }
        QString error;
        QVERIFY(!transcura::widgets::export_plot(*view_, dir.filePath("x.bmpx"), &error));
        QVERIFY(error.contains("x.bmpx"));
    }

    void decimationDrawsNearlyTheSamePicture() {
        Blobs b = make_blobs(300000, 6);
        view_->setPoints(b.xy, 2);
        view_->setCategorical(QStringLiteral("cell type"), b.labels, names(6));
        view_->setDecimationThreshold(int64_t(1) << 40);
        QImage full = view_->grabFramebuffer();
        QCOMPARE(view_->drawnPoints(), int64_t(300000));
        view_->setDecimationThreshold(0);
        QImage decimated = view_->grabFramebuffer();
        const int64_t drawn = view_->drawnPoints();
        // Most of the blobs are dense enough for one point per 3 x 3 tile (point_decimation.hpp):
        // the fine cells alone kept about 81k points here.
        QVERIFY(drawn < 300000 / 4);
        int64_t painted = 0, different = 0;
        for (int y = 0; y < full.height(); ++y)
            for (int x = 0; x < full.width(); ++x) {
                QRgb a = full.pixel(x, y), c = decimated.pixel(x, y);
                if (a != qRgb(255, 255, 255)) ++painted;
                int d = std::abs(qRed(a) - qRed(c)) + std::abs(qGreen(a) - qGreen(c)) +
                        std::abs(qBlue(a) - qBlue(c));
                if (d > 90) ++different;
            }
        qInfo("decimation: %lld of 300000 points drawn; %.2f%% of painted pixels differ",
              static_cast<long long>(drawn), 100.0 * different / painted);
        full.save(QDir(gui_test::screenshot_dir()).filePath("decimation_full.png"));
        decimated.save(QDir(gui_test::screenshot_dir()).filePath("decimation_decimated.png"));
        QVERIFY(different < painted / 40);  // 1.1% with the fine cells alone, 1.2% with tiles
    }

    void denseTilesPaintWhatEveryPointPaints() {
        // One colour, so only coverage can differ: a dense square where every 3 x 3 tile has a
        // point near its centre, and a selection drawn over it (4 x 4 tiles for its larger
        // points). Full and decimated frames must paint the same pixels.
        const int64_t n = 400000;
        std::mt19937 rng(11);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        std::vector<float> xy(static_cast<size_t>(2 * n));
        for (auto& v : xy) v = u(rng);
        // Four far points keep the square a third of the view wide: ~10 points per pixel.
        for (int64_t i = 0; i < 4; ++i) {
            xy[size_t(2 * i)] = i % 2 ? 3.0f : -3.0f;
            xy[size_t(2 * i + 1)] = i / 2 ? 3.0f : -3.0f;
        }
        view_->setPoints(xy, 2);
        view_->setUniformColor(QColor(40, 90, 160));
        std::vector<int64_t> selected;
        for (int64_t i = 0; i < n; ++i)
            if (xy[size_t(2 * i)] > 0.3f && xy[size_t(2 * i + 1)] > 0.3f) selected.push_back(i);
        view_->setSelection(selected);
        view_->setDecimationThreshold(int64_t(1) << 40);
        const QImage full = view_->grabFramebuffer();
        view_->setDecimationThreshold(0);
        const QImage decimated = view_->grabFramebuffer();
        const int64_t drawn = view_->drawnPoints();
        view_->setDenseTiling(false);
        const QImage fine = view_->grabFramebuffer();
        const int64_t fine_cells_only = view_->drawnPoints();
        int64_t painted = 0, different = 0, different_fine = 0;
        for (int y = 0; y < full.height(); ++y)
            for (int x = 0; x < full.width(); ++x) {
                if (full.pixel(x, y) != qRgb(255, 255, 255)) ++painted;
                if (full.pixel(x, y) != decimated.pixel(x, y)) ++different;
                if (full.pixel(x, y) != fine.pixel(x, y)) ++different_fine;
            }
        qInfo(
            "dense square: %lld of %lld points drawn (%lld with the fine cells alone); %lld "
            "of %lld painted pixels differ (%lld with the fine cells alone)",
            static_cast<long long>(drawn), static_cast<long long>(n),
            static_cast<long long>(fine_cells_only), static_cast<long long>(different),
            static_cast<long long>(painted), static_cast<long long>(different_fine));
        QVERIFY(painted > 30000);
        QVERIFY(drawn < fine_cells_only / 2);
        QVERIFY(different <= different_fine + painted / 1000);
    }

    void oneMillionPoints() {
        const int64_t n = 1000000;
        Blobs b = make_blobs(n, 12);
        QElapsedTimer t;
        t.start();
        view_->setPoints(b.xy, 2);
        view_->grabFramebuffer();
        const double first_ms = t.nsecsElapsed() / 1e6;
        t.restart();
        view_->setCategorical(QStringLiteral("cluster"), b.labels, names(12));
        const double fill_ms = t.nsecsElapsed() / 1e6;
        view_->grabFramebuffer();
        const double recolour_ms = t.nsecsElapsed() / 1e6;
        t.restart();
        view_->update();
        view_->grabFramebuffer();
        const double render_ms = t.nsecsElapsed() / 1e6;
        qInfo("plain render inside paintGL: %.0f ms", view_->lastRenderMs());
        for (double size : {1.0, 2.0, 3.0}) {
            view_->setPointSize(size);
            view_->grabFramebuffer();
            view_->update();
            t.restart();
            view_->grabFramebuffer();
            qInfo("size %.0f: paintGL %.0f ms, grab %.0f ms", size, view_->lastRenderMs(),
                  t.nsecsElapsed() / 1e6);
        }
        std::vector<float> values(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) values[i] = b.xy[2 * i];
        t.restart();
        view_->setContinuous(QStringLiteral("x"), values);
        view_->grabFramebuffer();
        const double continuous_ms = t.nsecsElapsed() / 1e6;
        view_->setMode(EmbeddingView::Mode::Lasso);
        t.restart();
        drag_lasso(view_.get(),
                   QPolygonF{{200, 100}, {700, 150}, {650, 500}, {250, 450}, {200, 100}});
        const double lasso_ms = view_->lastSelectionMs();
        view_->grabFramebuffer();
        const double lasso_total_ms = t.nsecsElapsed() / 1e6;
        t.restart();
        int64_t picked = view_->pointAt(QPointF(450, 320));
        const double pick_first_ms = t.nsecsElapsed() / 1e6;
        t.restart();
        for (int k = 0; k < 100; ++k) picked = view_->pointAt(QPointF(300 + k, 320));
        const double pick_ms = t.nsecsElapsed() / 1e6 / 100;
        qInfo("last render inside paintGL: %.0f ms", view_->lastRenderMs());
        qInfo(
            "1M points: first render %.0f ms; categorical recolour %.0f ms (fill %.1f); "
            "continuous recolour %.0f ms; plain render %.0f ms; lasso resolve %.1f ms "
            "(%zu selected; with render %.0f ms); pick index build %.0f ms, pick %.3f ms",
            first_ms, recolour_ms, fill_ms, continuous_ms, render_ms, lasso_ms,
            view_->selection().size(), lasso_total_ms, pick_first_ms, pick_ms);
        QVERIFY(view_->selection().size() > 1000);
        QVERIFY(picked >= -1);
        gui_test::save_screenshot(view_.get(), QStringLiteral("embedding_1M"));
    }

private:
    std::unique_ptr<EmbeddingView> view_;
};

TRANSCURA_GUI_TEST_MAIN(TstEmbedding)
#include "tst_embedding.moc"
