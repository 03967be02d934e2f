#include "plot_widget.hpp"

#include <cmath>

#include <QMouseEvent>
#include <QPainter>

namespace transcura::widgets {

PlotWidget::PlotWidget(QWidget* parent) : QWidget(parent) {
    setMouseTracking(true);
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void PlotWidget::setTitle(const QString& title) {
    title_ = title;
    update();
}

void PlotWidget::renderExport(QPainter& painter, const QRectF& area) {
    painter.save();
    painter.setFont(font());
    paintPlot(painter, area);
    painter.restore();
}

void PlotWidget::drawTitle(QPainter& p, const QRectF& area) const {
    if (title_.isEmpty()) return;
    p.save();
    QFont f = font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.1);
    p.setFont(f);
    p.setPen(QColor(30, 30, 30));
    p.drawText(QRectF(area.left(), area.top() + 4, area.width(), QFontMetricsF(f).height() + 4),
               Qt::AlignHCenter | Qt::AlignTop, title_);
    p.restore();
}

void PlotWidget::drawMessage(QPainter& p, const QRectF& area, const QString& text) {
    p.save();
    p.setPen(QColor(120, 120, 120));
    p.drawText(area, Qt::AlignCenter | Qt::TextWordWrap, text);
    p.restore();
}

void PlotWidget::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), Qt::white);
    paintPlot(p, QRectF(rect()));
}

int PlotWidget::handleAt(QPointF pos) const {
    int best = -1;
    double best_distance = 6.0;
    for (const Handle& h : handles()) {
        const bool vertical = h.orientation == Qt::Vertical;
        const double along = vertical ? pos.y() : pos.x();
        if (along < std::min(h.from, h.to) - 4 || along > std::max(h.from, h.to) + 4) continue;
        const double distance = std::abs((vertical ? pos.x() : pos.y()) - h.pixel);
        if (distance <= best_distance) {
            best_distance = distance;
            best = h.id;
        }
    }
    return best;
}

void PlotWidget::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::LeftButton) {
        dragging_ = handleAt(event->position());
        if (dragging_ >= 0) {
            event->accept();
            return;
        }
    }
    QWidget::mousePressEvent(event);
}

void PlotWidget::mouseMoveEvent(QMouseEvent* event) {
    if (dragging_ >= 0) {
        handleDragged(dragging_, event->position());
        event->accept();
        return;
    }
    int hover = handleAt(event->position());
    Qt::CursorShape shape = Qt::ArrowCursor;
    for (const Handle& h : handles())
        if (h.id == hover)
            shape = h.orientation == Qt::Vertical ? Qt::SizeHorCursor : Qt::SizeVerCursor;
    setCursor(shape);
    QWidget::mouseMoveEvent(event);
}

void PlotWidget::mouseReleaseEvent(QMouseEvent* event) {
    if (dragging_ >= 0 && event->button() == Qt::LeftButton) {
        int id = dragging_;
        handleDragged(id, event->position());
        dragging_ = -1;
        handleReleased(id);
        event->accept();
        return;
    }
    QWidget::mouseReleaseEvent(event);
}

}  // namespace transcura::widgets
