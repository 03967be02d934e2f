#include "transcura/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>

#include "transcura/errors.hpp"

namespace transcura {

namespace fs = std::filesystem;

bool same_file(const fs::path& a, const fs::path& b) {
    std::error_code error;
    if (!fs::exists(a, error) || !fs::exists(b, error)) return false;
    return fs::equivalent(a, b, error);
}

namespace {
std::string unique_suffix() {
    static std::atomic<unsigned> counter{0};
    std::random_device device;
    return std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
           std::to_string(device() % 1000000);
}

void fsync_path(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}
}  // namespace

AtomicOutput::AtomicOutput(fs::path final_path, bool overwrite, bool directory,
                           const std::string& protected_source)
    : final_(std::move(final_path)), overwrite_(overwrite), directory_(directory) {
    if (final_.filename().empty()) final_ = final_.parent_path();  // "out/" names the folder
    std::error_code error;
    if (!protected_source.empty() && same_file(final_, protected_source))
        throw IoError(final_.string() + ": refusing to overwrite the source file");
    if (fs::exists(final_, error) && !overwrite_)
        throw IoError(final_.string() + ": already exists (pass --overwrite to replace it)");
    fs::path parent = final_.has_parent_path() ? final_.parent_path() : fs::path(".");
    if (!fs::exists(parent, error)) {
        fs::create_directories(parent, error);
        if (error) throw IoError(parent.string() + ": cannot create directory: " + error.message());
    }
    // The temporary keeps the final name's extension so format writers that look at it agree.
    temp_ = parent / (".transcura-tmp-" + unique_suffix() + "-" + final_.filename().string());
    if (directory_) {
        fs::create_directory(temp_, error);
        if (error) throw IoError(temp_.string() + ": cannot create directory: " + error.message());
    }
}

AtomicOutput::~AtomicOutput() {
    if (committed_) return;
    std::error_code error;
    fs::remove_all(temp_, error);
}

void AtomicOutput::commit() {
    std::error_code error;
    if (directory_) {
        for (const auto& entry : fs::directory_iterator(temp_, error)) fsync_path(entry.path());
    } else {
        fsync_path(temp_);
    }
    if (fs::exists(final_, error)) {
        if (!overwrite_) throw IoError(final_.string() + ": already exists");
        if (fs::is_directory(final_, error) && directory_) {
            // rename() cannot replace a non-empty directory: move the old one aside first.
            fs::path aside = final_.string() + ".transcura-old-" + unique_suffix();
            fs::rename(final_, aside, error);
            if (error) throw IoError(final_.string() + ": cannot replace: " + error.message());
            fs::rename(temp_, final_, error);
            if (error) {
                fs::rename(aside, final_);
                throw IoError(final_.string() + ": cannot rename into place: " + error.message());
            }
            fs::remove_all(aside, error);
            committed_ = true;
            return;
        }
    }
    fs::rename(temp_, final_, error);
    if (error) throw IoError(final_.string() + ": cannot rename into place: " + error.message());
    committed_ = true;
    fsync_path(final_.has_parent_path() ? final_.parent_path() : fs::path("."));
}

}  // namespace transcura
