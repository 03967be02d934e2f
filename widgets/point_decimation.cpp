#include "point_decimation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace transcura::widgets {

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

    const int64_t count = candidates ? static_cast<int64_t>(candidates->size()) : n;
    const double inverse = 1.0 / cell;
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
    }

    // Back to drawing order through a flag per point (cheaper than sorting the survivors).
    std::vector<uint8_t> keep(static_cast<size_t>(n), 0);
    int64_t kept = 0;
    for (int64_t i : best)
        if (i >= 0) {
            keep[static_cast<size_t>(i)] = 1;
            ++kept;
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
