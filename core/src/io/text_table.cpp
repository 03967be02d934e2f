// Dense CSV/TSV expression tables (plain or gzip), either orientation, with an optional sample
// sheet joined as obs. Typical bulk tables are genes x samples with gene symbols as row names and
// an empty first header cell (R's write.csv).
#include "transcura/text_table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <regex>
#include <set>
#include <unordered_map>

#include "io/text_reader.hpp"
#include "transcura/errors.hpp"

namespace transcura {

namespace fs = std::filesystem;

namespace {

struct Table {
    std::vector<std::string> header;     // column labels (without the row-name header cell)
    std::vector<std::string> row_names;  // empty when the table has no row-name column
    std::vector<float> values;           // row-major, rows x header.size()
    int64_t rows = 0;
};

char detect_delimiter(std::string_view first_line, const fs::path& path) {
    size_t tabs = 0, commas = 0, semicolons = 0;
    bool quoted = false;
    for (char c : first_line) {
        if (c == '"') quoted = !quoted;
        if (quoted) continue;
        tabs += c == '\t';
        commas += c == ',';
        semicolons += c == ';';
    }
    if (tabs == 0 && commas == 0 && semicolons == 0) {
        std::string name = path.filename().string();
        return name.find(".csv") != std::string::npos ? ',' : '\t';
    }
    if (tabs >= commas && tabs >= semicolons) return '\t';
    return commas >= semicolons ? ',' : ';';
}

bool parse_value(std::string_view text, double& value) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty()) return false;
    auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

std::string trimmed(std::string_view text) {
    while (!text.empty() && (text.front() == ' ')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ')) text.remove_suffix(1);
    return std::string(text);
}

Table read_table(const fs::path& path, char& delimiter) {
    TextReader reader(path);
    std::string_view line;
    std::vector<std::string_view> fields;
    std::vector<std::string> storage;
    // Header: the first non-empty line.
    while (reader.next_line(line) && line.empty()) {
    }
    if (line.empty()) throw FormatError(path.string(), "", "empty file");
    delimiter = detect_delimiter(line, path);
    split_fields(line, delimiter, fields, storage);
    std::vector<std::string> header;
    for (auto f : fields) header.push_back(trimmed(f));
    const size_t header_fields = header.size();

    Table table;
    int has_row_names = -1;  // decided on the first data row
    size_t value_columns = 0;
    while (reader.next_line(line)) {
        if (line.empty()) continue;
        split_fields(line, delimiter, fields, storage);
        const std::string where = "line " + std::to_string(reader.line_number());
        if (has_row_names < 0) {
            double probe = 0;
            if (fields.size() == header_fields + 1) {
                has_row_names = 1;  // header lacks the row-name cell (R's write.table)
                value_columns = header_fields;
            } else if (fields.size() == header_fields) {
                // First column is names unless it is numeric and its header is too.
                double header_probe = 0;
                bool numeric_first = parse_value(fields[0], probe);
                bool header_named = !header[0].empty() && !parse_value(header[0], header_probe);
                has_row_names = (!numeric_first || header[0].empty()) ? 1 : 0;
                if (numeric_first && header_named && header_fields > 1) {
                    // e.g. "PC1 PC2 ..." with no index column.
                    has_row_names = 0;
                }
                value_columns = header_fields - static_cast<size_t>(has_row_names);
                if (has_row_names) header.erase(header.begin());
            } else {
                throw FormatError(path.string(), where,
                                  "has " + std::to_string(fields.size()) + " fields but the header has " +
                                      std::to_string(header_fields) + " (ragged rows)");
            }
            if (value_columns == 0)
                throw FormatError(path.string(), "header", "no value columns");
        }
        const size_t expected = value_columns + static_cast<size_t>(has_row_names);
        if (fields.size() != expected)
            throw FormatError(path.string(), where,
                              "has " + std::to_string(fields.size()) + " fields, expected " +
                                  std::to_string(expected) + " (ragged rows)");
        size_t first_value = 0;
        if (has_row_names) {
            table.row_names.push_back(trimmed(fields[0]));
            first_value = 1;
        }
        for (size_t c = first_value; c < fields.size(); ++c) {
            double value = 0;
            if (!parse_value(fields[c], value))
                throw FormatError(path.string(), where + ", column " + std::to_string(c + 1),
                                  "'" + std::string(fields[c].substr(0, 40)) + "' is not a number");
            if (!std::isfinite(value))
                throw FormatError(path.string(), where + ", column " + std::to_string(c + 1),
                                  "value is NaN or infinite; expression values must be finite");
            table.values.push_back(static_cast<float>(value));
        }
        ++table.rows;
    }
    if (table.rows == 0) throw FormatError(path.string(), "table", "header only, no data rows");
    if (has_row_names == 0) {
        table.row_names.resize(static_cast<size_t>(table.rows));
        for (int64_t r = 0; r < table.rows; ++r)
            table.row_names[static_cast<size_t>(r)] = std::to_string(r);
    }
    if (header.size() != value_columns) header.resize(value_columns);
    table.header = std::move(header);
    return table;
}

/// How much an axis's labels look like genes rather than cells/samples: the share that look like
/// gene identifiers (Ensembl ids, HGNC/MGI-style symbols, "gene_12") minus the share that look like
/// cells or samples (10x barcodes such as AAACCTGAGCATCATC-1 or ctrl_AAAC..., GEO/SRA accessions,
/// "cell_3", a positional index 0..n-1). Barcodes are checked first because they also fit the
/// symbol pattern.
double gene_score(const std::vector<std::string>& labels) {
    static const std::regex ensembl("^ENS[A-Z]*G[0-9]{6,}(\\.[0-9]+)?$");
    static const std::regex numbered_gene("^(gene|Gene|GENE)[-_.]?[0-9]+$");
    static const std::regex symbol("^[A-Za-z][A-Za-z0-9]*([-.][A-Za-z0-9]+)*$");
    static const std::regex barcode("^([A-Za-z0-9]+[-_:])?[ACGTN]{8,}([-_.][0-9A-Za-z]+)?$");
    // A bare "S12" is a sample, but S100A8 or S1PR1 are genes: "S" takes digits only.
    static const std::regex sample_like(
        "^((GSM|SRR|ERR|DRR|SAMN?|sample|Sample|SAMPLE|cell|Cell|CELL|bc|BC)[-_]?[0-9]+.*|"
        "S[-_]?[0-9]+)$");
    if (labels.empty()) return 0;
    // 0, 1, 2, ...: a positional index (pandas' default), which only observations get.
    bool positional = true;
    for (size_t i = 0; i < labels.size() && positional; ++i)
        positional = labels[i] == std::to_string(i);
    if (positional) return -1;
    size_t genes = 0, cells = 0, checked = 0;
    const size_t step = std::max<size_t>(1, labels.size() / 2000);
    for (size_t i = 0; i < labels.size(); i += step, ++checked) {
        const std::string& label = labels[i];
        if (std::regex_match(label, barcode) || std::regex_match(label, sample_like)) ++cells;
        else if (std::regex_match(label, ensembl) || std::regex_match(label, numbered_gene)) ++genes;
        else if (label.size() <= 20 && label.find('_') == std::string::npos &&
                 std::regex_match(label, symbol))
            ++genes;
    }
    return (static_cast<double>(genes) - static_cast<double>(cells)) / static_cast<double>(checked);
}

bool rows_are_genes(const Table& table, TableOrientation orientation) {
    if (orientation == TableOrientation::GenesByCells) return true;
    if (orientation == TableOrientation::CellsByGenes) return false;
    const double row_score = gene_score(table.row_names);
    const double column_score = gene_score(table.header);
    if (std::abs(row_score - column_score) > 0.3) return row_score > column_score;
    // Ambiguous labels: expression tables have more genes than samples.
    return table.rows >= static_cast<int64_t>(table.header.size());
}

/// Infers a sheet column's type: int, float, bool, categorical or string; "" = missing.
Column infer_column(const std::string& name, const std::vector<std::string>& values) {
    bool all_int = true, all_number = true, all_bool = true, any_value = false;
    for (const auto& v : values) {
        if (v.empty() || v == "NA" || v == "NaN") continue;
        any_value = true;
        int64_t i = 0;
        double d = 0;
        auto r = std::from_chars(v.data(), v.data() + v.size(), i);
        if (r.ec != std::errc() || r.ptr != v.data() + v.size()) all_int = false;
        if (!parse_value(v, d)) all_number = false;
        if (v != "TRUE" && v != "FALSE" && v != "True" && v != "False" && v != "true" &&
            v != "false")
            all_bool = false;
    }
    auto missing = [](const std::string& v) { return v.empty() || v == "NA" || v == "NaN"; };
    if (any_value && all_bool) {
        Column c = Column::make_bool(name, std::vector<uint8_t>(values.size(), 0));
        c.missing.assign(values.size(), 0);
        for (size_t i = 0; i < values.size(); ++i) {
            if (missing(values[i])) c.missing[i] = 1;
            else c.bools[i] = values[i][0] == 'T' || values[i][0] == 't';
        }
        if (std::none_of(c.missing.begin(), c.missing.end(), [](uint8_t m) { return m; }))
            c.missing.clear();
        return c;
    }
    if (any_value && all_int) {
        Column c = Column::make_int(name, std::vector<int64_t>(values.size(), 0));
        c.missing.assign(values.size(), 0);
        for (size_t i = 0; i < values.size(); ++i) {
            if (missing(values[i])) c.missing[i] = 1;
            else std::from_chars(values[i].data(), values[i].data() + values[i].size(), c.ints[i]);
        }
        if (std::none_of(c.missing.begin(), c.missing.end(), [](uint8_t m) { return m; }))
            c.missing.clear();
        return c;
    }
    if (any_value && all_number) {
        std::vector<double> numbers(values.size(), std::nan(""));
        for (size_t i = 0; i < values.size(); ++i)
            if (!missing(values[i])) parse_value(values[i], numbers[i]);
        return Column::make_float(name, std::move(numbers));
    }
    std::set<std::string> distinct(values.begin(), values.end());
    if (distinct.size() <= 100 || distinct.size() * 2 <= values.size()) {
        std::vector<std::string> cleaned = values;
        for (auto& v : cleaned)
            if (v == "NA") v.clear();
        return Column::categorize(name, cleaned, true);
    }
    return Column::make_string(name, values);
}

void join_sample_sheet(Cohort& cohort, const fs::path& sheet_path) {
    char delimiter = ',';
    TextReader reader(sheet_path);
    std::string_view line;
    std::vector<std::string_view> fields;
    std::vector<std::string> storage;
    while (reader.next_line(line) && line.empty()) {
    }
    if (line.empty()) throw FormatError(sheet_path.string(), "", "empty sample sheet");
    delimiter = detect_delimiter(line, sheet_path);
    split_fields(line, delimiter, fields, storage);
    std::vector<std::string> header;
    for (auto f : fields) header.push_back(trimmed(f));
    std::vector<std::vector<std::string>> rows;
    while (reader.next_line(line)) {
        if (line.empty()) continue;
        split_fields(line, delimiter, fields, storage);
        if (fields.size() == header.size() + 1 && rows.empty()) header.insert(header.begin(), "");
        if (fields.size() != header.size())
            throw FormatError(sheet_path.string(), "line " + std::to_string(reader.line_number()),
                              "has " + std::to_string(fields.size()) + " fields, expected " +
                                  std::to_string(header.size()) + " (ragged rows)");
        std::vector<std::string> row;
        for (auto f : fields) row.push_back(trimmed(f));
        rows.push_back(std::move(row));
    }
    if (header.size() < 2) throw FormatError(sheet_path.string(), "header", "no annotation columns");
    std::unordered_map<std::string, size_t> row_of;
    for (size_t r = 0; r < rows.size(); ++r) row_of.emplace(rows[r][0], r);
    std::vector<int64_t> match(cohort.obs_names.size(), -1);
    size_t matched = 0;
    for (size_t i = 0; i < cohort.obs_names.size(); ++i) {
        auto it = row_of.find(cohort.obs_names[i]);
        if (it != row_of.end()) {
            match[i] = static_cast<int64_t>(it->second);
            ++matched;
        }
    }
    if (matched == 0)
        throw FormatError(sheet_path.string(), "first column",
                          "no sample name matches the table's samples (e.g. '" +
                              (cohort.obs_names.empty() ? std::string() : cohort.obs_names[0]) +
                              "')");
    for (size_t c = 1; c < header.size(); ++c) {
        std::vector<std::string> values(cohort.obs_names.size());
        for (size_t i = 0; i < values.size(); ++i)
            if (match[i] >= 0) values[i] = rows[static_cast<size_t>(match[i])][c];
        std::string name = header[c].empty() ? "column_" + std::to_string(c) : header[c];
        cohort.obs.set(infer_column(name, values));
    }
}

void append_field(std::string& out, const std::string& text, char delimiter) {
    if (text.find(delimiter) == std::string::npos && text.find('"') == std::string::npos &&
        text.find('\n') == std::string::npos) {
        out += text;
        return;
    }
    out += '"';
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
}

}  // namespace

Cohort read_text_table(const fs::path& path, const ReadOptions& options) {
    char delimiter = ',';
    Table table = read_table(path, delimiter);
    const int64_t n_columns = static_cast<int64_t>(table.header.size());
    Cohort cohort;
    cohort.source_path = path.string();
    cohort.source_format = delimiter == '\t' ? "tsv" : "csv";
    DenseF x;
    if (rows_are_genes(table, options.orientation)) {
        cohort.var_names = std::move(table.row_names);
        cohort.obs_names = std::move(table.header);
        x = DenseF(n_columns, table.rows);
        for (int64_t g = 0; g < table.rows; ++g)
            for (int64_t c = 0; c < n_columns; ++c)
                x(c, g) = table.values[static_cast<size_t>(g * n_columns + c)];
    } else {
        cohort.obs_names = std::move(table.row_names);
        cohort.var_names = std::move(table.header);
        x.n_rows = table.rows;
        x.n_cols = n_columns;
        x.values = std::move(table.values);
    }
    Cohort::make_unique(cohort.obs_names);
    Cohort::make_unique(cohort.var_names);
    cohort.X = Matrix(std::move(x));
    if (!options.sample_sheet.empty()) join_sample_sheet(cohort, options.sample_sheet);
    cohort.validate(path.string());
    return cohort;
}

void write_text_table(const Cohort& cohort, const fs::path& path, char delimiter,
                      const WriteOptions&) {
    if (!cohort.X) throw InvalidArgument(path.string() + ": no X to write");
    const std::string name = path.filename().string();
    const bool gzip = name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0;
    TextWriter out(path, gzip);
    std::string line;
    for (const auto& gene : cohort.var_names) {
        line += delimiter;
        append_field(line, gene, delimiter);
    }
    line += '\n';
    out.write(line);
    const Matrix& x = *cohort.X;
    std::vector<float> row(static_cast<size_t>(cohort.n_vars()));
    for (int64_t r = 0; r < cohort.n_obs(); ++r) {
        if (x.is_sparse()) {
            std::fill(row.begin(), row.end(), 0.0f);
            const CsrMatrix& m = x.sparse();
            for (int64_t i = m.indptr[r]; i < m.indptr[r + 1]; ++i) row[m.indices[i]] = m.data[i];
        } else {
            std::copy(x.dense().row(r), x.dense().row(r) + cohort.n_vars(), row.begin());
        }
        line.clear();
        append_field(line, cohort.obs_names[static_cast<size_t>(r)], delimiter);
        for (float v : row) {
            line += delimiter;
            if (v == 0) line += '0';
            else append_number(line, v);
        }
        line += '\n';
        out.write(line);
    }
    out.close();
}

}  // namespace transcura
