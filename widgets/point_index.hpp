#pragma once
// A uniform grid over 2D points for hover picking: built once per layout (counting sort, O(n)),
// queried in O(points near the cursor). Keeps its own copy of the coordinates.
#include <cstdint>
#include <functional>
#include <vector>

namespace transcura::widgets {

class GridIndex2D {
public:
    /// Points are (xy[i * stride], xy[i * stride + 1]); NaN coordinates are left out.
    void build(const float* xy, int64_t n, int stride);
    void clear();
    bool empty() const { return count_ == 0; }
    int64_t size() const { return count_; }

    /// The point nearest to (x, y) within `radius` accepted by `accept` (may be empty), or -1.
    int64_t nearest(double x, double y, double radius,
                    const std::function<bool(int64_t)>& accept = {}) const;

private:
    int64_t count_ = 0;
    double min_x_ = 0, min_y_ = 0, cell_ = 1;
    int64_t nx_ = 0, ny_ = 0;
    std::vector<int64_t> start_;  // nx * ny + 1 offsets into ids_
    std::vector<int64_t> ids_;    // point ids sorted by cell
    std::vector<float> xy_;       // x, y of each point (by id)
};

}  // namespace transcura::widgets
