#include "qc_plots.hpp"

#include "background_pool.hpp"

#include "vector_state.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <QContextMenuEvent>
#include <QFutureWatcher>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QtConcurrent>

namespace transcura::widgets {

namespace {

const QColor kThresholdColor(214, 39, 40);
const QColor kRemovedShade(120, 120, 120, 45);

std::pair<double, double> finite_range(const std::vector<double>& v, bool positive_only) {
    double lo = INFINITY, hi = -INFINITY;
    for (double x : v)
        if (std::isfinite(x) && (!positive_only || x > 0)) {
            lo = std::min(lo, x);
            hi = std::max(hi, x);
        }
    return {lo, hi};
}

QString threshold_label(bool upper, double value) {
    return (upper ? QStringLiteral("\u2264 ") : QStringLiteral("\u2265 ")) + Axis::format(value);
}

}  // namespace

// ------------------------------------------------------------------------ distribution plot

QcDistributionPlot::QcDistributionPlot(QWidget* parent) : PlotWidget(parent) {
    setToolTip(
        tr("Drag the red lines to move the thresholds; double-click to place one; "
           "right-click for options"));
}

void QcDistributionPlot::setData(const QString& metric, std::vector<double> values,
                                 std::vector<int32_t> groups, const QStringList& group_names,
                                 std::vector<QColor> colors) {
    setSharedData(metric, std::make_shared<const std::vector<double>>(std::move(values)),
                  std::make_shared<const std::vector<int32_t>>(std::move(groups)), group_names,
                  std::move(colors));
}

void QcDistributionPlot::setSharedData(const QString& metric, SharedValues values,
                                       SharedCodes groups, const QStringList& group_names,
                                       std::vector<QColor> colors) {
    metric_ = metric;
    // The replaced vectors (8-12 MB at 1M cells) are freed on a worker unless a job has them.
    release_in_background(std::exchange(
        values_, values ? std::move(values) : std::make_shared<const std::vector<double>>()));
    // No metric, or a stale grouping: a single group.
    if (!groups || groups->size() != values_->size())
        groups = std::make_shared<const std::vector<int32_t>>();
    release_in_background(std::exchange(groups_, std::move(groups)));
    group_names_ = groups_->empty() ? QStringList{tr("all cells")} : group_names;
    colors_ = colors.size() >= static_cast<size_t>(group_names_.size())
                  ? std::move(colors)
                  : categorical_palette(static_cast<int>(group_names_.size()));
    if (groups_->empty()) colors_ = {QColor(70, 110, 170)};
    setTitle(metric);
    recompute();
}

void QcDistributionPlot::clear() {
    setData(QString(), {}, {}, {});
    setTitle(QString());
}

void QcDistributionPlot::setStyle(Style style) {
    if (style == style_) return;
    style_ = style;
    update();
    emit styleChanged(style);
}

void QcDistributionPlot::setLogScale(bool log_scale) {
    if (log_scale == log_) return;
    log_ = log_scale;
    recompute();
    emit logScaleChanged(log_scale);
}

void QcDistributionPlot::setThresholds(double lower, double upper) {
    lower_ = lower;
    upper_ = upper;
    update();
}

namespace {

/// Above this many cells the binning and quartiles (a sort per group: ~100 ms at 1M cells) run
/// off the GUI thread; below, at once.
constexpr size_t kBackgroundBinningAbove = 250000;

}  // namespace

QcDistributionPlot::Binned QcDistributionPlot::bin(const std::vector<double>& values,
                                                   const std::vector<int32_t>& groups, int n_groups,
                                                   std::vector<double> edges) {
    Binned out;
    out.histogram = binned_counts(values, groups, groups.empty() ? 0 : n_groups, std::move(edges));
    out.quartiles =
        group_quantiles(values, groups, groups.empty() ? 0 : n_groups, {0.25, 0.5, 0.75});
    out.sizes.assign(out.histogram.counts.size(), 0);
    for (size_t g = 0; g < out.histogram.counts.size(); ++g) {
        for (int64_t c : out.histogram.counts[g]) out.sizes[g] += c;
        out.sizes[g] += out.histogram.outside[g];
    }
    return out;
}

void QcDistributionPlot::recompute() {
    const int n_groups = static_cast<int>(group_names_.size());
    auto [lo, hi] = finite_range(*values_, log_);
    auto [a, b] = padded_range(lo, hi, log_, 0.02);
    axis_ = Axis(a, b, log_);
    const int bins = static_cast<int>(std::clamp(std::sqrt(double(values_->size())), 10.0, 60.0));
    std::vector<double> edges(static_cast<size_t>(bins + 1));
    for (int i = 0; i <= bins; ++i) {
        double t = double(i) / bins;
        edges[static_cast<size_t>(i)] =
            log_ ? std::pow(10.0, std::log10(a) + t * (std::log10(b) - std::log10(a)))
                 : a + t * (b - a);
    }
    const int generation = ++binning_generation_;
    if (values_->size() <= kBackgroundBinningAbove) {
        apply(bin(*values_, *groups_, n_groups, std::move(edges)));
        return;
    }
    // The worker shares the vectors, never changed (the plot may take others or go away
    // meanwhile); a later recompute() makes this result stale, and it is dropped.
    histogram_ = {};
    quartiles_.clear();
    group_sizes_.clear();
    binning_ = true;
    update();
    auto* watcher = new QFutureWatcher<Binned>(this);
    connect(watcher, &QFutureWatcher<Binned>::finished, this, [this, watcher, generation] {
        watcher->deleteLater();
        if (generation == binning_generation_) apply(watcher->result());
    });
    watcher->setFuture(run_in_background(
        [values = values_, groups = groups_, n_groups, edges = std::move(edges)]() mutable {
            return bin(*values, *groups, n_groups, std::move(edges));
        }));
}

void QcDistributionPlot::apply(Binned binned) {
    histogram_ = std::move(binned.histogram);
    quartiles_ = std::move(binned.quartiles);
    group_sizes_ = std::move(binned.sizes);
    binning_ = false;
    update();
}

QRectF QcDistributionPlot::plotRect(const QRectF& area) const {
    const double line = QFontMetricsF(font()).height();
    const double left = style_ == Style::Violin ? 24 + 4.5 * line : 18 + 3.5 * line;
    const double bottom = style_ == Style::Violin ? 2.2 * line + 8 : 2.6 * line + 10;
    return area.adjusted(left, 1.8 * line + 12, -16, -bottom);
}

void QcDistributionPlot::paintPlot(QPainter& p, const QRectF& area) {
    p.fillRect(area, Qt::white);
    drawTitle(p, area);
    const QRectF plot = plotRect(area);
    if (values_->empty()) {
        drawMessage(p, area,
                    tr("No QC metric to show.\nOpen a cohort and run the pipeline, "
                       "or pick a numeric column."));
        return;
    }
    if (binning_) {
        drawMessage(p, area, tr("Binning %L1 cells\u2026").arg(values_->size()));
        return;
    }
    if (style_ == Style::Histogram)
        paintHistograms(p, plot);
    else
        paintViolins(p, plot);
    paintThresholds(p, plot);
}

void QcDistributionPlot::paintHistograms(QPainter& p, const QRectF& plot) {
    const size_t groups = histogram_.counts.size();
    const double row_height = plot.height() / std::max<size_t>(groups, 1);
    const std::vector<double>& edges = histogram_.edges;
    draw_x_axis(p, plot, axis_, metric_);
    QFontMetricsF fm(font());
    for (size_t g = 0; g < groups; ++g) {
        const QRectF row(plot.left(), plot.top() + g * row_height, plot.width(), row_height);
        const std::vector<int64_t>& counts = histogram_.counts[g];
        const double peak = std::max<double>(1.0, *std::max_element(counts.begin(), counts.end()));
        const double usable = std::max(4.0, row.height() - fm.height() - 6);
        QPainterPath path(QPointF(plot.left(), row.bottom()));
        for (size_t i = 0; i < counts.size(); ++i) {
            double x0 = axis_.toPixel(edges[i], plot.left(), plot.right());
            double x1 = axis_.toPixel(edges[i + 1], plot.left(), plot.right());
            double y = row.bottom() - usable * counts[i] / peak;
            path.lineTo(x0, y);
            path.lineTo(x1, y);
        }
        path.lineTo(plot.right(), row.bottom());
        path.closeSubpath();
        QColor color = colors_[std::min(g, colors_.size() - 1)];
        QColor fill = color;
        fill.setAlpha(150);
        p.setPen(QPen(color.darker(140), 1));
        p.setBrush(fill);
        p.drawPath(path);
        p.setPen(QPen(QColor(170, 170, 170), 1));
        p.drawLine(row.bottomLeft(), row.bottomRight());
        // Row label and its scale: the peak count at the top left of the row.
        p.setPen(QColor(40, 40, 40));
        QString label =
            QStringLiteral("%1  (n = %L2)").arg(group_names_.value(int(g))).arg(group_sizes_[g]);
        p.drawText(QPointF(row.left() + 6, row.top() + fm.ascent() + 2), label);
        p.setPen(QColor(90, 90, 90));
        QString top_label = QString::number(static_cast<qint64>(peak));
        p.drawText(QPointF(row.left() - 6 - fm.horizontalAdvance(top_label),
                           row.bottom() - usable + fm.ascent() / 2),
                   top_label);
        p.drawText(
            QPointF(row.left() - 6 - fm.horizontalAdvance(QStringLiteral("0")), row.bottom()),
            QStringLiteral("0"));
    }
    p.save();
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(QColor(60, 60, 60));
    p.translate(plot.left() - 3.2 * fm.height(), plot.center().y());
    p.rotate(-90);
    QString y_title = tr("cells per bin");
    p.drawText(QPointF(-QFontMetricsF(bold).horizontalAdvance(y_title) / 2, 0), y_title);
    p.restore();
}

void QcDistributionPlot::paintViolins(QPainter& p, const QRectF& plot) {
    const size_t groups = histogram_.counts.size();
    const double slot = plot.width() / std::max<size_t>(groups, 1);
    const std::vector<double>& edges = histogram_.edges;
    draw_y_axis(p, plot, axis_, metric_);
    p.setPen(QPen(QColor(60, 60, 60), 1));
    p.drawLine(plot.bottomLeft(), plot.bottomRight());
    QFontMetricsF fm(font());
    for (size_t g = 0; g < groups; ++g) {
        const double cx = plot.left() + (g + 0.5) * slot;
        const double half = std::min(0.42 * slot, 90.0);
        const std::vector<int64_t>& counts = histogram_.counts[g];
        const double peak = std::max<double>(1.0, *std::max_element(counts.begin(), counts.end()));
        QPolygonF right, left;
        for (size_t i = 0; i < counts.size(); ++i) {
            double center =
                log_ ? std::sqrt(edges[i] * edges[i + 1]) : (edges[i] + edges[i + 1]) / 2;
            double y = axis_.toPixel(center, plot.bottom(), plot.top());
            double w = half * counts[i] / peak;
            right << QPointF(cx + w, y);
            left.prepend(QPointF(cx - w, y));
        }
        QColor color = colors_[std::min(g, colors_.size() - 1)];
        QColor fill = color;
        fill.setAlpha(160);
        p.setPen(QPen(color.darker(140), 1));
        p.setBrush(fill);
        p.drawPolygon(right + left);
        if (g < quartiles_.size() && std::isfinite(quartiles_[g][1])) {
            double q1 = axis_.toPixel(quartiles_[g][0], plot.bottom(), plot.top());
            double q2 = axis_.toPixel(quartiles_[g][1], plot.bottom(), plot.top());
            double q3 = axis_.toPixel(quartiles_[g][2], plot.bottom(), plot.top());
            if (std::isfinite(q1) && std::isfinite(q3)) {
                p.setPen(Qt::NoPen);
                p.setBrush(QColor(40, 40, 40, 200));
                p.drawRect(QRectF(cx - 4, std::min(q1, q3), 8, std::abs(q3 - q1)));
            }
            if (std::isfinite(q2)) {
                p.setBrush(Qt::white);
                p.setPen(QPen(QColor(40, 40, 40), 1));
                p.drawEllipse(QPointF(cx, q2), 3.5, 3.5);
            }
        }
        p.setPen(QColor(40, 40, 40));
        QString name = fm.elidedText(group_names_.value(int(g)), Qt::ElideRight, slot - 4);
        p.drawText(QRectF(cx - slot / 2, plot.bottom() + 4, slot, fm.height()),
                   Qt::AlignHCenter | Qt::AlignTop, name);
        p.setPen(QColor(110, 110, 110));
        p.drawText(QRectF(cx - slot / 2, plot.bottom() + 4 + fm.height(), slot, fm.height()),
                   Qt::AlignHCenter | Qt::AlignTop, QStringLiteral("n = %L1").arg(group_sizes_[g]));
    }
}

void QcDistributionPlot::paintThresholds(QPainter& p, const QRectF& plot) {
    const bool vertical = style_ == Style::Histogram;
    QFontMetricsF fm(font());
    for (int k = 0; k < 2; ++k) {
        const double value = k == 0 ? lower_ : upper_;
        if (std::isnan(value)) continue;
        double pixel = vertical ? axis_.toPixel(value, plot.left(), plot.right())
                                : axis_.toPixel(value, plot.bottom(), plot.top());
        if (std::isnan(pixel)) continue;
        // Shade what the threshold removes.
        QRectF removed;
        if (vertical)
            removed = k == 0 ? QRectF(QPointF(plot.left(), plot.top()),
                                      QPointF(std::max(pixel, plot.left()), plot.bottom()))
                             : QRectF(QPointF(std::min(pixel, plot.right()), plot.top()),
                                      plot.bottomRight());
        else
            removed =
                k == 0 ? QRectF(QPointF(plot.left(), std::min(pixel, plot.bottom())),
                                plot.bottomRight())
                       : QRectF(plot.topLeft(), QPointF(plot.right(), std::max(pixel, plot.top())));
        p.fillRect(removed.intersected(plot), kRemovedShade);
        pixel = std::clamp(pixel, vertical ? plot.left() : plot.top(),
                           vertical ? plot.right() : plot.bottom());
        p.setPen(QPen(kThresholdColor, draggedHandle() == k ? 3 : 2));
        if (vertical)
            p.drawLine(QPointF(pixel, plot.top()), QPointF(pixel, plot.bottom()));
        else
            p.drawLine(QPointF(plot.left(), pixel), QPointF(plot.right(), pixel));
        QString label = threshold_label(k == 1, value);
        double w = fm.horizontalAdvance(label) + 8;
        QRectF box = vertical
                         ? QRectF(k == 0 ? pixel + 3 : pixel - w - 3, plot.top() - fm.height() - 4,
                                  w, fm.height() + 2)
                         : QRectF(plot.right() - w - 2,
                                  k == 0 ? pixel + 3 : pixel - fm.height() - 5, w, fm.height() + 2);
        p.fillRect(box, QColor(255, 255, 255, 220));
        p.setPen(kThresholdColor);
        p.drawText(box, Qt::AlignCenter, label);
    }
}

double QcDistributionPlot::thresholdPixel(bool upper) const {
    const QRectF plot = plotRect(QRectF(rect()));
    const double value = upper ? upper_ : lower_;
    if (std::isnan(value)) return kNoThreshold;
    return style_ == Style::Histogram ? axis_.toPixel(value, plot.left(), plot.right())
                                      : axis_.toPixel(value, plot.bottom(), plot.top());
}

std::vector<PlotWidget::Handle> QcDistributionPlot::handles() const {
    std::vector<Handle> out;
    const QRectF plot = plotRect(QRectF(rect()));
    for (int k = 0; k < 2; ++k) {
        double pixel = thresholdPixel(k == 1);
        if (std::isnan(pixel)) continue;
        if (style_ == Style::Histogram)
            out.push_back({k, Qt::Vertical, std::clamp(pixel, plot.left(), plot.right()),
                           plot.top(), plot.bottom()});
        else
            out.push_back({k, Qt::Horizontal, std::clamp(pixel, plot.top(), plot.bottom()),
                           plot.left(), plot.right()});
    }
    return out;
}

double QcDistributionPlot::valueAt(QPointF pos) const {
    const QRectF plot = plotRect(QRectF(rect()));
    return style_ == Style::Histogram
               ? axis_.fromPixel(std::clamp(pos.x(), plot.left(), plot.right()), plot.left(),
                                 plot.right())
               : axis_.fromPixel(std::clamp(pos.y(), plot.top(), plot.bottom()), plot.bottom(),
                                 plot.top());
}

void QcDistributionPlot::handleDragged(int id, QPointF pos) {
    double value = valueAt(pos);
    if (id == 0)
        lower_ = std::isnan(upper_) ? value : std::min(value, upper_);
    else
        upper_ = std::isnan(lower_) ? value : std::max(value, lower_);
    update();
    emit thresholdsChanged(lower_, upper_);
}

void QcDistributionPlot::mouseDoubleClickEvent(QMouseEvent* event) {
    if (values_->empty()) return;
    const QRectF plot = plotRect(QRectF(rect()));
    if (!plot.contains(event->position())) return;
    double value = valueAt(event->position());
    // The lower threshold in the lower half of the axis, the upper one above.
    bool upper = style_ == Style::Histogram ? event->position().x() > plot.center().x()
                                            : event->position().y() < plot.center().y();
    if (upper)
        upper_ = std::isnan(lower_) ? value : std::max(value, lower_);
    else
        lower_ = std::isnan(upper_) ? value : std::min(value, upper_);
    update();
    emit thresholdsChanged(lower_, upper_);
}

void QcDistributionPlot::contextMenuEvent(QContextMenuEvent* event) {
    QMenu menu(this);
    QAction* remove_lower = menu.addAction(tr("Remove lower threshold"));
    remove_lower->setEnabled(!std::isnan(lower_));
    QAction* remove_upper = menu.addAction(tr("Remove upper threshold"));
    remove_upper->setEnabled(!std::isnan(upper_));
    menu.addSeparator();
    QAction* histograms = menu.addAction(tr("Histograms per batch"));
    histograms->setCheckable(true);
    histograms->setChecked(style_ == Style::Histogram);
    QAction* violins = menu.addAction(tr("Violins per batch"));
    violins->setCheckable(true);
    violins->setChecked(style_ == Style::Violin);
    QAction* log_scale = menu.addAction(tr("Log scale"));
    log_scale->setCheckable(true);
    log_scale->setChecked(log_);
    QAction* chosen = menu.exec(event->globalPos());
    if (chosen == remove_lower || chosen == remove_upper) {
        (chosen == remove_lower ? lower_ : upper_) = kNoThreshold;
        update();
        emit thresholdsChanged(lower_, upper_);
    } else if (chosen == histograms) {
        setStyle(Style::Histogram);
    } else if (chosen == violins) {
        setStyle(Style::Violin);
    } else if (chosen == log_scale) {
        setLogScale(!log_);
    }
}

// ----------------------------------------------------------------------------- scatter plot

QcScatterPlot::QcScatterPlot(QWidget* parent) : PlotWidget(parent) {
    setToolTip(tr("Drag the red lines to move the thresholds"));
}

std::shared_ptr<const QcScatterPlot::Cloud> QcScatterPlot::makeCloud(std::vector<double> x,
                                                                     std::vector<double> y,
                                                                     std::vector<double> color) {
    auto cloud = std::make_shared<Cloud>();
    cloud->x = std::move(x);
    cloud->y = std::move(y);
    cloud->color = std::move(color);
    if (cloud->y.size() != cloud->x.size()) cloud->y.assign(cloud->x.size(), kNoThreshold);
    if (cloud->color.size() != cloud->x.size()) cloud->color.clear();
    for (int positive = 0; positive < 2; ++positive) {
        cloud->x_range[positive] = finite_range(cloud->x, positive);
        cloud->y_range[positive] = finite_range(cloud->y, positive);
    }
    cloud->color_range = finite_range(cloud->color, false);
    return cloud;
}

void QcScatterPlot::setData(const QString& x_title, std::vector<double> x, const QString& y_title,
                            std::vector<double> y, const QString& color_title,
                            std::vector<double> color) {
    setCloud(x_title, y_title, color_title,
             makeCloud(std::move(x), std::move(y), std::move(color)));
}

void QcScatterPlot::setCloud(const QString& x_title, const QString& y_title,
                             const QString& color_title, std::shared_ptr<const Cloud> cloud) {
    if (!cloud) cloud = makeCloud({}, {}, {});
    x_title_ = x_title;
    y_title_ = y_title;
    color_title_ = color_title;
    const auto [clo, chi] = cloud->color_range;
    color_lo_ = std::isfinite(clo) ? clo : 0.0;
    color_hi_ = std::isfinite(chi) ? chi : 1.0;
    if (color_hi_ <= color_lo_) color_hi_ = color_lo_ + 1.0;
    // The replaced cloud (24 MB at 1M cells) is freed on a worker unless a raster job has it.
    release_in_background(std::exchange(cloud_, std::move(cloud)));
    setTitle(cloud_->x.empty() ? QString() : tr("%1 vs %2").arg(y_title_, x_title_));
    setLogScale(log_x_, log_y_);
}

void QcScatterPlot::clear() {
    setData({}, {}, {}, {}, {}, {});
}

void QcScatterPlot::setLogScale(bool log_x, bool log_y) {
    log_x_ = log_x;
    log_y_ = log_y;
    auto [xl, xh] = cloud_->x_range[log_x_ ? 1 : 0];
    auto [yl, yh] = cloud_->y_range[log_y_ ? 1 : 0];
    auto [xa, xb] = padded_range(xl, xh, log_x_);
    auto [ya, yb] = padded_range(yl, yh, log_y_);
    x_axis_ = Axis(xa, xb, log_x_);
    y_axis_ = Axis(ya, yb, log_y_);
    ++data_generation_;
    raster_ = QImage();  // another cloud or other axes: the old raster would mislead
    update();
}

void QcScatterPlot::setThresholds(int axis, double lower, double upper) {
    if (axis < 0 || axis > 1) return;
    thresholds_[axis][0] = lower;
    thresholds_[axis][1] = upper;
    update();
}

QRectF QcScatterPlot::plotRect(const QRectF& area) const {
    const double line = QFontMetricsF(font()).height();
    const double bar = cloud_->color.empty() ? 0 : 5.5 * line + 24;
    return area.adjusted(24 + 4.5 * line, 1.8 * line + 12, -16 - bar, -(2.6 * line + 10));
}

void QcScatterPlot::resizeEvent(QResizeEvent* event) {
    // raster_ stays: stretched until the raster of the new size is drawn.
    PlotWidget::resizeEvent(event);
}

void QcScatterPlot::renderExport(QPainter& painter, const QRectF& area) {
    exporting_ = true;  // the raster at once, whatever the size
    PlotWidget::renderExport(painter, area);
    exporting_ = false;
}

QcScatterPlot::RasterJob QcScatterPlot::rasterJob(const QSize& size) const {
    return RasterJob{cloud_, size, x_axis_, y_axis_, color_lo_, color_hi_, map_, data_generation_};
}

void QcScatterPlot::requestRaster(const QSize& size) {
    if (raster_busy_) return;  // when it is back, the next paint asks again if still needed
    raster_busy_ = true;
    auto* watcher = new QFutureWatcher<QImage>(this);
    const int generation = data_generation_;
    connect(watcher, &QFutureWatcher<QImage>::finished, this, [this, watcher, generation, size] {
        watcher->deleteLater();
        raster_busy_ = false;
        // A result for other data is dropped; one for another size still beats a blank plot
        // (the next paint stretches it and asks for the right size).
        if (generation == data_generation_) {
            raster_ = watcher->result();
            raster_generation_ = generation;
        }
        update();
    });
    // The job holds the cloud (shared, immutable) and copies of the axes: the plot may change
    // or go away meanwhile.
    watcher->setFuture(run_in_background([job = rasterJob(size)] { return rasterize(job); }));
}

QImage QcScatterPlot::rasterize(const RasterJob& job) {
    const QSize& size = job.size;
    QImage raster(size, QImage::Format_ARGB32_Premultiplied);
    raster.fill(Qt::transparent);
    const int w = size.width(), h = size.height();
    if (w <= 0 || h <= 0) return raster;
    const std::vector<double>& xs = job.cloud->x;
    const std::vector<double>& ys = job.cloud->y;
    const std::vector<double>& colors = job.cloud->color;
    const QRgb fallback = QColor(70, 110, 170).rgba();
    const QRgb missing = missing_color().rgba();
    const double range = job.color_hi > job.color_lo ? job.color_hi - job.color_lo : 1.0;
    // Axis::toPixel takes the logarithm of both bounds on every call: once here instead (the
    // natural logarithm, the same positions).
    auto mapper = [](const Axis& axis, double p0, double p1) {
        const bool log = axis.isLog();
        const double a = log ? std::log(axis.lo()) : axis.lo();
        const double b = log ? std::log(axis.hi()) : axis.hi();
        const double scale = (p1 - p0) / (b - a);
        return [=](double v) {
            if (log) v = v > 0 ? std::log(v) : std::numeric_limits<double>::quiet_NaN();
            return p0 + (v - a) * scale;
        };
    };
    const auto to_x = mapper(job.x_axis, 0, w - 1), to_y = mapper(job.y_axis, h - 1, 0);
    // A point paints the 2 x 2 pixels from its integer position, so of all points at one
    // position only the last one drawn shows: find it first (one int per pixel), then colour
    // just those (a million cells overplot a plot of ~100k pixels many times over).
    std::vector<int32_t> last(static_cast<size_t>(w) * static_cast<size_t>(h), -1);
    clear_upper_vector_state();  // after the image fill: see vector_state.hpp (424 -> 26 ms)
    for (size_t i = 0; i < xs.size(); ++i) {
        const double px = to_x(xs[i]);
        const double py = to_y(ys[i]);
        if (!(px >= 0 && py >= 0 && px < w && py < h)) continue;
        last[static_cast<size_t>(static_cast<int>(py)) * w + static_cast<int>(px)] =
            static_cast<int32_t>(i);
    }
    // Drawing order again: a later point's block covers an earlier neighbour's overlap.
    std::vector<std::pair<int32_t, int32_t>> shown;  // (point, pixel)
    for (size_t pixel = 0; pixel < last.size(); ++pixel)
        if (last[pixel] >= 0) shown.emplace_back(last[pixel], static_cast<int32_t>(pixel));
    std::sort(shown.begin(), shown.end());
    uchar* bits = raster.bits();  // (detaches: may call memcpy)
    clear_upper_vector_state();
    const qsizetype stride = raster.bytesPerLine();
    for (const auto& [i, pixel] : shown) {
        QRgb rgb = fallback;
        if (!colors.empty()) {
            const double c = colors[static_cast<size_t>(i)];
            rgb = std::isnan(c) ? missing : job.map.at((c - job.color_lo) / range).rgba();
        }
        const int x0 = pixel % w, y0 = pixel / w;
        for (int dy = 0; dy < 2 && y0 + dy < h; ++dy) {
            QRgb* line = reinterpret_cast<QRgb*>(bits + (y0 + dy) * stride);
            for (int dx = 0; dx < 2 && x0 + dx < w; ++dx) line[x0 + dx] = rgb;
        }
    }
    return raster;
}

void QcScatterPlot::paintPlot(QPainter& p, const QRectF& area) {
    p.fillRect(area, Qt::white);
    drawTitle(p, area);
    if (cloud_->x.empty()) {
        drawMessage(p, area,
                    tr("Counts vs genes needs total counts and genes detected per cell "
                       "(run the pipeline)."));
        return;
    }
    const QRectF plot = plotRect(area);
    draw_x_axis(p, plot, x_axis_, x_title_);
    draw_y_axis(p, plot, y_axis_, y_title_);
    const QSize pixels = plot.size().toSize();
    const bool current = raster_generation_ == data_generation_ && !raster_.isNull();
    if (!current || raster_.size() != pixels) {
        if (exporting_ || cloud_->x.size() <= kBackgroundRasterAbove) {
            raster_ = rasterize(rasterJob(pixels));
            raster_generation_ = data_generation_;
        } else {
            requestRaster(pixels);
        }
    }
    if (raster_generation_ == data_generation_ && !raster_.isNull()) {
        if (raster_.size() == pixels)
            p.drawImage(plot.topLeft(), raster_);
        else
            p.drawImage(plot, raster_);  // the last size's, until this size's is drawn
    } else {
        p.setPen(QColor(110, 110, 110));
        p.drawText(plot, Qt::AlignCenter,
                   tr("Drawing %L1 cells\u2026").arg(static_cast<qlonglong>(cloud_->x.size())));
    }
    // Thresholds.
    QFontMetricsF fm(font());
    for (int axis = 0; axis < 2; ++axis)
        for (int k = 0; k < 2; ++k) {
            double value = thresholds_[axis][k];
            if (std::isnan(value)) continue;
            p.setPen(QPen(kThresholdColor, draggedHandle() == axis * 2 + k ? 3 : 2, Qt::DashLine));
            if (axis == 0) {
                double x = x_axis_.toPixel(value, plot.left(), plot.right());
                if (std::isnan(x)) continue;
                x = std::clamp(x, plot.left(), plot.right());
                p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
                p.drawText(QPointF(x + 3, plot.top() + fm.ascent()),
                           threshold_label(k == 1, value));
            } else {
                double y = y_axis_.toPixel(value, plot.bottom(), plot.top());
                if (std::isnan(y)) continue;
                y = std::clamp(y, plot.top(), plot.bottom());
                p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
                p.drawText(QPointF(plot.left() + 4, y - 3), threshold_label(k == 1, value));
            }
        }
    if (cloud_->color.empty()) return;
    // Colour bar.
    QRectF bar(plot.right() + 18, plot.top() + fm.height() + 6, 14, plot.height() * 0.6);
    QLinearGradient gradient(bar.bottomLeft(), bar.topLeft());
    for (int i = 0; i <= 16; ++i) gradient.setColorAt(i / 16.0, map_.at(i / 16.0));
    p.setPen(QPen(QColor(160, 160, 160), 1));
    p.setBrush(gradient);
    p.drawRect(bar);
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(QColor(40, 40, 40));
    p.drawText(QPointF(bar.left(), plot.top() + fm.ascent()), color_title_);
    p.setFont(font());
    Axis color_axis(color_lo_, color_hi_);
    for (double v : nice_ticks(color_lo_, color_hi_, 5)) {
        double y = color_axis.toPixel(v, bar.bottom(), bar.top());
        p.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 3, y));
        p.drawText(QPointF(bar.right() + 6, y + fm.ascent() / 2 - 1), Axis::format(v));
    }
}

std::vector<PlotWidget::Handle> QcScatterPlot::handles() const {
    std::vector<Handle> out;
    const QRectF plot = plotRect(QRectF(rect()));
    for (int k = 0; k < 2; ++k) {
        double x = x_axis_.toPixel(thresholds_[0][k], plot.left(), plot.right());
        if (std::isfinite(x))
            out.push_back({k, Qt::Vertical, std::clamp(x, plot.left(), plot.right()), plot.top(),
                           plot.bottom()});
        double y = y_axis_.toPixel(thresholds_[1][k], plot.bottom(), plot.top());
        if (std::isfinite(y))
            out.push_back({2 + k, Qt::Horizontal, std::clamp(y, plot.top(), plot.bottom()),
                           plot.left(), plot.right()});
    }
    return out;
}

void QcScatterPlot::handleDragged(int id, QPointF pos) {
    const QRectF plot = plotRect(QRectF(rect()));
    const int axis = id / 2, k = id % 2;
    double value = axis == 0 ? x_axis_.fromPixel(std::clamp(pos.x(), plot.left(), plot.right()),
                                                 plot.left(), plot.right())
                             : y_axis_.fromPixel(std::clamp(pos.y(), plot.top(), plot.bottom()),
                                                 plot.bottom(), plot.top());
    double& lower = thresholds_[axis][0];
    double& upper = thresholds_[axis][1];
    if (k == 0)
        lower = std::isnan(upper) ? value : std::min(value, upper);
    else
        upper = std::isnan(lower) ? value : std::max(value, lower);
    update();
    emit thresholdsChanged(axis, lower, upper);
}

}  // namespace transcura::widgets
