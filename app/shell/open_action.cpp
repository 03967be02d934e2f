#include "open_action.hpp"

#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QMimeData>
#include <QSettings>
#include <QStyle>

#include "pipeline_controller.hpp"

namespace transcura::shell {

namespace {
constexpr const char* kRecentKey = "recentFiles";
constexpr const char* kLastDirKey = "lastOpenDirectory";
}  // namespace

OpenAction::OpenAction(PipelineController* controller, QWidget* window, QObject* parent)
    : QObject(parent), controller_(controller), window_(window) {
    open_ =
        new QAction(QIcon::fromTheme(QStringLiteral("document-open"),
                                     window->style()->standardIcon(QStyle::SP_DialogOpenButton)),
                    tr("&Open\u2026"), this);
    open_->setShortcut(QKeySequence::Open);
    open_->setStatusTip(tr("Open a cohort: AnnData .h5ad, 10x .h5 or MTX folder, Loom, CSV/TSV"));
    open_folder_ = new QAction(window->style()->standardIcon(QStyle::SP_DirOpenIcon),
                               tr("Open 10x &Folder\u2026"), this);
    open_folder_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
    open_folder_->setStatusTip(
        tr("Open a 10x Matrix Market folder (matrix.mtx, barcodes, features)"));
    recent_menu_ = new QMenu(tr("Open &Recent"), window);
    connect(open_, &QAction::triggered, this, &OpenAction::chooseFile);
    connect(open_folder_, &QAction::triggered, this, &OpenAction::chooseFolder);
    connect(controller_, &PipelineController::cohortChanged, this,
            [this](std::shared_ptr<const Cohort>, const QString& path) {
                if (!path.isEmpty()) addRecent(path);
            });
    rebuildRecentMenu();
}

QString OpenAction::fileFilter() {
    return tr(
        "Cohorts (*.h5ad *.h5 *.hdf5 *.loom *.csv *.tsv *.txt *.csv.gz *.tsv.gz *.txt.gz "
        "matrix.mtx matrix.mtx.gz);;"
        "AnnData (*.h5ad);;10x Genomics HDF5 (*.h5 *.hdf5);;Loom (*.loom);;"
        "Tables (*.csv *.tsv *.txt *.csv.gz *.tsv.gz *.txt.gz);;"
        "10x Matrix Market (matrix.mtx matrix.mtx.gz);;All files (*)");
}

void OpenAction::chooseFile() {
    QString path;
    if (chooser_) {
        path = chooser_();
    } else {
        QSettings settings;
        path = QFileDialog::getOpenFileName(
            window_, tr("Open Cohort"), settings.value(kLastDirKey, QDir::homePath()).toString(),
            fileFilter());
    }
    if (!path.isEmpty()) openPath(path);
}

void OpenAction::chooseFolder() {
    QString path;
    if (chooser_) {
        path = chooser_();
    } else {
        QSettings settings;
        path = QFileDialog::getExistingDirectory(
            window_, tr("Open 10x Matrix Market Folder"),
            settings.value(kLastDirKey, QDir::homePath()).toString());
    }
    if (!path.isEmpty()) openPath(path);
}

void OpenAction::openPath(const QString& given) {
    QString path = QDir::cleanPath(given);
    QFileInfo info(path);
    const QString name = info.fileName().toLower();
    if (info.isFile() &&
        (name == QLatin1String("matrix.mtx") || name == QLatin1String("matrix.mtx.gz")))
        path = info.absolutePath();
    else if (info.exists())
        path = info.absoluteFilePath();
    QSettings().setValue(kLastDirKey, QFileInfo(path).absolutePath());
    controller_->open(path);
}

QStringList OpenAction::recentFiles() const {
    return QSettings().value(kRecentKey).toStringList();
}

void OpenAction::clearRecentFiles() {
    QSettings().remove(kRecentKey);
    rebuildRecentMenu();
}

void OpenAction::addRecent(const QString& path) {
    QStringList files = recentFiles();
    files.removeAll(path);
    files.prepend(path);
    while (files.size() > kMaxRecent) files.removeLast();
    QSettings().setValue(kRecentKey, files);
    rebuildRecentMenu();
}

void OpenAction::rebuildRecentMenu() {
    recent_menu_->clear();
    const QStringList files = recentFiles();
    int number = 1;
    for (const QString& file : files) {
        QString label = QStringLiteral("&%1 %2").arg(number % 10).arg(QFileInfo(file).fileName());
        QAction* action = recent_menu_->addAction(label);
        action->setToolTip(file);
        action->setStatusTip(file);
        connect(action, &QAction::triggered, this, [this, file] { openPath(file); });
        ++number;
    }
    if (!files.isEmpty()) recent_menu_->addSeparator();
    QAction* clear = recent_menu_->addAction(tr("Clear Recent Files"));
    clear->setEnabled(!files.isEmpty());
    connect(clear, &QAction::triggered, this, &OpenAction::clearRecentFiles);
}

DropOpener::DropOpener(OpenAction* open, QWidget* target) : QObject(target), open_(open) {
    target->setAcceptDrops(true);
    target->installEventFilter(this);
}

bool DropOpener::eventFilter(QObject* watched, QEvent* event) {
    if (event->type() == QEvent::DragEnter || event->type() == QEvent::DragMove) {
        auto* drag = static_cast<QDropEvent*>(event);
        if (drag->mimeData()->hasUrls() && drag->mimeData()->urls().first().isLocalFile()) {
            drag->acceptProposedAction();
            return true;
        }
    } else if (event->type() == QEvent::Drop) {
        auto* drop = static_cast<QDropEvent*>(event);
        const QList<QUrl> urls = drop->mimeData()->urls();
        if (!urls.isEmpty() && urls.first().isLocalFile()) {
            drop->acceptProposedAction();
            open_->openPath(urls.first().toLocalFile());
            return true;
        }
    }
    return QObject::eventFilter(watched, event);
}

}  // namespace transcura::shell
