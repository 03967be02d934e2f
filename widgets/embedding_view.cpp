#include "embedding_view.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <QKeyEvent>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QPainter>
#include <QToolTip>
#include <QWheelEvent>

#include "embedding_overlays.hpp"
#include "selection_geometry.hpp"
#include "transcura/threshold_counts.hpp"

namespace transcura::widgets {

namespace {
constexpr int kMargin = 10;
const QColor kDefaultPointColor(70, 110, 170);
}  // namespace

QColor EmbeddingView::dimmedColor() {
    return QColor(234, 234, 234);  // lighter than every palette's colours (color_maps.cpp)
}

QSurfaceFormat EmbeddingView::surfaceFormat() {
    QSurfaceFormat format;
    format.setRenderableType(QSurfaceFormat::OpenGL);
    format.setVersion(3, 2);
    format.setProfile(QSurfaceFormat::CoreProfile);
    format.setRedBufferSize(8);
    format.setGreenBufferSize(8);
    format.setBlueBufferSize(8);
    format.setAlphaBufferSize(8);
    format.setDepthBufferSize(24);
    format.setStencilBufferSize(8);
    format.setSamples(0);
    format.setSwapBehavior(QSurfaceFormat::DoubleBuffer);
    return format;
}

EmbeddingView::EmbeddingView(QWidget* parent) : QOpenGLWidget(parent) {
    setFormat(surfaceFormat());
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(240, 180);
    setAccessibleName(tr("Embedding view"));

    legend_ = new LegendOverlay(this);
    legend_->hide();
    color_bar_ = new ColorBarOverlay(this);
    color_bar_->hide();
    selection_overlay_ = new SelectionOverlay(this);
    status_ = new QLabel(this);
    status_->setAttribute(Qt::WA_TransparentForMouseEvents);
    status_->setStyleSheet(QStringLiteral(
        "QLabel { background: rgba(255,255,255,210); color: #333; border: 1px solid #c8c8c8;"
        " border-radius: 4px; padding: 2px 6px; }"));
    placeholder_ = new QLabel(tr("Open a cohort with File \u25b8 Open, or drop a file here"), this);
    placeholder_->setAttribute(Qt::WA_TransparentForMouseEvents);
    placeholder_->setAlignment(Qt::AlignCenter);
    placeholder_->setStyleSheet(QStringLiteral("QLabel { color: #777; font-size: 14pt; }"));

    hover_timer_.setSingleShot(true);
    hover_timer_.setInterval(40);
    connect(&hover_timer_, &QTimer::timeout, this, &EmbeddingView::showHoverTooltip);
    connect(legend_, &LegendOverlay::categoryToggled, this, [this](int k) {
        if (static_cast<size_t>(k) >= hidden_.size()) return;
        setCategoryHidden(k, !hidden_[static_cast<size_t>(k)]);
        emit categoryVisibilityChanged();
    });
    connect(legend_, &LegendOverlay::categorySoloed, this, [this](int k) {
        if (static_cast<size_t>(k) >= hidden_.size()) return;
        bool only_k = !hidden_[static_cast<size_t>(k)] &&
                      std::count(hidden_.begin(), hidden_.end(), false) == 1;
        for (size_t c = 0; c < hidden_.size(); ++c) hidden_[c] = !only_k && c != size_t(k);
        legend_->setHidden(hidden_);
        applyVisibility();
        emit categoryVisibilityChanged();
    });
    updateStatus();
}

EmbeddingView::~EmbeddingView() {
    if (context()) disconnect(context(), nullptr, this, nullptr);
    releaseGraphics();
}

void EmbeddingView::releaseGraphics() {
    if (!gl_ready_) return;
    makeCurrent();
    scene_.release();
    doneCurrent();
    gl_ready_ = false;
}

// ------------------------------------------------------------------------------- positions

void EmbeddingView::setPoints(const std::vector<float>& coords, int dims) {
    dims_ = dims == 3 ? 3 : 2;
    n_ = static_cast<int64_t>(coords.size()) / dims;
    xyz_.assign(static_cast<size_t>(3 * n_), 0.0f);
    for (int64_t i = 0; i < n_; ++i)
        for (int c = 0; c < dims_; ++c)
            xyz_[static_cast<size_t>(3 * i + c)] = coords[static_cast<size_t>(i * dims + c)];
    attachPoints();
}

std::vector<float> EmbeddingView::layout_points(const DenseD& m, int x_col, int y_col, int z_col) {
    const int dims = z_col >= 0 ? 3 : 2;
    const int cols[3] = {x_col, y_col, z_col};
    for (int c = 0; c < dims; ++c)
        if (cols[c] < 0 || cols[c] >= m.n_cols) return {};
    std::vector<float> xyz(static_cast<size_t>(3 * m.n_rows), 0.0f);
    for (int64_t i = 0; i < m.n_rows; ++i)
        for (int c = 0; c < dims; ++c)
            xyz[static_cast<size_t>(3 * i + c)] = static_cast<float>(m(i, cols[c]));
    return xyz;
}

void EmbeddingView::setPoints(const DenseD& m, int x_col, int y_col, int z_col) {
    std::vector<float> xyz = layout_points(m, x_col, y_col, z_col);
    if (xyz.empty() && m.n_rows > 0)
        qWarning("EmbeddingView: columns %d, %d, %d out of range", x_col, y_col, z_col);
    setPreparedPoints(std::move(xyz), z_col >= 0 ? 3 : 2);
}

void EmbeddingView::setPreparedPoints(std::vector<float> xyz, int dims,
                                      std::optional<std::array<double, 6>> bounds) {
    dims_ = dims == 3 ? 3 : 2;
    n_ = static_cast<int64_t>(xyz.size()) / 3;
    xyz_ = std::move(xyz);
    xyz_.resize(static_cast<size_t>(3 * n_));
    attachPoints(bounds);
}

void EmbeddingView::attachPoints(std::optional<std::array<double, 6>> bounds) {
    bounds_ = bounds;
    rgba_.assign(static_cast<size_t>(4 * n_), 0);
    codes_.clear();
    hidden_.clear();
    visible_mask_.clear();
    selection_.clear();
    color_title_.clear();
    fill_uniform(n_, kDefaultPointColor, rgba_.data());
    scene_.setBaseDimmed(false, dimmedColor());
    markGeometryDirty();
    legend_->hide();
    color_bar_->hide();
    placeholder_->setVisible(n_ == 0);
    camera_fitted_ = false;
    if (isVisible() && n_ > 0) resetView();
    invalidatePicking();
    updateStatus();
    update();
}

void EmbeddingView::updatePositions(const float* coords, int64_t n, int dims, bool refit) {
    if (n != n_ || (dims == 3) != (dims_ == 3)) {
        setPoints(std::vector<float>(coords, coords + n * dims), dims);
        return;
    }
    for (int64_t i = 0; i < n; ++i)
        for (int c = 0; c < dims_; ++c) xyz_[static_cast<size_t>(3 * i + c)] = coords[i * dims + c];
    bounds_.reset();
    invalidatePicking();
    if (refit) camera_fitted_ = false;
    markGeometryDirty();
}

void EmbeddingView::updatePositions(const DenseD& m, bool refit) {
    std::vector<float> coords(m.values.begin(), m.values.end());
    updatePositions(coords.data(), m.n_rows, static_cast<int>(m.n_cols), refit);
}

void EmbeddingView::clearPoints() {
    setPoints(std::vector<float>{}, 2);
}

std::array<double, 6> EmbeddingView::point_bounds(const float* xyz, int64_t n,
                                                  const uint8_t* visible) {
    std::array<double, 6> b{0, 1, 0, 1, 0, 0};
    bool any = false;
    for (int64_t i = 0; i < n; ++i) {
        if (visible && !visible[i]) continue;
        const float* p = xyz + 3 * i;
        if (!std::isfinite(p[0]) || !std::isfinite(p[1]) || !std::isfinite(p[2])) continue;
        if (!any) b = {p[0], p[0], p[1], p[1], p[2], p[2]};
        any = true;
        for (int c = 0; c < 3; ++c) {
            b[2 * c] = std::min(b[2 * c], double(p[c]));
            b[2 * c + 1] = std::max(b[2 * c + 1], double(p[c]));
        }
    }
    return b;
}

std::array<double, 6> EmbeddingView::bounds() const {
    if (!bounds_)
        bounds_ =
            point_bounds(xyz_.data(), n_, visible_mask_.empty() ? nullptr : visible_mask_.data());
    return *bounds_;
}

// --------------------------------------------------------------------------------- colours

void EmbeddingView::setCategorical(const QString& title, const std::vector<int32_t>& codes,
                                   const QStringList& categories, std::vector<QColor> palette) {
    if (static_cast<int64_t>(codes.size()) != n_) {
        qWarning("EmbeddingView::setCategorical: %zu codes for %lld points", codes.size(),
                 static_cast<long long>(n_));
        return;
    }
    const int k = static_cast<int>(categories.size());
    if (static_cast<int>(palette.size()) < k) palette = categorical_palette(k);
    fill_categorical(codes, palette, rgba_.data());
    markColorsDirty();
    codes_ = codes;
    hidden_.assign(static_cast<size_t>(k), false);
    color_title_ = title;
    legend_->setCategories(title, categories, palette, count_codes(codes, k));
    legend_->show();
    color_bar_->hide();
    applyVisibility();
    layoutOverlays();
    updateStatus();
}

void EmbeddingView::setContinuous(const QString& title, const std::vector<float>& values, double lo,
                                  double hi, ColorMapKind map) {
    if (static_cast<int64_t>(values.size()) != n_) {
        qWarning("EmbeddingView::setContinuous: %zu values for %lld points", values.size(),
                 static_cast<long long>(n_));
        return;
    }
    if (std::isnan(lo) || std::isnan(hi)) {
        float mn = INFINITY, mx = -INFINITY;
        for (float v : values)
            if (std::isfinite(v)) {
                mn = std::min(mn, v);
                mx = std::max(mx, v);
            }
        if (std::isnan(lo)) lo = std::isfinite(mn) ? mn : 0.0;
        if (std::isnan(hi)) hi = std::isfinite(mx) ? mx : 1.0;
    }
    ColorMap color_map(map);
    fill_continuous(values, lo, hi, color_map, rgba_.data());
    markColorsDirty();
    codes_.clear();
    hidden_.clear();
    color_title_ = title;
    color_bar_->setMap(title, color_map, lo, hi);
    color_bar_->show();
    legend_->hide();
    applyVisibility();
    layoutOverlays();
    updateStatus();
}

void EmbeddingView::setUniformColor(const QColor& color, const QString& title) {
    fill_uniform(n_, color, rgba_.data());
    markColorsDirty();
    codes_.clear();
    hidden_.clear();
    color_title_ = title;
    legend_->hide();
    color_bar_->hide();
    applyVisibility();
    layoutOverlays();
    updateStatus();
}

void EmbeddingView::setColors(const std::vector<uint8_t>& rgba, const QString& title) {
    if (static_cast<int64_t>(rgba.size()) != 4 * n_) {
        qWarning("EmbeddingView::setColors: %zu bytes for %lld points", rgba.size(),
                 static_cast<long long>(n_));
        return;
    }
    std::copy(rgba.begin(), rgba.end(), rgba_.begin());
    markColorsDirty();
    codes_.clear();
    hidden_.clear();
    color_title_ = title;
    legend_->hide();
    color_bar_->hide();
    applyVisibility();
    layoutOverlays();
    updateStatus();
}

void EmbeddingView::setCategoryHidden(int category, bool hidden) {
    if (category < 0 || static_cast<size_t>(category) >= hidden_.size()) return;
    hidden_[static_cast<size_t>(category)] = hidden;
    legend_->setHidden(hidden_);
    applyVisibility();
}

void EmbeddingView::applyVisibility() {
    bool any_hidden = std::find(hidden_.begin(), hidden_.end(), true) != hidden_.end();
    std::vector<uint8_t> mask;
    if (any_hidden && !codes_.empty()) {
        mask.assign(static_cast<size_t>(n_), 1);
        for (int64_t i = 0; i < n_; ++i) {
            int32_t code = codes_[static_cast<size_t>(i)];
            mask[static_cast<size_t>(i)] = code >= 0 &&
                                                   static_cast<size_t>(code) < hidden_.size() &&
                                                   hidden_[static_cast<size_t>(code)]
                                               ? 0
                                               : 1;
        }
    }
    scene_.setBaseDimmed(!selection_.empty(), dimmedColor());
    // A recolour that hides nothing (the usual case) keeps the points drawn: only their
    // colours are gathered again.
    if (mask == visible_mask_) return;
    visible_mask_ = std::move(mask);
    bounds_.reset();
    markGeometryDirty();
}

void EmbeddingView::markGeometryDirty() {
    geometry_dirty_ = selection_dirty_ = true;
    update();
}

void EmbeddingView::markSelectionDirty() {
    selection_dirty_ = true;
    update();
}

void EmbeddingView::markColorsDirty() {
    colors_dirty_ = true;
    update();
}

void EmbeddingView::cameraMoved(bool interactive) {
    if (interactive) auto_fitted_ = false;
    if (n_ > splat_above_) markGeometryDirty();  // GL points follow VTK's camera by themselves
    if (dims_ == 3) invalidatePicking();
    update();
    emit cameraChanged();
}

void EmbeddingView::setSplatThreshold(int64_t points) {
    splat_above_ = std::max<int64_t>(points, 0);
    markGeometryDirty();
}

void EmbeddingView::setPointBudget(int64_t points) {
    points = std::max<int64_t>(points, 0);
    if (points == point_budget_) return;
    point_budget_ = points;
    markGeometryDirty();
}

int64_t EmbeddingView::drawnPoints() const {
    if (scene_.rasterMode()) return splatted_;
    return scene_.layerSize(EmbeddingScene::Base) + scene_.layerSize(EmbeddingScene::Highlight);
}

void EmbeddingView::prepareDrawLists() {
    if (!geometry_dirty_ && !selection_dirty_ && !colors_dirty_) return;
    const bool raster = n_ > splat_above_;
    if (raster != scene_.rasterMode()) {
        scene_.setRasterMode(raster);
        base_ids_.clear();
        top_ids_.clear();
        scene_.setLayer(EmbeddingScene::Base, xyz_.data(), rgba_.data(), base_ids_);
        scene_.setLayer(EmbeddingScene::Highlight, xyz_.data(), rgba_.data(), top_ids_);
        geometry_dirty_ = true;
    }
    if (raster) {
        splatPoints();
        geometry_dirty_ = selection_dirty_ = colors_dirty_ = false;
        return;
    }
    const uint8_t* mask = visible_mask_.empty() ? nullptr : visible_mask_.data();
    if (geometry_dirty_) {
        const int64_t stride = budgetStride();
        base_ids_.clear();
        base_ids_.reserve(static_cast<size_t>(n_ / stride + 1));
        for (int64_t i = 0; i < n_; i += stride)
            if (!mask || mask[i]) base_ids_.push_back(i);
        scene_.setLayer(EmbeddingScene::Base, xyz_.data(), rgba_.data(), base_ids_);
    } else if (colors_dirty_) {
        scene_.setLayerColors(EmbeddingScene::Base, rgba_.data(), base_ids_);
    }
    if (geometry_dirty_ || selection_dirty_) {
        top_ids_.clear();
        for (int64_t i : selection_)
            if (!mask || mask[i]) top_ids_.push_back(i);
        scene_.setLayer(EmbeddingScene::Highlight, xyz_.data(), rgba_.data(), top_ids_);
    } else if (colors_dirty_) {
        scene_.setLayerColors(EmbeddingScene::Highlight, rgba_.data(), top_ids_);
    }
    geometry_dirty_ = selection_dirty_ = colors_dirty_ = false;
}

int64_t EmbeddingView::budgetStride() const {
    // An even stride keeps every region's share of the points (a thinned picture).
    return point_budget_ > 0 && n_ > point_budget_ ? (n_ + point_budget_ - 1) / point_budget_ : 1;
}

void EmbeddingView::splatPoints() {
    SplatImage image;
    image.pixels = scene_.rasterImage(image.width, image.height);
    // The projection of a widget of the framebuffer's size: framebuffer pixels, as GL's.
    const ScreenProjection projection = scene_.projection(QSizeF(image.width, image.height));
    const uint8_t* mask = visible_mask_.empty() ? nullptr : visible_mask_.data();
    SplatLayer base;
    base.visible = mask;
    base.stride = budgetStride();
    base.point_size = point_size_;
    base.opacity = opacity_;
    base.rgba = rgba_.data();
    SplatLayer top;
    top.ids = &selection_;
    top.visible = mask;
    top.rgba = rgba_.data();
    top.point_size = EmbeddingScene::highlightPointSize(point_size_);
    top.opacity = EmbeddingScene::highlightOpacity(opacity_);
    SplatOptions options;
    options.use_depth = dims_ == 3;
    options.background = splat_color(scene_.background());
    const uint32_t dimmed = splat_color(dimmedColor());
    const int64_t pixels = int64_t(image.width) * image.height;

    if (opacity_ >= 1 && n_ < int64_t(kNoPoint)) {
        // Opaque points: the images hold which point is on top of each pixel, so a recolour
        // only looks colours up again (1M points: ~3 ms, not a whole splat), and a new
        // selection splats the selected cells alone.
        const bool resized = point_ids_width_ != image.width || point_ids_height_ != image.height;
        options.write_ids = true;
        if (geometry_dirty_ || resized || !point_ids_valid_) {
            base_point_ids_.resize(static_cast<size_t>(pixels));
            splatted_base_ = splatter_.draw(
                xyz_.data(), n_, projection, {base}, options,
                {reinterpret_cast<uint8_t*>(base_point_ids_.data()), image.width, image.height});
        }
        if (geometry_dirty_ || selection_dirty_ || resized || !point_ids_valid_) {
            splatted_top_ = 0;
            top_point_ids_.clear();
            if (!selection_.empty()) {
                top_point_ids_.resize(static_cast<size_t>(pixels));
                splatted_top_ = splatter_.draw(
                    xyz_.data(), n_, projection, {top}, options,
                    {reinterpret_cast<uint8_t*>(top_point_ids_.data()), image.width, image.height});
            }
        }
        point_ids_width_ = image.width;
        point_ids_height_ = image.height;
        point_ids_valid_ = true;
        resolve_point_ids(base_point_ids_.data(),
                          top_point_ids_.empty() ? nullptr : top_point_ids_.data(), pixels,
                          rgba_.data(), selection_.empty() ? nullptr : &dimmed, options.background,
                          image.pixels);
        splatted_ = splatted_base_ + splatted_top_;
    } else {
        // Translucent points blend in drawing order: every frame is a whole splat.
        point_ids_valid_ = false;
        std::vector<SplatLayer> layers{base};
        if (!selection_.empty()) {
            layers[0].rgba = nullptr;
            layers[0].uniform = dimmed;
            layers.push_back(top);
        }
        splatted_ = splatter_.draw(xyz_.data(), n_, projection, layers, options, image);
    }
    scene_.rasterUpdated();
}

QColor EmbeddingView::pointColor(int64_t i) const {
    if (i < 0 || i >= n_) return {};
    const uint8_t* c = rgba_.data() + 4 * i;
    return QColor(c[0], c[1], c[2], c[3]);
}

// ------------------------------------------------------------------------------ appearance

void EmbeddingView::setPointSize(double pixels) {
    point_size_ = std::clamp(pixels, 1.0, 30.0);
    scene_.setPointSize(point_size_);
    markGeometryDirty();
}

void EmbeddingView::setOpacity(double opacity) {
    opacity_ = std::clamp(opacity, 0.05, 1.0);
    scene_.setOpacity(opacity_);
    if (n_ > splat_above_) markColorsDirty();
    update();
}

void EmbeddingView::setPlaceholderText(const QString& text) {
    placeholder_->setText(text);
    layoutOverlays();
}

// ---------------------------------------------------------------------------------- camera

void EmbeddingView::resetView() {
    // In 2D the points are fitted beside the legend or colour bar rather than under it (at
    // most 40% of the width is given up for it).
    fitted_reserved_ = rightOverlayWidth();
    const int reserved = dims_ == 3 ? 0 : std::min(fitted_reserved_, width() * 2 / 5);
    const int usable = std::max(1, width() - reserved);
    double aspect = height() > 0 ? double(usable) / height() : 1.0;
    scene_.resetCamera(bounds(), dims_ == 3, aspect);
    if (reserved > 0) scene_.pan(QPointF(-reserved / 2.0, 0.0), QSizeF(size()));
    camera_fitted_ = true;
    auto_fitted_ = true;
    cameraMoved(false);
}

int EmbeddingView::rightOverlayWidth() const {
    int covered = 0;
    if (!legend_->isHidden()) covered = std::max(covered, legend_->sizeHint().width());
    if (!color_bar_->isHidden()) covered = std::max(covered, color_bar_->sizeHint().width());
    // In steps of 32 px: a colour bar whose labels are a little wider (another gene) keeps the
    // fit, so the recolour is a colour look-up, not a new splat of every point.
    constexpr int kStep = 32;
    return covered > 0 ? (covered + 2 * kMargin + kStep - 1) / kStep * kStep : 0;
}

CameraState EmbeddingView::cameraState() const {
    return scene_.camera();
}

void EmbeddingView::setCameraState(const CameraState& state) {
    scene_.setCamera(state);
    camera_fitted_ = true;
    auto_fitted_ = false;
    cameraMoved(false);
}

QPointF EmbeddingView::dataToWidget(double x, double y, double z) const {
    const float p[3] = {float(x), float(y), float(z)};
    std::vector<float> out;
    scene_.project(p, 1, QSizeF(size()), out);
    return {out[0], out[1]};
}

QPointF EmbeddingView::widgetToData(QPointF pos) const {
    auto w = scene_.widgetToWorld(pos, QSizeF(size()));
    return {w[0], w[1]};
}

// ------------------------------------------------------------------------------- selection

void EmbeddingView::initializeGL() {
    // The context is replaced when the widget moves to another window: VTK's GPU resources go
    // with the old one and are rebuilt in the new one.
    connect(context(), &QOpenGLContext::aboutToBeDestroyed, this, &EmbeddingView::releaseGraphics,
            Qt::UniqueConnection);
    scene_.initialize();
    scene_.setPointSize(point_size_);
    scene_.setOpacity(opacity_);
    gl_ready_ = true;
    markGeometryDirty();
}

void EmbeddingView::resizeGL(int, int) {
    const double ratio = devicePixelRatioF();
    scene_.resize(static_cast<int>(std::lround(width() * ratio)),
                  static_cast<int>(std::lround(height() * ratio)));
}

void EmbeddingView::paintGL() {
    if (!camera_fitted_ && n_ > 0) resetView();
    QElapsedTimer timer;
    timer.start();
    prepareDrawLists();
    scene_.render();
    last_render_ms_ = timer.nsecsElapsed() / 1e6;
}

void EmbeddingView::resizeEvent(QResizeEvent* event) {
    QOpenGLWidget::resizeEvent(event);
    if (!camera_fitted_ && n_ > 0) resetView();
    invalidatePicking();
    if (n_ > splat_above_) markGeometryDirty();
    layoutOverlays();
}

void EmbeddingView::layoutOverlays() {
    selection_overlay_->setGeometry(rect());
    QSize legend = legend_->sizeHint();
    legend.setHeight(std::min(legend.height(), height() - 2 * kMargin - 30));
    legend_->setGeometry(width() - legend.width() - kMargin, kMargin, legend.width(),
                         std::max(legend.height(), 40));
    QSize bar = color_bar_->sizeHint();
    bar.setHeight(std::min(bar.height(), height() - 2 * kMargin - 30));
    color_bar_->setGeometry(width() - bar.width() - kMargin, kMargin, bar.width(), bar.height());
    status_->adjustSize();
    status_->move(kMargin, height() - status_->height() - kMargin);
    // The automatic fit leaves room for the legend or colour bar: it follows them (a colouring
    // chosen after the fit) until the user moves the camera. A strip a little narrower keeps
    // the fit (another gene's colour bar): the picture does not jump, and a large cloud's
    // recolour stays a colour look-up.
    const int reserve = rightOverlayWidth();
    if (auto_fitted_ && camera_fitted_ && n_ > 0 &&
        (reserve > fitted_reserved_ || reserve < fitted_reserved_ * 3 / 4)) {
        resetView();
    }
    placeholder_->setGeometry(rect());
}

void EmbeddingView::updateStatus() {
    QString text = tr("%L1 cells").arg(n_);
    if (!selection_.empty()) text += tr("  \u00b7  %L1 selected").arg(selection_.size());
    if (!color_title_.isEmpty()) text += tr("  \u00b7  colour: %1").arg(color_title_);
    status_->setText(text);
    status_->setVisible(n_ > 0);
    layoutOverlays();
}

void EmbeddingView::renderExport(QPainter& painter, const QRectF& area) {
    QImage image = grabFramebuffer();
    painter.save();
    painter.fillRect(area, Qt::white);
    if (!image.isNull()) painter.drawImage(area, image);
    painter.translate(area.topLeft());
    painter.scale(area.width() / std::max(1, width()), area.height() / std::max(1, height()));
    if (legend_->isVisible()) {
        painter.save();
        painter.setFont(legend_->font());
        legend_->paintContent(painter, QRectF(legend_->geometry()));
        painter.restore();
    }
    if (color_bar_->isVisible()) {
        painter.save();
        painter.setFont(color_bar_->font());
        color_bar_->paintContent(painter, QRectF(color_bar_->geometry()));
        painter.restore();
    }
    painter.restore();
}

}  // namespace transcura::widgets
