#include "plot_export.hpp"

#include <QFileInfo>
#include <QImage>
#include <QPageSize>
#include <QPdfWriter>
#include <QSaveFile>
#include <QSvgGenerator>

namespace transcura::widgets {

QString export_file_filter() {
    return QObject::tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)");
}

bool export_plot(PlotExportable& plot, const QString& path, QString* error) {
    auto fail = [&](const QString& why) {
        if (error) *error = QObject::tr("%1: %2").arg(path, why);
        return false;
    };
    const QSize size = plot.exportSize().expandedTo(QSize(200, 150));
    const QRectF area(QPointF(0, 0), QSizeF(size));
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("png")) {
        QImage image(size * 2, QImage::Format_ARGB32_Premultiplied);
        image.setDevicePixelRatio(2.0);
        image.fill(Qt::white);
        {
            QPainter painter(&image);
            painter.setRenderHint(QPainter::Antialiasing);
            plot.renderExport(painter, area);
        }
        if (!image.save(path, "PNG")) return fail(QObject::tr("cannot write the PNG image"));
        return true;
    }
    if (suffix == QLatin1String("svg")) {
        QSvgGenerator generator;
        generator.setFileName(path);
        generator.setSize(size);
        generator.setViewBox(area);
        generator.setTitle(plot.exportTitle());
        generator.setDescription(QObject::tr("Exported from Transcura"));
        QPainter painter;
        if (!painter.begin(&generator)) return fail(QObject::tr("cannot write the SVG drawing"));
        painter.setRenderHint(QPainter::Antialiasing);
        plot.renderExport(painter, area);
        painter.end();
        if (!QFileInfo(path).exists()) return fail(QObject::tr("cannot write the SVG drawing"));
        return true;
    }
    if (suffix == QLatin1String("pdf")) {
        QPdfWriter writer(path);
        writer.setTitle(plot.exportTitle());
        writer.setCreator(QStringLiteral("Transcura"));
        writer.setResolution(96);
        writer.setPageSize(QPageSize(QSizeF(size), QPageSize::Point));
        writer.setPageMargins(QMarginsF(0, 0, 0, 0));
        QPainter painter;
        if (!painter.begin(&writer)) return fail(QObject::tr("cannot write the PDF document"));
        painter.setRenderHint(QPainter::Antialiasing);
        // Points (1/72 in) to the writer's 96 dpi device pixels.
        const double s = writer.width() / area.width();
        painter.scale(s, s);
        plot.renderExport(painter, area);
        painter.end();
        return true;
    }
    return fail(QObject::tr("unknown format \"%1\" (use .png, .svg or .pdf)").arg(suffix));
}

}  // namespace transcura::widgets
