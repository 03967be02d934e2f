// QC plots, the QC panel's removed-cell counts (checked against counts made here), the core
// counting helpers behind them, plot export, and the cohort table's sorting, filtering and
// selection, on a synthetic cohort.
#include <cmath>
#include <random>

#include <QFileInfo>
#include <QHeaderView>
#include <QLineEdit>
#include <QTableView>
#include <QTemporaryDir>

#include "cohort_table.hpp"
#include "gui_test_support.hpp"
#include "obs_access.hpp"
#include "plot_export.hpp"
#include "qc_panel.hpp"
#include "qc_plots.hpp"
#include "transcura/threshold_counts.hpp"

using namespace transcura;
using namespace transcura::widgets;

namespace {

std::shared_ptr<Cohort> synthetic_cohort(int64_t n, uint32_t seed = 11) {
    std::mt19937 rng(seed);
    std::lognormal_distribution<double> counts(8.0, 0.5);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto c = std::make_shared<Cohort>();
    std::vector<double> total(n), genes(n), mito(n);
    std::vector<int32_t> batch(n);
    for (int64_t i = 0; i < n; ++i) {
        c->obs_names.push_back("cell" + std::to_string(i));
        batch[i] = static_cast<int32_t>(i % 3);
        total[i] = std::round(counts(rng) * (1.0 + 0.3 * batch[i]));
        genes[i] = std::round(std::pow(total[i], 0.8) * (0.9 + 0.2 * unit(rng)));
        mito[i] = 20.0 * unit(rng) * unit(rng);
    }
    mito[5] = NAN;
    c->obs.set(Column::make_categorical("batch", batch, {"A", "B", "C"}));
    c->obs.set(Column::make_float("total_counts", total));
    c->obs.set(Column::make_float("n_genes_by_counts", genes));
    c->obs.set(Column::make_float("pct_counts_mt", mito));
    c->obs.set(Column::make_string("note", std::vector<std::string>(n, "ok")));
    return c;
}

}  // namespace

class TstQcAndTable : public QObject {
    Q_OBJECT

private slots:
    void coreCountsMatchAnIndependentCount() {
        std::vector<double> v = {1, 2, 3, NAN, 5, 6, 7, 8};
        std::vector<int32_t> g = {0, 1, 0, 1, -1, 1, 0, 1};
        ThresholdCounts c = count_removed({ThresholdRule{v, 2.5, 6.5}}, g, 2);
        QCOMPARE(c.total, int64_t(8));
        QCOMPARE(c.removed, int64_t(4));  // 1, 2, 7, 8 (NaN kept)
        QCOMPARE(c.group_total, (std::vector<int64_t>{3, 4}));
        QCOMPARE(c.group_removed, (std::vector<int64_t>{2, 2}));
        GroupHistogram h = binned_counts(v, g, 2, {0, 2, 4, 8});
        QCOMPARE(h.counts[0], (std::vector<int64_t>{1, 1, 1}));  // 1 | 3 | 7
        QCOMPARE(h.counts[1], (std::vector<int64_t>{0, 1, 2}));  // 2 | 6, 8 (8 = last edge)
        QCOMPARE(h.missing[1], int64_t(1));
        auto q = group_quantiles(v, g, 2, {0.0, 0.5, 1.0});
        QCOMPARE(q[0], (std::vector<double>{1, 3, 7}));
        QCOMPARE(q[1], (std::vector<double>{2, 6, 8}));
        QCOMPARE(count_per_group(std::vector<int64_t>{0, 1, 2, 4}, g, 2),
                 (std::vector<int64_t>{2, 1}));
        QCOMPARE(count_codes(g, 2), (std::vector<int64_t>{3, 4}));
    }

    void panelCountsWhatTheThresholdsRemove() {
        auto cohort = synthetic_cohort(30000);
        QcPanel panel;
        panel.resize(560, 720);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setCohort(cohort);
        QCOMPARE(panel.batchKey(), QStringLiteral("batch"));
        QCOMPARE(panel.metric(), QStringLiteral("total_counts"));
        QSignalSpy changed(&panel, &QcPanel::thresholdsChanged);
        panel.setThreshold(QStringLiteral("total_counts"), 2500, 9000);
        panel.setThreshold(QStringLiteral("pct_counts_mt"), NAN, 10);
        QCOMPARE(changed.count(), 2);
        const Column* total = cohort->obs.find("total_counts");
        const Column* mito = cohort->obs.find("pct_counts_mt");
        int64_t removed = 0, by_total = 0;
        std::vector<int64_t> per_batch(3, 0);
        for (int64_t i = 0; i < cohort->n_obs(); ++i) {
            const double t = total->floats[i], m = mito->floats[i];
            const bool out_total = t < 2500 || t > 9000;
            if (out_total) ++by_total;
            if (out_total || m > 10) {
                ++removed;
                ++per_batch[i % 3];
            }
        }
        QCOMPARE(panel.counts().removed, removed);
        QCOMPARE(panel.counts().group_removed, per_batch);
        QCOMPARE(panel.metricCounts().removed, by_total);
        QVERIFY(panel.summaryText().contains(QLocale().toString(qlonglong(removed))));
        // The scatter shows the same thresholds and dragging its line moves the panel's.
        QSignalSpy scatter_spy(panel.scatter(), &QcScatterPlot::thresholdsChanged);
        gui_test::save_screenshot(&panel, QStringLiteral("qc_panel_synthetic"));
        panel.distribution()->setStyle(QcDistributionPlot::Style::Violin);
        gui_test::save_screenshot(&panel, QStringLiteral("qc_panel_synthetic_violins"));
        // Removing a threshold.
        panel.setThreshold(QStringLiteral("pct_counts_mt"), NAN, NAN);
        QCOMPARE(panel.counts().removed, by_total);
    }

    void plotsFollowANewCohortInALaterTurn() {
        // setCohort leaves the binning and the scatter to a later event-loop turn (a new
        // cohort's hand-off is then not one long stall); thresholds set meanwhile are kept.
        auto first = synthetic_cohort(3000), second = synthetic_cohort(5000);
        QcPanel panel;
        panel.resize(560, 720);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        panel.setCohort(first);
        QTRY_COMPARE(panel.distribution()->values().size(), size_t(3000));
        panel.setCohort(second);
        panel.setThreshold(QStringLiteral("total_counts"), 2500, NAN);
        QCOMPARE(panel.metric(), QStringLiteral("total_counts"));
        QCOMPARE(panel.batchKey(), QStringLiteral("batch"));  // at once: others read it
        // After the event loop ran the deferred rebuild (the accessors would also run it).
        QTest::qWait(50);
        QCOMPARE(panel.distribution()->values().size(), size_t(5000));
        QCOMPARE(panel.scatter()->pointCount(), int64_t(5000));
        QCOMPARE(panel.distribution()->lower(), 2500.0);
        int64_t removed = 0;
        const Column* total = second->obs.find("total_counts");
        for (int64_t i = 0; i < second->n_obs(); ++i) removed += total->floats[i] < 2500;
        QCOMPARE(panel.counts().removed, removed);
    }

    void plotsShareTheColumnsTheyShow() {
        // The distribution shows a float column as the cohort holds it (no copy on the GUI
        // thread; the shared pointer keeps the cohort alive); the scatter's cloud comes with its
        // ranges, made where the columns are read.
        auto cohort = synthetic_cohort(4000);
        QcPanel panel;
        panel.setCohort(cohort);
        const std::vector<double>& shown = panel.distribution()->values();
        QCOMPARE(shown.data(), cohort->obs.find("total_counts")->floats.data());
        const Column* mito = cohort->obs.find("pct_counts_mt");
        std::vector<double> x = {-2, 0, 3, NAN, 7, INFINITY}, y = {1, 2, 3, 4, 5, 6};
        auto cloud = QcScatterPlot::makeCloud(x, y, mito->floats);  // colours of another size
        QCOMPARE(cloud->x_range[0], std::make_pair(-2.0, 7.0));     // every finite value
        QCOMPARE(cloud->x_range[1], std::make_pair(3.0, 7.0));      // positive: a log axis
        QCOMPARE(cloud->y_range[1], std::make_pair(1.0, 6.0));
        QVERIFY(cloud->color.empty());
        QVERIFY(!std::isfinite(cloud->color_range.first));
        auto lonely = QcScatterPlot::makeCloud({5}, {}, {});  // y of another size: no values
        QCOMPARE(lonely->y.size(), size_t(1));
        QVERIFY(std::isnan(lonely->y[0]));
        QcScatterPlot plot;
        plot.setCloud(QStringLiteral("x"), QStringLiteral("y"), QString(), cloud);
        QCOMPARE(plot.pointCount(), int64_t(6));
        plot.setLogScale(false, false);  // from the cloud's ranges: no pass over the points
        QCOMPARE(plot.pointCount(), int64_t(6));
    }

    void hasCategoriesAgreesWithAsCategories() {
        std::vector<std::string> few = {"b", "a", "", "c", "a", "e", "d"}, many;
        for (int i = 0; i < 250; ++i) many.push_back("v" + std::to_string(i % 250));
        std::vector<int32_t> codes(300);
        std::vector<std::string> names(300);
        for (int i = 0; i < 300; ++i) {
            codes[size_t(i)] = i;
            names[size_t(i)] = "c" + std::to_string(i);
        }
        Column masked = Column::make_string("masked", {"x", "y", "z"});
        masked.missing = {0, 1, 0};
        const std::vector<Column> columns = {
            Column::make_string("few", few),  // 5 distinct ("" is missing)
            Column::make_string("many", many),
            masked,
            Column::make_categorical("wide", codes, names),
            Column::make_categorical("narrow", {0, 1, -1}, {"p", "q"}),
            Column::make_float("float", {1, 2, 3}),
            Column::make_int("int", {1, 2, 3}),
            Column::make_bool("bool", {1, 0, 1}),
        };
        for (const Column& c : columns)
            for (int max : {2, 3, 4, 5, 200, 260, 2000})
                QVERIFY2(has_categories(c, max) == as_categories(c, max).has_value(),
                         qPrintable(QStringLiteral("%1 at most %2")
                                        .arg(QString::fromStdString(c.name))
                                        .arg(max)));
        QVERIFY(has_categories(columns[0], 5));
        QVERIFY(!has_categories(columns[0], 4));
        // category_codes: the same categories, a categorical column's codes not copied.
        for (const Column& c : columns)
            for (int max : {2, 5, 2000}) {
                const auto made = as_categories(c, max);
                const auto viewed = transcura::widgets::category_codes(c, max);
                QCOMPARE(viewed.has_value(), made.has_value());
                if (!made) continue;
                QCOMPARE(viewed->names, made->names);
                QCOMPARE(viewed->codes(), made->codes);
                if (c.type == transcura::ColumnType::Categorical)
                    QVERIFY(&viewed->codes() == &c.codes);
            }
    }

    void largeDistributionsAreBinnedInTheBackground() {
        QcDistributionPlot plot;
        plot.resize(600, 400);
        plot.show();
        QVERIFY(QTest::qWaitForWindowExposed(&plot));
        std::mt19937 rng(3);
        std::lognormal_distribution<double> library(7.5, 0.6);
        std::vector<double> large(400000);
        for (double& v : large) v = library(rng);
        std::vector<int32_t> groups(large.size());
        for (size_t i = 0; i < groups.size(); ++i) groups[i] = static_cast<int32_t>(i % 2);
        plot.setData(QStringLiteral("total_counts"), large, groups, {"a", "b"});
        QVERIFY(plot.isBinning());
        gui_test::save_screenshot(&plot, QStringLiteral("qc_binning_note"));  // its note
        QTRY_VERIFY(!plot.isBinning());
        gui_test::save_screenshot(&plot, QStringLiteral("qc_binned_400k"));
        // A result that arrives after newer data is dropped: the small data stays shown.
        plot.setData(QStringLiteral("total_counts"), large, groups, {"a", "b"});
        QVERIFY(plot.isBinning());
        plot.setData(QStringLiteral("n_genes"), {1, 2, 3, 4}, {}, {});
        QVERIFY(!plot.isBinning());
        QTest::qWait(600);
        QVERIFY(!plot.isBinning());
        QCOMPARE(plot.metric(), QStringLiteral("n_genes"));
        QCOMPARE(plot.values().size(), size_t(4));
    }

    void draggingTheLineMovesTheThreshold() {
        QcDistributionPlot plot;
        plot.resize(600, 400);
        plot.show();
        QVERIFY(QTest::qWaitForWindowExposed(&plot));
        std::vector<double> values;
        for (int i = 1; i <= 1000; ++i) values.push_back(i);
        plot.setData(QStringLiteral("value"), values, {}, {});
        QSignalSpy spy(&plot, &QcDistributionPlot::thresholdsChanged);
        QTest::mouseDClick(&plot, Qt::LeftButton, {}, QPoint(200, 200));
        QCOMPARE(spy.count(), 1);
        const double placed = plot.lower();
        QVERIFY(placed > 1 && placed < 500);
        QVERIFY(std::isnan(plot.upper()));
        const int x = int(plot.thresholdPixel(false));
        QTest::mousePress(&plot, Qt::LeftButton, {}, QPoint(x, 200));
        QTest::mouseMove(&plot, QPoint(x + 30, 200));
        QTest::mouseRelease(&plot, Qt::LeftButton, {}, QPoint(x + 60, 200));
        QVERIFY(plot.lower() > placed);
        QVERIFY(std::abs(plot.thresholdPixel(false) - (x + 60)) < 1.0);
        QCOMPARE(spy.last().at(0).toDouble(), plot.lower());
        // An upper threshold cannot go below the lower one.
        QTest::mouseDClick(&plot, Qt::LeftButton, {}, QPoint(500, 200));
        QVERIFY(plot.upper() >= plot.lower());
        QTemporaryDir dir;
        for (const char* ext : {"png", "svg", "pdf"}) {
            QString path = dir.filePath(QStringLiteral("qc.") + ext);
            QString error;
            QVERIFY2(export_plot(plot, path, &error), qPrintable(error));
            QVERIFY(QFileInfo(path).size() > 500);
        }
        QFile svg(dir.filePath("qc.svg"));
        QVERIFY(svg.open(QIODevice::ReadOnly));
        QVERIFY(svg.readAll().contains("value"));  // axis title as text, not pixels
    }

    void tableSortsFiltersAndSelects() {
        auto cohort = synthetic_cohort(5000);
        CohortTable table;
        table.resize(900, 400);
        table.show();
        QVERIFY(QTest::qWaitForWindowExposed(&table));
        table.setCohort(cohort);
        QCOMPARE(table.model()->rowCount(), 5000);
        QCOMPARE(table.model()->columnCount(), 6);
        // Sort by total_counts descending: the first row holds the maximum.
        const Column* total = cohort->obs.find("total_counts");
        table.view()->sortByColumn(2, Qt::DescendingOrder);
        const double top = table.proxy()->index(0, 2).data().toDouble();
        QCOMPARE(top, *std::max_element(total->floats.begin(), total->floats.end()));
        // Numeric filter.
        table.proxy()->setFilter(2, QStringLiteral(">5000"));
        const int expected = static_cast<int>(std::count_if(
            total->floats.begin(), total->floats.end(), [](double v) { return v > 5000; }));
        QCOMPARE(table.proxy()->rowCount(), expected);
        table.proxy()->setFilter(2, QStringLiteral("3000..4000"));
        QCOMPARE(table.proxy()->rowCount(),
                 int(std::count_if(total->floats.begin(), total->floats.end(),
                                   [](double v) { return v >= 3000 && v <= 4000; })));
        table.proxy()->setFilter(0, QStringLiteral("cell49"));
        QCOMPARE(table.proxy()->rowCount(), 111);  // cell49, cell490..499, cell4900..4999
        table.proxy()->setFilter(0, QString());
        // Selection from the embedding highlights rows, without echoing back.
        QSignalSpy spy(&table, &CohortTable::cellsSelected);
        table.setSelectedCells({1, 2, 3});
        QCOMPARE(spy.count(), 0);
        QVERIFY(table.model()->isCellHighlighted(2) && !table.model()->isCellHighlighted(4));
        // Selecting rows reports cells (source rows), whatever the sort.
        table.selectCells({7, 4000});
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.last().at(0).value<std::vector<int64_t>>(), (std::vector<int64_t>{7, 4000}));
        gui_test::save_screenshot(&table, QStringLiteral("cohort_table_synthetic"));
    }

    void tableSortsAMillionRowsQuickly() {
        auto cohort = synthetic_cohort(1000000);
        CohortTable table;
        table.setCohort(cohort);
        QElapsedTimer timer;
        timer.start();
        table.view()->sortByColumn(2, Qt::AscendingOrder);
        const double sort_ms = timer.nsecsElapsed() / 1e6;
        timer.restart();
        table.proxy()->setFilter(2, QStringLiteral(">4000"));
        const double filter_ms = timer.nsecsElapsed() / 1e6;
        timer.restart();
        std::vector<int64_t> half;
        for (int64_t i = 0; i < 1000000; i += 2) half.push_back(i);
        table.setSelectedCells(half);
        const double highlight_ms = timer.nsecsElapsed() / 1e6;
        qInfo("1M-row table: sort %.0f ms, numeric filter %.0f ms, highlight 500k cells %.0f ms",
              sort_ms, filter_ms, highlight_ms);
        QVERIFY(table.proxy()->rowCount() > 0);
    }
};

Q_DECLARE_METATYPE(std::vector<int64_t>)
TRANSCURA_GUI_TEST_MAIN(TstQcAndTable)
#include "tst_qc_and_table.moc"
