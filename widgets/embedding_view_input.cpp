// The embedding view's interaction: selection modes, lasso and box selection, hover picking,
// and the mouse, wheel and keyboard handlers. See embedding_view.hpp.
#include <algorithm>
#include <cmath>

#include <QKeyEvent>
#include <QMouseEvent>
#include <QToolTip>
#include <QWheelEvent>

#include "embedding_overlays.hpp"
#include "embedding_view.hpp"
#include "lasso_selection.hpp"
#include "selection_geometry.hpp"

namespace transcura::widgets {
void EmbeddingView::setMode(Mode mode) {
    if (mode == mode_) return;
    mode_ = mode;
    setCursor(mode == Mode::Navigate ? Qt::ArrowCursor : Qt::CrossCursor);
    emit modeChanged(mode);
}

void EmbeddingView::setSelection(std::vector<int64_t> sorted_indices) {
    // Indices of another cohort (a selection made in a dock the staged hand-off has not reached
    // yet) would index past the points: only this layout's points are kept.
    std::erase_if(sorted_indices, [this](int64_t i) { return i < 0 || i >= n_; });
    if (sorted_indices == selection_) return;
    selection_ = std::move(sorted_indices);
    scene_.setBaseDimmed(!selection_.empty(), dimmedColor());
    markSelectionDirty();  // the base layer draws the same points, dimmed or not
    updateStatus();
}

void EmbeddingView::clearSelection() {
    if (selection_.empty()) return;
    setSelection({});
    emit selectionMade(selection_);
}

std::vector<int64_t> EmbeddingView::pointsInWidgetPolygon(const QPolygonF& polygon) const {
    const uint8_t* mask = visible_mask_.empty() ? nullptr : visible_mask_.data();
    if (dims_ == 2) {
        QPolygonF data;
        data.reserve(polygon.size());
        for (const QPointF& p : polygon) data.append(widgetToData(p));
        return points_in_lasso(xyz_.data(), n_, 3, data, mask);
    }
    std::vector<float> projected;
    scene_.project(xyz_.data(), n_, QSizeF(size()), projected);
    return points_in_lasso(projected.data(), n_, 2, polygon, mask);
}

void EmbeddingView::finishSelection(const QPolygonF& polygon, bool box) {
    QElapsedTimer timer;
    timer.start();
    std::vector<int64_t> hits;
    if (box && dims_ == 2) {
        const uint8_t* mask = visible_mask_.empty() ? nullptr : visible_mask_.data();
        QRectF rect(widgetToData(polygon.first()), widgetToData(polygon.last()));
        hits = points_in_rect(xyz_.data(), n_, 3, rect.normalized(), mask);
    } else if (box) {
        QRectF r = QRectF(polygon.first(), polygon.last()).normalized();
        hits = pointsInWidgetPolygon(QPolygonF(r));
    } else {
        hits = pointsInWidgetPolygon(polygon);
    }
    std::vector<int64_t> result;
    if (drag_modifiers_ & Qt::ShiftModifier)
        result = selection_union(selection_, hits);
    else if (drag_modifiers_ & Qt::ControlModifier)
        result = selection_difference(selection_, hits);
    else
        result = std::move(hits);
    setSelection(std::move(result));
    last_selection_ms_ = timer.nsecsElapsed() / 1e6;
    emit selectionMade(selection_);
}

void EmbeddingView::setTooltipProvider(std::function<QString(int64_t)> provider) {
    tooltip_provider_ = std::move(provider);
}

const GridIndex2D& EmbeddingView::pickIndex() const {
    if (!pick_valid_) {
        if (dims_ == 2) {
            pick_index_.build(xyz_.data(), n_, 3);
        } else {
            scene_.project(xyz_.data(), n_, QSizeF(size()), projected_);
            pick_index_.build(projected_.data(), n_, 2);
        }
        pick_valid_ = true;
    }
    return pick_index_;
}

int64_t EmbeddingView::pointAt(QPointF pos) const {
    if (n_ == 0) return -1;
    const double radius_px = point_size_ / 2 + 4;
    std::function<bool(int64_t)> accept;
    if (!visible_mask_.empty())
        accept = [this](int64_t i) { return visible_mask_[static_cast<size_t>(i)] != 0; };
    const GridIndex2D& index = pickIndex();
    if (dims_ == 3) return index.nearest(pos.x(), pos.y(), radius_px, accept);
    const double units = 2.0 * scene_.camera().parallel_scale / std::max(1, height());
    QPointF d = widgetToData(pos);
    return index.nearest(d.x(), d.y(), radius_px * units, accept);
}

void EmbeddingView::showHoverTooltip() {
    int64_t i = pointAt(hover_pos_);
    if (i != hovered_) {
        hovered_ = i;
        emit pointHovered(i);
    }
    if (i >= 0 && tooltip_provider_)
        QToolTip::showText(mapToGlobal(hover_pos_.toPoint()), tooltip_provider_(i), this);
    else
        QToolTip::hideText();
}

// ------------------------------------------------------------------------------ GL + Qt

void EmbeddingView::mousePressEvent(QMouseEvent* event) {
    QToolTip::hideText();
    hover_timer_.stop();
    last_pos_ = event->position();
    drag_modifiers_ = event->modifiers();
    const bool left = event->button() == Qt::LeftButton;
    if (event->button() == Qt::MiddleButton ||
        (left && mode_ == Mode::Navigate && (dims_ == 2 || event->modifiers() & Qt::ShiftModifier)))
        drag_ = Drag::Pan;
    else if (left && mode_ == Mode::Navigate)
        drag_ = Drag::Rotate;
    else if (left && mode_ == Mode::Lasso)
        drag_ = Drag::Lasso;
    else if (left && mode_ == Mode::Box)
        drag_ = Drag::Box;
    path_ = QPolygonF{event->position()};
    if (drag_ == Drag::Pan) setCursor(Qt::ClosedHandCursor);
    event->accept();
}

void EmbeddingView::mouseMoveEvent(QMouseEvent* event) {
    const QPointF pos = event->position();
    const QPointF delta = pos - last_pos_;
    switch (drag_) {
        case Drag::Pan:
            scene_.pan(delta, QSizeF(size()));
            cameraMoved(true);
            break;
        case Drag::Rotate:
            scene_.rotate(-delta.x() * 0.4, delta.y() * 0.4);
            cameraMoved(true);
            break;
        case Drag::Lasso:
            if (QLineF(path_.last(), pos).length() >= 2.0) path_.append(pos);
            selection_overlay_->setPath(path_, false);
            break;
        case Drag::Box:
            path_ = QPolygonF{path_.first(), pos};
            selection_overlay_->setPath(path_, true);
            break;
        case Drag::None:
            hover_pos_ = pos;
            hover_timer_.start();
            break;
    }
    last_pos_ = pos;
    event->accept();
}

void EmbeddingView::mouseReleaseEvent(QMouseEvent* event) {
    const Drag drag = drag_;
    drag_ = Drag::None;
    if (drag == Drag::Pan) setCursor(mode_ == Mode::Navigate ? Qt::ArrowCursor : Qt::CrossCursor);
    if (drag == Drag::Lasso || drag == Drag::Box) {
        if (path_.last() != event->position()) path_.append(event->position());
        selection_overlay_->clearPath();
        QRectF extent = path_.boundingRect();
        if (extent.width() < 3 && extent.height() < 3) {
            // A click without a drag clears the selection (unless adding or removing).
            if (!(drag_modifiers_ & (Qt::ShiftModifier | Qt::ControlModifier)) &&
                !selection_.empty()) {
                setSelection({});
                emit selectionMade(selection_);
            }
        } else {
            finishSelection(drag == Drag::Box ? QPolygonF{path_.first(), path_.last()} : path_,
                            drag == Drag::Box);
        }
    }
    event->accept();
}

void EmbeddingView::mouseDoubleClickEvent(QMouseEvent* event) {
    if (mode_ == Mode::Navigate && event->button() == Qt::LeftButton) resetView();
    event->accept();
}

void EmbeddingView::wheelEvent(QWheelEvent* event) {
    const double steps = event->angleDelta().y() / 120.0;
    if (steps == 0 || n_ == 0) return;
    scene_.zoomAt(std::pow(1.2, steps), event->position(), QSizeF(size()));
    cameraMoved(true);
    event->accept();
}

void EmbeddingView::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Escape) {
        if (drag_ == Drag::Lasso || drag_ == Drag::Box) {
            drag_ = Drag::None;
            selection_overlay_->clearPath();
        } else {
            clearSelection();
        }
        event->accept();
        return;
    }
    QOpenGLWidget::keyPressEvent(event);
}

void EmbeddingView::leaveEvent(QEvent* event) {
    hover_timer_.stop();
    if (hovered_ >= 0) {
        hovered_ = -1;
        emit pointHovered(-1);
    }
    QOpenGLWidget::leaveEvent(event);
}

}  // namespace transcura::widgets
