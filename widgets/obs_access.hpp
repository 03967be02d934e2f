#pragma once
// Reading obs columns the way the widgets need them: as numbers, or as category codes + names
// (categorical, string and bool columns), and the usual names of QC metrics and batch keys.
#include <optional>
#include <vector>

#include <QString>
#include <QStringList>

#include "transcura/cohort.hpp"

namespace transcura::widgets {

struct Categories {
    std::vector<int32_t> codes;  // -1 = missing
    QStringList names;
};

/// Categorical, string and bool columns as codes; numeric columns with few distinct integer
/// values are not treated as categories. nullopt when the column has more than
/// `max_categories` distinct values or is numeric.
std::optional<Categories> as_categories(const Column& column, int max_categories = 2000);
/// as_categories without copying a categorical column's own codes (4 MB at 1M cells): codes()
/// are the column's, or those made for a string or bool column.
struct CategoryCodes {
    QStringList names;
    const std::vector<int32_t>& codes() const { return made ? *made : *stored; }

    const std::vector<int32_t>* stored = nullptr;
    std::optional<std::vector<int32_t>> made;
};
std::optional<CategoryCodes> category_codes(const Column& column, int max_categories = 2000);
/// Whether as_categories(column, max_categories) would give categories, without making them
/// (lists of groupable columns: as_categories copied every categorical column's codes, 4 MB
/// each at 1M cells, and coded every string column, only to be asked this).
bool has_categories(const Column& column, int max_categories = 2000);
/// Numeric columns as doubles (NaN = missing); empty for other types.
std::vector<double> as_numbers(const Column& column);
std::vector<float> as_floats(const Column& column);

/// The first of `names` present in `frame` (case-sensitive), or nullptr.
const Column* find_first(const DataFrame& frame, const QStringList& names);

/// Column names under which pipelines store the per-cell QC metrics.
QStringList total_counts_names();
QStringList genes_detected_names();
QStringList pct_mito_names();

/// A categorical column that looks like a batch (batch, sample, donor, ...), or "".
QString default_batch_key(const DataFrame& obs);
/// A categorical column that looks like a clustering or cell type (leiden, louvain, ...), or "".
QString default_label_key(const DataFrame& obs);

}  // namespace transcura::widgets
