#include "point_index.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace transcura::widgets {

void GridIndex2D::clear() {
    count_ = 0;
    nx_ = ny_ = 0;
    start_.clear();
    ids_.clear();
    xy_.clear();
}

void GridIndex2D::build(const float* xy, int64_t n, int stride) {
    clear();
    xy_.resize(static_cast<size_t>(2 * n));
    double min_x = std::numeric_limits<double>::infinity(), min_y = min_x;
    double max_x = -min_x, max_y = -min_x;
    int64_t finite = 0;
    for (int64_t i = 0; i < n; ++i) {
        float x = xy[i * stride], y = xy[i * stride + 1];
        xy_[static_cast<size_t>(2 * i)] = x;
        xy_[static_cast<size_t>(2 * i + 1)] = y;
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        ++finite;
        min_x = std::min(min_x, double(x));
        max_x = std::max(max_x, double(x));
        min_y = std::min(min_y, double(y));
        max_y = std::max(max_y, double(y));
    }
    if (finite == 0) {
        xy_.clear();
        return;
    }
    // About two points per cell on average.
    double width = std::max(max_x - min_x, 1e-12), height = std::max(max_y - min_y, 1e-12);
    cell_ = std::sqrt(width * height * 2.0 / static_cast<double>(finite));
    cell_ = std::max(cell_, std::max(width, height) / 4096.0);
    min_x_ = min_x;
    min_y_ = min_y;
    nx_ = static_cast<int64_t>(width / cell_) + 1;
    ny_ = static_cast<int64_t>(height / cell_) + 1;

    auto cell_of = [&](int64_t i) -> int64_t {
        float x = xy_[static_cast<size_t>(2 * i)], y = xy_[static_cast<size_t>(2 * i + 1)];
        if (!std::isfinite(x) || !std::isfinite(y)) return -1;
        int64_t cx = std::min(nx_ - 1, static_cast<int64_t>((x - min_x_) / cell_));
        int64_t cy = std::min(ny_ - 1, static_cast<int64_t>((y - min_y_) / cell_));
        return cy * nx_ + cx;
    };
    start_.assign(static_cast<size_t>(nx_ * ny_ + 1), 0);
    for (int64_t i = 0; i < n; ++i)
        if (int64_t c = cell_of(i); c >= 0) ++start_[static_cast<size_t>(c + 1)];
    for (size_t c = 1; c < start_.size(); ++c) start_[c] += start_[c - 1];
    ids_.resize(static_cast<size_t>(finite));
    std::vector<int64_t> fill(start_.begin(), start_.end() - 1);
    for (int64_t i = 0; i < n; ++i)
        if (int64_t c = cell_of(i); c >= 0)
            ids_[static_cast<size_t>(fill[static_cast<size_t>(c)]++)] = i;
    count_ = finite;
}

int64_t GridIndex2D::nearest(double x, double y, double radius,
                             const std::function<bool(int64_t)>& accept) const {
    if (count_ == 0 || !(radius > 0)) return -1;
    int64_t x0 = static_cast<int64_t>(std::floor((x - radius - min_x_) / cell_));
    int64_t x1 = static_cast<int64_t>(std::floor((x + radius - min_x_) / cell_));
    int64_t y0 = static_cast<int64_t>(std::floor((y - radius - min_y_) / cell_));
    int64_t y1 = static_cast<int64_t>(std::floor((y + radius - min_y_) / cell_));
    x0 = std::max<int64_t>(x0, 0);
    y0 = std::max<int64_t>(y0, 0);
    x1 = std::min(x1, nx_ - 1);
    y1 = std::min(y1, ny_ - 1);
    // A huge radius relative to the cells would scan everything: that is still correct.
    int64_t best = -1;
    double best_d2 = radius * radius;
    for (int64_t cy = y0; cy <= y1; ++cy)
        for (int64_t cx = x0; cx <= x1; ++cx) {
            int64_t c = cy * nx_ + cx;
            for (int64_t k = start_[static_cast<size_t>(c)]; k < start_[static_cast<size_t>(c + 1)];
                 ++k) {
                int64_t id = ids_[static_cast<size_t>(k)];
                double dx = xy_[static_cast<size_t>(2 * id)] - x;
                double dy = xy_[static_cast<size_t>(2 * id + 1)] - y;
                double d2 = dx * dx + dy * dy;
                // Ties go to the point drawn last (the one on top).
                if (d2 <= best_d2 && (!accept || accept(id))) {
                    best_d2 = d2;
                    best = id;
                }
            }
        }
    return best;
}

}  // namespace transcura::widgets
