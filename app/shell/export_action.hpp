#pragma once
// File ▸ Export Curated Cohort…: the Export dialog driven by core. Every change of the options
// or the recipe re-plans the export off the GUI thread (plan_export: recipe, splits, leakage
// report, manifest preview; throttled, a stale plan cancelled); Export plans again and writes
// (write_export) in the background with progress and cancel. The input file is hashed once per
// loaded file. The cohort handed to core is prepared exactly as transcura-cli export prepares the
// file it reads, so the same recipe and options give the same outputs.
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <QAction>
#include <QFutureWatcher>
#include <QObject>
#include <QTimer>

#include "export_dialog.hpp"
#include "transcura/export.hpp"
#include "transcura/progress.hpp"

namespace transcura::shell {

class CurationController;
class ErrorReporter;
class PipelineController;

/// Shared by a running export and the GUI: cancel flag and the latest progress.
struct ExportChannel {
    CancelToken cancel;
    std::mutex mutex;
    double fraction = -1;
    std::string what;
};

struct ExportJobResult {
    uint64_t revision = 0;
    bool cancelled = false;
    QString error;
    widgets::ExportPreview preview;        // planning
    std::optional<ExportResults> written;  // exporting
    std::shared_ptr<const InputDescription> input;
};

class ExportAction : public QObject {
    Q_OBJECT
public:
    ExportAction(CurationController* curation, PipelineController* pipeline, ErrorReporter* errors,
                 QWidget* window, QObject* parent = nullptr);
    ~ExportAction() override;

    QAction* action() const { return action_; }
    widgets::ExportDialog* dialog() const { return dialog_; }
    void showDialog();
    void startExport();
    void cancel();
    bool isPlanning() const;
    bool isExporting() const { return exporting_; }
    const std::optional<ExportResults>& lastResults() const { return last_; }

    /// As transcura-cli export after reading the file (core's plan_export adds the QC columns a
    /// recipe needs, or all with add_qc_columns, the way export_file does).
    static ExportPlan planExport(std::shared_ptr<const Cohort> cohort, const Recipe& recipe,
                                 const ExportOptions& options, const InputDescription& input);
    /// The preview shown for a plan (warnings from the splits and the leakage report).
    static widgets::ExportPreview previewOf(const ExportPlan& plan);

signals:
    void previewUpdated();
    void exported(const QString& manifest_path);
    void exportFailed(const QString& message);

private:
    void schedulePlan();
    void startPlan();
    void planFinished();
    void exportFinished();
    void pollProgress();
    void updateSource();

    CurationController* curation_;
    PipelineController* pipeline_;
    ErrorReporter* errors_;
    QWidget* window_;
    QAction* action_ = nullptr;
    widgets::ExportDialog* dialog_ = nullptr;
    std::shared_ptr<const InputDescription> input_;
    QString input_path_;
    const Cohort* input_cohort_ = nullptr;
    // planning
    QTimer plan_timer_;
    QFutureWatcher<ExportJobResult> plan_watcher_;
    std::shared_ptr<CancelToken> plan_cancel_;
    uint64_t revision_ = 0;
    bool replan_ = false;
    bool planning_ = false;  // until the finished signal (isRunning() turns false before it)
    // exporting
    QFutureWatcher<ExportJobResult> export_watcher_;
    std::shared_ptr<ExportChannel> channel_;
    QTimer progress_timer_;
    bool exporting_ = false;
    std::optional<ExportResults> last_;
};

}  // namespace transcura::shell
