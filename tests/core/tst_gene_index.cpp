// The by-gene index of a CSR matrix: every column read through it equals the column read from
// the matrix by a plain scan (sorted and unsorted rows, duplicates, explicit zeros, empty rows
// and genes, long gaps, columns long enough to be decoded in parallel from checkpoints), on
// random matrices and on the real files in shared/data; bad input is a typed error.
#include <QtTest/QtTest>

#include <algorithm>
#include <random>

#include "transcura/errors.hpp"
#include "transcura/gene_index.hpp"
#include "transcura/io.hpp"

using namespace transcura;

namespace {

/// Every column by one scan of the rows: per gene, the rows storing it (each entry) and the
/// value a row holds (its first entry of the gene).
struct ScannedColumns {
    std::vector<std::vector<int64_t>> rows;
    std::vector<std::vector<std::pair<int64_t, float>>> first;  // (row, value), one per row

    explicit ScannedColumns(const CsrMatrix& x) : rows(size_t(x.n_cols)), first(size_t(x.n_cols)) {
        for (int64_t r = 0; r < x.n_rows; ++r)
            for (int64_t p = x.indptr[size_t(r)]; p < x.indptr[size_t(r) + 1]; ++p) {
                const size_t g = size_t(x.indices[size_t(p)]);
                rows[g].push_back(r);
                if (first[g].empty() || first[g].back().first != r)
                    first[g].emplace_back(r, x.data[size_t(p)]);
            }
    }
    std::vector<float> dense(int64_t gene, int64_t n) const {
        std::vector<float> out(size_t(n), 0.0f);
        for (const auto& [row, value] : first[size_t(gene)]) out[size_t(row)] = value;
        return out;
    }
};

/// n x genes; gene g stored with probability density[g]; `shuffle`: rows' indices unsorted;
/// `counts`: whole values (some above 127: several varint bytes), else fractions.
CsrMatrix random_csr(int64_t n, const std::vector<double>& density, bool shuffle, uint64_t seed,
                     bool counts = false) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0, 1);
    CsrMatrix x;
    x.n_rows = n;
    x.n_cols = static_cast<int64_t>(density.size());
    std::vector<int32_t> row;
    for (int64_t r = 0; r < n; ++r) {
        row.clear();
        for (size_t g = 0; g < density.size(); ++g)
            if (u(rng) < density[g]) row.push_back(static_cast<int32_t>(g));
        if (shuffle) std::shuffle(row.begin(), row.end(), rng);
        for (int32_t g : row) {
            x.indices.push_back(g);
            // explicit zeros now and then
            const float value =
                counts ? static_cast<float>(rng() % 300) : static_cast<float>(1 + rng() % 50) / 3;
            x.data.push_back(rng() % 9 == 0 ? 0.0f : value);
        }
        x.indptr.push_back(static_cast<int64_t>(x.indices.size()));
    }
    return x;
}

void compare_every_column(const CsrMatrix& x, const GeneIndex& index) {
    QCOMPARE(index.n_rows(), x.n_rows);
    QCOMPARE(index.n_cols(), x.n_cols);
    QVERIFY(index.matches(x));
    const ScannedColumns scanned(x);
    for (int64_t g = 0; g < x.n_cols; ++g) {
        const std::vector<int64_t>& rows = scanned.rows[size_t(g)];
        QCOMPARE(index.stored(g), static_cast<int64_t>(rows.size()));
        QCOMPARE(index.rows(g), rows);
        const std::vector<float> expected = scanned.dense(g, x.n_rows);
        const std::vector<float> got = index.dense_column(x, g);
        QCOMPARE(got.size(), expected.size());
        // Exactly the stored floats (bitwise equal, NaN aside: none here).
        QVERIFY2(got == expected, qPrintable(QStringLiteral("gene %1").arg(g)));
        std::vector<int64_t> entry_rows;
        std::vector<float> values;
        index.entries(x, g, entry_rows, values);
        QCOMPARE(entry_rows, rows);
        for (size_t k = 0; k < rows.size(); ++k) QCOMPARE(values[k], expected[size_t(rows[k])]);
    }
}

}  // namespace

class GeneIndexTest : public QObject {
    Q_OBJECT

private slots:
    void smallMatrixByHand() {
        // [1 0 2] / [0 0 0] / [0 3 0] / [4 5 6]; gene 3 never stored
        CsrMatrix x;
        x.n_rows = 4;
        x.n_cols = 4;
        x.indptr = {0, 2, 2, 3, 6};
        x.indices = {0, 2, 1, 0, 1, 2};
        x.data = {1, 2, 3, 4, 5, 6};
        const GeneIndex index = GeneIndex::build(x);
        QCOMPARE(index.rows(0), (std::vector<int64_t>{0, 3}));
        QCOMPARE(index.rows(1), (std::vector<int64_t>{2, 3}));
        QCOMPARE(index.dense_column(x, 2), (std::vector<float>{2, 0, 0, 6}));
        QCOMPARE(index.stored(3), int64_t(0));
        QCOMPARE(index.dense_column(x, 3), (std::vector<float>(4, 0.0f)));
        compare_every_column(x, index);
    }

    void randomMatricesSortedAndUnsorted() {
        // Densities from never to always: gaps of one byte and of several, columns longer
        // than the checkpoint interval (decoded in parallel blocks).
        // Long enough columns (20 blocks) to take the parallel lookup path.
        const std::vector<double> density = {0.0, 0.0005, 0.01, 0.2, 0.6, 1.0, 0.05};
        for (bool counts : {false, true})
            for (bool shuffle : {false, true}) {
                const CsrMatrix x = random_csr(330000, density, shuffle, shuffle ? 11 : 7, counts);
                const GeneIndex index = GeneIndex::build(x);
                QCOMPARE(index.values_inline(), counts);
                QVERIFY(index.stored(5) > 16 * GeneIndex::kCheckpointEvery);
                compare_every_column(x, index);
                // Compact: rows a little over a byte per stored value (gaps of 1 at density
                // 1), the counts (below 300) one or two more.
                const double per_value = counts ? 3.0 : 1.5;
                QVERIFY2(index.memory_bytes() < size_t(per_value * double(x.nnz())) + 4096,
                         qPrintable(QString::number(index.memory_bytes())));
            }
    }

    void duplicatesAndEmptyRows() {
        CsrMatrix x;
        x.n_rows = 5;
        x.n_cols = 3;
        // row 0: gene 1 twice (first value wins, as a scan reads it); rows 1, 3 empty
        x.indptr = {0, 3, 3, 5, 5, 6};
        x.indices = {1, 2, 1, 2, 0, 1};
        x.data = {7, 8, 9, 1, 2, 3};
        const GeneIndex index = GeneIndex::build(x);
        QCOMPARE(index.rows(1), (std::vector<int64_t>{0, 0, 4}));
        QCOMPARE(index.dense_column(x, 1), (std::vector<float>{7, 0, 0, 0, 3}));
        compare_every_column(x, index);
    }

    void rowsFarApart() {
        // A gene stored in the first and last of 3M rows: a gap needing several varint bytes.
        CsrMatrix x;
        x.n_rows = 3000000;
        x.n_cols = 2;
        x.indptr.assign(size_t(x.n_rows) + 1, 0);
        x.indices = {1, 0, 1};
        x.data = {4, 5, 6};
        for (int64_t r = 1; r < x.n_rows; ++r) x.indptr[size_t(r)] = 1;
        x.indptr[size_t(x.n_rows) - 1] = 1;
        x.indptr[size_t(x.n_rows)] = 3;
        const GeneIndex index = GeneIndex::build(x);
        QCOMPARE(index.rows(1), (std::vector<int64_t>{0, x.n_rows - 1}));
        const std::vector<float> column = index.dense_column(x, 1);
        QCOMPARE(column.front(), 4.0f);
        QCOMPARE(column.back(), 6.0f);
        QCOMPARE(std::count(column.begin(), column.end(), 0.0f), std::ptrdiff_t(x.n_rows - 2));
    }

    void badInputIsATypedError() {
        CsrMatrix x;
        x.n_rows = 2;
        x.n_cols = 2;
        x.indptr = {0, 1, 2};
        x.indices = {0, 5};  // column 5 of 2
        x.data = {1, 2};
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, GeneIndex::build(x));
        x.indices = {0, 1};
        x.indptr = {0, 1};  // too short
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, GeneIndex::build(x));
        x.indptr = {0, 1, 2};
        const GeneIndex index = GeneIndex::build(x);
        CsrMatrix other = x;
        other.n_cols = 3;
        QVERIFY(!index.matches(other));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, index.dense_column(other, 0));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, index.dense_column(x, 2));
    }

    void cancelled() {
        const CsrMatrix x = random_csr(70000, {0.1, 0.1}, false, 3);
        CancelToken token;
        token.cancel();
        GeneIndexOptions options;
        options.control.cancel = &token;
        QVERIFY_THROWS_EXCEPTION(Cancelled, GeneIndex::build(x, options));
    }

    void realFilesFromSharedData() {
        // Real expression matrices (X and raw.X) of several layouts and sizes.
        const QString root = QStringLiteral(TRANSCURA_SHARED_DATA);
        const QStringList files = {
            QStringLiteral("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad"),
            QStringLiteral("h5ad/scanpy_pbmc68k_reduced/10x_pbmc68k_reduced.2025-11.h5ad"),
            QStringLiteral("10x/scanpy_cellranger_1.2.0/filtered_gene_bc_matrices_h5.h5")};
        int checked = 0, inline_seen = 0;
        for (const QString& file : files) {
            const QString path = root + QLatin1Char('/') + file;
            if (!QFileInfo::exists(path)) QFAIL(qPrintable(QStringLiteral("missing ") + path));
            const Cohort cohort = read_cohort(path.toStdString());
            std::vector<const Matrix*> matrices;
            if (cohort.X) matrices.push_back(&*cohort.X);
            if (cohort.raw) matrices.push_back(&cohort.raw->X);
            for (const Matrix* m : matrices) {
                if (!m->is_sparse()) continue;
                const CsrMatrix& x = m->sparse();
                const GeneIndex index = GeneIndex::build(x);
                compare_every_column(x, index);
                ++checked;
                inline_seen += index.values_inline() ? 1 : 0;
            }
        }
        QVERIFY(checked >= 3);
        QVERIFY(inline_seen >= 1 && inline_seen < checked);  // raw counts and normalised values
    }
};

QTEST_APPLESS_MAIN(GeneIndexTest)
#include "tst_gene_index.moc"
