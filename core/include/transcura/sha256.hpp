#pragma once
// SHA-256 (FIPS 180-4) for provenance manifests: the input file and every output are hashed so
// a reader can check that the files are the ones the manifest describes.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "transcura/progress.hpp"

namespace transcura {

class Sha256 {
public:
    Sha256() { reset(); }
    void reset();
    void update(const void* data, size_t size);
    void update(std::string_view text) { update(text.data(), text.size()); }
    /// Finishes and returns the digest; the object must be reset() before reuse.
    std::array<uint8_t, 32> finish();
    /// Finishes and returns the lowercase hex digest.
    std::string hex();

private:
    void block(const uint8_t* chunk);
    std::array<uint32_t, 8> state_{};
    std::array<uint8_t, 64> buffer_{};
    size_t buffered_ = 0;
    uint64_t length_ = 0;  // bytes
};

std::string sha256_hex(std::string_view data);
/// Streams the file; throws IoError when it cannot be read. Polls control.check() per MiB and
/// reports progress (fraction of the size) when a callback is set.
std::string sha256_file(const std::string& path, const RunControl& control = {});

}  // namespace transcura
