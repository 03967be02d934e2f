// Every expression file in shared/data opens through read_cohort (the path File > Open and the
// CLI take), and reading never changes a source: each file's SHA-256 still matches SHA256SUMS.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QtTest/QtTest>

#include "test_support.hpp"
#include "transcura/io.hpp"

using namespace transcura;
using namespace test_support;

namespace {

struct Listed {
    QString path;    // relative to shared/data
    QString sha256;
};

std::vector<Listed> listed_files() {
    std::vector<Listed> out;
    QFile sums(shared_data("SHA256SUMS"));
    if (!sums.open(QIODevice::ReadOnly)) return out;
    for (const QByteArray& line : sums.readAll().split('\n')) {
        const QList<QByteArray> parts = line.simplified().split(' ');
        if (parts.size() == 2) out.push_back({QString::fromUtf8(parts[1]), QString::fromUtf8(parts[0])});
    }
    return out;
}

/// What to open for a listed file: MTX parts open as their folder; metadata tables are sample
/// sheets, opened with the table they describe.
struct OpenUnit {
    QString path;
    QString sample_sheet;
};

bool is_annotation(const QString& relative) {
    return relative.endsWith("metadata.csv") || relative.endsWith("_meta.tsv.gz");
}

}  // namespace

class SharedDataAllTest : public QObject {
    Q_OBJECT

private slots:
    void everyFileOpens_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("sampleSheet");
        std::vector<Listed> files = listed_files();
        QVERIFY2(files.size() >= 40, "SHA256SUMS not found or short");
        QSet<QString> units;
        for (const Listed& file : files) {
            if (is_annotation(file.path)) continue;
            QString unit = shared_data(file.path);
            const QString name = QFileInfo(unit).fileName();
            if (name.startsWith("matrix.mtx") || name.startsWith("barcodes.tsv") ||
                name.startsWith("genes.tsv") || name.startsWith("features.tsv"))
                unit = QFileInfo(unit).absolutePath();
            if (units.contains(unit)) continue;
            units.insert(unit);
            QString sheet;
            if (file.path == "bulk/batchqc_gse147507/counts.csv")
                sheet = shared_data("bulk/batchqc_gse147507/metadata.csv");
            QTest::newRow(qPrintable(QDir(shared_data()).relativeFilePath(unit))) << unit << sheet;
        }
    }

    void everyFileOpens() {
        QFETCH(QString, path);
        QFETCH(QString, sampleSheet);
        ReadOptions options;
        options.sample_sheet = sampleSheet.toStdString();
        QVERIFY(detect_format(path.toStdString()) != Format::Unknown);
        Cohort cohort = read_cohort(path.toStdString(), options);
        QVERIFY(cohort.n_obs() > 0);
        QVERIFY(cohort.n_vars() > 0);
        cohort.validate(path.toStdString());
        if (!sampleSheet.isEmpty()) QVERIFY(cohort.obs.columns.size() >= 8);
    }

    /// Nothing above wrote to a source: every checksum still matches.
    void sourcesUnchanged() {
        for (const Listed& file : listed_files()) {
            QFile f(shared_data(file.path));
            QVERIFY2(f.open(QIODevice::ReadOnly), qPrintable(file.path));
            QCryptographicHash hash(QCryptographicHash::Sha256);
            QVERIFY(hash.addData(&f));
            QCOMPARE(QString::fromLatin1(hash.result().toHex()), file.sha256);
        }
    }
};

QTEST_APPLESS_MAIN(SharedDataAllTest)
#include "tst_shared_data_all.moc"
