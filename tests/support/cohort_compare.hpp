#pragma once
// Compares a Cohort with the JSON summary tests/scripts/oracle_cohort.py prints for a file.
#include <QJsonArray>
#include <QJsonObject>
#include <QSet>
#include <QString>
#include <QtTest/QtTest>

#include <cmath>

#include "transcura/cohort.hpp"

namespace test_support {

struct MatrixDigest {
    double checksum = 0;
    double sum = 0;
    int64_t nnz = 0;
};

inline MatrixDigest digest(const transcura::Matrix& matrix) {
    MatrixDigest d;
    auto add = [&](int64_t row, int64_t col, float value) {
        if (value == 0) return;
        d.checksum += static_cast<double>(value) * static_cast<double>((row * 31 + col) % 1000 + 1);
        d.sum += value;
        ++d.nnz;
    };
    if (matrix.is_sparse()) {
        const auto& m = matrix.sparse();
        for (int64_t r = 0; r < m.n_rows; ++r)
            for (int64_t i = m.indptr[r]; i < m.indptr[r + 1]; ++i) add(r, m.indices[i], m.data[i]);
    } else {
        const auto& m = matrix.dense();
        for (int64_t r = 0; r < m.n_rows; ++r)
            for (int64_t c = 0; c < m.n_cols; ++c) add(r, c, m(r, c));
    }
    return d;
}

inline bool close(double a, double b, double relative = 1e-6) {
    return std::abs(a - b) <= relative * std::max({1.0, std::abs(a), std::abs(b)});
}

inline QString kind_of(const transcura::Column& column) {
    switch (column.type) {
    case transcura::ColumnType::Float: return "float";
    case transcura::ColumnType::Int: return "int";
    case transcura::ColumnType::Bool: return "bool";
    case transcura::ColumnType::String: return "string";
    case transcura::ColumnType::Categorical: return "categorical";
    }
    return "?";
}

/// Empty string when equal, else what differs.
inline QString compare_column(const transcura::Column& column, const QJsonObject& expected) {
    const QString kind = expected["kind"].toString();
    const QString ours = kind_of(column);
    const bool kind_ok = kind == ours ||
                         (kind == "string-or-categorical" &&
                          (ours == "string" || ours == "categorical")) ||
                         // pandas has no nullable float: an int column with NaN reads as float.
                         (kind == "float" && ours == "int" && !column.missing.empty());
    if (!kind_ok) return QString("kind %1, expected %2").arg(ours, kind);
    const QJsonArray values = expected["values"].toArray();
    if (static_cast<size_t>(values.size()) != column.size())
        return QString("%1 values, expected %2").arg(column.size()).arg(values.size());
    for (qsizetype i = 0; i < values.size(); ++i) {
        const QJsonValue v = values[i];
        const size_t row = static_cast<size_t>(i);
        if (v.isNull()) {
            if (!column.is_missing(row)) return QString("row %1 should be missing").arg(i);
            continue;
        }
        if (column.is_missing(row)) return QString("row %1 is missing, expected a value").arg(i);
        if (v.isString()) {
            if (QString::fromStdString(column.text(row)) != v.toString())
                return QString("row %1 is '%2', expected '%3'")
                    .arg(i)
                    .arg(QString::fromStdString(column.text(row)), v.toString());
        } else if (v.isBool()) {
            if ((column.number(row) != 0) != v.toBool()) return QString("row %1 differs").arg(i);
        } else if (!close(column.number(row), v.toDouble())) {
            return QString("row %1 is %2, expected %3").arg(i).arg(column.number(row)).arg(v.toDouble());
        }
    }
    if (kind == "categorical") {
        QJsonArray categories = expected["categories"].toArray();
        if (static_cast<size_t>(categories.size()) != column.categories.size())
            return "category count differs";
        for (qsizetype i = 0; i < categories.size(); ++i)
            if (QString::fromStdString(column.categories[static_cast<size_t>(i)]) !=
                categories[i].toString())
                return QString("category %1 differs").arg(i);
    }
    return {};
}

inline QString compare_names(const std::vector<std::string>& ours, const QJsonArray& expected) {
    if (static_cast<size_t>(expected.size()) != ours.size())
        return QString("%1 names, expected %2").arg(ours.size()).arg(expected.size());
    for (qsizetype i = 0; i < expected.size(); ++i)
        if (QString::fromStdString(ours[static_cast<size_t>(i)]) != expected[i].toString())
            return QString("name %1 is '%2', expected '%3'")
                .arg(i)
                .arg(QString::fromStdString(ours[static_cast<size_t>(i)]), expected[i].toString());
    return {};
}

/// Shape, non-zeros, sum, checksum and names only: for outputs of writers (MTX, CSV) whose format
/// cannot carry the cohort's columns, obsm or layers.
inline void verify_matrix_against_oracle(const transcura::Cohort& cohort, const QJsonObject& oracle) {
    QVERIFY2(!oracle.isEmpty(), "oracle printed nothing");
    QCOMPARE(cohort.n_obs(), oracle["n_obs"].toInteger());
    QCOMPARE(cohort.n_vars(), oracle["n_vars"].toInteger());
    MatrixDigest d = cohort.X ? digest(*cohort.X) : MatrixDigest{};
    QCOMPARE(d.nnz, oracle["nnz"].toInteger());
    QVERIFY2(close(d.sum, oracle["sum"].toDouble()),
             qPrintable(QString("sum %1 vs %2").arg(d.sum).arg(oracle["sum"].toDouble())));
    QVERIFY2(close(d.checksum, oracle["checksum"].toDouble()),
             qPrintable(QString("checksum %1 vs %2").arg(d.checksum).arg(oracle["checksum"].toDouble())));
    QString problem = compare_names(cohort.obs_names, oracle["obs_names"].toArray());
    QVERIFY2(problem.isEmpty(), qPrintable("obs_names: " + problem));
    problem = compare_names(cohort.var_names, oracle["var_names"].toArray());
    QVERIFY2(problem.isEmpty(), qPrintable("var_names: " + problem));
}

/// Checks every field the oracle reported. `all_columns`: the oracle lists every column (h5ad),
/// so ours must not have extra ones.
inline void verify_against_oracle(const transcura::Cohort& cohort, const QJsonObject& oracle,
                                  bool all_columns) {
    QVERIFY2(!oracle.isEmpty(), "oracle printed nothing");
    QCOMPARE(cohort.n_obs(), oracle["n_obs"].toInteger());
    QCOMPARE(cohort.n_vars(), oracle["n_vars"].toInteger());
    MatrixDigest d = cohort.X ? digest(*cohort.X) : MatrixDigest{};
    QCOMPARE(d.nnz, oracle["nnz"].toInteger());
    QVERIFY2(close(d.sum, oracle["sum"].toDouble()),
             qPrintable(QString("sum %1 vs %2").arg(d.sum).arg(oracle["sum"].toDouble())));
    QVERIFY2(close(d.checksum, oracle["checksum"].toDouble()),
             qPrintable(QString("checksum %1 vs %2").arg(d.checksum).arg(oracle["checksum"].toDouble())));
    QString problem = compare_names(cohort.obs_names, oracle["obs_names"].toArray());
    QVERIFY2(problem.isEmpty(), qPrintable("obs_names: " + problem));
    problem = compare_names(cohort.var_names, oracle["var_names"].toArray());
    QVERIFY2(problem.isEmpty(), qPrintable("var_names: " + problem));

    for (const char* axis : {"obs", "var"}) {
        const transcura::DataFrame& frame = QString(axis) == "obs" ? cohort.obs : cohort.var;
        const QJsonObject columns = oracle[axis].toObject();
        for (auto it = columns.begin(); it != columns.end(); ++it) {
            const transcura::Column* column = frame.find(it.key().toStdString());
            QVERIFY2(column, qPrintable(QString("%1 column '%2' missing").arg(axis, it.key())));
            problem = compare_column(*column, it.value().toObject());
            QVERIFY2(problem.isEmpty(),
                     qPrintable(QString("%1/%2: %3").arg(axis, it.key(), problem)));
        }
        if (all_columns)
            QCOMPARE(static_cast<qsizetype>(frame.columns.size()), columns.size());
    }

    const QJsonObject obsm = oracle["obsm"].toObject();
    QCOMPARE(static_cast<qsizetype>(cohort.obsm.size()), obsm.size());
    for (auto it = obsm.begin(); it != obsm.end(); ++it) {
        auto found = cohort.obsm.find(it.key().toStdString());
        QVERIFY2(found != cohort.obsm.end(), qPrintable("obsm missing " + it.key()));
        const QJsonArray shape = it.value().toObject()["shape"].toArray();
        QCOMPARE(found->second.n_rows, shape[0].toInteger());
        QCOMPARE(found->second.n_cols, shape[1].toInteger());
        double sum = 0;
        for (double v : found->second.values) sum += v;
        QVERIFY2(close(sum, it.value().toObject()["sum"].toDouble(), 1e-5),
                 qPrintable("obsm sum differs for " + it.key()));
    }
    const QJsonObject layers = oracle["layers"].toObject();
    QCOMPARE(static_cast<qsizetype>(cohort.layers.size()), layers.size());
    for (auto it = layers.begin(); it != layers.end(); ++it) {
        auto found = cohort.layers.find(it.key().toStdString());
        QVERIFY2(found != cohort.layers.end(), qPrintable("layer missing " + it.key()));
        QVERIFY2(close(digest(found->second).checksum, it.value().toDouble()),
                 qPrintable("layer differs: " + it.key()));
    }
    if (oracle.contains("raw")) {
        QVERIFY2(cohort.raw.has_value(), "raw missing");
        QVERIFY(close(digest(cohort.raw->X).checksum, oracle["raw"].toObject()["checksum"].toDouble()));
    }
}

}  // namespace test_support
