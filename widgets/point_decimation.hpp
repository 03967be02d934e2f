#pragma once
// Screen-space decimation, the embedding view's level of detail. Software OpenGL (Mesa llvmpipe
// under Xvfb) pays about a microsecond per point whatever its size, so drawing 1M points takes
// most of a second. On screen, though, a point is hidden by the later points drawn over it:
// keeping, for every cell of a fine screen grid (half a point wide), only the point that ends up
// on top (the last one in drawing order in 2D, the nearest in 3D) draws nearly the same picture
// with a bounded number of points. Points off screen are dropped too.
//
// Dense regions need fewer still (2D, tile_pixels > 0): a square point of an integer size s whose
// centre lies within half a pixel of the centre of an s x s tile of the pixel grid paints exactly
// that tile. Where every tile of a 3 x 3 block has such a point, the middle tile is painted by its
// own one alone, so its other points are dropped: about one point per s x s pixels instead of
// one per (s/2) x (s/2), a quarter, with the same coverage. Tiles at the edge of a dense region
// keep the fine cells' points too, so nothing that was painted goes blank.
#include <cstdint>
#include <vector>

#include <QSizeF>

#include "embedding_scene.hpp"

namespace transcura::widgets {

struct DecimationOptions {
    double cell_pixels = 1.5;  // grid cell size in widget pixels
    double margin_pixels = 4;  // keep points this far outside the widget (partly visible)
    bool use_depth = false;    // 3D: keep the nearest point of each cell, not the last
    /// 2D only: the drawn point size in pixels when it is an integer on a 1:1 pixel grid (so a
    /// centred point paints exactly one tile), 0 for no tiling.
    int tile_pixels = 0;
};

/// The points to draw, in increasing index order. `candidates` (sorted) restricts the points
/// considered (nullptr: all n points); `mask` (may be null) drops points whose flag is 0.
std::vector<int64_t> decimate_on_screen(const float* xyz, int64_t n, const uint8_t* mask,
                                        const std::vector<int64_t>* candidates,
                                        const ScreenProjection& projection, QSizeF widget_size,
                                        const DecimationOptions& options);

}  // namespace transcura::widgets
