#pragma once
// Base of the QPainter plots: white background, a title, export (PNG/SVG/PDF through
// PlotExportable), and draggable threshold lines ("handles") that subclasses place.
#include <vector>

#include <QWidget>

#include "plot_export.hpp"

namespace transcura::widgets {

class PlotWidget : public QWidget, public PlotExportable {
    Q_OBJECT
public:
    explicit PlotWidget(QWidget* parent = nullptr);

    void setTitle(const QString& title);
    QString title() const { return title_; }
    QString exportTitle() const override { return title_; }
    QSize exportSize() const override { return size(); }
    void renderExport(QPainter& painter, const QRectF& area) override;
    QSize minimumSizeHint() const override { return {300, 220}; }
    QSize sizeHint() const override { return {560, 380}; }

protected:
    /// Paints the whole plot (background included) into `area`.
    virtual void paintPlot(QPainter& painter, const QRectF& area) = 0;

    /// A draggable line: vertical lines (at x = pixel) move horizontally and vice versa.
    struct Handle {
        int id = 0;
        Qt::Orientation orientation = Qt::Vertical;
        double pixel = 0;
        double from = 0, to = 0;  // the extent of the line along its length
    };
    virtual std::vector<Handle> handles() const { return {}; }
    virtual void handleDragged(int /*id*/, QPointF /*pos*/) {}
    virtual void handleReleased(int /*id*/) {}
    int draggedHandle() const { return dragging_; }

    void drawTitle(QPainter& painter, const QRectF& area) const;
    static void drawMessage(QPainter& painter, const QRectF& area, const QString& text);

    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    int handleAt(QPointF pos) const;

    QString title_;
    int dragging_ = -1;
};

}  // namespace transcura::widgets
