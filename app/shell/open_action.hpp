#pragma once
// File ▸ Open, Open Folder, Open Recent, and drag and drop: every way in ends in openPath(),
// which hands the file to the PipelineController. Recent files persist in QSettings.
#include <functional>

#include <QAction>
#include <QMenu>
#include <QObject>
#include <QStringList>

namespace transcura::shell {

class PipelineController;

class OpenAction : public QObject {
    Q_OBJECT
public:
    OpenAction(PipelineController* controller, QWidget* window, QObject* parent = nullptr);

    QAction* openAction() const { return open_; }
    QAction* openFolderAction() const { return open_folder_; }
    QMenu* recentMenu() const { return recent_menu_; }

    /// The one code path for opening: dialog, recent files, drops and the command line.
    /// A matrix.mtx[.gz] inside a 10x folder opens the folder.
    void openPath(const QString& path);
    QStringList recentFiles() const;
    void clearRecentFiles();

    /// Replaces the file dialog (tests). Returns the chosen path or "" for cancel.
    void setFileChooser(std::function<QString()> chooser) { chooser_ = std::move(chooser); }
    static QString fileFilter();
    static constexpr int kMaxRecent = 10;

private:
    void chooseFile();
    void chooseFolder();
    void addRecent(const QString& path);
    void rebuildRecentMenu();

    PipelineController* controller_;
    QWidget* window_;
    QAction* open_ = nullptr;
    QAction* open_folder_ = nullptr;
    QMenu* recent_menu_ = nullptr;
    std::function<QString()> chooser_;
};

/// Accepts dropped files and folders on a window and opens the first through OpenAction.
class DropOpener : public QObject {
    Q_OBJECT
public:
    DropOpener(OpenAction* open, QWidget* target);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    OpenAction* open_;
};

}  // namespace transcura::shell
