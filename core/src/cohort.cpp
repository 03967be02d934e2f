#include "transcura/cohort.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "engine/parallel.hpp"
#include "transcura/errors.hpp"

namespace transcura {

// ---------------------------------------------------------------------------------------------
// CsrMatrix

void CsrMatrix::validate(const std::string& file, const std::string& object) const {
    if (n_rows < 0 || n_cols < 0)
        throw FormatError(file, object,
                          "negative shape (" + std::to_string(n_rows) + ", " +
                              std::to_string(n_cols) + ")");
    if (n_cols > INT32_MAX)
        throw FormatError(file, object,
                          "too many columns for 32-bit indices: " + std::to_string(n_cols));
    if (static_cast<int64_t>(indptr.size()) != n_rows + 1)
        throw FormatError(file, object,
                          "indptr has " + std::to_string(indptr.size()) +
                              " entries, expected rows + 1 = " + std::to_string(n_rows + 1));
    if (indices.size() != data.size())
        throw FormatError(file, object,
                          "indices (" + std::to_string(indices.size()) + ") and data (" +
                              std::to_string(data.size()) + ") differ in length");
    if (indptr.front() != 0)
        throw FormatError(file, object, "indptr does not start at 0");
    if (indptr.back() != static_cast<int64_t>(data.size()))
        throw FormatError(file, object,
                          "indptr ends at " + std::to_string(indptr.back()) + " but there are " +
                              std::to_string(data.size()) + " stored values");
    for (int64_t r = 0; r < n_rows; ++r) {
        if (indptr[r + 1] < indptr[r])
            throw FormatError(file, object,
                              "indptr decreases at position " + std::to_string(r + 1));
    }
    for (size_t i = 0; i < indices.size(); ++i) {
        if (indices[i] < 0 || indices[i] >= n_cols)
            throw FormatError(file, object,
                              "index " + std::to_string(indices[i]) + " at position " +
                                  std::to_string(i) + " is out of range [0, " +
                                  std::to_string(n_cols) + ")");
    }
}

void CsrMatrix::sort_indices() {
    std::vector<std::pair<int32_t, float>> buffer;
    for (int64_t r = 0; r < n_rows; ++r) {
        const int64_t begin = indptr[r], end = indptr[r + 1];
        if (std::is_sorted(indices.begin() + begin, indices.begin() + end)) continue;
        buffer.clear();
        for (int64_t i = begin; i < end; ++i) buffer.emplace_back(indices[i], data[i]);
        std::stable_sort(buffer.begin(), buffer.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (int64_t i = begin; i < end; ++i) {
            indices[i] = buffer[i - begin].first;
            data[i] = buffer[i - begin].second;
        }
    }
}

CsrMatrix CsrMatrix::transposed() const {
    CsrMatrix t;
    t.n_rows = n_cols;
    t.n_cols = n_rows;
    // The rows are cut into a fixed number of parts (by size, not by thread count); each part
    // counts its entries per column and checks that its rows are sorted.
    const int64_t stored = static_cast<int64_t>(indices.size());
    const int64_t parts = std::clamp<int64_t>(stored >> 22, 1, 8);
    const engine::Chunking row_parts =
        engine::make_chunks(n_rows, (n_rows + parts - 1) / parts, parts);
    const size_t columns = static_cast<size_t>(n_cols);
    std::vector<std::vector<int64_t>> next(static_cast<size_t>(row_parts.count()));
    std::vector<uint8_t> part_sorted(static_cast<size_t>(row_parts.count()), 1);
    const RunControl control;
    engine::for_chunks(row_parts, control, [&](int64_t part, int64_t begin, int64_t end) {
        std::vector<int64_t>& count = next[static_cast<size_t>(part)];
        count.assign(columns, 0);
        bool sorted = true;
        for (int64_t r = begin; r < end; ++r)
            for (int64_t i = indptr[r]; i < indptr[r + 1]; ++i) {
                ++count[static_cast<size_t>(indices[i])];
                sorted &= i == indptr[r] || indices[i - 1] < indices[i];
            }
        part_sorted[static_cast<size_t>(part)] = sorted;
    });
    t.indptr.assign(columns + 1, 0);
    for (size_t c = 0; c < columns; ++c) {
        int64_t at = t.indptr[c];
        for (auto& count : next) {  // counts become each part's first slot in column c
            const int64_t n = count[c];
            count[c] = at;
            at += n;
        }
        t.indptr[c + 1] = at;
    }
    t.indices.resize(indices.size());
    t.data.resize(data.size());
    const bool sorted =
        std::all_of(part_sorted.begin(), part_sorted.end(), [](uint8_t s) { return s != 0; });
    if (sorted) {
        // Rows with sorted columns: one band of output rows (input columns) at a time, each
        // band's entries found in every input row from a binary search on, so the band's
        // output rows are written as few streams that stay in cache (a scatter over all of
        // them missed the cache on nearly every value). Bands write disjoint output ranges,
        // in parallel, every output row in input row order: the serial scatter's result.
        // At most 2048 output rows a band (4096 write streams, in L2), at least 16 bands when
        // that leaves 256 or more each (the PCA's 2000-gene matrix: 8 bands, not one).
        const int64_t band = std::clamp<int64_t>((n_cols + 15) / 16, 256, 2048);
        engine::for_chunks(engine::make_chunks(n_cols, band), control,
                           [&](int64_t, int64_t first, int64_t last) {
                               std::vector<int64_t> slot(t.indptr.begin() + first,
                                                         t.indptr.begin() + last);
                               for (int64_t r = 0; r < n_rows; ++r) {
                                   const int32_t* row = indices.data() + indptr[r];
                                   const int32_t* row_end = indices.data() + indptr[r + 1];
                                   const int32_t* at = std::lower_bound(
                                       row, row_end, static_cast<int32_t>(first));
                                   for (; at != row_end && *at < last; ++at) {
                                       const int64_t s = slot[*at - first]++;
                                       t.indices[s] = static_cast<int32_t>(r);
                                       t.data[s] = data[at - indices.data()];
                                   }
                               }
                           });
        return t;
    }
    // Unsorted rows: each part's entries of a column go after those of the parts before it,
    // so the parts scatter in parallel into disjoint slots, in input row order as well.
    engine::for_chunks(row_parts, control, [&](int64_t part, int64_t begin, int64_t end) {
        std::vector<int64_t>& slot_of = next[static_cast<size_t>(part)];
        for (int64_t r = begin; r < end; ++r)
            for (int64_t i = indptr[r]; i < indptr[r + 1]; ++i) {
                const int64_t slot = slot_of[static_cast<size_t>(indices[i])]++;
                t.indices[slot] = static_cast<int32_t>(r);
                t.data[slot] = data[i];
            }
    });
    return t;
}

// ---------------------------------------------------------------------------------------------
// Matrix

int64_t Matrix::n_rows() const {
    return is_sparse() ? sparse().n_rows : dense().n_rows;
}

int64_t Matrix::n_cols() const {
    return is_sparse() ? sparse().n_cols : dense().n_cols;
}

int64_t Matrix::nnz() const {
    if (is_sparse()) return sparse().nnz();
    const auto& v = dense().values;
    return static_cast<int64_t>(std::count_if(v.begin(), v.end(), [](float x) { return x != 0; }));
}

double Matrix::sum() const {
    const float* v = is_sparse() ? sparse().data.data() : dense().values.data();
    const size_t n = is_sparse() ? sparse().data.size() : dense().values.size();
    double total = 0;
    for (size_t i = 0; i < n; ++i) total += v[i];
    return total;
}

CsrMatrix Matrix::to_csr() const {
    if (is_sparse()) return sparse();
    const DenseF& d = dense();
    CsrMatrix m;
    m.n_rows = d.n_rows;
    m.n_cols = d.n_cols;
    m.indptr.assign(static_cast<size_t>(d.n_rows) + 1, 0);
    for (int64_t r = 0; r < d.n_rows; ++r) {
        const float* row = d.row(r);
        for (int64_t c = 0; c < d.n_cols; ++c) {
            if (row[c] != 0) {
                m.indices.push_back(static_cast<int32_t>(c));
                m.data.push_back(row[c]);
            }
        }
        m.indptr[r + 1] = static_cast<int64_t>(m.data.size());
    }
    return m;
}

Matrix Matrix::subset(const std::vector<int64_t>* rows, const std::vector<int64_t>* cols) const {
    const int64_t out_rows = rows ? static_cast<int64_t>(rows->size()) : n_rows();
    auto source_row = [&](int64_t r) { return rows ? (*rows)[r] : r; };
    if (!is_sparse()) {
        const DenseF& d = dense();
        const int64_t out_cols = cols ? static_cast<int64_t>(cols->size()) : d.n_cols;
        DenseF out(out_rows, out_cols);
        for (int64_t r = 0; r < out_rows; ++r) {
            const float* in = d.row(source_row(r));
            float* o = out.row(r);
            if (cols)
                for (int64_t c = 0; c < out_cols; ++c) o[c] = in[(*cols)[c]];
            else
                std::copy(in, in + out_cols, o);
        }
        return Matrix(std::move(out));
    }
    const CsrMatrix& s = sparse();
    std::vector<int32_t> column_map;
    if (cols) {
        column_map.assign(static_cast<size_t>(s.n_cols), -1);
        for (size_t c = 0; c < cols->size(); ++c) column_map[(*cols)[c]] = static_cast<int32_t>(c);
    }
    CsrMatrix out;
    out.n_rows = out_rows;
    out.n_cols = cols ? static_cast<int64_t>(cols->size()) : s.n_cols;
    out.indptr.assign(static_cast<size_t>(out_rows) + 1, 0);
    if (!cols) {
        // Rows only: sizes known up front, whole rows copied (growing by push_back copied a
        // large matrix several times over).
        for (int64_t r = 0; r < out_rows; ++r) {
            const int64_t src = source_row(r);
            out.indptr[r + 1] = out.indptr[r] + s.indptr[src + 1] - s.indptr[src];
        }
        out.indices.resize(static_cast<size_t>(out.indptr[out_rows]));
        out.data.resize(static_cast<size_t>(out.indptr[out_rows]));
        for (int64_t r = 0; r < out_rows; ++r) {
            const int64_t src = source_row(r);
            std::copy(s.indices.begin() + s.indptr[src], s.indices.begin() + s.indptr[src + 1],
                      out.indices.begin() + out.indptr[r]);
            std::copy(s.data.begin() + s.indptr[src], s.data.begin() + s.indptr[src + 1],
                      out.data.begin() + out.indptr[r]);
        }
        return Matrix(std::move(out));
    }
    int64_t most = 0;  // room for every stored value of the selected rows: no reallocation
    for (int64_t r = 0; r < out_rows; ++r)
        most += s.indptr[source_row(r) + 1] - s.indptr[source_row(r)];
    out.indices.reserve(static_cast<size_t>(most));
    out.data.reserve(static_cast<size_t>(most));
    for (int64_t r = 0; r < out_rows; ++r) {
        const int64_t src = source_row(r);
        for (int64_t i = s.indptr[src]; i < s.indptr[src + 1]; ++i) {
            const int32_t c = cols ? column_map[s.indices[i]] : s.indices[i];
            if (c < 0) continue;
            out.indices.push_back(c);
            out.data.push_back(s.data[i]);
        }
        out.indptr[r + 1] = static_cast<int64_t>(out.data.size());
    }
    // A column subset may reorder columns: keep rows sorted for readers that expect it.
    if (cols) out.sort_indices();
    return Matrix(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// Column

const char* to_string(ColumnType type) {
    switch (type) {
    case ColumnType::Float: return "float";
    case ColumnType::Int: return "int";
    case ColumnType::Bool: return "bool";
    case ColumnType::String: return "string";
    case ColumnType::Categorical: return "categorical";
    }
    return "?";
}

size_t Column::size() const {
    switch (type) {
    case ColumnType::Float: return floats.size();
    case ColumnType::Int: return ints.size();
    case ColumnType::Bool: return bools.size();
    case ColumnType::String: return strings.size();
    case ColumnType::Categorical: return codes.size();
    }
    return 0;
}

bool Column::is_missing(size_t row) const {
    if (!missing.empty() && missing[row]) return true;
    if (type == ColumnType::Float) return std::isnan(floats[row]);
    if (type == ColumnType::Categorical) return codes[row] < 0;
    return false;
}

double Column::number(size_t row) const {
    if (is_missing(row)) return std::nan("");
    switch (type) {
    case ColumnType::Float: return floats[row];
    case ColumnType::Int: return static_cast<double>(ints[row]);
    case ColumnType::Bool: return bools[row] ? 1.0 : 0.0;
    default: return std::nan("");
    }
}

std::string Column::text(size_t row) const {
    if (is_missing(row)) return {};
    switch (type) {
    case ColumnType::Float: {
        char buffer[32];
        auto result = std::to_chars(buffer, buffer + sizeof buffer, floats[row]);
        return std::string(buffer, result.ptr);
    }
    case ColumnType::Int: return std::to_string(ints[row]);
    case ColumnType::Bool: return bools[row] ? "True" : "False";
    case ColumnType::String: return strings[row];
    case ColumnType::Categorical: return categories[static_cast<size_t>(codes[row])];
    }
    return {};
}

template <typename T>
static std::vector<T> pick(const std::vector<T>& values, const std::vector<int64_t>& rows) {
    std::vector<T> out;
    if (values.empty()) return out;
    out.reserve(rows.size());
    for (int64_t r : rows) out.push_back(values[static_cast<size_t>(r)]);
    return out;
}

Column Column::subset(const std::vector<int64_t>& rows) const {
    Column out;
    out.name = name;
    out.type = type;
    out.categories = categories;
    out.ordered = ordered;
    out.floats = pick(floats, rows);
    out.ints = pick(ints, rows);
    out.bools = pick(bools, rows);
    out.strings = pick(strings, rows);
    out.codes = pick(codes, rows);
    out.missing = pick(missing, rows);
    return out;
}

Column Column::make_float(std::string name, std::vector<double> values) {
    Column c;
    c.name = std::move(name);
    c.type = ColumnType::Float;
    c.floats = std::move(values);
    return c;
}

Column Column::make_int(std::string name, std::vector<int64_t> values) {
    Column c;
    c.name = std::move(name);
    c.type = ColumnType::Int;
    c.ints = std::move(values);
    return c;
}

Column Column::make_bool(std::string name, std::vector<uint8_t> values) {
    Column c;
    c.name = std::move(name);
    c.type = ColumnType::Bool;
    c.bools = std::move(values);
    return c;
}

Column Column::make_string(std::string name, std::vector<std::string> values) {
    Column c;
    c.name = std::move(name);
    c.type = ColumnType::String;
    c.strings = std::move(values);
    return c;
}

Column Column::make_categorical(std::string name, std::vector<int32_t> codes,
                                std::vector<std::string> categories, bool ordered) {
    Column c;
    c.name = std::move(name);
    c.type = ColumnType::Categorical;
    c.codes = std::move(codes);
    c.categories = std::move(categories);
    c.ordered = ordered;
    return c;
}

Column Column::categorize(std::string name, const std::vector<std::string>& values,
                          bool empty_is_missing) {
    std::set<std::string> distinct;
    for (const auto& v : values)
        if (!(empty_is_missing && v.empty())) distinct.insert(v);
    std::vector<std::string> categories(distinct.begin(), distinct.end());
    std::unordered_map<std::string, int32_t> code_of;
    for (size_t i = 0; i < categories.size(); ++i)
        code_of.emplace(categories[i], static_cast<int32_t>(i));
    std::vector<int32_t> codes(values.size(), -1);
    for (size_t i = 0; i < values.size(); ++i) {
        auto it = code_of.find(values[i]);
        if (it != code_of.end()) codes[i] = it->second;
    }
    return make_categorical(std::move(name), std::move(codes), std::move(categories));
}

// ---------------------------------------------------------------------------------------------
// DataFrame

const Column* DataFrame::find(const std::string& name) const {
    for (const auto& c : columns)
        if (c.name == name) return &c;
    return nullptr;
}

Column* DataFrame::find(const std::string& name) {
    for (auto& c : columns)
        if (c.name == name) return &c;
    return nullptr;
}

void DataFrame::set(Column column) {
    if (Column* existing = find(column.name))
        *existing = std::move(column);
    else
        columns.push_back(std::move(column));
}

bool DataFrame::remove(const std::string& name) {
    auto it = std::find_if(columns.begin(), columns.end(),
                           [&](const Column& c) { return c.name == name; });
    if (it == columns.end()) return false;
    columns.erase(it);
    return true;
}

DataFrame DataFrame::subset(const std::vector<int64_t>& rows) const {
    DataFrame out;
    out.columns.reserve(columns.size());
    for (const auto& c : columns) out.columns.push_back(c.subset(rows));
    return out;
}

std::vector<std::string> DataFrame::names() const {
    std::vector<std::string> out;
    for (const auto& c : columns) out.push_back(c.name);
    return out;
}

// ---------------------------------------------------------------------------------------------
// Cohort

static void check_frame(const DataFrame& frame, size_t rows, const std::string& context,
                        const std::string& what) {
    for (const auto& c : frame.columns) {
        if (c.size() != rows)
            throw FormatError(context, what + "/" + c.name,
                              "has " + std::to_string(c.size()) + " values, expected " +
                                  std::to_string(rows));
        if (!c.missing.empty() && c.missing.size() != rows)
            throw FormatError(context, what + "/" + c.name, "missing-value mask has wrong length");
        if (c.type == ColumnType::Categorical) {
            for (int32_t code : c.codes)
                if (code >= static_cast<int32_t>(c.categories.size()))
                    throw FormatError(context, what + "/" + c.name,
                                      "category code " + std::to_string(code) +
                                          " beyond the " + std::to_string(c.categories.size()) +
                                          " categories");
        }
    }
}

void Cohort::validate(const std::string& context) const {
    const int64_t n = n_obs(), g = n_vars();
    if (X) {
        if (X->n_rows() != n || X->n_cols() != g)
            throw FormatError(context, "X",
                              "shape (" + std::to_string(X->n_rows()) + ", " +
                                  std::to_string(X->n_cols()) + ") does not match " +
                                  std::to_string(n) + " obs names and " + std::to_string(g) +
                                  " var names");
    }
    check_frame(obs, static_cast<size_t>(n), context, "obs");
    check_frame(var, static_cast<size_t>(g), context, "var");
    for (const auto& [key, m] : obsm)
        if (m.n_rows != n)
            throw FormatError(context, "obsm/" + key,
                              "has " + std::to_string(m.n_rows) + " rows, expected " +
                                  std::to_string(n));
    for (const auto& [key, m] : varm)
        if (m.n_rows != g)
            throw FormatError(context, "varm/" + key,
                              "has " + std::to_string(m.n_rows) + " rows, expected " +
                                  std::to_string(g));
    for (const auto& [key, m] : layers)
        if (m.n_rows() != n || m.n_cols() != g)
            throw FormatError(context, "layers/" + key, "shape does not match X");
    for (const auto& [key, m] : obsp)
        if (m.n_rows != n || m.n_cols != n)
            throw FormatError(context, "obsp/" + key, "is not n_obs x n_obs");
    if (raw) {
        if (raw->X.n_rows() != n)
            throw FormatError(context, "raw/X", "row count does not match n_obs");
        if (raw->X.n_cols() != static_cast<int64_t>(raw->var_names.size()))
            throw FormatError(context, "raw/X", "column count does not match raw/var");
        check_frame(raw->var, raw->var_names.size(), context, "raw/var");
    }
}

void Cohort::make_unique(std::vector<std::string>& names) {
    // anndata's make_index_unique: the second "A" becomes "A-1", the third "A-2", skipping
    // suffixes that already exist as names.
    std::unordered_map<std::string, int> seen_count;
    std::unordered_set<std::string> taken(names.begin(), names.end());
    if (taken.size() == names.size()) return;
    std::unordered_set<std::string> first_seen;
    for (auto& name : names) {
        if (first_seen.insert(name).second) continue;
        int& counter = seen_count[name];
        std::string candidate;
        do {
            candidate = name + "-" + std::to_string(++counter);
        } while (taken.count(candidate));
        taken.insert(candidate);
        name = candidate;
    }
}

// ---------------------------------------------------------------------------------------------
// CohortView

static std::vector<int64_t> iota_vector(int64_t n) {
    std::vector<int64_t> v(static_cast<size_t>(n));
    std::iota(v.begin(), v.end(), 0);
    return v;
}

CohortView::CohortView(std::shared_ptr<const Cohort> parent)
    : parent_(std::move(parent)),
      cells_(iota_vector(parent_->n_obs())),
      genes_(iota_vector(parent_->n_vars())) {}

CohortView::CohortView(std::shared_ptr<const Cohort> parent, std::vector<int64_t> cells,
                       std::vector<int64_t> genes)
    : parent_(std::move(parent)), cells_(std::move(cells)), genes_(std::move(genes)) {
    for (int64_t c : cells_)
        if (c < 0 || c >= parent_->n_obs()) throw InvalidArgument("cell index out of range");
    for (int64_t g : genes_)
        if (g < 0 || g >= parent_->n_vars()) throw InvalidArgument("gene index out of range");
}

CohortView CohortView::select_cells(const std::vector<int64_t>& positions) const {
    std::vector<int64_t> cells;
    cells.reserve(positions.size());
    for (int64_t p : positions) cells.push_back(cells_.at(static_cast<size_t>(p)));
    return CohortView(parent_, std::move(cells), genes_);
}

CohortView CohortView::select_genes(const std::vector<int64_t>& positions) const {
    std::vector<int64_t> genes;
    genes.reserve(positions.size());
    for (int64_t p : positions) genes.push_back(genes_.at(static_cast<size_t>(p)));
    return CohortView(parent_, cells_, std::move(genes));
}

static DenseD pick_rows(const DenseD& m, const std::vector<int64_t>& rows) {
    DenseD out(static_cast<int64_t>(rows.size()), m.n_cols);
    for (size_t r = 0; r < rows.size(); ++r)
        std::copy(m.row(rows[r]), m.row(rows[r]) + m.n_cols, out.row(static_cast<int64_t>(r)));
    return out;
}

Cohort CohortView::materialize() const {
    const Cohort& p = *parent_;
    const bool all_genes = static_cast<int64_t>(genes_.size()) == p.n_vars() &&
                           std::is_sorted(genes_.begin(), genes_.end());
    const std::vector<int64_t>* gene_subset = all_genes ? nullptr : &genes_;
    Cohort out;
    out.obs_names = pick(p.obs_names, cells_);
    out.var_names = all_genes ? p.var_names : pick(p.var_names, genes_);
    if (p.X) out.X = p.X->subset(&cells_, gene_subset);
    out.obs = p.obs.subset(cells_);
    out.var = all_genes ? p.var : p.var.subset(genes_);
    for (const auto& [key, m] : p.obsm) out.obsm[key] = pick_rows(m, cells_);
    for (const auto& [key, m] : p.varm) out.varm[key] = all_genes ? m : pick_rows(m, genes_);
    for (const auto& [key, m] : p.layers) out.layers[key] = m.subset(&cells_, gene_subset);
    for (const auto& [key, m] : p.obsp) {
        // Rows and columns both index cells.
        Matrix rows_only = Matrix(m).subset(&cells_, &cells_);
        out.obsp[key] = rows_only.sparse();
    }
    if (p.raw) {
        RawData raw;
        raw.X = p.raw->X.subset(&cells_, nullptr);
        raw.var_names = p.raw->var_names;
        raw.var = p.raw->var;
        out.raw = std::move(raw);
    }
    out.uns = p.uns;
    out.source_path = p.source_path;
    out.source_format = p.source_format;
    return out;
}

}  // namespace transcura
