#pragma once
// Shared by the GUI tests: an OpenGL 3.2 core default surface format set before QApplication
// (VTK needs it), the screenshot directory, and small helpers.
#include <QApplication>
#include <QDir>
#include <QSurfaceFormat>
#include <QWidget>
#include <QtTest/QtTest>

#include "embedding_view.hpp"

namespace gui_test {

/// $TRANSCURA_SCREENSHOT_DIR, or <build dir>/tests/screenshots (each build its own, so parallel
/// builds do not overwrite each other's); created on demand.
inline QString screenshot_dir() {
    QString dir = qEnvironmentVariable("TRANSCURA_SCREENSHOT_DIR");
#ifdef QT_TESTCASE_BUILDDIR
    if (dir.isEmpty()) dir = QDir(QStringLiteral(QT_TESTCASE_BUILDDIR)).filePath(QStringLiteral("screenshots"));
#endif
    if (dir.isEmpty()) dir = QDir::temp().filePath(QStringLiteral("transcura-screenshots"));
    QDir().mkpath(dir);
    return dir;
}

/// Saves widget->grab() as <dir>/<name>.png and returns the path.
inline QString save_screenshot(QWidget* widget, const QString& name) {
    QString path = QDir(screenshot_dir()).filePath(name + QStringLiteral(".png"));
    if (!widget->grab().save(path))
        qWarning() << "could not save" << path;
    else
        qInfo().noquote() << "screenshot:" << path;
    return path;
}

/// Ray casting, written independently of the widgets' implementation.
inline bool inside_polygon(double x, double y, const QPolygonF& polygon) {
    bool inside = false;
    for (qsizetype i = 0, j = polygon.size() - 1; i < polygon.size(); j = i++) {
        const QPointF& a = polygon[i];
        const QPointF& b = polygon[j];
        if (((a.y() > y) != (b.y() > y)) &&
            (x < (b.x() - a.x()) * (y - a.y()) / (b.y() - a.y()) + a.x()))
            inside = !inside;
    }
    return inside;
}

}  // namespace gui_test

/// Like QTEST_MAIN, but sets the OpenGL format VTK needs before the QApplication exists.
#define TRANSCURA_GUI_TEST_MAIN(TestClass)                                                    \
    int main(int argc, char** argv) {                                                         \
        QSurfaceFormat::setDefaultFormat(transcura::widgets::EmbeddingView::surfaceFormat()); \
        QApplication app(argc, argv);                                                         \
        app.setAttribute(Qt::AA_Use96Dpi, true);                                              \
        TestClass test;                                                                       \
        QTEST_SET_MAIN_SOURCE_PATH                                                            \
        return QTest::qExec(&test, argc, argv);                                               \
    }
