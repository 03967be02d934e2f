#pragma once
// Line-oriented reading and writing of plain or gzip-compressed text (zlib reads both
// transparently). A gzip stream that ends early or is corrupt is a FormatError naming the file,
// never a silently shorter table.
#include <zlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace transcura {

class TextReader {
public:
    explicit TextReader(const std::filesystem::path& path);
    ~TextReader();
    TextReader(const TextReader&) = delete;
    TextReader& operator=(const TextReader&) = delete;

    /// Next line without its terminator ("\n" or "\r\n"); false at the end.
    bool next_line(std::string_view& line);
    /// 1-based number of the line last returned.
    int64_t line_number() const { return line_number_; }
    const std::string& file() const { return file_; }

private:
    bool fill();

    gzFile handle_ = nullptr;
    std::string file_;
    std::vector<char> buffer_;
    size_t begin_ = 0, end_ = 0;
    bool eof_ = false;
    std::string carry_;  // a line longer than the buffer
    int64_t line_number_ = 0;
};

class TextWriter {
public:
    /// gzip when `gzip` is true (level 6), plain text otherwise.
    TextWriter(const std::filesystem::path& path, bool gzip);
    ~TextWriter();
    TextWriter(const TextWriter&) = delete;
    TextWriter& operator=(const TextWriter&) = delete;

    void write(std::string_view text);
    /// Flushes and closes; throws IoError on failure.
    void close();

private:
    void flush_buffer();

    gzFile handle_ = nullptr;
    std::string file_;
    std::string buffer_;
};

/// Splits on `delimiter`, honouring double quotes ("a,b" and "" escapes) when `quoted`.
void split_fields(std::string_view line, char delimiter, std::vector<std::string_view>& fields,
                  std::vector<std::string>& unquoted_storage);

/// Shortest text that reads back to the same float/double.
void append_number(std::string& out, double value);
void append_number(std::string& out, float value);

}  // namespace transcura
