#pragma once
// Shared by the batch-diagnostics tests: raw little-endian files exchanged with
// tests/scripts/oracle_batch.py, JSON arrays turned into vectors, and the pbmc3500 fixture.
#include <cstdint>
#include <cstring>
#include <vector>

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QTemporaryDir>

#include "test_support.hpp"
#include "transcura/cohort.hpp"
#include "transcura/normalize.hpp"
#include "transcura/pca.hpp"

namespace batch_test {

template <typename T, typename Allocator>
inline bool write_raw(const QString& path, const std::vector<T, Allocator>& values) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return false;
    const auto bytes = static_cast<qint64>(values.size() * sizeof(T));
    return file.write(reinterpret_cast<const char*>(values.data()), bytes) == bytes;
}

template <typename T>
inline std::vector<T> read_raw(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) return {};
    const QByteArray bytes = file.readAll();
    std::vector<T> values(static_cast<size_t>(bytes.size()) / sizeof(T));
    std::memcpy(values.data(), bytes.constData(), values.size() * sizeof(T));
    return values;
}

inline transcura::DenseD read_matrix(const QString& path, int64_t rows, int64_t cols) {
    transcura::DenseD m;
    m.values = read_raw<double>(path);
    if (static_cast<int64_t>(m.values.size()) == rows * cols) {
        m.n_rows = rows;
        m.n_cols = cols;
    }
    return m;
}

inline std::vector<double> doubles(const QJsonValue& value) {
    std::vector<double> out;
    for (const QJsonValue& v : value.toArray()) out.push_back(v.toDouble());
    return out;
}

/// The PCs the batch tests measure a simulated cohort on: counts normalised per cell and
/// log1p (normalize_total's defaults), then `n_pcs` PCs of all genes.
inline transcura::DenseD log_normalized_pcs(const transcura::Cohort& cohort, int n_pcs = 30) {
    transcura::NormalizeOptions normalize;
    normalize.log1p = true;
    transcura::PcaOptions pca;
    pca.n_components = n_pcs;
    return transcura::run_pca(transcura::normalize_total(*cohort.X, normalize).X, pca).scores;
}

/// harmonypy's pbmc3500 test data (real PBMC PCs: 3500 cells x 30 PCs, 3 donors, cell-type
/// labels) and R harmony's output on it, as oracle_batch.py prepare_pbmc writes them into a
/// temporary folder; simulated cohorts go to its sim/ subfolder (they reuse the oracle's file
/// names).
class Pbmc3500 {
public:
    static constexpr int64_t n_cells = 3500;
    static constexpr int64_t n_pcs = 30;

    transcura::DenseD pcs;         // pcs.bin
    transcura::DenseD harmonized;  // harmonized.bin: R harmony's corrected PCs
    std::vector<int32_t> donors;   // donor.bin: codes 0..2
    std::vector<int32_t> labels;   // labels.bin: cell-type codes

    /// Runs the oracle and reads its files; false when any is missing or mis-sized.
    bool load() {
        if (!dir_.isValid()) return false;
        const QJsonObject info =
            test_support::python_json("oracle_batch.py", {"prepare_pbmc", dir_.path()});
        if (info.value("n").toInt() != n_cells) return false;
        pcs = read_matrix(path("pcs.bin"), n_cells, n_pcs);
        harmonized = read_matrix(path("harmonized.bin"), n_cells, n_pcs);
        donors = read_raw<int32_t>(path("donor.bin"));
        labels = read_raw<int32_t>(path("labels.bin"));
        const auto n = static_cast<size_t>(n_cells);
        return pcs.n_rows == n_cells && harmonized.n_rows == n_cells && donors.size() == n &&
               labels.size() == n;
    }

    /// A file of the fixture folder (the oracle's pcs.bin, donor.bin... or one a test writes).
    QString path(const QString& name) const { return dir_.filePath(name); }
    /// The folder for simulated cohorts, and a file in it.
    QString sim_dir() const {
        QDir(dir_.path()).mkpath(QStringLiteral("sim"));
        return dir_.filePath(QStringLiteral("sim"));
    }
    QString sim(const QString& name) const { return QDir(sim_dir()).filePath(name); }

private:
    QTemporaryDir dir_;
};

}  // namespace batch_test
