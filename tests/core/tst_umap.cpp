// UMAP against umap-learn 0.5 on real PCs (Kang 2018 IFN-beta PBMC, obsm X_pca of the 2000-cell
// h5ad): fuzzy simplicial set weights, a/b curve parameters, trustworthiness of the layout
// (scikit-learn, k 15) no more than 0.01 below umap-learn's on the same kNN; determinism,
// stepping, cancellation, 3-D, disconnected graphs and argument checks.
#include <algorithm>
#include <cmath>
#include <random>

#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "batch_test_io.hpp"
#include "test_support.hpp"
#include "transcura/umap.hpp"

using namespace transcura;

namespace {

NeighborLists neighbors_from(const std::vector<int64_t>& idx, const std::vector<double>& dist,
                             int k) {
    NeighborLists nn;
    nn.k = k;
    nn.n_queries = static_cast<int64_t>(idx.size()) / k;
    nn.indices = idx;
    nn.distances = dist;
    return nn;
}

/// Exact kNN (the cell itself first) by brute force, for small synthetic tests.
NeighborLists brute_knn(const DenseD& x, int k) {
    NeighborLists nn;
    nn.k = k;
    nn.n_queries = x.n_rows;
    for (int64_t i = 0; i < x.n_rows; ++i) {
        std::vector<std::pair<double, int64_t>> all;
        for (int64_t j = 0; j < x.n_rows; ++j) {
            double s = 0;
            for (int64_t c = 0; c < x.n_cols; ++c) s += std::pow(x(i, c) - x(j, c), 2);
            all.push_back({j == i ? -1.0 : std::sqrt(s), j});
        }
        std::partial_sort(all.begin(), all.begin() + k, all.end());
        for (int j = 0; j < k; ++j) {
            nn.indices.push_back(all[static_cast<size_t>(j)].second);
            nn.distances.push_back(std::max(0.0, all[static_cast<size_t>(j)].first));
        }
    }
    return nn;
}

DenseD gaussian_blobs(int per_blob, int blobs, double separation, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    DenseD x(per_blob * blobs, 5);
    for (int b = 0; b < blobs; ++b)
        for (int i = 0; i < per_blob; ++i)
            for (int c = 0; c < 5; ++c)
                x(b * per_blob + i, c) = normal(rng) + (c == 0 ? separation * b : 0.0);
    return x;
}

bool all_finite(const DenseD& m) {
    for (double v : m.values)
        if (!std::isfinite(v)) return false;
    return true;
}

/// How far a 2D layout spreads: the median and the 99th percentile of the distances to the
/// layout's coordinate-wise median. Clusters drifting apart inflate both; the local scale set
/// by min_dist does not.
struct Spread {
    double median = 0, p99 = 0;
};
Spread spread_of(const std::vector<double>& xy) {
    const size_t n = xy.size() / 2;
    auto median_of = [](std::vector<double> v) {
        std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
        return v[v.size() / 2];
    };
    std::vector<double> xs(n), ys(n);
    for (size_t i = 0; i < n; ++i) {
        xs[i] = xy[2 * i];
        ys[i] = xy[2 * i + 1];
    }
    const double cx = median_of(xs), cy = median_of(ys);
    std::vector<double> d(n);
    for (size_t i = 0; i < n; ++i) d[i] = std::hypot(xs[i] - cx, ys[i] - cy);
    std::sort(d.begin(), d.end());
    return {d[n / 2], d[static_cast<size_t>(0.99 * static_cast<double>(n - 1))]};
}

}  // namespace

class TestUmap : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    QJsonObject info_;
    NeighborLists knn_;
    int64_t n_ = 0;

    QString path(const char* name) const { return dir_.filePath(QString::fromLatin1(name)); }

    double trust_of(const DenseD& layout) {
        const QString file = path("ours.bin");
        if (!batch_test::write_raw(file, layout.values)) return -1;
        QJsonObject t = test_support::python_json(
            "oracle_umap.py", {"trust", dir_.path(), file, QString::number(layout.n_cols)});
        return t.value("trust").toDouble(-1);
    }

    UmapOptions options(int threads, uint64_t seed = 0) const {
        UmapOptions o;
        o.seed = seed;
        o.control.num_threads = threads;
        return o;
    }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        info_ = test_support::python_json("oracle_umap.py",
                                          {"prepare", "kang", dir_.path(), "15", "0"});
        QCOMPARE(info_.value("n").toInt(), 2000);
        QCOMPARE(info_.value("k").toInt(), 15);
        n_ = 2000;
        knn_ = neighbors_from(batch_test::read_raw<int64_t>(path("knn_idx.bin")),
                              batch_test::read_raw<double>(path("knn_dist.bin")), 15);
        QCOMPARE(knn_.n_queries, n_);
    }

    void abParametersMatchUmapLearn() {
        const auto [a, b] = find_ab_params(1.0, 0.5);
        QVERIFY2(std::abs(a - info_.value("a").toDouble()) < 1e-4 * a,
                 qPrintable(QString("a %1 vs %2").arg(a).arg(info_.value("a").toDouble())));
        QVERIFY2(std::abs(b - info_.value("b").toDouble()) < 1e-4 * b,
                 qPrintable(QString("b %1 vs %2").arg(b).arg(info_.value("b").toDouble())));
        // umap-learn's default min_dist 0.1 (its find_ab_params(1, 0.1)).
        const auto [a1, b1] = find_ab_params(1.0, 0.1);
        QVERIFY(std::abs(a1 - 1.5769434604035928) < 1e-4);
        QVERIFY(std::abs(b1 - 0.8950608781603306) < 1e-4);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, find_ab_params(1.0, 3.5));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, find_ab_params(0.0, 0.1));
        QCOMPARE(default_umap_epochs(10000), 500);
        QCOMPARE(default_umap_epochs(10001), 200);
    }

    void smoothKnnMatchesUmapLearn() {
        const std::vector<double> sigmas = batch_test::read_raw<double>(path("sigmas.bin"));
        const std::vector<double> rhos = batch_test::read_raw<double>(path("rhos.bin"));
        QCOMPARE(static_cast<int64_t>(sigmas.size()), n_);
        SmoothKnnResults ours = smooth_knn_dist(knn_);
        double worst_sigma = 0, worst_rho = 0;
        for (int64_t i = 0; i < n_; ++i) {
            worst_sigma = std::max(worst_sigma, std::abs(ours.sigmas[i] - sigmas[i]) / sigmas[i]);
            worst_rho = std::max(worst_rho, std::abs(ours.rhos[i] - rhos[i]));
        }
        // umap-learn works in float32; the binary search stops within 1e-5 of log2(k).
        QVERIFY2(worst_sigma < 1e-4, qPrintable(QString::number(worst_sigma)));
        QVERIFY2(worst_rho < 1e-5, qPrintable(QString::number(worst_rho)));
    }

    void fuzzySetMatchesUmapLearn() {
        const auto indptr = batch_test::read_raw<int64_t>(path("fuzzy_indptr.bin"));
        const auto indices = batch_test::read_raw<int64_t>(path("fuzzy_indices.bin"));
        const auto data = batch_test::read_raw<double>(path("fuzzy_data.bin"));
        QCOMPARE(static_cast<int64_t>(indptr.size()), n_ + 1);
        RunControl control;
        control.num_threads = 2;
        CsrMatrix ours = fuzzy_simplicial_set(knn_, 0, control);
        QCOMPARE(ours.n_rows, n_);
        QCOMPARE(ours.n_cols, n_);
        QCOMPARE(ours.nnz(), static_cast<int64_t>(data.size()));
        QVERIFY(ours.indptr == indptr);
        double worst = 0;
        for (size_t e = 0; e < data.size(); ++e) {
            QCOMPARE(static_cast<int64_t>(ours.indices[e]), indices[e]);
            worst = std::max(worst, std::abs(static_cast<double>(ours.data[e]) - data[e]));
        }
        QVERIFY2(worst < 1e-4, qPrintable(QString::number(worst)));
        // Symmetric, in (0, 1].
        CsrMatrix t = ours.transposed();
        QVERIFY(t.indptr == ours.indptr && t.indices == ours.indices && t.data == ours.data);
        for (float w : ours.data) QVERIFY(w > 0.0f && w <= 1.0f);
        // Same answer on one thread.
        control.num_threads = 1;
        CsrMatrix serial = fuzzy_simplicial_set(knn_, 0, control);
        QVERIFY(serial.data == ours.data);
    }

    void fewerNeighboursUseTheFirstColumns() {
        NeighborLists narrow;
        narrow.k = 10;
        narrow.n_queries = n_;
        for (int64_t i = 0; i < n_; ++i)
            for (int j = 0; j < 10; ++j) {
                narrow.indices.push_back(knn_.row_indices(i)[j]);
                narrow.distances.push_back(knn_.row_distances(i)[j]);
            }
        const CsrMatrix from_narrow = fuzzy_simplicial_set(narrow);
        const CsrMatrix from_wide = fuzzy_simplicial_set(knn_, 10);
        QVERIFY(from_narrow.indptr == from_wide.indptr);
        QVERIFY(from_narrow.indices == from_wide.indices);
        QVERIFY(from_narrow.data == from_wide.data);
        QVERIFY(from_wide.nnz() < fuzzy_simplicial_set(knn_).nnz());
    }

    void trustworthinessNotBelowUmapLearn() {
        const QJsonObject reference = info_.value("reference").toObject();
        const double theirs = reference.value("trust").toDouble(-1);
        QVERIFY(theirs > 0.9);
        QElapsedTimer timer;
        timer.start();
        UmapResults ours = run_umap(knn_, options(2));
        const double seconds = timer.elapsed() / 1000.0;
        QCOMPARE(ours.embedding.n_rows, n_);
        QCOMPARE(ours.embedding.n_cols, int64_t(2));
        QCOMPARE(ours.n_epochs, 500);
        QVERIFY(ours.spectral_init_used);
        QVERIFY(all_finite(ours.embedding));
        const double mine = trust_of(ours.embedding);
        qInfo("trustworthiness: ours %.4f (%.2f s), umap-learn %.4f (%.2f s)", mine, seconds,
              theirs, reference.value("seconds").toDouble());
        QVERIFY2(mine >= theirs - 0.01, qPrintable(QString("%1 vs %2").arg(mine).arg(theirs)));
    }

    void layoutSpreadLikeUmapLearn() {
        // A layout's global scale must match umap-learn's, not only its local neighbourhoods:
        // an SGD whose attraction does not move both ends by opposite amounts lets weakly
        // linked groups drift apart (trustworthiness barely notices). umap-learn's own seeds
        // vary its median distance by about +-10% on these PCs.
        const Spread theirs = spread_of(batch_test::read_raw<double>(path("umap_learn.bin")));
        QVERIFY(theirs.median > 0);
        for (uint64_t seed : {0u, 1u, 2u}) {
            const Spread mine = spread_of(run_umap(knn_, options(2, seed)).embedding.values);
            qInfo("seed %d: distance to the median: median %.2f, p99 %.2f (umap-learn %.2f, %.2f)",
                  static_cast<int>(seed), mine.median, mine.p99, theirs.median, theirs.p99);
            QVERIFY2(mine.median < 1.3 * theirs.median && mine.median > 0.7 * theirs.median,
                     qPrintable(QString("median %1 vs %2").arg(mine.median).arg(theirs.median)));
            QVERIFY2(mine.p99 < 1.3 * theirs.p99,
                     qPrintable(QString("p99 %1 vs %2").arg(mine.p99).arg(theirs.p99)));
        }
    }

    void sameSeedSameThreadsIsBitIdentical() {
        UmapOptions o = options(2, 7);
        o.n_epochs = 120;
        const DenseD first = run_umap(knn_, o).embedding;
        const DenseD second = run_umap(knn_, o).embedding;
        QVERIFY(first.values == second.values);
        // The epoch is split so that nothing depends on the thread count either.
        o.control.num_threads = 1;
        QVERIFY(run_umap(knn_, o).embedding.values == first.values);
        o.control.num_threads = 2;
        o.seed = 8;
        QVERIFY(run_umap(knn_, o).embedding.values != first.values);
    }

    void everyVectorKernelGivesTheSameBits() {
        // The epoch runs SSE2, AVX2 (the default) or AVX-512 code, as the CPU allows: the same
        // arithmetic lane by lane, so the layout must not depend on the machine.
        // TRANSCURA_UMAP_KERNEL picks one (a kernel the CPU lacks falls back to the widest it has).
        for (int dim : {2, 3}) {
            UmapOptions o = options(2, 11);
            o.n_components = dim;
            o.n_epochs = 80;
            qputenv("TRANSCURA_UMAP_KERNEL", "sse2");
            const DenseD reference = run_umap(knn_, o).embedding;
            QVERIFY(all_finite(reference));
            for (const char* kernel : {"avx2", "avx512"}) {
                qputenv("TRANSCURA_UMAP_KERNEL", kernel);
                const DenseD layout = run_umap(knn_, o).embedding;
                QVERIFY2(layout.values == reference.values,
                         qPrintable(QString("%1-D, %2 vs sse2").arg(dim).arg(kernel)));
            }
        }
        qunsetenv("TRANSCURA_UMAP_KERNEL");
        UmapOptions o = options(2, 11);
        o.n_epochs = 80;
        qputenv("TRANSCURA_UMAP_KERNEL", "sse2");
        const DenseD narrow = run_umap(knn_, o).embedding;
        qunsetenv("TRANSCURA_UMAP_KERNEL");
        QVERIFY(run_umap(knn_, o).embedding.values == narrow.values);
    }

    void steppedRunEqualsOneRun() {
        UmapOptions o = options(2, 3);
        o.n_epochs = 90;
        const DenseD whole = run_umap(knn_, o).embedding;
        UmapLayout layout(knn_, o);
        QVERIFY(!layout.initialized());
        QCOMPARE(layout.layout().n_rows, int64_t(0));
        layout.initialize();
        QCOMPARE(layout.layout().n_rows, n_);
        const DenseD start = layout.layout();
        for (double v : start.values) QVERIFY(v >= 0.0 && v <= 10.0);  // scaled like umap-learn
        QCOMPARE(layout.run(7), 7);
        QVERIFY(layout.layout().values != start.values);
        QCOMPARE(layout.run(0), 7);
        QCOMPARE(layout.run(50), 57);
        QVERIFY(!layout.done());
        QCOMPARE(layout.run(1000), 90);
        QVERIFY(layout.done());
        QCOMPARE(layout.epoch(), 90);
        QCOMPARE(layout.n_epochs(), 90);
        QCOMPARE(layout.run(5), 90);
        QVERIFY(layout.layout().values == whole.values);
        QCOMPARE(layout.graph().n_rows, n_);
    }

    void progressAndCancel() {
        UmapOptions o = options(2);
        o.n_epochs = 200;
        CancelToken token;
        o.control.cancel = &token;
        double last = -1;
        bool monotone = true, cancelled_once = false;
        o.control.progress = [&](double fraction, const std::string&) {
            if (fraction < last) monotone = false;
            last = fraction;
            if (fraction >= 0.25 && !cancelled_once) {
                cancelled_once = true;
                token.cancel();
            }
        };
        UmapLayout layout(knn_, o);
        QVERIFY_THROWS_EXCEPTION(Cancelled, layout.run_to_end());
        QVERIFY(monotone);
        QVERIFY(layout.epoch() >= 50 && layout.epoch() < 200);
        QVERIFY(all_finite(layout.layout()));  // a whole epoch's layout, not a torn one
        // Resumable once the token is reset.
        token.reset();
        QCOMPARE(layout.run_to_end(), 200);
        QVERIFY(monotone);
        QCOMPARE(last, 1.0);

        // Cancelled before anything: initialize() throws too.
        CancelToken early;
        early.cancel();
        UmapOptions p = options(2);
        p.control.cancel = &early;
        QVERIFY_THROWS_EXCEPTION(Cancelled, run_umap(knn_, p));
    }

    void threeComponents() {
        UmapOptions o = options(2);
        o.n_components = 3;
        o.n_epochs = 150;
        UmapResults r = run_umap(knn_, o);
        QCOMPARE(r.embedding.n_cols, int64_t(3));
        QVERIFY(r.spectral_init_used);
        QVERIFY(all_finite(r.embedding));
        const double t = trust_of(r.embedding);
        QVERIFY2(t > 0.9, qPrintable(QString::number(t)));
    }

    void disconnectedGraphKeepsComponentsApart() {
        // Three far-apart blobs: the kNN graph has three components. Each gets its own spectral
        // layout; the blobs must stay separate.
        const DenseD x = gaussian_blobs(150, 3, 100.0, 11);
        NeighborLists nn = brute_knn(x, 10);
        UmapOptions o = options(2);
        o.n_epochs = 200;
        UmapResults r = run_umap(nn, o);
        QVERIFY(r.spectral_init_used);
        QVERIFY(all_finite(r.embedding));
        // Every cell is closer to its own blob's centroid than to the other two.
        double centroid[3][2] = {};
        for (int b = 0; b < 3; ++b)
            for (int i = 0; i < 150; ++i)
                for (int d = 0; d < 2; ++d) centroid[b][d] += r.embedding(b * 150 + i, d) / 150;
        int misplaced = 0;
        for (int b = 0; b < 3; ++b)
            for (int i = 0; i < 150; ++i) {
                int best = 0;
                double best_d = 1e300;
                for (int c = 0; c < 3; ++c) {
                    const double d = std::hypot(r.embedding(b * 150 + i, 0) - centroid[c][0],
                                                r.embedding(b * 150 + i, 1) - centroid[c][1]);
                    if (d < best_d) best_d = d, best = c;
                }
                misplaced += best != b;
            }
        QCOMPARE(misplaced, 0);

        // Without spectral init: the seeded random layout.
        o.spectral_init = false;
        UmapResults random = run_umap(nn, o);
        QVERIFY(!random.spectral_init_used);
        QVERIFY(all_finite(random.embedding));
    }

    void tinyInputsFallBackToRandomInit() {
        const DenseD x = gaussian_blobs(6, 1, 0.0, 5);
        UmapResults r = run_umap(brute_knn(x, 4), options(1));
        QCOMPARE(r.embedding.n_rows, int64_t(6));
        QVERIFY(!r.spectral_init_used);
        QVERIFY(all_finite(r.embedding));
    }

    void duplicatesAndSelfNotFirst() {
        // Exact duplicates: a row may list its twin before itself; rho is the first non-zero
        // distance and the self entry gets weight 0 wherever it is.
        DenseD x = gaussian_blobs(60, 1, 0.0, 9);
        for (int c = 0; c < 5; ++c) x(1, c) = x(0, c);
        NeighborLists nn = brute_knn(x, 8);
        std::swap(nn.indices[8], nn.indices[9]);  // row 1: twin 0 first, itself second
        CsrMatrix g = fuzzy_simplicial_set(nn);
        for (int64_t i = 0; i < g.n_rows; ++i)
            for (int64_t p = g.indptr[i]; p < g.indptr[i + 1]; ++p) QVERIFY(g.indices[p] != i);
        SmoothKnnResults s = smooth_knn_dist(nn);
        QVERIFY(s.rhos[1] > 0.0);
        QVERIFY(all_finite(run_umap(nn, options(2)).embedding));
    }

    void invalidArguments() {
        UmapOptions o = options(1);
        o.n_components = 4;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, UmapLayout(knn_, o));
        o.n_components = 2;
        o.min_dist = -0.1;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, UmapLayout(knn_, o));
        o.min_dist = 0.5;
        o.n_epochs = -1;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, UmapLayout(knn_, o));
        o.n_epochs = 0;
        o.n_neighbors = 16;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, run_umap(knn_, o));
        NeighborLists subset = knn_;
        subset.queries.assign(static_cast<size_t>(n_), 0);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, fuzzy_simplicial_set(subset));
        NeighborLists broken = knn_;
        broken.indices[5] = n_ + 3;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, fuzzy_simplicial_set(broken));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, fuzzy_simplicial_set(NeighborLists()));
    }
};

QTEST_GUILESS_MAIN(TestUmap)
#include "tst_umap.moc"
