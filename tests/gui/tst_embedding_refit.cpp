// A recolour that swaps legend and colour bar refits the camera beside the other strip; on a
// large 2D cloud whose fit is limited by the height that is a sideways pan, rounded to whole
// tiles, which keeps the decimated draw lists: the picture must be the one a full decimation
// draws, and the rounding at most half a tile off the exact fit.
#include <cmath>
#include <random>

#include "embedding_view.hpp"
#include "gui_test_support.hpp"

using transcura::widgets::CameraState;
using transcura::widgets::EmbeddingView;

class TstEmbeddingRefit : public QObject {
    Q_OBJECT

private slots:
    void init() {
        view_ = std::make_unique<EmbeddingView>();
        view_->resize(900, 600);
        view_->show();
        QVERIFY(QTest::qWaitForWindowExposed(view_.get()));
    }
    void cleanup() { view_.reset(); }

    void legendToColourBarKeepsThePicture() {
        // A round cloud: the fit is limited by the height (900 x 600 less a strip).
        const int64_t n = 200000;
        std::mt19937 rng(3);
        std::normal_distribution<float> g(0.0f, 1.0f);
        std::vector<float> xy(static_cast<size_t>(2 * n));
        std::vector<int32_t> codes(static_cast<size_t>(n));
        std::vector<float> values(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
            const int c = static_cast<int>(i % 5);
            xy[size_t(2 * i)] = 4 * std::cos(c * 1.2566f) + g(rng);
            xy[size_t(2 * i + 1)] = 4 * std::sin(c * 1.2566f) + g(rng);
            codes[size_t(i)] = c;
            values[size_t(i)] = xy[size_t(2 * i)];
        }
        view_->setPoints(xy, 2);
        const QStringList names = {"a", "b", "c", "d", "e"};
        view_->setCategorical(QStringLiteral("a rather long title for the legend"), codes, names);
        view_->grabFramebuffer();
        const CameraState with_legend = view_->cameraState();
        view_->setContinuous(QStringLiteral("x"), values);  // a narrower strip: a refit
        const QImage kept = view_->grabFramebuffer();
        const CameraState with_bar = view_->cameraState();
        const int64_t kept_points = view_->drawnPoints();
        QCOMPARE(with_bar.parallel_scale, with_legend.parallel_scale);  // a pan only
        const double units_per_pixel = 2 * with_bar.parallel_scale / view_->height();
        const double shift = (with_bar.focal[0] - with_legend.focal[0]) / units_per_pixel;
        QVERIFY2(std::abs(shift) > 1, qPrintable(QString::number(shift)));
        // Whole tiles (3 px points): the path that keeps the draw lists was taken.
        QVERIFY2(std::abs(shift / 3 - std::round(shift / 3)) < 1e-6,
                 qPrintable(QString::number(shift)));
        // The same picture as a full decimation for this camera.
        view_->setDecimationThreshold(40000 - 1);  // any change decimates again
        const QImage full = view_->grabFramebuffer();
        QCOMPARE(view_->drawnPoints(), kept_points);
        int64_t different = 0, painted = 0;
        for (int y = 0; y < full.height(); ++y)
            for (int x = 0; x < full.width(); ++x) {
                if (full.pixel(x, y) != qRgb(255, 255, 255)) ++painted;
                if (full.pixel(x, y) != kept.pixel(x, y)) ++different;
            }
        qInfo("refit by a pan of %.0f px: %lld of %lld painted pixels differ", shift,
              static_cast<long long>(different), static_cast<long long>(painted));
        QVERIFY(painted > 20000);
        QVERIFY(different <= painted / 10000);
        // At most half a tile from the exact fit: a fresh fit of the same strip.
        view_->resetView();  // lists now valid: the same rounding path, from the same camera
        QCOMPARE(view_->cameraState().focal[0], with_bar.focal[0]);
        gui_test::save_screenshot(view_.get(), QStringLiteral("embedding_refit_colour_bar"));
    }

    void aZoomingFitDecimatesAgain() {
        // A wide cloud: the fit is limited by the width, so the strip changes the zoom.
        const int64_t n = 100000;
        std::mt19937 rng(4);
        std::normal_distribution<float> g(0.0f, 1.0f);
        std::vector<float> xy(static_cast<size_t>(2 * n));
        std::vector<int32_t> codes(static_cast<size_t>(n), 0);
        std::vector<float> values(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) {
            xy[size_t(2 * i)] = 12 * g(rng);
            xy[size_t(2 * i + 1)] = g(rng);
            values[size_t(i)] = xy[size_t(2 * i + 1)];
        }
        view_->setPoints(xy, 2);
        view_->setCategorical(QStringLiteral("a long title for the legend"), codes, {"one"});
        view_->grabFramebuffer();
        const double scale = view_->cameraState().parallel_scale;
        view_->setContinuous(QStringLiteral("y"), values);
        const QImage refit = view_->grabFramebuffer();
        QVERIFY(view_->cameraState().parallel_scale != scale);
        view_->setDecimationThreshold(40000 - 1);
        QCOMPARE(view_->grabFramebuffer(), refit);
    }

private:
    std::unique_ptr<EmbeddingView> view_;
};

TRANSCURA_GUI_TEST_MAIN(TstEmbeddingRefit)
#include "tst_embedding_refit.moc"
