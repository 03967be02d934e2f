#pragma once
// Curation: owns the recipe being edited and its undo stack, and links the filter panel, the QC
// panel's threshold lines and the embedding's selection to it. Every edit is a QUndoCommand
// holding the recipe before and after (steps are cheap values); a threshold drag is one command
// (consecutive moves of one line while the button is held are merged). After each change core's
// apply_recipe recounts the cells per batch off the GUI thread (QtConcurrent + QFutureWatcher,
// throttled, a stale run cancelled); the counts come back as values.
#include <cstdint>
#include <functional>
#include <memory>

#include <QAction>
#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QUndoStack>

#include "recipe_panel.hpp"
#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"
#include "transcura/recipe.hpp"

namespace transcura::widgets {
class QcPanel;
}

namespace transcura::shell {

class EmbeddingController;
class ErrorReporter;
class SelectionSync;

/// One background count, handed back to the GUI thread.
struct RecipeCountJob {
    widgets::RecipeCounts counts;
    uint64_t revision = 0;
    bool cancelled = false;
};

class CurationController : public QObject {
    Q_OBJECT
public:
    CurationController(widgets::RecipePanel* panel, widgets::QcPanel* qc, SelectionSync* selection,
                       EmbeddingController* embedding, ErrorReporter* errors, QWidget* window,
                       QObject* parent = nullptr);
    ~CurationController() override;

    /// The cohort the recipe is applied to (the recipe itself is kept: it replays on a new file).
    void setCohort(std::shared_ptr<const Cohort> cohort, const QString& path);
    std::shared_ptr<const Cohort> cohort() const { return cohort_; }
    QString path() const { return path_; }
    /// The batch column of the counts: the QC panel's.
    QString batchKey() const { return batch_key_; }

    const Recipe& recipe() const { return recipe_; }
    /// Replaces the whole recipe as one undoable step.
    void replaceRecipe(const Recipe& recipe, const QString& text);
    /// Errors go to the ErrorReporter; false on failure.
    bool loadRecipe(const QString& path);
    bool saveRecipe(const QString& path);
    /// Adds a selection step from the embedding's current selection.
    void keepSelected() { addSelectionStep(true); }
    void dropSelected() { addSelectionStep(false); }

    QUndoStack* undoStack() const { return stack_; }
    QAction* undoAction() const { return undo_; }
    QAction* redoAction() const { return redo_; }
    QAction* loadAction() const { return load_; }
    QAction* saveAction() const { return save_; }
    /// Replaces the file dialogs (tests): returns the chosen path or "" for cancel.
    void setFileChooser(std::function<QString(bool save)> chooser) {
        chooser_ = std::move(chooser);
    }

    /// The latest counts (of recipe() once countsPending() is false).
    const widgets::RecipeCounts& counts() const { return counts_; }
    bool countsPending() const;

    /// What the panel shows for a recipe: core's validate_recipe and apply_recipe (any thread).
    static widgets::RecipeCounts countRecipe(std::shared_ptr<const Cohort> cohort,
                                             const Recipe& recipe, const std::string& batch_key,
                                             const CancelToken* cancel = nullptr);

signals:
    void recipeChanged();
    void countsUpdated();
    void statusMessage(const QString& text);

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    friend class RecipeCommand;
    /// Called by the undo commands: shows the recipe everywhere and recounts.
    void assignRecipe(const Recipe& recipe);
    void push(const QString& text, const Recipe& after, const QString& merge_column = {});
    void fromQcPanel();
    void syncQcPanel();
    bool qcPanelShows(const std::string& column) const;
    void setStepEnabled(int step, bool enabled);
    void removeStep(int step);
    void setCategoryExclusion(const QString& column, const QStringList& excluded);
    void setGeneFilter(int min_cells, bool drop_mito, bool drop_ribo, bool drop_hb);
    void addSelectionStep(bool keep);
    QString choosePath(bool save);
    void scheduleCount();
    void startCount();
    void countFinished();

    widgets::RecipePanel* panel_;
    widgets::QcPanel* qc_;
    SelectionSync* selection_;
    EmbeddingController* embedding_;
    ErrorReporter* errors_;
    QWidget* window_;
    std::shared_ptr<const Cohort> cohort_;
    QString path_;
    QString batch_key_;
    Recipe recipe_;
    QUndoStack* stack_ = nullptr;
    QAction* undo_ = nullptr;
    QAction* redo_ = nullptr;
    QAction* load_ = nullptr;
    QAction* save_ = nullptr;
    std::function<QString(bool)> chooser_;
    bool syncing_ = false;  // the recipe is being shown in the QC panel: ignore its echo
    // Threshold drags: a press on a QC plot starts a session; changes within it merge.
    int drag_session_ = 0;
    bool button_held_ = false;
    // Counting.
    QTimer count_timer_;
    QFutureWatcher<RecipeCountJob> watcher_;
    std::shared_ptr<CancelToken> count_cancel_;
    uint64_t revision_ = 0;
    bool recount_ = false;
    // Set from start to the watcher's finished signal (isRunning() turns false before it).
    bool counting_ = false;
    widgets::RecipeCounts counts_;
};

}  // namespace transcura::shell
