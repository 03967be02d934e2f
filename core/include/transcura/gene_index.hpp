#pragma once
// A by-gene index of a sparse cells x genes matrix (CSR), so that one gene's values in every
// cell are read in time proportional to the cells that store a value for it, instead of a pass
// over every row (the GUI's colour-by-gene: 35-50 ms per gene at 1M cells, a few ms with the
// index).
//
// Compact on purpose: for every gene the rows that store it, as gaps from the previous row in
// LEB128 varints (7 bits a byte; at ~1% density most gaps fit one byte). When every stored value
// is a whole count (raw counts) the values follow their gaps as varints too (one byte below 128):
// about 2.2 bytes per non-zero against CSR's 8 (a float and an int32), ~57 MB at 1M cells x 2000
// genes with 26M non-zeros where a full CSC copy would take ~200 MB. Otherwise (normalised
// values) only the rows are kept, ~1.2 bytes per non-zero, and a row's value is found by
// bisection in that row of the CSR matrix (linear search when its rows are not sorted): three
// cache misses an entry, ~10x slower than the inline counts, still proportional to the gene's
// non-zeros. Either way a column is read together with the matrix the index was built from.
// Checkpoints every kCheckpointEvery entries let a long column be decoded in parallel.
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct GeneIndexOptions {
    /// num_threads is unused (one pass, memory-bound); progress after each slice of rows;
    /// cancel polled every 64k rows.
    RunControl control;
};

class GeneIndex {
public:
    static constexpr int64_t kCheckpointEvery = 16384;

    /// Indexes `x` (columns must lie in [0, n_cols): InvalidArgument otherwise).
    static GeneIndex build(const CsrMatrix& x, const GeneIndexOptions& options = {});

    int64_t n_rows() const { return n_rows_; }
    int64_t n_cols() const { return n_cols_; }
    int64_t nnz() const { return nnz_; }
    /// Entries stored for `gene` (explicit zeros and duplicates included).
    int64_t stored(int64_t gene) const;
    /// Bytes held by the index.
    size_t memory_bytes() const;
    /// Whether the values are held in the index (every stored value a whole count < 2^32).
    bool values_inline() const { return values_inline_; }
    /// Whether `x` has the shape and non-zero count the index was built from (a cheap guard,
    /// not proof that it is the same matrix).
    bool matches(const CsrMatrix& x) const;

    /// The rows storing `gene`, increasing (a row stored twice appears twice).
    std::vector<int64_t> rows(int64_t gene) const;
    /// The stored entries of column `gene` of `x` (the matrix the index was built from): rows
    /// increasing, each with the value matrix_column would read (the first entry of the gene in
    /// that row). InvalidArgument when `x` does not match or `gene` is out of range.
    void entries(const CsrMatrix& x, int64_t gene, std::vector<int64_t>& rows,
                 std::vector<float>& values) const;
    /// Column `gene` of `x` as n_rows floats (0 where nothing is stored).
    std::vector<float> dense_column(const CsrMatrix& x, int64_t gene) const;

private:
    /// Calls visit(k, row) for entries [first, last) of `gene`, decoding from the checkpoint
    /// at or before `first`.
    template <typename Visit>
    void decode(int64_t gene, int64_t first, int64_t last, Visit&& visit) const;

    int64_t n_rows_ = 0, n_cols_ = 0, nnz_ = 0;
    bool rows_sorted_ = true;            // every row's column indices increase: bisection
    bool values_inline_ = false;         // each gap followed by its value as a varint
    std::vector<int64_t> byte_offset_;   // n_cols + 1: each gene's varints in gaps_
    std::vector<int64_t> entry_offset_;  // n_cols + 1: prefix sums of stored()
    std::vector<uint8_t> gaps_;          // per gene: row - previous row (first: row + 1) [, value]
    // Checkpoint j of a gene (before its entry (j + 1) * kCheckpointEvery): the byte in gaps_
    // and the previous row; genes' checkpoints are consecutive from checkpoint_offset_[gene].
    std::vector<int64_t> checkpoint_offset_;  // n_cols + 1
    std::vector<int64_t> checkpoint_byte_, checkpoint_row_;
};

}  // namespace transcura
