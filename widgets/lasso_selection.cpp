#include "lasso_selection.hpp"

#include <algorithm>
#include <cmath>

#include "vector_state.hpp"

namespace transcura::widgets {

namespace {

enum Cell : uint8_t { kOutside = 0, kInside = 1, kEdge = 2 };

/// The polygon's vertices, its bounding box, a grid of side x side cells over it, the edges
/// whose y-span reaches each row of cells, and each cell's class.
struct LassoGrid {
    std::vector<double> px, py;
    double left = 0, top = 0, right = 0, bottom = 0;
    int side = 1;
    double to_col = 0, to_row = 0;  // cells per unit of x, of y
    std::vector<int32_t> row_start, row_edges;
    std::vector<uint8_t> cells;

    explicit LassoGrid(const QPolygonF& polygon) {
        const size_t m = static_cast<size_t>(polygon.size());
        px.resize(m);
        py.resize(m);
        for (size_t k = 0; k < m; ++k) {
            px[k] = polygon[static_cast<qsizetype>(k)].x();
            py[k] = polygon[static_cast<qsizetype>(k)].y();
        }
        const QRectF box = polygon.boundingRect();
        left = box.left();
        right = box.right();
        top = box.top();
        bottom = box.bottom();
        // About 4 cells per edge along a side keeps the edge cells a small share.
        side = static_cast<int>(std::clamp<size_t>(8 * m, 16, 512));
        to_col = box.width() > 0 ? side / box.width() : 0;
        to_row = box.height() > 0 ? side / box.height() : 0;
        // Edges by row (a little wider than they are: rounding at row boundaries never drops
        // an edge from a row it reaches).
        const double pad_y = 1e-9 * std::max(1.0, box.height());
        const double pad_x = 1e-9 * std::max(1.0, box.width());
        std::vector<std::vector<int32_t>> rows(static_cast<size_t>(side));
        cells.assign(static_cast<size_t>(side) * side, kOutside);
        for (size_t a = 0, b = m - 1; a < m; b = a++) {
            const double y_lo = std::min(py[a], py[b]) - pad_y;
            const double y_hi = std::max(py[a], py[b]) + pad_y;
            const int r0 = rowOf(y_lo), r1 = rowOf(y_hi);
            for (int r = r0; r <= r1; ++r) {
                rows[static_cast<size_t>(r)].push_back(static_cast<int32_t>(a));
                // The cells of row r the edge passes through: its x over the row's y-range.
                const double band_lo = std::max(y_lo, top + r / to_row);
                const double band_hi = std::min(y_hi, top + (r + 1) / to_row);
                double x_lo, x_hi;
                if (py[a] == py[b]) {
                    x_lo = std::min(px[a], px[b]);
                    x_hi = std::max(px[a], px[b]);
                } else {
                    auto x_at = [&](double y) {
                        const double t = std::clamp((y - py[a]) / (py[b] - py[a]), 0.0, 1.0);
                        return px[a] + t * (px[b] - px[a]);
                    };
                    x_lo = std::min(x_at(band_lo), x_at(band_hi));
                    x_hi = std::max(x_at(band_lo), x_at(band_hi));
                }
                const int c0 = colOf(x_lo - pad_x), c1 = colOf(x_hi + pad_x);
                for (int c = c0; c <= c1; ++c) cells[static_cast<size_t>(r) * side + c] = kEdge;
            }
        }
        row_start.assign(static_cast<size_t>(side) + 1, 0);
        for (int r = 0; r < side; ++r)
            row_start[static_cast<size_t>(r) + 1] =
                row_start[static_cast<size_t>(r)] +
                static_cast<int32_t>(rows[static_cast<size_t>(r)].size());
        row_edges.reserve(static_cast<size_t>(row_start.back()));
        for (const auto& row : rows) row_edges.insert(row_edges.end(), row.begin(), row.end());
        // Cells no edge touches take the class of their centre; a run of them along a row is
        // one region (no edge between), so one test per run.
        for (int r = 0; r < side; ++r) {
            uint8_t run = kEdge;  // the class of the current run, kEdge before its first cell
            for (int c = 0; c < side; ++c) {
                uint8_t& cell = cells[static_cast<size_t>(r) * side + c];
                if (cell == kEdge) {
                    run = kEdge;
                    continue;
                }
                if (run == kEdge) {
                    const double x = left + (c + 0.5) / to_col, y = top + (r + 0.5) / to_row;
                    run = exact(x, y, r) ? kInside : kOutside;
                }
                cell = run;
            }
        }
    }
    int rowOf(double y) const {
        return std::clamp(static_cast<int>(std::floor((y - top) * to_row)), 0, side - 1);
    }
    int colOf(double x) const {
        return std::clamp(static_cast<int>(std::floor((x - left) * to_col)), 0, side - 1);
    }
    /// The crossing test of points_in_polygon, over the edges reaching row `row`.
    bool exact(double x, double y, int row) const {
        bool inside = false;
        const size_t m = px.size();
        for (int32_t k = row_start[static_cast<size_t>(row)];
             k < row_start[static_cast<size_t>(row) + 1]; ++k) {
            const size_t a = static_cast<size_t>(row_edges[static_cast<size_t>(k)]);
            const size_t b = a == 0 ? m - 1 : a - 1;
            if ((py[a] > y) != (py[b] > y) &&
                x < (px[b] - px[a]) * (y - py[a]) / (py[b] - py[a]) + px[a])
                inside = !inside;
        }
        return inside;
    }
};

}  // namespace

std::vector<int64_t> points_in_lasso(const float* xy, int64_t n, int stride,
                                     const QPolygonF& polygon, const uint8_t* mask) {
    if (polygon.size() < 3 || n <= 0) return {};
    const LassoGrid grid(polygon);
    // Room for every point up front: growing by doubling copied ~n indices (and faulted their
    // pages in twice) when half a million points are selected; pages never written cost no
    // memory, only address space.
    std::vector<int64_t> hits;
    hits.reserve(static_cast<size_t>(n));
    const int last = grid.side - 1;
    const uint8_t* cells = grid.cells.data();
    clear_upper_vector_state();  // see vector_state.hpp
    for (int64_t i = 0; i < n; ++i) {
        if (mask && !mask[i]) continue;
        const double x = xy[i * stride], y = xy[i * stride + 1];
        if (!(x >= grid.left && x <= grid.right && y >= grid.top && y <= grid.bottom)) continue;
        // Inside the box: non-negative, so truncation is floor (as rowOf/colOf).
        const int row = std::min(static_cast<int>((y - grid.top) * grid.to_row), last);
        const int col = std::min(static_cast<int>((x - grid.left) * grid.to_col), last);
        const uint8_t cell = cells[static_cast<size_t>(row) * grid.side + col];
        if (cell == kInside || (cell == kEdge && grid.exact(x, y, row))) hits.push_back(i);
    }
    return hits;
}

}  // namespace transcura::widgets
