// Splits and the leakage report: grouped splits never share a group, fractions within 2% with
// many donors, stratification, determinism; duplicate count profiles across splits; batch
// predictability against scikit-learn's kNN on the Kang 2018 PCs.
#include <QtTest/QtTest>

#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "test_support.hpp"
#include "transcura/errors.hpp"
#include "transcura/io.hpp"
#include "transcura/leakage.hpp"
#include "transcura/simulate.hpp"
#include "transcura/splits.hpp"

using namespace transcura;

namespace {

/// Cells with a donor (sizes from 15 to ~600, log-normal) and a cell type whose proportions
/// vary by donor: the hard case for grouped stratified splitting. No X (splits do not need it).
std::shared_ptr<const Cohort> donor_cohort(int n_donors, uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal;
    std::uniform_real_distribution<double> uniform;
    std::vector<std::string> names, donors, types;
    const std::vector<std::string> type_names = {"B", "CD4 T", "CD8 T", "NK", "Mono", "DC"};
    for (int d = 0; d < n_donors; ++d) {
        const int size = 15 + static_cast<int>(std::exp(4.0 + 0.8 * normal(engine)));
        const double bias = uniform(engine);
        for (int i = 0; i < std::min(size, 600); ++i) {
            const std::string donor = "donor" + std::to_string(d);
            names.push_back(donor + "_c" + std::to_string(i));
            donors.push_back(donor);
            // Donor-specific mix: rare DC, donor-dependent B/Mono share.
            const double u = uniform(engine);
            size_t t = u < 0.1 + 0.2 * bias ? 0
                       : u < 0.45           ? 1
                       : u < 0.65           ? 2
                       : u < 0.75           ? 3
                       : u < 0.97           ? 4
                                            : 5;
            types.push_back(type_names[t]);
        }
    }
    Cohort cohort;
    cohort.obs_names = names;
    cohort.obs.set(Column::categorize("donor", donors));
    cohort.obs.set(Column::categorize("cell_type", types));
    return std::make_shared<const Cohort>(std::move(cohort));
}

std::map<std::string, std::set<int>> splits_of_values(const CohortView& view, const SplitResults& s,
                                                      const std::string& key) {
    std::map<std::string, std::set<int>> out;
    const Column* column = view.parent().obs.find(key);
    for (size_t p = 0; p < s.assignment.size(); ++p)
        out[column->text(static_cast<size_t>(view.cells()[p]))].insert(s.assignment[p]);
    return out;
}

double max_stratum_deviation(const SplitResults& s) {
    // Largest |share of stratum k in split s - share of k overall| over splits and strata.
    std::vector<double> overall(s.strata.size(), 0);
    double total = 0;
    for (const auto& row : s.strata_counts)
        for (size_t k = 0; k < row.size(); ++k)
            overall[k] += static_cast<double>(row[k]), total += static_cast<double>(row[k]);
    double worst = 0;
    for (size_t sp = 0; sp < s.strata_counts.size(); ++sp) {
        const double n = static_cast<double>(s.size(sp));
        for (size_t k = 0; k < overall.size(); ++k)
            worst = std::max(worst, std::abs(static_cast<double>(s.strata_counts[sp][k]) / n -
                                             overall[k] / total));
    }
    return worst;
}

}  // namespace

class TestSplits : public QObject {
    Q_OBJECT

private slots:
    void parseFractions() {
        const auto f = parse_split_fractions("train=0.8,validation=0.1,test=0.1");
        QCOMPARE(f.size(), size_t(3));
        QCOMPARE(f[1].name, std::string("validation"));
        QCOMPARE(f[2].fraction, 0.1);
        QCOMPARE(format_split_fractions(f), std::string("train=0.8,validation=0.1,test=0.1"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, parse_split_fractions("train=0.8,test=0.1"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, parse_split_fractions("train=0.5,train=0.5"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, parse_split_fractions("train=1.2,test=-0.2"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, parse_split_fractions("train0.8"));
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, parse_split_fractions("train=abc,test=0.2"));
    }

    void groupedManyDonorsKeepFractionsAndGroups() {
        const auto cohort = donor_cohort(120, 7);
        const CohortView view(cohort);
        QVERIFY(view.n_obs() > 5000);
        for (uint64_t seed : {0ull, 1ull, 2ull, 3ull, 4ull}) {
            SplitOptions options;
            options.group_key = "donor";
            options.stratify_key = "cell_type";
            options.seed = seed;
            const SplitResults s = split_cohort(view, options);
            QCOMPARE(s.names, (std::vector<std::string>{"train", "validation", "test"}));
            for (const auto& [donor, splits] : splits_of_values(view, s, "donor"))
                QVERIFY2(splits.size() == 1, donor.c_str());
            const auto achieved = s.achieved_fractions();
            for (size_t i = 0; i < 3; ++i)
                QVERIFY2(
                    std::abs(achieved[i] - s.requested_fractions[i]) <= 0.02,
                    qPrintable(QString("seed %1 split %2: %3").arg(seed).arg(i).arg(achieved[i])));
            QVERIFY(s.warnings.empty());
            // Stratified as far as the donors allow: cell-type shares within 3 points.
            QVERIFY2(max_stratum_deviation(s) < 0.03,
                     qPrintable(QString::number(max_stratum_deviation(s))));
            int64_t groups = 0;
            for (const auto& g : s.groups) groups += static_cast<int64_t>(g.size());
            QCOMPARE(groups, int64_t(120));
            // The leakage report agrees: no shared donor.
            LeakageOptions leak;
            leak.group_key = "donor";
            const LeakageResults report = leakage_report(view, s, leak);
            QVERIFY(report.groups_checked && report.shared_groups.empty());
        }
        // Seeded and deterministic.
        SplitOptions options;
        options.group_key = "donor";
        options.stratify_key = "cell_type";
        options.seed = 42;
        const SplitResults a = split_cohort(view, options), b = split_cohort(view, options);
        QVERIFY(a.assignment == b.assignment);
        options.seed = 43;
        QVERIFY(split_cohort(view, options).assignment != a.assignment);
    }

    void groupedOnASubsetView() {
        // Splitting a filtered view: positions are within the view, groups only those present.
        const auto cohort = donor_cohort(60, 3);
        std::vector<int64_t> every_other;
        for (int64_t c = 0; c < cohort->n_obs(); c += 2) every_other.push_back(c);
        std::vector<int64_t> genes;
        const CohortView view(cohort, every_other, genes);
        SplitOptions options;
        options.group_key = "donor";
        options.fractions = parse_split_fractions("train=0.7,test=0.3");
        const SplitResults s = split_cohort(view, options);
        QCOMPARE(s.total(), view.n_obs());
        QCOMPARE(s.size(0) + s.size(1), view.n_obs());
        for (const auto& [donor, splits] : splits_of_values(view, s, "donor"))
            QCOMPARE(splits.size(), size_t(1));
        QVERIFY(std::abs(s.achieved_fractions()[1] - 0.3) <= 0.02);
        const CohortView test = s.split_view(view, 1);
        QCOMPARE(test.n_obs(), s.size(1));
        QCOMPARE(test.cells()[0], view.cells()[static_cast<size_t>(s.positions[1][0])]);
    }

    void fewDonorsNearTheBestPossible() {
        // With 10 (exhaustive search) and 13 (restarted local search) donors of very different
        // sizes, the split is compared with the best assignment found by brute force (the
        // smallest largest |fraction - asked| with no split empty).
        std::mt19937_64 engine(3);
        std::lognormal_distribution<double> size(5, 1);
        const double asked[3] = {0.8, 0.1, 0.1};
        for (int n_donors : {10, 13}) {
            for (int trial = 0; trial < 4; ++trial) {
                std::vector<int> sizes;
                std::vector<std::string> names, donors;
                int total = 0;
                for (int d = 0; d < n_donors; ++d) {
                    sizes.push_back(10 + static_cast<int>(size(engine)));
                    total += sizes.back();
                    const std::string donor = "d" + std::to_string(d);
                    for (int i = 0; i < sizes.back(); ++i) {
                        names.push_back(donor + "_" + std::to_string(i));
                        donors.push_back(donor);
                    }
                }
                Cohort cohort;
                cohort.obs_names = names;
                cohort.obs.set(Column::categorize("donor", donors));
                auto shared = std::make_shared<const Cohort>(std::move(cohort));
                SplitOptions options;
                options.group_key = "donor";
                options.seed = static_cast<uint64_t>(trial);
                const auto achieved =
                    split_cohort(CohortView(shared), options).achieved_fractions();
                double mine = 0;
                for (int k = 0; k < 3; ++k) mine = std::max(mine, std::abs(achieved[k] - asked[k]));
                double best = INFINITY;
                int assignments = 1;
                for (int d = 0; d < n_donors; ++d) assignments *= 3;
                for (int code = 0; code < assignments; ++code) {
                    double count[3] = {0, 0, 0};
                    int members[3] = {0, 0, 0};
                    for (int d = 0, x = code; d < n_donors; ++d, x /= 3)
                        count[x % 3] += sizes[static_cast<size_t>(d)], ++members[x % 3];
                    if (!members[0] || !members[1] || !members[2]) continue;
                    double deviation = 0;
                    for (int k = 0; k < 3; ++k)
                        deviation = std::max(deviation, std::abs(count[k] / total - asked[k]));
                    best = std::min(best, deviation);
                }
                QVERIFY2(
                    mine <= best + 0.01,
                    qPrintable(
                        QString("%1 donors: %2 vs best %3").arg(n_donors).arg(mine).arg(best)));
            }
        }
    }

    void fewGroupsWarnButStayDisjoint() {
        const auto cohort = donor_cohort(3, 5);
        const CohortView view(cohort);
        SplitOptions options;
        options.group_key = "donor";
        const SplitResults s = split_cohort(view, options);
        for (size_t i = 0; i < 3; ++i) QVERIFY(s.size(i) > 0);  // one donor each
        QVERIFY(!s.warnings.empty());
        for (const auto& [donor, splits] : splits_of_values(view, s, "donor"))
            QCOMPARE(splits.size(), size_t(1));
        options.fractions = parse_split_fractions("a=0.25,b=0.25,c=0.25,d=0.25");
        const SplitResults four = split_cohort(view, options);
        QVERIFY(!four.warnings.empty());
        QVERIFY(four.warnings[0].find("only 3 groups for 4 splits") != std::string::npos);
        options.group_key = "no_such_column";
        QVERIFY_THROWS_EXCEPTION(InvalidArgument, split_cohort(view, options));
    }

    void ungroupedStratifiedIsExact() {
        const auto cohort = donor_cohort(80, 9);
        const CohortView view(cohort);
        SplitOptions options;
        options.stratify_key = "cell_type";
        options.seed = 5;
        const SplitResults s = split_cohort(view, options);
        const double n = static_cast<double>(view.n_obs());
        for (size_t i = 0; i < 3; ++i)
            QVERIFY2(std::abs(static_cast<double>(s.size(i)) - s.requested_fractions[i] * n) <= 2.0,
                     qPrintable(QString::number(s.size(i))));
        // Each stratum cut within a cell of its share.
        for (size_t k = 0; k < s.strata.size(); ++k) {
            double stratum = 0;
            for (size_t i = 0; i < 3; ++i) stratum += static_cast<double>(s.strata_counts[i][k]);
            for (size_t i = 0; i < 3; ++i)
                QVERIFY(std::abs(static_cast<double>(s.strata_counts[i][k]) -
                                 s.requested_fractions[i] * stratum) < 1.0 + 1e-9);
        }
        options.stratify_key.clear();
        const SplitResults plain = split_cohort(view, options);
        QCOMPARE(plain.size(1), static_cast<int64_t>(std::llround(0.1 * n)));
        QVERIFY(plain.strata_counts.empty());
        const nlohmann::json j = s.to_json();
        QCOMPARE(j["n_obs"]["train"].get<int64_t>(), s.size(0));
        QVERIFY(j["strata"]["test"].contains("B"));
    }

    void duplicateProfilesAcrossSplits() {
        SimulateOptions sim;
        sim.n_cells = 600;
        sim.n_genes = 300;
        sim.seed = 3;
        Cohort cohort = simulate_cohort(sim).cohort;
        // Append 40 exact copies of cells 0..39 under new names and 5 cells without counts.
        CsrMatrix& X = cohort.X->sparse();
        const int64_t n = cohort.n_obs();
        std::vector<int64_t> source_of;
        for (int64_t c = 0; c < 45; ++c) {
            if (c < 40) {
                for (int64_t i = X.indptr[c]; i < X.indptr[c + 1]; ++i) {
                    X.indices.push_back(X.indices[i]);
                    X.data.push_back(X.data[i]);
                }
            }
            X.indptr.push_back(static_cast<int64_t>(X.data.size()));
            cohort.obs_names.push_back("copy" + std::to_string(c));
        }
        X.n_rows = n + 45;
        Cohort trimmed;
        trimmed.obs_names = cohort.obs_names;
        trimmed.var_names = cohort.var_names;
        trimmed.X = cohort.X;
        trimmed.validate("duplicates");
        auto shared = std::make_shared<const Cohort>(std::move(trimmed));
        const CohortView view(shared);
        SplitOptions options;
        options.fractions = parse_split_fractions("train=0.5,test=0.5");
        const SplitResults s = split_cohort(view, options);
        int64_t pairs_across = 0;
        for (int64_t c = 0; c < 40; ++c)
            pairs_across +=
                s.assignment[static_cast<size_t>(c)] != s.assignment[static_cast<size_t>(n + c)];
        QVERIFY(pairs_across > 5);
        const LeakageResults report = leakage_report(view, s, {});
        QVERIFY(report.duplicates_checked);
        QCOMPARE(report.empty_profiles, int64_t(5));
        QCOMPARE(report.duplicate_profiles, pairs_across);
        QCOMPARE(report.duplicate_cells, 2 * pairs_across);
        QCOMPARE(static_cast<int>(report.duplicate_examples.size()),
                 std::min<int>(10, static_cast<int>(pairs_across)));
        QVERIFY(report.duplicate_examples[0].split_a != report.duplicate_examples[0].split_b);
        QVERIFY(!report.groups_checked);
        QVERIFY(report.to_json()["batch_predictability"].is_null());
        // A view without genes 0..149 changes profiles but copies stay copies.
        std::vector<int64_t> cells(static_cast<size_t>(view.n_obs())), genes;
        std::iota(cells.begin(), cells.end(), 0);
        for (int64_t g = 150; g < 300; ++g) genes.push_back(g);
        const CohortView half(shared, cells, genes);
        QCOMPARE(leakage_report(half, s, {}).duplicate_profiles, pairs_across);
        // One split: nothing can leak.
        QCOMPARE(leakage_report(view, single_split(view), {}).duplicate_cells, int64_t(0));
    }

    void batchPredictabilityTracksTheBatchEffect() {
        auto simulated = [](double batch_effect) {
            SimulateOptions sim;
            sim.n_cells = 1500;
            sim.n_genes = 1500;
            sim.n_batches = 2;
            sim.batch_effect = batch_effect;
            sim.depth_shift = batch_effect > 0 ? 0.25 : 0.0;
            sim.donor_effect = 0.0;
            sim.seed = 21;
            return std::make_shared<const Cohort>(simulate_cohort(sim).cohort);
        };
        LeakageOptions options;
        options.batch_key = "batch";
        options.n_pcs = 20;
        for (double effect : {0.6, 0.0}) {
            const auto cohort = simulated(effect);
            QVERIFY(!cohort->obsm.count("X_pca"));
            const CohortView view(cohort);
            SplitOptions split;
            split.stratify_key = "batch";
            const SplitResults s = split_cohort(view, split);
            const LeakageResults report = leakage_report(view, s, options);
            QCOMPARE(report.batch_predictability.size(), size_t(3));
            QVERIFY(report.pcs_source.rfind("computed", 0) == 0);
            const BatchPredictability& train = report.batch_predictability[0];
            QVERIFY(train.computed);
            QCOMPARE(train.n_batches, 2);
            QCOMPARE(train.chance_balanced_accuracy, 0.5);
            qInfo("batch effect %.1f: balanced accuracy train %.3f validation %.3f test %.3f",
                  effect, train.balanced_accuracy, report.batch_predictability[1].balanced_accuracy,
                  report.batch_predictability[2].balanced_accuracy);
            if (effect > 0)
                QVERIFY(train.balanced_accuracy > 0.9);
            else
                QVERIFY(train.balanced_accuracy < 0.62);
        }
        // No X and no PCs: null with the reason.
        Cohort bare;
        bare.obs_names = {"a", "b", "c", "d"};
        bare.obs.set(Column::categorize("batch", {"x", "y", "x", "y"}));
        auto bare_ptr = std::make_shared<const Cohort>(std::move(bare));
        const CohortView bare_view(bare_ptr, {0, 1, 2, 3}, {});
        const LeakageResults none = leakage_report(bare_view, single_split(bare_view), options);
        QVERIFY(!none.batch_predictability[0].computed);
        QVERIFY(none.batch_predictability[0].reason.find("no X") != std::string::npos);
        QVERIFY(none.to_json()["batch_predictability"]["per_split"]["subset"].is_null());
    }

    void batchPredictabilityAgreesWithScikitLearn() {
        const QString path =
            test_support::shared_data("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad");
        auto cohort = std::make_shared<const Cohort>(read_cohort(path.toStdString()));
        const CohortView view(cohort);
        LeakageOptions options;
        options.batch_key = "stim";
        options.n_pcs = 10;
        const LeakageResults report = leakage_report(view, single_split(view), options);
        const BatchPredictability& mine = report.batch_predictability[0];
        QVERIFY(mine.computed);
        QCOMPARE(mine.n_cells, int64_t(2000));
        const QJsonObject oracle = test_support::python_json(
            "check_export.py", {"knn", path, "--batch", "stim", "--n-pcs", "10", "--k", "15"});
        QVERIFY(!oracle.isEmpty());
        const double sklearn = oracle["balanced_accuracy"].toDouble();
        qInfo(
            "kNN balanced accuracy of stim from 10 PCs: transcura %.4f, scikit-learn %.4f (+- %.4f "
            "over seeds)",
            mine.balanced_accuracy, sklearn, oracle["sd"].toDouble());
        // Different random folds: agreement within sampling noise.
        QVERIFY(std::abs(mine.balanced_accuracy - sklearn) < 0.02);
    }
};

QTEST_APPLESS_MAIN(TestSplits)
#include "tst_splits.moc"
