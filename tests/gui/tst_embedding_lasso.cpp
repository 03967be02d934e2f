// The lasso's point-in-polygon through a grid of cells (lasso_selection.hpp) selects the same
// points as the plain crossing test (selection_geometry.hpp) on random clouds and polygons:
// convex, star-shaped, self-intersecting, with a thousand vertices, degenerate, with masked and
// NaN points; and it is faster on large clouds.
#include <cmath>
#include <random>

#include <QElapsedTimer>

#include "gui_test_support.hpp"
#include "lasso_selection.hpp"
#include "selection_geometry.hpp"

using namespace transcura::widgets;

namespace {

QPolygonF star(int vertices, double cx, double cy, double r0, double r1, std::mt19937& rng) {
    std::uniform_real_distribution<double> u(r0, r1);
    QPolygonF p;
    for (int k = 0; k < vertices; ++k) {
        const double a = 2 * M_PI * k / vertices, r = u(rng);
        p << QPointF(cx + r * std::cos(a), cy + r * std::sin(a));
    }
    return p;
}

QPolygonF scribble(int vertices, std::mt19937& rng) {
    // Vertices anywhere: edges cross each other (even-odd decides).
    std::uniform_real_distribution<double> u(-10, 10);
    QPolygonF p;
    for (int k = 0; k < vertices; ++k) p << QPointF(u(rng), u(rng));
    return p;
}

/// n points of 3 coordinates, each normal with sd 4.
std::vector<float> gaussian_cloud(int64_t n, std::mt19937& rng) {
    std::normal_distribution<float> g(0.0f, 4.0f);
    std::vector<float> xyz(static_cast<size_t>(3 * n));
    for (auto& v : xyz) v = g(rng);
    return xyz;
}

}  // namespace

class TstEmbeddingLasso : public QObject {
    Q_OBJECT

private slots:
    void sameAsTheCrossingTest() {
        std::mt19937 rng(5);
        const int64_t n = 200000;
        std::vector<float> xyz = gaussian_cloud(n, rng);
        for (int64_t i = 0; i < n; i += 997) xyz[size_t(3 * i)] = NAN;
        std::vector<uint8_t> mask(static_cast<size_t>(n), 1);
        for (int64_t i = 0; i < n; i += 3) mask[size_t(i)] = 0;
        std::vector<QPolygonF> polygons = {
            QPolygonF{{-5, -5}, {5, -4}, {6, 6}, {-4, 5}},            // convex
            QPolygonF{{-5, -5}, {5, -4}, {6, 6}, {-4, 5}, {-5, -5}},  // closed by its last point
            star(12, 0, 0, 2, 8, rng),
            star(1000, 1, -1, 3, 9, rng),  // a mouse lasso's vertex count
            scribble(9, rng),
            scribble(300, rng),
            QPolygonF{{-3, 1}, {3, 1}, {0, 1}},             // no area
            QPolygonF{{-3, -3}, {3, -3}, {3, 3}, {-3, 3}},  // axis-aligned edges
        };
        int nonempty = 0;
        for (size_t k = 0; k < polygons.size(); ++k)
            for (const uint8_t* m : std::vector<const uint8_t*>{nullptr, mask.data()}) {
                const auto expected = points_in_polygon(xyz.data(), n, 3, polygons[k], m);
                const auto got = points_in_lasso(xyz.data(), n, 3, polygons[k], m);
                QVERIFY2(got == expected, qPrintable(QStringLiteral("polygon %1: %2 vs %3 points")
                                                         .arg(k)
                                                         .arg(got.size())
                                                         .arg(expected.size())));
                nonempty += expected.empty() ? 0 : 1;
            }
        QVERIFY(nonempty >= 12);
        QVERIFY(points_in_lasso(xyz.data(), n, 3, QPolygonF{{0, 0}, {1, 1}}).empty());
        QVERIFY(points_in_lasso(xyz.data(), 0, 3, polygons[0]).empty());
    }

    void pointsOnAGridAndOnVertices() {
        // Points on a lattice through the polygon's vertices and edges (the cases that "may
        // fall either way" with rounding): the crossing test decides alike on axis-parallel
        // edges and whole-number vertices.
        std::vector<float> xy;
        for (int y = -6; y <= 6; ++y)
            for (int x = -6; x <= 6; ++x) xy.insert(xy.end(), {float(x), float(y)});
        const int64_t n = static_cast<int64_t>(xy.size() / 2);
        const QPolygonF polygon{{-4, -4}, {4, -4}, {4, 0}, {0, 0}, {0, 4}, {-4, 4}};
        QCOMPARE(points_in_lasso(xy.data(), n, 2, polygon),
                 points_in_polygon(xy.data(), n, 2, polygon));
    }

    void fasterOnAMillionPoints() {
        std::mt19937 rng(9);
        const int64_t n = 1000000;
        const std::vector<float> xyz = gaussian_cloud(n, rng);
        const QPolygonF lasso = star(400, 0, 0, 4, 9, rng);
        QElapsedTimer t;
        t.start();
        const auto expected = points_in_polygon(xyz.data(), n, 3, lasso);
        const double plain_ms = t.nsecsElapsed() / 1e6;
        t.restart();
        const auto got = points_in_lasso(xyz.data(), n, 3, lasso);
        const double grid_ms = t.nsecsElapsed() / 1e6;
        qInfo("1M points, 400-vertex lasso: crossing test %.1f ms, grid %.1f ms (%zu inside)",
              plain_ms, grid_ms, got.size());
        QCOMPARE(got, expected);
        QVERIFY(grid_ms < plain_ms);
    }
};

TRANSCURA_GUI_TEST_MAIN(TstEmbeddingLasso)
#include "tst_embedding_lasso.moc"
