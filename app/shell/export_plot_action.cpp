#include "export_plot_action.hpp"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QSettings>

#include "error_reporter.hpp"
#include "plot_export.hpp"

namespace transcura::shell {

ExportPlotAction::ExportPlotAction(ErrorReporter* errors, QWidget* window, QObject* parent)
    : QObject(parent), errors_(errors), window_(window) {
    menu_ = new QMenu(tr("&Export Plot"), window);
}

void ExportPlotAction::addPlot(widgets::PlotExportable* plot) {
    QAction* action = menu_->addAction(tr("%1\u2026").arg(plot->exportTitle()));
    action->setStatusTip(tr("Save the %1 as PNG, SVG or PDF").arg(plot->exportTitle().toLower()));
    if (menu_->actions().size() == 1) action->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
    connect(action, &QAction::triggered, this, [this, plot] { choose(plot); });
}

void ExportPlotAction::choose(widgets::PlotExportable* plot) {
    QSettings settings;
    const QString dir =
        settings.value(QStringLiteral("exportDirectory"), QDir::homePath()).toString();
    QString name = plot->exportTitle().toLower().replace(QLatin1Char(' '), QLatin1Char('_'));
    const QString suggested = QDir(dir).filePath(name + QStringLiteral(".png"));
    QString path =
        chooser_ ? chooser_(suggested)
                 : QFileDialog::getSaveFileName(window_, tr("Export %1").arg(plot->exportTitle()),
                                                suggested, widgets::export_file_filter());
    if (path.isEmpty()) return;
    if (QFileInfo(path).suffix().isEmpty()) path += QStringLiteral(".png");
    settings.setValue(QStringLiteral("exportDirectory"), QFileInfo(path).absolutePath());
    exportTo(plot, path);
}

bool ExportPlotAction::exportTo(widgets::PlotExportable* plot, const QString& path) {
    QString error;
    if (!widgets::export_plot(*plot, path, &error)) {
        errors_->report(tr("Export failed"),
                        tr("Could not export %1").arg(QFileInfo(path).fileName()), error);
        return false;
    }
    emit exported(path);
    return true;
}

}  // namespace transcura::shell
