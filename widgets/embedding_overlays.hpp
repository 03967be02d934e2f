#pragma once
// Qt-painted overlays on top of the embedding's GL surface: the categorical legend (click a row
// to hide or show a category, double-click to show only it), the continuous colour bar, the
// lasso/box being drawn, and a status line. Each paints through paintContent() so that plot
// export draws exactly what the screen shows, as vectors.
#include <vector>

#include <QColor>
#include <QPolygonF>
#include <QString>
#include <QStringList>
#include <QWidget>

#include "color_maps.hpp"

namespace transcura::widgets {

class LegendOverlay : public QWidget {
    Q_OBJECT
public:
    explicit LegendOverlay(QWidget* parent = nullptr);

    void setCategories(const QString& title, const QStringList& names,
                       const std::vector<QColor>& colors, const std::vector<int64_t>& counts);
    void setHidden(const std::vector<bool>& hidden);
    const std::vector<bool>& hiddenFlags() const { return hidden_; }
    QSize sizeHint() const override;
    void paintContent(QPainter& painter, const QRectF& area) const;

signals:
    void categoryToggled(int index);
    void categorySoloed(int index);

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;

private:
    int rowAt(QPointF pos) const;
    int rowHeight() const;
    int titleHeight() const;

    QString title_;
    QStringList names_;
    std::vector<QColor> colors_;
    std::vector<int64_t> counts_;
    std::vector<bool> hidden_;
    int scroll_ = 0;  // first row shown
};

class ColorBarOverlay : public QWidget {
    Q_OBJECT
public:
    explicit ColorBarOverlay(QWidget* parent = nullptr);
    void setMap(const QString& title, const ColorMap& map, double lo, double hi);
    QSize sizeHint() const override;
    void paintContent(QPainter& painter, const QRectF& area) const;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QString title_;
    ColorMap map_;
    double lo_ = 0, hi_ = 1;
};

/// Transparent, mouse-transparent layer showing the lasso or box being drawn.
class SelectionOverlay : public QWidget {
    Q_OBJECT
public:
    explicit SelectionOverlay(QWidget* parent = nullptr);
    void setPath(const QPolygonF& path, bool closed_box);
    void clearPath();

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QPolygonF path_;
    bool box_ = false;
};

}  // namespace transcura::widgets
