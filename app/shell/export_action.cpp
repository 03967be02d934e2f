#include "export_action.hpp"

#include <exception>

#include <QDir>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

#include "background_pool.hpp"
#include "curation_controller.hpp"
#include "error_reporter.hpp"
#include "pipeline_controller.hpp"
#include "transcura/errors.hpp"

namespace transcura::shell {

namespace {

constexpr int kPlanDelayMs = 250;

/// Columns that can group, stratify or name batches: anything but floats.
QStringList key_columns(const Cohort& cohort) {
    QStringList out;
    for (const Column& c : cohort.obs.columns)
        if (c.type != ColumnType::Float) out << QString::fromStdString(c.name);
    return out;
}

}  // namespace

ExportAction::ExportAction(CurationController* curation, PipelineController* pipeline,
                           ErrorReporter* errors, QWidget* window, QObject* parent)
    : QObject(parent), curation_(curation), pipeline_(pipeline), errors_(errors), window_(window) {
    action_ = new QAction(tr("Export &Curated Cohort\u2026"), this);
    action_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    action_->setToolTip(
        tr("Write the cells kept by the recipe (optionally split) with a manifest"));
    action_->setEnabled(false);
    dialog_ = new widgets::ExportDialog(window_);

    plan_timer_.setSingleShot(true);
    plan_timer_.setInterval(kPlanDelayMs);
    progress_timer_.setInterval(100);
    connect(&plan_timer_, &QTimer::timeout, this, &ExportAction::startPlan);
    connect(&progress_timer_, &QTimer::timeout, this, &ExportAction::pollProgress);
    connect(&plan_watcher_, &QFutureWatcher<ExportJobResult>::finished, this,
            &ExportAction::planFinished);
    connect(&export_watcher_, &QFutureWatcher<ExportJobResult>::finished, this,
            &ExportAction::exportFinished);
    connect(action_, &QAction::triggered, this, &ExportAction::showDialog);
    connect(dialog_, &widgets::ExportDialog::optionsChanged, this, &ExportAction::schedulePlan);
    connect(dialog_, &widgets::ExportDialog::exportRequested, this, &ExportAction::startExport);
    connect(dialog_, &widgets::ExportDialog::cancelRequested, this, &ExportAction::cancel);
    connect(curation_, &CurationController::recipeChanged, this, [this] {
        if (dialog_->isVisible()) schedulePlan();
    });
    connect(pipeline_, &PipelineController::cohortChanged, this,
            [this](std::shared_ptr<const Cohort> cohort) {
                action_->setEnabled(cohort != nullptr);
                if (dialog_->isVisible()) updateSource();
            });
}

ExportAction::~ExportAction() {
    if (plan_cancel_) plan_cancel_->cancel();
    if (channel_) channel_->cancel.cancel();
    plan_watcher_.waitForFinished();
    export_watcher_.waitForFinished();
}

void ExportAction::updateSource() {
    const auto cohort = curation_->cohort();
    if (!cohort) return;
    const QFileInfo file(curation_->path());
    dialog_->setColumns(key_columns(*cohort), curation_->batchKey());
    if (dialog_->outputDir().isEmpty() && !curation_->path().isEmpty())
        dialog_->setOutputDir(QDir(file.absolutePath())
                                  .filePath(file.completeBaseName() + QStringLiteral("_export")));
    QString text = tr("<b>%1</b>: %L2 cells \u00d7 %L3 genes, recipe of %n step(s)", nullptr,
                      int(curation_->recipe().steps.size()))
                       .arg(file.fileName().toHtmlEscaped())
                       .arg(cohort->n_obs())
                       .arg(cohort->n_vars());
    dialog_->setSourceText(text);
}

void ExportAction::showDialog() {
    if (!curation_->cohort()) return;
    updateSource();
    dialog_->show();
    dialog_->raise();
    dialog_->activateWindow();
    schedulePlan();
}

bool ExportAction::isPlanning() const {
    return plan_timer_.isActive() || planning_ || replan_;
}

void ExportAction::schedulePlan() {
    ++revision_;
    dialog_->setPreviewPending(true);
    plan_timer_.start();
}

void ExportAction::startPlan() {
    auto cohort = curation_->cohort();
    if (!cohort) return;
    if (planning_) {
        replan_ = true;
        if (plan_cancel_) plan_cancel_->cancel();
        return;
    }
    replan_ = false;
    ExportOptions options;
    try {
        options = dialog_->exportOptions();
    } catch (const std::exception& error) {
        widgets::ExportPreview preview;
        preview.error = QString::fromUtf8(error.what());
        dialog_->setPreview(preview);
        emit previewUpdated();
        return;
    }
    if (input_path_ != curation_->path() || input_cohort_ != cohort.get()) input_.reset();
    plan_cancel_ = std::make_shared<CancelToken>();
    options.control.cancel = plan_cancel_.get();
    input_path_ = curation_->path();
    input_cohort_ = cohort.get();
    planning_ = true;
    // Transcura's own pool, not Qt's global one (background_pool.hpp: Qt's raster paint waits
    // for tasks on the global pool, so a plan or an export holding its threads stalls paints).
    plan_watcher_.setFuture(widgets::run_in_background(
        [cohort, recipe = curation_->recipe(), options, input = input_,
         path = input_path_.toStdString(), cancel = plan_cancel_, revision = revision_]() {
            ExportJobResult job;
            job.revision = revision;
            try {
                job.input = input ? input
                                  : std::make_shared<const InputDescription>(
                                        describe_input(path, *cohort, options.control));
                job.preview = previewOf(planExport(cohort, recipe, options, *job.input));
            } catch (const Cancelled&) {
                job.cancelled = true;
            } catch (const std::exception& error) {
                job.preview.error = QString::fromUtf8(error.what());
            }
            return job;
        }));
}

void ExportAction::planFinished() {
    planning_ = false;
    const ExportJobResult job = plan_watcher_.result();
    if (job.input) input_ = job.input;
    if (replan_ || job.cancelled || job.revision != revision_) {
        replan_ = false;
        if (!plan_timer_.isActive()) startPlan();
        return;
    }
    widgets::ExportPreview preview = job.preview;
    if (preview.valid && pipeline_->cohortFromPipeline())
        preview.warnings.prepend(
            tr("The cohort shown is the pipeline's output: the export writes it as shown, but "
               "replaying the recipe on the file with transcura-cli export starts from the file."));
    dialog_->setPreview(preview);
    emit previewUpdated();
}

void ExportAction::startExport() {
    auto cohort = curation_->cohort();
    if (!cohort || exporting_) return;
    ExportOptions options;
    try {
        options = dialog_->exportOptions();
    } catch (const std::exception& error) {
        errors_->report(tr("Cannot export"), tr("The export options are not valid."),
                        QString::fromUtf8(error.what()));
        emit exportFailed(QString::fromUtf8(error.what()));
        return;
    }
    channel_ = std::make_shared<ExportChannel>();
    options.control.cancel = &channel_->cancel;
    options.control.progress = [channel = channel_.get()](double fraction,
                                                          const std::string& what) {
        const std::lock_guard lock(channel->mutex);
        channel->fraction = fraction;
        channel->what = what;
    };
    exporting_ = true;
    dialog_->setExporting(true);
    progress_timer_.start();
    const std::shared_ptr<const InputDescription> input =
        input_path_ == curation_->path() && input_cohort_ == cohort.get() ? input_ : nullptr;
    // The channel outlives the job: the lambda holds it.
    export_watcher_.setFuture(
        widgets::run_in_background([cohort, recipe = curation_->recipe(), options, input,
                                    channel = channel_, path = curation_->path().toStdString()]() {
            ExportJobResult job;
            try {
                job.input = input ? input
                                  : std::make_shared<const InputDescription>(
                                        describe_input(path, *cohort, options.control));
                const ExportPlan plan = planExport(cohort, recipe, options, *job.input);
                job.written = write_export(plan, options);
            } catch (const Cancelled&) {
                job.cancelled = true;
            } catch (const std::exception& error) {
                job.error = QString::fromUtf8(error.what());
            }
            return job;
        }));
}

void ExportAction::cancel() {
    if (exporting_ && channel_) {
        channel_->cancel.cancel();
        dialog_->setStatus(tr("Cancelling\u2026"));
    }
}

void ExportAction::pollProgress() {
    if (!channel_) return;
    double fraction;
    std::string what;
    {
        const std::lock_guard lock(channel_->mutex);
        fraction = channel_->fraction;
        what = channel_->what;
    }
    if (!what.empty()) dialog_->setProgress(fraction, QString::fromStdString(what));
}

void ExportAction::exportFinished() {
    progress_timer_.stop();
    exporting_ = false;
    const ExportJobResult job = export_watcher_.result();
    if (job.input && input_path_ == curation_->path()) input_ = job.input;
    dialog_->setExporting(false);
    if (job.cancelled) {
        dialog_->setStatus(tr("Export cancelled: nothing was written."));
        emit exportFailed(tr("cancelled"));
        return;
    }
    if (!job.written) {
        dialog_->setStatus(tr("Export failed."));
        errors_->report(tr("Export failed"),
                        tr("Could not export to %1.").arg(dialog_->outputDir()), job.error);
        emit exportFailed(job.error);
        return;
    }
    last_ = job.written;
    dialog_->setStatus(
        tr("Wrote %n output(s) and %1", nullptr, int(last_->outputs.size()))
            .arg(QDir::toNativeSeparators(QString::fromStdString(last_->manifest_path))));
    // The outputs now exist: a second Export needs "Replace existing outputs".
    schedulePlan();
    emit exported(QString::fromStdString(last_->manifest_path));
}

ExportPlan ExportAction::planExport(std::shared_ptr<const Cohort> cohort, const Recipe& recipe,
                                    const ExportOptions& options, const InputDescription& input) {
    // Core's plan_export prepares the QC columns exactly as export_file (the CLI) does, so the
    // dialog and `transcura-cli export` write the same bytes (tests/core/tst_export.cpp).
    return plan_export(std::move(cohort), recipe, options, input);
}

widgets::ExportPreview ExportAction::previewOf(const ExportPlan& plan) {
    widgets::ExportPreview preview;
    preview.valid = true;
    preview.n_obs = plan.applied.view.n_obs();
    preview.n_vars = plan.applied.view.n_vars();
    const SplitResults& splits = plan.splits;
    const std::vector<double> achieved = splits.achieved_fractions();
    for (size_t s = 0; s < splits.names.size(); ++s) {
        preview.split_names << QString::fromStdString(splits.names[s]);
        preview.split_sizes.push_back(splits.size(s));
        if (s < splits.requested_fractions.size())
            preview.requested_fractions.push_back(splits.requested_fractions[s]);
        if (s < achieved.size()) preview.achieved_fractions.push_back(achieved[s]);
        if (s < plan.output_files.size())
            preview.output_files << QString::fromStdString(plan.output_files[s]);
    }
    for (const std::string& warning : splits.warnings)
        preview.warnings << QString::fromStdString(warning);
    const LeakageResults& leakage = plan.leakage;
    if (!leakage.shared_groups.empty())
        preview.warnings << QObject::tr("%n value(s) of %1 are in more than one split", nullptr,
                                        int(leakage.shared_groups.size()))
                                .arg(QString::fromStdString(leakage.group_key));
    if (leakage.duplicate_cells > 0)
        preview.warnings << QObject::tr(
                                "%L1 cells have a count profile identical to a cell in "
                                "another split (%L2 profiles)")
                                .arg(leakage.duplicate_cells)
                                .arg(leakage.duplicate_profiles);
    for (const BatchPredictability& b : leakage.batch_predictability) {
        if (!b.computed) continue;
        // Well above chance: the batch is still visible in the PCs of this split.
        if (b.balanced_accuracy > b.chance_balanced_accuracy + 0.25)
            preview.warnings << QObject::tr(
                                    "%1: batch (%2) predictable from the PCs, balanced "
                                    "accuracy %3 (chance %4)")
                                    .arg(QString::fromStdString(b.split),
                                         QString::fromStdString(leakage.batch_key))
                                    .arg(b.balanced_accuracy, 0, 'f', 2)
                                    .arg(b.chance_balanced_accuracy, 0, 'f', 2);
    }
    QStringList summary;
    if (leakage.groups_checked)
        summary << (leakage.shared_groups.empty()
                        ? QObject::tr("no %1 value in two splits")
                              .arg(QString::fromStdString(leakage.group_key))
                        : QObject::tr("%n %1 value(s) shared", nullptr,
                                      int(leakage.shared_groups.size()))
                              .arg(QString::fromStdString(leakage.group_key)));
    if (leakage.duplicates_checked)
        summary << QObject::tr("%L1 cells with a duplicate profile across splits")
                       .arg(leakage.duplicate_cells);
    QStringList predictability;
    for (const BatchPredictability& b : leakage.batch_predictability)
        if (b.computed)
            predictability << QStringLiteral("%1 %2 (chance %3)")
                                  .arg(QString::fromStdString(b.split))
                                  .arg(b.balanced_accuracy, 0, 'f', 2)
                                  .arg(b.chance_balanced_accuracy, 0, 'f', 2);
    if (!predictability.isEmpty())
        summary << QObject::tr("batch %1 predicted from the PCs, balanced accuracy: %2")
                       .arg(QString::fromStdString(leakage.batch_key),
                            predictability.join(QStringLiteral(", ")));
    preview.leakage = QObject::tr("Leakage report: %1.").arg(summary.join(QStringLiteral("; ")));
    preview.manifest = QString::fromStdString(plan.manifest_preview.dump(2));
    return preview;
}

}  // namespace transcura::shell
