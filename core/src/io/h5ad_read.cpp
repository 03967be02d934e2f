// Reading AnnData .h5ad files of every generation: pre-0.7 (compound obs/var/obsm datasets,
// categories in uns, raw.X/raw.var), 0.7 (dataframe groups, __categories), 0.8+ (encoding-type
// on every element, categorical groups, nullable columns) and files without X.
#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include "hdf5/h5.hpp"
#include "io/h5_matrix.hpp"
#include "transcura/h5ad.hpp"

namespace transcura {
namespace {

using h5::Dataset;
using h5::Group;
using h5::TypeClass;

std::string encoding_type(const h5::Location& at) {
    if (at.has_attribute("encoding-type")) return at.attribute_string("encoding-type");
    return {};
}

Column numeric_column(const Dataset& dataset, const std::string& name, size_t rows) {
    const auto type = dataset.type();
    if (dataset.shape().size() != 1 || static_cast<size_t>(dataset.size()) != rows)
        dataset.fail("column has " + std::to_string(dataset.size()) + " values, expected " +
                     std::to_string(rows));
    switch (type.cls) {
    case TypeClass::Bool: {
        auto values = dataset.read<uint8_t>();
        return Column::make_bool(name, std::move(values));
    }
    case TypeClass::Integer:
    case TypeClass::Enum: return Column::make_int(name, dataset.read<int64_t>());
    case TypeClass::Float: return Column::make_float(name, dataset.read<double>());
    case TypeClass::String: return Column::make_string(name, dataset.read_strings());
    default: dataset.fail("unsupported column element type");
    }
}

std::vector<int32_t> read_codes(const Dataset& codes, size_t rows, size_t n_categories) {
    auto values = codes.read<int64_t>();
    if (values.size() != rows)
        codes.fail("has " + std::to_string(values.size()) + " codes, expected " +
                   std::to_string(rows));
    std::vector<int32_t> out(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        if (values[i] >= static_cast<int64_t>(n_categories) || values[i] < -1)
            codes.fail("code " + std::to_string(values[i]) + " at row " + std::to_string(i) +
                       " is outside the " + std::to_string(n_categories) + " categories");
        out[i] = static_cast<int32_t>(values[i]);
    }
    return out;
}

std::vector<std::string> category_labels(const Dataset& categories) {
    if (categories.type().cls == TypeClass::String) return categories.read_strings();
    // Numeric categories (e.g. integer cluster ids) become their text.
    std::vector<std::string> labels;
    for (double v : categories.read<double>()) {
        if (v == std::floor(v) && std::abs(v) < 1e15)
            labels.push_back(std::to_string(static_cast<long long>(v)));
        else
            labels.push_back(std::to_string(v));
    }
    return labels;
}

Column read_column(const Group& frame, const std::string& name, size_t rows) {
    if (frame.is_group(name)) {
        Group element = frame.group(name);
        const std::string type = encoding_type(element);
        if (type == "categorical") {
            auto categories = category_labels(element.dataset("categories"));
            auto codes = read_codes(element.dataset("codes"), rows, categories.size());
            bool ordered = element.has_attribute("ordered") && element.attribute_bool("ordered");
            return Column::make_categorical(name, std::move(codes), std::move(categories), ordered);
        }
        if (type == "nullable-integer" || type == "nullable-boolean") {
            Column column = numeric_column(element.dataset("values"), name, rows);
            auto mask = element.dataset("mask").read<uint8_t>();
            if (mask.size() != rows) element.fail_child("mask", "wrong length");
            column.missing = std::move(mask);
            if (type == "nullable-boolean" && column.type == ColumnType::Int) {
                std::vector<uint8_t> bools(column.ints.begin(), column.ints.end());
                Column b = Column::make_bool(name, std::move(bools));
                b.missing = std::move(column.missing);
                return b;
            }
            return column;
        }
        element.fail("unsupported column encoding '" + type + "'");
    }
    Dataset dataset = frame.dataset(name);
    // anndata 0.7: categorical codes with the levels in __categories/<name>.
    if (dataset.has_attribute("categories") && frame.is_dataset("__categories/" + name)) {
        Dataset levels = frame.dataset("__categories/" + name);
        auto categories = category_labels(levels);
        auto codes = read_codes(dataset, rows, categories.size());
        bool ordered = levels.has_attribute("ordered") && levels.attribute_bool("ordered");
        return Column::make_categorical(name, std::move(codes), std::move(categories), ordered);
    }
    return numeric_column(dataset, name, rows);
}

/// A dataframe group (anndata >= 0.7). Returns the index and fills `frame`.
std::vector<std::string> read_dataframe(const Group& group, DataFrame& frame) {
    const std::string index_name =
        group.has_attribute("_index") ? group.attribute_string("_index") : "_index";
    if (!group.is_dataset(index_name))
        group.fail("dataframe has no index dataset '" + index_name + "'");
    Dataset index_dataset = group.dataset(index_name);
    std::vector<std::string> index = index_dataset.type().cls == TypeClass::String
                                         ? index_dataset.read_strings()
                                         : category_labels(index_dataset);
    std::vector<std::string> order;
    if (group.has_attribute("column-order")) order = group.attribute_strings("column-order");
    else
        for (const auto& child : group.children())
            if (child != index_name && child != "__categories") order.push_back(child);
    for (const auto& name : order) {
        if (!group.exists(name)) group.fail("column-order names '" + name + "' which is missing");
        frame.columns.push_back(read_column(group, name, index.size()));
    }
    return index;
}

/// Pre-0.7: obs/var as one compound dataset; categorical levels in uns/<col>_categories.
std::vector<std::string> read_legacy_dataframe(const Dataset& table, const Group& root,
                                               DataFrame& frame, std::set<std::string>& consumed) {
    std::vector<std::string> index;
    const auto members = table.member_names();
    for (const auto& member : members) {
        if (member == "index") {
            index = table.read_member_strings(member);
            continue;
        }
        const auto type = table.member_type(member);
        const std::string levels_path = "uns/" + member + "_categories";
        if (root.is_dataset(levels_path) &&
            (type.cls == TypeClass::Integer || type.cls == TypeClass::Enum)) {
            auto categories = category_labels(root.dataset(levels_path));
            auto raw_codes = table.read_member_numbers(member);
            std::vector<int32_t> codes;
            for (double c : raw_codes) {
                if (c >= static_cast<double>(categories.size()))
                    table.fail("column '" + member + "' has a code beyond its categories");
                codes.push_back(static_cast<int32_t>(c));
            }
            frame.columns.push_back(
                Column::make_categorical(member, std::move(codes), std::move(categories)));
            consumed.insert(member + "_categories");
            continue;
        }
        switch (type.cls) {
        case TypeClass::String:
            frame.columns.push_back(Column::make_string(member, table.read_member_strings(member)));
            break;
        case TypeClass::Float:
            frame.columns.push_back(Column::make_float(member, table.read_member_numbers(member)));
            break;
        case TypeClass::Integer: {
            auto values = table.read_member_numbers(member);
            frame.columns.push_back(
                Column::make_int(member, std::vector<int64_t>(values.begin(), values.end())));
            break;
        }
        case TypeClass::Bool:
        case TypeClass::Enum: {
            auto values = table.read_member_numbers(member);
            frame.columns.push_back(
                Column::make_bool(member, std::vector<uint8_t>(values.begin(), values.end())));
            break;
        }
        default: break;  // nested arrays inside obs are not something we can show
        }
    }
    if (index.empty() && table.size() > 0) table.fail("compound table has no 'index' member");
    return index;
}

DenseD read_dense_2d(const Dataset& dataset, int64_t expected_rows) {
    auto shape = dataset.shape();
    if (shape.size() == 1) shape.push_back(1);
    if (shape.size() != 2) dataset.fail("expected a 2-D array");
    if (static_cast<int64_t>(shape[0]) != expected_rows)
        dataset.fail("has " + std::to_string(shape[0]) + " rows, expected " +
                     std::to_string(expected_rows));
    DenseD m;
    m.n_rows = static_cast<int64_t>(shape[0]);
    m.n_cols = static_cast<int64_t>(shape[1]);
    m.values = dataset.read<double>();
    return m;
}

/// obsm/varm: dense arrays become matrices; sparse or dataframe members are skipped.
void read_matrix_map(const Group& root, const std::string& name, int64_t rows,
                     std::map<std::string, DenseD>& out) {
    if (root.is_dataset(name)) {
        // Pre-0.7: a compound dataset, one array member per key.
        Dataset table = root.dataset(name);
        if (table.type().cls != TypeClass::Compound) return;
        for (const auto& member : table.member_names()) {
            auto type = table.member_type(member);
            if (type.cls != TypeClass::Float && type.cls != TypeClass::Integer) continue;
            DenseD m;
            m.values = table.read_member_numbers(member);
            m.n_rows = table.size();
            if (m.n_rows != rows) table.fail("has " + std::to_string(m.n_rows) + " rows");
            m.n_cols = m.n_rows ? static_cast<int64_t>(m.values.size()) / m.n_rows : 0;
            out[member] = std::move(m);
        }
        return;
    }
    if (!root.is_group(name)) return;
    Group group = root.group(name);
    for (const auto& key : group.children()) {
        if (!group.is_dataset(key)) continue;
        Dataset dataset = group.dataset(key);
        auto cls = dataset.type().cls;
        if (cls != TypeClass::Float && cls != TypeClass::Integer) continue;
        out[key] = read_dense_2d(dataset, rows);
    }
}

nlohmann::json read_uns_element(const Group& parent, const std::string& name, bool legacy);

nlohmann::json dataset_to_json(const Dataset& dataset, bool legacy) {
    const auto type = dataset.type();
    const auto shape = dataset.shape();
    if (type.cls == TypeClass::Compound || type.cls == TypeClass::Other) return nullptr;
    if (dataset.size() > 1'000'000) return nullptr;  // large arrays do not belong in a JSON tree
    nlohmann::json flat = nlohmann::json::array();
    if (type.cls == TypeClass::String) {
        for (auto& s : dataset.read_strings()) flat.push_back(std::move(s));
    } else if (type.cls == TypeClass::Bool) {
        for (uint8_t b : dataset.read<uint8_t>()) flat.push_back(b != 0);
    } else if (type.cls == TypeClass::Integer || type.cls == TypeClass::Enum) {
        for (int64_t v : dataset.read<int64_t>()) flat.push_back(v);
    } else {
        for (double v : dataset.read<double>()) flat.push_back(v);
    }
    if (shape.empty()) return flat.empty() ? nlohmann::json() : flat[0];
    // Pre-0.7 files stored string scalars as 1-element arrays; anndata unwraps them.
    if (legacy && shape.size() == 1 && shape[0] == 1 && flat[0].is_string()) return flat[0];
    if (shape.size() == 1) return flat;
    // Row-major nesting for 2-D and higher.
    size_t inner = 1;
    for (size_t d = 1; d < shape.size(); ++d) inner *= shape[d];
    std::function<nlohmann::json(size_t, size_t)> nest = [&](size_t dim, size_t offset) {
        nlohmann::json out = nlohmann::json::array();
        size_t stride = 1;
        for (size_t d = dim + 1; d < shape.size(); ++d) stride *= shape[d];
        for (hsize_t i = 0; i < shape[dim]; ++i) {
            if (dim + 1 == shape.size()) out.push_back(flat[offset + i]);
            else out.push_back(nest(dim + 1, offset + i * stride));
        }
        return out;
    };
    (void)inner;
    return nest(0, 0);
}

nlohmann::json read_uns_group(const Group& group, bool legacy) {
    const std::string type = encoding_type(group);
    if (type == "categorical") {
        auto categories = category_labels(group.dataset("categories"));
        auto codes = group.dataset("codes").read<int64_t>();
        nlohmann::json out = nlohmann::json::array();
        for (int64_t c : codes)
            out.push_back(c >= 0 && c < static_cast<int64_t>(categories.size())
                              ? nlohmann::json(categories[static_cast<size_t>(c)])
                              : nlohmann::json());
        return out;
    }
    if (type == "csr_matrix" || type == "csc_matrix" || type == "dataframe" ||
        group.has_attribute("h5sparse_format"))
        return nullptr;  // matrices and frames in uns are not represented in the JSON tree
    nlohmann::json out = nlohmann::json::object();
    for (const auto& child : group.children()) {
        nlohmann::json value = read_uns_element(group, child, legacy);
        if (!value.is_null()) out[child] = std::move(value);
    }
    return out;
}

nlohmann::json read_uns_element(const Group& parent, const std::string& name, bool legacy) {
    if (parent.is_group(name)) return read_uns_group(parent.group(name), legacy);
    if (parent.is_dataset(name)) return dataset_to_json(parent.dataset(name), legacy);
    return nullptr;
}

void read_legacy_raw(const Group& root, Cohort& cohort, std::set<std::string>& consumed) {
    if (!root.exists("raw.X")) return;
    RawData raw;
    raw.X = read_matrix_element(root, "raw.X");
    if (root.is_dataset("raw.var")) {
        raw.var_names = read_legacy_dataframe(root.dataset("raw.var"), root, raw.var, consumed);
    }
    if (raw.var_names.size() != static_cast<size_t>(raw.X.n_cols()))
        root.fail_child("raw.var", "has " + std::to_string(raw.var_names.size()) +
                                       " names but raw.X has " + std::to_string(raw.X.n_cols()) +
                                       " columns");
    cohort.raw = std::move(raw);
}

}  // namespace

Cohort read_h5ad(const std::filesystem::path& path, const ReadOptions& options) {
    h5::File file = h5::File::open_read_only(path);
    Cohort cohort;
    cohort.source_path = path.string();
    cohort.source_format = "h5ad";
    std::set<std::string> consumed_uns;

    const bool legacy = file.is_dataset("obs");
    if (legacy) {
        cohort.obs_names = read_legacy_dataframe(file.dataset("obs"), file, cohort.obs, consumed_uns);
        if (file.is_dataset("var"))
            cohort.var_names =
                read_legacy_dataframe(file.dataset("var"), file, cohort.var, consumed_uns);
    } else {
        if (!file.is_group("obs")) file.fail("no 'obs' found: not an AnnData file");
        if (!file.is_group("var")) file.fail("no 'var' found: not an AnnData file");
        cohort.obs_names = read_dataframe(file.group("obs"), cohort.obs);
        cohort.var_names = read_dataframe(file.group("var"), cohort.var);
    }

    if (file.exists("X")) {
        cohort.X = read_matrix_element(file, "X");
        if (cohort.X->n_rows() != cohort.n_obs() || cohort.X->n_cols() != cohort.n_vars())
            file.fail_child("X", "shape (" + std::to_string(cohort.X->n_rows()) + ", " +
                                     std::to_string(cohort.X->n_cols()) + ") does not match " +
                                     std::to_string(cohort.n_obs()) + " obs x " +
                                     std::to_string(cohort.n_vars()) + " var");
    }

    read_matrix_map(file, "obsm", cohort.n_obs(), cohort.obsm);
    read_matrix_map(file, "varm", cohort.n_vars(), cohort.varm);

    if (file.is_group("layers")) {
        Group layers = file.group("layers");
        for (const auto& key : layers.children()) {
            Matrix layer = read_matrix_element(layers, key);
            if (layer.n_rows() != cohort.n_obs() || layer.n_cols() != cohort.n_vars())
                layers.fail_child(key, "shape does not match X");
            cohort.layers[key] = std::move(layer);
        }
    }
    if (file.is_group("obsp")) {
        Group obsp = file.group("obsp");
        for (const auto& key : obsp.children()) {
            Matrix m = read_matrix_element(obsp, key);
            if (m.n_rows() != cohort.n_obs() || m.n_cols() != cohort.n_obs())
                obsp.fail_child(key, "is not n_obs x n_obs");
            cohort.obsp[key] = m.to_csr();
        }
    }

    if (options.read_raw) {
        if (legacy) {
            read_legacy_raw(file, cohort, consumed_uns);
        } else if (file.is_group("raw")) {
            Group raw_group = file.group("raw");
            RawData raw;
            raw.X = read_matrix_element(raw_group, "X");
            if (raw_group.is_group("var")) raw.var_names = read_dataframe(raw_group.group("var"), raw.var);
            if (raw.X.n_rows() != cohort.n_obs())
                raw_group.fail_child("X", "row count does not match n_obs");
            if (raw.var_names.size() != static_cast<size_t>(raw.X.n_cols()))
                raw_group.fail_child("var", "name count does not match raw/X columns");
            cohort.raw = std::move(raw);
        }
    }

    if (file.is_group("uns")) {
        Group uns = file.group("uns");
        for (const auto& key : uns.children()) {
            if (consumed_uns.count(key)) continue;
            nlohmann::json value = read_uns_element(uns, key, legacy);
            if (!value.is_null()) cohort.uns[key] = std::move(value);
        }
    }

    cohort.validate(path.string());
    return cohort;
}

}  // namespace transcura
