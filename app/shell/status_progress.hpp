#pragma once
// The status bar's progress: what is running, a progress bar and a Cancel button, shown while
// the PipelineController is busy.
#include <QElapsedTimer>
#include <QWidget>

class QLabel;
class QProgressBar;
class QToolButton;

namespace transcura::shell {

class PipelineController;

class StatusProgress : public QWidget {
    Q_OBJECT
public:
    StatusProgress(PipelineController* controller, QWidget* parent = nullptr);
    QToolButton* cancelButton() const { return cancel_; }
    QProgressBar* bar() const { return bar_; }

private:
    void setBusy(bool busy);
    void showProgress(double fraction, const QString& what);

    PipelineController* controller_;
    QLabel* label_;
    QProgressBar* bar_;
    QToolButton* cancel_;
    QElapsedTimer elapsed_;
};

}  // namespace transcura::shell
