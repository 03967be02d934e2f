#pragma once
// The QC panel: a metric's distribution per batch (histograms or violins) with draggable
// thresholds, the counts-vs-genes scatter coloured by % mito, and a live summary of how many
// cells the thresholds remove, in total and per batch (counted by core).
#include <limits>
#include <map>
#include <memory>

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QSplitter>
#include <QWidget>

#include "qc_plots.hpp"
#include "transcura/cohort.hpp"
#include "transcura/threshold_counts.hpp"

namespace transcura::widgets {

class QcPanel : public QWidget {
    Q_OBJECT
public:
    struct Threshold {
        double lower = std::numeric_limits<double>::quiet_NaN();
        double upper = std::numeric_limits<double>::quiet_NaN();
    };

    explicit QcPanel(QWidget* parent = nullptr);

    /// Shows a cohort's numeric obs columns; thresholds of metrics it still has are kept. The
    /// plots and counts follow in the next event-loop turn, or when first asked for.
    void setCohort(std::shared_ptr<const Cohort> cohort, const QString& batch_key = {});
    void setMetric(const QString& metric);
    QString metric() const;
    void setBatchKey(const QString& key);
    QString batchKey() const;

    /// NaN bounds remove the threshold. Emits thresholdsChanged().
    void setThreshold(const QString& metric, double lower, double upper);
    std::map<QString, Threshold> thresholds() const { return thresholds_; }
    /// All thresholds together, and the shown metric's alone.
    const ThresholdCounts& counts() const;
    const ThresholdCounts& metricCounts() const;
    QString summaryText() const;

    /// Above this many cells the deferred rebuild reads the scatter's three columns on a
    /// worker (~20-100 ms at 1M cells, depending on the machine's load).
    static constexpr int64_t kBackgroundScatterAbove = 200000;

    /// The plots (their data brought up to date first: see setCohort).
    QcDistributionPlot* distribution() const;
    QcScatterPlot* scatter() const;

signals:
    void thresholdsChanged();
    /// The user (or setBatchKey) chose another batch column ("" = none).
    void batchKeyChanged(const QString& key);

protected:
    /// Side by side when wide, stacked when tall.
    void resizeEvent(QResizeEvent* event) override;

private:
    /// What a new cohort leaves to later turns, one step per turn (each ~10-40 ms at 1M
    /// cells; together they were one ~150-250 ms stall).
    enum RebuildStep : unsigned {
        kGroupsStep = 1,
        kDistributionStep = 2,
        kScatterStep = 4,
        kCountsStep = 8,
        kAllSteps = 15
    };
    /// Runs every pending step now (what the accessors need).
    void rebuildPending();
    void runNextStep();
    void scheduleNextStep();
    void rebuildGroups();
    void rebuildDistribution();
    void showDistribution();
    /// `background`: a large cohort's columns are read on a worker (the scatter follows).
    void rebuildScatter(bool background = false);
    void showScatter(std::shared_ptr<const QcScatterPlot::Cloud> cloud, const QString& mito_name);
    void updateCounts();
    std::vector<double> metricValues(const QString& metric) const;

    std::shared_ptr<const Cohort> cohort_;
    QComboBox* metric_box_ = nullptr;
    QComboBox* group_box_ = nullptr;
    QComboBox* style_box_ = nullptr;
    QCheckBox* log_box_ = nullptr;
    QcDistributionPlot* distribution_ = nullptr;
    QcScatterPlot* scatter_ = nullptr;
    QLabel* summary_ = nullptr;
    QSplitter* splitter_ = nullptr;
    std::map<QString, Threshold> thresholds_;
    // One code per cell of the batch column (empty: none), shared with the distribution plot.
    QcDistributionPlot::SharedCodes groups_ = std::make_shared<const std::vector<int32_t>>();
    QStringList group_names_;
    QString scatter_x_, scatter_y_;
    ThresholdCounts counts_, metric_counts_;
    unsigned pending_steps_ = 0;
    bool scatter_in_flight_ = false;  // its columns are being read on a worker
    int rebuild_generation_ = 0;
};

}  // namespace transcura::widgets
