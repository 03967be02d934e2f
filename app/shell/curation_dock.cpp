// The main window's curation part, kept out of main_window.cpp: the recipe panel as a dock on
// the left (beside the embedding it takes selections from, opposite the QC plots whose threshold
// lines it follows), its controller (recipe, undo stack, live counts) and the export action.
#include <QDockWidget>
#include <QStatusBar>

#include "curation_controller.hpp"
#include "embedding_controller.hpp"
#include "error_reporter.hpp"
#include "export_action.hpp"
#include "main_window.hpp"
#include "pipeline_controller.hpp"
#include "qc_panel.hpp"
#include "recipe_panel.hpp"
#include "selection_sync.hpp"

namespace transcura::shell {

void MainWindow::buildCuration() {
    recipe_panel_ = new widgets::RecipePanel(this);
    curation_dock_ = new QDockWidget(tr("Curation"), this);
    curation_dock_->setObjectName(QStringLiteral("curationDock"));
    curation_dock_->setWidget(recipe_panel_);
    addDockWidget(Qt::LeftDockWidgetArea, curation_dock_);  // sized in MainWindow's constructor

    curation_ = new CurationController(recipe_panel_, qc_, selection_, embedding_controller_,
                                       errors_, this, this);
    export_curated_ = new ExportAction(curation_, controller_, errors_, this, this);
    // The curation controller takes a new cohort from showCohort (after the QC panel, whose
    // batch key and threshold lines it uses).
    connect(curation_, &CurationController::statusMessage, this,
            [this](const QString& text) { statusBar()->showMessage(text, 5000); });

    QAction* toggle = curation_dock_->toggleViewAction();
    toggle->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_4));
    connect(toggle, &QAction::triggered, curation_dock_, [this](bool on) {
        if (on) curation_dock_->raise();
    });
}

}  // namespace transcura::shell
