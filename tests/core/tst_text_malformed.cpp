// Broken text inputs (10x MTX folders, CSV/TSV tables, sample sheets, gzip that ends early or is
// corrupt), generated here: each must give a FormatError naming the file, the object inside it
// and the problem; never a crash, a hang or a partial cohort. Then the CLI side: one line on
// stderr and a non-zero exit, no output (not even a temporary) after a failed convert, including
// one that fails half-way through writing, and a source that is never opened for writing.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "test_support.hpp"
#include "transcura/errors.hpp"
#include "transcura/io.hpp"

using namespace transcura;
using namespace test_support;

namespace {

const QByteArray kBarcodes = "AAAC-1\nAAAG-1\nAAAT-1\nAACA-1\n";          // 4 cells
const QByteArray kFeatures = "G0\tA\tGene Expression\nG1\tB\tGene Expression\nG2\tC\tGene Expression\n";
const QByteArray kBanner = "%%MatrixMarket matrix coordinate integer general\n";
const QByteArray kEntries = "1 1 5\n2 2 3\n3 4 1\n";                       // genes x cells

bool write_file(const QString& path, const QByteArray& bytes) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

QByteArray gzip(const QByteArray& bytes) {
    QProcess process;
    process.start("gzip", {"-n", "-c"});
    process.waitForStarted();
    process.write(bytes);
    process.closeWriteChannel();
    process.waitForFinished();
    return process.readAllStandardOutput();
}

QByteArray repeat_lines(int n_cells) {
    QByteArray body;
    for (int c = 1; c <= n_cells; ++c) body += "1 " + QByteArray::number(c) + " " + QByteArray::number(c % 7 + 1) + "\n";
    return body;
}

QByteArray read_all(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class TextMalformedTest : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    int cases_ = 0;

    /// An MTX folder `name` with the given parts; a null part is left out.
    QString mtx(const QString& name, const QByteArray& matrix, const QByteArray& barcodes = kBarcodes,
                const QByteArray& features = kFeatures, bool gzip_matrix = false) {
        const QString folder = dir_.filePath(name);
        write_file(folder + (gzip_matrix ? "/matrix.mtx.gz" : "/matrix.mtx"), matrix);
        if (!barcodes.isNull()) write_file(folder + "/barcodes.tsv", barcodes);
        if (!features.isNull()) write_file(folder + "/features.tsv", features);
        return folder;
    }

    QString file(const QString& name, const QByteArray& bytes) {
        const QString path = dir_.filePath(name);
        write_file(path, bytes);
        return path;
    }

    static QByteArray matrix(const QByteArray& size_line, const QByteArray& entries,
                             const QByteArray& banner = kBanner) {
        return banner + size_line + entries;
    }

private slots:
    void brokenInputs_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("sampleSheet");
        QTest::addColumn<QString>("namedFile");  // which file the message must name
        QTest::addColumn<QString>("expected");   // what the problem must say
        QTest::addColumn<bool>("hasObject");     // the message names an object inside the file

        auto add = [this](const char* name, const QString& path, const QString& named,
                      const QString& expected, bool has_object = true, const QString& sheet = {}) {
            QTest::newRow(name) << path << sheet << named << expected << has_object;
            ++cases_;
        };
        const QByteArray size = "3 4 3\n";
        add("mtx banner", mtx("banner", "%%MatrixMarket tensor coordinate integer general\n" + size + kEntries),
            "matrix.mtx", "not a Matrix Market banner");
        add("mtx dense array", mtx("array", matrix("3 4\n", "1\n2\n", "%%MatrixMarket matrix array real general\n")),
            "matrix.mtx", "only sparse 'coordinate'");
        add("mtx empty", mtx("empty", ""), "matrix.mtx", "empty file");
        add("mtx no size line", mtx("nosize", kBanner + "% comment only\n"), "matrix.mtx", "no size line");
        add("mtx garbled size line", mtx("garbled", matrix("3 by 4\n", kEntries)), "matrix.mtx",
            "expected 'rows columns entries'");
        add("mtx negative dimensions", mtx("negative", matrix("-3 4 3\n", kEntries)), "matrix.mtx",
            "negative dimensions");
        add("mtx absurd dimensions", mtx("absurd", matrix("3 4 99999999999999\n", kEntries)),
            "matrix.mtx", "absurd dimensions");
        add("mtx index out of range", mtx("outside", matrix(size, "1 1 5\n9 2 3\n3 4 1\n")),
            "matrix.mtx", "outside the 3 x 4 matrix");
        add("mtx zero index", mtx("zero", matrix(size, "0 1 5\n2 2 3\n3 4 1\n")), "matrix.mtx",
            "outside the 3 x 4 matrix");
        add("mtx fewer entries than declared", mtx("short", matrix("3 4 5\n", kEntries)),
            "matrix.mtx", "ends after 3 of the 5 entries");
        add("mtx more entries than declared", mtx("long", matrix("3 4 2\n", kEntries)),
            "matrix.mtx", "more entries than the 2");
        add("mtx wrong field count", mtx("fields", matrix(size, "1 1\n2 2 3\n3 4 1\n")),
            "matrix.mtx", "expected 3 fields");
        add("mtx non-numeric value", mtx("word", matrix(size, "1 1 five\n2 2 3\n3 4 1\n")),
            "matrix.mtx", "is not a number");
        add("mtx negative count", mtx("negcount", matrix(size, "1 1 -5\n2 2 3\n3 4 1\n")),
            "matrix.mtx", "not a count");
        add("mtx fractional count", mtx("fraction", matrix(size, "1 1 2.5\n2 2 3\n3 4 1\n")),
            "matrix.mtx", "not a count");
        add("mtx NaN value", mtx("nan", matrix(size, "1 1 nan\n2 2 3\n3 4 1\n",
                                               "%%MatrixMarket matrix coordinate real general\n")),
            "matrix.mtx", "NaN or infinite");
        add("mtx missing barcodes", mtx("nobarcodes", matrix(size, kEntries), QByteArray()),
            "nobarcodes", "missing (looked for barcodes.tsv");
        add("mtx missing features", mtx("nofeatures", matrix(size, kEntries), kBarcodes, QByteArray()),
            "nofeatures", "missing (looked for features.tsv");
        add("mtx barcode count", mtx("barcodecount", matrix(size, kEntries), "AAAC-1\nAAAG-1\n"),
            "barcodes.tsv", "has 2 barcodes but the matrix has 4 cells");
        add("mtx feature count", mtx("featurecount", matrix(size, kEntries), kBarcodes, "G0\tA\n"),
            "features.tsv", "has 1 features but the matrix has 3 genes");
        {
            // A gzip that ends early: the first half of a compressed matrix with many entries.
            const QByteArray whole = gzip(matrix("3 4000 4000\n", repeat_lines(4000)));
            add("mtx gzip ends early", mtx("gzshort", whole.left(whole.size() / 2), kBarcodes, kFeatures, true),
                "matrix.mtx.gz", "gzip");
            // Intact deflate data with a wrong CRC: the damage shows only at the end.
            QByteArray crc = gzip(matrix(size, kEntries));
            crc[crc.size() - 8] = static_cast<char>(crc[crc.size() - 8] ^ 0x5a);
            add("mtx gzip bad checksum", mtx("gzcrc", crc, kBarcodes, kFeatures, true), "matrix.mtx.gz", "gzip");
        }
        const QByteArray table = ",S1,S2,S3\nGAPDH,1,2,3\nACTB,4,5,6\nMT-CO1,7,8,9\n";
        add("csv ragged row", file("ragged.csv", ",S1,S2,S3\nGAPDH,1,2,3\nACTB,4,5\n"), "ragged.csv",
            "ragged rows");
        add("csv ragged first row", file("ragged1.csv", ",S1,S2,S3\nGAPDH,1,2,3,4,5\n"), "ragged1.csv",
            "ragged rows");
        add("csv non-numeric cell", file("word.csv", ",S1,S2,S3\nGAPDH,1,two,3\nACTB,4,5,6\n"),
            "word.csv", "'two' is not a number");
        add("csv NaN cell", file("nan.csv", ",S1,S2,S3\nGAPDH,1,NaN,3\nACTB,4,5,6\n"), "nan.csv",
            "NaN or infinite");
        add("csv infinite cell", file("inf.csv", ",S1,S2,S3\nGAPDH,1,inf,3\nACTB,4,5,6\n"), "inf.csv",
            "NaN or infinite");
        add("csv header only", file("header.csv", ",S1,S2,S3\n"), "header.csv", "no data rows");
        add("csv empty", file("empty.csv", ""), "empty.csv", "empty file", false);
        add("tsv ragged", file("ragged.tsv", "\tS1\tS2\nGAPDH\t1\t2\nACTB\t4\n"), "ragged.tsv", "ragged rows");
        {
            QByteArray big = ",S1,S2,S3\n";
            for (int g = 0; g < 5000; ++g) big += "GENE" + QByteArray::number(g) + ",1,2,3\n";
            const QByteArray packed = gzip(big);
            add("csv.gz ends early", file("short.csv.gz", packed.left(packed.size() * 2 / 3)),
                "short.csv.gz", "gzip");
        }
        const QString good = file("good.csv", table);
        add("sample sheet ragged", good, "sheet_ragged.csv", "ragged rows", true,
            file("sheet_ragged.csv", "sample,batch,donor\nS1,b1,d1\nS2,b2\n"));
        add("sample sheet matches nothing", good, "sheet_other.csv", "no sample name matches", true,
            file("sheet_other.csv", "sample,batch\nX1,b1\nX2,b2\n"));
        add("sample sheet missing", good, "sheet_absent.csv", "cannot open", false,
            dir_.filePath("sheet_absent.csv"));
        // The issue asks for at least 20 distinct broken files; tst_hdf5_malformed adds the HDF5 ones.
        QVERIFY2(cases_ >= 30, qPrintable(QString::number(cases_)));
    }

    void brokenInputs() {
        QFETCH(QString, path);
        QFETCH(QString, sampleSheet);
        QFETCH(QString, namedFile);
        QFETCH(QString, expected);
        QFETCH(bool, hasObject);
        ReadOptions options;
        options.sample_sheet = sampleSheet.toStdString();
        try {
            Cohort cohort = read_cohort(path.toStdString(), options);
            QFAIL(qPrintable(QString("no error; read %1 x %2").arg(cohort.n_obs()).arg(cohort.n_vars())));
        } catch (const FormatError& error) {
            const QString message = QString::fromUtf8(error.what());
            QVERIFY2(QString::fromStdString(error.file()).contains(namedFile),
                     qPrintable("does not name " + namedFile + ": " + message));
            QVERIFY2(QString::fromStdString(error.problem()).contains(expected, Qt::CaseInsensitive),
                     qPrintable("problem lacks '" + expected + "': " + message));
            if (hasObject)
                QVERIFY2(!error.object().empty(), qPrintable("names no object: " + message));
        } catch (const std::exception& error) {
            QFAIL(qPrintable(QString("wrong exception type: ") + error.what()));
        }
    }

    /// The CLI: exit 1 and exactly one line naming the file, for every kind of broken text input.
    void cliOneLine() {
        for (const QString& name : QStringList{"short", "gzshort", "nobarcodes"}) {
            ProcessResult result = run(cli(), {"info", dir_.filePath(name)});
            QCOMPARE(result.exit_code, 1);
            QVERIFY2(result.err.startsWith("transcura-cli: "), result.err.constData());
            QCOMPARE(result.err.count('\n'), 1);
            QVERIFY2(result.err.contains(name.toUtf8()), result.err.constData());
            QVERIFY(result.out.isEmpty());
        }
        ProcessResult json = run(cli(), {"info", dir_.filePath("word.csv"), "--json"});
        QCOMPARE(json.exit_code, 1);
        QVERIFY(json.out.isEmpty());
        QCOMPARE(json.err.count('\n'), 1);
    }

    /// A convert whose input is broken writes nothing at all, not even a temporary.
    void failedReadLeavesNoOutput() {
        QTemporaryDir out;
        for (const QString& target : QStringList{"x.h5ad", "x.loom", "x.csv", "x_mtx/"}) {
            ProcessResult result = run(cli(), {"convert", dir_.filePath("ragged.csv"), out.filePath(target)});
            QCOMPARE(result.exit_code, 1);
            QCOMPARE(result.err.count('\n'), 1);
        }
        QCOMPARE(QDir(out.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList());
    }

    /// A convert that fails half-way through writing (here: the file-size limit is hit, so write()
    /// fails with EFBIG) leaves neither a partial output nor its temporary, and an existing output
    /// of the same name is kept as it was.
    void failedWriteLeavesNoPartialOutput() {
        QTemporaryDir out;
        const QString source = shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad");
        for (const QString& target : QStringList{"big.h5ad", "big.loom", "big.csv", "big_mtx/"}) {
            const QString path = out.filePath(target);
            // 40 blocks (20 or 40 KB, by shell) is far less than any of these outputs.
            const QString command = QString("trap '' XFSZ; ulimit -f 40; exec '%1' convert '%2' '%3'")
                                        .arg(cli(), source, path);
            ProcessResult result = run("/bin/sh", {"-c", command});
            QVERIFY2(result.exit_code == 1, qPrintable(target + ": " + result.err));
            QCOMPARE(result.err.count('\n'), 1);
            QVERIFY2(!QFileInfo::exists(path), qPrintable(target));
        }
        QCOMPARE(QDir(out.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList());
        // Replacing an existing output: the old one stays intact when the new one fails.
        const QString existing = out.filePath("kept.h5ad");
        QVERIFY(QFile::copy(shared_data("h5ad/anndata_archives/v0.7.8/adata.h5ad"), existing));
        const QByteArray before = read_all(existing);
        const QString command = QString("trap '' XFSZ; ulimit -f 40; exec '%1' convert '%2' '%3' --overwrite")
                                    .arg(cli(), source, existing);
        ProcessResult result = run("/bin/sh", {"-c", command});
        QCOMPARE(result.exit_code, 1);
        QCOMPARE(read_all(existing), before);
        QCOMPARE(QDir(out.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList{"kept.h5ad"});
    }

    /// Every open of a source file, traced with strace: none asks for write access.
    void sourceNeverOpenedForWriting() {
        if (QStandardPaths::findExecutable("strace").isEmpty()) QSKIP("strace is not installed");
        QTemporaryDir out;
        const QString h5ad = out.filePath("source.h5ad");
        QVERIFY(QFile::copy(shared_data("h5ad/anndata_archives/v0.7.8/adata.h5ad"), h5ad));
        const QString folder = out.filePath("source_mtx");
        QVERIFY(QDir().mkpath(folder));
        for (const char* part : {"matrix.mtx.gz", "features.tsv.gz", "barcodes.tsv.gz"})
            QVERIFY(QFile::copy(shared_data(QString("10x/scanpy_cellranger_3.0.0/filtered_feature_bc_matrix/") + part),
                                folder + "/" + part));
        const QString csv = out.filePath("source.csv");
        QVERIFY(QFile::copy(dir_.filePath("good.csv"), csv));
        struct Job { QString in, out; };
        for (const Job& job : {Job{h5ad, "a.loom"}, Job{folder, "b.h5ad"}, Job{csv, "c.tsv"},
                               Job{h5ad, "d.h5ad"}}) {
            const QString log = out.filePath("trace.log");
            ProcessResult result = run("strace", {"-f", "-qq", "-e", "trace=open,openat,creat,truncate",
                                                  "-o", log, cli(), "convert", job.in, out.filePath(job.out)});
            if (result.exit_code != 0 && result.err.contains("ptrace"))
                QSKIP("ptrace is not permitted here");
            QVERIFY2(result.exit_code == 0, result.err.constData());
            const QStringList lines = QString::fromUtf8(read_all(log)).split('\n');
            int source_opens = 0;
            for (const QString& line : lines) {
                if (!line.contains('"' + job.in)) continue;
                if (line.contains("ENOENT")) continue;
                ++source_opens;
                QVERIFY2(!line.contains(QRegularExpression("O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|creat\\(|truncate\\(")),
                         qPrintable(line));
            }
            QVERIFY2(source_opens > 0, qPrintable("the trace shows no open of " + job.in));
            QFile::remove(log);
        }
    }
};

QTEST_APPLESS_MAIN(TextMalformedTest)
#include "tst_text_malformed.moc"
