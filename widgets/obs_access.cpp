#include "obs_access.hpp"

#include <cmath>
#include <limits>
#include <string_view>
#include <unordered_set>

namespace transcura::widgets {

std::optional<Categories> as_categories(const Column& column, int max_categories) {
    Categories result;
    switch (column.type) {
        case ColumnType::Categorical:
            if (static_cast<int>(column.categories.size()) > max_categories) return std::nullopt;
            result.codes = column.codes;
            for (const std::string& c : column.categories)
                result.names << QString::fromStdString(c);
            return result;
        case ColumnType::Bool:
            result.names = QStringList{QStringLiteral("False"), QStringLiteral("True")};
            result.codes.resize(column.size());
            for (size_t i = 0; i < column.size(); ++i)
                result.codes[i] = column.is_missing(i) ? -1 : (column.bools[i] ? 1 : 0);
            return result;
        case ColumnType::String: {
            Column categorical = Column::categorize(column.name, column.strings);
            if (static_cast<int>(categorical.categories.size()) > max_categories)
                return std::nullopt;
            result.codes = categorical.codes;
            for (size_t i = 0; i < column.size(); ++i)
                if (column.is_missing(i)) result.codes[i] = -1;
            for (const std::string& c : categorical.categories)
                result.names << QString::fromStdString(c);
            return result;
        }
        default:
            return std::nullopt;
    }
}

std::optional<CategoryCodes> category_codes(const Column& column, int max_categories) {
    CategoryCodes result;
    if (column.type == ColumnType::Categorical) {
        if (static_cast<int>(column.categories.size()) > max_categories) return std::nullopt;
        result.stored = &column.codes;
        for (const std::string& c : column.categories) result.names << QString::fromStdString(c);
        return result;
    }
    std::optional<Categories> made = as_categories(column, max_categories);
    if (!made) return std::nullopt;
    result.names = std::move(made->names);
    result.made = std::move(made->codes);
    return result;
}

bool has_categories(const Column& column, int max_categories) {
    switch (column.type) {
        case ColumnType::Categorical:
            return static_cast<int>(column.categories.size()) <= max_categories;
        case ColumnType::Bool:
            return max_categories >= 2;
        case ColumnType::String: {
            // As Column::categorize counts them ("" is missing), stopping past the limit.
            std::unordered_set<std::string_view> distinct;
            for (const std::string& value : column.strings)
                if (!value.empty() && distinct.insert(value).second &&
                    static_cast<int>(distinct.size()) > max_categories)
                    return false;
            return true;
        }
        default:
            return false;
    }
}

std::vector<double> as_numbers(const Column& column) {
    if (!column.is_numeric()) return {};
    // Float columns hold what number() gives (NaN = missing): one copy, not a call per value.
    if (column.type == ColumnType::Float && column.missing.empty()) return column.floats;
    std::vector<double> values(column.size());
    for (size_t i = 0; i < values.size(); ++i) values[i] = column.number(i);
    return values;
}

std::vector<float> as_floats(const Column& column) {
    if (!column.is_numeric()) return {};
    std::vector<float> values(column.size());
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<float>(column.number(i));
    return values;
}

const Column* find_first(const DataFrame& frame, const QStringList& names) {
    for (const QString& name : names)
        if (const Column* c = frame.find(name.toStdString())) return c;
    return nullptr;
}

QStringList total_counts_names() {
    return {QStringLiteral("total_counts"), QStringLiteral("n_counts"),
            QStringLiteral("nCount_RNA"), QStringLiteral("nUMI")};
}

QStringList genes_detected_names() {
    return {QStringLiteral("n_genes_by_counts"), QStringLiteral("n_genes"),
            QStringLiteral("nFeature_RNA"), QStringLiteral("nGene")};
}

QStringList pct_mito_names() {
    return {QStringLiteral("pct_counts_mt"), QStringLiteral("percent_mito"),
            QStringLiteral("percent.mt"), QStringLiteral("pct_counts_mito")};
}

namespace {

QString first_categorical(const DataFrame& obs, const QStringList& names) {
    for (const QString& name : names) {
        const Column* c = obs.find(name.toStdString());
        if (!c) continue;
        if (c->type == ColumnType::Categorical || c->type == ColumnType::String ||
            c->type == ColumnType::Bool)
            return name;
    }
    return {};
}

}  // namespace

QString default_batch_key(const DataFrame& obs) {
    return first_categorical(
        obs, {QStringLiteral("batch"), QStringLiteral("sample"), QStringLiteral("donor"),
              QStringLiteral("stim"), QStringLiteral("orig.ident"), QStringLiteral("library_id"),
              QStringLiteral("batch_key"), QStringLiteral("patient")});
}

QString default_label_key(const DataFrame& obs) {
    return first_categorical(
        obs, {QStringLiteral("leiden"), QStringLiteral("louvain"), QStringLiteral("cell_type"),
              QStringLiteral("celltype"), QStringLiteral("bulk_labels"), QStringLiteral("cluster"),
              QStringLiteral("seurat_clusters"), QStringLiteral("ClusterID")});
}

}  // namespace transcura::widgets
