#pragma once
// File ▸ Save Session / Open Session: the whole working state as a small JSON file — the cohort
// file and whether the pipeline ran (with its parameters), the embedding and its components,
// what the cells are coloured by (column, gene or a batch metric), the camera, view mode, point
// size and opacity, hidden legend categories, the selection (cell names, and indices as a
// fallback), QC thresholds and the batch panel's keys. Restoring reopens the file through the
// PipelineController (the same deterministic pipeline gives the same cells) and then applies
// the view, so the window looks as it did when saved.
#include <functional>

#include <QAction>
#include <QJsonObject>
#include <QObject>
#include <QString>

namespace transcura::shell {

class MainWindow;

class SessionAction : public QObject {
    Q_OBJECT
public:
    explicit SessionAction(MainWindow* window);

    QAction* saveAction() const { return save_; }
    QAction* openAction() const { return open_; }

    /// The current state as the session document.
    QJsonObject capture() const;
    /// Writes capture() to `path` (atomically); reports failures and returns false.
    bool save(const QString& path);
    /// Reads `path` and starts restoring: the cohort is reopened in the background; restored()
    /// (or restoreFailed()) follows. Returns false when the file is not a valid session.
    bool restore(const QString& path);
    /// Applies the view part of a session to the cohort shown now (no reloading).
    void applyView(const QJsonObject& session);
    bool isRestoring() const { return restoring_; }

    /// Replaces the file dialogs (tests): `saving` tells which; returns a path or "".
    void setFileChooser(std::function<QString(bool saving)> chooser) {
        chooser_ = std::move(chooser);
    }
    static QString fileFilter();
    static constexpr const char* kFormat = "transcura-session";
    static constexpr int kVersion = 1;

signals:
    void saved(const QString& path);
    void restored(const QString& path);
    void restoreFailed(const QString& path, const QString& message);

private:
    void chooseSave();
    void chooseOpen();
    void finishRestore();
    void applyBatch(const QJsonObject& batch);
    void fail(const QString& path, const QString& message);

    MainWindow* window_;
    QAction* save_ = nullptr;
    QAction* open_ = nullptr;
    std::function<QString(bool)> chooser_;
    QJsonObject pending_;  // the session being restored
    QString pending_path_;
    bool restoring_ = false;
    bool run_on_open_before_ = true;
};

}  // namespace transcura::shell
