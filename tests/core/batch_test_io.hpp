#pragma once
// Shared by the batch-diagnostics tests: raw little-endian files exchanged with
// tests/scripts/oracle_batch.py, and JSON arrays turned into vectors.
#include <cstdint>
#include <cstring>
#include <vector>

#include <QFile>
#include <QJsonArray>
#include <QJsonValue>
#include <QString>

#include "transcura/cohort.hpp"

namespace batch_test {

template <typename T>
inline bool write_raw(const QString& path, const std::vector<T>& values) {
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

}  // namespace batch_test
