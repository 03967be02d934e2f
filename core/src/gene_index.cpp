#include "transcura/gene_index.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "transcura/errors.hpp"

namespace transcura {

namespace {

int varint_bytes(uint64_t value) {
    int bytes = 1;
    while (value >= 0x80) {
        value >>= 7;
        ++bytes;
    }
    return bytes;
}

uint8_t* write_varint(uint8_t* out, uint64_t value) {
    while (value >= 0x80) {
        *out++ = static_cast<uint8_t>(value | 0x80);
        value >>= 7;
    }
    *out++ = static_cast<uint8_t>(value);
    return out;
}

uint64_t read_varint(const uint8_t*& in) {
    uint64_t value = *in & 0x7f;
    int shift = 7;
    while (*in++ & 0x80) {
        value |= static_cast<uint64_t>(*in & 0x7f) << shift;
        shift += 7;
    }
    return value;
}

/// Whether a stored value can be held as a varint and read back bit for bit.
bool whole_count(float v) {
    return v >= 0.0f && v < 4294967296.0f && v == std::floor(v) && !std::signbit(v);
}

/// The value of column `gene` in row `row` of `x`: its first entry there (0 if none).
float lookup(const CsrMatrix& x, bool sorted, int64_t row, int32_t gene) {
    const int32_t* indices = x.indices.data();
    const int32_t* begin = indices + x.indptr[static_cast<size_t>(row)];
    const int32_t* end = indices + x.indptr[static_cast<size_t>(row) + 1];
    const int32_t* it = sorted ? std::lower_bound(begin, end, gene) : std::find(begin, end, gene);
    return it != end && *it == gene ? x.data[static_cast<size_t>(it - indices)] : 0.0f;
}

constexpr int64_t kRowsPerCheck = 65536;

}  // namespace

GeneIndex GeneIndex::build(const CsrMatrix& x, const GeneIndexOptions& options) {
    const RunControl& control = options.control;
    if (static_cast<int64_t>(x.indptr.size()) != x.n_rows + 1 ||
        x.indptr.back() != static_cast<int64_t>(x.indices.size()) ||
        x.indices.size() != x.data.size())
        throw InvalidArgument("gene index: the CSR matrix's indptr, indices and data disagree");
    GeneIndex index;
    index.n_rows_ = x.n_rows;
    index.n_cols_ = x.n_cols;
    index.nnz_ = x.nnz();
    const size_t genes = static_cast<size_t>(x.n_cols);
    std::vector<int64_t> bytes(genes, 0), value_bytes(genes, 0), count(genes, 0), last(genes, -1);
    bool sorted = true, counts = true;
    // Pass 1: each gene's entries and varint bytes (and whether rows are sorted).
    for (int64_t r = 0; r < x.n_rows; ++r) {
        if (r % kRowsPerCheck == 0) {
            control.check();
            control.report(0.5 * double(r) / double(x.n_rows), "indexing genes");
        }
        const int64_t begin = x.indptr[static_cast<size_t>(r)];
        const int64_t end = x.indptr[static_cast<size_t>(r) + 1];
        for (int64_t p = begin; p < end; ++p) {
            const int32_t g = x.indices[static_cast<size_t>(p)];
            if (g < 0 || g >= x.n_cols)
                throw InvalidArgument("gene index: column " + std::to_string(g) + " in row " +
                                      std::to_string(r) + " is outside the matrix's " +
                                      std::to_string(x.n_cols) + " columns");
            if (p > begin && g < x.indices[static_cast<size_t>(p) - 1]) sorted = false;
            const size_t gi = static_cast<size_t>(g);
            bytes[gi] += varint_bytes(static_cast<uint64_t>(r - last[gi]));
            const float v = x.data[static_cast<size_t>(p)];
            if (counts && whole_count(v))
                value_bytes[gi] += varint_bytes(static_cast<uint64_t>(v));
            else
                counts = false;
            last[gi] = r;
            ++count[gi];
        }
    }
    index.rows_sorted_ = sorted;
    index.values_inline_ = counts;
    if (counts)
        for (size_t g = 0; g < genes; ++g) bytes[g] += value_bytes[g];
    index.byte_offset_.assign(genes + 1, 0);
    index.entry_offset_.assign(genes + 1, 0);
    index.checkpoint_offset_.assign(genes + 1, 0);
    for (size_t g = 0; g < genes; ++g) {
        index.byte_offset_[g + 1] = index.byte_offset_[g] + bytes[g];
        index.entry_offset_[g + 1] = index.entry_offset_[g] + count[g];
        const int64_t checkpoints = count[g] > 0 ? (count[g] - 1) / kCheckpointEvery : 0;
        index.checkpoint_offset_[g + 1] = index.checkpoint_offset_[g] + checkpoints;
    }
    index.gaps_.resize(static_cast<size_t>(index.byte_offset_[genes]));
    index.checkpoint_byte_.resize(static_cast<size_t>(index.checkpoint_offset_[genes]));
    index.checkpoint_row_.resize(index.checkpoint_byte_.size());
    // Pass 2: the varints, with a checkpoint before every kCheckpointEvery-th entry.
    std::vector<int64_t> cursor(index.byte_offset_.begin(), index.byte_offset_.end() - 1);
    std::vector<int64_t> next_checkpoint(index.checkpoint_offset_.begin(),
                                         index.checkpoint_offset_.end() - 1);
    std::fill(last.begin(), last.end(), -1);
    std::fill(count.begin(), count.end(), 0);
    uint8_t* out = index.gaps_.data();
    for (int64_t r = 0; r < x.n_rows; ++r) {
        if (r % kRowsPerCheck == 0) {
            control.check();
            control.report(0.5 + 0.5 * double(r) / double(x.n_rows), "indexing genes");
        }
        const int64_t end = x.indptr[static_cast<size_t>(r) + 1];
        for (int64_t p = x.indptr[static_cast<size_t>(r)]; p < end; ++p) {
            const size_t g = static_cast<size_t>(x.indices[static_cast<size_t>(p)]);
            if (count[g] > 0 && count[g] % kCheckpointEvery == 0) {
                const size_t j = static_cast<size_t>(next_checkpoint[g]++);
                index.checkpoint_byte_[j] = cursor[g];
                index.checkpoint_row_[j] = last[g];
            }
            uint8_t* at = out + cursor[g];
            uint8_t* end_at = write_varint(at, static_cast<uint64_t>(r - last[g]));
            if (counts)
                end_at =
                    write_varint(end_at, static_cast<uint64_t>(x.data[static_cast<size_t>(p)]));
            cursor[g] += end_at - at;
            last[g] = r;
            ++count[g];
        }
    }
    control.report(1.0, "indexing genes");
    return index;
}

int64_t GeneIndex::stored(int64_t gene) const {
    if (gene < 0 || gene >= n_cols_) return 0;
    return entry_offset_[static_cast<size_t>(gene) + 1] - entry_offset_[static_cast<size_t>(gene)];
}

size_t GeneIndex::memory_bytes() const {
    return gaps_.capacity() +
           sizeof(int64_t) *
               (byte_offset_.capacity() + entry_offset_.capacity() + checkpoint_offset_.capacity() +
                checkpoint_byte_.capacity() + checkpoint_row_.capacity());
}

bool GeneIndex::matches(const CsrMatrix& x) const {
    return x.n_rows == n_rows_ && x.n_cols == n_cols_ && x.nnz() == nnz_ &&
           static_cast<int64_t>(x.indptr.size()) == n_rows_ + 1 && x.indptr.back() == nnz_;
}

template <typename Visit>
void GeneIndex::decode(int64_t gene, int64_t first, int64_t last, Visit&& visit) const {
    // visit(k, row, value): value is the inline count, or NaN when values are not inline.
    const size_t g = static_cast<size_t>(gene);
    const int64_t block = first / kCheckpointEvery;
    int64_t byte = byte_offset_[g], row = -1;
    if (block > 0) {
        const size_t j = static_cast<size_t>(checkpoint_offset_[g] + block - 1);
        byte = checkpoint_byte_[j];
        row = checkpoint_row_[j];
    }
    const uint8_t* in = gaps_.data() + byte;
    for (int64_t k = block * kCheckpointEvery; k < last; ++k) {
        row += static_cast<int64_t>(read_varint(in));
        const float value = values_inline_ ? static_cast<float>(read_varint(in))
                                           : std::numeric_limits<float>::quiet_NaN();
        if (k >= first) visit(k, row, value);
    }
}

std::vector<int64_t> GeneIndex::rows(int64_t gene) const {
    const int64_t m = stored(gene);
    std::vector<int64_t> out(static_cast<size_t>(m));
    decode(gene, 0, m, [&](int64_t k, int64_t row, float) { out[static_cast<size_t>(k)] = row; });
    return out;
}

void GeneIndex::entries(const CsrMatrix& x, int64_t gene, std::vector<int64_t>& rows,
                        std::vector<float>& values) const {
    if (!matches(x)) throw InvalidArgument("gene index: not the matrix it was built from");
    if (gene < 0 || gene >= n_cols_)
        throw InvalidArgument("gene index: gene " + std::to_string(gene) + " outside the " +
                              std::to_string(n_cols_) + " columns");
    const int64_t m = stored(gene);
    rows.resize(static_cast<size_t>(m));
    values.resize(static_cast<size_t>(m));
    const int32_t g = static_cast<int32_t>(gene);
    const int64_t blocks = (m + kCheckpointEvery - 1) / kCheckpointEvery;
    // Blocks between checkpoints decode independently. Inline counts decode at a few ns an
    // entry: never worth waking threads (a parallel region took 10+ ms on a loaded machine);
    // lookups (~0.1 us an entry, cache misses) are, on long columns.
    const bool parallel = !values_inline_ && blocks >= 16;
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
    for (int64_t b = 0; b < blocks; ++b) {
        decode(gene, b * kCheckpointEvery, std::min(m, (b + 1) * kCheckpointEvery),
               [&](int64_t k, int64_t row, float value) {
                   rows[static_cast<size_t>(k)] = row;
                   values[static_cast<size_t>(k)] =
                       values_inline_ ? value : lookup(x, rows_sorted_, row, g);
               });
    }
    // A row stored twice (not valid CSR, but readable) reads its first value, as a scan would.
    if (values_inline_)
        for (size_t k = 1; k < rows.size(); ++k)
            if (rows[k] == rows[k - 1]) values[k] = values[k - 1];
}

std::vector<float> GeneIndex::dense_column(const CsrMatrix& x, int64_t gene) const {
    std::vector<int64_t> rows;
    std::vector<float> values;
    entries(x, gene, rows, values);
    std::vector<float> out(static_cast<size_t>(n_rows_), 0.0f);
    // Backwards: of a row stored twice, the first entry's value is the one left.
    for (size_t k = rows.size(); k-- > 0;) out[static_cast<size_t>(rows[k])] = values[k];
    return out;
}

}  // namespace transcura
