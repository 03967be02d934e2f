#pragma once
// The main window: assembles the embedding (centre), the QC panel and cohort table (docks),
// the toolbars and menus from small action objects. It holds no analysis.
#include <memory>
#include <vector>

#include <QMainWindow>

#include "transcura/cohort.hpp"

namespace transcura::widgets {
class EmbeddingView;
class EmbeddingToolbar;
class QcPanel;
class CohortTable;
class BatchPanel;
class RecipePanel;
}  // namespace transcura::widgets

namespace transcura::shell {

class BatchController;
class CurationController;
class EmbeddingController;
class ErrorReporter;
class ExportAction;
class ExportPlotAction;
class OpenAction;
class PipelineController;
class RunPipelineAction;
class SelectionSync;
class SessionAction;
class ViewActions;

/// The demo cohort next to the build, else the installed one, else "".
QString demo_cohort_path();

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    PipelineController* controller() const { return controller_; }
    ErrorReporter* errors() const { return errors_; }
    OpenAction* openActions() const { return open_; }
    RunPipelineAction* pipelineActions() const { return run_; }
    ExportPlotAction* exportActions() const { return export_; }
    ViewActions* viewActions() const { return view_actions_; }
    EmbeddingController* embedding() const { return embedding_controller_; }
    SelectionSync* selection() const { return selection_; }
    widgets::EmbeddingView* embeddingView() const { return view_; }
    widgets::QcPanel* qcPanel() const { return qc_; }
    widgets::CohortTable* cohortTable() const { return table_; }
    widgets::BatchPanel* batchPanel() const { return batch_panel_; }
    BatchController* batchController() const { return batch_controller_; }
    SessionAction* sessionActions() const { return session_; }
    QDockWidget* batchDock() const { return batch_dock_; }
    widgets::RecipePanel* recipePanel() const { return recipe_panel_; }
    CurationController* curation() const { return curation_; }
    ExportAction* exportCuratedAction() const { return export_curated_; }
    QDockWidget* curationDock() const { return curation_dock_; }

    /// Whether a new cohort is still being handed to the docks (see showCohort()).
    bool isHandingOffCohort() const { return handing_off_; }
    /// Cohorts with more cells than this are handed to the docks one dock per event-loop turn
    /// (default kStagedHandOffAbove; 0: always, for tests).
    void setStagedHandOffAbove(int64_t cells) { staged_above_ = cells; }
    /// At ~25k cells the whole hand-off is ~30 ms; above, one turn per dock keeps each of the
    /// GUI thread's turns short (at 1M cells the docks take ~60-150 ms each under load).
    static constexpr int64_t kStagedHandOffAbove = 25000;

signals:
    /// Every dock shows the cohort of the last PipelineController::cohortChanged, and every
    /// other listener of that signal has run: what waits for a new cohort to be on screen (a
    /// session's view) waits for this, never for cohortChanged.
    void cohortShown(std::shared_ptr<const transcura::Cohort> cohort, const QString& path);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    void showCohort(std::shared_ptr<const Cohort> cohort, const QString& path);
    /// One step of the hand-off; false when there was none left.
    bool handOffStage(int stage);
    void continueHandOff(int generation, int stage);
    void finishHandOff(int generation);
    void reportFailure(const QString& path, const QString& stage, const QString& message);

    PipelineController* controller_ = nullptr;
    ErrorReporter* errors_ = nullptr;
    OpenAction* open_ = nullptr;
    RunPipelineAction* run_ = nullptr;
    ExportPlotAction* export_ = nullptr;
    ViewActions* view_actions_ = nullptr;
    EmbeddingController* embedding_controller_ = nullptr;
    SelectionSync* selection_ = nullptr;
    widgets::EmbeddingView* view_ = nullptr;
    widgets::EmbeddingToolbar* embedding_toolbar_ = nullptr;
    widgets::QcPanel* qc_ = nullptr;
    widgets::CohortTable* table_ = nullptr;
    QDockWidget* qc_dock_ = nullptr;
    QDockWidget* table_dock_ = nullptr;
    // Batch panel (a dock tabbed with QC) and sessions: see buildBatchAndSession().
    void buildBatchAndSession();
    widgets::BatchPanel* batch_panel_ = nullptr;
    QDockWidget* batch_dock_ = nullptr;
    BatchController* batch_controller_ = nullptr;
    SessionAction* session_ = nullptr;
    // Curation (recipe panel dock, undo/redo, export): see curation_dock.cpp.
    void buildCuration();
    widgets::RecipePanel* recipe_panel_ = nullptr;
    QDockWidget* curation_dock_ = nullptr;
    CurationController* curation_ = nullptr;
    ExportAction* export_curated_ = nullptr;
    // The cohort being handed to the docks, stage by stage (a newer one restarts it); the one
    // every dock shows; those replaced, released once a hand-off is complete.
    std::shared_ptr<const Cohort> handoff_cohort_, shown_cohort_;
    std::vector<std::shared_ptr<const Cohort>> retired_cohorts_;
    QString handoff_path_;
    int handoff_generation_ = 0;
    bool handing_off_ = false;
    bool handoff_stages_done_ = false;  // only the embedding's points may still be prepared
    int64_t staged_above_ = kStagedHandOffAbove;
};

}  // namespace transcura::shell
