#pragma once
// The embedding view: a point cloud (UMAP, PCA, ... in 2D or 3D) rendered by VTK inside a Qt 6
// QOpenGLWidget, coloured by categories (legend that hides categories) or values (colour bar),
// with zoom/pan/rotate, hover tooltips (grid index, no VTK pickers), lasso and box selection in
// data coordinates, and in-place position and colour updates (live UMAP, fast recolouring).
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include <QElapsedTimer>
#include <QLabel>
#include <QOpenGLWidget>
#include <QPolygonF>
#include <QSurfaceFormat>
#include <QTimer>

#include "color_maps.hpp"
#include "embedding_scene.hpp"
#include "plot_export.hpp"
#include "point_index.hpp"
#include "point_splat.hpp"
#include "transcura/cohort.hpp"

namespace transcura::widgets {

class LegendOverlay;
class ColorBarOverlay;
class SelectionOverlay;

class EmbeddingView : public QOpenGLWidget, public PlotExportable {
    Q_OBJECT
public:
    enum class Mode { Navigate, Lasso, Box };
    Q_ENUM(Mode)

    /// OpenGL 3.2 core, as VTK needs; set as default before QApplication (see gui_main.cpp).
    static QSurfaceFormat surfaceFormat();

    explicit EmbeddingView(QWidget* parent = nullptr);
    ~EmbeddingView() override;

    // ----------------------------------------------------------------------- positions
    /// n points of `dims` (2 or 3) floats, row-major. Resets colours, selection and camera.
    void setPoints(const std::vector<float>& coords, int dims);
    /// Columns of an obsm matrix (z_col < 0: 2D).
    void setPoints(const DenseD& matrix, int x_col = 0, int y_col = 1, int z_col = -1);
    /// Points already laid out as x, y, z floats (z = 0 in 2D), moved in: no conversion on
    /// the GUI thread (prepared on a worker for large cohorts), with their bounds when known
    /// (point_bounds(); a pass over 1M points saved). Same resets as setPoints.
    void setPreparedPoints(std::vector<float> xyz, int dims,
                           std::optional<std::array<double, 6>> bounds = std::nullopt);
    /// Columns x, y (and z >= 0) of an obsm matrix laid out as setPreparedPoints takes them;
    /// empty when a column is out of range. Callable on any thread.
    static std::vector<float> layout_points(const DenseD& matrix, int x_col, int y_col,
                                            int z_col = -1);
    /// Bounds (xmin, xmax, ymin, ymax, zmin, zmax) of the finite points, as the view fits
    /// them; {0, 1, 0, 1, 0, 0} when there are none.
    static std::array<double, 6> point_bounds(const float* xyz, int64_t n,
                                              const uint8_t* visible = nullptr);
    /// Same number of points, moved in place (live UMAP); keeps colours, selection, camera.
    void updatePositions(const float* coords, int64_t n, int dims, bool refit = false);
    void updatePositions(const DenseD& matrix, bool refit = false);
    void clearPoints();
    int64_t pointCount() const { return n_; }
    int dimensions() const { return dims_; }
    /// x, y, z of every point (z = 0 in 2D), 3 floats per point.
    const std::vector<float>& coordinates() const { return xyz_; }

    // ------------------------------------------------------------------------- colours
    void setCategorical(const QString& title, const std::vector<int32_t>& codes,
                        const QStringList& categories, std::vector<QColor> palette = {});
    void setContinuous(const QString& title, const std::vector<float>& values,
                       double lo = std::numeric_limits<double>::quiet_NaN(),
                       double hi = std::numeric_limits<double>::quiet_NaN(),
                       ColorMapKind map = ColorMapKind::Viridis);
    void setUniformColor(const QColor& color, const QString& title = {});
    /// Colours computed elsewhere: 4 bytes (RGBA) per point; no legend or colour bar.
    void setColors(const std::vector<uint8_t>& rgba, const QString& title = {});
    QString colorTitle() const { return color_title_; }
    void setCategoryHidden(int category, bool hidden);
    std::vector<bool> hiddenCategories() const { return hidden_; }
    /// RGBA of point i as drawn (before selection dimming); for tests.
    QColor pointColor(int64_t i) const;

    // ---------------------------------------------------------------------- appearance
    void setPointSize(double pixels);
    double pointSize() const { return point_size_; }
    void setOpacity(double opacity);
    double opacity() const { return opacity_; }

    // -------------------------------------------------------------------------- camera
    void resetView();
    CameraState cameraState() const;
    void setCameraState(const CameraState& state);
    /// Widget position of a data point (uses the current camera; works in 2D and 3D).
    QPointF dataToWidget(double x, double y, double z = 0.0) const;
    /// Data coordinates (x, y) under a widget position, in the view plane (exact in 2D).
    QPointF widgetToData(QPointF widget_pos) const;

    // ----------------------------------------------------------------------- selection
    void setMode(Mode mode);
    Mode mode() const { return mode_; }
    /// Highlights these (sorted) points; does not emit selectionMade.
    void setSelection(std::vector<int64_t> sorted_indices);
    const std::vector<int64_t>& selection() const { return selection_; }
    /// As the user would: clears and emits selectionMade({}) when something was selected.
    void clearSelection();
    /// Points inside a lasso given in widget coordinates (what a mouse lasso selects).
    std::vector<int64_t> pointsInWidgetPolygon(const QPolygonF& polygon) const;
    /// The visible point nearest to a widget position within a few pixels, or -1.
    int64_t pointAt(QPointF widget_pos) const;
    void setTooltipProvider(std::function<QString(int64_t)> provider);

    // ---------------------------------------------------------------------- export etc.
    QString exportTitle() const override { return tr("Embedding"); }
    QSize exportSize() const override { return size(); }
    void renderExport(QPainter& painter, const QRectF& area) override;
    /// Milliseconds spent in the last render (including GPU uploads) and selection.
    double lastRenderMs() const { return last_render_ms_; }
    double lastSelectionMs() const { return last_selection_ms_; }
    void setPlaceholderText(const QString& text);
    /// Above this many points the view splats them into an image that VTK draws as one
    /// texture (point_splat.hpp); up to it they are VTK's GL points.
    void setSplatThreshold(int64_t points);
    /// Off: the splatted image is drawn by VTK as its background texture instead of being
    /// copied into the framebuffer (EmbeddingScene::setDirectRasterUpload), for tests.
    void setDirectRasterUpload(bool on) {
        scene_.setDirectRasterUpload(on);
        update();
    }
    /// Points drawn in the last frame (both layers; splatted ones included).
    int64_t drawnPoints() const;
    /// At most about this many points are drawn per frame (an even stride through the
    /// points); 0: all. The live UMAP uses it so that one frame
    /// stays short on software OpenGL; the final layout is drawn with no budget.
    void setPointBudget(int64_t points);
    int64_t pointBudget() const { return point_budget_; }

signals:
    /// The user drew a lasso or box (or pressed Escape): the resulting selection, already
    /// combined with the previous one (Shift adds, Ctrl removes).
    void selectionMade(const std::vector<int64_t>& indices);
    void pointHovered(qint64 index);
    void modeChanged(transcura::widgets::EmbeddingView::Mode mode);
    void categoryVisibilityChanged();
    void cameraChanged();

protected:
    void initializeGL() override;
    void resizeGL(int w, int h) override;
    void paintGL() override;
    void resizeEvent(QResizeEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    static QColor dimmedColor();  // unselected cells while a selection is shown
    void releaseGraphics();
    void attachPoints(std::optional<std::array<double, 6>> bounds = std::nullopt);
    void markGeometryDirty();
    void markSelectionDirty();
    void markColorsDirty();
    void cameraMoved(bool interactive);
    void prepareDrawLists();
    void splatPoints();
    /// Every how many points a frame draws under the point budget (1: all).
    int64_t budgetStride() const;
    void applyVisibility();
    void layoutOverlays();
    /// Widget pixels on the right that the legend or colour bar covers (0 when neither shows).
    int rightOverlayWidth() const;
    void updateStatus();
    void finishSelection(const QPolygonF& widget_polygon, bool box);
    void showHoverTooltip();
    void invalidatePicking() { pick_valid_ = false; }
    const GridIndex2D& pickIndex() const;
    std::array<double, 6> bounds() const;
    // bounds() of the current points and visibility (a pass over every point, ~5 ms at 1M,
    // needed by every automatic fit, e.g. when a recolour swaps legend and colour bar).
    mutable std::optional<std::array<double, 6>> bounds_;

    EmbeddingScene scene_;
    PointSplatter splatter_;
    std::vector<float> xyz_;     // 3 floats per point (z = 0 in 2D)
    std::vector<uint8_t> rgba_;  // 4 bytes per point
    int64_t n_ = 0;
    // what the scene draws: point ids per layer (GL points), rebuilt lazily before a frame
    std::vector<int64_t> base_ids_, top_ids_;
    bool geometry_dirty_ = true;   // which points the base layer draws (and so the top's)
    bool selection_dirty_ = true;  // which points the highlight layer draws
    bool colors_dirty_ = false;
    // Software GL pays ~1 us per GL point whatever its size; a splat, a few ns per pixel
    // (20k points: ~20 ms as points, ~3 ms splatted with the texture upload).
    int64_t splat_above_ = 20000;
    int64_t splatted_ = 0;  // points drawn by the last splat
    // Opaque splats: the point on top of each framebuffer pixel per layer (kNoPoint: none).
    std::vector<uint32_t> base_point_ids_, top_point_ids_;
    int point_ids_width_ = 0, point_ids_height_ = 0;
    bool point_ids_valid_ = false;
    int64_t splatted_base_ = 0, splatted_top_ = 0;
    int64_t point_budget_ = 0;
    int dims_ = 2;
    // colouring
    QString color_title_;
    std::vector<int32_t> codes_;  // categorical codes (empty when continuous)
    std::vector<bool> hidden_;
    std::vector<uint8_t> visible_mask_;  // empty = all visible
    // view
    double point_size_ = 3.0;
    double opacity_ = 1.0;
    bool camera_fitted_ = false;
    bool auto_fitted_ = false;  // camera as resetView() left it: not moved or set since
    int fitted_reserved_ = 0;   // rightOverlayWidth() when it was fitted
    Mode mode_ = Mode::Navigate;
    std::vector<int64_t> selection_;
    // interaction
    enum class Drag { None, Pan, Rotate, Lasso, Box } drag_ = Drag::None;
    QPointF last_pos_;
    QPolygonF path_;
    Qt::KeyboardModifiers drag_modifiers_;
    QTimer hover_timer_;
    QPointF hover_pos_;
    int64_t hovered_ = -1;
    std::function<QString(int64_t)> tooltip_provider_;
    // picking (2D: data coordinates; 3D: projected widget coordinates), built lazily
    mutable GridIndex2D pick_index_;
    mutable std::vector<float> projected_;
    mutable bool pick_valid_ = false;
    // overlays
    LegendOverlay* legend_ = nullptr;
    ColorBarOverlay* color_bar_ = nullptr;
    SelectionOverlay* selection_overlay_ = nullptr;
    QLabel* status_ = nullptr;
    QLabel* placeholder_ = nullptr;
    double last_render_ms_ = 0;
    double last_selection_ms_ = 0;
    bool gl_ready_ = false;
};

}  // namespace transcura::widgets
