#pragma once
// Reading a large dataset's raw bytes with pread instead of through HDF5, where that is exactly
// equivalent: contiguous layout (so no filters), allocated, stored in the very type and byte order
// we want. HDF5 is not thread-safe, so every HDF5 read runs under one process-wide lock; the
// bytes of an uncompressed dataset do not need it, which lets a sparse matrix's data and indices
// load in parallel (page faults and copies on two cores instead of one).
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace transcura::h5 {

/// Where a dataset's bytes sit in its file.
struct RawExtent {
    int64_t offset = -1;  // -1: not readable directly
    size_t bytes = 0;
};

/// The extent of `dataset` when its stored type equals `memory_type` and its layout is
/// contiguous and allocated; offset -1 otherwise. Call with the HDF5 lock held.
RawExtent contiguous_extent(hid_t dataset, hid_t memory_type);

/// Reads `extent.bytes` bytes at `extent.offset` of `file` into `out`; false on any failure
/// (the caller then reads through HDF5, which reports the problem properly). Needs no lock.
bool read_raw(const std::string& file, const RawExtent& extent, void* out);

}  // namespace transcura::h5
