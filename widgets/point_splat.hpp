#pragma once
// Point splatting, how the embedding view draws large clouds. Software OpenGL (Mesa llvmpipe
// under Xvfb) pays about a microsecond per point whatever its size: even the ~44k points a
// screen-space decimation kept of 1M cost ~30 ms a frame, and that decimation ~18 ms more.
// Writing the points' squares straight into an image costs a few nanoseconds per pixel on the
// CPU, so every point is drawn (no decimation, nothing approximated), and the image is copied
// into the QOpenGLWidget's framebuffer (EmbeddingScene::setRasterMode; VTK draws it as its
// background where that framebuffer is not a texture).
//
// Each point is the square a GL point of the same size paints (the fragments whose centres lie
// inside the square of side `size` centred on the point's window position, at llvmpipe's 1/256
// pixel snapping), so the picture is the one VTK draws with every point as a GL vertex (tested
// against it: 0.02-0.2% of painted pixels differ). Points are drawn in order, later over
// earlier; in 3D the nearest wins (GL's LEQUAL: a later point at the same depth too). Opacity
// blends as GL's SRC_ALPHA, ONE_MINUS_SRC_ALPHA in drawing order. For opaque points the image
// can hold point ids instead of colours, so that a recolour is a look-up per pixel.
#include <cstdint>
#include <vector>

#include <QColor>

#include "embedding_scene.hpp"

namespace transcura::widgets {

/// One set of points drawn over what is already there (the highlighted cells over the rest).
struct SplatLayer {
    /// The points to draw, increasing (nullptr: every point, or every `stride`-th one).
    const std::vector<int64_t>* ids = nullptr;
    int64_t stride = 1;                // with ids == nullptr: points 0, stride, 2 stride, ...
    const uint8_t* visible = nullptr;  // per point, 0: not drawn (nullptr: all drawn)
    const uint8_t* rgba = nullptr;     // per point colours (nullptr: `uniform` for all)
    uint32_t uniform = 0xff000000u;    // R | G << 8 | B << 16 | A << 24
    double point_size = 3;             // side of the square in framebuffer pixels
    double opacity = 1;
};

/// A colour as the splat's pixels and uniforms hold it: R | G << 8 | B << 16 | A << 24.
inline uint32_t splat_color(const QColor& c) {
    return uint32_t(c.red()) | uint32_t(c.green()) << 8 | uint32_t(c.blue()) << 16 |
           uint32_t(c.alpha()) << 24;
}

/// In an image of point ids: no point on this pixel.
constexpr uint32_t kNoPoint = 0xffffffffu;

struct SplatOptions {
    bool use_depth = false;  // 3D: the nearest point of each pixel wins
    /// The image receives, as a uint32_t per pixel, the index of the point on top (kNoPoint
    /// where none); colours and opacity are ignored (every point opaque). A recolour then
    /// only looks the colours up again (resolve_point_ids): the squares stay where they are.
    bool write_ids = false;
    uint32_t background = 0xffffffffu;  // R | G << 8 | B << 16 | A << 24
    int num_threads = 0;                // 0: OpenMP's default
};

/// An RGBA image, rows bottom-up (GL's and VTK's order), 4 bytes a pixel.
struct SplatImage {
    uint8_t* pixels = nullptr;
    int width = 0, height = 0;
};

/// Draws point layers into images, keeping its working memory from one frame to the next
/// (fresh pages for 1M points' squares cost more than drawing them).
class PointSplatter {
public:
    /// Draws the layers in order over the background into `image`; `projection` maps to
    /// widget coordinates of an image-sized widget (y down). Returns the number of points drawn
    /// (those with a pixel on the image; counted once per layer).
    int64_t draw(const float* xyz, int64_t n, const ScreenProjection& projection,
                 const std::vector<SplatLayer>& layers, const SplatOptions& options,
                 SplatImage image);

    /// A point's square on the image (unclipped corner, size), with its colour (alpha times
    /// the opacity) and depth.
    struct Square {
        int16_t x0, y0;  // lower-left pixel, rows bottom-up
        uint8_t width, height;
        uint32_t color;
        float depth;
    };

private:
    // Squares by (chunk of points, group of rows): buckets_[chunk * groups + group].
    std::vector<std::vector<Square>> buckets_;
    std::vector<float> depth_;
    std::vector<uint8_t> row_group_;
};

/// The picture of opaque layers from their id images (same size, `pixels` pixels): the top
/// layer's point where it has one, else the base's (in `base_uniform` when given, its colour
/// from `rgba` otherwise), else the background. `top` may be null.
void resolve_point_ids(const uint32_t* base, const uint32_t* top, int64_t pixels,
                       const uint8_t* rgba, const uint32_t* base_uniform, uint32_t background,
                       uint8_t* out);

}  // namespace transcura::widgets
