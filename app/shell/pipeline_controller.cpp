#include "pipeline_controller.hpp"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include <QElapsedTimer>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

#include "background_pool.hpp"
#include "progress_mailbox.hpp"
#include "transcura/errors.hpp"
#include "transcura/io.hpp"
#include "transcura/progress.hpp"

namespace transcura::shell {

/// Shared by a running job and the controller: the cancel flag, the latest progress, and the
/// latest layout, handed over under a lock and picked up by one queued call at a time (as the
/// progress mailbox does for progress).
struct JobChannel {
    CancelToken cancel;
    std::shared_ptr<ProgressMailbox> progress;
    std::mutex mutex;
    std::shared_ptr<DenseD> layout;
    int epoch = 0, n_epochs = 0;
    std::atomic<bool> layout_posted{false};
};

PipelineController::PipelineController(QObject* parent) : QObject(parent) {
    connect(&watcher_, &QFutureWatcher<JobResult>::finished, this, &PipelineController::finished);
}

PipelineController::~PipelineController() {
    if (busy_) {
        channel_->cancel.cancel();
        watcher_.waitForFinished();
    }
}

bool PipelineController::pipelineAvailable() {
    return true;
}

bool PipelineController::isBusy() const {
    return busy_;
}

void PipelineController::open(const QString& path) {
    Request request{path, nullptr, run_on_open_ && pipelineAvailable()};
    if (busy_) {
        pending_ = std::make_unique<Request>(request);
        cancel();
        return;
    }
    start(request);
}

void PipelineController::runPipeline() {
    if (!cohort_ || !pipelineAvailable()) return;
    Request request{QString(), cohort_, true};
    if (busy_) {
        pending_ = std::make_unique<Request>(request);
        cancel();
        return;
    }
    start(request);
}

void PipelineController::cancel() {
    if (busy_ && channel_) channel_->cancel.cancel();
}

void PipelineController::start(const Request& request) {
    auto channel = std::make_shared<JobChannel>();
    channel->progress = ProgressMailbox::create(
        this, [this](double fraction, const QString& text) { emit progress(fraction, text); });
    channel_ = channel;
    busy_ = true;
    emit busyChanged(true);
    const QString what = request.path.isEmpty()
                             ? tr("Running the pipeline")
                             : tr("Opening %1").arg(QFileInfo(request.path).fileName());
    emit started(what);

    // Called from the worker: at most one queued layout delivery is pending.
    auto post_layout = [this, channel] {
        if (!channel->layout_posted.exchange(true))
            QMetaObject::invokeMethod(
                this,
                [this, channel] {
                    if (channel == channel_) deliverLayout();
                },
                Qt::QueuedConnection);
    };
    PipelineOptions options = parameters_;

    auto job = [request, options, channel, post_layout]() -> JobResult {
        QElapsedTimer timer;
        timer.start();
        JobResult result;
        result.path = request.path;
        auto report = [&](double fraction, const std::string& text) {
            channel->progress->post(fraction, text);
        };
        std::shared_ptr<const Cohort> input = request.input;
        try {
            if (!request.path.isEmpty()) {
                report(-1, "Reading " + QFileInfo(request.path).fileName().toStdString());
                auto loaded = std::make_shared<Cohort>(read_cohort(request.path.toStdString()));
                input = loaded;
                result.cohort = loaded;
            } else if (input) {
                result.path = QString::fromStdString(input->source_path);
            }
            channel->cancel.throw_if_cancelled();
        } catch (const Cancelled&) {
            result.cancelled = true;
            result.cohort.reset();
            return result;
        } catch (const std::exception& e) {
            result.error = QString::fromStdString(e.what());
            result.error_stage = QStringLiteral("open");
            return result;
        } catch (...) {
            result.error = QStringLiteral("unknown error");
            result.error_stage = QStringLiteral("open");
            return result;
        }
        if (request.run_pipeline && input) {
            try {
                PipelineOptions run_options = options;
                run_options.control.progress = report;
                run_options.control.cancel = &channel->cancel;
                // Leave a core to the GUI thread so the window stays responsive.
                if (run_options.control.num_threads <= 0)
                    run_options.control.num_threads =
                        std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
                run_options.on_umap_epoch = [&](const DenseD& layout, int epoch, int n_epochs) {
                    auto copy = std::make_shared<DenseD>(layout);
                    {
                        std::lock_guard<std::mutex> lock(channel->mutex);
                        channel->layout = std::move(copy);
                        channel->epoch = epoch;
                        channel->n_epochs = n_epochs;
                    }
                    post_layout();
                };
                PipelineResults pipeline = run_pipeline(*input, run_options);
                result.cohort = std::make_shared<Cohort>(std::move(pipeline.cohort));
                result.ran_pipeline = true;
            } catch (const Cancelled&) {
                result.cancelled = true;
                result.cohort.reset();
            } catch (const std::exception& e) {
                // The file itself was read: it stays shown, with the pipeline's error reported.
                result.error = QString::fromStdString(e.what());
                result.error_stage = QStringLiteral("pipeline");
                if (request.path.isEmpty()) result.cohort.reset();
            }
        }
        result.seconds = timer.nsecsElapsed() / 1e9;
        return result;
    };
    watcher_.setFuture(widgets::run_in_background(job));
}

void PipelineController::deliverLayout() {
    std::shared_ptr<const DenseD> layout;
    int epoch, n_epochs;
    {
        std::lock_guard<std::mutex> lock(channel_->mutex);
        channel_->layout_posted = false;
        layout = std::move(channel_->layout);
        epoch = channel_->epoch;
        n_epochs = channel_->n_epochs;
    }
    if (layout) emit liveLayout(layout, epoch, n_epochs);
}

void PipelineController::finished() {
    JobResult result = watcher_.result();
    channel_->progress->close();  // progress still queued belongs to the finished job
    channel_.reset();
    busy_ = false;
    if (result.cancelled) {
        emit cancelled();
    } else {
        if (result.cohort) {
            cohort_ = result.cohort;
            from_pipeline_ = result.ran_pipeline;
            path_ =
                result.path.isEmpty() ? QString::fromStdString(cohort_->source_path) : result.path;
            emit cohortChanged(cohort_, path_);
        }
        if (!result.error.isEmpty()) emit failed(result.path, result.error_stage, result.error);
    }
    emit busyChanged(false);
    if (pending_) {
        std::unique_ptr<Request> next = std::move(pending_);
        start(*next);
    }
}

}  // namespace transcura::shell
