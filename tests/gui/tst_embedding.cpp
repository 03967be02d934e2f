// The embedding view on synthetic point clouds: rendering where the camera says, lasso and box
// selection driven by mouse events and checked against an independent point-in-polygon, hover
// picking, hidden categories, live position updates, export, and timings at 1M points.
#include <cmath>
#include <random>

#include <QElapsedTimer>
#include <QFileInfo>
#include <QRegularExpression>
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

    void splatPaintsWhatVtkPaintsWithEveryPoint() {
        // Large clouds are splatted on the CPU (point_splat.hpp); the reference is VTK drawing
        // every point as a GL vertex. Same camera, same pixels, within llvmpipe's own rounding.
        Blobs b = make_blobs(200000, 6);
        view_->setPoints(b.xy, 2);
        view_->setCategorical(QStringLiteral("cell type"), b.labels, names(6));
        compareSplatWithVtk("categorical, size 3", 0.001);
        view_->setPointSize(2.5);  // a size between pixels
        compareSplatWithVtk("categorical, size 2.5", 0.002);
        view_->setPointSize(6);
        compareSplatWithVtk("categorical, size 6", 0.001);
        view_->setPointSize(3);
        // A selection: the rest in grey, the selected a pixel larger over it.
        std::vector<int64_t> selected;
        for (int64_t i = 0; i < 200000; ++i)
            if (b.xy[size_t(2 * i)] > 0 && b.xy[size_t(2 * i + 1)] > 0) selected.push_back(i);
        view_->setSelection(selected);
        compareSplatWithVtk("with a selection", 0.001);
        view_->setCategoryHidden(2, true);
        compareSplatWithVtk("a category hidden", 0.001);
        view_->clearSelection();
        view_->setCategoryHidden(2, false);
        // Half-transparent points: the splat blends them in drawing order, VTK's translucent
        // pass (order-independent) a little differently: ~2 levels on average.
        view_->setOpacity(0.5);
        compareSplatWithVtk("opacity 0.5", 1.0, 0, 0, 3.0);
        view_->setOpacity(1.0);
        // Zoomed in, most points off screen and squares cut by the edges.
        view_->setCameraState([&] {
            auto c = view_->cameraState();
            c.parallel_scale /= 5;
            return c;
        }());
        // GL drops a point whose centre is off screen; the splat draws the part on screen: the
        // edges are left out. Zoomed in, GL's float transform is a little further off.
        compareSplatWithVtk("zoomed in 5x, inside 4 px of the edges", 0.005, 0, 4);
    }

    void vtkDrawsTheSplatWhereTheFramebufferIsNoTexture() {
        // The fallback: VTK's textured background, one texel per pixel, nearest sampling.
        Blobs b = make_blobs(120000, 4);
        view_->setPoints(b.xy, 2);
        view_->setSplatThreshold(0);
        view_->setCategorical(QStringLiteral("cell type"), b.labels, names(4));
        const QImage copied = view_->grabFramebuffer();
        view_->setDirectRasterUpload(false);
        const QImage drawn_by_vtk = view_->grabFramebuffer();
        view_->setDirectRasterUpload(true);
        QCOMPARE(drawn_by_vtk.size(), copied.size());
        int64_t different = 0, painted = 0;
        for (int y = 0; y < copied.height(); ++y)
            for (int x = 0; x < copied.width(); ++x) {
                if (copied.pixel(x, y) != qRgb(255, 255, 255)) ++painted;
                if (copied.pixel(x, y) != drawn_by_vtk.pixel(x, y)) ++different;
            }
        qInfo("VTK's background: %lld of %lld painted pixels differ from the copied image",
              static_cast<long long>(different), static_cast<long long>(painted));
        QVERIFY(painted > 10000);
        QCOMPARE(different, int64_t(0));
    }

    void aRecolourOrSelectionRedrawsOnlyWhatChanged() {
        // Opaque splats keep which point is on top of each pixel: a recolour looks colours up
        // again, a selection splats the selected cells alone. Each must give the picture a
        // whole new splat gives.
        Blobs b = make_blobs(150000, 5);
        view_->setPoints(b.xy, 2);
        view_->setSplatThreshold(0);
        view_->setCategorical(QStringLiteral("cell type"), b.labels, names(5));
        view_->grabFramebuffer();
        auto fresh = [&] {
            view_->setSplatThreshold(0);  // (geometry dirty: everything splatted again)
            return view_->grabFramebuffer();
        };
        std::vector<float> values(150000);
        for (size_t i = 0; i < values.size(); ++i) values[i] = b.xy[2 * i + 1];
        view_->setContinuous(QStringLiteral("y"), values);
        const QImage recoloured = view_->grabFramebuffer();
        QCOMPARE(recoloured, fresh());
        std::vector<int64_t> selected;
        for (int64_t i = 0; i < 150000; i += 3) selected.push_back(i);
        view_->setSelection(selected);
        const QImage with_selection = view_->grabFramebuffer();
        QCOMPARE(with_selection, fresh());
        QVERIFY(with_selection != recoloured);
        view_->setUniformColor(QColor(200, 30, 30));  // a recolour under the selection
        const QImage recoloured_selection = view_->grabFramebuffer();
        QCOMPARE(recoloured_selection, fresh());
        view_->setSelection({});
        QCOMPARE(view_->grabFramebuffer(), fresh());
    }

    void splatIn3DKeepsTheNearestPoint() {
        const int64_t n = 100000;
        std::mt19937 rng(5);
        std::normal_distribution<float> g(0.0f, 1.0f);
        std::vector<float> xyz(static_cast<size_t>(3 * n));
        std::vector<int32_t> labels(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
            const int c = static_cast<int>(i % 4);
            for (int k = 0; k < 3; ++k) xyz[size_t(3 * i + k)] = 3.0f * (c == k) + g(rng);
            labels[size_t(i)] = c;
        }
        view_->setPoints(xyz, 3);
        view_->setCategorical(QStringLiteral("group"), labels, names(4));
        QTest::mousePress(view_.get(), Qt::RightButton, {}, QPoint(450, 320));
        QTest::mouseMove(view_.get(), QPoint(520, 360));
        QTest::mouseRelease(view_.get(), Qt::RightButton, {}, QPoint(520, 360));
        // Depth ties (24-bit GL depth against float) decide a few pixels differently.
        compareSplatWithVtk("3D, rotated", 0.01);
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
    /// The view's picture splatted and drawn by VTK point by point: at most `fraction` of the
    /// painted pixels (more than `border` pixels inside the edges) differ by more than
    /// `tolerance` summed over R, G, B, and they differ by under `mean_levels` on average.
    void compareSplatWithVtk(const char* what, double fraction, int tolerance = 0, int border = 0,
                             double mean_levels = 0.5) {
        view_->setSplatThreshold(int64_t(1) << 40);
        const QImage vtk = view_->grabFramebuffer();
        const int64_t vtk_drawn = view_->drawnPoints();
        view_->setSplatThreshold(0);
        const QImage splat = view_->grabFramebuffer();
        const int64_t splatted = view_->drawnPoints();
        QCOMPARE(splat.size(), vtk.size());
        int64_t painted = 0, different = 0, summed = 0;
        for (int y = border; y < vtk.height() - border; ++y)
            for (int x = border; x < vtk.width() - border; ++x) {
                const QRgb a = vtk.pixel(x, y), c = splat.pixel(x, y);
                if (a != qRgb(255, 255, 255) || c != qRgb(255, 255, 255)) ++painted;
                const int d = std::abs(qRed(a) - qRed(c)) + std::abs(qGreen(a) - qGreen(c)) +
                              std::abs(qBlue(a) - qBlue(c));
                if (d > tolerance) ++different;
                summed += d;
            }
        qInfo(
            "%s: VTK drew %lld points, the splat %lld on screen; %lld of %lld painted pixels "
            "differ (mean difference %.2f levels)",
            what, static_cast<long long>(vtk_drawn), static_cast<long long>(splatted),
            static_cast<long long>(different), static_cast<long long>(painted),
            double(summed) / std::max<int64_t>(painted, 1) / 3);
        const QString name =
            QStringLiteral("splat_%1")
                .arg(QString::fromLatin1(what).toLower())
                .replace(QRegularExpression(QStringLiteral("[^a-z0-9]+")), QStringLiteral("_"));
        splat.save(QDir(gui_test::screenshot_dir()).filePath(name + QStringLiteral(".png")));
        QVERIFY(painted > 10000);
        QVERIFY2(different <= fraction * painted, what);
        QVERIFY2(double(summed) / painted / 3 < mean_levels, what);
    }

    std::unique_ptr<EmbeddingView> view_;
};

TRANSCURA_GUI_TEST_MAIN(TstEmbedding)
#include "tst_embedding.moc"
