#pragma once
// Which points fall inside a lasso polygon or a box, in the points' own coordinates, in parallel
// for large inputs. Results are sorted point indices.
#include <cstdint>
#include <vector>

#include <QPolygonF>
#include <QRectF>

namespace transcura::widgets {

/// Even-odd (crossing number) rule, as matplotlib's Path.contains_points; points exactly on an
/// edge may fall either way. Every point against every edge: the plain reference that the
/// view's lasso (points_in_lasso, lasso_selection.hpp: the same points, far fewer tests) is
/// checked against. `stride` floats per point, x then y first. `mask` (may be null)
/// excludes points whose flag is 0. NaN coordinates are never inside.
std::vector<int64_t> points_in_polygon(const float* xy, int64_t n, int stride,
                                       const QPolygonF& polygon, const uint8_t* mask = nullptr);

/// Points with left <= x <= right and top <= y <= bottom of a normalised rectangle.
std::vector<int64_t> points_in_rect(const float* xy, int64_t n, int stride, const QRectF& rect,
                                    const uint8_t* mask = nullptr);

/// Sorted-set helpers for combining selections.
std::vector<int64_t> selection_union(const std::vector<int64_t>& a, const std::vector<int64_t>& b);
std::vector<int64_t> selection_difference(const std::vector<int64_t>& a,
                                          const std::vector<int64_t>& b);

}  // namespace transcura::widgets
