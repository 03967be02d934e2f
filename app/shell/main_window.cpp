#include "main_window.hpp"

#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QLabel>
#include <QLoggingCategory>
#include <QMenuBar>
#include <QMessageBox>
#include <QScopeGuard>
#include <QSettings>
#include <QStatusBar>
#include <QToolBar>

#include "background_pool.hpp"
#include "batch_controller.hpp"
#include "batch_panel.hpp"
#include "batch_plots.hpp"
#include "cohort_table.hpp"
#include "curation_controller.hpp"
#include "embedding_controller.hpp"
#include "embedding_toolbar.hpp"
#include "embedding_view.hpp"
#include "error_reporter.hpp"
#include "export_action.hpp"
#include "export_plot_action.hpp"
#include "later_turn.hpp"
#include "open_action.hpp"
#include "pipeline_controller.hpp"
#include "qc_panel.hpp"
#include "recipe_panel.hpp"
#include "resources.hpp"
#include "run_pipeline_action.hpp"
#include "selection_sync.hpp"
#include "session_action.hpp"
#include "status_progress.hpp"
#include "view_actions.hpp"

namespace transcura::shell {

// QT_LOGGING_RULES="transcura.handoff.debug=true": what each stage of a hand-off costs.
Q_LOGGING_CATEGORY(lcHandOff, "transcura.handoff", QtWarningMsg)

QString demo_cohort_path() {
    for (const char* path : {TRANSCURA_DEMO_BUILD_PATH, TRANSCURA_DEMO_INSTALL_PATH}) {
        QFileInfo info(QString::fromUtf8(path));
        if (info.isFile() && info.size() > 0) return info.absoluteFilePath();
    }
    return {};
}

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
    widgets::init_resources();
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("Transcura"));
    setWindowIcon(QIcon(QStringLiteral(":/transcura/icons/transcura.svg")));
    setDockNestingEnabled(true);

    controller_ = new PipelineController(this);
    errors_ = new ErrorReporter(this, this);

    view_ = new widgets::EmbeddingView(this);
    setCentralWidget(view_);
    embedding_toolbar_ = new widgets::EmbeddingToolbar(this);
    qc_ = new widgets::QcPanel(this);
    qc_dock_ = new QDockWidget(tr("Quality Control"), this);
    qc_dock_->setObjectName(QStringLiteral("qcDock"));
    qc_dock_->setWidget(qc_);
    addDockWidget(Qt::RightDockWidgetArea, qc_dock_);
    table_ = new widgets::CohortTable(this);
    table_dock_ = new QDockWidget(tr("Cohort Table"), this);
    table_dock_->setObjectName(QStringLiteral("tableDock"));
    table_dock_->setWidget(table_);
    addDockWidget(Qt::BottomDockWidgetArea, table_dock_);

    open_ = new OpenAction(controller_, this, this);
    new DropOpener(open_, this);
    run_ = new RunPipelineAction(controller_, this, this);
    export_ = new ExportPlotAction(errors_, this, this);
    export_->addPlot(view_);
    export_->addPlot(qc_->distribution());
    export_->addPlot(qc_->scatter());
    view_actions_ = new ViewActions(view_, this);
    embedding_controller_ = new EmbeddingController(view_, embedding_toolbar_, this);
    // A large cohort's points are laid out on a worker; the hand-off ends when they are shown.
    embedding_controller_->setBackgroundPointsAbove(EmbeddingController::kBackgroundPointsAbove);
    connect(embedding_controller_, &EmbeddingController::pointsShown, this,
            [this] { finishHandOff(handoff_generation_); });
    selection_ = new SelectionSync(view_, table_, this);

    auto* selection_label = new QLabel(this);
    statusBar()->addWidget(selection_label);
    statusBar()->addPermanentWidget(new StatusProgress(controller_, this));

    connect(controller_, &PipelineController::cohortChanged, this, &MainWindow::showCohort);
    connect(controller_, &PipelineController::failed, this, &MainWindow::reportFailure);
    connect(controller_, &PipelineController::cancelled, this, [this] {
        statusBar()->showMessage(tr("Cancelled; the cohort shown is unchanged"), 6000);
        embedding_controller_->restoreAfterLiveLayout();
    });
    connect(controller_, &PipelineController::liveLayout, embedding_controller_,
            &EmbeddingController::showLiveLayout);
    connect(embedding_controller_, &EmbeddingController::statusMessage, this,
            [this](const QString& text) { statusBar()->showMessage(text, 4000); });
    connect(selection_, &SelectionSync::selectionChanged, selection_label, &QLabel::setText);
    buildBatchAndSession();
    buildCuration();

    buildMenus();
    // The QC dock takes the whole right side and the curation dock the whole left; the table
    // sits under the embedding, which keeps the largest share of the width (at 1280 px, ~590
    // px; it was ~400 with the QC dock at 540 and the curation dock at 330).
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    setCorner(Qt::TopRightCorner, Qt::RightDockWidgetArea);
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    setCorner(Qt::TopLeftCorner, Qt::LeftDockWidgetArea);
    resize(1280, 800);
    resizeDocks({qc_dock_, curation_dock_}, {410, 280}, Qt::Horizontal);
    resizeDocks({table_dock_}, {230}, Qt::Vertical);
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
}

MainWindow::~MainWindow() = default;

void MainWindow::buildBatchAndSession() {
    batch_panel_ = new widgets::BatchPanel(this);
    batch_dock_ = new QDockWidget(tr("Batch Effects"), this);
    batch_dock_->setObjectName(QStringLiteral("batchDock"));
    batch_dock_->setWidget(batch_panel_);
    addDockWidget(Qt::RightDockWidgetArea, batch_dock_);
    tabifyDockWidget(qc_dock_, batch_dock_);
    qc_dock_->raise();
    batch_controller_ = new BatchController(controller_, embedding_controller_, batch_panel_, this);
    statusBar()->addPermanentWidget(new StatusProgress(batch_controller_, this));
    connect(batch_controller_, &BatchController::failed, this, [this](const QString& message) {
        statusBar()->showMessage(tr("Batch diagnostics failed: %1").arg(message), 8000);
    });
    export_->addPlot(batch_panel_->barPlot());
    export_->addPlot(batch_panel_->heatmap());
    session_ = new SessionAction(this);
    // Docks: Ctrl+1..3 show and raise them.
    int number = 1;
    for (QDockWidget* dock : {qc_dock_, batch_dock_, table_dock_}) {
        QAction* toggle = dock->toggleViewAction();
        toggle->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_0 + number++)));
        connect(toggle, &QAction::triggered, dock, [dock](bool on) {
            if (on) dock->raise();
        });
    }
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(open_->openAction());
    file->addAction(open_->openFolderAction());
    file->addMenu(open_->recentMenu());
    file->addSeparator();
    file->addMenu(export_->menu());
    file->addAction(export_curated_->action());
    file->addAction(curation_->loadAction());
    file->addAction(curation_->saveAction());
    file->addSeparator();
    file->addAction(session_->openAction());
    file->addAction(session_->saveAction());
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    edit->addAction(curation_->undoAction());
    edit->addAction(curation_->redoAction());

    QMenu* analysis = menuBar()->addMenu(tr("&Analysis"));
    analysis->addAction(run_->runAction());
    analysis->addAction(run_->runOnOpenAction());
    analysis->addSeparator();
    analysis->addAction(batch_controller_->runAction());
    analysis->addAction(batch_controller_->autoRunAction());
    analysis->addSeparator();
    analysis->addAction(run_->cancelAction());

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addActions(view_actions_->modeActions());
    view->addSeparator();
    view->addAction(view_actions_->resetView());
    view->addAction(view_actions_->clearSelection());
    view->addSeparator();
    view->addAction(qc_dock_->toggleViewAction());
    view->addAction(table_dock_->toggleViewAction());
    view->addAction(batch_dock_->toggleViewAction());
    view->addAction(curation_dock_->toggleViewAction());
    view->addSeparator();
    view->addAction(embedding_controller_->findGeneAction());

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About Transcura"), this, [this] {
        QMessageBox::about(this, tr("About Transcura"),
                           tr("<h3>Transcura %1</h3><p>A workbench for transcriptomic cohorts: "
                              "QC, embeddings, batch effects and curation.</p>")
                               .arg(QStringLiteral(TRANSCURA_VERSION)));
    });

    QToolBar* main = addToolBar(tr("Main"));
    main->setObjectName(QStringLiteral("mainToolbar"));
    main->addAction(open_->openAction());
    main->addAction(run_->runAction());
    main->addAction(run_->cancelAction());
    main->addSeparator();
    main->addActions(view_actions_->modeActions());
    main->addAction(view_actions_->resetView());
    addToolBar(embedding_toolbar_);
    view->addSeparator();
    view->addAction(main->toggleViewAction());
    view->addAction(embedding_toolbar_->toggleViewAction());
}

void MainWindow::showCohort(std::shared_ptr<const Cohort> cohort, const QString& path) {
    const int generation = ++handoff_generation_;
    // A hand-off overtaken before its end: its cohort is released with the one shown before.
    if (handoff_cohort_) retired_cohorts_.push_back(std::move(handoff_cohort_));
    handoff_cohort_ = std::move(cohort);
    handoff_stages_done_ = false;
    handoff_path_ = path;
    handing_off_ = true;
    const QString name = QFileInfo(path).fileName();
    if (handoff_cohort_) {
        setWindowTitle(tr("%1 \u2014 Transcura").arg(name));
        statusBar()->showMessage(tr("%1: %L2 cells \u00d7 %L3 genes")
                                     .arg(name)
                                     .arg(handoff_cohort_->n_obs())
                                     .arg(handoff_cohort_->n_vars()),
                                 8000);
    }
    const bool staged = handoff_cohort_ && handoff_cohort_->n_obs() > staged_above_;
    if (!staged) {
        for (int stage = 0; handOffStage(stage); ++stage) {
        }
        handoff_stages_done_ = true;
        // Shown once every other listener of cohortChanged (connected after this one) has run.
        QMetaObject::invokeMethod(
            this, [this, generation] { finishHandOff(generation); }, Qt::QueuedConnection);
        return;
    }
    continueHandOff(generation, 0);  // the first dock now, the others in later turns
}

void MainWindow::continueHandOff(int generation, int stage) {
    if (generation != handoff_generation_) return;  // a newer cohort took over
    if (!handOffStage(stage)) {
        handoff_stages_done_ = true;
        finishHandOff(generation);
        return;
    }
    widgets::in_a_later_turn(this,
                             [this, generation, stage] { continueHandOff(generation, stage + 1); });
}

bool MainWindow::handOffStage(int stage) {
    const std::shared_ptr<const Cohort>& cohort = handoff_cohort_;
    QElapsedTimer timer;
    timer.start();
    const auto done = qScopeGuard([&] {
        if (lcHandOff().isDebugEnabled() && stage <= 3)
            qCDebug(lcHandOff, "stage %d: %.1f ms", stage, timer.nsecsElapsed() / 1e6);
    });
    switch (stage) {
        case 0:
            embedding_controller_->setCohort(cohort);
            return true;
        case 1:
            table_->setCohort(cohort);
            return true;
        case 2:
            // The QC panel's plots and counts follow in a later turn of their own.
            qc_->setCohort(cohort, cohort
                                       ? QString::fromStdString(controller_->parameters().batch_key)
                                       : QString());
            selection_->setCohort(cohort, qc_->batchKey());
            return true;
        case 3:
            // After the QC panel: the recipe counts per its batch key and draws its thresholds.
            curation_->setCohort(cohort, handoff_path_);
            return true;
        default:
            return false;
    }
}

void MainWindow::finishHandOff(int generation) {
    if (generation != handoff_generation_ || !handing_off_ || !handoff_stages_done_) return;
    // The embedding's points are still laid out on a worker: its pointsShown() comes back here.
    if (embedding_controller_->pointsPending()) return;
    handing_off_ = false;
    std::shared_ptr<const Cohort> cohort = std::move(handoff_cohort_);
    std::vector<std::shared_ptr<const Cohort>> replaced = std::move(retired_cohorts_);
    retired_cohorts_.clear();
    if (shown_cohort_ != cohort) replaced.push_back(std::exchange(shown_cohort_, cohort));
    emit cohortShown(cohort, handoff_path_);
    // Every dock has let go of the cohorts shown before: when this window holds the last
    // reference, one is freed on a worker (20-40 ms of the GUI thread at 1M cells).
    for (std::shared_ptr<const Cohort>& old : replaced)
        if (old != cohort) widgets::release_in_background(std::move(old));
}

void MainWindow::reportFailure(const QString& path, const QString& stage, const QString& message) {
    embedding_controller_->restoreAfterLiveLayout();
    const QString name = path.isEmpty() ? tr("the cohort") : QFileInfo(path).fileName();
    if (stage == QLatin1String("pipeline"))
        errors_->report(tr("Pipeline failed"), tr("The pipeline failed on %1.").arg(name), message);
    else
        errors_->report(tr("Cannot open file"), tr("Could not open %1.").arg(name), message);
}

void MainWindow::closeEvent(QCloseEvent* event) {
    controller_->cancel();
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    QMainWindow::closeEvent(event);
}

}  // namespace transcura::shell
