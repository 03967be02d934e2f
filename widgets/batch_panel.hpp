#pragma once
// The batch panel: which batch and label keys (and embedding) to measure, core's diagnostics
// table before and after Harmony side by side, per-batch bars and the batch x cluster
// composition heatmap. Clicking a metric asks for the embedding to be coloured by its per-cell
// score. The panel computes nothing: BatchController runs core and hands a BatchAnalysis in.
#include <memory>

#include <QWidget>

#include "batch_analysis.hpp"
#include "transcura/cohort.hpp"

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QTabWidget;
class QTableWidget;

namespace transcura::widgets {

class BatchBarPlot;
class CompositionHeatmap;

class BatchPanel : public QWidget {
    Q_OBJECT
public:
    /// What the per-batch bars show.
    enum class BarQuantity { Cells, Ilisi, Kbet, MedianCounts, MedianGenes, MedianMito };
    Q_ENUM(BarQuantity)

    explicit BatchPanel(QWidget* parent = nullptr);

    /// Offers the cohort's categorical columns and embeddings; keeps the chosen keys when the
    /// new cohort has them (else the usual defaults). Clears the results.
    void setCohort(std::shared_ptr<const Cohort> cohort);
    void setResults(std::shared_ptr<const BatchAnalysis> analysis);
    /// Back to "no results", with a message (why, or what to do).
    void clearResults(const QString& message = {});
    std::shared_ptr<const BatchAnalysis> results() const { return analysis_; }
    void setBusy(bool busy, const QString& message = {});

    QString batchKey() const;
    QString labelKey() const;  // "" = none
    QString embeddingKey() const;
    bool harmonyEnabled() const;
    /// With Harmony: also lay out the UMAP of the corrected embedding (X_umap_harmony). The
    /// box's own state, kept while Harmony is off (the run needs both).
    bool harmonyUmapEnabled() const;
    bool showCorrected() const;
    /// Reflect choices made elsewhere (session restore); do not emit.
    void setBatchKey(const QString& key);
    void setLabelKey(const QString& key);
    void setEmbeddingKey(const QString& key);
    void setHarmonyEnabled(bool enabled);
    void setHarmonyUmapEnabled(bool enabled);
    void setShowCorrected(bool show);

    void setBarQuantity(BarQuantity quantity);
    BarQuantity barQuantity() const { return bar_quantity_; }
    /// As a click on a table cell would: emits metricActivated for per-cell metrics.
    void activateMetric(BatchMetric metric, bool corrected);
    /// Table row of a metric.
    static int rowOf(BatchMetric metric);

    QTableWidget* metricsTable() const { return table_; }
    BatchBarPlot* barPlot() const { return bars_; }
    CompositionHeatmap* heatmap() const { return heatmap_; }
    QPushButton* runButton() const { return run_; }
    QCheckBox* showCorrectedBox() const { return show_corrected_; }
    /// The plot tabs: 0 = per-batch bars, 1 = composition heatmap.
    QTabWidget* plotTabs() const { return tabs_; }
    void showPlot(int index);

signals:
    void runRequested();
    void cancelRequested();
    /// Colour the embedding by this metric's per-cell score (corrected: after Harmony).
    void metricActivated(transcura::widgets::BatchMetric metric, bool corrected);
    /// Show Harmony's corrected embedding in the view (or go back).
    void showCorrectedChanged(bool show);

private:
    void fillTable();
    void fillBars();
    void fillHeatmap();
    void cellClicked(int row, int column);
    static void chooseText(QComboBox* box, const QString& text);

    std::shared_ptr<const Cohort> cohort_;
    std::shared_ptr<const BatchAnalysis> analysis_;
    QComboBox* batch_box_ = nullptr;
    QComboBox* label_box_ = nullptr;
    QComboBox* embedding_box_ = nullptr;
    QCheckBox* harmony_ = nullptr;
    QCheckBox* harmony_umap_ = nullptr;
    QCheckBox* show_corrected_ = nullptr;
    QPushButton* run_ = nullptr;
    QPushButton* cancel_ = nullptr;
    QComboBox* bar_box_ = nullptr;
    QTableWidget* table_ = nullptr;
    BatchBarPlot* bars_ = nullptr;
    CompositionHeatmap* heatmap_ = nullptr;
    QTabWidget* tabs_ = nullptr;
    QLabel* status_ = nullptr;
    BarQuantity bar_quantity_ = BarQuantity::Ilisi;
};

}  // namespace transcura::widgets
