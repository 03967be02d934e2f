#include "embedding_overlays.hpp"

#include <algorithm>
#include <cmath>

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QWheelEvent>

#include "plot_axes.hpp"

namespace transcura::widgets {

namespace {

const QColor kPanel(255, 255, 255, 225);
const QColor kPanelBorder(190, 190, 190);
const QColor kText(40, 40, 40);
constexpr int kPad = 8;

void paint_panel(QPainter& p, const QRectF& r) {
    p.setPen(QPen(kPanelBorder, 1));
    p.setBrush(kPanel);
    p.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), 5, 5);
}

}  // namespace

// ---------------------------------------------------------------------------------- legend

LegendOverlay::LegendOverlay(QWidget* parent) : QWidget(parent) {
    setAttribute(Qt::WA_NoSystemBackground);
    setCursor(Qt::PointingHandCursor);
    setToolTip(tr("Click a category to hide or show it; double-click to show only it"));
}

void LegendOverlay::setCategories(const QString& title, const QStringList& names,
                                  const std::vector<QColor>& colors,
                                  const std::vector<int64_t>& counts) {
    title_ = title;
    names_ = names;
    colors_ = colors;
    counts_ = counts;
    hidden_.assign(static_cast<size_t>(names.size()), false);
    scroll_ = 0;
    updateGeometry();
    update();
}

void LegendOverlay::setHidden(const std::vector<bool>& hidden) {
    hidden_ = hidden;
    hidden_.resize(static_cast<size_t>(names_.size()), false);
    update();
}

int LegendOverlay::rowHeight() const {
    return fontMetrics().height() + 4;
}
int LegendOverlay::titleHeight() const {
    return fontMetrics().height() + 6;
}

QSize LegendOverlay::sizeHint() const {
    QFontMetrics fm = fontMetrics();
    int width = fm.horizontalAdvance(title_) + 8;
    for (qsizetype i = 0; i < names_.size(); ++i) {
        QString label = names_[i];
        if (static_cast<size_t>(i) < counts_.size())
            label += QStringLiteral("  (%1)").arg(counts_[static_cast<size_t>(i)]);
        width = std::max(width, fm.horizontalAdvance(label) + 26);
    }
    width = std::min(width + 2 * kPad, 260);
    int height = titleHeight() + static_cast<int>(names_.size()) * rowHeight() + 2 * kPad;
    return {width, height};
}

void LegendOverlay::paintContent(QPainter& p, const QRectF& area) const {
    p.save();
    paint_panel(p, area);
    QFontMetricsF fm(font());
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(kText);
    double y = area.top() + kPad;
    QString title = QFontMetricsF(bold).elidedText(title_, Qt::ElideRight, area.width() - 2 * kPad);
    p.drawText(QPointF(area.left() + kPad, y + fm.ascent()), title);
    y += titleHeight();
    p.setFont(font());
    const int rows = static_cast<int>(names_.size());
    const double bottom = area.bottom() - kPad;
    for (int i = scroll_; i < rows; ++i) {
        if (y + rowHeight() > bottom + 0.5) {
            p.setPen(QColor(120, 120, 120));
            p.drawText(QPointF(area.left() + kPad, bottom - 2),
                       tr("… %1 more (scroll)").arg(rows - i));
            break;
        }
        bool hidden = static_cast<size_t>(i) < hidden_.size() && hidden_[static_cast<size_t>(i)];
        QColor color = static_cast<size_t>(i) < colors_.size() ? colors_[static_cast<size_t>(i)]
                                                               : missing_color();
        QRectF swatch(area.left() + kPad, y + (rowHeight() - 11) / 2.0, 11, 11);
        p.setPen(QPen(color.darker(130), 1));
        p.setBrush(hidden ? Qt::NoBrush : QBrush(color));
        p.drawEllipse(swatch);
        QString label = names_[i];
        if (static_cast<size_t>(i) < counts_.size())
            label += QStringLiteral("  (%1)").arg(counts_[static_cast<size_t>(i)]);
        label = fm.elidedText(label, Qt::ElideRight, area.width() - 2 * kPad - 18);
        p.setPen(hidden ? QColor(165, 165, 165) : kText);
        p.drawText(QPointF(swatch.right() + 7, y + (rowHeight() + fm.ascent() - fm.descent()) / 2),
                   label);
        y += rowHeight();
    }
    p.restore();
}

void LegendOverlay::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    paintContent(p, QRectF(rect()));
}

int LegendOverlay::rowAt(QPointF pos) const {
    double y = pos.y() - kPad - titleHeight();
    if (y < 0) return -1;
    int row = scroll_ + static_cast<int>(y / rowHeight());
    return row < names_.size() ? row : -1;
}

void LegendOverlay::mousePressEvent(QMouseEvent* event) {
    int row = rowAt(event->position());
    if (row >= 0 && event->button() == Qt::LeftButton) emit categoryToggled(row);
    event->accept();
}

void LegendOverlay::mouseDoubleClickEvent(QMouseEvent* event) {
    int row = rowAt(event->position());
    if (row >= 0) emit categorySoloed(row);
    event->accept();
}

void LegendOverlay::wheelEvent(QWheelEvent* event) {
    int visible = std::max(1, (height() - titleHeight() - 2 * kPad) / rowHeight() - 1);
    int max_scroll = std::max(0, static_cast<int>(names_.size()) - visible);
    scroll_ = std::clamp(scroll_ - event->angleDelta().y() / 40, 0, max_scroll);
    update();
    event->accept();
}

// ------------------------------------------------------------------------------- colour bar

ColorBarOverlay::ColorBarOverlay(QWidget* parent) : QWidget(parent) {
    setAttribute(Qt::WA_NoSystemBackground);
    setAttribute(Qt::WA_TransparentForMouseEvents);
}

void ColorBarOverlay::setMap(const QString& title, const ColorMap& map, double lo, double hi) {
    title_ = title;
    map_ = map;
    lo_ = lo;
    hi_ = hi;
    updateGeometry();
    update();
}

QSize ColorBarOverlay::sizeHint() const {
    QFontMetrics fm = fontMetrics();
    int labels = 0;
    for (double v : nice_ticks(lo_, hi_, 5))
        labels = std::max(labels, fm.horizontalAdvance(Axis::format(v)));
    QFont bold = font();
    bold.setBold(true);
    int title = QFontMetrics(bold).horizontalAdvance(title_) + 4;
    int width = std::max(title, 16 + 8 + labels) + 2 * kPad;
    return {std::min(width, 260), 210};
}

void ColorBarOverlay::paintContent(QPainter& p, const QRectF& area) const {
    p.save();
    paint_panel(p, area);
    QFontMetricsF fm(font());
    QFont bold = font();
    bold.setBold(true);
    p.setFont(bold);
    p.setPen(kText);
    QString title = QFontMetricsF(bold).elidedText(title_, Qt::ElideRight, area.width() - 2 * kPad);
    p.drawText(QPointF(area.left() + kPad, area.top() + kPad + fm.ascent()), title);
    p.setFont(font());
    QRectF bar(area.left() + kPad, area.top() + kPad + fm.height() + 10, 16,
               area.height() - 2 * kPad - fm.height() - 18);
    QLinearGradient gradient(bar.bottomLeft(), bar.topLeft());
    for (int i = 0; i <= 16; ++i) gradient.setColorAt(i / 16.0, map_.at(i / 16.0));
    p.setPen(QPen(kPanelBorder, 1));
    p.setBrush(gradient);
    p.drawRect(bar);
    Axis axis(lo_, hi_);
    p.setPen(kText);
    for (double v : nice_ticks(lo_, hi_, std::max(2, static_cast<int>(bar.height() / 35)))) {
        double y = axis.toPixel(v, bar.bottom(), bar.top());
        p.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 4, y));
        p.drawText(QPointF(bar.right() + 7, y + fm.ascent() / 2 - 1), Axis::format(v));
    }
    p.restore();
}

void ColorBarOverlay::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    paintContent(p, QRectF(rect()));
}

// -------------------------------------------------------------------------------- selection

SelectionOverlay::SelectionOverlay(QWidget* parent) : QWidget(parent) {
    setAttribute(Qt::WA_NoSystemBackground);
    setAttribute(Qt::WA_TransparentForMouseEvents);
}

void SelectionOverlay::setPath(const QPolygonF& path, bool closed_box) {
    path_ = path;
    box_ = closed_box;
    update();
}

void SelectionOverlay::clearPath() {
    path_.clear();
    update();
}

void SelectionOverlay::paintEvent(QPaintEvent*) {
    if (path_.size() < 2) return;
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.setBrush(QColor(30, 120, 220, 40));
    QPen pen(QColor(20, 90, 200), 1.5, Qt::DashLine);
    p.setPen(pen);
    if (box_) {
        p.drawRect(QRectF(path_.first(), path_.last()).normalized());
    } else {
        p.drawPolygon(path_);
    }
}

}  // namespace transcura::widgets
