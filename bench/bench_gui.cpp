// GUI benchmark (built with -DTRANSCURA_BUILD_BENCH=ON; never a test: timings depend on the
// machine). Run under Xvfb for software rendering, e.g.
//   xvfb-run -a -s "-screen 0 1600x1000x24" build/bench_gui [--cells 1000000]
//       [--pipeline-cells 60000] [--repeat 5] [--skip-pipeline] [--legacy]
//       [--profile-frames BUDGET] [--show-cells N] [--explain-stalls]
// (--legacy: the GUI-thread behaviour before the live-frame budget, the background gene read,
// and the staged cohort hand-off, for before/after figures on
// the same machine.
// --show-cells: only part 3, a new cohort of N cells (QC columns, batches, X_umap) handed to
// the whole MainWindow, with a 2 ms heartbeat measuring the GUI thread's longest stall.
// --explain-stalls: parts 2 and 3 list the event deliveries (receiver, type, ms; nested ones
// indented) that make up each long stall.
// --profile-frames: 200 unchanged frames at that point budget and nothing else, to run under
// `perf record -g`.)
//
// Part 1, on a simulated embedding of --cells cells (12 Gaussian blobs; a sparse count matrix
// of 2000 genes with ~25 non-zeros per cell; categorical and continuous obs columns), in a
// 1280x800 window with the real EmbeddingController, toolbar and view: the time to recolour by
// a categorical column, by a continuous column and by a gene, and to resolve a lasso drawn with
// mouse events — each measured from the call to the end of the next frame (software OpenGL
// under Xvfb included), median and worst of --repeat runs.
//
// Part 2, the whole MainWindow opening a simulated cohort of --pipeline-cells cells with
// "run pipeline on open" (QC .. PCA, kNN, UMAP with the live layout, Leiden) and then the
// batch diagnostics with Harmony: a 2 ms QTimer heartbeat records the longest time the GUI
// thread did not come back to its event loop while each job ran.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QMainWindow>
#include <QSurfaceFormat>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest/QTest>

#include "batch_controller.hpp"
#include "batch_panel.hpp"
#include "cohort_table.hpp"
#include "curation_controller.hpp"
#include "embedding_controller.hpp"
#include "embedding_toolbar.hpp"
#include "embedding_view.hpp"
#include "main_window.hpp"
#include "open_action.hpp"
#include "pipeline_controller.hpp"
#include "qc_panel.hpp"
#include "selection_sync.hpp"
#include "transcura/io.hpp"
#include "transcura/simulate.hpp"

using namespace transcura;

namespace {

struct Args {
    int64_t cells = 1000000;
    int64_t pipeline_cells = 60000;
    int repeat = 5;
    bool pipeline = true;
    bool legacy = false;          // the GUI-thread behaviour before H8: for before/after figures
    int64_t show_cells = 0;       // > 0: only hand a cohort of this many cells to the window
    int64_t profile_budget = -1;  // >= 0: only draw 200 unchanged frames at this budget (perf)
    bool explain = false;         // parts 2, 3: the event deliveries inside each long stall
    std::string screenshots;      // part 1: the window after each kind of action, as PNGs here
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (arg == "--cells")
            a.cells = std::stoll(next());
        else if (arg == "--pipeline-cells")
            a.pipeline_cells = std::stoll(next());
        else if (arg == "--repeat")
            a.repeat = std::max(1, std::stoi(next()));
        else if (arg == "--skip-pipeline")
            a.pipeline = false;
        else if (arg == "--legacy")
            a.legacy = true;
        else if (arg == "--show-cells")
            a.show_cells = std::stoll(next());
        else if (arg == "--explain-stalls")
            a.explain = true;
        else if (arg == "--screenshots")
            a.screenshots = next();
        else if (arg == "--profile-frames")
            a.profile_budget = std::stoll(next());
        else {
            std::fprintf(stderr, "unknown argument %s\n", arg.c_str());
            std::exit(2);
        }
    }
    return a;
}

/// Blobs in 2D with a gene matrix whose genes 0..11 mark the blobs.
std::shared_ptr<Cohort> simulated_embedding(int64_t n) {
    const int k = 12, genes = 2000, per_cell = 25;
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal(0.0, 1.0);
    std::uniform_int_distribution<int> blob(0, k - 1), gene(12, genes - 1);
    auto cohort = std::make_shared<Cohort>();
    cohort->obs_names.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        cohort->obs_names[size_t(i)] = std::string("cell").append(std::to_string(i));
    for (int g = 0; g < genes; ++g)
        cohort->var_names.push_back(std::string("G").append(std::to_string(g)));
    DenseD umap(n, 2);
    std::vector<int32_t> codes(static_cast<size_t>(n));
    std::vector<double> score(static_cast<size_t>(n));
    CsrMatrix x;
    x.n_rows = n;
    x.n_cols = genes;
    x.indptr.reserve(size_t(n) + 1);
    x.indices.reserve(size_t(n) * (per_cell + 1));
    x.data.reserve(size_t(n) * (per_cell + 1));
    std::vector<int32_t> row;
    for (int64_t i = 0; i < n; ++i) {
        const int b = blob(rng);
        codes[size_t(i)] = b;
        const double angle = 2 * M_PI * b / k;
        umap(i, 0) = 12 * std::cos(angle) + normal(rng);
        umap(i, 1) = 12 * std::sin(angle) + normal(rng);
        score[size_t(i)] = umap(i, 0) + 0.3 * normal(rng);
        row.clear();
        row.push_back(b);  // the blob's marker
        for (int j = 0; j < per_cell; ++j) row.push_back(gene(rng));
        std::sort(row.begin(), row.end());
        row.erase(std::unique(row.begin(), row.end()), row.end());
        for (int32_t g : row) {
            x.indices.push_back(g);
            x.data.push_back(static_cast<float>(1 + (rng() % 7)));
        }
        x.indptr.push_back(static_cast<int64_t>(x.indices.size()));
    }
    std::vector<std::string> names;
    for (int b = 0; b < k; ++b) names.push_back(std::string("blob").append(std::to_string(b)));
    cohort->obs.set(Column::make_categorical("cluster", std::move(codes), names));
    cohort->obs.set(Column::make_float("score", std::move(score)));
    cohort->obsm["X_umap"] = std::move(umap);
    cohort->X = Matrix(std::move(x));
    return cohort;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? NAN : v[v.size() / 2];
}

/// CPU time of the whole process (GUI thread, OpenMP workers and llvmpipe's render threads):
/// on a shared, loaded machine it says how much work an action is; wall time says how long a
/// user waits.
double process_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct Timing {
    std::vector<double> wall, cpu, work, render;
    double worst() const {
        return wall.empty() ? NAN : *std::max_element(wall.begin(), wall.end());
    }
    // The least of the runs: on a shared, loaded machine the closest to the work itself.
    static double best(const std::vector<double>& v) {
        return v.empty() ? NAN : *std::min_element(v.begin(), v.end());
    }
};

/// From the call to the end of the next frame: wall, process CPU, the call alone, paintGL. The
/// frame is the event loop's own (the update the call asked for), timed to QOpenGLWidget's
/// frameSwapped: the window composed with the new picture, as the user sees it.
template <typename Work>
void timed_frame(widgets::EmbeddingView* view, Timing& timing, Work&& work) {
    QElapsedTimer t;
    bool swapped = false;
    const QMetaObject::Connection c =
        QObject::connect(view, &QOpenGLWidget::frameSwapped, view, [&] { swapped = true; });
    const double cpu0 = process_cpu_ms();
    t.start();
    work();
    timing.work.push_back(t.nsecsElapsed() / 1e6);
    view->update();  // (a call that changed nothing draws an unchanged frame)
    if (!QTest::qWaitFor([&] { return swapped; }, 10000))
        std::printf("warning: no frame within 10 s\n");
    timing.wall.push_back(t.nsecsElapsed() / 1e6);
    timing.cpu.push_back(process_cpu_ms() - cpu0);
    timing.render.push_back(view->lastRenderMs());
    QObject::disconnect(c);
}

void print(const char* what, const Timing& t) {
    std::printf(
        "  %-32s wall %6.1f (best %6.1f, worst %6.1f)  cpu %6.1f (best %6.1f)  call %6.1f  "
        "paintGL %6.1f\n",
        what, median(t.wall), Timing::best(t.wall), t.worst(), median(t.cpu), Timing::best(t.cpu),
        median(t.work), median(t.render));
}

// The event deliveries of a span (defined with the profiler below): for --explain-stalls.
void explain_begin(double threshold_ms);
void explain_end(const char* what);

void part_one(const Args& args) {
    QElapsedTimer build;
    build.start();
    auto cohort = simulated_embedding(args.cells);
    std::printf("simulated %lld cells x 2000 genes (%lld non-zeros) in %.1f s\n",
                static_cast<long long>(cohort->n_obs()), static_cast<long long>(cohort->nnz()),
                build.nsecsElapsed() / 1e9);
    QMainWindow window;
    auto* view = new widgets::EmbeddingView(&window);
    auto* toolbar = new widgets::EmbeddingToolbar(&window);
    window.setCentralWidget(view);
    window.addToolBar(toolbar);
    shell::EmbeddingController controller(view, toolbar);
    if (args.legacy) controller.setBackgroundGeneThreshold(std::numeric_limits<int64_t>::max());
    window.resize(1280, 800);
    window.show();
    if (!QTest::qWaitForWindowExposed(&window)) std::printf("warning: window not exposed\n");
    QElapsedTimer t;
    t.start();
    controller.setCohort(cohort);
    view->repaint();
    QCoreApplication::processEvents();
    std::printf(
        "first show (upload + render): %.0f ms; view %dx%d, %lld points drawn per "
        "frame (splatted above 20k)\n",
        t.nsecsElapsed() / 1e6, view->width(), view->height(),
        static_cast<long long>(view->drawnPoints()));
    // The by-gene index is built on a worker once the cohort is shown (not with --legacy); the
    // gene recolours below are timed with it.
    if (!QTest::qWaitFor([&] { return !controller.geneIndexPending(); }, 60000))
        std::printf("warning: the gene index was not built within 60 s\n");
    if (auto index = controller.geneIndex())
        std::printf("gene index built on a worker in %.0f ms: %.1f MB (%.2f bytes a non-zero)\n",
                    controller.geneIndexBuildMs(), index->memory_bytes() / 1e6,
                    double(index->memory_bytes()) / double(std::max<int64_t>(1, index->nnz())));

    if (args.profile_budget >= 0) {
        // For `perf record`: nothing but unchanged frames of one size.
        controller.colorByColumn(QStringLiteral("cluster"));
        view->setPointBudget(args.profile_budget);
        Timing frame;
        for (int r = 0; r < 200; ++r) timed_frame(view, frame, [&] { view->update(); });
        print("unchanged frame", frame);
        std::printf("  %lld points drawn\n", static_cast<long long>(view->drawnPoints()));
        return;
    }

    Timing plain, categorical, continuous, gene, lasso;
    std::vector<double> gene_gui_stall;
    std::vector<double> resolve;
    size_t selected = 0;
    int64_t lasso_drawn = 0;
    for (int r = 0; r < args.repeat; ++r) {
        const bool explain = args.explain && r == args.repeat - 1;
        if (explain) explain_begin(0);
        timed_frame(view, plain, [&] { view->update(); });
        if (explain) explain_end("frame, nothing changed");
        if (explain) explain_begin(0);
        timed_frame(view, categorical,
                    [&] { controller.colorByColumn(QStringLiteral("cluster")); });
        if (explain) explain_end("recolour by categorical column");
        if (!args.screenshots.empty() && r == 0)
            window.grab().save(QDir(QString::fromStdString(args.screenshots))
                                   .filePath(QStringLiteral("bench_gui_cluster.png")));
        timed_frame(view, continuous, [&] { controller.colorByColumn(QStringLiteral("score")); });
        const QString name = QStringLiteral("G%1").arg(r % 12);
        {
            // The gene's column is read off the GUI thread: wall is call -> coloured frame;
            // a 2 ms heartbeat gives the longest the GUI thread was away from its event loop.
            QElapsedTimer beat;
            qint64 last = 0, longest = 0;
            QTimer ticker;
            ticker.setInterval(2);
            QObject::connect(&ticker, &QTimer::timeout, [&] {
                longest = std::max(longest, beat.elapsed() - last);
                last = beat.elapsed();
            });
            beat.start();
            ticker.start();
            timed_frame(view, gene, [&] {
                controller.colorByGene(name);
                gene.work.push_back(beat.nsecsElapsed() / 1e6);
                if (!QTest::qWaitFor([&] { return !controller.geneColorPending(); }, 10000))
                    std::printf("warning: gene colours not shown within 10 s\n");
            });
            gene.work.pop_back();  // keep the call alone (pushed above), not call + wait
            QTest::qWait(10);      // a heartbeat after the frame
            ticker.stop();
            gene_gui_stall.push_back(double(longest));
        }
        view->setMode(widgets::EmbeddingView::Mode::Lasso);
        const double s = 1.0 + 0.05 * r;
        const QPolygonF polygon{{300 * s, 120}, {900, 90 * s}, {1000, 420},
                                {600, 650 / s}, {250, 480},    {300 * s, 120}};
        if (explain) explain_begin(0);
        timed_frame(view, lasso, [&] {
            QTest::mousePress(view, Qt::LeftButton, {}, polygon.first().toPoint());
            for (qsizetype i = 1; i < polygon.size(); ++i)
                QTest::mouseMove(view, polygon[i].toPoint());
            QTest::mouseRelease(view, Qt::LeftButton, {}, polygon.last().toPoint());
        });
        if (explain) explain_end("lasso");
        resolve.push_back(view->lastSelectionMs());
        if (!args.screenshots.empty() && r == 0) {
            // What the timed frames drew (the lasso's selection over the gene colours).
            window.grab().save(QDir(QString::fromStdString(args.screenshots))
                                   .filePath(QStringLiteral("bench_gui_lasso.png")));
        }
        selected = view->selection().size();
        lasso_drawn = view->drawnPoints();
        view->clearSelection();
        view->repaint();  // the next "nothing changed" frame is one
    }
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) < 0) load[0] = NAN;
    std::printf(
        "\n%lld cells, 1280x800 window, median of %d runs, ms (wall: call -> end of "
        "the next frame; cpu: whole process; load average %.1f):\n",
        static_cast<long long>(args.cells), args.repeat, load[0]);
    print("frame, nothing changed", plain);
    print("recolour by categorical column", categorical);
    print("recolour by continuous column", continuous);
    print("recolour by gene (sparse column)", gene);
    std::printf("  recolour by gene: longest GUI-thread stall %.1f ms (median of runs)\n",
                median(gene_gui_stall));
    print("lasso (mouse up -> highlighted)", lasso);
    std::printf(
        "  lasso polygon resolved in %.1f ms (median; %zu cells selected, %lld points drawn)\n",
        median(resolve), selected, static_cast<long long>(lasso_drawn));
    // The gene call in parts: reading the sparse column (core data, OpenMP) vs colouring.
    std::vector<double> column_ms;
    for (int r = 0; r < args.repeat; ++r) {
        QElapsedTimer g;
        g.start();
        const std::vector<float> values =
            shell::EmbeddingController::geneValues(*cohort, QStringLiteral("G%1").arg(r % 12));
        column_ms.push_back(g.nsecsElapsed() / 1e6);
        if (values.size() != static_cast<size_t>(cohort->n_obs())) std::printf("bad gene\n");
    }
    std::printf("  gene column read (log1p) alone: %.1f ms median\n", median(column_ms));
    if (auto index = controller.geneIndex()) {
        column_ms.clear();
        for (int r = 0; r < args.repeat; ++r) {
            QElapsedTimer g;
            g.start();
            const std::vector<float> values = shell::EmbeddingController::geneValues(
                *cohort, QStringLiteral("G%1").arg(r % 12), nullptr, index.get(),
                controller.geneIndexMatrix());
            column_ms.push_back(g.nsecsElapsed() / 1e6);
            if (values.size() != static_cast<size_t>(cohort->n_obs())) std::printf("bad gene\n");
        }
        std::printf("  gene column read (log1p) through the index: %.1f ms median\n",
                    median(column_ms));
    }

    // What one frame costs against the points it draws (the point budget thins the cloud by
    // an even stride): the fixed part is the frame itself (clear, texture, blits, the window's
    // composition), the rest is per point. An opacity nudge that changes no pixel makes every
    // frame draw the points again.
    controller.colorByColumn(QStringLiteral("cluster"));
    std::printf("  frame cost against points drawn (points drawn again, median of %d):\n",
                args.repeat);
    for (int64_t budget :
         {int64_t(0), int64_t(300000), int64_t(100000), int64_t(30000), int64_t(1000)}) {
        view->setPointBudget(budget);
        view->repaint();
        Timing frame;
        for (int r = 0; r < args.repeat; ++r)
            timed_frame(view, frame, [&] { view->setOpacity(r % 2 ? 1.0 : 0.999); });
        std::printf("    budget %7lld: %6lld points drawn, wall %6.1f  paintGL %6.1f\n",
                    static_cast<long long>(budget), static_cast<long long>(view->drawnPoints()),
                    median(frame.wall), median(frame.render));
    }
    view->setPointBudget(0);
}

/// Which event deliveries took long, to name what a stall of the GUI thread was: every
/// QApplication::notify() is timed, and deliveries over `threshold_ms` are kept with their
/// nesting depth (0: dispatched by the event loop itself; deeper: sent from inside another).
struct EventProfiler {
    struct Entry {
        qint64 start_ms;
        double ms;
        int depth;
        QString what;
    };
    bool enabled = false;
    double threshold_ms = 8;
    QElapsedTimer clock;
    int depth = 0;
    std::vector<Entry> entries;
    /// Deliveries overlapping [from, to] (ms on `clock`), outermost first, as one line.
    QString describe(qint64 from, qint64 to) const {
        QStringList parts;
        for (const Entry& e : entries)
            if (e.start_ms <= to && e.start_ms + qint64(e.ms) >= from && e.depth <= 2)
                parts << QStringLiteral("%1%2 %3 ms")
                             .arg(QString(e.depth * 2, QLatin1Char(' ')), e.what)
                             .arg(e.ms, 0, 'f', 0);
        return parts.join(QStringLiteral("; "));
    }
};
EventProfiler g_profiler;

void explain_begin(double threshold_ms) {
    g_profiler.clock.start();
    g_profiler.entries.clear();
    g_profiler.threshold_ms = threshold_ms;
    g_profiler.enabled = true;
}

void explain_end(const char* what) {
    g_profiler.enabled = false;
    std::printf("  deliveries over %.0f ms in the last %s: %s\n", g_profiler.threshold_ms, what,
                qPrintable(g_profiler.describe(0, g_profiler.clock.elapsed())));
    g_profiler.threshold_ms = 8;
}

class ProfilingApplication : public QApplication {
public:
    using QApplication::QApplication;
    bool notify(QObject* receiver, QEvent* event) override {
        if (!g_profiler.enabled) return QApplication::notify(receiver, event);
        const qint64 start = g_profiler.clock.elapsed();
        QElapsedTimer t;
        t.start();
        ++g_profiler.depth;
        const int type = event->type();
        // The receiver may be gone afterwards (a deferred delete): its name from before.
        const char* class_name = receiver->metaObject()->className();
        QString object_name = receiver->objectName();
        // A scroll area's viewport is named after Qt's, not its own: say whose it is.
        if (object_name.startsWith(QLatin1String("qt_scrollarea")) && receiver->parent())
            object_name += QStringLiteral(" of %1 %2").arg(
                QString::fromLatin1(receiver->parent()->metaObject()->className()),
                receiver->parent()->objectName());
        const bool result = QApplication::notify(receiver, event);
        --g_profiler.depth;
        const double ms = t.nsecsElapsed() / 1e6;
        if (ms >= g_profiler.threshold_ms)
            g_profiler.entries.push_back(
                {start, ms, g_profiler.depth,
                 QStringLiteral("%1 to %2%3")
                     .arg(event_name(type), QString::fromLatin1(class_name),
                          object_name.isEmpty() ? QString() : QLatin1Char(' ') + object_name)});
        return result;
    }
    static QString event_name(int type) {
        switch (type) {
            case QEvent::Timer:
                return QStringLiteral("Timer");
            case QEvent::MetaCall:
                return QStringLiteral("MetaCall");
            case QEvent::UpdateRequest:
                return QStringLiteral("UpdateRequest");
            case QEvent::Paint:
                return QStringLiteral("Paint");
            case QEvent::LayoutRequest:
                return QStringLiteral("LayoutRequest");
            case QEvent::Resize:
                return QStringLiteral("Resize");
            default:
                return QStringLiteral("event %1").arg(type);
        }
    }
};

/// The longest gaps between heartbeats while `busy()` holds.
struct Heartbeat {
    QElapsedTimer clock;
    qint64 last = 0, worst = 0;
    std::vector<qint64> gaps;
    void tick(bool busy) {
        const qint64 now = clock.elapsed();
        if (busy) {
            worst = std::max(worst, now - last);
            gaps.push_back(now - last);
        }
        last = now;
    }
    qint64 percentile(double p) const {
        if (gaps.empty()) return 0;
        std::vector<qint64> s = gaps;
        std::sort(s.begin(), s.end());
        return s[std::min(s.size() - 1, static_cast<size_t>(p * s.size()))];
    }
};

void part_two(const Args& args) {
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("bench_pipeline.h5ad"));
    {
        QElapsedTimer t;
        t.start();
        SimulateOptions sim;
        sim.n_cells = args.pipeline_cells;
        sim.n_genes = 10000;
        sim.n_batches = 3;
        sim.mean_library_size = 2500;
        sim.seed = 3;
        write_cohort(simulate_cohort(sim).cohort, path.toStdString(), Format::H5ad);
        std::printf("\nsimulated cohort: %lld cells x 10000 genes, 3 batches (%.1f s)\n",
                    static_cast<long long>(args.pipeline_cells), t.nsecsElapsed() / 1e9);
    }
    shell::MainWindow window;
    window.resize(1280, 800);
    window.show();
    if (!QTest::qWaitForWindowExposed(&window)) std::printf("warning: window not exposed\n");
    window.controller()->setRunOnOpen(true);
    if (args.legacy) window.embedding()->setLiveFrameBudgeting(false);
    PipelineOptions options;
    options.batch_key = "batch";
    window.controller()->setParameters(options);
    window.batchController()->setAutoRun(true);

    Heartbeat pipeline, batch;
    QTimer ticker;
    ticker.setInterval(2);
    int live_frames = 0;
    // What the GUI thread handled, to name the cause of a long gap: (ms, event), recorded when
    // the last connected slot runs (after the window's own slots).
    std::vector<std::pair<qint64, QString>> events;
    auto note = [&](const QString& what) { events.emplace_back(pipeline.clock.elapsed(), what); };
    QObject::connect(window.controller(), &shell::PipelineController::liveLayout, &window, [&] {
        ++live_frames;
        note(QStringLiteral("live layout"));
    });
    QObject::connect(
        window.controller(), &shell::PipelineController::progress, &window,
        [&](double, const QString& what) { note(QStringLiteral("progress: ") + what); });
    QObject::connect(window.embeddingView(), &QOpenGLWidget::frameSwapped, &window, [&] {
        note(QStringLiteral("frame: paintGL %1 ms, %2 points")
                 .arg(window.embeddingView()->lastRenderMs(), 0, 'f', 0)
                 .arg(window.embeddingView()->drawnPoints()));
    });
    QObject::connect(window.controller(), &shell::PipelineController::cohortChanged, &window,
                     [&] { note(QStringLiteral("new cohort shown (all docks)")); });
    QObject::connect(window.batchController(), &shell::BatchController::progress, &window,
                     [&](double, const QString& what) { note(QStringLiteral("batch: ") + what); });
    QObject::connect(window.batchController(), &shell::BatchController::finished, &window,
                     [&] { note(QStringLiteral("batch results shown")); });
    std::vector<std::pair<qint64, qint64>> long_gaps;  // (end ms, gap ms)
    QObject::connect(&ticker, &QTimer::timeout, &window, [&] {
        const qint64 before = pipeline.last;
        // The hand-off of the result to the docks (over several turns) counts as the pipeline's.
        const bool running = window.controller()->isBusy() || window.isHandingOffCohort();
        const bool busy = running || window.batchController()->isBusy();
        pipeline.tick(running);
        batch.tick(window.batchController()->isBusy());
        if (busy && pipeline.last - before > 70)
            long_gaps.emplace_back(pipeline.last, pipeline.last - before);
    });
    QElapsedTimer wall;
    wall.start();
    pipeline.clock.start();
    batch.clock.start();
    g_profiler.clock.start();
    g_profiler.entries.clear();
    g_profiler.enabled = args.explain;
    ticker.start();
    window.openActions()->openPath(path);
    if (!QTest::qWaitFor(
            [&] { return !window.controller()->isBusy() && !window.isHandingOffCohort(); },
            3600 * 1000))
        std::printf("warning: the pipeline did not finish within an hour\n");
    const double pipeline_s = wall.nsecsElapsed() / 1e9;
    wall.restart();
    if (!QTest::qWaitFor([&] { return !window.batchController()->isBusy(); }, 3600 * 1000))
        std::printf("warning: the batch diagnostics did not finish within an hour\n");
    const double batch_s = wall.nsecsElapsed() / 1e9;
    ticker.stop();
    g_profiler.enabled = false;
    auto cohort = window.controller()->cohort();
    std::printf("pipeline on open: %.1f s (%lld cells kept, %d live UMAP frames shown)\n",
                pipeline_s, static_cast<long long>(cohort ? cohort->n_obs() : 0), live_frames);
    std::printf(
        "  GUI thread, longest stall %lld ms, 99th percentile gap %lld ms "
        "(%zu heartbeats of 2 ms)\n",
        static_cast<long long>(pipeline.worst), static_cast<long long>(pipeline.percentile(0.99)),
        pipeline.gaps.size());
    for (const auto& [end, gap] : long_gaps) {
        std::printf("  gap of %lld ms ending at %.2f s; handled in it:",
                    static_cast<long long>(gap), end / 1e3);
        for (const auto& [at, what] : events)
            if (at >= end - gap && at <= end) std::printf(" [%s]", qPrintable(what));
        std::printf("\n");
        if (args.explain)
            std::printf("    deliveries: %s\n", qPrintable(g_profiler.describe(end - gap, end)));
    }
    std::printf("batch diagnostics + Harmony after it: %.1f s\n", batch_s);
    std::printf(
        "  GUI thread, longest stall %lld ms, 99th percentile gap %lld ms "
        "(%zu heartbeats)\n",
        static_cast<long long>(batch.worst), static_cast<long long>(batch.percentile(0.99)),
        batch.gaps.size());

    // The hand-over of a new cohort, dock by dock (each then painted), on the result.
    if (!cohort) return;
    auto timed = [&](const char* what, auto&& work) {
        QElapsedTimer t;
        t.start();
        work();
        window.repaint();
        QCoreApplication::processEvents();
        std::printf("  new cohort -> %-22s %6.1f ms\n", what, t.nsecsElapsed() / 1e6);
    };
    std::printf("showing the %lld-cell result again, per dock:\n",
                static_cast<long long>(cohort->n_obs()));
    timed("embedding", [&] { window.embedding()->setCohort(cohort); });
    timed("QC panel", [&] { window.qcPanel()->setCohort(cohort, QStringLiteral("batch")); });
    timed("cohort table", [&] { window.cohortTable()->setCohort(cohort); });
    timed("selection", [&] { window.selection()->setCohort(cohort, QStringLiteral("batch")); });
    timed("batch panel", [&] { window.batchPanel()->setCohort(cohort); });
    timed("everything (signal)", [&] {
        window.batchController()->setAutoRun(false);
        emit window.controller()->cohortChanged(cohort, window.controller()->currentPath());
    });
}

/// A new cohort of --show-cells cells handed to the whole MainWindow (as the pipeline
/// controller's cohortChanged does), with a 2 ms heartbeat over the next 2 s: the longest time
/// the GUI thread stayed away from its event loop while the docks took the cohort and painted.
void part_three(const Args& args) {
    QElapsedTimer build;
    build.start();
    auto cohort = simulated_embedding(args.show_cells);
    {
        const int64_t n = cohort->n_obs();
        std::mt19937_64 rng(5);
        std::lognormal_distribution<double> library(7.8, 0.5);
        std::normal_distribution<double> noise(0.0, 1.0);
        const size_t cells = static_cast<size_t>(n);
        std::vector<double> totals(cells), genes(cells), mito(cells);
        std::vector<int32_t> batch(cells);
        for (int64_t i = 0; i < n; ++i) {
            totals[size_t(i)] = std::round(library(rng));
            genes[size_t(i)] = std::round(std::pow(totals[size_t(i)], 0.8) + 20 * noise(rng));
            mito[size_t(i)] = std::clamp(4 + 2 * noise(rng), 0.0, 100.0);
            batch[size_t(i)] = static_cast<int32_t>(i % 3);
        }
        cohort->obs.set(Column::make_float("total_counts", std::move(totals)));
        cohort->obs.set(Column::make_float("n_genes_by_counts", std::move(genes)));
        cohort->obs.set(Column::make_float("pct_counts_mt", std::move(mito)));
        cohort->obs.set(Column::make_categorical("batch", std::move(batch), {"b1", "b2", "b3"}));
    }
    std::printf("\nsimulated cohort of %lld cells with QC columns, 3 batches, X_umap (%.1f s)\n",
                static_cast<long long>(cohort->n_obs()), build.nsecsElapsed() / 1e9);
    shell::MainWindow window;
    window.resize(1280, 800);
    window.show();
    if (!QTest::qWaitForWindowExposed(&window)) std::printf("warning: window not exposed\n");
    window.batchController()->setAutoRun(false);
    PipelineOptions options;
    options.batch_key = "batch";
    window.controller()->setParameters(options);
    QTest::qWait(200);
    for (int r = 0; r < args.repeat; ++r) {
        Heartbeat beat;
        std::vector<std::pair<qint64, qint64>> long_gaps;  // (end ms, gap ms)
        QTimer ticker;
        ticker.setInterval(2);
        QObject::connect(&ticker, &QTimer::timeout, &window, [&] {
            const qint64 before = beat.last;
            beat.tick(true);
            if (beat.last - before > 50) long_gaps.emplace_back(beat.last, beat.last - before);
        });
        beat.clock.start();
        g_profiler.clock.start();
        g_profiler.entries.clear();
        g_profiler.enabled = true;
        ticker.start();
        QTest::qWait(20);
        const qint64 shown_at = beat.clock.elapsed();
        QElapsedTimer emission;
        emission.start();
        emit window.controller()->cohortChanged(cohort, QStringLiteral("simulated.h5ad"));
        const double emission_ms = emission.nsecsElapsed() / 1e6;
        QTest::qWait(2000);
        ticker.stop();
        g_profiler.enabled = false;
        std::printf(
            "  hand-off %d: the signal's own turn %.0f ms; longest GUI-thread stall %lld ms; "
            "gaps over 50 ms:",
            r + 1, emission_ms, static_cast<long long>(beat.worst));
        for (const auto& [end, gap] : long_gaps)
            std::printf(" %lld (ending %+.0f ms)", static_cast<long long>(gap),
                        double(end - shown_at));
        std::printf("\n");
        if (args.explain)
            for (const auto& [end, gap] : long_gaps)
                std::printf("    gap %lld ms: %s\n", static_cast<long long>(gap),
                            qPrintable(g_profiler.describe(end - gap, end)));
        // The next hand-off shows another cohort object (as a new pipeline result would).
        cohort = std::make_shared<Cohort>(*cohort);
    }
    // The same, dock by dock: the call alone, then the repaint of the whole window.
    auto timed = [&](const char* what, auto&& work) {
        QElapsedTimer t;
        t.start();
        work();
        const double call = t.nsecsElapsed() / 1e6;
        window.repaint();
        std::printf("  %-24s call %6.1f ms, then the window's repaint %6.1f ms\n", what, call,
                    t.nsecsElapsed() / 1e6 - call);
        QTest::qWait(50);
    };
    // The embedding's points are laid out on a worker above kBackgroundPointsAbove: its call
    // alone, then (after they are shown) everything in the one call, as it was before.
    timed("embedding (points later)", [&] { window.embedding()->setCohort(cohort); });
    QTest::qWaitFor([&] { return !window.embedding()->pointsPending(); }, 10000);
    cohort = std::make_shared<Cohort>(*cohort);  // another cohort, as a new result would be
    timed("embedding, all in one call", [&] {
        window.embedding()->setBackgroundPointsAbove(std::numeric_limits<int64_t>::max());
        window.embedding()->setCohort(cohort);
        window.embedding()->setBackgroundPointsAbove(
            shell::EmbeddingController::kBackgroundPointsAbove);
    });
    timed("QC panel (+ its plots)", [&] {
        window.qcPanel()->setCohort(cohort, QStringLiteral("batch"));
        window.qcPanel()->counts();  // the deferred binning, quantiles and counts
    });
    timed("cohort table", [&] { window.cohortTable()->setCohort(cohort); });
    timed("selection", [&] { window.selection()->setCohort(cohort, QStringLiteral("batch")); });
    timed("batch panel", [&] { window.batchPanel()->setCohort(cohort); });
    timed("curation", [&] { window.curation()->setCohort(cohort, QStringLiteral("s.h5ad")); });
    // The QC plots' own paint (grab renders the widget alone), the scatter's raster included.
    for (QWidget* plot : std::initializer_list<QWidget*>{window.qcPanel()->distribution(),
                                                         window.qcPanel()->scatter()}) {
        QElapsedTimer t;
        t.start();
        window.qcPanel()->setCohort(cohort, QStringLiteral("batch"));
        window.qcPanel()->counts();
        const double rebuild = t.nsecsElapsed() / 1e6;
        plot->grab();
        std::printf("  QC %-20s rebuild %6.1f ms, paint alone %6.1f ms\n",
                    plot == window.qcPanel()->scatter() ? "scatter" : "distribution", rebuild,
                    t.nsecsElapsed() / 1e6 - rebuild);
    }
}

}  // namespace

int main(int argc, char** argv) {
    QSurfaceFormat::setDefaultFormat(widgets::EmbeddingView::surfaceFormat());
    ProfilingApplication app(argc, argv);  // times event deliveries for --explain-stalls
    std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress shows as it happens
    QApplication::setOrganizationName(QStringLiteral("TranscuraBench"));
    QApplication::setApplicationName(QStringLiteral("bench_gui"));
    const Args args = parse(argc, argv);
    std::printf("Qt platform %s, %u hardware threads\n",
                qPrintable(QGuiApplication::platformName()), std::thread::hardware_concurrency());
    if (args.show_cells > 0) {
        part_three(args);  // alone: the hand-off of a new cohort to the docks
        return 0;
    }
    part_one(args);
    if (args.pipeline) part_two(args);
    std::fflush(stdout);
    return 0;
}
