#pragma once
// Helpers shared by the Qt Test executables: where the real files are, running the Python
// oracles (Debian's /usr/bin/python3 with anndata, h5py, scikit-learn) and the CLI.
#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>
#include <QtTest/QtTest>

namespace test_support {

inline QString shared_data(const QString& relative = {}) {
    QString root = QString::fromUtf8(qEnvironmentVariable("TRANSCURA_SHARED_DATA").isEmpty()
                                         ? QByteArray(TRANSCURA_SHARED_DATA)
                                         : qEnvironmentVariable("TRANSCURA_SHARED_DATA").toUtf8());
    return relative.isEmpty() ? root : QDir(root).filePath(relative);
}

inline QString script(const QString& name) { return QDir(TRANSCURA_TEST_SCRIPTS).filePath(name); }
inline QString python() { return QStringLiteral(TRANSCURA_PYTHON); }
inline QString cli() { return QStringLiteral(TRANSCURA_CLI); }

struct ProcessResult {
    int exit_code = -1;
    QByteArray out;
    QByteArray err;
};

inline ProcessResult run(const QString& program, const QStringList& args, int timeout_ms = 600000) {
    QProcess process;
    process.start(program, args);
    ProcessResult result;
    if (!process.waitForStarted(30000)) {
        result.err = "could not start " + program.toUtf8();
        return result;
    }
    process.waitForFinished(timeout_ms);
    result.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

/// Runs tests/scripts/<name> with the oracle Python; fails the test on a non-zero exit.
inline QByteArray run_python(const QString& name, const QStringList& args) {
    ProcessResult result = run(python(), QStringList{script(name)} + args);
    if (result.exit_code != 0)
        qWarning().noquote() << "python" << name << args.join(' ') << "failed:\n" << result.err;
    return result.exit_code == 0 ? result.out : QByteArray();
}

/// Parses the single JSON object a script printed.
inline QJsonObject python_json(const QString& name, const QStringList& args) {
    QByteArray out = run_python(name, args);
    QJsonParseError error;
    QJsonDocument document = QJsonDocument::fromJson(out, &error);
    if (error.error != QJsonParseError::NoError)
        qWarning().noquote() << "python" << name << "printed no JSON:" << error.errorString();
    return document.object();
}

}  // namespace test_support
