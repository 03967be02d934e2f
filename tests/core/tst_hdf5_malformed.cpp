// Broken HDF5 cohort files: every one must give a FormatError naming the file and the problem,
// never a crash, a hang or a partial cohort.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "test_support.hpp"
#include "transcura/errors.hpp"
#include "transcura/io.hpp"

using namespace transcura;
using namespace test_support;

class Hdf5MalformedTest : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    /// Reads `path` expecting a FormatError whose message has the file name and `expected`.
    static void expect_error(const QString& path, const QString& expected,
                             const ReadOptions& options = {}) {
        try {
            Cohort cohort = read_cohort(path.toStdString(), options);
            QFAIL(qPrintable("no error for " + path));
        } catch (const FormatError& error) {
            const QString message = QString::fromUtf8(error.what());
            QVERIFY2(message.contains(QFileInfo(path).fileName()),
                     qPrintable("message does not name the file: " + message));
            QVERIFY2(message.contains(expected, Qt::CaseInsensitive),
                     qPrintable("message lacks '" + expected + "': " + message));
        } catch (const std::exception& error) {
            QFAIL(qPrintable(QString("wrong exception type: ") + error.what()));
        }
    }

    QString truncated_copy(const QString& source, double fraction, const QString& name) {
        QFile in(source);
        if (!in.open(QIODevice::ReadOnly)) return {};
        QByteArray bytes = in.readAll();
        const QString path = dir_.filePath(name);
        QFile out(path);
        if (!out.open(QIODevice::WriteOnly)) return {};
        out.write(bytes.left(static_cast<qsizetype>(bytes.size() * fraction)));
        return path;
    }

private slots:
    void generatedCases_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("expected");
        QByteArray listing = run_python("make_broken_hdf5.py", {dir_.path()});
        const auto lines = QString::fromUtf8(listing).split('\n', Qt::SkipEmptyParts);
        QVERIFY(lines.size() >= 18);
        for (const QString& line : lines) {
            const QStringList parts = line.split('\t');
            QTest::newRow(qPrintable(parts[0])) << parts[1] << parts[2];
        }
    }

    void generatedCases() {
        QFETCH(QString, path);
        QFETCH(QString, expected);
        expect_error(path, expected);
    }

    void truncatedFiles_data() {
        QTest::addColumn<QString>("path");
        QTest::newRow("h5ad 60%") << truncated_copy(
            shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad"), 0.6, "t1.h5ad");
        QTest::newRow("h5ad 5%") << truncated_copy(
            shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad"), 0.05, "t2.h5ad");
        QTest::newRow("10x h5 50%") << truncated_copy(
            shared_data("10x/scanpy_cellranger_3.0.0/filtered_feature_bc_matrix.h5"), 0.5, "t3.h5");
        QTest::newRow("loom 70%") << truncated_copy(
            shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.loom"), 0.7, "t4.loom");
        QTest::newRow("lzf h5ad 80%") << truncated_copy(
            shared_data("h5ad/anndata_archives/v0.7.8/adata.h5ad"), 0.8, "t5.h5ad");
    }

    void truncatedFiles() {
        QFETCH(QString, path);
        QVERIFY(!path.isEmpty());
        expect_error(path, "");
    }

    void notHdf5() {
        const QString garbage = dir_.filePath("garbage.h5ad");
        QFile f(garbage);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(4096, '\x7f'));
        f.close();
        expect_error(garbage, "unrecognised");
        const QString empty = dir_.filePath("empty.h5ad");
        QFile e(empty);
        QVERIFY(e.open(QIODevice::WriteOnly));
        e.close();
        expect_error(empty, "unrecognised");
        expect_error(dir_.filePath("does_not_exist.h5ad"), "no such file");
    }

    void unknownGenome() {
        ReadOptions options;
        options.genome = "mm10";
        expect_error(shared_data("10x/scanpy_cellranger_1.2.0/multiple_genomes.h5"),
                     "genome 'mm10' not found", options);
    }

    void cliReportsOneLine() {
        const QString path = truncated_copy(
            shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad"), 0.5, "cli.h5ad");
        ProcessResult result = run(cli(), {"info", path});
        QCOMPARE(result.exit_code, 1);
        QVERIFY(result.err.startsWith("transcura-cli: "));
        QVERIFY(result.err.contains("cli.h5ad"));
        QCOMPARE(result.err.count('\n'), 1);
    }
};

QTEST_APPLESS_MAIN(Hdf5MalformedTest)
#include "tst_hdf5_malformed.moc"
