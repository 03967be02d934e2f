#include "hdf5/direct_read.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>

#include "hdf5/h5.hpp"
#include "transcura/errors.hpp"

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

namespace {

constexpr size_t kDirectAlignment = 4096;          // covers 512 and 4096-byte logical blocks
constexpr size_t kBounceBytes = size_t{16} << 20;  // 16 MiB per write: full disk speed here

struct Descriptor {
    int fd = -1;
    ~Descriptor() {
        if (fd >= 0) ::close(fd);
    }
};

struct FreeAligned {
    void operator()(char* p) const { std::free(p); }
};

/// Writes all of [data, data + bytes) at `offset`; errno of the failure, or 0.
int write_all(int fd, const char* data, size_t bytes, int64_t offset) {
    size_t done = 0;
    while (done < bytes) {
        const size_t want = std::min(bytes - done, size_t{1} << 30);
        const ssize_t put = ::pwrite(fd, data + done, want,
                                     static_cast<off_t>(offset + static_cast<int64_t>(done)));
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) return errno;
        if (put == 0) return EIO;
        done += static_cast<size_t>(put);
    }
    return 0;
}

/// The aligned prefix of `write` through O_DIRECT; returns how many bytes went out (0 when the
/// kernel refuses direct I/O here, so the caller writes everything the ordinary way).
size_t write_direct(int fd, const DeferredWrite& write, char* const buffers[2],
                    const std::string& file) {
    const size_t aligned = write.bytes & ~(kDirectAlignment - 1);
    const char* source = static_cast<const char*>(write.data);
    std::future<int> pending;
    size_t pending_bytes = 0;
    size_t written = 0;
    bool refused = false;
    auto finish_pending = [&] {
        if (!pending.valid()) return;
        const int error = pending.get();
        if (error == EINVAL && written == 0)
            refused = true;  // no direct I/O on this file
        else if (error != 0)
            throw HdfError(file, write.path,
                           std::string("cannot write data: ") + std::strerror(error));
        else
            written += pending_bytes;
    };
    for (size_t start = 0, turn = 0; start < aligned && !refused; start += kBounceBytes, ++turn) {
        const size_t count = std::min(kBounceBytes, aligned - start);
        char* buffer = buffers[turn % 2];
        std::memcpy(buffer, source + start, count);  // overlaps the previous block's write
        finish_pending();
        if (refused) break;
        pending_bytes = count;
        pending =
            std::async(std::launch::async,
                       [fd, buffer, count, offset = write.offset + static_cast<int64_t>(start)] {
                           return write_all(fd, buffer, count, offset);
                       });
    }
    finish_pending();
    return refused ? 0 : written;
}

}  // namespace

void write_raw(const std::string& file, const std::vector<DeferredWrite>& writes) {
    if (writes.empty()) return;
    Descriptor buffered{::open(file.c_str(), O_WRONLY | O_CLOEXEC)};
    if (buffered.fd < 0)
        throw HdfError(file, "/",
                       std::string("cannot reopen to write data: ") + std::strerror(errno));
    Descriptor direct{::open(file.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT)};
    std::unique_ptr<char, FreeAligned> memory;
    char* buffers[2] = {nullptr, nullptr};
    if (direct.fd >= 0) {
        memory.reset(static_cast<char*>(std::aligned_alloc(kDirectAlignment, 2 * kBounceBytes)));
        if (memory) {
            buffers[0] = memory.get();
            buffers[1] = memory.get() + kBounceBytes;
        }
    }
    for (const DeferredWrite& write : writes) {
        size_t done = 0;
        if (buffers[0] && write.offset >= 0 &&
            static_cast<size_t>(write.offset) % kDirectAlignment == 0)
            done = write_direct(direct.fd, write, buffers, file);
        const int error = write_all(buffered.fd, static_cast<const char*>(write.data) + done,
                                    write.bytes - done, write.offset + static_cast<int64_t>(done));
        if (error != 0)
            throw HdfError(file, write.path,
                           std::string("cannot write data: ") + std::strerror(error));
    }
}

}  // namespace transcura::h5
