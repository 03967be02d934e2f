#pragma once
// QC plots: per-batch distributions of one metric (small-multiple histograms or violins) with
// draggable lower/upper thresholds, and a counts-vs-genes scatter coloured by % mitochondrial.
// Binning, quantiles and counting are done by core (threshold_counts.hpp).
#include <limits>
#include <memory>
#include <vector>

#include <QColor>
#include <QImage>
#include <QStringList>

#include "color_maps.hpp"
#include "plot_axes.hpp"
#include "plot_widget.hpp"
#include "transcura/threshold_counts.hpp"

namespace transcura::widgets {

inline constexpr double kNoThreshold = std::numeric_limits<double>::quiet_NaN();

class QcDistributionPlot : public PlotWidget {
    Q_OBJECT
public:
    enum class Style { Histogram, Violin };
    Q_ENUM(Style)

    explicit QcDistributionPlot(QWidget* parent = nullptr);

    /// One value per cell; `groups` one code per cell (or empty: a single group).
    void setData(const QString& metric, std::vector<double> values, std::vector<int32_t> groups,
                 const QStringList& group_names, std::vector<QColor> colors = {});
    using SharedValues = std::shared_ptr<const std::vector<double>>;
    using SharedCodes = std::shared_ptr<const std::vector<int32_t>>;
    /// The same with vectors that are never changed (e.g. a cohort's own column, by an
    /// aliasing pointer): a large cloud's binning job shares them instead of copying 12 MB at
    /// 1M cells on the GUI thread. Null = empty.
    void setSharedData(const QString& metric, SharedValues values, SharedCodes groups,
                       const QStringList& group_names, std::vector<QColor> colors = {});
    void clear();
    QString metric() const { return metric_; }
    const std::vector<double>& values() const { return *values_; }
    void setStyle(Style style);
    Style style() const { return style_; }
    void setLogScale(bool log_scale);
    bool logScale() const { return log_; }
    /// NaN = no threshold. Does not emit.
    void setThresholds(double lower, double upper);
    double lower() const { return lower_; }
    double upper() const { return upper_; }
    /// A large cloud's histogram and quartiles are still being computed off the GUI thread
    /// (the plot shows a note meanwhile; its axis and thresholds already work).
    bool isBinning() const { return binning_; }
    /// Widget position of a threshold line (x for histograms, y for violins); NaN if none.
    double thresholdPixel(bool upper) const;

signals:
    /// While a threshold line is dragged, and when one is placed or removed.
    void thresholdsChanged(double lower, double upper);
    void styleChanged(transcura::widgets::QcDistributionPlot::Style style);
    void logScaleChanged(bool log_scale);

protected:
    void paintPlot(QPainter& painter, const QRectF& area) override;
    std::vector<Handle> handles() const override;
    void handleDragged(int id, QPointF pos) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;

private:
    struct Binned {
        GroupHistogram histogram;
        std::vector<std::vector<double>> quartiles;
        std::vector<int64_t> sizes;
    };
    static Binned bin(const std::vector<double>& values, const std::vector<int32_t>& groups,
                      int n_groups, std::vector<double> edges);
    void recompute();
    void apply(Binned binned);
    QRectF plotRect(const QRectF& area) const;
    double valueAt(QPointF pos) const;
    void paintHistograms(QPainter& p, const QRectF& plot);
    void paintViolins(QPainter& p, const QRectF& plot);
    void paintThresholds(QPainter& p, const QRectF& plot);

    QString metric_;
    SharedValues values_ = std::make_shared<const std::vector<double>>();
    SharedCodes groups_ = std::make_shared<const std::vector<int32_t>>();
    QStringList group_names_;
    std::vector<QColor> colors_;
    Style style_ = Style::Histogram;
    bool log_ = false;
    double lower_ = kNoThreshold, upper_ = kNoThreshold;
    Axis axis_;
    GroupHistogram histogram_;
    std::vector<std::vector<double>> quartiles_;  // [group] {q25, q50, q75}
    std::vector<int64_t> group_sizes_;
    bool binning_ = false;  // a large cloud's histogram is being computed in the background
    int binning_generation_ = 0;
};

class QcScatterPlot : public PlotWidget {
    Q_OBJECT
public:
    explicit QcScatterPlot(QWidget* parent = nullptr);

    /// The points with their ranges, shared with background raster jobs and never changed
    /// once made: made where the columns are read (a worker for a large cohort, as each range
    /// is a pass over every point: ~20 ms of the GUI thread at 1M cells, with the copy).
    struct Cloud {
        std::vector<double> x, y, color;
        // The finite values' range of x and y: [0] all of them, [1] the positive ones (a log
        // axis); of the colour values.
        std::pair<double, double> x_range[2], y_range[2], color_range;
    };
    /// y and color are dropped when their size is not x's (y then has no values).
    static std::shared_ptr<const Cloud> makeCloud(std::vector<double> x, std::vector<double> y,
                                                  std::vector<double> color);
    void setData(const QString& x_title, std::vector<double> x, const QString& y_title,
                 std::vector<double> y, const QString& color_title, std::vector<double> color);
    /// The same with a cloud from makeCloud().
    void setCloud(const QString& x_title, const QString& y_title, const QString& color_title,
                  std::shared_ptr<const Cloud> cloud);
    void clear();
    void setLogScale(bool log_x, bool log_y);
    int64_t pointCount() const { return static_cast<int64_t>(cloud_->x.size()); }
    /// Above this many points the raster of the cloud (~30-110 ms at 1M points) is drawn off
    /// the GUI thread: the plot shows its axes, thresholds and a note (or the previous raster,
    /// stretched, after a resize) until it is done. Exports always draw it at once.
    static constexpr size_t kBackgroundRasterAbove = 200000;
    bool isRasterizing() const { return raster_busy_; }
    void renderExport(QPainter& painter, const QRectF& area) override;
    /// Threshold lines: vertical on x (axis 0), horizontal on y (axis 1); NaN = none.
    void setThresholds(int axis, double lower, double upper);

signals:
    void thresholdsChanged(int axis, double lower, double upper);

protected:
    void paintPlot(QPainter& painter, const QRectF& area) override;
    std::vector<Handle> handles() const override;
    void handleDragged(int id, QPointF pos) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    /// What a raster needs, by value (a worker gets it).
    struct RasterJob {
        std::shared_ptr<const Cloud> cloud;
        QSize size;
        Axis x_axis, y_axis;
        double color_lo = 0, color_hi = 1;
        ColorMap map;
        int generation = 0;
    };
    QRectF plotRect(const QRectF& area) const;
    RasterJob rasterJob(const QSize& size) const;
    static QImage rasterize(const RasterJob& job);
    void requestRaster(const QSize& size);

    QString x_title_, y_title_, color_title_;
    std::shared_ptr<const Cloud> cloud_ = makeCloud({}, {}, {});
    int data_generation_ = 0;     // the cloud or its axes changed
    int raster_generation_ = -1;  // what raster_ shows
    bool raster_busy_ = false;
    bool exporting_ = false;
    bool log_x_ = true, log_y_ = true;
    Axis x_axis_, y_axis_;
    double color_lo_ = 0, color_hi_ = 1;
    ColorMap map_{ColorMapKind::Viridis};
    double thresholds_[2][2] = {{kNoThreshold, kNoThreshold}, {kNoThreshold, kNoThreshold}};
    QImage raster_;  // the points, at the plot rectangle's size
};

}  // namespace transcura::widgets
