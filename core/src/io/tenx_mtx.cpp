// 10x Matrix Market folders: matrix.mtx[.gz] (genes x cells coordinates), barcodes.tsv[.gz],
// genes.tsv (v2, 2 columns) or features.tsv[.gz] (v3, 3 columns). Header variants seen in real
// files: a '%' comment after the banner, '%metadata_json' lines, none, `real` or `integer`.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <numeric>

#include "io/text_reader.hpp"
#include "transcura/errors.hpp"
#include "transcura/tenx.hpp"

namespace transcura {

namespace fs = std::filesystem;

namespace {

// More entries than this in a header is a corrupt file, not a cohort (and would be a huge
// allocation before the first value is read).
constexpr int64_t kMaxEntries = int64_t{1} << 40;

fs::path find_part(const fs::path& directory, std::initializer_list<const char*> names,
                   const char* what) {
    std::error_code error;
    for (const char* name : names) {
        fs::path candidate = directory / name;
        if (fs::exists(candidate, error)) return candidate;
        candidate += ".gz";
        if (fs::exists(candidate, error)) return candidate;
    }
    throw FormatError(directory.string(), what,
                      std::string("missing (looked for ") + *names.begin() + "[.gz])");
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

/// Whitespace-separated tokens of a line.
size_t tokens(std::string_view line, std::string_view* out, size_t max_tokens) {
    size_t count = 0, i = 0;
    while (i < line.size() && count < max_tokens) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i >= line.size()) break;
        size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        out[count++] = line.substr(start, i - start);
    }
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    return i < line.size() ? max_tokens + 1 : count;
}

struct MtxHeader {
    bool pattern = false;
    bool integer = false;  // "integer" declares counts; "real" may hold any finite value
    bool symmetric = false;
    int64_t rows = 0, cols = 0, entries = 0;
};

MtxHeader read_header(TextReader& reader, const std::string& name) {
    std::string_view line;
    if (!reader.next_line(line)) throw FormatError(reader.file(), name, "empty file");
    std::string banner = lower(line);
    std::string_view parts[6];
    size_t n = tokens(banner, parts, 5);
    if (n < 5 || parts[0] != "%%matrixmarket" || parts[1] != "matrix")
        throw FormatError(reader.file(), "line 1", "not a Matrix Market banner: '" +
                                                       std::string(line.substr(0, 80)) + "'");
    if (parts[2] != "coordinate")
        throw FormatError(reader.file(), "line 1",
                          "only sparse 'coordinate' matrices are supported, not '" +
                              std::string(parts[2]) + "'");
    MtxHeader header;
    if (parts[3] == "pattern") header.pattern = true;
    else if (parts[3] == "integer") header.integer = true;
    else if (parts[3] != "integer" && parts[3] != "real")
        throw FormatError(reader.file(), "line 1",
                          "value type '" + std::string(parts[3]) + "' is not supported");
    if (parts[4] == "symmetric") header.symmetric = true;
    else if (parts[4] != "general")
        throw FormatError(reader.file(), "line 1",
                          "symmetry '" + std::string(parts[4]) + "' is not supported");
    while (reader.next_line(line)) {
        if (line.empty() || line.front() == '%') continue;
        std::string_view size[4];
        if (tokens(line, size, 3) != 3 || !parse_number(size[0], header.rows) ||
            !parse_number(size[1], header.cols) || !parse_number(size[2], header.entries))
            throw FormatError(reader.file(), "line " + std::to_string(reader.line_number()),
                              "expected 'rows columns entries', found '" +
                                  std::string(line.substr(0, 80)) + "'");
        if (header.rows < 0 || header.cols < 0 || header.entries < 0)
            throw FormatError(reader.file(), "line " + std::to_string(reader.line_number()),
                              "negative dimensions");
        if (header.rows > INT32_MAX || header.cols > INT32_MAX || header.entries > kMaxEntries ||
            (header.rows > 0 && header.cols > 0 &&
             header.entries / header.cols > header.rows * (header.symmetric ? 2 : 1)))
            throw FormatError(reader.file(), "line " + std::to_string(reader.line_number()),
                              "absurd dimensions " + std::to_string(header.rows) + " x " +
                                  std::to_string(header.cols) + " with " +
                                  std::to_string(header.entries) + " entries");
        return header;
    }
    throw FormatError(reader.file(), name, "no size line after the banner");
}

/// Reads the coordinate entries (genes x cells on disk) into cells x genes CSR, summing
/// duplicates, rejecting values that are not counts.
CsrMatrix read_entries(TextReader& reader, const MtxHeader& header) {
    const int64_t n_cells = header.cols, n_genes = header.rows;
    std::vector<int32_t> cell_of(static_cast<size_t>(header.entries));
    std::vector<int32_t> gene_of(static_cast<size_t>(header.entries));
    std::vector<float> value_of(static_cast<size_t>(header.entries));
    std::string_view line, parts[4];
    int64_t k = 0;
    const size_t expected_tokens = header.pattern ? 2 : 3;
    while (reader.next_line(line)) {
        if (line.empty() || line.front() == '%') continue;
        const std::string where = "line " + std::to_string(reader.line_number());
        if (k >= header.entries)
            throw FormatError(reader.file(), where,
                              "more entries than the " + std::to_string(header.entries) +
                                  " the header declares");
        if (tokens(line, parts, expected_tokens) != expected_tokens)
            throw FormatError(reader.file(), where,
                              "expected " + std::to_string(expected_tokens) + " fields, found '" +
                                  std::string(line.substr(0, 80)) + "'");
        int64_t row = 0, col = 0;
        if (!parse_number(parts[0], row) || !parse_number(parts[1], col))
            throw FormatError(reader.file(), where, "row/column are not whole numbers");
        if (row < 1 || row > n_genes || col < 1 || col > n_cells)
            throw FormatError(reader.file(), where,
                              "entry (" + std::to_string(row) + ", " + std::to_string(col) +
                                  ") is outside the " + std::to_string(n_genes) + " x " +
                                  std::to_string(n_cells) + " matrix");
        double value = 1.0;
        if (!header.pattern && !parse_number(parts[2], value))
            throw FormatError(reader.file(), where,
                              "value '" + std::string(parts[2]) + "' is not a number");
        if (!std::isfinite(value))
            throw FormatError(reader.file(), where,
                              "value " + std::string(parts[2]) + " is NaN or infinite");
        if (header.integer && (value < 0 || value != std::floor(value)))
            throw FormatError(reader.file(), where,
                              "value " + std::string(parts[2]) +
                                  " is not a count, but the header declares integer counts");
        gene_of[k] = static_cast<int32_t>(row - 1);
        cell_of[k] = static_cast<int32_t>(col - 1);
        value_of[k] = static_cast<float>(value);
        ++k;
    }
    if (k != header.entries)
        throw FormatError(reader.file(), "entries",
                          "ends after " + std::to_string(k) + " of the " +
                              std::to_string(header.entries) + " entries the header declares");
    // Counting sort by cell, then by gene within each cell.
    CsrMatrix m;
    m.n_rows = n_cells;
    m.n_cols = n_genes;
    m.indptr.assign(static_cast<size_t>(n_cells) + 1, 0);
    for (int32_t c : cell_of) ++m.indptr[static_cast<size_t>(c) + 1];
    std::partial_sum(m.indptr.begin(), m.indptr.end(), m.indptr.begin());
    m.indices.resize(cell_of.size());
    m.data.resize(cell_of.size());
    std::vector<int64_t> next(m.indptr.begin(), m.indptr.end() - 1);
    for (size_t i = 0; i < cell_of.size(); ++i) {
        int64_t slot = next[cell_of[i]]++;
        m.indices[slot] = gene_of[i];
        m.data[slot] = value_of[i];
    }
    m.sort_indices();
    // Sum duplicate coordinates.
    CsrMatrix merged;
    merged.n_rows = m.n_rows;
    merged.n_cols = m.n_cols;
    merged.indptr.assign(m.indptr.size(), 0);
    merged.indices.reserve(m.indices.size());
    merged.data.reserve(m.data.size());
    for (int64_t r = 0; r < m.n_rows; ++r) {
        for (int64_t i = m.indptr[r]; i < m.indptr[r + 1]; ++i) {
            if (i > m.indptr[r] && m.indices[i] == m.indices[i - 1]) merged.data.back() += m.data[i];
            else {
                merged.indices.push_back(m.indices[i]);
                merged.data.push_back(m.data[i]);
            }
        }
        merged.indptr[r + 1] = static_cast<int64_t>(merged.data.size());
    }
    return merged;
}

std::vector<std::vector<std::string>> read_tsv(const fs::path& path, size_t min_columns) {
    TextReader reader(path);
    std::vector<std::vector<std::string>> rows;
    std::string_view line;
    std::vector<std::string_view> fields;
    std::vector<std::string> storage;
    while (reader.next_line(line)) {
        if (line.empty()) continue;
        split_fields(line, '\t', fields, storage);
        if (fields.size() < min_columns)
            throw FormatError(path.string(), "line " + std::to_string(reader.line_number()),
                              "expected at least " + std::to_string(min_columns) +
                                  " tab-separated columns, found " + std::to_string(fields.size()));
        rows.emplace_back(fields.begin(), fields.end());
    }
    return rows;
}

}  // namespace

Cohort read_10x_mtx(const fs::path& directory, const ReadOptions&) {
    std::error_code error;
    if (!fs::is_directory(directory, error))
        throw FormatError(directory.string(), "", "is not an MTX folder");
    const fs::path matrix_path = find_part(directory, {"matrix.mtx"}, "matrix.mtx");
    const fs::path barcodes_path = find_part(directory, {"barcodes.tsv"}, "barcodes.tsv");
    const fs::path features_path =
        find_part(directory, {"features.tsv", "genes.tsv"}, "features.tsv / genes.tsv");

    TextReader reader(matrix_path);
    const MtxHeader header = read_header(reader, matrix_path.filename().string());
    CsrMatrix counts = read_entries(reader, header);

    auto barcodes = read_tsv(barcodes_path, 1);
    if (static_cast<int64_t>(barcodes.size()) != header.cols)
        throw FormatError(barcodes_path.string(), "barcodes",
                          "has " + std::to_string(barcodes.size()) + " barcodes but the matrix has " +
                              std::to_string(header.cols) + " cells");
    auto features = read_tsv(features_path, 1);
    if (static_cast<int64_t>(features.size()) != header.rows)
        throw FormatError(features_path.string(), "features",
                          "has " + std::to_string(features.size()) + " features but the matrix has " +
                              std::to_string(header.rows) + " genes");

    Cohort cohort;
    cohort.source_path = directory.string();
    cohort.source_format = "10x-mtx";
    for (auto& row : barcodes) cohort.obs_names.push_back(std::move(row[0]));
    std::vector<std::string> ids, types;
    const bool has_names = std::all_of(features.begin(), features.end(),
                                       [](const auto& r) { return r.size() >= 2; });
    const bool has_types = std::all_of(features.begin(), features.end(),
                                       [](const auto& r) { return r.size() >= 3; });
    for (auto& row : features) {
        ids.push_back(row[0]);
        cohort.var_names.push_back(has_names ? row[1] : row[0]);
        if (has_types) types.push_back(row[2]);
    }
    Cohort::make_unique(cohort.var_names);
    cohort.var.set(Column::make_string("gene_ids", std::move(ids)));
    if (has_types) cohort.var.set(Column::categorize("feature_types", types));
    cohort.X = Matrix(std::move(counts));
    cohort.validate(directory.string());
    return cohort;
}

void write_10x_mtx(const Cohort& cohort, const fs::path& directory, const WriteOptions&) {
    if (!cohort.X) throw InvalidArgument(directory.string() + ": no X to write");
    std::error_code error;
    fs::create_directories(directory, error);
    if (error) throw IoError(directory.string() + ": cannot create: " + error.message());
    const CsrMatrix csr = cohort.X->to_csr();
    const bool integers = std::all_of(csr.data.begin(), csr.data.end(),
                                      [](float v) { return v >= 0 && v == std::floor(v); });
    {
        TextWriter out(directory / "matrix.mtx.gz", true);
        std::string line = std::string("%%MatrixMarket matrix coordinate ") +
                           (integers ? "integer" : "real") + " general\n";
        line += "%metadata_json: {\"software_version\": \"transcura-" TRANSCURA_VERSION
                "\", \"format_version\": 2}\n";
        line += std::to_string(csr.n_cols) + " " + std::to_string(csr.n_rows) + " " +
                std::to_string(csr.nnz()) + "\n";
        out.write(line);
        // Sorted by cell then gene, as Cell Ranger writes them.
        for (int64_t r = 0; r < csr.n_rows; ++r) {
            for (int64_t i = csr.indptr[r]; i < csr.indptr[r + 1]; ++i) {
                line.clear();
                line += std::to_string(csr.indices[i] + 1);
                line += ' ';
                line += std::to_string(r + 1);
                line += ' ';
                if (integers) line += std::to_string(static_cast<long long>(csr.data[i]));
                else append_number(line, csr.data[i]);
                line += '\n';
                out.write(line);
            }
        }
        out.close();
    }
    {
        TextWriter out(directory / "barcodes.tsv.gz", true);
        for (const auto& name : cohort.obs_names) {
            out.write(name);
            out.write("\n");
        }
        out.close();
    }
    {
        TextWriter out(directory / "features.tsv.gz", true);
        const Column* ids = cohort.var.find("gene_ids");
        const Column* types = cohort.var.find("feature_types");
        for (size_t g = 0; g < cohort.var_names.size(); ++g) {
            std::string id = ids ? ids->text(g) : cohort.var_names[g];
            if (id.empty()) id = cohort.var_names[g];
            std::string type = types ? types->text(g) : "Gene Expression";
            out.write(id + "\t" + cohort.var_names[g] + "\t" + type + "\n");
        }
        out.close();
    }
}

}  // namespace transcura
