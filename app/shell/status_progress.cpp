#include "status_progress.hpp"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QToolButton>

#include <algorithm>
#include <type_traits>

#include "batch_controller.hpp"
#include "pipeline_controller.hpp"

namespace transcura::shell {

StatusProgress::StatusProgress(PipelineController* controller, QWidget* parent) : QWidget(parent) {
    build();
    attach(controller);
}

StatusProgress::StatusProgress(BatchController* controller, QWidget* parent) : QWidget(parent) {
    build();
    attach(controller);
}

void StatusProgress::build() {
    label_ = new QLabel(this);
    bar_ = new QProgressBar(this);
    bar_->setRange(0, 1000);
    bar_->setFixedWidth(220);
    bar_->setTextVisible(false);
    cancel_ = new QToolButton(this);
    cancel_->setText(tr("Cancel"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(label_);
    layout->addWidget(bar_);
    layout->addWidget(cancel_);
    connect(cancel_, &QToolButton::clicked, this, [this] {
        apply_timer_.stop();  // a late report must not hide that cancelling is under way
        seconds_timer_.stop();
        label_->setText(tr("Cancelling\u2026"));
    });
    apply_timer_.setSingleShot(true);
    connect(&apply_timer_, &QTimer::timeout, this, &StatusProgress::applyProgress);
    QSizePolicy policy = bar_->sizePolicy();
    policy.setRetainSizeWhenHidden(true);  // showing or hiding it moves nothing
    bar_->setSizePolicy(policy);
    seconds_timer_.setInterval(1000);
    connect(&seconds_timer_, &QTimer::timeout, this, [this] {
        if (label_->text() != labelText()) label_->setText(labelText());
    });
}

QString StatusProgress::labelText() const {
    const qint64 seconds = elapsed_.isValid() ? elapsed_.elapsed() / 1000 : 0;
    if (pending_fraction_ >= 0 || seconds < 1) return pending_text_;
    return tr("%1 (%2 s)").arg(pending_text_).arg(seconds);
}

template <typename Controller>
void StatusProgress::attach(Controller* controller) {
    cancel_->setToolTip(std::is_same_v<Controller, PipelineController>
                            ? tr("Stop; the current cohort stays as it is (Ctrl+.)")
                            : tr("Stop the batch diagnostics"));
    connect(cancel_, &QToolButton::clicked, controller, &Controller::cancel);
    connect(controller, &Controller::busyChanged, this, &StatusProgress::setBusy);
    connect(controller, &Controller::started, this,
            [this](const QString& what) { showProgress(-1, what); });
    connect(controller, &Controller::progress, this, &StatusProgress::showProgress);
    setBusy(false);
}

void StatusProgress::setBusy(bool busy) {
    setVisible(busy);
    if (busy) {
        elapsed_.start();
    } else {
        apply_timer_.stop();
        seconds_timer_.stop();
    }
}

void StatusProgress::showProgress(double fraction, const QString& what) {
    pending_fraction_ = fraction;
    pending_text_ = what;
    if (apply_timer_.isActive()) return;  // the latest report is shown when it fires
    const qint64 since = since_shown_.isValid() ? since_shown_.elapsed() : kMinIntervalMs;
    apply_timer_.start(static_cast<int>(std::max<qint64>(1, kMinIntervalMs - since)));
}

void StatusProgress::applyProgress() {
    since_shown_.start();
    if (pending_fraction_ < 0) {
        bar_->hide();
        if (!seconds_timer_.isActive()) seconds_timer_.start();
    } else {
        seconds_timer_.stop();
        {
            // QProgressBar::setValue repaints at once (Qt's repaint(), not update()): in a
            // window with the OpenGL embedding that is a whole composition of the window
            // inside this timer (measured 90-250 ms under load), besides the one the label's
            // update brings. With updates off it only schedules one, shared with the others.
            bar_->setUpdatesEnabled(false);
            bar_->setValue(static_cast<int>(pending_fraction_ * 1000));
            bar_->setUpdatesEnabled(true);  // (schedules the bar's update)
        }
        bar_->show();
    }
    if (label_->text() != labelText()) label_->setText(labelText());
}

}  // namespace transcura::shell
