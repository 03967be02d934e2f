#pragma once
// The points inside a lasso, fast for many points and many vertices. The polygon is laid over a
// grid of cells across its bounding box: a cell that no edge touches is wholly inside or wholly
// outside (the crossing number cannot change within it), so its points are classified by the
// cell alone, one table look-up each; points in cells an edge touches get the exact crossing
// test, against only the edges spanning their row of cells. A mouse lasso has hundreds of
// vertices: testing every point against every edge (selection_geometry.hpp) costs points x
// edges; this costs about a look-up per point. Same rule and arithmetic as points_in_polygon
// (even-odd, the same intersection formula), so the same points, but for points within rounding
// of an edge, which may fall either way with either.
#include <cstdint>
#include <vector>

#include <QPolygonF>

namespace transcura::widgets {

/// Sorted indices of the points inside `polygon`: (xy[i * stride], xy[i * stride + 1]);
/// `mask` (may be null) excludes points whose flag is 0; NaN coordinates are never inside.
std::vector<int64_t> points_in_lasso(const float* xy, int64_t n, int stride,
                                     const QPolygonF& polygon, const uint8_t* mask = nullptr);

}  // namespace transcura::widgets
