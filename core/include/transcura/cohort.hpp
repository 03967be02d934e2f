#pragma once
// The cohort model: a cells x genes count matrix with typed annotations, mirroring AnnData.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace transcura {

/// std::allocator whose construct() without arguments default-initialises instead of
/// value-initialising: resize() of a vector of numbers leaves the new elements unwritten rather
/// than zeroing them. A matrix's values and indices are always written whole right after they
/// are sized (read from a file straight into place, or computed), so the zero-fill was pure cost
/// (about 0.1 s per GB, plus one more pass through memory). Everything else (copies, assign,
/// resize(n, value), push_back) behaves as with std::allocator.
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
    using value_type = T;
    template <typename U>
    struct rebind {
        using other = DefaultInitAllocator<U>;
    };
    DefaultInitAllocator() noexcept = default;
    template <typename U>
    DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}

    template <typename U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;
    }
    template <typename U, typename... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};

template <typename T, typename U>
bool operator==(const DefaultInitAllocator<T>&, const DefaultInitAllocator<U>&) noexcept {
    return true;
}

/// A vector whose resize() does not zero new elements (see DefaultInitAllocator): the storage of
/// sparse matrices.
template <typename T>
using DefaultInitVector = std::vector<T, DefaultInitAllocator<T>>;

/// Compressed sparse rows, n_rows x n_cols. 64-bit indptr: atlases pass 2^31 non-zeros.
struct CsrMatrix {
    int64_t n_rows = 0;
    int64_t n_cols = 0;
    std::vector<int64_t> indptr{0};  // n_rows + 1 entries
    DefaultInitVector<int32_t> indices;  // column of each stored value
    DefaultInitVector<float> data;       // resize() leaves new values unwritten

    int64_t nnz() const { return static_cast<int64_t>(data.size()); }
    /// Throws FormatError(file, object, ...) when indptr/indices/shape disagree.
    void validate(const std::string& file, const std::string& object) const;
    /// Sorts column indices within each row (stable for duplicates).
    void sort_indices();
    CsrMatrix transposed() const;
};

/// Dense row-major matrix.
template <typename T>
struct DenseMatrix {
    int64_t n_rows = 0;
    int64_t n_cols = 0;
    std::vector<T> values;  // n_rows * n_cols, row-major

    DenseMatrix() = default;
    DenseMatrix(int64_t rows, int64_t cols, T fill = T{})
        : n_rows(rows), n_cols(cols), values(static_cast<size_t>(rows * cols), fill) {}
    T& operator()(int64_t r, int64_t c) { return values[static_cast<size_t>(r * n_cols + c)]; }
    const T& operator()(int64_t r, int64_t c) const {
        return values[static_cast<size_t>(r * n_cols + c)];
    }
    const T* row(int64_t r) const { return values.data() + r * n_cols; }
    T* row(int64_t r) { return values.data() + r * n_cols; }
};

using DenseF = DenseMatrix<float>;
using DenseD = DenseMatrix<double>;

/// The expression matrix: sparse CSR (single cell) or dense (bulk, scaled data).
class Matrix {
public:
    Matrix() = default;
    Matrix(CsrMatrix m) : storage_(std::move(m)) {}
    Matrix(DenseF m) : storage_(std::move(m)) {}

    bool is_sparse() const { return std::holds_alternative<CsrMatrix>(storage_); }
    int64_t n_rows() const;
    int64_t n_cols() const;
    /// Stored non-zeros for sparse; count of non-zero values for dense.
    int64_t nnz() const;
    double sum() const;

    const CsrMatrix& sparse() const { return std::get<CsrMatrix>(storage_); }
    CsrMatrix& sparse() { return std::get<CsrMatrix>(storage_); }
    const DenseF& dense() const { return std::get<DenseF>(storage_); }
    DenseF& dense() { return std::get<DenseF>(storage_); }

    /// A CSR copy whichever the storage (dense zeros are dropped).
    CsrMatrix to_csr() const;
    /// Row subset and/or column subset (empty optional = all), preserving storage kind.
    Matrix subset(const std::vector<int64_t>* rows, const std::vector<int64_t>* cols) const;

private:
    std::variant<CsrMatrix, DenseF> storage_{CsrMatrix{}};
};

enum class ColumnType { Float, Int, Bool, String, Categorical };
const char* to_string(ColumnType type);

/// One typed data-frame column. Missing values: NaN for Float, `missing` mask for Int/Bool
/// (nullable), code -1 for Categorical, `missing` mask for String.
struct Column {
    std::string name;
    ColumnType type = ColumnType::Float;
    std::vector<double> floats;
    std::vector<int64_t> ints;
    std::vector<uint8_t> bools;
    std::vector<std::string> strings;
    std::vector<int32_t> codes;
    std::vector<std::string> categories;
    bool ordered = false;
    std::vector<uint8_t> missing;  // empty = nothing missing; else one flag per row

    size_t size() const;
    bool is_missing(size_t row) const;
    bool is_numeric() const { return type == ColumnType::Float || type == ColumnType::Int || type == ColumnType::Bool; }
    /// Numeric value (NaN when missing or not numeric).
    double number(size_t row) const;
    /// Text for display and CSV ("" when missing).
    std::string text(size_t row) const;
    Column subset(const std::vector<int64_t>& rows) const;

    static Column make_float(std::string name, std::vector<double> values);
    static Column make_int(std::string name, std::vector<int64_t> values);
    static Column make_bool(std::string name, std::vector<uint8_t> values);
    static Column make_string(std::string name, std::vector<std::string> values);
    static Column make_categorical(std::string name, std::vector<int32_t> codes,
                                   std::vector<std::string> categories, bool ordered = false);
    /// Categorical from strings: categories sorted, "" treated as missing when `empty_is_missing`.
    static Column categorize(std::string name, const std::vector<std::string>& values,
                             bool empty_is_missing = true);
};

/// Ordered typed columns, all with the same number of rows.
struct DataFrame {
    std::vector<Column> columns;

    const Column* find(const std::string& name) const;
    Column* find(const std::string& name);
    bool contains(const std::string& name) const { return find(name) != nullptr; }
    /// Adds or replaces (keeping position) a column.
    void set(Column column);
    bool remove(const std::string& name);
    DataFrame subset(const std::vector<int64_t>& rows) const;
    std::vector<std::string> names() const;
};

/// The frozen counts and annotations of `raw` (AnnData's .raw).
struct RawData {
    Matrix X;
    std::vector<std::string> var_names;
    DataFrame var;
};

/// A cohort: n_obs cells (or samples) x n_vars genes.
struct Cohort {
    std::vector<std::string> obs_names;
    std::vector<std::string> var_names;
    std::optional<Matrix> X;  // AnnData allows no X at all
    DataFrame obs;
    DataFrame var;
    std::map<std::string, DenseD> obsm;
    std::map<std::string, DenseD> varm;
    std::map<std::string, Matrix> layers;
    std::map<std::string, CsrMatrix> obsp;
    std::optional<RawData> raw;
    nlohmann::json uns = nlohmann::json::object();

    std::string source_path;    // where it was read from, if anywhere
    std::string source_format;  // "h5ad", "10x-h5", "10x-mtx", "loom", "csv", ...

    int64_t n_obs() const { return static_cast<int64_t>(obs_names.size()); }
    int64_t n_vars() const { return static_cast<int64_t>(var_names.size()); }
    int64_t nnz() const { return X ? X->nnz() : 0; }

    /// Throws FormatError when shapes of X, names, columns, obsm, layers disagree.
    void validate(const std::string& context) const;
    /// Makes duplicate names unique the way anndata does ("A", "A-1", "A-2").
    static void make_unique(std::vector<std::string>& names);
};

/// Cells and genes selected from a parent cohort: a view, copied only by materialize().
class CohortView {
public:
    explicit CohortView(std::shared_ptr<const Cohort> parent);
    CohortView(std::shared_ptr<const Cohort> parent, std::vector<int64_t> cells,
               std::vector<int64_t> genes);

    const Cohort& parent() const { return *parent_; }
    std::shared_ptr<const Cohort> parent_ptr() const { return parent_; }
    const std::vector<int64_t>& cells() const { return cells_; }
    const std::vector<int64_t>& genes() const { return genes_; }
    int64_t n_obs() const { return static_cast<int64_t>(cells_.size()); }
    int64_t n_vars() const { return static_cast<int64_t>(genes_.size()); }

    /// Narrows this view (indices are positions within the view).
    CohortView select_cells(const std::vector<int64_t>& positions) const;
    CohortView select_genes(const std::vector<int64_t>& positions) const;
    /// Copies the selected part into a stand-alone cohort.
    Cohort materialize() const;

private:
    std::shared_ptr<const Cohort> parent_;
    std::vector<int64_t> cells_;
    std::vector<int64_t> genes_;
};

} // namespace transcura
