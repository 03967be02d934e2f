#include "hdf5/direct_read.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "hdf5/h5.hpp"

namespace transcura::h5 {

RawExtent contiguous_extent(hid_t dataset, hid_t memory_type) {
    RawExtent none;
    Handle plist(H5Dget_create_plist(dataset));
    if (!plist.valid()) {
        H5Eclear2(H5E_DEFAULT);
        return none;
    }
    if (H5Pget_layout(plist.get()) != H5D_CONTIGUOUS || H5Pget_external_count(plist.get()) != 0)
        return none;
    Handle stored(H5Dget_type(dataset));
    if (!stored.valid() || H5Tequal(stored.get(), memory_type) <= 0) {
        H5Eclear2(H5E_DEFAULT);
        return none;
    }
    const haddr_t address = H5Dget_offset(dataset);
    if (address == HADDR_UNDEF) {
        H5Eclear2(H5E_DEFAULT);
        return none;
    }
    return RawExtent{static_cast<int64_t>(address),
                     static_cast<size_t>(H5Dget_storage_size(dataset))};
}

bool read_raw(const std::string& file, const RawExtent& extent, void* out) {
    if (extent.offset < 0) return false;
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    ::posix_fadvise(fd, extent.offset, static_cast<off_t>(extent.bytes), POSIX_FADV_SEQUENTIAL);
    char* destination = static_cast<char*>(out);
    size_t done = 0;
    bool ok = true;
    while (done < extent.bytes) {
        // At most 1 GiB per call: Linux caps a single pread a little below 2 GiB anyway.
        const size_t want = std::min(extent.bytes - done, size_t{1} << 30);
        const ssize_t got = ::pread(fd, destination + done, want,
                                    static_cast<off_t>(extent.offset + static_cast<int64_t>(done)));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {  // error, or the file ends early (truncated)
            ok = false;
            break;
        }
        done += static_cast<size_t>(got);
    }
    ::close(fd);
    return ok;
}

}  // namespace transcura::h5
