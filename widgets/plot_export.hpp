#pragma once
// Any plot (QC plots, the embedding) exports to PNG, SVG or PDF through this interface.
#include <QPainter>
#include <QRectF>
#include <QSize>
#include <QString>
#include <QStringList>

namespace transcura::widgets {

class PlotExportable {
public:
    virtual ~PlotExportable() = default;
    /// A short name for menus and default file names ("Embedding", "QC distribution").
    virtual QString exportTitle() const = 0;
    /// The size to export at (usually the widget's size).
    virtual QSize exportSize() const = 0;
    /// Paints the whole plot into `area` (vector painting where possible).
    virtual void renderExport(QPainter& painter, const QRectF& area) = 0;
};

/// "PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"
QString export_file_filter();
/// Writes the plot to `path`, the format chosen by its extension (.png, .svg, .pdf).
/// Returns false and sets `error` (naming the file) on failure.
bool export_plot(PlotExportable& plot, const QString& path, QString* error = nullptr);

}  // namespace transcura::widgets
