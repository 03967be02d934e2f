#include "io/text_reader.hpp"

#include <charconv>
#include <cstring>

#include "transcura/errors.hpp"

namespace transcura {

namespace {
constexpr size_t kBufferSize = 1 << 20;

/// zlib's description of the last failure; the OS's when zlib reports a system error.
std::string last_error(gzFile handle) {
    int code = 0;
    const char* message = gzerror(handle, &code);
    if (code == Z_ERRNO) return std::strerror(errno);
    return message && *message ? message : "disk full?";
}
}  // namespace

TextReader::TextReader(const std::filesystem::path& path) : file_(path.string()) {
    handle_ = gzopen(file_.c_str(), "rb");
    if (!handle_) throw FormatError(file_, "", std::string("cannot open: ") + std::strerror(errno));
    gzbuffer(handle_, 1 << 17);
    buffer_.resize(kBufferSize);
}

TextReader::~TextReader() {
    if (handle_) gzclose(handle_);
}

bool TextReader::fill() {
    if (eof_) return false;
    // Keep the unfinished tail at the front.
    if (begin_ > 0) {
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    int got = gzread(handle_, buffer_.data() + end_, static_cast<unsigned>(buffer_.size() - end_));
    if (got < 0) {
        int code = 0;
        const char* message = gzerror(handle_, &code);
        throw FormatError(file_, "gzip stream after line " + std::to_string(line_number_),
                          std::string("corrupt or truncated gzip data: ") +
                                         (message ? message : "read error"));
    }
    if (got == 0) {
        int code = 0;
        const char* message = gzerror(handle_, &code);
        if (code != Z_OK && code != Z_STREAM_END)
            throw FormatError(file_, "gzip stream after line " + std::to_string(line_number_),
                              std::string("gzip stream ends early (truncated file?): ") +
                                             (message ? message : ""));
        eof_ = true;
        return false;
    }
    end_ += static_cast<size_t>(got);
    return true;
}

bool TextReader::next_line(std::string_view& line) {
    while (true) {
        const char* start = buffer_.data() + begin_;
        const void* newline = std::memchr(start, '\n', end_ - begin_);
        if (newline) {
            size_t length = static_cast<const char*>(newline) - start;
            begin_ += length + 1;
            if (length > 0 && start[length - 1] == '\r') --length;
            line = std::string_view(start, length);
            ++line_number_;
            return true;
        }
        if (!fill()) {
            if (begin_ == end_) return false;
            // Last line without a terminator.
            size_t length = end_ - begin_;
            const char* last = buffer_.data() + begin_;
            begin_ = end_;
            if (length > 0 && last[length - 1] == '\r') --length;
            line = std::string_view(last, length);
            ++line_number_;
            return true;
        }
    }
}

TextWriter::TextWriter(const std::filesystem::path& path, bool gzip) : file_(path.string()) {
    handle_ = gzopen(file_.c_str(), gzip ? "wb6" : "wbT");
    if (!handle_) throw IoError(file_ + ": cannot create: " + std::strerror(errno));
    buffer_.reserve(kBufferSize + 4096);
}

TextWriter::~TextWriter() {
    if (handle_) gzclose(handle_);
}

void TextWriter::flush_buffer() {
    if (buffer_.empty()) return;
    if (gzwrite(handle_, buffer_.data(), static_cast<unsigned>(buffer_.size())) !=
        static_cast<int>(buffer_.size()))
        throw IoError(file_ + ": write failed: " + last_error(handle_));
    buffer_.clear();
}

void TextWriter::write(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() >= kBufferSize) flush_buffer();
}

void TextWriter::close() {
    if (!handle_) return;
    flush_buffer();
    int status = gzclose(handle_);
    handle_ = nullptr;
    if (status != Z_OK)
        throw IoError(file_ + ": closing failed: " +
                      (status == Z_ERRNO ? std::string(std::strerror(errno)) : "zlib error"));
}

void split_fields(std::string_view line, char delimiter, std::vector<std::string_view>& fields,
                  std::vector<std::string>& storage) {
    fields.clear();
    storage.clear();
    if (line.find('"') == std::string_view::npos) {
        size_t start = 0;
        while (true) {
            size_t at = line.find(delimiter, start);
            if (at == std::string_view::npos) {
                fields.push_back(line.substr(start));
                return;
            }
            fields.push_back(line.substr(start, at - start));
            start = at + 1;
        }
    }
    // Quoted fields: unescape into storage, then point the views at it.
    std::vector<std::string> values(1);
    bool in_quotes = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (in_quotes) {
            if (c == '"') {
                if (i + 1 < line.size() && line[i + 1] == '"') {
                    values.back() += '"';
                    ++i;
                } else {
                    in_quotes = false;
                }
            } else {
                values.back() += c;
            }
        } else if (c == '"') {
            in_quotes = true;
        } else if (c == delimiter) {
            values.emplace_back();
        } else {
            values.back() += c;
        }
    }
    storage = std::move(values);
    for (const auto& v : storage) fields.emplace_back(v);
}

void append_number(std::string& out, double value) {
    char buffer[32];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

void append_number(std::string& out, float value) {
    char buffer[32];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
}

}  // namespace transcura
