#pragma once
// Helpers shared by the export tests (tst_export.cpp, tst_export_formats.cpp): running the CLI,
// reading files and the oracle checks of tests/scripts/check_export.py.
#include <QJsonArray>
#include <QtTest/QtTest>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "test_support.hpp"
#include "transcura/export.hpp"

namespace export_test {

namespace fs = std::filesystem;
using nlohmann::json;

inline const QString kKang = "multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad";
inline const QString kPbmc = "h5ad/scanpy_pbmc68k_reduced/10x_pbmc68k_reduced.2025-11.h5ad";

inline const char* kKangRecipe = R"({"steps": [
  {"type": "threshold", "column": "n_genes_by_counts", "min": 400},
  {"type": "threshold", "column": "pct_counts_mt", "max": 4},
  {"type": "genes", "min_cells": 10}
]})";

inline test_support::ProcessResult cli(QStringList args) {
    return test_support::run(test_support::cli(), args << "--quiet");
}

inline std::string slurp(const QString& path) {
    std::ifstream in(path.toStdString(), std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline json read_json(const QString& path) {
    return json::parse(slurp(path));
}

inline QString write_text(const QTemporaryDir& dir, const QString& name, const std::string& text) {
    const QString path = dir.filePath(name);
    std::ofstream(path.toStdString(), std::ios::binary) << text;
    return path;
}

inline std::set<std::string> entries(const QString& dir) {
    std::set<std::string> names;
    std::error_code error;
    for (const auto& e : fs::directory_iterator(dir.toStdString(), error))
        names.insert(e.path().filename().string());
    return names;
}

inline QJsonObject verify(const QString& outdir, const QString& group_by = {}) {
    QStringList args{"verify", outdir};
    if (!group_by.isEmpty()) args << "--group-by" << group_by;
    return test_support::python_json("check_export.py", args);
}

inline std::set<std::string> strings(const QJsonArray& array) {
    std::set<std::string> out;
    for (const auto& v : array) out.insert(v.toString().toStdString());
    return out;
}

inline bool contains(const QJsonArray& array, const QString& value) {
    for (const auto& v : array)
        if (v.toString() == value) return true;
    return false;
}

}  // namespace export_test
