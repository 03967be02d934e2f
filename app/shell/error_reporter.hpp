#pragma once
// Errors for the user: a dialog that names the file and the problem. Non-blocking (window-
// modal, opened with open()), so background work and tests keep running; every report is also
// emitted as a signal, and dialogs can be turned off (tests, batch use).
#include <QObject>
#include <QPointer>
#include <QString>
#include <QWidget>

namespace transcura::shell {

class ErrorReporter : public QObject {
    Q_OBJECT
public:
    explicit ErrorReporter(QWidget* window, QObject* parent = nullptr);

    void setDialogsEnabled(bool enabled) { dialogs_ = enabled; }
    bool dialogsEnabled() const { return dialogs_; }
    /// `text` is the headline ("Could not open pbmc.h5ad"), `details` the problem.
    void report(const QString& title, const QString& text, const QString& details = {});
    QString lastMessage() const { return last_; }

    static constexpr const char* kDialogObjectName = "transcuraErrorDialog";

signals:
    void reported(const QString& title, const QString& text, const QString& details);

private:
    QPointer<QWidget> window_;
    bool dialogs_ = true;
    QString last_;
};

}  // namespace transcura::shell
