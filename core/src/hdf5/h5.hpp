#pragma once
// A thin checked layer over the HDF5 C API (in the spirit of HighFive): RAII handles, every call
// checked, failures turned into HdfError carrying the file, the object path and HDF5's own error
// stack. The HDF5 build is not thread-safe, so every entry point takes one process-wide lock.
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "transcura/errors.hpp"

namespace transcura::h5 {

/// Serialises all HDF5 use in the process.
std::recursive_mutex& library_mutex();
using Lock = std::lock_guard<std::recursive_mutex>;

/// Owns one hid_t and closes it with the right H5?close.
class Handle {
public:
    Handle() = default;
    explicit Handle(hid_t id) : id_(id) {}
    ~Handle() { reset(); }
    Handle(Handle&& other) noexcept : id_(other.id_) { other.id_ = H5I_INVALID_HID; }
    Handle& operator=(Handle&& other) noexcept {
        if (this != &other) {
            reset();
            id_ = other.id_;
            other.id_ = H5I_INVALID_HID;
        }
        return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;

    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }
    void reset();

private:
    hid_t id_ = H5I_INVALID_HID;
};

/// Kind of a dataset's element type, as the readers care about it.
enum class TypeClass { Integer, Float, String, Bool, Compound, Enum, Other };

struct TypeInfo {
    TypeClass cls = TypeClass::Other;
    size_t size = 0;        // bytes per element
    bool is_signed = true;  // integers
    bool variable_string = false;
};

class Dataset;
class Group;

/// The bytes of a large dataset that File::close writes itself once HDF5 has closed the file
/// (Group::write_deferred): at `offset`, the address HDF5 allocated for the dataset.
struct DeferredWrite {
    int64_t offset = -1;
    const void* data = nullptr;
    size_t bytes = 0;
    std::string path;  // the dataset, for messages
};
using DeferredWrites = std::vector<DeferredWrite>;

/// Common to files and groups: children, attributes.
class Location {
public:
    Location(Handle handle, std::string file, std::string path)
        : handle_(std::move(handle)), file_(std::move(file)), path_(std::move(path)) {}

    hid_t id() const { return handle_.get(); }
    const std::string& file() const { return file_; }
    const std::string& path() const { return path_; }
    /// Path of a child for messages ("/obs/cell_type").
    std::string child_path(const std::string& name) const;

    bool has_attribute(const std::string& name) const;
    std::string attribute_string(const std::string& name) const;
    std::vector<std::string> attribute_strings(const std::string& name) const;
    std::vector<int64_t> attribute_ints(const std::string& name) const;
    bool attribute_bool(const std::string& name) const;
    TypeInfo attribute_type(const std::string& name) const;

    void set_attribute(const std::string& name, const std::string& value);
    void set_attribute(const std::string& name, const std::vector<std::string>& values);
    void set_attribute(const std::string& name, const std::vector<int64_t>& values);
    void set_attribute(const std::string& name, bool value);

    [[noreturn]] void fail(const std::string& problem) const;
    [[noreturn]] void fail_child(const std::string& child, const std::string& problem) const;

protected:
    Handle handle_;
    std::string file_;
    std::string path_;
    /// Shared by a file created for writing and every group made in it; null when reading.
    std::shared_ptr<DeferredWrites> deferred_;
};

class Group : public Location {
public:
    using Location::Location;

    bool exists(const std::string& relative) const;
    bool is_group(const std::string& relative) const;
    bool is_dataset(const std::string& relative) const;
    std::vector<std::string> children() const;  // in name order

    Group group(const std::string& relative) const;
    Dataset dataset(const std::string& relative) const;

    Group create_group(const std::string& name);
    /// 1-D or 2-D numeric dataset from contiguous row-major data (any vector allocator: a
    /// matrix's DefaultInitVector storage as well as std::vector).
    template <typename T, typename Allocator>
    Dataset write(const std::string& name, const std::vector<T, Allocator>& values,
                  const std::vector<hsize_t>& shape = {}, int gzip_level = 0);
    /// Like write() without compression, but a dataset of at least kDeferredWriteBytes only has
    /// its space allocated now; File::close writes its bytes after closing the HDF5 file, with
    /// large O_DIRECT writes (about 3x faster than through the page cache plus the fsync the
    /// atomic output does anyway). `values` must stay alive and unchanged until then.
    template <typename T, typename Allocator>
    Dataset write_deferred(const std::string& name, const std::vector<T, Allocator>& values,
                           const std::vector<hsize_t>& shape = {});
    /// write() and write_deferred() of `count` values at `values` (shape empty: 1-D).
    template <typename T>
    Dataset write_values(const std::string& name, const T* values, size_t count,
                         const std::vector<hsize_t>& shape, int gzip_level);
    template <typename T>
    Dataset write_values_deferred(const std::string& name, const T* values, size_t count,
                                  const std::vector<hsize_t>& shape);
    template <typename T>
    Dataset write_scalar(const std::string& name, T value);
    Dataset write_bools(const std::string& name, const std::vector<uint8_t>& values,
                        int gzip_level = 0);
    Dataset write_strings(const std::string& name, const std::vector<std::string>& values,
                          int gzip_level = 0);
    Dataset write_string_scalar(const std::string& name, const std::string& value);
    /// An empty 2-D dataset to be filled block by block with Dataset::write_rows.
    template <typename T>
    Dataset create_matrix(const std::string& name, hsize_t rows, hsize_t cols, int gzip_level);
};

/// Datasets smaller than this are written through HDF5 even by write_deferred.
inline constexpr size_t kDeferredWriteBytes = size_t{8} << 20;

class File : public Group {
public:
    static File open_read_only(const std::filesystem::path& path);
    /// Objects of 1 MiB and more start on 4 KiB boundaries (so deferred writes can go O_DIRECT).
    static File create(const std::filesystem::path& path);
    static bool is_hdf5(const std::filesystem::path& path);
    /// Flushes and closes, then writes the deferred datasets; errors here are real write errors.
    void close();

private:
    using Group::Group;
};

class Dataset : public Location {
public:
    using Location::Location;

    std::vector<hsize_t> shape() const;
    int64_t size() const;  // number of elements (1 for scalars)
    TypeInfo type() const;

    /// Whole dataset converted to T by HDF5 (integers and floats of any width; bools/enums too).
    template <typename T>
    std::vector<T> read() const;
    /// read() that also shows the values to `inspect(values, count, offset)` piece by piece as
    /// they arrive (while they are still in cache): consecutive pieces covering every value
    /// once, except that a piece may be shown again when a failed fast path falls back.
    template <typename T>
    std::vector<T> read(const std::function<void(const T*, size_t, size_t)>& inspect) const;
    /// read() into `count` (= size()) values at `out`, caller-owned memory that need not be
    /// initialised: a large contiguous dataset is read from the file straight into place, so a
    /// matrix sized without zero-filling (DefaultInitVector) is written exactly once.
    template <typename T>
    void read_into(T* out, size_t count,
                   const std::function<void(const T*, size_t, size_t)>& inspect = {}) const;
    /// Elements [offset, offset + count) of a 1-D dataset.
    template <typename T>
    std::vector<T> read_range(hsize_t offset, hsize_t count) const;
    /// read_range() into `count` values at `out`.
    template <typename T>
    void read_range_into(T* out, hsize_t offset, hsize_t count) const;
    /// Rows [offset, offset + count) of a 2-D dataset, row-major.
    template <typename T>
    std::vector<T> read_rows(hsize_t offset, hsize_t count) const;
    /// Writes rows [offset, offset + count) of a 2-D dataset from row-major data.
    template <typename T>
    void write_rows(hsize_t offset, hsize_t count, const std::vector<T>& values);
    /// Fixed or variable length strings, 1-D or scalar.
    std::vector<std::string> read_strings() const;

    /// Compound datasets (pre-0.7 AnnData): member names and one member read as numbers/strings.
    std::vector<std::string> member_names() const;
    TypeInfo member_type(const std::string& member) const;
    std::vector<double> read_member_numbers(const std::string& member) const;
    std::vector<std::string> read_member_strings(const std::string& member) const;
};

template <typename T, typename Allocator>
Dataset Group::write(const std::string& name, const std::vector<T, Allocator>& values,
                     const std::vector<hsize_t>& shape, int gzip_level) {
    return write_values(name, values.data(), values.size(), shape, gzip_level);
}

template <typename T, typename Allocator>
Dataset Group::write_deferred(const std::string& name, const std::vector<T, Allocator>& values,
                              const std::vector<hsize_t>& shape) {
    return write_values_deferred(name, values.data(), values.size(), shape);
}

/// Registers the LZF filter (h5py's id 32000) once, so files written by h5py with LZF open
/// without any plugin path.
void register_lzf_filter();

}  // namespace transcura::h5
