#pragma once
// The curation (filter) panel: shows a transcura::Recipe as a list of steps (enable/disable,
// remove), category checkboxes for a categorical obs column (unchecked = excluded), the gene
// filter, "keep/drop selected" for the embedding's selection, and the live counts per batch.
// It edits nothing itself: every user intent is a signal, the shell turns it into an undoable
// change of the recipe and hands the recipe and core's counts back (setRecipe, setCounts).
#include <cstdint>
#include <memory>
#include <vector>

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QToolBar>
#include <QWidget>

#include "transcura/cohort.hpp"
#include "transcura/recipe.hpp"

namespace transcura::widgets {

/// What core's apply_recipe / validate_recipe said about the current recipe, as plain values.
struct RecipeCounts {
    bool valid = false;  // false: nothing counted yet, or `error`
    QString error;       // the recipe cannot be applied (the message names the problem)
    QStringList warnings;
    int64_t cells_before = 0, cells_after = 0;
    int64_t genes_before = 0, genes_after = 0;
    QString batch_key;
    QStringList batch_names;
    std::vector<int64_t> batch_before, batch_after;
    /// Per recipe step (index in recipe.steps): cells and genes it removed; -1 = not applied.
    std::vector<int64_t> step_cells_removed, step_genes_removed;
};

class RecipePanel : public QWidget {
    Q_OBJECT
public:
    explicit RecipePanel(QWidget* parent = nullptr);

    /// The categorical obs columns offered for include/exclude.
    void setCohort(std::shared_ptr<const Cohort> cohort);
    /// Shows the recipe (steps, category checks, gene filter). Does not emit.
    void setRecipe(const Recipe& recipe);
    void setCounts(const RecipeCounts& counts);
    /// "Counting…" while core recounts.
    void setCountsPending(bool pending);
    /// Enables "Keep selected" / "Drop selected".
    void setSelectionSize(int64_t cells);
    /// Buttons at the top (undo, redo, load, save, export): the shell's actions.
    void setToolActions(const QList<QAction*>& actions);

    void setCategoryColumn(const QString& column);
    QString categoryColumn() const;
    /// Text of the counts summary line (tests, screenshots).
    QString countsText() const;

    QListWidget* stepList() const { return steps_; }
    QComboBox* categoryColumnBox() const { return category_column_; }
    QListWidget* categoryList() const { return categories_; }
    QSpinBox* minCellsBox() const { return min_cells_; }
    QCheckBox* dropMitoBox() const { return drop_mito_; }
    QCheckBox* dropRiboBox() const { return drop_ribo_; }
    QCheckBox* dropHbBox() const { return drop_hb_; }
    QPushButton* keepSelectedButton() const { return keep_selected_; }
    QPushButton* dropSelectedButton() const { return drop_selected_; }
    QPushButton* removeStepButton() const { return remove_step_; }
    QTableWidget* countsTable() const { return counts_table_; }

signals:
    void stepEnabledToggled(int step, bool enabled);
    void stepRemoveRequested(int step);
    /// The values of `column` left unchecked (empty = exclude nothing).
    void categoryExclusionChanged(const QString& column, const QStringList& excluded);
    void geneFilterChanged(int min_cells, bool drop_mito, bool drop_ribo, bool drop_hb);
    void keepSelectedRequested();
    void dropSelectedRequested();

private:
    void rebuildCategoryList();
    void refreshStepTexts();
    void emitCategoryExclusion();
    void emitGeneFilter();
    void updateButtons();

    std::shared_ptr<const Cohort> cohort_;
    Recipe recipe_;
    RecipeCounts counts_;
    int64_t selection_size_ = 0;
    bool pending_ = false;
    const Cohort* categories_cohort_ = nullptr;  // what the category list was built for
    QString categories_column_;

    QToolBar* tools_ = nullptr;
    QListWidget* steps_ = nullptr;
    QPushButton* remove_step_ = nullptr;
    QPushButton* keep_selected_ = nullptr;
    QPushButton* drop_selected_ = nullptr;
    QLabel* selection_label_ = nullptr;
    QComboBox* category_column_ = nullptr;
    QListWidget* categories_ = nullptr;
    QSpinBox* min_cells_ = nullptr;
    QCheckBox* drop_mito_ = nullptr;
    QCheckBox* drop_ribo_ = nullptr;
    QCheckBox* drop_hb_ = nullptr;
    QLabel* summary_ = nullptr;
    QTableWidget* counts_table_ = nullptr;
    QLabel* issues_ = nullptr;
};

}  // namespace transcura::widgets
