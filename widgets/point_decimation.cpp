#include "point_decimation.hpp"

#include "vector_state.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace transcura::widgets {

namespace {

/// The s x s tiles of the pixel grid (origin on a pixel corner, a whole number of tiles left of
/// and above the widget) and, per tile, the last point that paints exactly that tile. `Id` is
/// int32_t below 2^31 points (half the memory traffic of the random writes), else int64_t.
template <typename Id>
struct TileGrid {
    int s = 0;
    double origin_x = 0, origin_y = 0;
    int64_t cols = 0, rows = 0;
    std::vector<Id> cover;  // -1: no point centred in the tile
    // A point centred within this distance of a tile centre paints exactly the tile under
    // either GL point rule (pixel centres inside the square, or the odd-size floor rule); a
    // little under half a pixel keeps clear of the rounding at the boundary.
    static constexpr double kCentreTolerance = 0.45;

    TileGrid(int tile, double margin, QSizeF size) : s(tile) {
        const double pad = s * std::ceil(margin / s);
        origin_x = origin_y = -pad;
        cols = static_cast<int64_t>(std::ceil((size.width() + 2 * pad) / s)) + 1;
        rows = static_cast<int64_t>(std::ceil((size.height() + 2 * pad) / s)) + 1;
        cover.assign(static_cast<size_t>(cols * rows), Id(-1));
    }
    /// The tile at tile coordinates (tx, ty) (pixels less the origin, over s), or -1 off the
    /// grid; (dx, dy): the offset from its centre in pixels.
    int64_t tileAt(double tx, double ty, double& dx, double& dy) const {
        if (!(tx >= 0 && ty >= 0 && tx < cols && ty < rows)) return -1;
        const int64_t cx = static_cast<int64_t>(tx), cy = static_cast<int64_t>(ty);
        dx = (tx - cx - 0.5) * s;
        dy = (ty - cy - 0.5) * s;
        return cy * cols + cx;
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

/// The fine cells (cell_pixels wide, from -margin) of the widget.
struct CellGrid {
    double left = 0, top = 0, inverse = 1;
    int64_t cols = 0, rows = 0;
    CellGrid(double cell, double margin, QSizeF size)
        : left(-margin), top(-margin), inverse(1.0 / cell) {
        cols = static_cast<int64_t>(std::ceil((size.width() + 2 * margin) / cell)) + 1;
        rows = static_cast<int64_t>(std::ceil((size.height() + 2 * margin) / cell)) + 1;
    }
    /// The cell under (x, y), or -1 off the grid (also for NaN).
    int64_t cell(float x, float y) const {
        const double cx = (x - left) * inverse, cy = (y - top) * inverse;
        if (!(cx >= 0 && cy >= 0 && cx < cols && cy < rows)) return -1;
        return static_cast<int64_t>(cy) * cols + static_cast<int64_t>(cx);
    }
};

/// Widget pixels, shifted by (shift_x, shift_y) and scaled by `scale`, of 2D points (z counts
/// too, for generality) in float: x' = (x_widget + shift_x) * scale.
struct Affine {
    float xx, xy, xz, x0, yx, yy, yz, y0;
    Affine(const ScreenProjection& p, double scale, double shift_x, double shift_y) {
        const double k = p.pixels_per_unit * scale;
        const double f_right =
            p.focal[0] * p.right[0] + p.focal[1] * p.right[1] + p.focal[2] * p.right[2];
        const double f_up = p.focal[0] * p.up[0] + p.focal[1] * p.up[1] + p.focal[2] * p.up[2];
        xx = float(p.right[0] * k);
        xy = float(p.right[1] * k);
        xz = float(p.right[2] * k);
        x0 = float((p.center_x + shift_x) * scale - f_right * k);
        yx = float(-p.up[0] * k);
        yy = float(-p.up[1] * k);
        yz = float(-p.up[2] * k);
        y0 = float((p.center_y + shift_y) * scale + f_up * k);
    }
    void apply(const float* p, float& x, float& y) const {
        x = xx * p[0] + xy * p[1] + xz * p[2] + x0;
        y = yx * p[0] + yy * p[1] + yz * p[2] + y0;
    }
};

template <typename Id>
std::vector<int64_t> decimate(const float* xyz, int64_t n, const uint8_t* mask,
                              const std::vector<int64_t>* candidates,
                              const ScreenProjection& projection, QSizeF size,
                              const DecimationOptions& options) {
    const double margin = std::max(options.margin_pixels, 0.0);
    const CellGrid grid(std::max(options.cell_pixels, 0.5), margin, size);
    const size_t n_cells = static_cast<size_t>(grid.cols * grid.rows);
    std::vector<Id> best(n_cells, Id(-1));
    const bool tiled = options.tile_pixels > 0 && !options.use_depth;
    TileGrid<Id> tiles(tiled ? options.tile_pixels : 1, margin, tiled ? size : QSizeF(0, 0));
    const int64_t count = candidates ? static_cast<int64_t>(candidates->size()) : n;
    auto id_at = [&](int64_t k) { return candidates ? (*candidates)[static_cast<size_t>(k)] : k; };

    if (options.use_depth) {
        // 3D: the nearest point of each cell (the first of equals), in order.
        std::vector<float> nearest(n_cells, std::numeric_limits<float>::infinity());
        clear_upper_vector_state();  // after the allocations: see vector_state.hpp
        for (int64_t k = 0; k < count; ++k) {
            const int64_t i = id_at(k);
            if (mask && !mask[i]) continue;
            float x, y, depth;
            projection.apply(xyz + 3 * i, x, y, depth);
            const int64_t c = grid.cell(x, y);
            if (c < 0 || !(depth < nearest[static_cast<size_t>(c)])) continue;
            nearest[static_cast<size_t>(c)] = depth;
            best[static_cast<size_t>(c)] = static_cast<Id>(i);
        }
    } else {
        // 2D: the last point drawn in a cell (or centred in a tile) is on top. The map to
        // widget pixels is affine: in float (as the GPU draws), with the cell and tile scales
        // folded in, it is a few multiply-adds a point instead of double math and divisions
        // (1M points: ~2x faster).
        const Affine to_cell(projection, 1.0 / std::max(options.cell_pixels, 0.5), -grid.left,
                             -grid.top);
        const Affine to_tile(projection, 1.0 / tiles.s, -tiles.origin_x, -tiles.origin_y);
        const float cols = static_cast<float>(grid.cols), rows = static_cast<float>(grid.rows);
        const float tile_cols = static_cast<float>(tiles.cols);
        const float tile_rows = static_cast<float>(tiles.rows);
        const float tolerance = static_cast<float>(TileGrid<Id>::kCentreTolerance / tiles.s);
        Id* cell_best = best.data();
        Id* tile_cover = tiles.cover.data();
        clear_upper_vector_state();  // after the allocations: see vector_state.hpp
        for (int64_t k = 0; k < count; ++k) {
            const int64_t i = id_at(k);
            if (mask && !mask[i]) continue;
            const float* p = xyz + 3 * i;
            float cx, cy;
            to_cell.apply(p, cx, cy);
            // Also rejects NaN coordinates.
            if (!(cx >= 0 && cy >= 0 && cx < cols && cy < rows)) continue;
            cell_best[static_cast<int64_t>(cy) * grid.cols + static_cast<int64_t>(cx)] =
                static_cast<Id>(i);
            if (tiled) {
                float tx, ty;
                to_tile.apply(p, tx, ty);
                if (!(tx >= 0 && ty >= 0 && tx < tile_cols && ty < tile_rows)) continue;
                const int64_t ix = static_cast<int64_t>(tx), iy = static_cast<int64_t>(ty);
                if (std::abs(tx - ix - 0.5f) < tolerance && std::abs(ty - iy - 0.5f) < tolerance)
                    tile_cover[iy * tiles.cols + ix] = static_cast<Id>(i);
            }
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
        for (Id i : tiles.cover)
            if (i >= 0) mark(i);
        const Affine to_tile(projection, 1.0 / tiles.s, -tiles.origin_x, -tiles.origin_y);
        for (Id i : best) {
            if (i < 0) continue;
            float tx, ty;
            to_tile.apply(xyz + 3 * int64_t(i), tx, ty);
            double dx = 0, dy = 0;
            const int64_t t = tiles.tileAt(tx, ty, dx, dy);
            if (t < 0 || !tiles.paintedByCovers(t, dx, dy)) mark(i);
        }
    } else {
        for (Id i : best)
            if (i >= 0) mark(i);
    }
    std::vector<int64_t> ids;
    ids.reserve(static_cast<size_t>(kept));
    for (int64_t k = 0; k < count; ++k) {
        const int64_t i = id_at(k);
        if (keep[static_cast<size_t>(i)]) ids.push_back(i);
    }
    return ids;
}

}  // namespace

std::vector<int64_t> decimate_on_screen(const float* xyz, int64_t n, const uint8_t* mask,
                                        const std::vector<int64_t>* candidates,
                                        const ScreenProjection& projection, QSizeF size,
                                        const DecimationOptions& options) {
    if (n < std::numeric_limits<int32_t>::max())
        return decimate<int32_t>(xyz, n, mask, candidates, projection, size, options);
    return decimate<int64_t>(xyz, n, mask, candidates, projection, size, options);
}

}  // namespace transcura::widgets
