#pragma once
// Reading a large dataset's raw bytes with pread instead of through HDF5, where that is exactly
// equivalent: contiguous layout (so no filters), allocated, stored in the very type and byte order
// we want. HDF5 is not thread-safe, so every HDF5 read runs under one process-wide lock; the
// bytes of an uncompressed dataset do not need it, which lets a sparse matrix's data and indices
// load in parallel (page faults and copies on two cores instead of one).
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace transcura::h5 {

/// Where a dataset's bytes sit in its file.
struct RawExtent {
    int64_t offset = -1;  // -1: not readable directly
    size_t bytes = 0;
};

/// The extent of `dataset` when its stored type equals `memory_type` and its layout is
/// contiguous and allocated; offset -1 otherwise. Call with the HDF5 lock held.
RawExtent contiguous_extent(hid_t dataset, hid_t memory_type);

/// Told after each piece [offset, offset + count) of the extent (bytes) has landed in place.
using RawArrived = std::function<void(size_t offset, size_t count)>;

/// Reads the `extent.bytes` bytes at `extent.offset` of `file` into `destination` (that many
/// bytes, need not be initialised), in order, calling `arrived` after each piece; pieces are
/// whole multiples of `unit` bytes (the element size). A cached file is read with pread straight
/// into `destination` (no buffer in between: the copy out of one was ~15% of reading 1.4 GB),
/// in pieces small enough to be still in cache when `arrived` looks at them. False on any
/// failure, possibly after some pieces (the caller then reads through HDF5, which reports the
/// problem properly). Needs no lock.
bool read_raw(const std::string& file, const RawExtent& extent, size_t unit, char* destination,
              const RawArrived& arrived);

/// Writes each extent's bytes at its offset of the (closed) HDF5 `file`: the 4 KiB-aligned bulk
/// with O_DIRECT through two aligned bounce buffers (copy one while the other is written), the
/// rest and anything O_DIRECT refuses (tmpfs, odd offsets) with ordinary writes. Bypassing the
/// page cache measured 1.5 s instead of 4-7 s for 1.4 GB here (buffered writes plus the fsync
/// of the atomic output), and it does not evict the page cache of the rest of the machine.
/// The price, accepted: the written matrix is not in the page cache afterwards. Reading it
/// right back takes read_raw's O_DIRECT path (measured: 20k x 20k cells, 262 MB, 0.73 s cold
/// against 0.29 s warm), and since O_DIRECT reads do not fill the cache either, every read of
/// that file stays at that speed until something reads it buffered (`cat`, anndata: 3-4 s cold
/// for 1.4 GB, then warm). Writing through the cache instead costs 3-5 s more on every write
/// and evicts other data, for a gain only when the same output is read again several times;
/// benchmarks that re-read a just-written file warm it first (bench_read.sh, bench_pipeline.sh).
/// Throws HdfError naming `file` and the dataset on failure. Needs no lock.
struct DeferredWrite;
void write_raw(const std::string& file, const std::vector<DeferredWrite>& writes);

}  // namespace transcura::h5
