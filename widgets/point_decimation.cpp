#include "point_decimation.hpp"

#include "vector_state.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace transcura::widgets {

namespace {

/// The s x s tiles of the pixel grid (origin on a pixel corner, a whole number of tiles left of
/// and above the widget) and, per tile, the last point that paints exactly that tile.
struct TileGrid {
    int s = 0;
    double origin_x = 0, origin_y = 0;
    int64_t cols = 0, rows = 0;
    std::vector<int64_t> cover;  // -1: no point centred in the tile
    // A point centred within this distance of a tile centre paints exactly the tile under
    // either GL point rule (pixel centres inside the square, or the odd-size floor rule); a
    // little under half a pixel keeps clear of the rounding at the boundary.
    static constexpr double kCentreTolerance = 0.45;

    TileGrid(int tile, double margin, QSizeF size) : s(tile) {
        const double pad = s * std::ceil(margin / s);
        origin_x = origin_y = -pad;
        cols = static_cast<int64_t>(std::ceil((size.width() + 2 * pad) / s)) + 1;
        rows = static_cast<int64_t>(std::ceil((size.height() + 2 * pad) / s)) + 1;
        cover.assign(static_cast<size_t>(cols * rows), -1);
    }
    /// The tile under (x, y), or -1 off the grid; (dx, dy): the offset from its centre.
    int64_t tile(float x, float y, double& dx, double& dy) const {
        const double tx = (x - origin_x) / s, ty = (y - origin_y) / s;
        if (!(tx >= 0 && ty >= 0 && tx < cols && ty < rows)) return -1;
        const int64_t cx = static_cast<int64_t>(tx), cy = static_cast<int64_t>(ty);
        dx = (tx - cx - 0.5) * s;
        dy = (ty - cy - 0.5) * s;
        return cy * cols + cx;
    }
    static bool centred(double dx, double dy) {
        return std::abs(dx) < kCentreTolerance && std::abs(dy) < kCentreTolerance;
    }
    bool covered(int64_t cx, int64_t cy) const {
        return cx >= 0 && cy >= 0 && cx < cols && cy < rows &&
               cover[static_cast<size_t>(cy * cols + cx)] >= 0;
    }
    /// Whatever a point at offset (dx, dy) in tile t paints is painted by centred points too:
    /// its tile, and the neighbours its square reaches into, have one each.
    bool paintedByCovers(int64_t t, double dx, double dy) const {
        const int64_t cx = t % cols, cy = t / cols;
        if (!covered(cx, cy)) return false;
        const int64_t sx = dx <= -kCentreTolerance ? -1 : dx >= kCentreTolerance ? 1 : 0;
        const int64_t sy = dy <= -kCentreTolerance ? -1 : dy >= kCentreTolerance ? 1 : 0;
        return (sx == 0 || covered(cx + sx, cy)) && (sy == 0 || covered(cx, cy + sy)) &&
               (sx == 0 || sy == 0 || covered(cx + sx, cy + sy));
    }
};

}  // namespace

std::vector<int64_t> decimate_on_screen(const float* xyz, int64_t n, const uint8_t* mask,
                                        const std::vector<int64_t>* candidates,
                                        const ScreenProjection& projection, QSizeF size,
                                        const DecimationOptions& options) {
    const double cell = std::max(options.cell_pixels, 0.5);
    const double margin = std::max(options.margin_pixels, 0.0);
    const double left = -margin, top = -margin;
    const int64_t cols = static_cast<int64_t>(std::ceil((size.width() + 2 * margin) / cell)) + 1;
    const int64_t rows = static_cast<int64_t>(std::ceil((size.height() + 2 * margin) / cell)) + 1;
    std::vector<int64_t> best(static_cast<size_t>(cols * rows), -1);
    std::vector<float> nearest;
    if (options.use_depth) nearest.assign(best.size(), std::numeric_limits<float>::infinity());
    const bool tiled = options.tile_pixels > 0 && !options.use_depth;
    TileGrid tiles(tiled ? options.tile_pixels : 1, margin, tiled ? size : QSizeF(0, 0));

    const int64_t count = candidates ? static_cast<int64_t>(candidates->size()) : n;
    const double inverse = 1.0 / cell;
    clear_upper_vector_state();  // after the allocations: see vector_state.hpp
    for (int64_t k = 0; k < count; ++k) {
        const int64_t i = candidates ? (*candidates)[static_cast<size_t>(k)] : k;
        if (mask && !mask[i]) continue;
        float x, y, depth;
        projection.apply(xyz + 3 * i, x, y, depth);
        const double cx = (x - left) * inverse, cy = (y - top) * inverse;
        // Also rejects NaN coordinates.
        if (!(cx >= 0 && cy >= 0 && cx < cols && cy < rows)) continue;
        const size_t c =
            static_cast<size_t>(static_cast<int64_t>(cy) * cols + static_cast<int64_t>(cx));
        if (options.use_depth) {
            if (!(depth < nearest[c])) continue;
            nearest[c] = depth;
        }
        best[c] = i;  // 2D: the last point drawn in the cell is the one on top
        if (tiled) {
            double dx = 0, dy = 0;
            const int64_t t = tiles.tile(x, y, dx, dy);
            if (t >= 0 && TileGrid::centred(dx, dy))
                tiles.cover[static_cast<size_t>(t)] = i;  // the last one is on top
        }
    }

    // Back to drawing order through a flag per point (cheaper than sorting the survivors).
    std::vector<uint8_t> keep(static_cast<size_t>(n), 0);
    int64_t kept = 0;
    auto mark = [&](int64_t i) {
        if (!keep[static_cast<size_t>(i)]) ++kept;
        keep[static_cast<size_t>(i)] = 1;
    };
    if (tiled) {
        // The centred points, then the fine cells' points that paint something they do not.
        for (int64_t i : tiles.cover)
            if (i >= 0) mark(i);
        for (int64_t i : best) {
            if (i < 0) continue;
            float x, y, depth;
            projection.apply(xyz + 3 * i, x, y, depth);
            double dx = 0, dy = 0;
            const int64_t t = tiles.tile(x, y, dx, dy);
            if (t < 0 || !tiles.paintedByCovers(t, dx, dy)) mark(i);
        }
    } else {
        for (int64_t i : best)
            if (i >= 0) mark(i);
    }
    std::vector<int64_t> ids;
    ids.reserve(static_cast<size_t>(kept));
    for (int64_t k = 0; k < count; ++k) {
        const int64_t i = candidates ? (*candidates)[static_cast<size_t>(k)] : k;
        if (keep[static_cast<size_t>(i)]) ids.push_back(i);
    }
    return ids;
}

}  // namespace transcura::widgets
