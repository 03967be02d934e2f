#include "batch_plots.hpp"

#include <algorithm>
#include <cmath>

#include <QLocale>
#include <QPainter>

#include "plot_axes.hpp"

namespace transcura::widgets {

namespace {

const QColor kText(40, 40, 40);
const QColor kMuted(110, 110, 110);

QString value_label(double value) {
    if (!std::isfinite(value)) return QStringLiteral("n/a");
    const double a = std::abs(value);
    if (a >= 1000) return QLocale().toString(value, 'f', 0);
    if (a >= 10) return QString::number(value, 'f', 1);
    return QString::number(value, 'f', 2);
}

void draw_rotated_title(QPainter& p, const QFont& font, QPointF centre, const QString& text) {
    p.save();
    QFont bold = font;
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(QColor(60, 60, 60));
    p.translate(centre);
    p.rotate(-90);
    p.drawText(QPointF(-QFontMetricsF(bold).horizontalAdvance(text) / 2, 0), text);
    p.restore();
}

void draw_bold_centred(QPainter& p, const QFont& font, const QRectF& box, const QString& text) {
    p.save();
    QFont bold = font;
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(QColor(60, 60, 60));
    p.drawText(box, Qt::AlignHCenter | Qt::AlignTop, text);
    p.restore();
}

}  // namespace

// --------------------------------------------------------------------------------------- bars

BatchBarPlot::BatchBarPlot(QWidget* parent) : PlotWidget(parent) {
    setObjectName(QStringLiteral("batchBarPlot"));
    setTitle(tr("Per batch"));
}

void BatchBarPlot::setData(const QString& x_title, const QStringList& categories,
                           const QString& y_title, std::vector<Series> series, double y_max) {
    x_title_ = x_title;
    y_title_ = y_title;
    categories_ = categories;
    series_ = std::move(series);
    message_.clear();
    double peak = 0;
    for (const Series& s : series_)
        for (double v : s.values)
            if (std::isfinite(v)) peak = std::max(peak, v);
    y_max_ = std::isfinite(y_max) ? y_max : (peak > 0 ? peak * 1.12 : 1.0);
    update();
}

void BatchBarPlot::clear(const QString& message) {
    categories_.clear();
    series_.clear();
    message_ = message;
    update();
}

void BatchBarPlot::paintPlot(QPainter& p, const QRectF& area) {
    p.fillRect(area, Qt::white);
    drawTitle(p, area);
    if (categories_.isEmpty() || series_.empty()) {
        drawMessage(p, area, message_.isEmpty() ? tr("No batch results yet") : message_);
        return;
    }
    const QFontMetricsF fm(font());
    const double legend_height = series_.size() > 1 ? fm.height() + 4 : 0;
    QRectF plot = area.adjusted(4.2 * fm.height() + 12, 2.2 * fm.height() + legend_height + 6, -12,
                                -(2 * fm.height() + 20));
    if (plot.width() < 40 || plot.height() < 30) return;
    const Axis axis(0.0, y_max_);
    draw_y_axis(p, plot, axis, y_title_);

    // Legend above the plot, right-aligned.
    if (series_.size() > 1) {
        double x = plot.right();
        for (auto it = series_.rbegin(); it != series_.rend(); ++it) {
            const double w = fm.horizontalAdvance(it->name);
            x -= w;
            p.setPen(kText);
            p.drawText(QPointF(x, plot.top() - 6), it->name);
            x -= 16;
            p.fillRect(QRectF(x, plot.top() - 6 - fm.ascent() + 1, 11, 11), it->color);
            x -= 14;
        }
    }

    const int n = static_cast<int>(categories_.size());
    const double slot = plot.width() / n;
    const double group = std::min(slot * 0.8, 46.0 * series_.size());
    const double bar = group / series_.size();
    QFont small = font();
    small.setPointSizeF(std::max(6.5, small.pointSizeF() * 0.85));
    const QFontMetricsF small_fm(small);
    for (int c = 0; c < n; ++c) {
        const double x0 = plot.left() + c * slot + (slot - group) / 2;
        for (size_t s = 0; s < series_.size(); ++s) {
            const double v = c < static_cast<int>(series_[s].values.size())
                                 ? series_[s].values[static_cast<size_t>(c)]
                                 : NAN;
            const QRectF slot_rect(x0 + s * bar, plot.top(), bar, plot.height());
            if (!std::isfinite(v)) {
                p.setFont(small);
                p.setPen(kMuted);
                p.drawText(QRectF(slot_rect.left(), plot.bottom() - small_fm.height() - 2, bar,
                                  small_fm.height()),
                           Qt::AlignCenter, QStringLiteral("n/a"));
                p.setFont(font());
                continue;
            }
            const double top = axis.toPixel(std::min(v, y_max_), plot.bottom(), plot.top());
            QRectF r(slot_rect.left() + 1, top, std::max(1.0, bar - 2), plot.bottom() - top);
            p.setPen(QPen(series_[s].color.darker(130), 1));
            p.setBrush(series_[s].color);
            p.drawRect(r);
            const QString label = value_label(v);
            if (small_fm.horizontalAdvance(label) <= bar + 6) {
                p.setFont(small);
                p.setPen(kText);
                p.drawText(QRectF(r.center().x() - bar, top - small_fm.height() - 1, 2 * bar,
                                  small_fm.height()),
                           Qt::AlignHCenter | Qt::AlignBottom, label);
                p.setFont(font());
            }
        }
        p.setPen(kText);
        const QString name = fm.elidedText(categories_[c], Qt::ElideRight, slot - 2);
        p.drawText(QRectF(plot.left() + c * slot, plot.bottom() + 4, slot, fm.height()),
                   Qt::AlignHCenter | Qt::AlignTop, name);
    }
    p.setPen(QPen(QColor(60, 60, 60), 1));
    p.drawLine(plot.bottomLeft(), plot.bottomRight());
    draw_bold_centred(
        p, font(),
        QRectF(plot.left(), plot.bottom() + 6 + fm.height(), plot.width(), fm.height() + 4),
        x_title_);
}

// ------------------------------------------------------------------------------------ heatmap

CompositionHeatmap::CompositionHeatmap(QWidget* parent) : PlotWidget(parent) {
    setObjectName(QStringLiteral("compositionHeatmap"));
    setTitle(tr("Batch \u00d7 cluster composition"));
}

void CompositionHeatmap::setData(const BatchComposition& composition, const QString& batch_title,
                                 const QString& cluster_title) {
    composition_ = composition;
    batch_title_ = batch_title;
    cluster_title_ = cluster_title;
    message_.clear();
    update();
}

void CompositionHeatmap::clear(const QString& message) {
    composition_ = {};
    message_ = message;
    update();
}

double CompositionHeatmap::share(size_t cluster, size_t batch) const {
    const int64_t size = composition_.cluster_sizes[cluster];
    return size > 0 ? static_cast<double>(composition_.count(cluster, batch)) / size : NAN;
}

void CompositionHeatmap::paintPlot(QPainter& p, const QRectF& area) {
    p.fillRect(area, Qt::white);
    drawTitle(p, area);
    const size_t n_clusters = composition_.clusters.size();
    const size_t n_batches = composition_.batches.size();
    if (n_clusters == 0 || n_batches == 0) {
        drawMessage(p, area,
                    message_.isEmpty() ? tr("Choose a label key (a clustering such as leiden) to "
                                            "see how each cluster is drawn from the batches")
                                       : message_);
        return;
    }
    const QFontMetricsF fm(font());
    // Row labels shrink with the rows so every cluster keeps its name.
    const double top = area.top() + 2.2 * fm.height() + fm.height() + 6;  // title + entropy hdr
    const double bottom_margin = 2 * fm.height() + 14;
    const double row_h = (area.bottom() - bottom_margin - top) / n_clusters;
    QFont row_font = font();
    if (row_h < fm.height())
        row_font.setPointSizeF(std::max(5.0, row_font.pointSizeF() * row_h / fm.height()));
    const QFontMetricsF row_fm(row_font);
    double widest = 0;
    for (const std::string& c : composition_.clusters)
        widest = std::max(widest, row_fm.horizontalAdvance(QString::fromStdString(c)));
    widest = std::min(widest, area.width() * 0.25);
    const double bar_w = 14, bar_gap = 8 + fm.horizontalAdvance(QStringLiteral("100%")) + 6;
    const double entropy_w = std::max(48.0, fm.horizontalAdvance(tr("entropy")) + 8);
    const QRectF grid(
        area.left() + fm.height() + 14 + widest, top,
        area.width() - (fm.height() + 14 + widest) - entropy_w - 10 - bar_w - bar_gap - 8,
        area.bottom() - bottom_margin - top);
    if (grid.width() < 30 || grid.height() < 20) return;
    const double col_w = grid.width() / n_batches;
    QFont cell_font = row_font;
    const QFontMetricsF cell_fm(cell_font);

    for (size_t c = 0; c < n_clusters; ++c) {
        const double y = grid.top() + c * row_h;
        for (size_t b = 0; b < n_batches; ++b) {
            const QRectF cell(grid.left() + b * col_w, y, col_w, row_h);
            const double s = share(c, b);
            const QColor color = std::isfinite(s) ? map_.at(s) : missing_color();
            p.fillRect(cell.adjusted(0, 0, -1, -1), color);
            const QString text = QLocale().toString(qlonglong(composition_.count(c, b)));
            if (cell_fm.height() <= row_h + 1 && cell_fm.horizontalAdvance(text) + 4 < col_w) {
                p.setFont(cell_font);
                // Dark text on light cells, by perceived luminance (yellow is light).
                const double luminance =
                    0.299 * color.red() + 0.587 * color.green() + 0.114 * color.blue();
                p.setPen(luminance > 140 ? kText : QColor(Qt::white));
                p.drawText(cell, Qt::AlignCenter, text);
            }
        }
        p.setFont(row_font);
        p.setPen(kText);
        const QString name = row_fm.elidedText(QString::fromStdString(composition_.clusters[c]),
                                               Qt::ElideRight, widest);
        p.drawText(QRectF(grid.left() - widest - 6, y, widest, row_h),
                   Qt::AlignRight | Qt::AlignVCenter, name);
        // Normalised entropy of the cluster's batch mix: a bar from 0 to 1.
        const double e =
            c < composition_.normalized_entropy.size() ? composition_.normalized_entropy[c] : NAN;
        const QRectF slot(grid.right() + 10, y + row_h * 0.15, entropy_w - 4, row_h * 0.7);
        p.fillRect(slot, QColor(238, 238, 238));
        if (std::isfinite(e)) {
            p.fillRect(QRectF(slot.left(), slot.top(), slot.width() * std::clamp(e, 0.0, 1.0),
                              slot.height()),
                       QColor(160, 185, 225));  // light, so the value stays readable on it
            if (row_fm.height() <= row_h + 1) {
                p.setPen(kText);
                p.drawText(slot, Qt::AlignCenter, QString::number(e, 'f', 2));
            }
        }
    }
    p.setFont(font());
    p.setPen(kText);
    for (size_t b = 0; b < n_batches; ++b) {
        const QString name = fm.elidedText(QString::fromStdString(composition_.batches[b]),
                                           Qt::ElideRight, col_w - 2);
        p.drawText(QRectF(grid.left() + b * col_w, grid.bottom() + 4, col_w, fm.height()),
                   Qt::AlignHCenter | Qt::AlignTop, name);
    }
    p.setPen(kMuted);
    p.drawText(QRectF(grid.right() + 6, grid.top() - fm.height() - 3, entropy_w + 4, fm.height()),
               Qt::AlignHCenter | Qt::AlignBottom, tr("entropy"));
    draw_bold_centred(
        p, font(),
        QRectF(grid.left(), grid.bottom() + 6 + fm.height(), grid.width(), fm.height() + 4),
        batch_title_);
    draw_rotated_title(p, font(), QPointF(area.left() + fm.height() + 2, grid.center().y()),
                       cluster_title_);

    // Colour bar: share of the cluster's cells.
    const QRectF bar(area.right() - bar_w - bar_gap, grid.top(), bar_w, grid.height());
    for (int i = 0; i < 64; ++i) {
        const double t0 = i / 64.0;
        p.fillRect(QRectF(bar.left(), bar.bottom() - (i + 1) * bar.height() / 64, bar.width(),
                          bar.height() / 64 + 0.5),
                   map_.at(t0 + 0.5 / 64));
    }
    p.setPen(QPen(QColor(120, 120, 120), 1));
    p.setBrush(Qt::NoBrush);
    p.drawRect(bar);
    p.setPen(kText);
    for (double t : {0.0, 0.5, 1.0}) {
        const double y = bar.bottom() - t * bar.height();
        p.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 3, y));
        p.drawText(QPointF(bar.right() + 5, y + fm.ascent() / 2 - 1),
                   QStringLiteral("%1%").arg(int(t * 100)));
    }
    p.setPen(kMuted);
    p.drawText(QRectF(bar.left() - 30, grid.bottom() + 0.8 * fm.height(), bar_w + bar_gap + 30,
                      2 * fm.height()),
               Qt::AlignHCenter | Qt::AlignTop | Qt::TextWordWrap, tr("share of\ncluster"));
}

}  // namespace transcura::widgets
