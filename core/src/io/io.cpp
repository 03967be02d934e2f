#include "transcura/io.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>

#include <zlib.h>

#include "hdf5/h5.hpp"
#include "transcura/atomic_file.hpp"
#include "transcura/errors.hpp"
#include "transcura/h5ad.hpp"
#include "transcura/loom.hpp"
#include "transcura/tenx.hpp"
#include "transcura/text_table.hpp"

namespace transcura {

namespace fs = std::filesystem;

const char* to_string(Format format) {
    switch (format) {
    case Format::H5ad: return "h5ad";
    case Format::TenxH5: return "10x-h5";
    case Format::TenxMtx: return "10x-mtx";
    case Format::Loom: return "loom";
    case Format::Csv: return "csv";
    case Format::Tsv: return "tsv";
    default: return "unknown";
    }
}

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Format detect_hdf5_layout(const fs::path& path) {
    h5::File file = h5::File::open_read_only(path);
    if (file.is_dataset("matrix") && (file.exists("row_attrs") || file.exists("col_attrs")))
        return Format::Loom;
    if (file.is_group("matrix") && file.is_dataset("matrix/barcodes")) return Format::TenxH5;
    if (file.exists("obs") || file.exists("var") || file.exists("X")) return Format::H5ad;
    // Cell Ranger v2: one group per genome holding barcodes/genes/data.
    for (const auto& child : file.children())
        if (file.is_group(child) && file.is_dataset(child + "/barcodes") &&
            file.is_dataset(child + "/indptr"))
            return Format::TenxH5;
    std::string extension = lower(path.extension().string());
    if (extension == ".h5ad") return Format::H5ad;
    if (extension == ".loom") return Format::Loom;
    if (extension == ".h5") return Format::TenxH5;
    return Format::Unknown;
}

/// First bytes of a file, gunzipped when it is gzip.
std::string sniff_text(const fs::path& path, size_t bytes = 4096) {
    gzFile in = gzopen(path.c_str(), "rb");
    if (!in) return {};
    std::string buffer(bytes, '\0');
    int got = gzread(in, buffer.data(), static_cast<unsigned>(bytes));
    gzclose(in);
    buffer.resize(got > 0 ? static_cast<size_t>(got) : 0);
    return buffer;
}

}  // namespace

Format detect_format(const std::string& path_string) {
    fs::path path(path_string);
    std::error_code error;
    if (fs::is_directory(path, error)) {
        for (const char* name : {"matrix.mtx", "matrix.mtx.gz"})
            if (fs::exists(path / name, error)) return Format::TenxMtx;
        return Format::Unknown;
    }
    if (!fs::exists(path, error)) return Format::Unknown;
    if (h5::File::is_hdf5(path)) return detect_hdf5_layout(path);
    std::string head = sniff_text(path);
    if (head.rfind("%%MatrixMarket", 0) == 0) return Format::TenxMtx;
    std::string name = lower(path.filename().string());
    if (ends_with(name, ".gz")) name.resize(name.size() - 3);
    std::string first_line = head.substr(0, head.find('\n'));
    size_t tabs = std::count(first_line.begin(), first_line.end(), '\t');
    size_t commas = std::count(first_line.begin(), first_line.end(), ',');
    size_t semicolons = std::count(first_line.begin(), first_line.end(), ';');
    if (tabs > 0 && tabs >= commas) return Format::Tsv;
    if (commas > 0 || semicolons > 0) return Format::Csv;
    if (ends_with(name, ".tsv") || ends_with(name, ".txt")) return Format::Tsv;
    if (ends_with(name, ".csv")) return Format::Csv;
    return Format::Unknown;
}

Cohort read_cohort(const std::string& path, const ReadOptions& options) {
    std::error_code error;
    fs::path p(path);
    if (!fs::exists(p, error)) throw FormatError(path, "", "no such file or directory");
    fs::path source = p;
    // A matrix.mtx file given directly stands for its folder.
    Format format = detect_format(path);
    if (format == Format::TenxMtx && !fs::is_directory(p, error)) source = p.parent_path();
    Cohort cohort;
    switch (format) {
    case Format::H5ad: cohort = read_h5ad(source, options); break;
    case Format::TenxH5: cohort = read_10x_h5(source, options); break;
    case Format::TenxMtx: cohort = read_10x_mtx(source, options); break;
    case Format::Loom: cohort = read_loom(source, options); break;
    case Format::Csv:
    case Format::Tsv: cohort = read_text_table(source, options); break;
    default:
        throw FormatError(path, "",
                          "unrecognised format (expected .h5ad, 10x .h5 or MTX folder, .loom, "
                          "CSV or TSV)");
    }
    if (cohort.source_path.empty()) cohort.source_path = source.string();
    return cohort;
}

Format format_for_output(const std::string& path) {
    if (!path.empty() && path.back() == '/') return Format::TenxMtx;
    std::string name = lower(fs::path(path).filename().string());
    if (ends_with(name, ".h5ad")) return Format::H5ad;
    if (ends_with(name, ".loom")) return Format::Loom;
    if (ends_with(name, ".csv") || ends_with(name, ".csv.gz")) return Format::Csv;
    if (ends_with(name, ".tsv") || ends_with(name, ".tsv.gz") || ends_with(name, ".txt"))
        return Format::Tsv;
    return Format::Unknown;
}

void write_cohort(const Cohort& cohort, const std::string& path, Format format,
                  const WriteOptions& options) {
    if (format == Format::Unknown || format == Format::TenxH5)
        throw InvalidArgument(path + ": cannot tell which format to write (use .h5ad, .loom, "
                                     ".csv, .tsv, or a folder path ending in '/' for 10x MTX)");
    if (!cohort.X && format != Format::H5ad)
        throw InvalidArgument(path + ": the cohort has no expression matrix X to write");
    const bool directory = format == Format::TenxMtx;
    AtomicOutput output(path, options.overwrite, directory, cohort.source_path);
    try {
        switch (format) {
        case Format::H5ad: write_h5ad(cohort, output.temp_path(), options); break;
        case Format::Loom: write_loom(cohort, output.temp_path(), options); break;
        case Format::TenxMtx: write_10x_mtx(cohort, output.temp_path(), options); break;
        case Format::Csv: write_text_table(cohort, output.temp_path(), ',', options); break;
        case Format::Tsv: write_text_table(cohort, output.temp_path(), '\t', options); break;
        default: break;
        }
    } catch (const Error& error) {
        // Users know the path they asked for, not our temporary name.
        std::string message = error.what();
        const std::string temp = output.temp_path().string();
        for (size_t at = message.find(temp); at != std::string::npos; at = message.find(temp))
            message.replace(at, temp.size(), output.final_path().string());
        throw IoError(message);
    }
    output.commit();
}

}  // namespace transcura
