// The negative-binomial cohort simulator: ground truth in obs/var, determinism across thread
// counts, exact NB marginals (zero fractions and dispersions), damaged cells and batch effects;
// and the command line: `transcura-cli simulate` then `transcura-cli run`, checked with anndata.
#include <QElapsedTimer>
#include <QJsonArray>
#include <QtTest/QtTest>

#include <cmath>
#include <map>

#include "test_support.hpp"
#include "transcura/errors.hpp"
#include "transcura/pipeline.hpp"
#include "transcura/simulate.hpp"

using namespace transcura;

namespace {

/// Per-gene mean, variance (ddof 1) and zero fraction over the given cells (all when empty).
struct GeneStats {
    std::vector<double> mean, var, zeros;
};

GeneStats gene_stats(const CsrMatrix& X, const std::vector<int64_t>& cells) {
    GeneStats s;
    std::vector<double> sum(X.n_cols, 0), sq(X.n_cols, 0), nz(X.n_cols, 0);
    for (int64_t i : cells)
        for (int64_t k = X.indptr[i]; k < X.indptr[i + 1]; ++k) {
            sum[X.indices[k]] += X.data[k];
            sq[X.indices[k]] += double(X.data[k]) * X.data[k];
            nz[X.indices[k]] += 1;
        }
    const double n = static_cast<double>(cells.size());
    for (int64_t g = 0; g < X.n_cols; ++g) {
        const double m = sum[g] / n;
        s.mean.push_back(m);
        s.var.push_back((sq[g] - n * m * m) / (n - 1));
        s.zeros.push_back(1 - nz[g] / n);
    }
    return s;
}

std::vector<int64_t> all_cells(int64_t n) {
    std::vector<int64_t> cells(n);
    for (int64_t i = 0; i < n; ++i) cells[i] = i;
    return cells;
}

}  // namespace

class TestSimulate : public QObject {
    Q_OBJECT

private slots:
    void ground_truth_layout() {
        SimulateOptions o;
        o.n_cells = 3000;
        o.n_genes = 5000;
        o.n_types = 5;
        o.n_batches = 3;
        o.donors_per_batch = 2;
        const Cohort c = simulate_cohort(o).cohort;
        c.validate("simulated");
        QCOMPARE(c.n_obs(), int64_t(3000));
        QCOMPARE(c.n_vars(), int64_t(5000));
        QVERIFY(c.X->is_sparse());
        const Column* batch = c.obs.find("batch");
        const Column* donor = c.obs.find("donor");
        const Column* type = c.obs.find("cell_type");
        const Column* damaged = c.obs.find("damaged");
        QVERIFY(batch && donor && type && damaged);
        QCOMPARE(batch->type, ColumnType::Categorical);
        QCOMPARE(donor->type, ColumnType::Categorical);
        QCOMPARE(type->type, ColumnType::Categorical);
        QCOMPARE(damaged->type, ColumnType::Bool);
        QCOMPARE(batch->categories.size(), size_t(3));
        QCOMPARE(donor->categories.size(), size_t(6));
        QCOMPARE(type->categories.size(), size_t(5));
        // Donors are nested in batches: each donor's name starts with its batch's name.
        for (size_t i = 0; i < batch->size(); ++i) {
            const std::string& b = batch->categories[batch->codes[i]];
            QVERIFY(donor->categories[donor->codes[i]].rfind(b + "_", 0) == 0);
        }
        int mito = 0, ribo = 0, hb = 0;
        for (const auto& name : c.var_names) {
            mito += name.rfind("MT-", 0) == 0;
            ribo += name.rfind("RPL", 0) == 0 || name.rfind("RPS", 0) == 0;
            hb += name.rfind("HB", 0) == 0;
        }
        QCOMPARE(mito, o.n_mito_genes);
        QCOMPARE(ribo, o.n_ribo_genes);
        QCOMPARE(hb, o.n_hb_genes);
        std::map<int32_t, int> per_type;
        for (int32_t code : type->codes) ++per_type[code];
        QCOMPARE(per_type.size(), size_t(5));
        QVERIFY(c.var.contains("marker_of") && c.var.contains("nb_dispersion"));
        QCOMPARE(c.uns["simulation"]["n_types"].get<int>(), 5);
        // Counts are whole numbers.
        for (float v : c.X->sparse().data) QVERIFY(v >= 1 && v == std::floor(v));
    }

    void deterministic_across_threads() {
        SimulateOptions o;
        o.n_cells = 5000;
        o.n_genes = 3000;
        o.seed = 11;
        o.control.num_threads = 1;
        const Cohort a = simulate_cohort(o).cohort;
        o.control.num_threads = 2;
        const Cohort b = simulate_cohort(o).cohort;
        QVERIFY(a.X->sparse().indptr == b.X->sparse().indptr);
        QVERIFY(a.X->sparse().indices == b.X->sparse().indices);
        QVERIFY(a.X->sparse().data == b.X->sparse().data);
        QVERIFY(a.obs.find("cell_type")->codes == b.obs.find("cell_type")->codes);
        o.seed = 12;
        const Cohort c = simulate_cohort(o).cohort;
        QVERIFY(c.X->sparse().data != a.X->sparse().data);
    }

    void negative_binomial_marginals() {
        // One group, fixed library size: every gene's counts are iid NB(mean, phi_j).
        SimulateOptions o;
        o.n_cells = 20000;
        o.n_genes = 2000;
        o.n_types = 1;
        o.n_batches = 1;
        o.donors_per_batch = 1;
        o.library_log_sd = 0;
        o.damaged_fraction = 0;
        o.mean_library_size = 3000;
        QElapsedTimer timer;
        timer.start();
        const Cohort c = simulate_cohort(o).cohort;
        qInfo("20000 x 2000 simulated in %lld ms", static_cast<long long>(timer.elapsed()));
        const GeneStats s = gene_stats(c.X->sparse(), all_cells(c.n_obs()));
        const std::vector<double>& phi = c.var.find("nb_dispersion")->floats;
        int checked = 0, bad_zero = 0;
        std::vector<double> dispersion_ratio;
        for (int64_t g = 0; g < c.n_vars(); ++g) {
            const double m = s.mean[g];
            if (m < 0.05) continue;
            ++checked;
            const double p0 = std::pow(1 + m * phi[g], -1 / phi[g]);
            // 5 standard errors of the observed zero fraction, plus the mean's uncertainty.
            const double se = std::sqrt(p0 * (1 - p0) / 20000.0) + 0.002;
            bad_zero += std::fabs(s.zeros[g] - p0) > 5 * se;
            if (m > 3) dispersion_ratio.push_back(((s.var[g] - m) / (m * m)) / phi[g]);
        }
        qInfo("%d genes checked, %d zero fractions off, %zu dispersions", checked, bad_zero,
              dispersion_ratio.size());
        QVERIFY(checked > 500);
        QVERIFY(bad_zero <= checked / 200);
        std::sort(dispersion_ratio.begin(), dispersion_ratio.end());
        const double median = dispersion_ratio[dispersion_ratio.size() / 2];
        qInfo("median estimated / true dispersion %.3f", median);
        QVERIFY(dispersion_ratio.size() > 50);
        QVERIFY(median > 0.9 && median < 1.1);
    }

    void damaged_cells_and_batches() {
        SimulateOptions o;
        o.n_cells = 6000;
        o.n_genes = 4000;
        o.n_types = 1;
        o.n_batches = 2;
        o.donors_per_batch = 1;
        o.batch_effect = 0.5;
        o.donor_effect = 0;
        o.depth_shift = 0;
        o.damaged_fraction = 0.2;
        const Cohort c = simulate_cohort(o).cohort;
        const CsrMatrix& X = c.X->sparse();
        const Column* damaged = c.obs.find("damaged");
        double mt_damaged = 0, mt_healthy = 0, lib_damaged = 0, lib_healthy = 0, n_damaged = 0;
        for (int64_t i = 0; i < c.n_obs(); ++i) {
            double total = 0, mt = 0;
            for (int64_t k = X.indptr[i]; k < X.indptr[i + 1]; ++k) {
                total += X.data[k];
                if (c.var_names[X.indices[k]].rfind("MT-", 0) == 0) mt += X.data[k];
            }
            const bool d = damaged->bools[i];
            n_damaged += d;
            (d ? mt_damaged : mt_healthy) += mt / total;
            (d ? lib_damaged : lib_healthy) += total;
        }
        const double n_healthy = c.n_obs() - n_damaged;
        QVERIFY(std::fabs(n_damaged / c.n_obs() - 0.2) < 0.03);
        QVERIFY(std::fabs(mt_healthy / n_healthy - 0.04) < 0.01);
        QVERIFY(std::fabs(mt_damaged / n_damaged - 0.4) < 0.05);
        QVERIFY(lib_damaged / n_damaged < 0.4 * lib_healthy / n_healthy);
        // Gene-wise log batch factors exp(N(0, 0.5)): log ratios of the batch means of
        // well-expressed genes spread with sd sqrt(2) * 0.5.
        std::vector<int64_t> b0, b1;
        for (int64_t i = 0; i < c.n_obs(); ++i)
            if (!damaged->bools[i]) (c.obs.find("batch")->codes[i] == 0 ? b0 : b1).push_back(i);
        const GeneStats s0 = gene_stats(X, b0), s1 = gene_stats(X, b1);
        std::vector<double> ratios;
        for (int64_t g = 0; g < c.n_vars(); ++g)
            if (s0.mean[g] > 2 && s1.mean[g] > 2)
                ratios.push_back(std::log(s0.mean[g] / s1.mean[g]));
        double mean = 0, var = 0;
        for (double r : ratios) mean += r / ratios.size();
        for (double r : ratios) var += (r - mean) * (r - mean) / (ratios.size() - 1);
        qInfo("%zu genes: sd of log batch ratio %.3f (expected %.3f)", ratios.size(),
              std::sqrt(var), std::sqrt(2) * 0.5);
        QVERIFY(ratios.size() > 100);
        QVERIFY(std::fabs(std::sqrt(var) - std::sqrt(2) * 0.5) < 0.08);
    }

    void cli_simulate_then_run() {
        QTemporaryDir dir;
        const QString sim = dir.filePath("sim.h5ad"), out = dir.filePath("out.h5ad"),
                      again = dir.filePath("again.h5ad"), timings = dir.filePath("timings.json");
        auto r = test_support::run(
            test_support::cli(),
            {"simulate", "--cells", "3000", "--genes", "4000", "--types", "5", "--batches", "2",
             "--batch-effect", "0.1", "--seed", "3", "-o", sim});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        const QStringList run_args{"run",       sim, "--batch-key", "batch",
                                   "--threads", "2", "--seed",      "1"};
        r = test_support::run(test_support::cli(),
                              run_args + QStringList{"-o", out, "--timings", timings});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QFile file(timings);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject steps = QJsonDocument::fromJson(file.readAll()).object();
        for (const char* step : {"read", "qc", "filter", "normalize", "hvg", "pca", "write"})
            QVERIFY2(steps.contains(step) && steps[step].toDouble() >= 0, step);

        const QJsonObject check = test_support::python_json("check_pipeline_output.py", {sim, out});
        QVERIFY2(!check.isEmpty(), "check_pipeline_output.py failed");
        QVERIFY(check["same_counts"].toBool());  // raw counts of the kept cells in X
        QVERIFY(check["order_kept"].toBool());
        QCOMPARE(check["n_obs"].toInt(), check["expected_kept"].toInt());
        QVERIFY(check["n_obs"].toInt() < 3000);  // the damaged cells are gone
        QVERIFY(check["min_genes_kept"].toInt() >= 200);
        QVERIFY(check["max_pct_mt_kept"].toDouble() <= 20);
        QCOMPARE(check["n_hvg"].toInt(), 2000);
        QVERIFY(check["pca_finite"].toBool());
        QCOMPARE(check["obsm"].toObject()["X_pca"].toArray()[1].toInt(), 50);
        const QJsonArray obs = check["obs"].toArray(), var = check["var"].toArray(),
                         uns = check["uns"].toArray();
        for (const char* column :
             {"total_counts", "n_genes_by_counts", "pct_counts_mt", "pct_counts_ribo",
              "pct_counts_hb", "pct_counts_in_top_50_genes", "batch", "cell_type"})
            QVERIFY2(obs.contains(QString(column)), column);
        for (const char* column :
             {"highly_variable", "means", "dispersions", "dispersions_norm", "n_cells_by_counts"})
            QVERIFY2(var.contains(QString(column)), column);
        QVERIFY(uns.contains(QString("transcura_pipeline")) && uns.contains(QString("pca")));

        // Same seed and threads: byte-identical output file.
        r = test_support::run(test_support::cli(), run_args + QStringList{"-o", again, "--quiet"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QFile a(out), b(again);
        QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
        QVERIFY(a.readAll() == b.readAll());

        // Usage and input errors: exit 2 and 1, one line on stderr.
        r = test_support::run(test_support::cli(), {"run", sim});
        QCOMPARE(r.exit_code, 2);
        r = test_support::run(test_support::cli(),
                              {"run", dir.filePath("missing.h5ad"), "-o", out});
        QCOMPARE(r.exit_code, 1);
        r = test_support::run(test_support::cli(), {"simulate", "--cells", "0", "-o", sim});
        QCOMPARE(r.exit_code, 2);
    }

    void pipeline_in_process() {
        SimulateOptions o;
        o.n_cells = 2500;
        o.n_genes = 3000;
        o.damaged_fraction = 0.1;
        const Cohort input = simulate_cohort(o).cohort;
        PipelineOptions options;
        options.batch_key = "batch";
        options.n_hvg = 1000;
        options.n_pcs = 20;
        std::vector<double> fractions;
        options.control.progress = [&](double f, const std::string&) { fractions.push_back(f); };
        const PipelineResults a = run_pipeline(input, options);
        QCOMPARE(a.cells_before, int64_t(2500));
        QVERIFY(a.cells_after < 2500 && a.cells_after > 2000);
        QCOMPARE(a.cohort.n_obs(), a.cells_after);
        QCOMPARE(a.cohort.obsm.at("X_pca").n_cols, int64_t(20));
        QVERIFY(a.cohort.var.contains("highly_variable"));
        QVERIFY(a.cohort.obs.contains("pct_counts_mt") && a.cohort.obs.contains("batch"));
        for (const char* step : {"qc", "filter", "normalize", "hvg", "pca"})
            QVERIFY2(a.seconds.count(step), step);
        QVERIFY(!fractions.empty());
        QVERIFY(std::is_sorted(fractions.begin(), fractions.end()));
        QVERIFY(fractions.front() >= 0 && fractions.back() == 1.0);
        // The consuming overload compacts in place and gives the same result.
        Cohort copy = input;
        options.control.progress = nullptr;
        const PipelineResults b = run_pipeline(std::move(copy), options);
        QVERIFY(b.cohort.obsm.at("X_pca").values == a.cohort.obsm.at("X_pca").values);
        QVERIFY(b.cohort.X->sparse().data == a.cohort.X->sparse().data);
        QVERIFY(b.cohort.obs_names == a.cohort.obs_names);
        // Cancelled before it starts: throws, input untouched.
        CancelToken token;
        token.cancel();
        options.control.cancel = &token;
        QVERIFY_THROWS_EXCEPTION(Cancelled, run_pipeline(input, options));
        QCOMPARE(input.n_obs(), int64_t(2500));
        // Thresholds that keep nothing: a clear error.
        options.control.cancel = nullptr;
        options.min_genes = 1000000;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, run_pipeline(input, options));
    }

    void invalid_options() {
        SimulateOptions o;
        o.n_cells = 0;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, simulate_cohort(o));
        o = SimulateOptions{};
        o.n_genes = 50;  // fewer than the special genes
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, simulate_cohort(o));
        o = SimulateOptions{};
        o.n_types = 0;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, simulate_cohort(o));
        o = SimulateOptions{};
        o.batch_effect = -1;
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, simulate_cohort(o));
    }
};

QTEST_APPLESS_MAIN(TestSimulate)
#include "tst_simulate.moc"
