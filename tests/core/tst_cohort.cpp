// The cohort model: CSR invariants, typed columns with missing values, views and their
// materialisation, validation messages.
#include <QtTest/QtTest>

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>

#include "transcura/cohort.hpp"
#include "transcura/errors.hpp"

using namespace transcura;

namespace {

/// 4 cells x 3 genes:
///   [1 0 2]
///   [0 0 0]
///   [0 3 0]
///   [4 5 6]
CsrMatrix small_csr() {
    CsrMatrix m;
    m.n_rows = 4;
    m.n_cols = 3;
    m.indptr = {0, 2, 2, 3, 6};
    m.indices = {0, 2, 1, 0, 1, 2};
    m.data = {1, 2, 3, 4, 5, 6};
    return m;
}

std::shared_ptr<Cohort> small_cohort() {
    auto cohort = std::make_shared<Cohort>();
    cohort->obs_names = {"c0", "c1", "c2", "c3"};
    cohort->var_names = {"g0", "g1", "g2"};
    cohort->X = Matrix(small_csr());
    cohort->obs.set(Column::categorize("batch", {"a", "b", "", "a"}));
    cohort->obs.set(Column::make_float("score", {0.5, 1.5, std::nan(""), 3.5}));
    cohort->var.set(Column::make_string("symbol", {"A", "B", "C"}));
    DenseD pca(4, 2);
    for (int64_t r = 0; r < 4; ++r) pca(r, 0) = static_cast<double>(r), pca(r, 1) = -r;
    cohort->obsm["X_pca"] = pca;
    cohort->layers["counts"] = Matrix(small_csr());
    return cohort;
}

}  // namespace

class CohortTest : public QObject {
    Q_OBJECT

private slots:
    void csrValidateCatchesEachInconsistency() {
        CsrMatrix ok = small_csr();
        ok.validate("f", "X");
        CsrMatrix bad = ok;
        bad.indptr.pop_back();
        QVERIFY_THROWS_EXCEPTION(FormatError, bad.validate("f", "X"));
        bad = ok;
        bad.indices[1] = 3;
        QVERIFY_THROWS_EXCEPTION(FormatError, bad.validate("f", "X"));
        bad = ok;
        bad.indptr[2] = 1;  // decreasing
        QVERIFY_THROWS_EXCEPTION(FormatError, bad.validate("f", "X"));
        bad = ok;
        bad.data.pop_back();
        QVERIFY_THROWS_EXCEPTION(FormatError, bad.validate("f", "X"));
        bad = ok;
        bad.n_rows = -1;
        try {
            bad.validate("file.h5ad", "X");
            QFAIL("no error");
        } catch (const FormatError& error) {
            QVERIFY(QString(error.what()).startsWith("file.h5ad: X: negative shape"));
        }
    }

    void transposeAndSort() {
        CsrMatrix t = small_csr().transposed();
        QCOMPARE(t.n_rows, int64_t(3));
        QCOMPARE(t.n_cols, int64_t(4));
        t.validate("", "t");
        CsrMatrix back = t.transposed();
        QCOMPARE(back.indptr, small_csr().indptr);
        QCOMPARE(back.indices, small_csr().indices);
        QCOMPARE(back.data, small_csr().data);
        CsrMatrix unsorted = small_csr();
        std::swap(unsorted.indices[3], unsorted.indices[5]);
        std::swap(unsorted.data[3], unsorted.data[5]);
        unsorted.sort_indices();
        QCOMPARE(unsorted.indices, small_csr().indices);
        QCOMPARE(unsorted.data, small_csr().data);
    }

    void transposeMatchesASerialScatter() {
        // Large enough for several row parts and column bands; sorted rows (the banded path)
        // and the same rows shuffled (the scatter path); empty rows and columns included.
        const int64_t rows = 3000, cols = 5000;
        std::mt19937 rng(3);
        CsrMatrix sorted_rows;
        sorted_rows.n_rows = rows;
        sorted_rows.n_cols = cols;
        for (int64_t r = 0; r < rows; ++r) {
            if (r % 97 != 5)
                for (int64_t c = 0; c < cols; ++c)
                    if (c % 89 != 7 && rng() % 3 == 0) {
                        sorted_rows.indices.push_back(static_cast<int32_t>(c));
                        sorted_rows.data.push_back(static_cast<float>(rng() % 1000));
                    }
            sorted_rows.indptr.push_back(static_cast<int64_t>(sorted_rows.data.size()));
        }
        QVERIFY(sorted_rows.nnz() > (int64_t{1} << 22));  // more than one row part
        CsrMatrix shuffled = sorted_rows;
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t begin = shuffled.indptr[r];
            std::vector<int64_t> order(static_cast<size_t>(shuffled.indptr[r + 1] - begin));
            std::iota(order.begin(), order.end(), begin);
            std::shuffle(order.begin(), order.end(), rng);
            for (size_t k = 0; k < order.size(); ++k) {
                shuffled.indices[begin + static_cast<int64_t>(k)] = sorted_rows.indices[order[k]];
                shuffled.data[begin + static_cast<int64_t>(k)] = sorted_rows.data[order[k]];
            }
        }
        for (const CsrMatrix* m : {&sorted_rows, &shuffled}) {
            CsrMatrix want;  // one serial scatter
            want.n_rows = cols;
            want.n_cols = rows;
            want.indptr.assign(static_cast<size_t>(cols) + 1, 0);
            for (int32_t c : m->indices) ++want.indptr[static_cast<size_t>(c) + 1];
            for (int64_t c = 0; c < cols; ++c) want.indptr[c + 1] += want.indptr[c];
            want.indices.resize(m->indices.size());
            want.data.resize(m->data.size());
            std::vector<int64_t> next(want.indptr.begin(), want.indptr.end() - 1);
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t k = m->indptr[r]; k < m->indptr[r + 1]; ++k) {
                    const int64_t slot = next[m->indices[k]]++;
                    want.indices[slot] = static_cast<int32_t>(r);
                    want.data[slot] = m->data[k];
                }
            const CsrMatrix got = m->transposed();
            QCOMPARE(got.n_rows, want.n_rows);
            QCOMPARE(got.n_cols, want.n_cols);
            QVERIFY(got.indptr == want.indptr);
            QVERIFY(got.indices == want.indices);
            QVERIFY(got.data == want.data);
        }
        const CsrMatrix back = sorted_rows.transposed().transposed();
        QVERIFY(back.indptr == sorted_rows.indptr && back.indices == sorted_rows.indices &&
                back.data == sorted_rows.data);
    }

    void matrixSubsetKeepsValues() {
        Matrix m(small_csr());
        std::vector<int64_t> rows{3, 0}, cols{2, 0};
        Matrix s = m.subset(&rows, &cols);
        QVERIFY(s.is_sparse());
        // Row 3 [4 5 6] -> [6 4]; row 0 [1 0 2] -> [2 1].
        Matrix dense_view = Matrix(DenseF(2, 2));
        CsrMatrix c = s.sparse();
        QCOMPARE(c.indptr, (std::vector<int64_t>{0, 2, 4}));
        QCOMPARE(c.indices, (DefaultInitVector<int32_t>{0, 1, 0, 1}));
        QCOMPARE(c.data, (DefaultInitVector<float>{6, 4, 2, 1}));
        QCOMPARE(m.sum(), 21.0);
        QCOMPARE(m.nnz(), int64_t(6));
        // Rows only (repeated and reordered): whole rows copied.
        std::vector<int64_t> some_rows{3, 2, 1, 3};  // row 1 is empty
        const CsrMatrix r = m.subset(&some_rows, nullptr).sparse();
        QCOMPARE(r.n_rows, int64_t(4));
        QCOMPARE(r.n_cols, int64_t(3));
        QCOMPARE(r.indptr, (std::vector<int64_t>{0, 3, 4, 4, 7}));
        QCOMPARE(r.indices, (DefaultInitVector<int32_t>{0, 1, 2, 1, 0, 1, 2}));
        QCOMPARE(r.data, (DefaultInitVector<float>{4, 5, 6, 3, 4, 5, 6}));
        (void)dense_view;
    }

    void columnsWithMissingValues() {
        Column batch = Column::categorize("batch", {"b", "a", "", "a"});
        QCOMPARE(batch.categories, (std::vector<std::string>{"a", "b"}));
        QCOMPARE(batch.codes, (std::vector<int32_t>{1, 0, -1, 0}));
        QVERIFY(batch.is_missing(2));
        QCOMPARE(batch.text(0), std::string("b"));
        Column ints = Column::make_int("n", {1, 2, 3});
        ints.missing = {0, 1, 0};
        QVERIFY(std::isnan(ints.number(1)));
        QCOMPARE(ints.number(2), 3.0);
        QCOMPARE(ints.text(1), std::string());
        Column picked = ints.subset({2, 1});
        QCOMPARE(picked.ints, (std::vector<int64_t>{3, 2}));
        QCOMPARE(picked.missing, (std::vector<uint8_t>{0, 1}));
    }

    void makeUniqueLikeAnndata() {
        std::vector<std::string> names{"A", "B", "A", "A", "A-1"};
        Cohort::make_unique(names);
        // "A-1" exists already, so the duplicates take the next free suffixes.
        QCOMPARE(names, (std::vector<std::string>{"A", "B", "A-2", "A-3", "A-1"}));
        std::vector<std::string> plain{"x", "y"};
        Cohort::make_unique(plain);
        QCOMPARE(plain, (std::vector<std::string>{"x", "y"}));
    }

    void viewsMaterialiseOnlyTheSelection() {
        auto cohort = small_cohort();
        cohort->validate("test");
        CohortView all(cohort);
        QCOMPARE(all.n_obs(), int64_t(4));
        CohortView some = all.select_cells({3, 0}).select_genes({1, 2});
        QCOMPARE(some.cells(), (std::vector<int64_t>{3, 0}));
        QCOMPARE(some.genes(), (std::vector<int64_t>{1, 2}));
        // The parent is untouched: views hold indices, not copies.
        QCOMPARE(cohort->X->nnz(), int64_t(6));
        Cohort out = some.materialize();
        out.validate("materialised");
        QCOMPARE(out.obs_names, (std::vector<std::string>{"c3", "c0"}));
        QCOMPARE(out.var_names, (std::vector<std::string>{"g1", "g2"}));
        QCOMPARE(out.X->sum(), 5.0 + 6.0 + 2.0);
        QCOMPARE(out.obs.find("batch")->text(0), std::string("a"));
        QCOMPARE(out.obsm["X_pca"](0, 0), 3.0);
        QCOMPARE(out.layers["counts"].n_cols(), int64_t(2));
        QCOMPARE(out.var.find("symbol")->strings, (std::vector<std::string>{"B", "C"}));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, CohortView(cohort, {7}, {0}));
    }

    void validateNamesTheBrokenPart() {
        auto cohort = small_cohort();
        cohort->obs.set(Column::make_float("short", {1.0}));
        try {
            cohort->validate("cohort.h5ad");
            QFAIL("no error");
        } catch (const FormatError& error) {
            QVERIFY2(QString(error.what()).contains("obs/short"), error.what());
        }
        cohort = small_cohort();
        cohort->obsm["bad"] = DenseD(3, 2);
        QVERIFY_THROWS_EXCEPTION(FormatError, cohort->validate("x"));
        cohort = small_cohort();
        cohort->var_names.pop_back();
        QVERIFY_THROWS_EXCEPTION(FormatError, cohort->validate("x"));
    }
};

QTEST_APPLESS_MAIN(CohortTest)
#include "tst_cohort.moc"
