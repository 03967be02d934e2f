#include "hdf5/h5.hpp"

#include "hdf5/direct_read.hpp"

#include <lzf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

namespace transcura::h5 {

namespace {

herr_t collect_error(unsigned, const H5E_error2_t* error, void* data) {
    auto* text = static_cast<std::string*>(data);
    if (error->desc && *error->desc) {
        if (!text->empty()) text->append("; ");
        text->append(error->desc);
    }
    return 0;
}

/// HDF5's own description of the last failure, innermost first.
std::string take_error_stack() {
    std::string text;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_error, &text);
    H5Eclear2(H5E_DEFAULT);
    return text.empty() ? std::string("HDF5 call failed") : "HDF5: " + text;
}

void initialise_library() {
    static bool done = [] {
        // No library shutdown at exit: after a failed write (disk full, file-size limit) HDF5
        // cannot close the file (H5Fclose fails, the id stays open) and its atexit handler then
        // crashes closing it again. The OS releases everything at exit anyway. Must be the first
        // HDF5 call of the process.
        H5dont_atexit();
        // Errors are reported through exceptions, not printed by the library.
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        register_lzf_filter();
        return true;
    }();
    (void)done;
}

template <typename T>
hid_t native_type();
template <> hid_t native_type<float>() { return H5T_NATIVE_FLOAT; }
template <> hid_t native_type<double>() { return H5T_NATIVE_DOUBLE; }
template <> hid_t native_type<int8_t>() { return H5T_NATIVE_INT8; }
template <> hid_t native_type<uint8_t>() { return H5T_NATIVE_UINT8; }
template <> hid_t native_type<int32_t>() { return H5T_NATIVE_INT32; }
template <> hid_t native_type<uint32_t>() { return H5T_NATIVE_UINT32; }
template <> hid_t native_type<int64_t>() { return H5T_NATIVE_INT64; }
template <> hid_t native_type<uint64_t>() { return H5T_NATIVE_UINT64; }

Handle variable_string_type() {
    Handle t(H5Tcopy(H5T_C_S1));
    H5Tset_size(t.get(), H5T_VARIABLE);
    H5Tset_cset(t.get(), H5T_CSET_UTF8);
    return t;
}

/// h5py stores numpy bools as an 8-bit enum {FALSE = 0, TRUE = 1}.
Handle bool_enum_type() {
    Handle t(H5Tenum_create(H5T_NATIVE_INT8));
    int8_t value = 0;
    H5Tenum_insert(t.get(), "FALSE", &value);
    value = 1;
    H5Tenum_insert(t.get(), "TRUE", &value);
    return t;
}

TypeInfo describe(hid_t type) {
    TypeInfo info;
    info.size = H5Tget_size(type);
    switch (H5Tget_class(type)) {
    case H5T_INTEGER:
        info.cls = TypeClass::Integer;
        info.is_signed = H5Tget_sign(type) == H5T_SGN_2;
        break;
    case H5T_FLOAT: info.cls = TypeClass::Float; break;
    case H5T_STRING:
        info.cls = TypeClass::String;
        info.variable_string = H5Tis_variable_str(type) > 0;
        break;
    case H5T_ENUM: {
        info.cls = TypeClass::Enum;
        int members = H5Tget_nmembers(type);
        if (members == 2 && info.size == 1) {
            char* name = H5Tget_member_name(type, 0);
            if (name && (std::strcmp(name, "FALSE") == 0 || std::strcmp(name, "False") == 0))
                info.cls = TypeClass::Bool;
            H5free_memory(name);
        }
        break;
    }
    case H5T_COMPOUND: info.cls = TypeClass::Compound; break;
    default: info.cls = TypeClass::Other;
    }
    return info;
}

/// Strings of a fixed-size buffer: stop at NUL, drop space padding.
std::string fixed_string(const char* begin, size_t size, bool space_padded) {
    size_t length = strnlen(begin, size);
    if (space_padded)
        while (length > 0 && begin[length - 1] == ' ') --length;
    return std::string(begin, length);
}

size_t lzf_filter(unsigned int flags, size_t cd_nelmts, const unsigned int cd_values[],
                  size_t nbytes, size_t* buf_size, void** buf) {
    if (flags & H5Z_FLAG_REVERSE) {
        // h5py stores the chunk size in bytes as the third parameter.
        size_t out_size = (cd_nelmts >= 3 && cd_values[2] != 0) ? cd_values[2] : *buf_size;
        for (int attempt = 0; attempt < 8; ++attempt) {
            void* out = std::malloc(out_size);
            if (!out) return 0;
            unsigned int produced = lzf_decompress(*buf, static_cast<unsigned int>(nbytes), out,
                                                   static_cast<unsigned int>(out_size));
            if (produced != 0) {
                std::free(*buf);
                *buf = out;
                *buf_size = out_size;
                return produced;
            }
            std::free(out);
            if (errno != E2BIG) return 0;
            out_size *= 2;
        }
        return 0;
    }
    // Compression: fall back to storing uncompressed when LZF does not help.
    size_t out_size = nbytes > 4 ? nbytes - 1 : nbytes;
    void* out = std::malloc(out_size);
    if (!out) return 0;
    unsigned int produced = lzf_compress(*buf, static_cast<unsigned int>(nbytes), out,
                                         static_cast<unsigned int>(out_size));
    if (produced == 0) {
        std::free(out);
        return 0;
    }
    std::free(*buf);
    *buf = out;
    *buf_size = out_size;
    return produced;
}

}  // namespace

std::recursive_mutex& library_mutex() {
    static std::recursive_mutex mutex;
    return mutex;
}

void register_lzf_filter() {
    static const H5Z_class2_t lzf_class = {
        H5Z_CLASS_T_VERS, static_cast<H5Z_filter_t>(32000), 1, 1, "lzf", nullptr, nullptr,
        lzf_filter};
    if (H5Zfilter_avail(32000) <= 0) H5Zregister(&lzf_class);
}

void Handle::reset() {
    if (id_ < 0) return;
    Lock lock(library_mutex());  // destructors run outside the callers' locks
    switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
    }
    id_ = H5I_INVALID_HID;
}

// ---------------------------------------------------------------------------------------------
// Location

std::string Location::child_path(const std::string& name) const {
    if (path_.empty() || path_ == "/") return "/" + name;
    return path_ + "/" + name;
}

void Location::fail(const std::string& problem) const {
    throw HdfError(file_, path_.empty() ? "/" : path_, problem);
}

void Location::fail_child(const std::string& child, const std::string& problem) const {
    throw HdfError(file_, child_path(child), problem);
}

bool Location::has_attribute(const std::string& name) const {
    Lock lock(library_mutex());
    htri_t exists = H5Aexists(id(), name.c_str());
    if (exists < 0) fail("cannot check attribute '" + name + "': " + take_error_stack());
    return exists > 0;
}

namespace {
Handle open_attribute(const Location& at, const std::string& name) {
    Handle attribute(H5Aopen(at.id(), name.c_str(), H5P_DEFAULT));
    if (!attribute.valid())
        at.fail("cannot open attribute '" + name + "': " + take_error_stack());
    return attribute;
}
}  // namespace

TypeInfo Location::attribute_type(const std::string& name) const {
    Lock lock(library_mutex());
    Handle attribute = open_attribute(*this, name);
    Handle type(H5Aget_type(attribute.get()));
    return describe(type.get());
}

std::vector<std::string> Location::attribute_strings(const std::string& name) const {
    Lock lock(library_mutex());
    Handle attribute = open_attribute(*this, name);
    Handle type(H5Aget_type(attribute.get()));
    Handle space(H5Aget_space(attribute.get()));
    if (H5Tget_class(type.get()) != H5T_STRING) {
        // anndata writes an empty column-order as a float64 array.
        hssize_t n = H5Sget_simple_extent_npoints(space.get());
        if (n == 0) return {};
        fail("attribute '" + name + "' is not a string");
    }
    hssize_t n = H5Sget_simple_extent_type(space.get()) == H5S_NULL
                     ? 0
                     : H5Sget_simple_extent_npoints(space.get());
    std::vector<std::string> out;
    if (n <= 0) return out;
    if (H5Tis_variable_str(type.get()) > 0) {
        Handle memory = variable_string_type();
        std::vector<char*> buffer(static_cast<size_t>(n), nullptr);
        if (H5Aread(attribute.get(), memory.get(), buffer.data()) < 0)
            fail("cannot read attribute '" + name + "': " + take_error_stack());
        for (char* s : buffer) out.emplace_back(s ? s : "");
        H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, buffer.data());
    } else {
        size_t size = H5Tget_size(type.get());
        bool space_padded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
        std::vector<char> buffer(size * static_cast<size_t>(n) + 1, 0);
        if (H5Aread(attribute.get(), type.get(), buffer.data()) < 0)
            fail("cannot read attribute '" + name + "': " + take_error_stack());
        for (hssize_t i = 0; i < n; ++i)
            out.push_back(fixed_string(buffer.data() + i * size, size, space_padded));
    }
    return out;
}

std::string Location::attribute_string(const std::string& name) const {
    auto values = attribute_strings(name);
    if (values.size() != 1) fail("attribute '" + name + "' is not a single string");
    return values.front();
}

std::vector<int64_t> Location::attribute_ints(const std::string& name) const {
    Lock lock(library_mutex());
    Handle attribute = open_attribute(*this, name);
    Handle type(H5Aget_type(attribute.get()));
    H5T_class_t cls = H5Tget_class(type.get());
    if (cls != H5T_INTEGER && cls != H5T_FLOAT)
        fail("attribute '" + name + "' is not numeric");
    Handle space(H5Aget_space(attribute.get()));
    hssize_t n = H5Sget_simple_extent_npoints(space.get());
    std::vector<int64_t> out(static_cast<size_t>(std::max<hssize_t>(n, 0)));
    if (cls == H5T_FLOAT) {
        std::vector<double> values(out.size());
        if (H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, values.data()) < 0)
            fail("cannot read attribute '" + name + "': " + take_error_stack());
        for (size_t i = 0; i < values.size(); ++i) out[i] = static_cast<int64_t>(values[i]);
    } else if (H5Aread(attribute.get(), H5T_NATIVE_INT64, out.data()) < 0) {
        fail("cannot read attribute '" + name + "': " + take_error_stack());
    }
    return out;
}

bool Location::attribute_bool(const std::string& name) const {
    Lock lock(library_mutex());
    Handle attribute = open_attribute(*this, name);
    Handle type(H5Aget_type(attribute.get()));
    Handle native(H5Tget_native_type(type.get(), H5T_DIR_ASCEND));
    size_t size = H5Tget_size(native.get());
    std::vector<unsigned char> buffer(std::max<size_t>(size, 8), 0);
    if (H5Aread(attribute.get(), native.get(), buffer.data()) < 0)
        fail("cannot read attribute '" + name + "': " + take_error_stack());
    for (size_t i = 0; i < size; ++i)
        if (buffer[i]) return true;
    return false;
}

namespace {
void write_attribute(Location& at, const std::string& name, hid_t type, hid_t space,
                     const void* data) {
    if (H5Aexists(at.id(), name.c_str()) > 0) H5Adelete(at.id(), name.c_str());
    Handle attribute(H5Acreate2(at.id(), name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT));
    if (!attribute.valid() || H5Awrite(attribute.get(), type, data) < 0)
        at.fail("cannot write attribute '" + name + "': " + take_error_stack());
}
}  // namespace

void Location::set_attribute(const std::string& name, const std::string& value) {
    Lock lock(library_mutex());
    Handle type = variable_string_type();
    Handle space(H5Screate(H5S_SCALAR));
    const char* pointer = value.c_str();
    write_attribute(*this, name, type.get(), space.get(), &pointer);
}

void Location::set_attribute(const std::string& name, const std::vector<std::string>& values) {
    Lock lock(library_mutex());
    hsize_t n = values.size();
    Handle space(H5Screate_simple(1, &n, nullptr));
    if (values.empty()) {
        // HDF5 rejects a null buffer even for zero elements; anndata itself stores an empty
        // column-order as an empty float64 array.
        double unused = 0;
        write_attribute(*this, name, H5T_NATIVE_DOUBLE, space.get(), &unused);
        return;
    }
    Handle type = variable_string_type();
    std::vector<const char*> pointers;
    for (const auto& v : values) pointers.push_back(v.c_str());
    write_attribute(*this, name, type.get(), space.get(), pointers.data());
}

void Location::set_attribute(const std::string& name, const std::vector<int64_t>& values) {
    Lock lock(library_mutex());
    hsize_t n = values.size();
    Handle space(H5Screate_simple(1, &n, nullptr));
    write_attribute(*this, name, H5T_NATIVE_INT64, space.get(), values.data());
}

void Location::set_attribute(const std::string& name, bool value) {
    Lock lock(library_mutex());
    Handle type = bool_enum_type();
    Handle space(H5Screate(H5S_SCALAR));
    int8_t v = value ? 1 : 0;
    write_attribute(*this, name, type.get(), space.get(), &v);
}

// ---------------------------------------------------------------------------------------------
// Group

bool Group::exists(const std::string& relative) const {
    Lock lock(library_mutex());
    // H5Lexists fails on a missing intermediate group, so walk the path.
    std::string prefix;
    size_t start = 0;
    while (start <= relative.size()) {
        size_t slash = relative.find('/', start);
        std::string part = relative.substr(start, slash == std::string::npos ? std::string::npos
                                                                               : slash - start);
        if (!part.empty()) {
            prefix += (prefix.empty() ? "" : "/") + part;
            htri_t found = H5Lexists(id(), prefix.c_str(), H5P_DEFAULT);
            if (found <= 0) {
                H5Eclear2(H5E_DEFAULT);
                return false;
            }
            H5O_info_t info;
            if (H5Oget_info_by_name(id(), prefix.c_str(), &info, H5P_DEFAULT) < 0) {
                H5Eclear2(H5E_DEFAULT);
                return false;
            }
        }
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return true;
}

namespace {
H5O_type_t object_type(const Group& at, const std::string& relative) {
    if (!at.exists(relative)) return H5O_TYPE_UNKNOWN;
    Lock lock(library_mutex());
    H5O_info_t info;
    if (H5Oget_info_by_name(at.id(), relative.c_str(), &info, H5P_DEFAULT) < 0) {
        H5Eclear2(H5E_DEFAULT);
        return H5O_TYPE_UNKNOWN;
    }
    return info.type;
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
    static_cast<std::vector<std::string>*>(data)->emplace_back(name);
    return 0;
}
}  // namespace

bool Group::is_group(const std::string& relative) const {
    return object_type(*this, relative) == H5O_TYPE_GROUP;
}

bool Group::is_dataset(const std::string& relative) const {
    return object_type(*this, relative) == H5O_TYPE_DATASET;
}

std::vector<std::string> Group::children() const {
    Lock lock(library_mutex());
    std::vector<std::string> names;
    hsize_t index = 0;
    if (H5Literate(id(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_name, &names) < 0)
        fail("cannot list members: " + take_error_stack());
    return names;
}

Group Group::group(const std::string& relative) const {
    if (!is_group(relative)) fail_child(relative, "expected a group, found none");
    Lock lock(library_mutex());
    Handle handle(H5Gopen2(id(), relative.c_str(), H5P_DEFAULT));
    if (!handle.valid()) fail_child(relative, "cannot open group: " + take_error_stack());
    return Group(std::move(handle), file_, child_path(relative));
}

Dataset Group::dataset(const std::string& relative) const {
    if (!is_dataset(relative)) fail_child(relative, "expected a dataset, found none");
    Lock lock(library_mutex());
    Handle handle(H5Dopen2(id(), relative.c_str(), H5P_DEFAULT));
    if (!handle.valid()) fail_child(relative, "cannot open dataset: " + take_error_stack());
    return Dataset(std::move(handle), file_, child_path(relative));
}

Group Group::create_group(const std::string& name) {
    Lock lock(library_mutex());
    // No timestamps in object headers: the same cohort must give byte-identical files.
    Handle properties(H5Pcreate(H5P_GROUP_CREATE));
    H5Pset_obj_track_times(properties.get(), false);
    Handle handle(H5Gcreate2(id(), name.c_str(), H5P_DEFAULT, properties.get(), H5P_DEFAULT));
    if (!handle.valid()) fail_child(name, "cannot create group: " + take_error_stack());
    Group child(std::move(handle), file_, child_path(name));
    child.deferred_ = deferred_;
    return child;
}

namespace {
Handle creation_properties(const std::vector<hsize_t>& shape, size_t element_size, int gzip) {
    Handle properties(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_obj_track_times(properties.get(), false);
    hsize_t total = 1;
    for (hsize_t d : shape) total *= d;
    if (gzip <= 0 || total == 0 || shape.empty()) return properties;
    // Chunks of about 1 MiB along the first axis.
    std::vector<hsize_t> chunk = shape;
    hsize_t row_elements = total / shape[0];
    hsize_t rows = std::max<hsize_t>(1, (1u << 20) / std::max<size_t>(1, element_size * row_elements));
    chunk[0] = std::min(shape[0], rows);
    H5Pset_chunk(properties.get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_deflate(properties.get(), static_cast<unsigned>(gzip));
    return properties;
}

Dataset create_and_write(Group& at, const std::string& name, hid_t file_type, hid_t memory_type,
                         const std::vector<hsize_t>& shape, const void* data, int gzip,
                         const std::string& file) {
    Handle space(shape.empty() ? H5Screate(H5S_SCALAR)
                               : H5Screate_simple(static_cast<int>(shape.size()), shape.data(),
                                                  nullptr));
    Handle properties = creation_properties(shape, H5Tget_size(file_type), gzip);
    Handle dataset(H5Dcreate2(at.id(), name.c_str(), file_type, space.get(), H5P_DEFAULT,
                              properties.get(), H5P_DEFAULT));
    if (!dataset.valid()) at.fail_child(name, "cannot create dataset: " + take_error_stack());
    hsize_t total = 1;
    for (hsize_t d : shape) total *= d;
    if (total > 0 && H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        at.fail_child(name, "cannot write dataset: " + take_error_stack());
    return Dataset(std::move(dataset), file, at.child_path(name));
}
}  // namespace

template <typename T>
Dataset Group::write_values(const std::string& name, const T* values, size_t count,
                            const std::vector<hsize_t>& shape, int gzip_level) {
    Lock lock(library_mutex());
    std::vector<hsize_t> dims = shape.empty() ? std::vector<hsize_t>{count} : shape;
    return create_and_write(*this, name, native_type<T>(), native_type<T>(), dims, values,
                            gzip_level, file_);
}

template <typename T>
Dataset Group::write_values_deferred(const std::string& name, const T* values, size_t count,
                                     const std::vector<hsize_t>& shape) {
    const size_t bytes = count * sizeof(T);
    if (!deferred_ || bytes < kDeferredWriteBytes)
        return write_values(name, values, count, shape, 0);
    Lock lock(library_mutex());
    std::vector<hsize_t> dims = shape.empty() ? std::vector<hsize_t>{count} : shape;
    Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    Handle properties(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_obj_track_times(properties.get(), false);
    // Contiguous space allocated at creation and never filled: close() writes every byte.
    H5Pset_layout(properties.get(), H5D_CONTIGUOUS);
    H5Pset_alloc_time(properties.get(), H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_time(properties.get(), H5D_FILL_TIME_NEVER);
    Handle dataset(H5Dcreate2(id(), name.c_str(), native_type<T>(), space.get(), H5P_DEFAULT,
                              properties.get(), H5P_DEFAULT));
    if (!dataset.valid()) fail_child(name, "cannot create dataset: " + take_error_stack());
    const haddr_t address = H5Dget_offset(dataset.get());
    if (address == HADDR_UNDEF || H5Dget_storage_size(dataset.get()) != bytes) {
        H5Eclear2(H5E_DEFAULT);  // not where we can write it ourselves: let HDF5 write it
        if (H5Dwrite(dataset.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, values) <
            0)
            fail_child(name, "cannot write dataset: " + take_error_stack());
    } else {
        deferred_->push_back(
            DeferredWrite{static_cast<int64_t>(address), values, bytes, child_path(name)});
    }
    return Dataset(std::move(dataset), file_, child_path(name));
}

template <typename T>
Dataset Group::write_scalar(const std::string& name, T value) {
    Lock lock(library_mutex());
    return create_and_write(*this, name, native_type<T>(), native_type<T>(), {}, &value, 0, file_);
}

Dataset Group::write_bools(const std::string& name, const std::vector<uint8_t>& values,
                           int gzip_level) {
    Lock lock(library_mutex());
    Handle type = bool_enum_type();
    std::vector<int8_t> bytes(values.begin(), values.end());
    return create_and_write(*this, name, type.get(), type.get(), {values.size()}, bytes.data(),
                            gzip_level, file_);
}

Dataset Group::write_strings(const std::string& name, const std::vector<std::string>& values,
                             int gzip_level) {
    Lock lock(library_mutex());
    Handle type = variable_string_type();
    std::vector<const char*> pointers;
    pointers.reserve(values.size());
    for (const auto& v : values) pointers.push_back(v.c_str());
    return create_and_write(*this, name, type.get(), type.get(), {values.size()}, pointers.data(),
                            gzip_level, file_);
}

Dataset Group::write_string_scalar(const std::string& name, const std::string& value) {
    Lock lock(library_mutex());
    Handle type = variable_string_type();
    const char* pointer = value.c_str();
    return create_and_write(*this, name, type.get(), type.get(), {}, &pointer, 0, file_);
}

#define TRANSCURA_H5_INSTANTIATE(T)                                                              \
    template Dataset Group::write_values<T>(const std::string&, const T*, size_t,               \
                                            const std::vector<hsize_t>&, int);                  \
    template Dataset Group::write_values_deferred<T>(const std::string&, const T*, size_t,      \
                                                     const std::vector<hsize_t>&);              \
    template Dataset Group::write_scalar<T>(const std::string&, T);                             \
    template std::vector<T> Dataset::read<T>() const;                                           \
    template std::vector<T> Dataset::read<T>(                                                   \
        const std::function<void(const T*, size_t, size_t)>&) const;                            \
    template void Dataset::read_into<T>(T*, size_t,                                             \
                                        const std::function<void(const T*, size_t, size_t)>&)   \
        const;                                                                                  \
    template std::vector<T> Dataset::read_range<T>(hsize_t, hsize_t) const;                     \
    template void Dataset::read_range_into<T>(T*, hsize_t, hsize_t) const;                      \
    template std::vector<T> Dataset::read_rows<T>(hsize_t, hsize_t) const;                      \
    template void Dataset::write_rows<T>(hsize_t, hsize_t, const std::vector<T>&);             \
    template Dataset Group::create_matrix<T>(const std::string&, hsize_t, hsize_t, int);

// ---------------------------------------------------------------------------------------------
// File

File File::open_read_only(const std::filesystem::path& path) {
    Lock lock(library_mutex());
    initialise_library();
    const std::string name = path.string();
    std::error_code error;
    if (!std::filesystem::exists(path, error)) throw HdfError(name, "", "file does not exist");
    htri_t is_hdf5 = H5Fis_hdf5(name.c_str());
    if (is_hdf5 <= 0) {
        H5Eclear2(H5E_DEFAULT);
        throw HdfError(name, "", "not an HDF5 file (no HDF5 signature)");
    }
    Handle handle(H5Fopen(name.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (!handle.valid())
        throw HdfError(name, "/", "cannot open (truncated or corrupt?): " + take_error_stack());
    return File(std::move(handle), name, "/");
}

File File::create(const std::filesystem::path& path) {
    Lock lock(library_mutex());
    initialise_library();
    const std::string name = path.string();
    // Large datasets on 4 KiB boundaries, so their bytes can be written with O_DIRECT.
    Handle access(H5Pcreate(H5P_FILE_ACCESS));
    H5Pset_alignment(access.get(), hsize_t{1} << 20, 4096);
    Handle handle(H5Fcreate(name.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, access.get()));
    if (!handle.valid()) throw HdfError(name, "/", "cannot create: " + take_error_stack());
    File file(std::move(handle), name, "/");
    file.deferred_ = std::make_shared<DeferredWrites>();
    return file;
}

bool File::is_hdf5(const std::filesystem::path& path) {
    static const unsigned char signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    std::ifstream in(path, std::ios::binary);
    unsigned char head[8] = {};
    // The signature may sit at 0, 512, 1024, ... (user block); files we meet use 0 or 512.
    for (std::streamoff offset : {0, 512, 1024, 2048}) {
        in.clear();
        in.seekg(offset);
        if (!in.read(reinterpret_cast<char*>(head), 8)) return false;
        if (std::memcmp(head, signature, 8) == 0) return true;
    }
    return false;
}

void File::close() {
    {
        Lock lock(library_mutex());
        if (!handle_.valid()) return;
        if (H5Fflush(handle_.get(), H5F_SCOPE_GLOBAL) < 0)
            fail("cannot flush: " + take_error_stack());
        // Release our handle without a second close.
        Handle released = std::move(handle_);
    }
    // HDF5 never touches the deferred datasets' bytes (allocated, never filled), so they can be
    // written now, after its last write.
    if (deferred_) {
        const std::shared_ptr<DeferredWrites> writes = std::move(deferred_);
        write_raw(file_, *writes);
    }
}

// ---------------------------------------------------------------------------------------------
// Dataset

std::vector<hsize_t> Dataset::shape() const {
    Lock lock(library_mutex());
    Handle space(H5Dget_space(id()));
    int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) fail("cannot read shape: " + take_error_stack());
    std::vector<hsize_t> dims(static_cast<size_t>(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
    return dims;
}

int64_t Dataset::size() const {
    int64_t n = 1;
    for (hsize_t d : shape()) n *= static_cast<int64_t>(d);
    return n;
}

TypeInfo Dataset::type() const {
    Lock lock(library_mutex());
    Handle type(H5Dget_type(id()));
    return describe(type.get());
}

namespace {
// Below this a read through HDF5 costs next to nothing; above it the direct path pays off.
constexpr size_t kDirectReadBytes = size_t{8} << 20;

/// Faults in the pages of [data, data + bytes) with one madvise call: taking ~150,000 page
/// faults one by one was the largest part of reading a large matrix (about 15% less time). A
/// kernel without MADV_POPULATE_WRITE (before 5.14) just skips it.
/// (MADV_HUGEPAGE as well was tried: 0.6 s instead of 0.85 s for 1.4 GB when the kernel had huge
/// pages free, 2-3.6 s when it had to compact memory for them first, so it is not used.)
void prefault(void* data, size_t bytes) {
#ifdef MADV_POPULATE_WRITE
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) & ~(page - 1);
    const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(page - 1);
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
#else
    (void)data;
    (void)bytes;
#endif
}
}  // namespace

template <typename T>
std::vector<T> Dataset::read() const {
    return read<T>(std::function<void(const T*, size_t, size_t)>());
}

template <typename T>
std::vector<T> Dataset::read(const std::function<void(const T*, size_t, size_t)>& inspect) const {
    std::vector<T> out(static_cast<size_t>(size()));
    read_into(out.data(), out.size(), inspect);
    return out;
}

template <typename T>
void Dataset::read_into(T* out, size_t count,
                        const std::function<void(const T*, size_t, size_t)>& inspect) const {
    const int64_t n = size();
    if (count != static_cast<size_t>(n))
        fail("read into room for " + std::to_string(count) + " values, the dataset has " +
             std::to_string(n));
    if (static_cast<size_t>(n) * sizeof(T) >= kDirectReadBytes) {
        RawExtent extent;
        std::vector<hsize_t> dims;
        {
            Lock lock(library_mutex());
            extent = contiguous_extent(id(), native_type<T>());
        }
        if (extent.offset >= 0 && extent.bytes == static_cast<size_t>(n) * sizeof(T)) {
            dims = shape();
        }
        if (!dims.empty() && dims.size() <= 2) {
            // The bytes must be what HDF5 itself reads at both ends, or we do not trust the
            // offset (a user block, say) and read through HDF5 instead. The head is checked
            // on arrival, so `inspect` never sees values from a wrong offset.
            const hsize_t width = dims.size() == 2 ? dims[1] : std::min<hsize_t>(64, n);
            const hsize_t rows = dims.size() == 2 ? dims[0] : 1;
            const std::vector<T> head =
                dims.size() == 2 ? read_rows<T>(0, 1) : read_range<T>(0, width);
            prefault(out, count * sizeof(T));
            bool head_checked = false, trusted = false;
            size_t inspected = 0;
            const bool complete = read_raw(
                file_, extent, sizeof(T), reinterpret_cast<char*>(out),
                [&](size_t offset, size_t bytes) {
                    const size_t arrived = (offset + bytes) / sizeof(T);
                    if (!head_checked && arrived >= head.size()) {
                        head_checked = true;
                        trusted = std::memcmp(head.data(), out, head.size() * sizeof(T)) == 0;
                    }
                    if (inspect && trusted) {
                        inspect(out + inspected, arrived - inspected, inspected);
                        inspected = arrived;
                    }
                });
            if (complete && trusted) {
                const std::vector<T> tail = dims.size() == 2 ? read_rows<T>(rows - 1, 1)
                                                             : read_range<T>(n - width, width);
                if (std::memcmp(tail.data(), out + (n - tail.size()), tail.size() * sizeof(T)) ==
                    0)
                    return;
            }
        }
    }
    read_range_into(out, 0, static_cast<hsize_t>(n));
    if (inspect && n > 0) inspect(out, static_cast<size_t>(n), 0);
}

template <typename T>
std::vector<T> Dataset::read_range(hsize_t offset, hsize_t count) const {
    std::vector<T> out(count);
    read_range_into(out.data(), offset, count);
    return out;
}

template <typename T>
void Dataset::read_range_into(T* out, hsize_t offset, hsize_t count) const {
    Lock lock(library_mutex());
    Handle file_type(H5Dget_type(id()));
    TypeInfo info = describe(file_type.get());
    if (info.cls == TypeClass::String || info.cls == TypeClass::Compound ||
        info.cls == TypeClass::Other)
        fail("expected numbers, found a non-numeric element type");
    Handle space(H5Dget_space(id()));
    int rank = H5Sget_simple_extent_ndims(space.get());
    hssize_t total = H5Sget_simple_extent_npoints(space.get());
    if (offset + count > static_cast<hsize_t>(total))
        fail("read beyond the end of the dataset");
    if (count == 0) return;
    Handle memory_space(H5Screate_simple(1, &count, nullptr));
    if (rank == 1) {
        H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &offset, nullptr, &count, nullptr);
    } else if (!(offset == 0 && count == static_cast<hsize_t>(total))) {
        fail("partial reads need a 1-D dataset");
    }
    herr_t status;
    if (info.cls == TypeClass::Bool || info.cls == TypeClass::Enum) {
        // Enums do not convert to numbers: read their native bytes, widen by hand.
        Handle native(H5Tget_native_type(file_type.get(), H5T_DIR_ASCEND));
        Handle base(H5Tget_super(native.get()));
        size_t width = H5Tget_size(native.get());
        std::vector<unsigned char> bytes(count * width);
        status = H5Dread(id(), native.get(), memory_space.get(),
                         rank == 1 ? space.get() : H5S_ALL, H5P_DEFAULT, bytes.data());
        for (hsize_t i = 0; i < count; ++i) {
            int64_t value = 0;
            switch (width) {
            case 1: value = reinterpret_cast<int8_t*>(bytes.data())[i]; break;
            case 2: value = reinterpret_cast<int16_t*>(bytes.data())[i]; break;
            case 4: value = reinterpret_cast<int32_t*>(bytes.data())[i]; break;
            default: value = reinterpret_cast<int64_t*>(bytes.data())[i]; break;
            }
            out[i] = static_cast<T>(value);
        }
    } else {
        status = H5Dread(id(), native_type<T>(), memory_space.get(),
                         rank == 1 ? space.get() : H5S_ALL, H5P_DEFAULT, out);
    }
    if (status < 0) fail("cannot read data (corrupt or truncated?): " + take_error_stack());
}

template <typename T>
std::vector<T> Dataset::read_rows(hsize_t offset, hsize_t count) const {
    Lock lock(library_mutex());
    Handle space(H5Dget_space(id()));
    if (H5Sget_simple_extent_ndims(space.get()) != 2) fail("expected a 2-D dataset");
    hsize_t dims[2];
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    if (offset + count > dims[0]) fail("row read beyond the end of the dataset");
    auto cls = type().cls;
    if (cls != TypeClass::Integer && cls != TypeClass::Float) fail("expected numbers");
    std::vector<T> out(count * dims[1]);
    if (out.empty()) return out;
    hsize_t start[2] = {offset, 0}, extent[2] = {count, dims[1]};
    H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr);
    Handle memory_space(H5Screate_simple(2, extent, nullptr));
    if (H5Dread(id(), native_type<T>(), memory_space.get(), space.get(), H5P_DEFAULT,
                out.data()) < 0)
        fail("cannot read rows (corrupt or truncated?): " + take_error_stack());
    return out;
}

template <typename T>
void Dataset::write_rows(hsize_t offset, hsize_t count, const std::vector<T>& values) {
    Lock lock(library_mutex());
    Handle space(H5Dget_space(id()));
    hsize_t dims[2];
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    if (offset + count > dims[0] || values.size() != count * dims[1])
        fail("row block does not fit the dataset");
    if (values.empty()) return;
    hsize_t start[2] = {offset, 0}, extent[2] = {count, dims[1]};
    H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr);
    Handle memory_space(H5Screate_simple(2, extent, nullptr));
    if (H5Dwrite(id(), native_type<T>(), memory_space.get(), space.get(), H5P_DEFAULT,
                 values.data()) < 0)
        fail("cannot write rows: " + take_error_stack());
}

template <typename T>
Dataset Group::create_matrix(const std::string& name, hsize_t rows, hsize_t cols, int gzip_level) {
    Lock lock(library_mutex());
    hsize_t dims[2] = {rows, cols};
    Handle space(H5Screate_simple(2, dims, nullptr));
    Handle properties(H5Pcreate(H5P_DATASET_CREATE));
    H5Pset_obj_track_times(properties.get(), false);
    if (rows > 0 && cols > 0) {
        // loompy's chunking: 64 x 64 blocks suit both row and column access.
        hsize_t chunk[2] = {std::min<hsize_t>(rows, 64), std::min<hsize_t>(cols, 64)};
        H5Pset_chunk(properties.get(), 2, chunk);
        if (gzip_level > 0) H5Pset_deflate(properties.get(), static_cast<unsigned>(gzip_level));
    }
    Handle dataset(H5Dcreate2(id(), name.c_str(), native_type<T>(), space.get(), H5P_DEFAULT,
                              properties.get(), H5P_DEFAULT));
    if (!dataset.valid()) fail_child(name, "cannot create dataset: " + take_error_stack());
    return Dataset(std::move(dataset), file_, child_path(name));
}

std::vector<std::string> Dataset::read_strings() const {
    Lock lock(library_mutex());
    Handle type(H5Dget_type(id()));
    if (H5Tget_class(type.get()) != H5T_STRING) fail("expected strings");
    Handle space(H5Dget_space(id()));
    hssize_t n = H5Sget_simple_extent_npoints(space.get());
    std::vector<std::string> out;
    if (n <= 0) return out;
    out.reserve(static_cast<size_t>(n));
    if (H5Tis_variable_str(type.get()) > 0) {
        Handle memory(H5Tcopy(H5T_C_S1));
        H5Tset_size(memory.get(), H5T_VARIABLE);
        H5Tset_cset(memory.get(), H5Tget_cset(type.get()));
        std::vector<char*> buffer(static_cast<size_t>(n), nullptr);
        if (H5Dread(id(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
            fail("cannot read strings (corrupt or truncated?): " + take_error_stack());
        for (char* s : buffer) out.emplace_back(s ? s : "");
        H5Dvlen_reclaim(memory.get(), space.get(), H5P_DEFAULT, buffer.data());
    } else {
        size_t width = H5Tget_size(type.get());
        bool space_padded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
        std::vector<char> buffer(width * static_cast<size_t>(n) + 1, 0);
        if (H5Dread(id(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
            fail("cannot read strings (corrupt or truncated?): " + take_error_stack());
        for (hssize_t i = 0; i < n; ++i)
            out.push_back(fixed_string(buffer.data() + i * width, width, space_padded));
    }
    return out;
}

std::vector<std::string> Dataset::member_names() const {
    Lock lock(library_mutex());
    Handle type(H5Dget_type(id()));
    if (H5Tget_class(type.get()) != H5T_COMPOUND) fail("expected a compound dataset");
    std::vector<std::string> names;
    int n = H5Tget_nmembers(type.get());
    for (int i = 0; i < n; ++i) {
        char* name = H5Tget_member_name(type.get(), static_cast<unsigned>(i));
        names.emplace_back(name ? name : "");
        H5free_memory(name);
    }
    return names;
}

namespace {
Handle member_file_type(const Dataset& dataset, const std::string& member) {
    Handle type(H5Dget_type(dataset.id()));
    int index = H5Tget_member_index(type.get(), member.c_str());
    if (index < 0) dataset.fail("no member '" + member + "'");
    return Handle(H5Tget_member_type(type.get(), static_cast<unsigned>(index)));
}
}  // namespace

TypeInfo Dataset::member_type(const std::string& member) const {
    Lock lock(library_mutex());
    Handle type = member_file_type(*this, member);
    TypeInfo info = describe(type.get());
    if (H5Tget_class(type.get()) == H5T_ARRAY) {
        // obsm-style members hold fixed-size arrays: report the element class, size = count.
        Handle base(H5Tget_super(type.get()));
        info = describe(base.get());
        info.size = H5Tget_size(type.get()) / std::max<size_t>(1, H5Tget_size(base.get()));
        info.cls = info.cls == TypeClass::Float || info.cls == TypeClass::Integer
                       ? info.cls
                       : TypeClass::Other;
    }
    return info;
}

std::vector<double> Dataset::read_member_numbers(const std::string& member) const {
    Lock lock(library_mutex());
    Handle type = member_file_type(*this, member);
    const int64_t n = size();
    size_t per_row = 1;
    Handle element;
    if (H5Tget_class(type.get()) == H5T_ARRAY) {
        per_row = H5Tget_size(type.get()) / std::max<size_t>(1, H5Tget_size(H5Tget_super(type.get())));
        hsize_t dims = per_row;
        element = Handle(H5Tarray_create2(H5T_NATIVE_DOUBLE, 1, &dims));
    } else if (H5Tget_class(type.get()) == H5T_ENUM) {
        std::vector<double> out(static_cast<size_t>(n));
        Handle native(H5Tget_native_type(type.get(), H5T_DIR_ASCEND));
        size_t width = H5Tget_size(native.get());
        Handle compound(H5Tcreate(H5T_COMPOUND, width));
        H5Tinsert(compound.get(), member.c_str(), 0, native.get());
        std::vector<unsigned char> bytes(static_cast<size_t>(n) * width);
        if (H5Dread(id(), compound.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()) < 0)
            fail("cannot read member '" + member + "': " + take_error_stack());
        for (int64_t i = 0; i < n; ++i)
            out[static_cast<size_t>(i)] = width == 1 ? static_cast<int8_t>(bytes[i]) : bytes[i * width];
        return out;
    } else {
        element = Handle(H5Tcopy(H5T_NATIVE_DOUBLE));
    }
    size_t width = sizeof(double) * per_row;
    Handle compound(H5Tcreate(H5T_COMPOUND, width));
    H5Tinsert(compound.get(), member.c_str(), 0, element.get());
    std::vector<double> out(static_cast<size_t>(n) * per_row);
    if (H5Dread(id(), compound.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0)
        fail("cannot read member '" + member + "': " + take_error_stack());
    return out;
}

std::vector<std::string> Dataset::read_member_strings(const std::string& member) const {
    Lock lock(library_mutex());
    Handle type = member_file_type(*this, member);
    if (H5Tget_class(type.get()) != H5T_STRING) fail("member '" + member + "' is not a string");
    const int64_t n = size();
    std::vector<std::string> out;
    if (H5Tis_variable_str(type.get()) > 0) {
        Handle memory(H5Tcopy(H5T_C_S1));
        H5Tset_size(memory.get(), H5T_VARIABLE);
        Handle compound(H5Tcreate(H5T_COMPOUND, sizeof(char*)));
        H5Tinsert(compound.get(), member.c_str(), 0, memory.get());
        std::vector<char*> buffer(static_cast<size_t>(n), nullptr);
        if (H5Dread(id(), compound.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
            fail("cannot read member '" + member + "': " + take_error_stack());
        for (char* s : buffer) {
            out.emplace_back(s ? s : "");
            std::free(s);
        }
    } else {
        size_t width = H5Tget_size(type.get());
        bool space_padded = H5Tget_strpad(type.get()) == H5T_STR_SPACEPAD;
        Handle memory(H5Tcopy(type.get()));
        Handle compound(H5Tcreate(H5T_COMPOUND, width));
        H5Tinsert(compound.get(), member.c_str(), 0, memory.get());
        std::vector<char> buffer(width * static_cast<size_t>(n) + 1, 0);
        if (H5Dread(id(), compound.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
            fail("cannot read member '" + member + "': " + take_error_stack());
        for (int64_t i = 0; i < n; ++i)
            out.push_back(fixed_string(buffer.data() + i * width, width, space_padded));
    }
    return out;
}

TRANSCURA_H5_INSTANTIATE(float)
TRANSCURA_H5_INSTANTIATE(double)
TRANSCURA_H5_INSTANTIATE(int8_t)
TRANSCURA_H5_INSTANTIATE(uint8_t)
TRANSCURA_H5_INSTANTIATE(int32_t)
TRANSCURA_H5_INSTANTIATE(uint32_t)
TRANSCURA_H5_INSTANTIATE(int64_t)
TRANSCURA_H5_INSTANTIATE(uint64_t)

}  // namespace transcura::h5
