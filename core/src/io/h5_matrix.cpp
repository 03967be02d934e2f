#include "io/h5_matrix.hpp"

#include <algorithm>
#include <cmath>
#include <future>
#include <thread>

namespace transcura {
namespace {

// Beyond this a shape is not a real cohort but a corrupt header; it also keeps a wrong shape
// from turning into a huge allocation.
constexpr int64_t kMaxDimension = int64_t{1} << 36;
// Matrices with fewer stored values load in milliseconds: not worth a thread.
constexpr int64_t kParallelReadValues = int64_t{1} << 21;

void check_dimension(const h5::Location& at, int64_t value, const char* what) {
    if (value < 0) at.fail(std::string("negative ") + what + " " + std::to_string(value));
    if (value > kMaxDimension) at.fail(std::string("absurd ") + what + " " + std::to_string(value));
}

/// The structural checks of CsrMatrix::validate on indptr: starts at 0, never decreases.
void check_indptr(const h5::Dataset& indptr, const CsrMatrix& m) {
    if (m.indptr.front() != 0) indptr.fail("does not start at 0");
    for (int64_t r = 0; r < m.n_rows; ++r)
        if (m.indptr[r + 1] < m.indptr[r])
            indptr.fail("decreases at position " + std::to_string(r + 1));
}

/// Every index of a piece inside [0, limit), written so that the compiler vectorises the scan:
/// with a branch per element that scan was a fifth of the time to read a 150 M non-zero matrix.
/// Run on each piece as it is read (still in cache) rather than over the whole array after.
void check_indices(const h5::Dataset& indices, const int32_t* index, size_t n, size_t offset,
                   uint32_t limit) {
    constexpr size_t kBlock = size_t{1} << 14;
    for (size_t start = 0; start < n; start += kBlock) {
        const size_t stop = std::min(n, start + kBlock);
        unsigned bad = 0;  // negative indices wrap to huge unsigned values
        for (size_t i = start; i < stop; ++i) bad |= static_cast<uint32_t>(index[i]) >= limit;
        if (!bad) continue;
        for (size_t i = start; i < stop; ++i)
            if (static_cast<uint32_t>(index[i]) >= limit)
                indices.fail("index " + std::to_string(index[i]) + " at position " +
                             std::to_string(offset + i) + " is out of range [0, " +
                             std::to_string(limit) + ")");
    }
}

}  // namespace

CsrMatrix read_compressed(const h5::Group& group, int64_t n_major, int64_t n_minor,
                          const std::string& data_name, const std::string& indices_name,
                          const std::string& indptr_name) {
    check_dimension(group, n_major, "row count");
    check_dimension(group, n_minor, "column count");
    for (const auto& name : {data_name, indices_name, indptr_name})
        if (!group.is_dataset(name)) group.fail("sparse matrix has no '" + name + "' dataset");
    h5::Dataset data = group.dataset(data_name);
    h5::Dataset indices = group.dataset(indices_name);
    h5::Dataset indptr = group.dataset(indptr_name);
    if (data.type().cls == h5::TypeClass::String) data.fail("matrix values are strings");
    if (indices.type().cls != h5::TypeClass::Integer) indices.fail("indices are not integers");
    if (indptr.type().cls != h5::TypeClass::Integer) indptr.fail("indptr is not integer");
    if (indptr.size() != n_major + 1)
        indptr.fail("has " + std::to_string(indptr.size()) + " entries, expected " +
                    std::to_string(n_major + 1) + " for the stated shape");
    if (indices.size() != data.size())
        indices.fail("has " + std::to_string(indices.size()) + " entries but data has " +
                     std::to_string(data.size()));
    CsrMatrix m;
    m.n_rows = n_major;
    m.n_cols = n_minor;
    // Both arrays are sized without zero-filling (DefaultInitVector) and read straight into
    // place. Values load on a second thread while indptr and indices load here: uncompressed
    // datasets are read without HDF5's lock (hdf5/direct_read.hpp), so the two really overlap.
    const size_t n_values = static_cast<size_t>(data.size());
    m.data.resize(n_values);
    const bool in_parallel =
        data.size() >= kParallelReadValues && std::thread::hardware_concurrency() > 1;
    std::future<void> values;
    if (in_parallel)
        values = std::async(std::launch::async,
                            [&data, &m, n_values] { data.read_into(m.data.data(), n_values); });
    // Joins the values thread before anything below throws, so `data` and `m` outlive it.
    struct Join {
        std::future<void>& future;
        ~Join() {
            if (future.valid()) future.wait();
        }
    } join{values};
    m.indptr = indptr.read<int64_t>();
    if (m.indptr.back() != data.size())
        indptr.fail("ends at " + std::to_string(m.indptr.back()) + " but there are " +
                    std::to_string(data.size()) + " stored values");
    if (m.n_cols > INT32_MAX)
        indices.fail("too many columns for 32-bit indices: " + std::to_string(m.n_cols));
    // Indices stored wider than 32 bits (10x writes int64, rliger uint32) are narrowed block by
    // block, so the wide copy never exists whole.
    if (indices.type().size > 4 || !indices.type().is_signed) {
        const int64_t n = indices.size();
        m.indices.resize(static_cast<size_t>(n));
        constexpr int64_t kBlock = int64_t{1} << 20;
        for (int64_t start = 0; start < n; start += kBlock) {
            const int64_t count = std::min(kBlock, n - start);
            const auto wide = indices.read_range<int64_t>(static_cast<hsize_t>(start),
                                                          static_cast<hsize_t>(count));
            for (int64_t k = 0; k < count; ++k) {
                const int64_t i = start + k;
                if (wide[k] < 0 || wide[k] >= n_minor)
                    indices.fail("index " + std::to_string(wide[k]) + " at position " +
                                 std::to_string(i) + " is out of range [0, " +
                                 std::to_string(n_minor) + ")");
                m.indices[i] = static_cast<int32_t>(wide[k]);
            }
        }
    } else {
        const uint32_t limit = static_cast<uint32_t>(m.n_cols);
        m.indices.resize(n_values);
        indices.read_into<int32_t>(m.indices.data(), n_values,
                          [&](const int32_t* piece, size_t count, size_t offset) {
                              check_indices(indices, piece, count, offset, limit);
                          });
    }
    check_indptr(indptr, m);
    if (in_parallel)
        values.get();  // rethrows the values thread's error
    else
        data.read_into(m.data.data(), n_values);
    return m;
}

Matrix read_matrix_element(const h5::Group& parent, const std::string& name) {
    if (parent.is_dataset(name)) {
        h5::Dataset dataset = parent.dataset(name);
        auto shape = dataset.shape();
        if (shape.size() != 2)
            dataset.fail("expected a 2-D matrix, found rank " + std::to_string(shape.size()));
        auto cls = dataset.type().cls;
        if (cls != h5::TypeClass::Float && cls != h5::TypeClass::Integer &&
            cls != h5::TypeClass::Bool)
            dataset.fail("matrix values are not numeric");
        check_dimension(dataset, static_cast<int64_t>(shape[0]), "row count");
        check_dimension(dataset, static_cast<int64_t>(shape[1]), "column count");
        DenseF m;
        m.n_rows = static_cast<int64_t>(shape[0]);
        m.n_cols = static_cast<int64_t>(shape[1]);
        m.values = dataset.read<float>();
        return Matrix(std::move(m));
    }
    if (!parent.is_group(name)) parent.fail_child(name, "missing matrix");
    h5::Group group = parent.group(name);
    std::string format;
    std::vector<int64_t> shape;
    if (group.has_attribute("encoding-type")) {
        std::string type = group.attribute_string("encoding-type");
        if (type == "csr_matrix")
            format = "csr";
        else if (type == "csc_matrix")
            format = "csc";
        else
            group.fail("unsupported matrix encoding '" + type + "'");
        if (!group.has_attribute("shape")) group.fail("sparse matrix has no 'shape' attribute");
        shape = group.attribute_ints("shape");
    } else if (group.has_attribute("h5sparse_format")) {
        format = group.attribute_string("h5sparse_format");
        if (!group.has_attribute("h5sparse_shape")) group.fail("no 'h5sparse_shape' attribute");
        shape = group.attribute_ints("h5sparse_shape");
    } else {
        group.fail("group is neither a csr_matrix nor a csc_matrix");
    }
    if (shape.size() != 2) group.fail("shape attribute does not have 2 entries");
    check_dimension(group, shape[0], "row count");
    check_dimension(group, shape[1], "column count");
    if (format == "csr") return Matrix(read_compressed(group, shape[0], shape[1]));
    if (format == "csc") return Matrix(read_compressed(group, shape[1], shape[0]).transposed());
    group.fail("unsupported sparse format '" + format + "'");
}

void write_csr_group(h5::Group& parent, const std::string& name, const CsrMatrix& matrix,
                     int gzip_level) {
    h5::Group group = parent.create_group(name);
    group.set_attribute("encoding-type", std::string("csr_matrix"));
    group.set_attribute("encoding-version", std::string("0.1.0"));
    group.set_attribute("shape", std::vector<int64_t>{matrix.n_rows, matrix.n_cols});
    // The matrix outlives the file (the caller's cohort), so its large arrays can be deferred.
    if (gzip_level > 0)
        group.write("data", matrix.data, {}, gzip_level);
    else
        group.write_deferred("data", matrix.data);
    // scipy needs indices and indptr of one dtype (mixed ones fail in tocoo): both 32-bit
    // whenever the non-zeros fit, as anndata itself writes them, else both 64-bit.
    if (matrix.nnz() <= INT32_MAX) {
        if (gzip_level > 0)
            group.write("indices", matrix.indices, {}, gzip_level);
        else
            group.write_deferred("indices", matrix.indices);
        std::vector<int32_t> narrow(matrix.indptr.begin(), matrix.indptr.end());
        group.write("indptr", narrow, {}, gzip_level);
    } else {
        std::vector<int64_t> wide(matrix.indices.begin(), matrix.indices.end());
        group.write("indices", wide, {}, gzip_level);
        group.write("indptr", matrix.indptr, {}, gzip_level);
    }
}

void write_matrix_element(h5::Group& parent, const std::string& name, const Matrix& matrix,
                          int gzip_level) {
    if (matrix.is_sparse()) {
        write_csr_group(parent, name, matrix.sparse(), gzip_level);
        return;
    }
    const DenseF& d = matrix.dense();
    const std::vector<hsize_t> shape{static_cast<hsize_t>(d.n_rows),
                                     static_cast<hsize_t>(d.n_cols)};
    h5::Dataset dataset = gzip_level > 0 ? parent.write(name, d.values, shape, gzip_level)
                                         : parent.write_deferred(name, d.values, shape);
    dataset.set_attribute("encoding-type", std::string("array"));
    dataset.set_attribute("encoding-version", std::string("0.2.0"));
}

}  // namespace transcura
