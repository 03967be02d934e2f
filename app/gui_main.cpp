// The Transcura desktop application: opens the file given on the command line, or the demo
// cohort when there is none.
#include <QApplication>
#include <QCommandLineParser>
#include <QSurfaceFormat>
#include <QTimer>

#include "embedding_view.hpp"
#include "main_window.hpp"
#include "open_action.hpp"

int main(int argc, char** argv) {
    // VTK renders with OpenGL 3.2 core; the default format must be set before QApplication.
    QSurfaceFormat::setDefaultFormat(transcura::widgets::EmbeddingView::surfaceFormat());
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("Transcura"));
    QApplication::setApplicationName(QStringLiteral("Transcura"));
    QApplication::setApplicationVersion(QStringLiteral(TRANSCURA_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("org.transcura.Transcura"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Workbench for transcriptomic cohorts. Opens an AnnData .h5ad, a 10x .h5 file or MTX "
        "folder, a Loom file or a CSV/TSV table; without a file, the demo cohort."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("Cohort to open"),
                                 QStringLiteral("[file]"));
    parser.process(app);

    transcura::shell::MainWindow window;
    window.show();
    const QStringList files = parser.positionalArguments();
    const QString path = files.isEmpty() ? transcura::shell::demo_cohort_path() : files.first();
    if (!path.isEmpty())
        QTimer::singleShot(0, &window, [&window, path] { window.openActions()->openPath(path); });
    return app.exec();
}
