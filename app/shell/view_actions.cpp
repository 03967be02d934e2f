#include "view_actions.hpp"

#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

#include "embedding_view.hpp"

namespace transcura::shell {

using widgets::EmbeddingView;

namespace {

/// Small line icons drawn here, so the toolbar looks the same on every desktop theme.
QIcon mode_icon(int kind) {
    QPixmap pixmap(32, 32);
    pixmap.fill(Qt::transparent);
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(QColor(40, 70, 120), 2.2, kind == 0 ? Qt::SolidLine : Qt::DashLine));
    if (kind == 0) {  // a hand-ish arrow cross for navigation
        p.drawLine(16, 4, 16, 28);
        p.drawLine(4, 16, 28, 16);
        p.drawPolygon(QPolygonF{{16, 2}, {12, 8}, {20, 8}});
        p.drawPolygon(QPolygonF{{16, 30}, {12, 24}, {20, 24}});
        p.drawPolygon(QPolygonF{{2, 16}, {8, 12}, {8, 20}});
        p.drawPolygon(QPolygonF{{30, 16}, {24, 12}, {24, 20}});
    } else if (kind == 1) {
        QPainterPath path;
        path.moveTo(8, 20);
        path.cubicTo(2, 8, 22, 0, 28, 10);
        path.cubicTo(32, 18, 22, 26, 12, 22);
        path.closeSubpath();
        p.drawPath(path);
    } else {
        p.drawRect(QRectF(5, 7, 22, 18));
    }
    return QIcon(pixmap);
}

}  // namespace

ViewActions::ViewActions(EmbeddingView* view, QObject* parent) : QObject(parent), view_(view) {
    modes_ = new QActionGroup(this);
    modes_->setExclusive(true);
    auto make_mode = [this](const QString& text, int kind, Qt::Key key, EmbeddingView::Mode mode,
                            const QString& tip) {
        auto* action = new QAction(mode_icon(kind), text, this);
        action->setCheckable(true);
        action->setShortcut(QKeySequence(key));
        action->setStatusTip(tip);
        action->setToolTip(QStringLiteral("%1 (%2)").arg(tip, QKeySequence(key).toString()));
        modes_->addAction(action);
        connect(action, &QAction::triggered, view_, [this, mode] { view_->setMode(mode); });
        return action;
    };
    navigate_ = make_mode(tr("&Navigate"), 0, Qt::Key_N, EmbeddingView::Mode::Navigate,
                          tr("Pan with the mouse, zoom with the wheel; in 3D drag to rotate"));
    lasso_ = make_mode(tr("&Lasso Selection"), 1, Qt::Key_L, EmbeddingView::Mode::Lasso,
                       tr("Draw around cells to select them (Shift adds, Ctrl removes)"));
    box_ = make_mode(tr("&Box Selection"), 2, Qt::Key_B, EmbeddingView::Mode::Box,
                     tr("Drag a rectangle to select cells (Shift adds, Ctrl removes)"));
    navigate_->setChecked(true);
    connect(view_, &EmbeddingView::modeChanged, this, [this](EmbeddingView::Mode mode) {
        (mode == EmbeddingView::Mode::Navigate ? navigate_
         : mode == EmbeddingView::Mode::Lasso  ? lasso_
                                               : box_)
            ->setChecked(true);
    });

    reset_ = new QAction(tr("&Reset View"), this);
    reset_->setShortcut(QKeySequence(Qt::Key_Home));
    reset_->setStatusTip(tr("Fit all cells in the view"));
    connect(reset_, &QAction::triggered, view_, &EmbeddingView::resetView);
    clear_ = new QAction(tr("&Clear Selection"), this);
    clear_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
    connect(clear_, &QAction::triggered, view_, &EmbeddingView::clearSelection);
}

}  // namespace transcura::shell
