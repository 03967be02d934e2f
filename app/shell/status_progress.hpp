#pragma once
// The status bar's progress: what is running, a progress bar and a Cancel button, shown while
// a background job (the PipelineController's, or the BatchController's) is busy.
#include <QElapsedTimer>
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

private:
    /// Both controllers have busyChanged / started / progress signals and a cancel() slot.
    template <typename Controller>
    void attach(Controller* controller);
    void build();
    void setBusy(bool busy);
    void showProgress(double fraction, const QString& what);

    QLabel* label_;
    QProgressBar* bar_;
    QToolButton* cancel_;
    QElapsedTimer elapsed_;
};

}  // namespace transcura::shell
