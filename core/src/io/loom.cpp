// Loom (loompy 2 and 3): /matrix genes x cells (dense, chunked), /row_attrs (genes),
// /col_attrs (cells), /layers. Spec 2 stores (n, 1) attributes; spec 3 allows (n, k) ones.
#include <algorithm>
#include <cmath>
#include <set>

#include "hdf5/h5.hpp"
#include "transcura/loom.hpp"

namespace transcura {
namespace {

constexpr hsize_t kRowBlock = 512;  // genes read or written per block

const char* const kGeneNameAttrs[] = {"Gene", "gene_names", "var_names", "Accession"};
const char* const kCellNameAttrs[] = {"CellID", "obs_names", "cell_names", "CellId"};

/// Strings with few distinct values become categorical (loom has no categorical type).
Column string_column(const std::string& name, std::vector<std::string> values) {
    std::set<std::string> distinct(values.begin(), values.end());
    if (!values.empty() && distinct.size() <= 1000 && distinct.size() * 2 <= values.size())
        return Column::categorize(name, values, false);
    return Column::make_string(name, std::move(values));
}

/// Reads every attribute in `group`: names into `names`, 1-column ones into `frame`,
/// multi-column numeric ones into `matrices`.
void read_attributes(const h5::Group& group, int64_t rows, const char* const* name_keys,
                     size_t n_name_keys, std::vector<std::string>& names, DataFrame& frame,
                     std::map<std::string, DenseD>& matrices) {
    std::string name_key;
    for (size_t i = 0; i < n_name_keys && name_key.empty(); ++i)
        if (group.is_dataset(name_keys[i])) name_key = name_keys[i];
    for (const auto& key : group.children()) {
        if (!group.is_dataset(key)) continue;
        h5::Dataset dataset = group.dataset(key);
        auto shape = dataset.shape();
        if (shape.empty() || static_cast<int64_t>(shape[0]) != rows)
            dataset.fail("has " + std::to_string(shape.empty() ? 0 : shape[0]) +
                         " entries, expected " + std::to_string(rows));
        const size_t width = shape.size() >= 2 ? static_cast<size_t>(shape[1]) : 1;
        const auto type = dataset.type();
        if (type.cls == h5::TypeClass::String) {
            if (width != 1) continue;  // multi-column strings have no place in the model
            auto values = dataset.read_strings();
            if (key == name_key) names = std::move(values);
            else frame.set(string_column(key, std::move(values)));
            continue;
        }
        if (type.cls != h5::TypeClass::Float && type.cls != h5::TypeClass::Integer &&
            type.cls != h5::TypeClass::Bool)
            continue;
        if (width != 1) {
            DenseD m;
            m.n_rows = rows;
            m.n_cols = static_cast<int64_t>(width);
            m.values = dataset.read<double>();
            matrices[key] = std::move(m);
        } else if (type.cls == h5::TypeClass::Float) {
            frame.set(Column::make_float(key, dataset.read<double>()));
        } else if (type.cls == h5::TypeClass::Bool) {
            frame.set(Column::make_bool(key, dataset.read<uint8_t>()));
        } else {
            frame.set(Column::make_int(key, dataset.read<int64_t>()));
        }
    }
    if (names.empty()) {
        names.resize(static_cast<size_t>(rows));
        for (int64_t i = 0; i < rows; ++i) names[static_cast<size_t>(i)] = std::to_string(i);
    }
}

/// A genes x cells dense dataset read in blocks of genes into a cells x genes CSR.
CsrMatrix read_genes_by_cells(const h5::Dataset& matrix, int64_t n_genes, int64_t n_cells,
                              bool require_counts) {
    CsrMatrix by_gene;  // genes x cells, transposed at the end
    by_gene.n_rows = n_genes;
    by_gene.n_cols = n_cells;
    by_gene.indptr.assign(1, 0);
    for (hsize_t start = 0; start < static_cast<hsize_t>(n_genes); start += kRowBlock) {
        hsize_t count = std::min<hsize_t>(kRowBlock, static_cast<hsize_t>(n_genes) - start);
        auto block = matrix.read_rows<float>(start, count);
        for (hsize_t g = 0; g < count; ++g) {
            const float* row = block.data() + g * static_cast<hsize_t>(n_cells);
            for (int64_t c = 0; c < n_cells; ++c) {
                float v = row[c];
                if (v == 0) continue;
                if (require_counts && (!std::isfinite(v) || v < 0))
                    matrix.fail("value " + std::to_string(v) + " at gene " +
                                std::to_string(start + g) + ", cell " + std::to_string(c) +
                                " is not a count");
                by_gene.indices.push_back(static_cast<int32_t>(c));
                by_gene.data.push_back(v);
            }
            by_gene.indptr.push_back(static_cast<int64_t>(by_gene.data.size()));
        }
    }
    return by_gene.transposed();
}

void write_column_attribute(h5::Group& group, const Column& column) {
    switch (column.type) {
    case ColumnType::Float: group.write(column.name, column.floats); break;
    case ColumnType::Int:
        if (column.missing.empty()) {
            group.write(column.name, column.ints);
        } else {
            std::vector<double> values(column.size());
            for (size_t i = 0; i < values.size(); ++i) values[i] = column.number(i);
            group.write(column.name, values);
        }
        break;
    case ColumnType::Bool: group.write(column.name, column.bools); break;
    case ColumnType::String:
    case ColumnType::Categorical: {
        std::vector<std::string> values(column.size());
        for (size_t i = 0; i < values.size(); ++i) values[i] = column.text(i);
        group.write_strings(column.name, values);
        break;
    }
    }
}

}  // namespace

Cohort read_loom(const std::filesystem::path& path, const ReadOptions&) {
    h5::File file = h5::File::open_read_only(path);
    if (!file.is_dataset("matrix")) file.fail("no /matrix dataset: not a loom file");
    h5::Dataset matrix = file.dataset("matrix");
    auto shape = matrix.shape();
    if (shape.size() != 2) matrix.fail("is not 2-D");
    const int64_t n_genes = static_cast<int64_t>(shape[0]);
    const int64_t n_cells = static_cast<int64_t>(shape[1]);
    if (n_cells > INT32_MAX) matrix.fail("too many cells");
    Cohort cohort;
    cohort.source_path = path.string();
    cohort.source_format = "loom";
    if (file.is_group("row_attrs"))
        read_attributes(file.group("row_attrs"), n_genes, kGeneNameAttrs, std::size(kGeneNameAttrs),
                        cohort.var_names, cohort.var, cohort.varm);
    if (file.is_group("col_attrs"))
        read_attributes(file.group("col_attrs"), n_cells, kCellNameAttrs, std::size(kCellNameAttrs),
                        cohort.obs_names, cohort.obs, cohort.obsm);
    if (cohort.var_names.empty()) {
        for (int64_t i = 0; i < n_genes; ++i) cohort.var_names.push_back(std::to_string(i));
    }
    if (cohort.obs_names.empty()) {
        for (int64_t i = 0; i < n_cells; ++i) cohort.obs_names.push_back(std::to_string(i));
    }
    Cohort::make_unique(cohort.var_names);
    cohort.X = Matrix(read_genes_by_cells(matrix, n_genes, n_cells, false));
    if (file.is_group("layers")) {
        h5::Group layers = file.group("layers");
        for (const auto& key : layers.children()) {
            if (!layers.is_dataset(key)) continue;
            h5::Dataset layer = layers.dataset(key);
            if (layer.shape() != shape) layer.fail("shape differs from /matrix");
            cohort.layers[key] = Matrix(read_genes_by_cells(layer, n_genes, n_cells, false));
        }
    }
    cohort.validate(path.string());
    return cohort;
}

void write_loom(const Cohort& cohort, const std::filesystem::path& path,
                const WriteOptions& options) {
    cohort.validate(path.string());
    if (!cohort.X) throw InvalidArgument(path.string() + ": no X to write");
    const int gzip = options.compression > 0 ? options.compression : 2;
    h5::File file = h5::File::create(path);
    const int64_t n_cells = cohort.n_obs(), n_genes = cohort.n_vars();
    {
        // genes x cells, filled a block of genes at a time from the gene-major transpose.
        CsrMatrix by_gene = cohort.X->to_csr().transposed();
        h5::Dataset matrix = file.create_matrix<float>(
            "matrix", static_cast<hsize_t>(n_genes), static_cast<hsize_t>(n_cells), gzip);
        std::vector<float> block;
        for (int64_t start = 0; start < n_genes; start += static_cast<int64_t>(kRowBlock)) {
            int64_t count = std::min<int64_t>(static_cast<int64_t>(kRowBlock), n_genes - start);
            block.assign(static_cast<size_t>(count * n_cells), 0.0f);
            for (int64_t g = 0; g < count; ++g)
                for (int64_t i = by_gene.indptr[start + g]; i < by_gene.indptr[start + g + 1]; ++i)
                    block[static_cast<size_t>(g * n_cells + by_gene.indices[i])] = by_gene.data[i];
            matrix.write_rows(static_cast<hsize_t>(start), static_cast<hsize_t>(count), block);
        }
    }
    h5::Group rows = file.create_group("row_attrs");
    rows.write_strings("Gene", cohort.var_names);
    for (const auto& column : cohort.var.columns)
        if (column.name != "Gene") write_column_attribute(rows, column);
    for (const auto& [key, m] : cohort.varm)
        rows.write(key, m.values, {static_cast<hsize_t>(m.n_rows), static_cast<hsize_t>(m.n_cols)});
    h5::Group cols = file.create_group("col_attrs");
    cols.write_strings("CellID", cohort.obs_names);
    for (const auto& column : cohort.obs.columns)
        if (column.name != "CellID") write_column_attribute(cols, column);
    for (const auto& [key, m] : cohort.obsm)
        cols.write(key, m.values, {static_cast<hsize_t>(m.n_rows), static_cast<hsize_t>(m.n_cols)});
    file.create_group("layers");
    file.create_group("row_graphs");
    file.create_group("col_graphs");
    h5::Group attrs = file.create_group("attrs");
    attrs.write_string_scalar("LOOM_SPEC_VERSION", "3.0.0");
    file.set_attribute("LOOM_SPEC_VERSION", std::string("3.0.0"));
    file.close();
}

}  // namespace transcura
