// Every expression file in shared/data opens through read_cohort (the path File > Open and the
// CLI take) and agrees with what the Python ecosystem reads from it (anndata, h5py + scipy,
// scipy.io.mmread, pandas): shape, non-zeros, sum, a position-weighted checksum of X, names and
// obs/var columns. Each one also goes through our .h5ad writer and is read back by anndata 0.8,
// and the small ones through our MTX and CSV writers, read back by scipy and pandas. Reading never
// changes a source: each file's SHA-256 still matches SHA256SUMS.
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <optional>

#include "cohort_compare.hpp"
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

bool is_annotation(const QString& relative) {
    return relative.endsWith("metadata.csv") || relative.endsWith("_meta.tsv.gz");
}

/// One thing to open: MTX parts open as their folder; metadata tables are sample sheets,
/// opened with the table they describe.
struct Unit {
    QString relative;
    QString path;
    QString sample_sheet;
    QStringList oracle;   // FORMAT PATH [EXTRA...] for oracle_cohort.py
    bool h5ad = false;    // the oracle lists every column
    std::optional<Cohort> cohort;
    QString read_error;
    bool write_text = false;  // small enough for the MTX and CSV writer checks
};

// Dense CSV of more values than this is slow for pandas and says nothing new.
constexpr int64_t kMaxTextValues = 2'000'000;
constexpr int64_t kMaxMtxEntries = 300'000;

}  // namespace

class SharedDataAllTest : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::vector<Unit> units_;
    std::vector<QJsonObject> source_, h5ad_back_, mtx_back_, csv_back_;

    QString out(size_t i, const QString& suffix) const {
        return dir_.filePath(QString("unit%1%2").arg(i).arg(suffix));
    }

    void fill_rows() {
        QTest::addColumn<int>("index");
        for (size_t i = 0; i < units_.size(); ++i)
            QTest::newRow(qPrintable(units_[i].relative)) << static_cast<int>(i);
    }

private slots:
    /// Reads and writes everything, then asks the oracle about all files in one Python process.
    void initTestCase() {
        std::vector<Listed> files = listed_files();
        QVERIFY2(files.size() >= 40, "SHA256SUMS not found or short");
        QSet<QString> seen;
        for (const Listed& file : files) {
            if (is_annotation(file.path)) continue;
            Unit unit;
            unit.path = shared_data(file.path);
            const QString name = QFileInfo(unit.path).fileName();
            const bool mtx_part = name.startsWith("matrix.mtx") || name.startsWith("barcodes.tsv") ||
                                  name.startsWith("genes.tsv") || name.startsWith("features.tsv");
            if (mtx_part) unit.path = QFileInfo(unit.path).absolutePath();
            if (seen.contains(unit.path)) continue;
            seen.insert(unit.path);
            unit.relative = QDir(shared_data()).relativeFilePath(unit.path);
            if (mtx_part) {
                unit.oracle = {"mtx", unit.path};
            } else if (name.endsWith(".h5ad")) {
                unit.oracle = {"h5ad", unit.path};
                unit.h5ad = true;
            } else if (name.endsWith(".h5")) {
                unit.oracle = {"10x-h5", unit.path};
            } else if (name.endsWith(".loom")) {
                unit.oracle = {"loom", unit.path};
            } else if (file.path == "bulk/batchqc_gse147507/counts.csv") {
                // The README: genes x samples, joined with its metadata.
                unit.sample_sheet = shared_data("bulk/batchqc_gse147507/metadata.csv");
                unit.oracle = {"table", unit.path, "genes-by-cells", unit.sample_sheet};
            } else {
                // harmonypy's PC tables: cells x PCs, no index column.
                unit.oracle = {"table", unit.path, "cells-by-genes"};
            }
            units_.push_back(std::move(unit));
        }
        QVERIFY(units_.size() >= 20);

        QFile listing(dir_.filePath("jobs.tsv"));
        QVERIFY(listing.open(QIODevice::WriteOnly));
        auto job = [&](const QStringList& fields) { listing.write((fields.join('\t') + '\n').toUtf8()); };
        for (size_t i = 0; i < units_.size(); ++i) {
            Unit& unit = units_[i];
            job(unit.oracle);
            try {
                ReadOptions options;
                options.sample_sheet = unit.sample_sheet.toStdString();
                unit.cohort = read_cohort(unit.path.toStdString(), options);
                write_cohort(*unit.cohort, out(i, ".h5ad").toStdString(), Format::H5ad);
                const Cohort& c = *unit.cohort;
                unit.write_text = c.X && c.n_obs() * c.n_vars() <= kMaxTextValues &&
                                  c.nnz() <= kMaxMtxEntries;
                if (unit.write_text) {
                    write_cohort(c, out(i, "_mtx/").toStdString(), Format::TenxMtx);
                    write_cohort(c, out(i, ".csv").toStdString(), Format::Csv);
                }
            } catch (const std::exception& error) {
                unit.read_error = QString::fromUtf8(error.what());
                unit.cohort.reset();
                unit.write_text = false;
            }
            // Always the same number of jobs per unit, so results line up even after an error.
            job({"h5ad", unit.cohort ? out(i, ".h5ad") : shared_data("h5ad/anndata_archives/v0.11.4/adata.h5ad")});
            if (unit.write_text) {
                job({"mtx", out(i, "_mtx")});
                job({"table", out(i, ".csv"), "cells-by-genes"});
            }
        }
        listing.close();
        QByteArray printed = run_python("oracle_cohort.py", {"--batch", listing.fileName()});
        QJsonArray all = QJsonDocument::fromJson(printed).array();
        qsizetype next = 0;
        for (const Unit& unit : units_) {
            source_.push_back(all[next++].toObject());
            h5ad_back_.push_back(all[next++].toObject());
            mtx_back_.push_back(unit.write_text ? all[next++].toObject() : QJsonObject());
            csv_back_.push_back(unit.write_text ? all[next++].toObject() : QJsonObject());
        }
        QCOMPARE(next, all.size());
    }

    void everyFileOpens_data() { fill_rows(); }

    void everyFileOpens() {
        QFETCH(int, index);
        const Unit& unit = units_[static_cast<size_t>(index)];
        QVERIFY(detect_format(unit.path.toStdString()) != Format::Unknown);
        QVERIFY2(unit.cohort.has_value(), qPrintable(unit.read_error));
        const Cohort& cohort = *unit.cohort;
        QVERIFY(cohort.n_obs() > 0);
        QVERIFY(cohort.n_vars() > 0);
        cohort.validate(unit.path.toStdString());
        if (!unit.sample_sheet.isEmpty()) QCOMPARE(cohort.obs.columns.size(), size_t{8});
    }

    void matchesOracle_data() { fill_rows(); }

    /// Shape, nnz, X checksum, names and every obs/var column the oracle sees. For text tables
    /// this also checks that the orientation was detected as the README describes the file.
    void matchesOracle() {
        QFETCH(int, index);
        const Unit& unit = units_[static_cast<size_t>(index)];
        QVERIFY2(unit.cohort.has_value(), qPrintable(unit.read_error));
        verify_against_oracle(*unit.cohort, source_[static_cast<size_t>(index)], unit.h5ad);
    }

    void roundTripH5ad_data() { fill_rows(); }

    /// Our .h5ad of each file, read by anndata 0.8, holds the same values we read.
    void roundTripH5ad() {
        QFETCH(int, index);
        const Unit& unit = units_[static_cast<size_t>(index)];
        QVERIFY2(unit.cohort.has_value(), qPrintable(unit.read_error));
        verify_against_oracle(*unit.cohort, h5ad_back_[static_cast<size_t>(index)], true);
    }

    void writersReadByScipyAndPandas_data() { fill_rows(); }

    /// Our MTX folder read by scipy.io.mmread, our CSV read by pandas; and our own reader finds
    /// the CSV's orientation (cells in rows, as we write it) without being told.
    void writersReadByScipyAndPandas() {
        QFETCH(int, index);
        const size_t i = static_cast<size_t>(index);
        const Unit& unit = units_[i];
        if (!unit.write_text) QSKIP("too large for the text writer check, or unreadable");
        verify_matrix_against_oracle(*unit.cohort, mtx_back_[i]);
        verify_matrix_against_oracle(*unit.cohort, csv_back_[i]);
        try {
            Cohort csv = read_cohort(out(i, ".csv").toStdString());
            QCOMPARE(csv.n_obs(), unit.cohort->n_obs());
            QCOMPARE(csv.n_vars(), unit.cohort->n_vars());
            Cohort mtx = read_cohort(out(i, "_mtx").toStdString());
            QCOMPARE(mtx.obs_names, unit.cohort->obs_names);
            QVERIFY(close(digest(*mtx.X).checksum, digest(*unit.cohort->X).checksum));
        } catch (const std::exception& error) {
            QFAIL(error.what());
        }
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
