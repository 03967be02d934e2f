#pragma once
// The status bar's progress: what is running, a progress bar and a Cancel button, shown while
// a background job (the PipelineController's, or the BatchController's) is busy.
#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>

class QLabel;
class QProgressBar;
class QToolButton;

namespace transcura::shell {

class BatchController;
class PipelineController;

class StatusProgress : public QWidget {
    Q_OBJECT
public:
    StatusProgress(PipelineController* controller, QWidget* parent = nullptr);
    StatusProgress(BatchController* controller, QWidget* parent = nullptr);
    QToolButton* cancelButton() const { return cancel_; }
    QProgressBar* bar() const { return bar_; }
    /// Every change of the bar or label repaints the window, and with an OpenGL view inside
    /// that is a composition of the whole window (~10-50 ms on software OpenGL): reports are
    /// shown from a timer, so one arriving while a frame is drawn is not a second frame in the
    /// same turn, and a few times a second at most.
    static constexpr int kMinIntervalMs = 200;
    /// While the job's progress is unknown the bar is hidden (its place kept) and the label
    /// counts the seconds: the style's busy animation would repaint, and so compose, the whole
    /// window some 30-60 times a second.
    QString labelText() const;

private:
    /// Both controllers have busyChanged / started / progress signals and a cancel() slot.
    template <typename Controller>
    void attach(Controller* controller);
    void build();
    void setBusy(bool busy);
    /// Keeps the latest report; it is shown from a timer, at most every kMinIntervalMs.
    void showProgress(double fraction, const QString& what);
    void applyProgress();

    QLabel* label_;
    QProgressBar* bar_;
    QToolButton* cancel_;
    QElapsedTimer elapsed_;
    QElapsedTimer since_shown_;
    QTimer apply_timer_;
    QTimer seconds_timer_;  // the label's seconds while the progress is unknown
    double pending_fraction_ = -1;
    QString pending_text_;
};

}  // namespace transcura::shell
