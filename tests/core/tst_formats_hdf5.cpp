// Every HDF5-based file in shared/data (h5ad of four generations, 10x v2/v3, loom 2/3) read by
// us and by the Python oracle must agree; round trips through our writers must read back equal
// in anndata/h5py; files that anndata 0.8 itself writes must read correctly.
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "cohort_compare.hpp"
#include "test_support.hpp"
#include "transcura/errors.hpp"
#include "transcura/h5ad.hpp"
#include "transcura/io.hpp"
#include "transcura/loom.hpp"
#include "transcura/tenx.hpp"

using namespace transcura;
using namespace test_support;

namespace {

struct RealFile {
    const char* path;
    const char* oracle_format;
    const char* genome;
    Format format;
};

const RealFile kRealFiles[] = {
    {"h5ad/anndata_archives/v0.5.0/adata.h5ad", "h5ad", "", Format::H5ad},
    {"h5ad/anndata_archives/v0.7.0/adata.h5ad", "h5ad", "", Format::H5ad},
    {"h5ad/anndata_archives/v0.7.8/adata.h5ad", "h5ad", "", Format::H5ad},
    {"h5ad/anndata_archives/v0.11.4/adata.h5ad", "h5ad", "", Format::H5ad},
    {"h5ad/scanpy_pbmc68k_reduced/10x_pbmc68k_reduced.2025-11.h5ad", "h5ad", "", Format::H5ad},
    {"h5ad/scvi_pbmc_protein_v3/pbmc_10k_protein_v3.h5ad", "h5ad", "", Format::H5ad},
    {"h5ad/scvi_pbmc_protein_v3/pbmc_5k_protein_v3.h5ad", "h5ad", "", Format::H5ad},
    {"multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad", "h5ad", "", Format::H5ad},
    {"10x/scanpy_cellranger_1.2.0/filtered_gene_bc_matrices_h5.h5", "10x-h5", "", Format::TenxH5},
    {"10x/scanpy_cellranger_1.2.0/multiple_genomes.h5", "10x-h5", "another_genome", Format::TenxH5},
    {"10x/scanpy_cellranger_1.2.0/multiple_genomes.h5", "10x-h5", "hg19_chr21", Format::TenxH5},
    {"10x/scanpy_cellranger_3.0.0/filtered_feature_bc_matrix.h5", "10x-h5", "", Format::TenxH5},
    {"10x/rliger_kang2018_10xlike/ctrl.h5", "10x-h5", "", Format::TenxH5},
    {"10x/rliger_kang2018_10xlike/stim.h5", "10x-h5", "", Format::TenxH5},
    {"multibatch/kang2018_ifnb_2000/ctrl/filtered_feature_bc_matrix.h5", "10x-h5", "", Format::TenxH5},
    {"multibatch/kang2018_ifnb_2000/stim/filtered_feature_bc_matrix.h5", "10x-h5", "", Format::TenxH5},
    {"loom/scvi_Cortex.loompy2.loom", "loom", "", Format::Loom},
    {"multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.loom", "loom", "", Format::Loom},
};

QJsonObject oracle(const QString& format, const QString& path, const QString& genome = {}) {
    QStringList args{format, path};
    if (!genome.isEmpty()) args << genome;
    return python_json("oracle_cohort.py", args);
}

/// Approximate structural equality of two JSON values (numbers to 1e-6 relative).
bool json_equal(const QJsonValue& a, const QJsonValue& b, QString& where, const QString& path) {
    if (a.isDouble() && b.isDouble()) {
        if (close(a.toDouble(), b.toDouble())) return true;
        where = path;
        return false;
    }
    if (a.isBool() && b.isDouble()) return json_equal(QJsonValue(a.toBool() ? 1 : 0), b, where, path);
    if (a.isDouble() && b.isBool()) return json_equal(a, QJsonValue(b.toBool() ? 1 : 0), where, path);
    if (a.type() != b.type()) {
        where = path + " (type)";
        return false;
    }
    if (a.isArray()) {
        QJsonArray x = a.toArray(), y = b.toArray();
        if (x.size() != y.size()) {
            where = path + " (length)";
            return false;
        }
        for (qsizetype i = 0; i < x.size(); ++i)
            if (!json_equal(x[i], y[i], where, path + "/" + QString::number(i))) return false;
        return true;
    }
    if (a.isObject()) {
        QJsonObject x = a.toObject(), y = b.toObject();
        if (x.keys() != y.keys()) {
            where = path + " (keys " + x.keys().join(',') + " vs " + y.keys().join(',') + ")";
            return false;
        }
        for (const QString& key : x.keys())
            if (!json_equal(x[key], y[key], where, path + "/" + key)) return false;
        return true;
    }
    if (a != b) {
        where = path;
        return false;
    }
    return true;
}

QJsonObject uns_as_qt(const Cohort& cohort) {
    return QJsonDocument::fromJson(QByteArray::fromStdString(cohort.uns.dump())).object();
}

}  // namespace

class FormatsHdf5Test : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;
    std::vector<Cohort> cohorts_;           // ours, one per kRealFiles entry
    std::vector<QJsonObject> source_;       // oracle on the source file
    std::vector<QJsonObject> h5ad_back_;    // oracle on our .h5ad of it
    std::vector<QJsonObject> loom_back_;    // oracle on our .loom of it (empty when no X)

    QString h5ad_out(size_t i) const { return dir_.filePath(QString("round%1.h5ad").arg(i)); }
    QString loom_out(size_t i) const { return dir_.filePath(QString("round%1.loom").arg(i)); }

private slots:
    /// Reads and writes everything first, then asks the oracle about all files in one Python
    /// process (importing anndata costs seconds; once is enough).
    void initTestCase() {
        QVERIFY2(QFileInfo::exists(shared_data()),
                 qPrintable("shared data not found at " + shared_data()));
        QFile listing(dir_.filePath("jobs.tsv"));
        QVERIFY(listing.open(QIODevice::WriteOnly));
        size_t i = 0;
        for (const auto& file : kRealFiles) {
            ReadOptions options;
            options.genome = file.genome;
            cohorts_.push_back(read_cohort(shared_data(file.path).toStdString(), options));
            const Cohort& cohort = cohorts_.back();
            write_cohort(cohort, h5ad_out(i).toStdString(), Format::H5ad);
            listing.write(QString("%1\t%2\t%3\n").arg(file.oracle_format, shared_data(file.path),
                                                      file.genome).toUtf8());
            listing.write(QString("h5ad\t%1\t\n").arg(h5ad_out(i)).toUtf8());
            if (cohort.X) {
                write_cohort(cohort, loom_out(i).toStdString(), Format::Loom);
                listing.write(QString("loom\t%1\t\n").arg(loom_out(i)).toUtf8());
            }
            ++i;
        }
        listing.close();
        QByteArray out = run_python("oracle_cohort.py", {"--batch", listing.fileName()});
        QJsonArray all = QJsonDocument::fromJson(out).array();
        qsizetype next = 0;
        for (size_t k = 0; k < cohorts_.size(); ++k) {
            source_.push_back(all[next++].toObject());
            h5ad_back_.push_back(all[next++].toObject());
            loom_back_.push_back(cohorts_[k].X ? all[next++].toObject() : QJsonObject());
        }
        QCOMPARE(next, all.size());
    }

    void realFiles_data() {
        QTest::addColumn<int>("index");
        int i = 0;
        for (const auto& file : kRealFiles)
            QTest::newRow(qPrintable(QString("%1 %2").arg(file.path, file.genome))) << i++;
    }

    void realFiles() {
        QFETCH(int, index);
        const RealFile& file = kRealFiles[index];
        const QString path = shared_data(file.path);
        QCOMPARE(detect_format(path.toStdString()), file.format);
        const Cohort& cohort = cohorts_[static_cast<size_t>(index)];
        const QJsonObject& expected = source_[static_cast<size_t>(index)];
        verify_against_oracle(cohort, expected, QString(file.oracle_format) == "h5ad");
        if (QString(file.oracle_format) == "h5ad") {
            // Every uns entry we keep holds the values anndata shows.
            QJsonObject ours = uns_as_qt(cohort), theirs = expected["uns"].toObject();
            for (const QString& key : ours.keys()) {
                QVERIFY2(theirs.contains(key), qPrintable("uns key not in anndata: " + key));
                QString where;
                QVERIFY2(json_equal(ours[key], theirs[key], where, key),
                         qPrintable("uns differs at " + where));
            }
        }
    }

    void roundTripH5ad_data() { realFiles_data(); }

    /// Each readable file -> .h5ad -> anndata 0.8 reads the same values we hold.
    void roundTripH5ad() {
        QFETCH(int, index);
        const size_t i = static_cast<size_t>(index);
        const Cohort& cohort = cohorts_[i];
        verify_against_oracle(cohort, h5ad_back_[i], true);
        QString where;
        QVERIFY2(json_equal(QJsonValue(uns_as_qt(cohort)), h5ad_back_[i]["uns"], where, "uns"),
                 qPrintable("uns differs at " + where));
        // And our own reader agrees with itself.
        Cohort again = read_h5ad(h5ad_out(i).toStdString());
        verify_against_oracle(again, h5ad_back_[i], true);
    }

    void roundTripLoom_data() { realFiles_data(); }

    void roundTripLoom() {
        QFETCH(int, index);
        const size_t i = static_cast<size_t>(index);
        const Cohort& cohort = cohorts_[i];
        if (!cohort.X) QSKIP("no X to write as loom");
        const QString out = loom_out(i);
        QCOMPARE(detect_format(out.toStdString()), Format::Loom);
        Cohort back = read_loom(out.toStdString());
        QCOMPARE(back.n_obs(), cohort.n_obs());
        QCOMPARE(back.n_vars(), cohort.n_vars());
        MatrixDigest a = digest(*cohort.X), b = digest(*back.X);
        QCOMPARE(b.nnz, a.nnz);
        QVERIFY(close(a.checksum, b.checksum));
        const QJsonObject& expected = loom_back_[i];
        QCOMPARE(expected["nnz"].toInteger(), a.nnz);
        QVERIFY(close(expected["checksum"].toDouble(), a.checksum));
        QString problem = compare_names(cohort.obs_names, expected["obs_names"].toArray());
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void loompyValidatesOurLoom() {
        // loompy itself accepts what we write (validate=True checks the layout and shapes).
        QStringList paths;
        for (size_t i = 0; i < cohorts_.size(); ++i)
            if (cohorts_[i].X) paths << loom_out(i);
        ProcessResult validate = run(python(), QStringList{"-c",
            "import loompy,sys\n"
            "for p in sys.argv[1:]:\n"
            "    with loompy.connect(p, 'r', validate=True) as ds: assert ds.shape[0] > 0\n"} + paths);
        QVERIFY2(validate.exit_code == 0, validate.err.constData());
    }

    /// Files written by anndata 0.8 itself: dense/csr/csc X, categoricals with missing values,
    /// nullable ints and booleans, unicode strings, several obsm keys, layers, raw, nested uns.
    void anndataWrittenFixtures() {
        QTemporaryDir dir;
        QByteArray printed = run_python("make_anndata_fixtures.py", {dir.path()});
        const QStringList paths = QString::fromUtf8(printed).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(paths.size(), 3);
        // Ours of each fixture, written back out; then one Python process for all six files.
        std::vector<Cohort> cohorts;
        QFile listing(dir.filePath("jobs.tsv"));
        QVERIFY(listing.open(QIODevice::WriteOnly));
        for (const QString& path : paths) {
            cohorts.push_back(read_cohort(path.toStdString()));
            const QString out = dir.filePath("again_" + QFileInfo(path).fileName());
            write_cohort(cohorts.back(), out.toStdString(), Format::H5ad);
            listing.write(QString("h5ad\t%1\nh5ad\t%2\n").arg(path, out).toUtf8());
        }
        listing.close();
        const QJsonArray oracles =
            QJsonDocument::fromJson(run_python("oracle_cohort.py", {"--batch", listing.fileName()})).array();
        QCOMPARE(oracles.size(), 6);
        for (qsizetype k = 0; k < paths.size(); ++k) {
            const QString& path = paths[k];
            const Cohort& cohort = cohorts[static_cast<size_t>(k)];
            QJsonObject expected = oracles[2 * k].toObject();
            verify_against_oracle(cohort, expected, true);
            QString where;
            QVERIFY2(json_equal(QJsonValue(uns_as_qt(cohort)), expected["uns"], where, "uns"),
                     qPrintable(path + ": uns differs at " + where));
            const Column* grade = cohort.obs.find("ordered_grade");
            QVERIFY(grade && grade->ordered);
            const Column* nullable = cohort.obs.find("nullable_int");
            QVERIFY(nullable && nullable->type == ColumnType::Int && nullable->is_missing(0));
            // And back out: categoricals stay categorical, nullable stays nullable.
            verify_against_oracle(cohort, oracles[2 * k + 1].toObject(), true);
        }
    }

    /// Matrices large enough for the fast paths (values on a second thread, uncompressed datasets
    /// read with pread, wide indices narrowed block by block) read back bit for bit, as do the
    /// same matrices compressed (read through HDF5), and a truncated copy is a clean error.
    void largeMatrixReadPaths() {
        QTemporaryDir dir;
        Cohort cohort;
        CsrMatrix m;
        m.n_rows = 3000;
        m.n_cols = 2500;
        uint32_t state = 12345;
        for (int64_t r = 0; r < m.n_rows; ++r) {
            for (int32_t c = 0; c < m.n_cols; ++c) {
                state = state * 1664525u + 1013904223u;
                if ((state >> 24) < 110) {  // ~43% dense: 3.2 M stored values
                    m.indices.push_back(c);
                    m.data.push_back(static_cast<float>((state >> 8) % 1000) / 8.0f + 0.125f);
                }
            }
            m.indptr.push_back(static_cast<int64_t>(m.data.size()));
        }
        QVERIFY(m.nnz() > (int64_t{1} << 21));
        for (int64_t r = 0; r < m.n_rows; ++r) cohort.obs_names.push_back("c" + std::to_string(r));
        for (int64_t g = 0; g < m.n_cols; ++g) cohort.var_names.push_back("g" + std::to_string(g));
        cohort.X = Matrix(m);
        const QString plain = dir.filePath("plain.h5ad"), packed = dir.filePath("packed.h5ad");
        write_cohort(cohort, plain.toStdString(), Format::H5ad);
        {
            // Read at once, while the values written with O_DIRECT are not in the page cache:
            // the reader takes its own O_DIRECT path (unaligned ends included) and gets the same.
            Cohort fresh = read_cohort(plain.toStdString());
            QVERIFY(fresh.X && fresh.X->is_sparse());
            QVERIFY(fresh.X->sparse().indptr == m.indptr);
            QVERIFY(fresh.X->sparse().indices == m.indices);
            QVERIFY(fresh.X->sparse().data == m.data);
        }
        WriteOptions gzip;
        gzip.compression = 1;
        write_cohort(cohort, packed.toStdString(), Format::H5ad, gzip);
        // The same values with int64 indices and indptr, as 10x writes them (h5py rewrites them).
        const QString wide = dir.filePath("wide.h5ad");
        QVERIFY(QFile::copy(plain, wide));
        ProcessResult widen = run(python(), {"-c",
            "import h5py,sys,numpy as np\n"
            "with h5py.File(sys.argv[1], 'r+') as f:\n"
            "    for k in ('indices', 'indptr'):\n"
            "        v = f['X'][k][:].astype(np.int64); del f['X'][k]; f['X'][k] = v\n", wide});
        QVERIFY2(widen.exit_code == 0, widen.err.constData());
        // The uncompressed file's values and indices were written by File::close after HDF5 had
        // closed it (deferred, O_DIRECT where the file system allows): anndata 0.8 reads the
        // same matrix, and the datasets sit on 4 KiB boundaries as the direct writes need.
        ProcessResult anndata_view = run(python(), {"-c",
            "import anndata,h5py,sys,numpy as np\n"
            "a = anndata.read_h5ad(sys.argv[1]); X = a.X\n"
            "print(X.shape[0], X.shape[1], X.nnz, X.indices.dtype, X.indptr.dtype, "
            "repr(float(X.data.astype(np.float64).sum())), int(X.indices.astype(np.int64).sum()))\n"
            "with h5py.File(sys.argv[1], 'r') as f:\n"
            "    print(*(f['X'][k].id.get_offset() % 4096 for k in ('data', 'indices')))\n",
            plain});
        QVERIFY2(anndata_view.exit_code == 0, anndata_view.err.constData());
        double value_sum = 0;
        int64_t index_sum = 0;
        for (float v : m.data) value_sum += v;
        for (int32_t c : m.indices) index_sum += c;
        const QStringList lines = QString::fromUtf8(anndata_view.out).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        const QStringList fields = lines[0].split(' ');
        QCOMPARE(fields.size(), 7);
        QCOMPARE(fields[0].toLongLong(), m.n_rows);
        QCOMPARE(fields[1].toLongLong(), m.n_cols);
        QCOMPARE(fields[2].toLongLong(), m.nnz());
        QCOMPARE(fields[3], QString("int32"));
        QCOMPARE(fields[4], QString("int32"));
        QVERIFY(close(fields[5].toDouble(), value_sum));
        QCOMPARE(fields[6].toLongLong(), index_sum);
        QCOMPARE(lines[1], QString("0 0"));
        for (const QString& path : {plain, packed, wide}) {
            Cohort back = read_cohort(path.toStdString());
            QVERIFY(back.X && back.X->is_sparse());
            const CsrMatrix& b = back.X->sparse();
            QCOMPARE(b.n_rows, m.n_rows);
            QCOMPARE(b.n_cols, m.n_cols);
            QVERIFY2(b.indptr == m.indptr, qPrintable(path));
            QVERIFY2(b.indices == m.indices, qPrintable(path));
            QVERIFY2(b.data == m.data, qPrintable(path));
        }
        // Cut inside the values: the direct read comes up short and HDF5 reports the problem.
        QFile whole(plain);
        QVERIFY(whole.open(QIODevice::ReadOnly));
        const QByteArray bytes = whole.readAll();
        const QString cut = dir.filePath("cut.h5ad");
        QFile out(cut);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(bytes.left(bytes.size() * 9 / 10));
        out.close();
        QVERIFY_THROWS_EXCEPTION(FormatError, read_cohort(cut.toStdString()));
    }

    void writesAtomicallyAndProtectsSource() {
        QTemporaryDir dir;
        const QString source = dir.filePath("source.h5ad");
        QVERIFY(QFile::copy(shared_data("h5ad/anndata_archives/v0.7.8/adata.h5ad"), source));
        QFile::setPermissions(source, QFile::ReadOwner | QFile::WriteOwner);
        const QByteArray before = [&] { QFile f(source); f.open(QIODevice::ReadOnly); return f.readAll(); }();
        Cohort cohort = read_cohort(source.toStdString());
        // Writing onto the source itself is refused, even with overwrite.
        QVERIFY_THROWS_EXCEPTION(IoError, write_cohort(cohort, source.toStdString(), Format::H5ad));
        const QByteArray after = [&] { QFile f(source); f.open(QIODevice::ReadOnly); return f.readAll(); }();
        QCOMPARE(after, before);
        // Without overwrite an existing output is kept.
        const QString out = dir.filePath("out.h5ad");
        write_cohort(cohort, out.toStdString(), Format::H5ad);
        WriteOptions keep;
        keep.overwrite = false;
        QVERIFY_THROWS_EXCEPTION(IoError, write_cohort(cohort, out.toStdString(), Format::H5ad, keep));
        // No temporary is left behind.
        QStringList leftovers = QDir(dir.path()).entryList(QStringList{".transcura-tmp-*"},
                                                           QDir::AllEntries | QDir::Hidden);
        QVERIFY2(leftovers.isEmpty(), qPrintable(leftovers.join(',')));
    }

    void cliInfoJson() {
        const QString path = shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad");
        ProcessResult result = run(cli(), {"info", path, "--json"});
        QCOMPARE(result.exit_code, 0);
        QJsonParseError error;
        QJsonObject info = QJsonDocument::fromJson(result.out, &error).object();
        QCOMPARE(error.error, QJsonParseError::NoError);
        QCOMPARE(info["format"].toString(), QString("h5ad"));
        QCOMPARE(info["n_obs"].toInt(), 2000);
        QCOMPARE(info["n_vars"].toInt(), 9015);
        QCOMPARE(info["nnz"].toInteger(), 1129806);
        QCOMPARE(info["obs_columns"].toArray().size(), 3);
        QCOMPARE(info["obsm"].toArray().first().toString(), QString("X_pca"));
        QVERIFY(info.contains("var_columns"));
        ProcessResult text = run(cli(), {"info", path});
        QCOMPARE(text.exit_code, 0);
        QVERIFY(text.out.contains("stim"));
        QVERIFY(text.out.contains("categorical"));
    }

    /// `info --json` is exactly one JSON object with exactly the seven keys; `convert` writes
    /// every output format (by extension, by a trailing '/', by --to), and what it wrote reads
    /// back with the same shape and non-zeros. CSV orientation is detected and can be overridden.
    void cliConvertEveryFormat() {
        QTemporaryDir dir;
        const QString in = shared_data("10x/scanpy_cellranger_3.0.0/filtered_feature_bc_matrix.h5");
        auto info = [](const QString& path, const QStringList& extra = {}) {
            ProcessResult result = run(cli(), QStringList{"info", path, "--json"} + extra);
            if (result.exit_code != 0) qWarning().noquote() << result.err;
            QJsonParseError error;
            QJsonObject object = QJsonDocument::fromJson(result.out, &error).object();
            if (error.error != QJsonParseError::NoError || result.out.count('\n') != 1)
                qWarning().noquote() << "not one JSON object:" << result.out.left(200);
            return object;
        };
        const QJsonObject source = info(in);
        QCOMPARE(source.keys(), (QStringList{"format", "n_obs", "n_vars", "nnz", "obs_columns",
                                             "obsm", "var_columns"}));
        QCOMPARE(source["format"].toString(), QString("10x-h5"));
        QCOMPARE(source["nnz"].toInteger(), 23866);
        QCOMPARE(source["var_columns"].toArray().size(), 3);
        struct Output {
            QString path;
            QStringList extra;
            QString read_as;  // the path info opens
            QString format;
        };
        const std::vector<Output> outputs = {
            {dir.filePath("out.h5ad"), {}, dir.filePath("out.h5ad"), "h5ad"},
            {dir.filePath("out.loom"), {}, dir.filePath("out.loom"), "loom"},
            {dir.filePath("out.csv"), {}, dir.filePath("out.csv"), "csv"},
            {dir.filePath("out.tsv"), {}, dir.filePath("out.tsv"), "tsv"},
            {dir.filePath("out.csv.gz"), {}, dir.filePath("out.csv.gz"), "csv"},
            {dir.filePath("slash_mtx") + "/", {}, dir.filePath("slash_mtx"), "10x-mtx"},
            {dir.filePath("to_mtx"), {"--to", "mtx"}, dir.filePath("to_mtx"), "10x-mtx"},
            {dir.filePath("forced.dat"), {"--to", "h5ad"}, dir.filePath("forced.dat"), "h5ad"},
        };
        for (const Output& output : outputs) {
            ProcessResult result = run(cli(), QStringList{"convert", in, output.path} + output.extra);
            QVERIFY2(result.exit_code == 0, qPrintable(output.path + ": " + result.err));
            const QJsonObject back = info(output.read_as);
            QCOMPARE(back["format"].toString(), output.format);
            QCOMPARE(back["n_obs"].toInteger(), 1107);
            QCOMPARE(back["n_vars"].toInteger(), 507);
            QCOMPARE(back["nnz"].toInteger(), 23866);
        }
        QVERIFY(QFileInfo::exists(dir.filePath("slash_mtx/matrix.mtx.gz")));
        QVERIFY(QFileInfo::exists(dir.filePath("to_mtx/features.tsv.gz")));
        // The gzip output really is gzip.
        QFile gz(dir.filePath("out.csv.gz"));
        QVERIFY(gz.open(QIODevice::ReadOnly));
        QCOMPARE(gz.read(2), QByteArray("\x1f\x8b"));
        // Orientation: detected (cells in rows, as written), or forced the other way.
        QCOMPARE(info(dir.filePath("out.tsv"), {"--orientation", "genes-by-cells"})["n_obs"].toInteger(), 507);
        QCOMPARE(info(dir.filePath("out.tsv"), {"--orientation", "cells-by-genes"})["n_obs"].toInteger(), 1107);
        ProcessResult bad = run(cli(), {"info", dir.filePath("out.tsv"), "--orientation", "sideways"});
        QCOMPARE(bad.exit_code, 2);
    }

    /// The bulk table (genes x samples) with its sample sheet joined as obs, through the CLI;
    /// converted to .h5ad the sheet's columns reach anndata as obs columns.
    void cliBulkWithSampleSheet() {
        QTemporaryDir dir;
        const QString counts = shared_data("bulk/batchqc_gse147507/counts.csv");
        const QString sheet = shared_data("bulk/batchqc_gse147507/metadata.csv");
        ProcessResult result = run(cli(), {"info", counts, "--sample-sheet", sheet, "--json"});
        QCOMPARE(result.exit_code, 0);
        QJsonObject info = QJsonDocument::fromJson(result.out).object();
        QCOMPARE(info["format"].toString(), QString("csv"));
        QCOMPARE(info["n_obs"].toInteger(), 61);
        QCOMPARE(info["n_vars"].toInteger(), 21797);
        QCOMPARE(info["obs_columns"].toArray().size(), 8);
        QVERIFY(info["obs_columns"].toArray().contains(QJsonValue("Batch")));
        const QString out = dir.filePath("bulk.h5ad");
        result = run(cli(), {"convert", counts, out, "--sample-sheet", sheet});
        QVERIFY2(result.exit_code == 0, result.err.constData());
        QJsonObject back = oracle("h5ad", out);
        QCOMPARE(back["n_obs"].toInt(), 61);
        QCOMPARE(back["obs"].toObject()["Batch"].toObject()["kind"].toString(), QString("categorical"));
        QCOMPARE(back["obs"].toObject()["MOI"].toObject()["kind"].toString(), QString("float"));
        QCOMPARE(back["obs"].toObject()["Batch"].toObject()["categories"].toArray().size(), 10);
    }

    /// Orientation of dense tables from their labels: gene symbols (S100A8 is a gene, S3 a
    /// sample), 10x barcodes, a positional index; the shape decides only when labels do not.
    void textOrientation() {
        QTemporaryDir dir;
        struct Case {
            const char* name;
            QByteArray text;
            int64_t n_obs;
        };
        const std::vector<Case> cases = {
            {"genes_rows.csv", ",S1,S2,S3,S4,S5\nS100A8,1,2,3,4,5\nS100A9,1,2,3,4,5\nGAPDH,1,2,3,4,5\n", 5},
            {"barcode_rows.csv", ",CD3E,MS4A1,LYZ\nAAACCTGAGCATCATC-1,1,0,2\nAAACCTGCAGGCGATA-1,0,3,1\n"
                                 "AAACGGGTCTCGCTTG-1,2,2,2\nAAAGATGCATTGGCGC-1,0,0,1\nAAAGCAATCACCTCGT-1,1,1,1\n", 5},
            {"positional_rows.tsv", "\tTTR\tMALAT1\n0\t1\t2\n1\t3\t4\n2\t5\t6\n", 3},
            {"ensembl_columns.csv", ",ENSG00000163736,ENSG00000163737\nsample_1,1,2\nsample_2,3,4\n"
                                    "sample_3,5,6\n", 3},
            {"ambiguous.csv", ",x1,x2\nr1,1,2\nr2,3,4\nr3,5,6\n", 2},
        };
        for (const Case& c : cases) {
            const QString path = dir.filePath(c.name);
            QFile f(path);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(c.text);
            f.close();
            Cohort cohort = read_cohort(path.toStdString());
            QVERIFY2(cohort.n_obs() == c.n_obs, c.name);
        }
    }

    /// The format comes from the bytes: misleading or missing extensions do not matter.
    void formatFromContent() {
        QTemporaryDir dir;
        struct Case {
            QString source, name;
            Format expected;
        };
        const std::vector<Case> cases = {
            {"multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.loom", "looks_like.h5", Format::Loom},
            {"h5ad/anndata_archives/v0.7.8/adata.h5ad", "no_extension", Format::H5ad},
            {"10x/scanpy_cellranger_3.0.0/filtered_feature_bc_matrix.h5", "cells.h5ad", Format::TenxH5},
            {"10x/scanpy_cellranger_1.2.0/filtered_gene_bc_matrices_h5.h5", "v2.loom", Format::TenxH5},
            {"bulk/batchqc_gse147507/counts.csv", "counts.tsv", Format::Csv},
            {"batch_reference/harmonypy_pbmc3500/pbmc_3500_pcs.tsv.gz", "pcs.csv", Format::Tsv},
            {"batch_reference/harmonypy_pbmc3500/pbmc_3500_pcs.tsv.gz", "pcs", Format::Tsv},
        };
        for (const Case& c : cases) {
            const QString path = dir.filePath(c.name);
            QVERIFY(QFile::copy(shared_data(c.source), path));
            QCOMPARE(detect_format(path.toStdString()), c.expected);
            Cohort cohort = read_cohort(path.toStdString());
            QVERIFY(cohort.n_obs() > 0);
        }
        // An MTX folder is recognised by its matrix.mtx[.gz], whatever the folder is called.
        QCOMPARE(detect_format(shared_data("10x/seurat_cr3.0").toStdString()), Format::TenxMtx);
        QCOMPARE(detect_format(dir.path().toStdString()), Format::Unknown);
    }

    void cliConvertAndErrors() {
        QTemporaryDir dir;
        const QString in = shared_data("10x/scanpy_cellranger_3.0.0/filtered_feature_bc_matrix.h5");
        const QString out = dir.filePath("converted.h5ad");
        ProcessResult result = run(cli(), {"convert", in, out});
        QVERIFY2(result.exit_code == 0, result.err.constData());
        QJsonObject expected = oracle("h5ad", out);
        QCOMPARE(expected["n_obs"].toInt(), 1107);
        QCOMPARE(expected["nnz"].toInt(), 23866);
        // Existing output needs --overwrite.
        result = run(cli(), {"convert", in, out});
        QVERIFY(result.exit_code != 0);
        QVERIFY(result.err.contains("already exists"));
        QCOMPARE(result.err.count('\n'), 1);
        result = run(cli(), {"convert", in, out, "--overwrite"});
        QCOMPARE(result.exit_code, 0);
        // A missing input: one line naming the file.
        result = run(cli(), {"info", dir.filePath("nope.h5ad")});
        QVERIFY(result.exit_code != 0);
        QVERIFY(result.err.contains("nope.h5ad"));
        QCOMPARE(result.err.count('\n'), 1);
        // Unknown output extension is a usage error.
        result = run(cli(), {"convert", in, dir.filePath("out.xyz")});
        QCOMPARE(result.exit_code, 2);
    }
};

QTEST_APPLESS_MAIN(FormatsHdf5Test)
#include "tst_formats_hdf5.moc"
