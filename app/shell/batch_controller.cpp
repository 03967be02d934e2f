#include "batch_controller.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <thread>

#include <QSettings>
#include <QtConcurrent/QtConcurrentRun>

#include "background_pool.hpp"
#include "batch_panel.hpp"
#include "embedding_controller.hpp"
#include "obs_access.hpp"
#include "pipeline_controller.hpp"
#include "progress_mailbox.hpp"
#include "transcura/errors.hpp"

namespace transcura::shell {

using widgets::BatchAnalysis;
using widgets::BatchMetric;

/// Shared by a running job and the controller (as in PipelineController): the cancel flag and
/// the latest progress.
struct BatchChannel {
    CancelToken cancel;
    std::shared_ptr<ProgressMailbox> progress;
};

namespace {

bool has_qc_columns(const DataFrame& obs) {
    return widgets::find_first(obs, widgets::total_counts_names()) ||
           widgets::find_first(obs, widgets::genes_detected_names()) ||
           widgets::find_first(obs, widgets::pct_mito_names());
}

}  // namespace

BatchController::BatchController(PipelineController* pipeline, EmbeddingController* embedding,
                                 widgets::BatchPanel* panel, QObject* parent)
    : QObject(parent), pipeline_(pipeline), embedding_(embedding), panel_(panel) {
    QSettings settings;
    auto_run_ = settings.value(QStringLiteral("batch/autoRun"), true).toBool();
    panel_->setHarmonyEnabled(settings.value(QStringLiteral("batch/harmony"), true).toBool());
    panel_->setHarmonyUmapEnabled(
        settings.value(QStringLiteral("batch/harmonyUmap"), true).toBool());

    run_action_ = new QAction(tr("Batch &Diagnostics"), this);
    run_action_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    run_action_->setStatusTip(
        tr("iLISI, cLISI, kBET, silhouettes, PC regression and graph connectivity of the batch "
           "key, before and after Harmony"));
    auto_run_action_ = new QAction(tr("Batch Diagnostics on &Open"), this);
    auto_run_action_->setCheckable(true);
    auto_run_action_->setChecked(auto_run_);

    connect(&watcher_, &QFutureWatcher<BatchJobResult>::finished, this,
            &BatchController::jobFinished);
    connect(pipeline_, &PipelineController::cohortChanged, this,
            [this](std::shared_ptr<const Cohort> cohort, const QString&) { setCohort(cohort); });
    connect(run_action_, &QAction::triggered, this, qOverload<>(&BatchController::run));
    connect(auto_run_action_, &QAction::toggled, this, [this](bool on) {
        auto_run_ = on;
        QSettings().setValue(QStringLiteral("batch/autoRun"), on);
    });
    connect(panel_, &widgets::BatchPanel::runRequested, this, qOverload<>(&BatchController::run));
    connect(panel_, &widgets::BatchPanel::cancelRequested, this, &BatchController::cancel);
    connect(panel_, &widgets::BatchPanel::metricActivated, this,
            [this](BatchMetric metric, bool corrected) { colorByMetric(metric, corrected); });
    connect(panel_, &widgets::BatchPanel::showCorrectedChanged, this,
            [this](bool show) { showCorrectedEmbedding(show); });
    run_action_->setEnabled(false);
}

BatchController::~BatchController() {
    if (busy_) {
        channel_->cancel.cancel();
        watcher_.waitForFinished();
    }
}

void BatchController::setCohort(std::shared_ptr<const Cohort> cohort) {
    pending_.reset();
    cancel();
    cohort_ = std::move(cohort);
    analysis_.reset();
    corrected_umap_.reset();
    colored_metric_.reset();
    panel_->setCohort(cohort_);
    run_action_->setEnabled(cohort_ != nullptr);
    if (auto_run_ && cohort_ && cohort_->n_obs() <= maxAutoCells() &&
        !panel_->batchKey().isEmpty() && !panel_->embeddingKey().isEmpty())
        run();
}

void BatchController::run() {
    // The panel may be gone when this object is destroyed: the choice is saved when used.
    QSettings().setValue(QStringLiteral("batch/harmony"), panel_->harmonyEnabled());
    QSettings().setValue(QStringLiteral("batch/harmonyUmap"), panel_->harmonyUmapEnabled());
    run(BatchRequest{panel_->batchKey(), panel_->labelKey(), panel_->embeddingKey(),
                     panel_->harmonyEnabled(), panel_->harmonyUmapEnabled()});
}

void BatchController::cancel() {
    if (busy_ && channel_) channel_->cancel.cancel();
}

void BatchController::run(const BatchRequest& request) {
    if (!cohort_) return;
    if (request.batch_key.isEmpty() || request.embedding_key.isEmpty()) {
        panel_->clearResults(request.embedding_key.isEmpty()
                                 ? tr("This cohort has no embedding yet: run the pipeline "
                                      "(Analysis \u25b8 Run Pipeline) to compute PCA")
                                 : tr("Choose a batch key"));
        return;
    }
    if (busy_) {
        pending_ = std::make_unique<BatchRequest>(request);
        cancel();
        return;
    }
    auto channel = std::make_shared<BatchChannel>();
    channel->progress = ProgressMailbox::create(
        this, [this](double fraction, const QString& text) { emit progress(fraction, text); });
    channel_ = channel;
    busy_ = true;
    emit busyChanged(true);
    // Short: the status bar shares its width with the pipeline's progress and messages.
    emit started(tr("Batch diagnostics"));
    panel_->setBusy(true, tr("Batch diagnostics of %1\u2026").arg(request.batch_key));

    RunControl control;
    control.cancel = &channel->cancel;
    // Leave a core to the GUI thread, as the pipeline does.
    control.num_threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
    std::shared_ptr<ProgressMailbox> mailbox = channel->progress;
    control.progress = [mailbox](double fraction, const std::string& text) {
        // core's parts name themselves ("LISI", "Harmony ..."); its last message already says
        // "batch diagnostics".
        mailbox->post(fraction, text.rfind("batch", 0) == 0 ? text : "Batch: " + text);
    };
    std::shared_ptr<const Cohort> cohort = cohort_;
    watcher_.setFuture(widgets::run_in_background([cohort, request, control]() -> BatchJobResult {
        BatchJobResult result;
        result.cohort = cohort;
        try {
            result.computed = compute(*cohort, request, control);
        } catch (const Cancelled&) {
            result.cancelled = true;
        } catch (const std::exception& e) {
            result.error = QString::fromStdString(e.what());
        } catch (...) {
            result.error = QStringLiteral("unknown error");
        }
        return result;
    }));
}

BatchComputation BatchController::compute(const Cohort& cohort, const BatchRequest& request,
                                          const RunControl& control) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string embedding_key = request.embedding_key.toStdString();
    // core's diagnose_cohort (what `transcura-cli diagnose` runs) writes its results into the
    // cohort it is given; the shown cohort is shared and const, so it works on a light copy:
    // obs, names, the one embedding (X only when obs has no QC columns to take medians of) and
    // the pipeline's kNN / UMAP parameters, with which X_umap_harmony is laid out.
    Cohort light;
    light.obs_names = cohort.obs_names;
    light.var_names = cohort.var_names;
    light.obs = cohort.obs;
    for (const char* recorded : {"neighbors", "umap"})
        if (auto it = cohort.uns.find(recorded); it != cohort.uns.end()) light.uns[recorded] = *it;
    if (auto it = cohort.obsm.find(embedding_key); it != cohort.obsm.end())
        light.obsm.emplace(embedding_key, it->second);
    if (!has_qc_columns(cohort.obs) && cohort.X) light.X = cohort.X;
    // "(none)" means no labels; core would otherwise take obs leiden when present.
    if (request.label_key.isEmpty()) light.obs.remove("leiden");

    auto analysis = std::make_shared<BatchAnalysis>();
    analysis->batch_key = request.batch_key;
    analysis->label_key = request.label_key;
    analysis->embedding_key = request.embedding_key;
    CohortDiagnosticsOptions options;
    options.batch_key = request.batch_key.toStdString();
    options.label_key = request.label_key.toStdString();
    options.embedding = embedding_key;
    options.harmony = request.harmony;
    options.harmony_umap = request.harmony_umap;
    options.add_to_obs = false;
    options.control = control;
    if (cohort.n_obs() > 50000) options.harmony_options.kmeans_n_init = 3;  // init dominates
    if (request.harmony) {
        // Harmony needs every cell in a batch: without, the raw diagnostics still run.
        const CodedLabels batch = obs_categories(light, options.batch_key, "batch key");
        if (std::any_of(batch.codes.begin(), batch.codes.end(), [](int32_t c) { return c < 0; })) {
            options.harmony = false;
            analysis->harmony_note = tr("Harmony not run: some cells have no batch");
        }
    } else {
        analysis->harmony_note = tr("Harmony off");
    }
    CohortDiagnosticsResults r = diagnose_cohort(light, options);
    analysis->batch = std::move(r.batch);
    analysis->labels = std::move(r.labels);
    analysis->raw = std::move(r.embeddings.front().results);
    analysis->raw_json = diagnostics_to_json(analysis->raw, analysis->batch);
    if (r.harmony_run && r.embeddings.size() > 1) {
        analysis->harmony = std::move(r.embeddings[1].results);
        analysis->harmony_json = diagnostics_to_json(*analysis->harmony, analysis->batch);
        analysis->harmony_iterations = r.harmony.iterations;
        analysis->harmony_converged = r.harmony.converged;
        auto corrected = light.obsm.find(r.embeddings[1].name);
        if (corrected != light.obsm.end())
            analysis->corrected = std::make_shared<DenseD>(std::move(corrected->second));
    }
    BatchComputation computed;
    if (r.harmony_umap_run)
        if (auto umap = light.obsm.find(r.harmony_umap_key); umap != light.obsm.end())
            computed.corrected_umap = std::make_shared<DenseD>(std::move(umap->second));
    analysis->seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    computed.analysis = std::move(analysis);
    return computed;
}

void BatchController::jobFinished() {
    BatchJobResult result = watcher_.result();
    channel_->progress->close();  // progress still queued belongs to the finished job
    channel_.reset();
    busy_ = false;
    if (pending_) {
        // Superseded: start the newer request; this result is dropped.
        std::unique_ptr<BatchRequest> next = std::move(pending_);
        emit busyChanged(false);
        run(*next);
        return;
    }
    if (result.cancelled) {
        panel_->setBusy(false, tr("Cancelled; press Compute to run again"));
        emit cancelled();
    } else if (!result.error.isEmpty()) {
        panel_->setBusy(false);
        panel_->clearResults(tr("Batch diagnostics failed: %1").arg(result.error));
        emit failed(result.error);
    } else if (result.computed.analysis && result.cohort == cohort_) {
        analysis_ = result.computed.analysis;
        corrected_umap_ = result.computed.corrected_umap;
        panel_->setBusy(false);
        panel_->setResults(analysis_);
        offerCorrectedEmbeddings();
        emit finished(analysis_);
    } else {
        panel_->setBusy(false);
    }
    emit busyChanged(false);
}

void BatchController::offerCorrectedEmbeddings() {
    // A rerun replaces the matrices; a view showing one of them keeps showing its new version.
    const QString shown = embedding_->embeddingKey();
    const int x = embedding_->xComponent(), y = embedding_->yComponent(),
              z = embedding_->zComponent();
    const std::pair<QString, std::shared_ptr<const DenseD>> offered[] = {
        {correctedKey(), analysis_ ? analysis_->corrected : nullptr},
        {correctedUmapKey(), corrected_umap_}};
    for (const auto& [key, matrix] : offered) embedding_->removeEmbedding(key);
    for (const auto& [key, matrix] : offered)
        if (matrix) embedding_->addEmbedding(key, matrix);
    for (const auto& [key, matrix] : offered)
        if (key == shown && matrix && embedding_->embeddingKey() != shown)
            embedding_->showEmbedding(key, x, y, z);
}

bool BatchController::colorByMetric(BatchMetric metric, bool corrected) {
    if (!analysis_ || (corrected && !analysis_->harmony)) return false;
    const widgets::BatchMetricInfo& info = widgets::batch_metric_info(metric);
    const DiagnosticsResults& r = corrected ? *analysis_->harmony : analysis_->raw;
    std::vector<float> values = BatchAnalysis::per_cell(r, metric);
    if (values.empty() || embedding_->showingLiveLayout()) return false;
    colored_metric_ = std::make_pair(metric, corrected);
    // Short: the legend and colour bar titles have little room.
    const QString title = tr("%1 (%2)").arg(info.column, corrected ? tr("Harmony") : tr("raw"));
    switch (metric) {
        case BatchMetric::Kbet: {
            // A verdict, not a scale: accepted / rejected / not tested.
            std::vector<int32_t> codes(values.size());
            for (size_t i = 0; i < values.size(); ++i)
                codes[i] = std::isnan(values[i]) ? 2 : (values[i] > 0.5f ? 0 : 1);
            embedding_->colorByCategories(
                title, std::move(codes), {tr("accepted"), tr("rejected"), tr("not tested")},
                {QColor(40, 150, 80), QColor(210, 60, 50), QColor(215, 215, 215)});
            return true;
        }
        case BatchMetric::ILisi:
            embedding_->colorByValues(title, std::move(values), widgets::ColorMapKind::Viridis, 1.0,
                                      std::max(2, r.n_batches));
            return true;
        case BatchMetric::CLisi:
            // Most cells sit near 1 of up to n_labels: the data's own range shows the
            // impure regions better than the theoretical one.
            embedding_->colorByValues(title, std::move(values), widgets::ColorMapKind::Viridis);
            return true;
        case BatchMetric::AswBatch:
            embedding_->colorByValues(title, std::move(values), widgets::ColorMapKind::Viridis, 0.0,
                                      1.0);
            return true;
        case BatchMetric::AswLabel:
            embedding_->colorByValues(
                tr("label silhouette (%1)").arg(corrected ? tr("Harmony") : tr("raw")),
                std::move(values), widgets::ColorMapKind::CoolWarm, -1.0, 1.0);
            return true;
        default:
            return false;
    }
}

bool BatchController::showCorrectedEmbedding(bool show) {
    if (show) {
        if (!analysis_ || !analysis_->corrected) return false;
        if (embedding_->embeddingKey() != correctedKey()) {
            embedding_before_ = embedding_->embeddingKey();
            x_before_ = embedding_->xComponent();
            y_before_ = embedding_->yComponent();
            z_before_ = embedding_->zComponent();
        }
        embedding_->addEmbedding(correctedKey(), analysis_->corrected);
        return embedding_->showEmbedding(correctedKey(), 0, 1, -1);
    }
    if (embedding_->embeddingKey() != correctedKey()) return true;
    return embedding_->showEmbedding(embedding_before_, x_before_, y_before_, z_before_);
}

}  // namespace transcura::shell
