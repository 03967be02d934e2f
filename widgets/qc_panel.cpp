#include "qc_panel.hpp"

#include <cmath>

#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLoggingCategory>
#include <QSignalBlocker>
#include <QSplitter>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "background_pool.hpp"
#include "later_turn.hpp"
#include "obs_access.hpp"

namespace transcura::widgets {

// QT_LOGGING_RULES="transcura.qc.debug=true": what each deferred step of a rebuild costs.
Q_LOGGING_CATEGORY(lcQcPanel, "transcura.qc", QtWarningMsg)

namespace {

bool looks_like_count(const QString& metric) {
    return total_counts_names().contains(metric) || genes_detected_names().contains(metric) ||
           metric.startsWith(QLatin1String("total_counts")) ||
           metric.startsWith(QLatin1String("n_"));
}

QString percent(int64_t part, int64_t whole) {
    return whole > 0 ? QString::number(100.0 * part / whole, 'f', 1) + QLatin1Char('%')
                     : QStringLiteral("0%");
}

}  // namespace

QcPanel::QcPanel(QWidget* parent) : QWidget(parent) {
    metric_box_ = new QComboBox(this);
    // Widths from a fixed number of characters, not from the longest column name: the dock's
    // width (and so the window's layout) must not depend on the cohort.
    metric_box_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    metric_box_->setMinimumContentsLength(9);
    metric_box_->setToolTip(tr("The per-cell metric whose distribution is shown"));
    group_box_ = new QComboBox(this);
    group_box_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    group_box_->setMinimumContentsLength(6);
    group_box_->setToolTip(tr("Split the distributions and counts by this column (the batch)"));
    style_box_ = new QComboBox(this);
    style_box_->addItem(tr("Histograms"));
    style_box_->addItem(tr("Violins"));
    log_box_ = new QCheckBox(tr("Log scale"), this);

    // Two rows (metric and style, batch and scale): in one row the controls made the dock at
    // least ~530 px wide, most of a 1280 px window's width beside the embedding.
    auto* controls = new QGridLayout;
    controls->setHorizontalSpacing(8);
    controls->setVerticalSpacing(4);
    controls->addWidget(new QLabel(tr("Metric:"), this), 0, 0);
    controls->addWidget(metric_box_, 0, 1);
    controls->addWidget(style_box_, 0, 2);
    controls->addWidget(new QLabel(tr("Batch:"), this), 1, 0);
    controls->addWidget(group_box_, 1, 1);
    controls->addWidget(log_box_, 1, 2);
    controls->setColumnStretch(1, 1);

    distribution_ = new QcDistributionPlot(this);
    scatter_ = new QcScatterPlot(this);
    splitter_ = new QSplitter(Qt::Vertical, this);
    splitter_->addWidget(distribution_);
    splitter_->addWidget(scatter_);
    splitter_->setChildrenCollapsible(false);

    summary_ = new QLabel(this);
    summary_->setWordWrap(true);
    summary_->setTextFormat(Qt::RichText);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    summary_->setMinimumHeight(summary_->fontMetrics().height() * 2 + 8);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(controls);
    layout->addWidget(splitter_, 1);
    layout->addWidget(summary_);

    connect(metric_box_, &QComboBox::currentTextChanged, this, [this] { rebuildDistribution(); });
    connect(group_box_, &QComboBox::currentTextChanged, this, [this] {
        rebuildPending();
        rebuildGroups();
        rebuildDistribution();
        updateCounts();
        emit batchKeyChanged(batchKey());
    });
    connect(style_box_, &QComboBox::currentIndexChanged, this, [this](int index) {
        distribution_->setStyle(index == 0 ? QcDistributionPlot::Style::Histogram
                                           : QcDistributionPlot::Style::Violin);
    });
    connect(log_box_, &QCheckBox::toggled, distribution_, &QcDistributionPlot::setLogScale);
    connect(distribution_, &QcDistributionPlot::styleChanged, this,
            [this](QcDistributionPlot::Style style) {
                const QSignalBlocker block(style_box_);
                style_box_->setCurrentIndex(style == QcDistributionPlot::Style::Histogram ? 0 : 1);
            });
    connect(distribution_, &QcDistributionPlot::logScaleChanged, this, [this](bool on) {
        const QSignalBlocker block(log_box_);
        log_box_->setChecked(on);
    });
    connect(distribution_, &QcDistributionPlot::thresholdsChanged, this,
            [this](double lower, double upper) { setThreshold(metric(), lower, upper); });
    connect(scatter_, &QcScatterPlot::thresholdsChanged, this,
            [this](int axis, double lower, double upper) {
                setThreshold(axis == 0 ? scatter_x_ : scatter_y_, lower, upper);
            });
    updateCounts();
}

void QcPanel::setCohort(std::shared_ptr<const Cohort> cohort, const QString& batch_key) {
    cohort_ = std::move(cohort);
    const QString previous_metric = metric();
    {
        const QSignalBlocker block_metric(metric_box_);
        const QSignalBlocker block_group(group_box_);
        metric_box_->clear();
        group_box_->clear();
        group_box_->addItem(tr("(none)"));
        if (cohort_) {
            for (const Column& c : cohort_->obs.columns) {
                QString name = QString::fromStdString(c.name);
                if (c.is_numeric() && c.type != ColumnType::Bool) metric_box_->addItem(name);
                if (has_categories(c, 200)) group_box_->addItem(name);
            }
        }
        QString key = batch_key.isEmpty() && cohort_ ? default_batch_key(cohort_->obs) : batch_key;
        int group_index = group_box_->findText(key);
        group_box_->setCurrentIndex(group_index >= 0 ? group_index : 0);
        int metric_index = metric_box_->findText(previous_metric);
        if (metric_index < 0 && cohort_) {
            const Column* c = find_first(cohort_->obs, total_counts_names());
            if (!c) c = find_first(cohort_->obs, genes_detected_names());
            if (c) metric_index = metric_box_->findText(QString::fromStdString(c->name));
        }
        metric_box_->setCurrentIndex(std::max(metric_index, metric_box_->count() > 0 ? 0 : -1));
    }
    // Forget thresholds of metrics the new cohort does not have.
    for (auto it = thresholds_.begin(); it != thresholds_.end();)
        it = metric_box_->findText(it->first) < 0 ? thresholds_.erase(it) : std::next(it);
    // The groups, distribution, scatter and counts wait for later event-loop turns, one step
    // per turn, so that a new cohort's hand-off to every dock is not one long stall of the GUI
    // thread. Whoever reads the plots or counts first (the accessors) gets them at once.
    groups_ = std::make_shared<const std::vector<int32_t>>();
    group_names_.clear();
    pending_steps_ = kAllSteps;
    scatter_in_flight_ = false;
    ++rebuild_generation_;
    if (cohort_) summary_->setText(tr("Counting the cells\u2026"));
    scheduleNextStep();
}

void QcPanel::scheduleNextStep() {
    const int generation = rebuild_generation_;
    in_a_later_turn(this, [this, generation] {
        if (generation != rebuild_generation_ || pending_steps_ == 0) return;
        runNextStep();
        if (pending_steps_ != 0) scheduleNextStep();
    });
}

void QcPanel::runNextStep() {
    // The bit is cleared first: a step may read accessors that would run it again.
    for (unsigned step : {kGroupsStep, kDistributionStep, kScatterStep, kCountsStep}) {
        if (!(pending_steps_ & step)) continue;
        pending_steps_ &= ~step;
        QElapsedTimer timer;
        timer.start();
        switch (step) {
            case kGroupsStep:
                rebuildGroups();
                break;
            case kDistributionStep:
                showDistribution();
                break;
            case kScatterStep:
                rebuildScatter(/*background=*/true);
                break;
            default:
                updateCounts();
                break;
        }
        qCDebug(lcQcPanel, "step %u: %.1f ms", step, timer.nsecsElapsed() / 1e6);
        return;
    }
}

void QcPanel::rebuildPending() {
    while (pending_steps_ != 0) runNextStep();
    if (scatter_in_flight_) rebuildScatter();  // now: the worker's result is then dropped
}

const ThresholdCounts& QcPanel::counts() const {
    const_cast<QcPanel*>(this)->rebuildPending();
    return counts_;
}

const ThresholdCounts& QcPanel::metricCounts() const {
    const_cast<QcPanel*>(this)->rebuildPending();
    return metric_counts_;
}

QcDistributionPlot* QcPanel::distribution() const {
    const_cast<QcPanel*>(this)->rebuildPending();
    return distribution_;
}

QcScatterPlot* QcPanel::scatter() const {
    const_cast<QcPanel*>(this)->rebuildPending();
    return scatter_;
}

void QcPanel::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    const Qt::Orientation wanted = width() > 1.5 * height() ? Qt::Horizontal : Qt::Vertical;
    if (splitter_->orientation() != wanted) splitter_->setOrientation(wanted);
}

QString QcPanel::metric() const {
    return metric_box_->currentText();
}

void QcPanel::setMetric(const QString& metric) {
    int index = metric_box_->findText(metric);
    if (index >= 0) metric_box_->setCurrentIndex(index);
}

QString QcPanel::batchKey() const {
    return group_box_->currentIndex() > 0 ? group_box_->currentText() : QString();
}

void QcPanel::setBatchKey(const QString& key) {
    int index = group_box_->findText(key);
    group_box_->setCurrentIndex(index > 0 ? index : 0);
}

std::vector<double> QcPanel::metricValues(const QString& metric) const {
    if (!cohort_ || metric.isEmpty()) return {};
    const Column* c = cohort_->obs.find(metric.toStdString());
    return c ? as_numbers(*c) : std::vector<double>{};
}

void QcPanel::rebuildGroups() {
    groups_ = std::make_shared<const std::vector<int32_t>>();
    group_names_.clear();
    const QString key = batchKey();
    if (!cohort_ || key.isEmpty()) return;
    if (const Column* c = cohort_->obs.find(key.toStdString()))
        if (auto categories = as_categories(*c, 200)) {
            groups_ = std::make_shared<const std::vector<int32_t>>(std::move(categories->codes));
            group_names_ = categories->names;
        }
}

void QcPanel::rebuildDistribution() {
    if (pending_steps_ != 0) {
        rebuildPending();  // groups first, then this metric's distribution and the counts
        return;
    }
    showDistribution();
    updateCounts();
}

void QcPanel::showDistribution() {
    const QString name = metric();
    // A float column without a missing mask is what as_numbers() would copy: the plot (and its
    // binning job) share it, the pointer keeping the cohort alive.
    const Column* column =
        cohort_ && !name.isEmpty() ? cohort_->obs.find(name.toStdString()) : nullptr;
    QcDistributionPlot::SharedValues values =
        column && column->type == ColumnType::Float && column->missing.empty()
            ? QcDistributionPlot::SharedValues(cohort_, &column->floats)
            : std::make_shared<const std::vector<double>>(metricValues(name));
    {
        const QSignalBlocker block(log_box_);
        log_box_->setChecked(looks_like_count(name));
    }
    distribution_->setLogScale(log_box_->isChecked());
    distribution_->setSharedData(name, std::move(values), groups_, group_names_,
                                 categorical_palette(static_cast<int>(group_names_.size())));
    Threshold t = thresholds_.count(name) ? thresholds_.at(name) : Threshold{};
    distribution_->setThresholds(t.lower, t.upper);
}

void QcPanel::rebuildScatter(bool background) {
    scatter_in_flight_ = false;
    scatter_x_.clear();
    scatter_y_.clear();
    if (!cohort_) {
        scatter_->clear();
        return;
    }
    const Column* x = find_first(cohort_->obs, total_counts_names());
    const Column* y = find_first(cohort_->obs, genes_detected_names());
    const Column* mito = find_first(cohort_->obs, pct_mito_names());
    if (!x || !y) {
        scatter_->clear();
        return;
    }
    scatter_x_ = QString::fromStdString(x->name);
    scatter_y_ = QString::fromStdString(y->name);
    const QString mito_name = mito ? QString::fromStdString(mito->name) : QString();
    // The columns and their ranges (QcScatterPlot::makeCloud), shared with the plot as made.
    auto read = [x, y, mito] {
        return QcScatterPlot::makeCloud(as_numbers(*x), as_numbers(*y),
                                        mito ? as_numbers(*mito) : std::vector<double>{});
    };
    if (!background || cohort_->n_obs() <= kBackgroundScatterAbove) {
        showScatter(read(), mito_name);
        return;
    }
    // The columns live in the cohort, which is immutable and kept alive by the job; a newer
    // cohort (or a rebuild done meanwhile) makes the result stale, and it is dropped.
    scatter_in_flight_ = true;
    const int generation = rebuild_generation_;
    using Cloud = std::shared_ptr<const QcScatterPlot::Cloud>;
    auto* watcher = new QFutureWatcher<Cloud>(this);
    connect(watcher, &QFutureWatcher<Cloud>::finished, this,
            [this, watcher, generation, mito_name] {
                watcher->deleteLater();
                if (generation != rebuild_generation_ || !scatter_in_flight_) return;
                scatter_in_flight_ = false;
                showScatter(watcher->result(), mito_name);
            });
    watcher->setFuture(run_in_background([cohort = cohort_, read] { return read(); }));
}

void QcPanel::showScatter(std::shared_ptr<const QcScatterPlot::Cloud> cloud,
                          const QString& mito_name) {
    scatter_->setCloud(scatter_x_, scatter_y_, mito_name, std::move(cloud));
    for (int axis = 0; axis < 2; ++axis) {
        const QString& m = axis == 0 ? scatter_x_ : scatter_y_;
        Threshold t = thresholds_.count(m) ? thresholds_.at(m) : Threshold{};
        scatter_->setThresholds(axis, t.lower, t.upper);
    }
}

void QcPanel::setThreshold(const QString& metric, double lower, double upper) {
    if (metric.isEmpty()) return;
    if (std::isnan(lower) && std::isnan(upper))
        thresholds_.erase(metric);
    else
        thresholds_[metric] = Threshold{lower, upper};
    // The steps still pending read the thresholds when they run; the others show them now.
    if (!(pending_steps_ & kDistributionStep) && metric == this->metric())
        distribution_->setThresholds(lower, upper);
    if (!(pending_steps_ & kScatterStep) && !scatter_in_flight_) {  // else shown with them
        if (metric == scatter_x_) scatter_->setThresholds(0, lower, upper);
        if (metric == scatter_y_) scatter_->setThresholds(1, lower, upper);
    }
    if (!(pending_steps_ & kCountsStep)) updateCounts();
    emit thresholdsChanged();
}

void QcPanel::updateCounts() {
    const int n_groups = static_cast<int>(group_names_.size());
    std::vector<std::vector<double>> columns;
    std::vector<ThresholdRule> rules;
    columns.reserve(thresholds_.size());
    for (const auto& [name, t] : thresholds_) {
        columns.push_back(metricValues(name));
        if (columns.back().empty()) continue;
        rules.push_back({columns.back(), t.lower, t.upper});
    }
    const int64_t n = cohort_ ? cohort_->n_obs() : 0;
    if (rules.empty()) {
        counts_ = ThresholdCounts{};
        counts_.total = n;
        counts_.group_total = count_codes(*groups_, n_groups);
        counts_.group_removed.assign(static_cast<size_t>(n_groups), 0);
    } else {
        counts_ = count_removed(rules, *groups_, n_groups);
    }
    metric_counts_ = ThresholdCounts{};
    if (thresholds_.count(metric())) {  // (the column's copy only then: 8 MB at 1M cells)
        const std::vector<double> shown = metricValues(metric());
        const Threshold& t = thresholds_.at(metric());
        if (!shown.empty())
            metric_counts_ =
                count_removed({ThresholdRule{shown, t.lower, t.upper}}, *groups_, n_groups);
    }
    summary_->setText(summaryText());
}

QString QcPanel::summaryText() const {
    if (!cohort_) return tr("No cohort loaded.");
    if (pending_steps_ & kCountsStep) const_cast<QcPanel*>(this)->rebuildPending();
    if (thresholds_.empty())
        return tr("No thresholds: drag or double-click in the distribution to add one "
                  "(%L1 cells kept).")
            .arg(counts_.total);
    QString text = tr("<b>Thresholds remove %L1 of %L2 cells (%3)</b>")
                       .arg(counts_.removed)
                       .arg(counts_.total)
                       .arg(percent(counts_.removed, counts_.total));
    if (thresholds_.count(metric()))
        text +=
            tr(" &mdash; %1 alone: %L2").arg(metric().toHtmlEscaped()).arg(metric_counts_.removed);
    QStringList per_group;
    for (size_t g = 0; g < counts_.group_total.size(); ++g)
        per_group << tr("%1: %L2 of %L3 (%4)")
                         .arg(group_names_.value(int(g)).toHtmlEscaped())
                         .arg(counts_.group_removed[g])
                         .arg(counts_.group_total[g])
                         .arg(percent(counts_.group_removed[g], counts_.group_total[g]));
    if (!per_group.isEmpty())
        text += QStringLiteral("<br>") + per_group.join(QStringLiteral(" &middot; "));
    return text;
}

}  // namespace transcura::widgets
