#include "selection_geometry.hpp"

#include "vector_state.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace transcura::widgets {

namespace {

/// Runs `inside(i)` over all points in parallel chunks and concatenates the hits in order.
template <typename Predicate>
std::vector<int64_t> collect(int64_t n, Predicate inside) {
    const int64_t chunk = 1 << 16;
    const int64_t n_chunks = (n + chunk - 1) / chunk;
    std::vector<std::vector<int64_t>> hits(static_cast<size_t>(n_chunks));
#pragma omp parallel for schedule(dynamic, 1) if (n > 200000)
    for (int64_t c = 0; c < n_chunks; ++c) {
        std::vector<int64_t>& out = hits[static_cast<size_t>(c)];
        out.reserve(static_cast<size_t>(chunk));  // no reallocation (memmove) in the loop
        clear_upper_vector_state();               // see vector_state.hpp
        for (int64_t i = c * chunk, end = std::min(n, (c + 1) * chunk); i < end; ++i)
            if (inside(i)) out.push_back(i);
    }
    size_t total = 0;
    for (const auto& h : hits) total += h.size();
    std::vector<int64_t> result;
    result.reserve(total);
    for (const auto& h : hits) result.insert(result.end(), h.begin(), h.end());
    return result;
}

}  // namespace

std::vector<int64_t> points_in_polygon(const float* xy, int64_t n, int stride,
                                       const QPolygonF& polygon, const uint8_t* mask) {
    if (polygon.size() < 3 || n <= 0) return {};
    std::vector<double> px(static_cast<size_t>(polygon.size())), py(px.size());
    for (qsizetype k = 0; k < polygon.size(); ++k) {
        px[static_cast<size_t>(k)] = polygon[k].x();
        py[static_cast<size_t>(k)] = polygon[k].y();
    }
    const QRectF bounds = polygon.boundingRect();
    const double left = bounds.left(), right = bounds.right();
    const double top = bounds.top(), bottom = bounds.bottom();
    const size_t m = px.size();
    return collect(n, [&](int64_t i) {
        if (mask && !mask[i]) return false;
        const double x = xy[i * stride], y = xy[i * stride + 1];
        if (!(x >= left && x <= right && y >= top && y <= bottom)) return false;
        bool inside = false;
        for (size_t a = 0, b = m - 1; a < m; b = a++) {
            if ((py[a] > y) != (py[b] > y) &&
                x < (px[b] - px[a]) * (y - py[a]) / (py[b] - py[a]) + px[a])
                inside = !inside;
        }
        return inside;
    });
}

std::vector<int64_t> points_in_rect(const float* xy, int64_t n, int stride, const QRectF& rect,
                                    const uint8_t* mask) {
    const QRectF r = rect.normalized();
    const double left = r.left(), right = r.right(), top = r.top(), bottom = r.bottom();
    return collect(n, [&](int64_t i) {
        if (mask && !mask[i]) return false;
        const double x = xy[i * stride], y = xy[i * stride + 1];
        return x >= left && x <= right && y >= top && y <= bottom;
    });
}

std::vector<int64_t> selection_union(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
    std::vector<int64_t> out;
    out.reserve(a.size() + b.size());
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

std::vector<int64_t> selection_difference(const std::vector<int64_t>& a,
                                          const std::vector<int64_t>& b) {
    std::vector<int64_t> out;
    out.reserve(a.size());
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
    return out;
}

}  // namespace transcura::widgets
