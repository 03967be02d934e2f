#pragma once
// The batch panel's plots: grouped bars per batch (raw vs Harmony, or QC medians) and the
// batch x cluster composition heatmap with each cluster's batch entropy. They draw values that
// core computed (batch_summary.hpp, diagnostics.hpp); nothing is computed here.
#include <limits>
#include <vector>

#include <QColor>
#include <QStringList>

#include "color_maps.hpp"
#include "plot_widget.hpp"
#include "transcura/batch_summary.hpp"

namespace transcura::widgets {

class BatchBarPlot : public PlotWidget {
    Q_OBJECT
public:
    struct Series {
        QString name;
        QColor color;
        std::vector<double> values;  // one per category; NaN = not available
    };

    explicit BatchBarPlot(QWidget* parent = nullptr);

    /// Bars for each category (batch), one per series side by side. `y_max` NaN = from data.
    void setData(const QString& x_title, const QStringList& categories, const QString& y_title,
                 std::vector<Series> series,
                 double y_max = std::numeric_limits<double>::quiet_NaN());
    void clear(const QString& message = {});
    const QStringList& categories() const { return categories_; }
    const std::vector<Series>& series() const { return series_; }
    QString yTitle() const { return y_title_; }
    QSize minimumSizeHint() const override { return {260, 200}; }

protected:
    void paintPlot(QPainter& painter, const QRectF& area) override;

private:
    QString x_title_, y_title_, message_;
    QStringList categories_;
    std::vector<Series> series_;
    double y_max_ = 0;
};

class CompositionHeatmap : public PlotWidget {
    Q_OBJECT
public:
    explicit CompositionHeatmap(QWidget* parent = nullptr);

    /// Rows: clusters; columns: batches; colour: the share of the cluster's cells in each batch.
    void setData(const BatchComposition& composition, const QString& batch_title,
                 const QString& cluster_title);
    void clear(const QString& message = {});
    const BatchComposition& composition() const { return composition_; }
    /// The share shown in a cell (count / cluster size).
    double share(size_t cluster, size_t batch) const;
    QSize minimumSizeHint() const override { return {260, 200}; }

protected:
    void paintPlot(QPainter& painter, const QRectF& area) override;

private:
    BatchComposition composition_;
    QString batch_title_, cluster_title_, message_;
    ColorMap map_{ColorMapKind::Viridis};
};

}  // namespace transcura::widgets
