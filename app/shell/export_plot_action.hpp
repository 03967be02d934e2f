#pragma once
// File ▸ Export Plot: each registered plot gets a menu entry; the chosen file's extension picks
// PNG, SVG or PDF. Failures go to the error reporter.
#include <functional>

#include <QAction>
#include <QMenu>
#include <QObject>

namespace transcura::widgets {
class PlotExportable;
}

namespace transcura::shell {

class ErrorReporter;

class ExportPlotAction : public QObject {
    Q_OBJECT
public:
    ExportPlotAction(ErrorReporter* errors, QWidget* window, QObject* parent = nullptr);

    /// Adds a plot; the first one added also gets Ctrl+E.
    void addPlot(widgets::PlotExportable* plot);
    QMenu* menu() const { return menu_; }
    QList<QAction*> actions() const { return menu_->actions(); }
    /// Exports without a dialog; returns false (and reports) on failure.
    bool exportTo(widgets::PlotExportable* plot, const QString& path);
    /// Replaces the save dialog (tests): given a suggested name, returns a path or "".
    void setFileChooser(std::function<QString(const QString&)> chooser) {
        chooser_ = std::move(chooser);
    }

signals:
    void exported(const QString& path);

private:
    void choose(widgets::PlotExportable* plot);

    ErrorReporter* errors_;
    QWidget* window_;
    QMenu* menu_;
    std::function<QString(const QString&)> chooser_;
};

}  // namespace transcura::shell
