// The kNN step (exact search against scikit-learn's NearestNeighbors, HNSW recall against exact
// search, determinism across thread counts) and Leiden (cell types of a simulated cohort
// recovered, agreement with leidenalg as scanpy calls it, adjusted Rand index against sklearn).
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <algorithm>
#include <cmath>
#include <random>

#include "batch_test_io.hpp"
#include "test_support.hpp"
#include "transcura/errors.hpp"
#include "transcura/knn.hpp"
#include "transcura/leiden.hpp"
#include "transcura/pipeline.hpp"
#include "transcura/qc.hpp"
#include "transcura/simulate.hpp"
#include "transcura/umap.hpp"

using namespace transcura;

namespace {

RunControl threads(int n) {
    RunControl control;
    control.num_threads = n;
    return control;
}

/// Symmetric 0/1 kNN graph (an edge when either cell lists the other): a connectivity graph
/// independent of UMAP.
CsrMatrix binary_knn_graph(const NeighborLists& nn) {
    const int64_t n = nn.n_queries;
    std::vector<std::vector<int32_t>> rows(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        for (int j = 0; j < nn.k; ++j) {
            const int64_t other = nn.row_indices(i)[j];
            if (other == i) continue;
            rows[i].push_back(static_cast<int32_t>(other));
            rows[other].push_back(static_cast<int32_t>(i));
        }
    CsrMatrix g;
    g.n_rows = g.n_cols = n;
    g.indptr.assign(static_cast<size_t>(n + 1), 0);
    for (int64_t i = 0; i < n; ++i) {
        std::sort(rows[i].begin(), rows[i].end());
        rows[i].erase(std::unique(rows[i].begin(), rows[i].end()), rows[i].end());
        for (int32_t c : rows[i]) {
            g.indices.push_back(c);
            g.data.push_back(1.0f);
        }
        g.indptr[i + 1] = static_cast<int64_t>(g.indices.size());
    }
    return g;
}

/// Gaussian blobs in `dims` dimensions with unequal spreads, like PCs of single-cell data.
DenseD blobs(int64_t n, int dims, int centres, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal;
    DenseD centre(centres, dims);
    for (double& v : centre.values) v = 6.0 * normal(rng);
    DenseD data(n, dims);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t c = i % centres;
        for (int j = 0; j < dims; ++j)
            data(i, j) = centre(c, j) + normal(rng) * (1.0 + 3.0 / (1.0 + j));
    }
    return data;
}

}  // namespace

class TestKnnLeiden : public QObject {
    Q_OBJECT

private:
    QTemporaryDir dir_;
    DenseD pcs_;                  // PCs of a simulated cohort (kept cells)
    std::vector<int32_t> truth_;  // its simulated cell types

    QString path(const char* name) const { return dir_.filePath(QString::fromLatin1(name)); }

private slots:
    void initTestCase() {
        QVERIFY(dir_.isValid());
        SimulateOptions sim;
        sim.n_cells = 3000;
        sim.n_genes = 3000;
        sim.n_types = 6;
        sim.n_batches = 2;
        sim.batch_effect = 0.1;  // mild
        sim.seed = 11;
        sim.control = threads(2);
        Cohort cohort = simulate_cohort(sim).cohort;
        PipelineOptions options;
        options.batch_key = "batch";
        options.n_hvg = 1000;
        options.n_pcs = 30;
        options.control = threads(2);
        PipelineResults run = run_pipeline(std::move(cohort), options);
        pcs_ = run.cohort.obsm.at("X_pca");
        truth_ = batch_codes(run.cohort, "cell_type");
        QVERIFY(pcs_.n_rows > 2500);
        QCOMPARE(truth_.size(), size_t(pcs_.n_rows));
    }

    void exactMatchesSklearn() {
        const int64_t n = pcs_.n_rows, d = pcs_.n_cols;
        const int k = 15;
        QVERIFY(batch_test::write_raw(path("pcs.bin"), pcs_.values));
        const QJsonObject info = test_support::python_json(
            "oracle_knn.py", {"exact", path("pcs.bin"), QString::number(n), QString::number(d),
                              QString::number(k), path("sk")});
        QCOMPARE(info.value("n").toInt(), int(n));
        const auto sk_idx = batch_test::read_raw<int64_t>(path("sk.idx"));
        const auto sk_dist = batch_test::read_raw<double>(path("sk.dist"));
        QCOMPARE(sk_idx.size(), size_t(n * k));

        KnnOptions options;
        options.k = k;
        options.control = threads(2);
        const KnnResults ours = knn_graph(pcs_, options);
        QVERIFY(ours.exact);
        QCOMPARE(ours.neighbors.k, k);
        int64_t same_sets = 0, self_first = 0;
        double worst = 0;
        for (int64_t i = 0; i < n; ++i) {
            std::vector<int64_t> a(ours.neighbors.row_indices(i),
                                   ours.neighbors.row_indices(i) + k);
            std::vector<int64_t> b(sk_idx.begin() + i * k, sk_idx.begin() + (i + 1) * k);
            self_first += a[0] == i;
            std::sort(a.begin(), a.end());
            std::sort(b.begin(), b.end());
            same_sets += a == b;
            for (int j = 1; j < k; ++j)
                worst = std::max(worst,
                                 std::abs(ours.neighbors.row_distances(i)[j] - sk_dist[i * k + j]) /
                                     std::max(1e-12, sk_dist[i * k + j]));
        }
        QCOMPARE(self_first, n);
        QCOMPARE(same_sets, n);  // continuous data: no ties, so the sets are identical
        QVERIFY2(worst < 1e-6, qPrintable(QString::number(worst)));
    }

    void hnswRecallAndDeterminism() {
        for (const DenseD* data : {&pcs_}) {
            const NeighborLists exact = exact_neighbors(*data, 15, threads(2));
            KnnOptions options;
            options.exact_max_cells = 0;  // force HNSW
            options.control = threads(2);
            const KnnResults hnsw = knn_graph(*data, options);
            QVERIFY(!hnsw.exact);
            const double recall = knn_recall(hnsw.neighbors, exact);
            qInfo() << "HNSW recall@15 on" << data->n_rows << "simulated PCs:" << recall;
            QVERIFY2(recall >= 0.95, qPrintable(QString::number(recall)));
            for (int64_t i = 0; i < data->n_rows; ++i)
                QCOMPARE(hnsw.neighbors.row_indices(i)[0], i);

            options.control = threads(1);
            const KnnResults one_thread = knn_graph(*data, options);
            QVERIFY(one_thread.neighbors.indices == hnsw.neighbors.indices);
            QVERIFY(one_thread.neighbors.distances == hnsw.neighbors.distances);
        }
        // Harder: 6000 points in 40 dimensions, 20 overlapping blobs.
        const DenseD data = blobs(6000, 40, 20, 5);
        const NeighborLists exact = exact_neighbors(data, 15, threads(2));
        for (uint64_t seed : {0u, 1u}) {
            KnnOptions options;
            options.exact_max_cells = 0;
            options.seed = seed;
            options.control = threads(2);
            const double recall = knn_recall(hnsw_knn(data, options), exact);
            qInfo() << "HNSW recall@15 on 6000 blobs, seed" << seed << ":" << recall;
            QVERIFY2(recall >= 0.95, qPrintable(QString::number(recall)));
        }
    }

    void knnPathsAndTables() {
        KnnOptions options;
        options.k = 10;
        options.exact_max_cells = 100;
        const DenseD small = blobs(100, 5, 3, 1);
        QVERIFY(knn_graph(small, options).exact);
        const DenseD larger = blobs(101, 5, 3, 1);
        const KnnResults approx = knn_graph(larger, options);
        QVERIFY(!approx.exact);
        QCOMPARE(approx.neighbors.k, 10);

        const CsrMatrix distances = knn_distance_matrix(approx.neighbors, larger.n_rows);
        QCOMPARE(distances.n_rows, int64_t(101));
        for (int64_t i = 0; i < distances.n_rows; ++i) {
            QCOMPARE(distances.indptr[i + 1] - distances.indptr[i], int64_t(9));
            for (int64_t p = distances.indptr[i]; p < distances.indptr[i + 1]; ++p) {
                QVERIFY(distances.indices[p] != i);
                QVERIFY(distances.data[p] > 0);
                if (p > distances.indptr[i])
                    QVERIFY(distances.indices[p] > distances.indices[p - 1]);
            }
        }
        // k larger than the cohort: the whole cohort.
        options.k = 500;
        QCOMPARE(knn_graph(small, options).neighbors.k, 100);

        // Duplicated cells: every row still starts with its own cell, on both paths.
        DenseD twins = blobs(60, 4, 2, 3);
        for (int64_t i = 30; i < 60; ++i) std::copy_n(twins.row(i - 30), 4, twins.row(i));
        for (int64_t max_exact : {int64_t(1000), int64_t(0)}) {
            options.k = 5;
            options.exact_max_cells = max_exact;
            const NeighborLists nn = knn_graph(twins, options).neighbors;
            for (int64_t i = 0; i < 60; ++i) {
                QCOMPARE(nn.row_indices(i)[0], i);
                QCOMPARE(nn.row_distances(i)[0], 0.0);
                QCOMPARE(nn.row_indices(i)[1], i < 30 ? i + 30 : i - 30);  // its twin next
                QCOMPARE(nn.row_distances(i)[1], 0.0);
            }
        }
    }

    void knnRejectsBadInput() {
        KnnOptions options;
        DenseD data = blobs(50, 3, 2, 2);
        options.k = 0;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, knn_graph(data, options));
        options.k = 5;
        data(3, 1) = std::nan("");
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, knn_graph(data, options));
        DenseD broken = blobs(10, 3, 2, 2);
        broken.values.pop_back();
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, knn_graph(broken, options));
    }

    void knnCancels() {
        CancelToken cancel;
        cancel.cancel();
        KnnOptions options;
        options.control.cancel = &cancel;
        QVERIFY_THROWS_EXCEPTION(Cancelled, knn_graph(pcs_, options));
        options.exact_max_cells = 0;
        QVERIFY_THROWS_EXCEPTION(Cancelled, knn_graph(pcs_, options));
    }

    void leidenRecoversCellTypes() {
        KnnOptions knn;
        knn.control = threads(2);
        const NeighborLists nn = knn_graph(pcs_, knn).neighbors;
        // Both graphs: the 0/1 kNN graph and UMAP's fuzzy simplicial set (scanpy's
        // connectivities, what the pipeline clusters).
        const std::vector<std::pair<const char*, CsrMatrix>> graphs = {
            {"binary", binary_knn_graph(nn)}, {"fuzzy", fuzzy_simplicial_set(nn, 0, threads(2))}};
        for (const auto& [name, graph] : graphs) {
            LeidenOptions options;
            const LeidenResults ours = leiden(graph, options);
            QCOMPARE(ours.membership.size(), size_t(pcs_.n_rows));
            const double ari = adjusted_rand_index(ours.membership, truth_);
            qInfo() << name << "graph: Leiden" << ours.n_clusters << "clusters, modularity"
                    << ours.quality << ", passes" << ours.n_passes << ", ARI vs cell types" << ari;
            QVERIFY2(ari > 0.8, qPrintable(QString::number(ari)));

            // Against leidenalg as scanpy calls it, on the same graph.
            const QString prefix = path(name);
            QVERIFY(batch_test::write_raw(prefix + ".indptr", graph.indptr));
            QVERIFY(batch_test::write_raw(prefix + ".indices", graph.indices));
            QVERIFY(batch_test::write_raw(prefix + ".data", graph.data));
            QVERIFY(batch_test::write_raw(prefix + ".ours", ours.membership));
            QVERIFY(batch_test::write_raw(path("truth.bin"), truth_));
            const QJsonObject oracle = test_support::python_json(
                "oracle_knn.py", {"leiden", prefix, QString::number(pcs_.n_rows), "1.0", "0",
                                  prefix + ".ours", path("truth.bin")});
            qInfo() << name << "graph: leidenalg" << oracle.value("n_clusters_leidenalg").toInt()
                    << "clusters, modularity" << oracle.value("modularity_leidenalg").toDouble()
                    << "(ours by igraph:" << oracle.value("modularity_ours").toDouble()
                    << "), ARI ours vs leidenalg" << oracle.value("ari_ours_leidenalg").toDouble()
                    << ", leidenalg vs truth" << oracle.value("ari_leidenalg_truth").toDouble();
            QVERIFY(oracle.contains("ari_ours_truth"));
            // Our ARI equals sklearn's.
            QVERIFY(std::abs(oracle.value("ari_ours_truth").toDouble() - ari) < 1e-9);
            // Our quality is the modularity at the resolution, as igraph computes it.
            QVERIFY(std::abs(oracle.value("modularity_ours").toDouble() - ours.quality) < 1e-6);
            // As good a partition as leidenalg's, and close to it.
            QVERIFY(ours.quality > oracle.value("modularity_leidenalg").toDouble() - 0.01);
            QVERIFY(oracle.value("ari_ours_leidenalg").toDouble() > 0.8);
        }
    }

    void leidenDeterministicSortedAndResolution() {
        KnnOptions knn;
        knn.control = threads(2);
        const CsrMatrix graph = binary_knn_graph(knn_graph(pcs_, knn).neighbors);
        LeidenOptions options;
        options.seed = 3;
        const LeidenResults a = leiden(graph, options);
        const LeidenResults b = leiden(graph, options);
        QVERIFY(a.membership == b.membership);
        QCOMPARE(a.quality, b.quality);
        std::vector<int64_t> sizes(static_cast<size_t>(a.n_clusters), 0);
        for (int32_t c : a.membership) {
            QVERIFY(c >= 0 && c < a.n_clusters);
            ++sizes[c];
        }
        for (size_t c = 1; c < sizes.size(); ++c) QVERIFY(sizes[c] <= sizes[c - 1]);
        QVERIFY(sizes.back() > 0);

        options.resolution = 4.0;
        const LeidenResults fine = leiden(graph, options);
        QVERIFY2(fine.n_clusters > a.n_clusters,
                 qPrintable(QString("%1 vs %2").arg(fine.n_clusters).arg(a.n_clusters)));
        options.resolution = 1.0;
        options.n_iterations = 2;
        QVERIFY(leiden(graph, options).n_passes <= 2);
    }

    void leidenSmallAndBadGraphs() {
        // Two triangles joined by one weak edge: two clusters, the larger (by size tie, the one
        // with cell 0) first.
        CsrMatrix g;
        g.n_rows = g.n_cols = 6;
        const std::vector<std::tuple<int, int, float>> edges = {
            {0, 1, 1}, {1, 2, 1}, {0, 2, 1}, {3, 4, 1}, {4, 5, 1}, {3, 5, 1}, {2, 3, 0.1f}};
        std::vector<std::vector<std::pair<int, float>>> rows(6);
        for (auto [i, j, w] : edges) {
            rows[i].push_back({j, w});
            rows[j].push_back({i, w});
        }
        g.indptr = {0};
        for (auto& row : rows) {
            std::sort(row.begin(), row.end());
            for (auto [j, w] : row) {
                g.indices.push_back(j);
                g.data.push_back(w);
            }
            g.indptr.push_back(static_cast<int64_t>(g.indices.size()));
        }
        const LeidenResults r = leiden(g);
        QCOMPARE(r.n_clusters, 2);
        QVERIFY((r.membership == std::vector<int32_t>{0, 0, 0, 1, 1, 1}));

        CsrMatrix empty;
        empty.n_rows = empty.n_cols = 4;
        empty.indptr = {0, 0, 0, 0, 0};
        const LeidenResults singletons = leiden(empty);
        QCOMPARE(singletons.n_clusters, 4);

        CsrMatrix not_square = g;
        not_square.n_cols = 7;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, leiden(not_square));
        CsrMatrix negative = g;
        negative.data[0] = -1;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, leiden(negative));
        LeidenOptions bad;
        bad.resolution = 0;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, leiden(g, bad));
    }

    void adjustedRandIndexEdgeCases() {
        QCOMPARE(adjusted_rand_index({0, 0, 1, 1}, {5, 5, 2, 2}), 1.0);
        QCOMPARE(adjusted_rand_index({0, 0, 0}, {1, 1, 1}), 1.0);
        // sklearn: adjusted_rand_score([0,0,1,1],[0,1,0,1]) = -0.5
        QVERIFY(std::abs(adjusted_rand_index({0, 0, 1, 1}, {0, 1, 0, 1}) + 0.5) < 1e-12);
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, adjusted_rand_index({0, 1}, {0}));
    }
};

QTEST_GUILESS_MAIN(TestKnnLeiden)
#include "tst_knn_leiden.moc"
