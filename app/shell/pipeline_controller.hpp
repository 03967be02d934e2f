#pragma once
// Loads cohorts and runs the pipeline off the GUI thread (QtConcurrent + QFutureWatcher), with
// progress, a live UMAP layout and cancellation. Results come back as values through signals;
// the worker never touches a widget. A failed or cancelled job leaves the current cohort as it
// was.
#include <memory>

#include <QFutureWatcher>
#include <QObject>
#include <QString>

#include "transcura/cohort.hpp"
#include "transcura/pipeline.hpp"

namespace transcura::shell {

struct JobChannel;

/// What a background job hands back to the GUI thread.
struct JobResult {
    std::shared_ptr<const Cohort> cohort;  // null when nothing new is to be shown
    QString path;                          // the file read (or the cohort's source)
    QString error;                         // non-empty on failure
    QString error_stage;                   // "open" or "pipeline"
    bool cancelled = false;
    bool ran_pipeline = false;
    double seconds = 0;
};

class PipelineController : public QObject {
    Q_OBJECT
public:
    explicit PipelineController(QObject* parent = nullptr);
    ~PipelineController() override;

    /// Whether the analysis pipeline can run (the one switch the actions look at).
    static bool pipelineAvailable();

    /// Reads a file (then runs the pipeline when runOnOpen()). While busy, the running job is
    /// cancelled and this one starts when it has stopped.
    void open(const QString& path);
    /// Runs the pipeline on the current cohort.
    void runPipeline();
    void cancel();
    bool isBusy() const;

    void setRunOnOpen(bool run) { run_on_open_ = run; }
    bool runOnOpen() const { return run_on_open_; }
    /// Options without the control/callback members (those are filled per job).
    void setParameters(const PipelineOptions& options) { parameters_ = options; }
    const PipelineOptions& parameters() const { return parameters_; }

    std::shared_ptr<const Cohort> cohort() const { return cohort_; }
    QString currentPath() const { return path_; }
    /// Whether the current cohort is the pipeline's output (not the file as read).
    bool cohortFromPipeline() const { return from_pipeline_; }

signals:
    void busyChanged(bool busy);
    void started(const QString& what);
    /// fraction < 0: indeterminate.
    void progress(double fraction, const QString& what);
    /// The UMAP layout while it runs (n_cells x components), throttled to what the GUI takes.
    void liveLayout(std::shared_ptr<const transcura::DenseD> layout, int epoch, int n_epochs);
    void cohortChanged(std::shared_ptr<const transcura::Cohort> cohort, const QString& path);
    void failed(const QString& path, const QString& stage, const QString& message);
    void cancelled();

private:
    struct Request {
        QString path;                         // open: the file
        std::shared_ptr<const Cohort> input;  // run: the cohort
        bool run_pipeline = false;
    };
    void start(const Request& request);
    void finished();
    void deliverLayout();

    PipelineOptions parameters_;
    bool run_on_open_ = true;
    std::shared_ptr<const Cohort> cohort_;
    QString path_;
    QFutureWatcher<JobResult> watcher_;
    std::shared_ptr<JobChannel> channel_;
    std::unique_ptr<Request> pending_;
    bool busy_ = false;
    bool from_pipeline_ = false;
};

}  // namespace transcura::shell
