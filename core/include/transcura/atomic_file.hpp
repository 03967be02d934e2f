#pragma once
// Outputs are written to a temporary sibling and renamed into place, so a failure or a kill
// never leaves a partial file under the final name, and a source is never opened for writing.
#include <filesystem>
#include <string>

namespace transcura {

class AtomicOutput {
public:
    /// `final_path` is where the result goes; `directory` makes the temporary a folder.
    /// Throws IoError when the target exists and !overwrite, or when it is `protected_source`.
    AtomicOutput(std::filesystem::path final_path, bool overwrite, bool directory = false,
                 const std::string& protected_source = {});
    ~AtomicOutput();  // removes the temporary unless committed
    AtomicOutput(const AtomicOutput&) = delete;
    AtomicOutput& operator=(const AtomicOutput&) = delete;

    const std::filesystem::path& temp_path() const { return temp_; }
    const std::filesystem::path& final_path() const { return final_; }
    /// fsyncs and renames the temporary onto the final path.
    void commit();

private:
    std::filesystem::path final_;
    std::filesystem::path temp_;
    bool overwrite_;
    bool directory_;
    bool committed_ = false;
};

/// True when both paths name the same existing file (after symlinks).
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b);

}  // namespace transcura
