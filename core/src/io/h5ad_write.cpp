// Writing .h5ad in the AnnData 0.8 on-disk spec (encoding-type/encoding-version on every
// element), so anndata >= 0.8 reads it back with equal values.
#include <algorithm>
#include <cmath>

#include "hdf5/h5.hpp"
#include "io/h5_matrix.hpp"
#include "transcura/h5ad.hpp"

namespace transcura {
namespace {

void tag(h5::Location& at, const std::string& type, const std::string& version) {
    at.set_attribute("encoding-type", type);
    at.set_attribute("encoding-version", version);
}

void write_string_array(h5::Group& parent, const std::string& name,
                        const std::vector<std::string>& values, int gzip) {
    h5::Dataset dataset = parent.write_strings(name, values, gzip);
    tag(dataset, "string-array", "0.2.0");
}

template <typename T>
void write_array(h5::Group& parent, const std::string& name, const std::vector<T>& values,
                 const std::vector<hsize_t>& shape, int gzip) {
    h5::Dataset dataset = parent.write(name, values, shape, gzip);
    tag(dataset, "array", "0.2.0");
}

void write_bool_array(h5::Group& parent, const std::string& name,
                      const std::vector<uint8_t>& values, int gzip) {
    h5::Dataset dataset = parent.write_bools(name, values, gzip);
    tag(dataset, "array", "0.2.0");
}

void write_column(h5::Group& frame, const Column& column, int gzip) {
    const bool has_mask =
        !column.missing.empty() &&
        std::any_of(column.missing.begin(), column.missing.end(), [](uint8_t m) { return m != 0; });
    switch (column.type) {
        case ColumnType::Float:
            write_array(frame, column.name, column.floats, {}, gzip);
            break;
        case ColumnType::Int:
            if (has_mask) {
                h5::Group group = frame.create_group(column.name);
                tag(group, "nullable-integer", "0.1.0");
                write_array(group, "values", column.ints, {}, gzip);
                write_bool_array(group, "mask", column.missing, gzip);
            } else {
                write_array(frame, column.name, column.ints, {}, gzip);
            }
            break;
        case ColumnType::Bool:
            if (has_mask) {
                h5::Group group = frame.create_group(column.name);
                tag(group, "nullable-boolean", "0.1.0");
                write_bool_array(group, "values", column.bools, gzip);
                write_bool_array(group, "mask", column.missing, gzip);
            } else {
                write_bool_array(frame, column.name, column.bools, gzip);
            }
            break;
        case ColumnType::String: {
            // The 0.8 string-array has no missing values: store missing as "".
            std::vector<std::string> values = column.strings;
            if (has_mask)
                for (size_t i = 0; i < values.size(); ++i)
                    if (column.missing[i]) values[i].clear();
            write_string_array(frame, column.name, values, gzip);
            break;
        }
        case ColumnType::Categorical: {
            h5::Group group = frame.create_group(column.name);
            tag(group, "categorical", "0.2.0");
            group.set_attribute("ordered", column.ordered);
            std::vector<int32_t> codes = column.codes;
            if (has_mask)
                for (size_t i = 0; i < codes.size(); ++i)
                    if (column.missing[i]) codes[i] = -1;
            // anndata writes the narrowest integer type; int8 keeps files small for the usual case.
            if (column.categories.size() < 127) {
                std::vector<int8_t> narrow(codes.begin(), codes.end());
                write_array(group, "codes", narrow, {}, gzip);
            } else {
                write_array(group, "codes", codes, {}, gzip);
            }
            write_string_array(group, "categories", column.categories, gzip);
            break;
        }
    }
}

void write_dataframe(h5::Group& parent, const std::string& name, const DataFrame& frame,
                     const std::vector<std::string>& index, int gzip) {
    h5::Group group = parent.create_group(name);
    tag(group, "dataframe", "0.2.0");
    group.set_attribute("_index", std::string("_index"));
    group.set_attribute("column-order", frame.names());
    write_string_array(group, "_index", index, gzip);
    for (const auto& column : frame.columns) {
        if (column.name == "_index") continue;  // reserved for the index itself
        write_column(group, column, gzip);
    }
}

h5::Group write_dict(h5::Group& parent, const std::string& name) {
    h5::Group group = parent.create_group(name);
    tag(group, "dict", "0.1.0");
    return group;
}

void write_dense_map(h5::Group& parent, const std::string& name,
                     const std::map<std::string, DenseD>& matrices, int gzip) {
    h5::Group group = write_dict(parent, name);
    for (const auto& [key, m] : matrices) {
        const std::vector<hsize_t> shape{static_cast<hsize_t>(m.n_rows),
                                         static_cast<hsize_t>(m.n_cols)};
        // The cohort outlives the file, so large uncompressed matrices can be deferred.
        h5::Dataset dataset = gzip > 0 ? group.write(key, m.values, shape, gzip)
                                       : group.write_deferred(key, m.values, shape);
        tag(dataset, "array", "0.2.0");
    }
}

/// The shape of a nested JSON array when it is rectangular and uniformly typed, else empty.
bool rectangular(const nlohmann::json& value, std::vector<hsize_t>& shape,
                 nlohmann::json::value_t& leaf_type, size_t depth = 0) {
    if (!value.is_array()) {
        auto type = value.type();
        if (type == nlohmann::json::value_t::number_unsigned)
            type = nlohmann::json::value_t::number_integer;
        if (leaf_type == nlohmann::json::value_t::null)
            leaf_type = type;
        else if (leaf_type != type) {
            // Mixed ints and floats store as floats.
            bool numeric = (leaf_type == nlohmann::json::value_t::number_integer ||
                            leaf_type == nlohmann::json::value_t::number_float) &&
                           (type == nlohmann::json::value_t::number_integer ||
                            type == nlohmann::json::value_t::number_float);
            if (!numeric) return false;
            leaf_type = nlohmann::json::value_t::number_float;
        }
        return depth == shape.size();
    }
    if (depth == shape.size())
        shape.push_back(value.size());
    else if (shape[depth] != value.size())
        return false;
    if (value.empty()) return depth + 1 == shape.size();
    for (const auto& item : value)
        if (!rectangular(item, shape, leaf_type, depth + 1)) return false;
    return true;
}

void flatten(const nlohmann::json& value, std::vector<const nlohmann::json*>& out) {
    if (value.is_array())
        for (const auto& item : value) flatten(item, out);
    else
        out.push_back(&value);
}

void write_uns_value(h5::Group& parent, const std::string& name, const nlohmann::json& value) {
    using vt = nlohmann::json::value_t;
    switch (value.type()) {
        case vt::object: {
            h5::Group group = write_dict(parent, name);
            for (const auto& [key, item] : value.items()) write_uns_value(group, key, item);
            return;
        }
        case vt::string: {
            h5::Dataset d = parent.write_string_scalar(name, value.get<std::string>());
            tag(d, "string", "0.2.0");
            return;
        }
        case vt::boolean: {
            h5::Dataset d = parent.write_bools(name, {static_cast<uint8_t>(value.get<bool>())});
            // A 1-element array keeps the bool type readable; anndata returns array([True]).
            tag(d, "array", "0.2.0");
            return;
        }
        case vt::number_integer:
        case vt::number_unsigned: {
            h5::Dataset d = parent.write_scalar<int64_t>(name, value.get<int64_t>());
            tag(d, "numeric-scalar", "0.2.0");
            return;
        }
        case vt::number_float: {
            h5::Dataset d = parent.write_scalar<double>(name, value.get<double>());
            tag(d, "numeric-scalar", "0.2.0");
            return;
        }
        case vt::array: {
            std::vector<hsize_t> shape;
            vt leaf = vt::null;
            if (value.empty()) {
                write_array(parent, name, std::vector<double>{}, {0}, 0);
                return;
            }
            if (rectangular(value, shape, leaf)) {
                std::vector<const nlohmann::json*> items;
                flatten(value, items);
                if (leaf == vt::string) {
                    if (shape.size() == 1) {
                        std::vector<std::string> strings;
                        for (auto* item : items) strings.push_back(item->get<std::string>());
                        write_string_array(parent, name, strings, 0);
                        return;
                    }
                } else if (leaf == vt::number_integer) {
                    std::vector<int64_t> numbers;
                    for (auto* item : items) numbers.push_back(item->get<int64_t>());
                    write_array(parent, name, numbers, shape, 0);
                    return;
                } else if (leaf == vt::number_float) {
                    std::vector<double> numbers;
                    for (auto* item : items) numbers.push_back(item->get<double>());
                    write_array(parent, name, numbers, shape, 0);
                    return;
                } else if (leaf == vt::boolean && shape.size() == 1) {
                    std::vector<uint8_t> bools;
                    for (auto* item : items) bools.push_back(item->get<bool>());
                    write_bool_array(parent, name, bools, 0);
                    return;
                }
            }
            // Irregular lists become a dict keyed by position, which anndata reads as a dict.
            h5::Group group = write_dict(parent, name);
            for (size_t i = 0; i < value.size(); ++i)
                write_uns_value(group, std::to_string(i), value[i]);
            return;
        }
        default:
            return;  // null and binary have no AnnData encoding
    }
}

}  // namespace

void write_h5ad(const Cohort& cohort, const std::filesystem::path& path,
                const WriteOptions& options) {
    cohort.validate(path.string());
    const int gzip = options.compression;
    h5::File file = h5::File::create(path);
    tag(file, "anndata", "0.1.0");
    if (cohort.X) write_matrix_element(file, "X", *cohort.X, gzip);
    write_dataframe(file, "obs", cohort.obs, cohort.obs_names, gzip);
    write_dataframe(file, "var", cohort.var, cohort.var_names, gzip);
    write_dense_map(file, "obsm", cohort.obsm, gzip);
    write_dense_map(file, "varm", cohort.varm, gzip);
    {
        h5::Group layers = write_dict(file, "layers");
        for (const auto& [key, m] : cohort.layers) write_matrix_element(layers, key, m, gzip);
    }
    {
        h5::Group obsp = write_dict(file, "obsp");
        for (const auto& [key, m] : cohort.obsp) write_csr_group(obsp, key, m, gzip);
    }
    write_dict(file, "varp");
    if (cohort.raw) {
        h5::Group raw = file.create_group("raw");
        tag(raw, "raw", "0.1.0");
        write_matrix_element(raw, "X", cohort.raw->X, gzip);
        write_dataframe(raw, "var", cohort.raw->var, cohort.raw->var_names, gzip);
        write_dict(raw, "varm");
    }
    {
        h5::Group uns = write_dict(file, "uns");
        if (cohort.uns.is_object())
            for (const auto& [key, item] : cohort.uns.items()) write_uns_value(uns, key, item);
    }
    file.close();
}

}  // namespace transcura
