#pragma once
// Runs core's batch diagnostics (and Harmony, then the diagnostics again on its corrected
// embedding) off the GUI thread for the batch panel, with progress and cancellation; colours
// the embedding by a metric's per-cell score when the panel asks, and offers Harmony's
// corrected embedding and the UMAP laid out from it (X_umap_harmony, as the pipeline lays out
// X_umap) to the view. A new cohort cancels the running job and clears the results.
#include <memory>
#include <optional>
#include <utility>

#include <QAction>
#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include "batch_analysis.hpp"
#include "transcura/cohort.hpp"

namespace transcura::widgets {
class BatchPanel;
}

namespace transcura::shell {

class EmbeddingController;
class PipelineController;
struct BatchChannel;

/// What one run measures.
struct BatchRequest {
    QString batch_key;
    QString label_key;      // "" = none
    QString embedding_key;  // obsm matrix, e.g. X_pca
    bool harmony = true;
    bool harmony_umap = true;  // with Harmony: also the UMAP of the corrected embedding
};

/// What compute() measures: the panel's analysis, and the UMAP of the corrected embedding.
struct BatchComputation {
    std::shared_ptr<const widgets::BatchAnalysis> analysis;
    std::shared_ptr<const DenseD> corrected_umap;  // null when not laid out
};

/// The job's outcome, handed back to the GUI thread.
struct BatchJobResult {
    std::shared_ptr<const Cohort> cohort;  // the cohort measured
    BatchComputation computed;
    QString error;
    bool cancelled = false;
};

class BatchController : public QObject {
    Q_OBJECT
public:
    BatchController(PipelineController* pipeline, EmbeddingController* embedding,
                    widgets::BatchPanel* panel, QObject* parent = nullptr);
    ~BatchController() override;

    /// Runs with the panel's current keys.
    void run();
    void run(const BatchRequest& request);
    void cancel();
    bool isBusy() const { return busy_; }
    std::shared_ptr<const widgets::BatchAnalysis> analysis() const { return analysis_; }
    /// The UMAP of Harmony's corrected embedding from the last run (null when none).
    std::shared_ptr<const DenseD> correctedUmap() const { return corrected_umap_; }

    /// Run on every new cohort that has a batch key (at most maxAutoCells() cells).
    void setAutoRun(bool on) { auto_run_ = on; }
    bool autoRun() const { return auto_run_; }
    static constexpr int64_t maxAutoCells() { return 200000; }

    /// Colours the embedding by a metric's per-cell score; false when not available.
    bool colorByMetric(widgets::BatchMetric metric, bool corrected);
    /// The metric (and whether after Harmony) the embedding was last coloured by.
    std::optional<std::pair<widgets::BatchMetric, bool>> coloredMetric() const {
        return colored_metric_;
    }
    /// Shows Harmony's corrected embedding (X_pca_harmony), or goes back to the one before.
    bool showCorrectedEmbedding(bool show);
    static QString correctedKey() { return QStringLiteral("X_pca_harmony"); }
    /// The key the corrected embedding's UMAP is offered under in the embedding chooser.
    static QString correctedUmapKey() { return QStringLiteral("X_umap_harmony"); }

    QAction* runAction() const { return run_action_; }
    QAction* autoRunAction() const { return auto_run_action_; }

    /// The work itself (public for tests and benchmarks): core's diagnostics, Harmony and the
    /// UMAP of its correction (diagnose_cohort, as `transcura-cli diagnose` runs it).
    static BatchComputation compute(const Cohort& cohort, const BatchRequest& request,
                                    const RunControl& control);

signals:
    void busyChanged(bool busy);
    void started(const QString& what);
    void progress(double fraction, const QString& what);
    void finished(std::shared_ptr<const transcura::widgets::BatchAnalysis> analysis);
    void failed(const QString& message);
    void cancelled();

private:
    void setCohort(std::shared_ptr<const Cohort> cohort);
    void jobFinished();
    void offerCorrectedEmbeddings();

    PipelineController* pipeline_;
    EmbeddingController* embedding_;
    widgets::BatchPanel* panel_;
    std::shared_ptr<const Cohort> cohort_;
    std::shared_ptr<const widgets::BatchAnalysis> analysis_;
    std::shared_ptr<const DenseD> corrected_umap_;
    QFutureWatcher<BatchJobResult> watcher_;
    std::shared_ptr<BatchChannel> channel_;
    std::unique_ptr<BatchRequest> pending_;
    std::optional<std::pair<widgets::BatchMetric, bool>> colored_metric_;
    QString embedding_before_;  // what the view showed before the corrected embedding
    int x_before_ = 0, y_before_ = 1, z_before_ = -1;
    QAction* run_action_ = nullptr;
    QAction* auto_run_action_ = nullptr;
    bool auto_run_ = true;
    bool busy_ = false;
};

}  // namespace transcura::shell
