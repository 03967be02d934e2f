#pragma once
// Typed errors. Every message names the file, the object inside it and the problem, so that a
// user reading a dialog or a CLI line knows what to fix.
#include <stdexcept>
#include <string>

namespace transcura {

/// Base of every error Transcura throws on purpose.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Malformed or unsupported input: "<file>: <object>: <problem>".
class FormatError : public Error {
public:
    FormatError(const std::string& file, const std::string& object, const std::string& problem)
        : Error(compose(file, object, problem)), file_(file), object_(object), problem_(problem) {}

    const std::string& file() const noexcept { return file_; }
    const std::string& object() const noexcept { return object_; }
    const std::string& problem() const noexcept { return problem_; }

    static std::string compose(const std::string& file, const std::string& object,
                               const std::string& problem) {
        std::string message = file.empty() ? std::string("<memory>") : file;
        if (!object.empty()) message += ": " + object;
        message += ": " + problem;
        return message;
    }

private:
    std::string file_, object_, problem_;
};

/// Operating-system level failure (cannot open, cannot write, rename failed).
class IoError : public Error {
public:
    using Error::Error;
};

/// An HDF5 library call failed; the message carries HDF5's own error stack.
class HdfError : public FormatError {
public:
    using FormatError::FormatError;
};

/// Invalid arguments to an algorithm or a request that does not fit the data.
class InvalidArgument : public Error {
public:
    using Error::Error;
};

/// Thrown by long-running steps when their cancel token is set.
class Cancelled : public Error {
public:
    Cancelled() : Error("cancelled") {}
};

} // namespace transcura
