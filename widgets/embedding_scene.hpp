#pragma once
// The VTK side of the embedding view, behind a pimpl so that only embedding_scene.cpp includes
// VTK. Renders through vtkGenericOpenGLRenderWindow into the current (Qt) framebuffer, following
// the recipe in design.md ("VTK inside Qt 6"). Every call that renders or releases GPU
// resources needs the widget's GL context current.
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include <QColor>
#include <QPointF>
#include <QSizeF>

namespace transcura::widgets {

struct CameraState {
    std::array<double, 3> focal{0, 0, 0};
    std::array<double, 3> position{0, 0, 1};
    std::array<double, 3> view_up{0, 1, 0};
    double parallel_scale = 1.0;  // half the viewport height in data units
};

/// Parallel projection of data points to widget pixels: x right, y down, depth away from the
/// viewer (smaller is nearer).
struct ScreenProjection {
    std::array<double, 3> focal{}, right{}, up{}, direction{};
    double pixels_per_unit = 1, center_x = 0, center_y = 0;

    void apply(const float* p, float& x, float& y, float& depth) const {
        const double dx = p[0] - focal[0], dy = p[1] - focal[1], dz = p[2] - focal[2];
        const double along_right = dx * right[0] + dy * right[1] + dz * right[2];
        const double along_up = dx * up[0] + dy * up[1] + dz * up[2];
        x = static_cast<float>(center_x + along_right * pixels_per_unit);
        y = static_cast<float>(center_y - along_up * pixels_per_unit);
        depth = static_cast<float>(dx * direction[0] + dy * direction[1] + dz * direction[2]);
    }
};

class EmbeddingScene {
public:
    EmbeddingScene();
    ~EmbeddingScene();
    EmbeddingScene(const EmbeddingScene&) = delete;
    EmbeddingScene& operator=(const EmbeddingScene&) = delete;

    // --- GL lifetime (context current) ---
    void initialize();
    void resize(int width_px, int height_px);
    void render();
    void release();

    // --- data: two layers of points, gathered from the caller's full arrays ---
    enum Layer { Base = 0, Highlight = 1 };
    /// Draws points `ids` of the full arrays (xyz: 3 floats, rgba: 4 bytes per point) in
    /// `layer`, in the order given. The highlight layer is always drawn over the base.
    void setLayer(Layer layer, const float* xyz, const uint8_t* rgba,
                  const std::vector<int64_t>& ids);
    /// Only the colours changed (same ids as the last setLayer).
    void setLayerColors(Layer layer, const uint8_t* rgba, const std::vector<int64_t>& ids);
    int64_t layerSize(Layer layer) const;
    /// Draws the base layer in one colour (used to grey everything out behind a selection).
    void setBaseDimmed(bool dimmed, QColor color);

    // --- large clouds: a splatted image (point_splat.hpp) instead of the point layers ---
    /// On: render() copies rasterImage() into the current framebuffer (or, when that is not a
    /// texture, VTK draws it as its background), and the point layers are left empty.
    void setRasterMode(bool on);
    bool rasterMode() const;
    /// The framebuffer-sized RGBA image (rows bottom-up) to splat into; reallocated on resize.
    /// Call rasterUpdated() after writing it.
    uint8_t* rasterImage(int& width_px, int& height_px);
    void rasterUpdated();
    /// Off: the image is always drawn by VTK as its background (the path taken where Qt's
    /// framebuffer is not a texture), for tests; on by default.
    void setDirectRasterUpload(bool on);

    // --- appearance ---
    void setPointSize(double pixels);
    void setOpacity(double opacity);
    /// The highlight layer is drawn a pixel larger and more opaque than the base (GL points
    /// here, the splat in EmbeddingView: one rule for both).
    static double highlightPointSize(double base_pixels) { return base_pixels + 1.0; }
    static double highlightOpacity(double base_opacity) {
        return std::min(1.0, base_opacity + 0.25);
    }
    void setBackground(QColor color);
    QColor background() const;

    // --- camera (parallel projection, in 2D and 3D) ---
    CameraState camera() const;
    void setCamera(const CameraState& state);
    /// Fits the bounds (xmin, xmax, ymin, ymax, zmin, zmax); `three_d` keeps the current
    /// direction, 2D looks down -z with y up.
    void resetCamera(const std::array<double, 6>& bounds, bool three_d, double aspect);
    /// Zoom by `factor` (> 1 zooms in) keeping the widget point (px, py) fixed.
    void zoomAt(double factor, QPointF widget_pos, QSizeF widget_size);
    /// Moves the view so that the content follows the mouse by (dx, dy) widget pixels.
    void pan(QPointF delta, QSizeF widget_size);
    void rotate(double azimuth_degrees, double elevation_degrees);
    /// The point in the view plane through the focal point under a widget position.
    std::array<double, 3> widgetToWorld(QPointF widget_pos, QSizeF widget_size) const;
    /// The affine map from data to widget coordinates (and depth) for the current camera.
    ScreenProjection projection(QSizeF widget_size) const;
    /// Widget coordinates of points (x, y, z) for the current camera, in parallel for large n.
    void project(const float* xyz, int64_t n, QSizeF widget_size, std::vector<float>& out_xy) const;

private:
    /// Raster mode: the image copied into the current (Qt's) framebuffer's texture; false when
    /// that framebuffer is not a plain texture (then VTK draws it).
    bool uploadRaster();

    struct Impl;
    std::unique_ptr<Impl> d;
};

}  // namespace transcura::widgets
