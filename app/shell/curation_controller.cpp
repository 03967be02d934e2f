#include "curation_controller.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QStyle>
#include <QUndoCommand>
#include <QtConcurrent/QtConcurrentRun>

#include "background_pool.hpp"
#include "embedding_controller.hpp"
#include "error_reporter.hpp"
#include "qc_panel.hpp"
#include "selection_sync.hpp"
#include "transcura/errors.hpp"

namespace transcura::shell {

namespace {

constexpr int kThresholdCommandId = 6001;
constexpr int kCountDelayMs = 120;

std::optional<double> bound(double value) {
    return std::isnan(value) ? std::nullopt : std::optional<double>(value);
}
double unbound(const std::optional<double>& value) {
    return value ? *value : std::numeric_limits<double>::quiet_NaN();
}
bool same_bound(double a, double b) {
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

/// Index of the first enabled threshold step on `column`, or -1.
int first_threshold(const Recipe& recipe, const std::string& column) {
    for (size_t i = 0; i < recipe.steps.size(); ++i)
        if (const auto* t = recipe.steps[i].as<ThresholdStep>();
            t && recipe.steps[i].enabled && t->column == column)
            return int(i);
    return -1;
}

/// Convex hull (monotone chain) of the selected cells in the first two coordinates: the
/// selection's polygon, kept as provenance beside the resolved cell names.
std::vector<std::pair<double, double>> hull(std::vector<std::pair<double, double>> points) {
    std::sort(points.begin(), points.end());
    points.erase(std::unique(points.begin(), points.end()), points.end());
    if (points.size() < 3) return points;
    auto cross = [](const auto& o, const auto& a, const auto& b) {
        return (a.first - o.first) * (b.second - o.second) -
               (a.second - o.second) * (b.first - o.first);
    };
    std::vector<std::pair<double, double>> out(2 * points.size());
    size_t k = 0;
    for (size_t i = 0; i < points.size(); ++i) {
        while (k >= 2 && cross(out[k - 2], out[k - 1], points[i]) <= 0) --k;
        out[k++] = points[i];
    }
    for (size_t i = points.size() - 1, t = k + 1; i > 0; --i) {
        while (k >= t && cross(out[k - 2], out[k - 1], points[i - 1]) <= 0) --k;
        out[k++] = points[i - 1];
    }
    out.resize(k - 1);
    return out;
}

}  // namespace

/// One edit of the recipe: the whole recipe before and after.
class RecipeCommand : public QUndoCommand {
public:
    RecipeCommand(CurationController* owner, const QString& text, Recipe before, Recipe after,
                  QString merge_column, int session)
        : QUndoCommand(text),
          owner_(owner),
          before_(std::move(before)),
          after_(std::move(after)),
          column_(std::move(merge_column)),
          session_(session) {}
    void undo() override { owner_->assignRecipe(before_); }
    void redo() override { owner_->assignRecipe(after_); }
    int id() const override {
        return column_.isEmpty() || session_ == 0 ? -1 : kThresholdCommandId;
    }
    bool mergeWith(const QUndoCommand* other) override {
        const auto* next = static_cast<const RecipeCommand*>(other);
        if (next->column_ != column_ || next->session_ != session_) return false;
        after_ = next->after_;
        setObsolete(after_ == before_);
        return true;
    }

private:
    CurationController* owner_;
    Recipe before_, after_;
    QString column_;
    int session_;
};

CurationController::CurationController(widgets::RecipePanel* panel, widgets::QcPanel* qc,
                                       SelectionSync* selection, EmbeddingController* embedding,
                                       ErrorReporter* errors, QWidget* window, QObject* parent)
    : QObject(parent),
      panel_(panel),
      qc_(qc),
      selection_(selection),
      embedding_(embedding),
      errors_(errors),
      window_(window) {
    stack_ = new QUndoStack(this);
    undo_ = stack_->createUndoAction(this, tr("&Undo"));
    undo_->setShortcut(QKeySequence::Undo);
    redo_ = stack_->createRedoAction(this, tr("&Redo"));
    redo_->setShortcut(QKeySequence::Redo);
    load_ = new QAction(tr("&Load Recipe\u2026"), this);
    load_->setToolTip(tr("Replace the curation recipe by one from a JSON file"));
    save_ = new QAction(tr("&Save Recipe\u2026"), this);
    save_->setToolTip(tr("Save the curation recipe as JSON (replay it with transcura-cli export)"));
    const QStyle* style = window_->style();
    undo_->setIcon(
        QIcon::fromTheme(QStringLiteral("edit-undo"), style->standardIcon(QStyle::SP_ArrowBack)));
    redo_->setIcon(QIcon::fromTheme(QStringLiteral("edit-redo"),
                                    style->standardIcon(QStyle::SP_ArrowForward)));
    load_->setIcon(QIcon::fromTheme(QStringLiteral("document-open"),
                                    style->standardIcon(QStyle::SP_DialogOpenButton)));
    save_->setIcon(QIcon::fromTheme(QStringLiteral("document-save"),
                                    style->standardIcon(QStyle::SP_DialogSaveButton)));
    load_->setIconText(tr("Load"));
    save_->setIconText(tr("Save"));
    connect(load_, &QAction::triggered, this, [this] {
        const QString path = choosePath(false);
        if (!path.isEmpty()) loadRecipe(path);
    });
    connect(save_, &QAction::triggered, this, [this] {
        const QString path = choosePath(true);
        if (!path.isEmpty()) saveRecipe(path);
    });
    load_->setEnabled(false);

    count_timer_.setSingleShot(true);
    count_timer_.setInterval(kCountDelayMs);
    connect(&count_timer_, &QTimer::timeout, this, &CurationController::startCount);
    connect(&watcher_, &QFutureWatcher<RecipeCountJob>::finished, this,
            &CurationController::countFinished);

    connect(qc_, &widgets::QcPanel::thresholdsChanged, this, &CurationController::fromQcPanel);
    connect(qc_, &widgets::QcPanel::batchKeyChanged, this, [this](const QString& key) {
        batch_key_ = key;
        scheduleCount();
    });
    qc_->distribution()->installEventFilter(this);
    qc_->scatter()->installEventFilter(this);

    connect(panel_, &widgets::RecipePanel::stepEnabledToggled, this,
            &CurationController::setStepEnabled);
    connect(panel_, &widgets::RecipePanel::stepRemoveRequested, this,
            &CurationController::removeStep);
    connect(panel_, &widgets::RecipePanel::categoryExclusionChanged, this,
            &CurationController::setCategoryExclusion);
    connect(panel_, &widgets::RecipePanel::geneFilterChanged, this,
            &CurationController::setGeneFilter);
    connect(panel_, &widgets::RecipePanel::keepSelectedRequested, this,
            &CurationController::keepSelected);
    connect(panel_, &widgets::RecipePanel::dropSelectedRequested, this,
            &CurationController::dropSelected);
    connect(selection_, &SelectionSync::selectionChanged, this,
            [this] { panel_->setSelectionSize(int64_t(selection_->selection().size())); });
    panel_->setToolActions({undo_, redo_, load_, save_});
    panel_->setSelectionSize(0);
}

CurationController::~CurationController() {
    if (count_cancel_) count_cancel_->cancel();
    watcher_.waitForFinished();
}

void CurationController::setCohort(std::shared_ptr<const Cohort> cohort, const QString& path) {
    cohort_ = std::move(cohort);
    path_ = cohort_ ? path : QString();
    batch_key_ = qc_->batchKey();
    panel_->setCohort(cohort_);
    panel_->setRecipe(recipe_);
    panel_->setSelectionSize(int64_t(selection_->selection().size()));
    load_->setEnabled(cohort_ != nullptr);
    counts_ = {};
    syncQcPanel();
    scheduleCount();
}

bool CurationController::eventFilter(QObject* watched, QEvent* event) {
    switch (event->type()) {
        case QEvent::MouseButtonPress:
        case QEvent::MouseButtonDblClick:
            ++drag_session_;
            button_held_ = true;
            break;
        case QEvent::MouseButtonRelease:
            button_held_ = false;
            break;
        default:
            break;
    }
    return QObject::eventFilter(watched, event);
}

void CurationController::push(const QString& text, const Recipe& after,
                              const QString& merge_column) {
    if (after == recipe_) return;
    const int session = !merge_column.isEmpty() && button_held_ ? drag_session_ : 0;
    stack_->push(new RecipeCommand(this, text, recipe_, after, merge_column, session));
}

void CurationController::replaceRecipe(const Recipe& recipe, const QString& text) {
    push(text, recipe);
}

void CurationController::assignRecipe(const Recipe& recipe) {
    recipe_ = recipe;
    panel_->setRecipe(recipe_);
    syncQcPanel();
    scheduleCount();
    emit recipeChanged();
}

bool CurationController::qcPanelShows(const std::string& column) const {
    if (!cohort_) return false;
    const Column* c = cohort_->obs.find(column);
    return c && c->is_numeric() && c->type != ColumnType::Bool;
}

void CurationController::syncQcPanel() {
    syncing_ = true;
    std::map<QString, widgets::QcPanel::Threshold> wanted;
    for (const RecipeStep& step : recipe_.steps)
        if (const auto* t = step.as<ThresholdStep>();
            t && step.enabled && qcPanelShows(t->column)) {
            const QString name = QString::fromStdString(t->column);
            if (!wanted.count(name)) wanted[name] = {unbound(t->min), unbound(t->max)};
        }
    for (const auto& [name, shown] : qc_->thresholds())
        if (!wanted.count(name)) qc_->setThreshold(name, std::nan(""), std::nan(""));
    const auto shown = qc_->thresholds();
    for (const auto& [name, t] : wanted) {
        auto it = shown.find(name);
        if (it == shown.end() || !same_bound(it->second.lower, t.lower) ||
            !same_bound(it->second.upper, t.upper))
            qc_->setThreshold(name, t.lower, t.upper);
    }
    syncing_ = false;
}

void CurationController::fromQcPanel() {
    if (syncing_ || !cohort_) return;
    const auto shown = qc_->thresholds();
    Recipe after = recipe_;
    QStringList changed;
    for (const auto& [name, t] : shown) {
        const std::string column = name.toStdString();
        const int index = first_threshold(after, column);
        if (index < 0) {
            RecipeStep step;
            step.payload = ThresholdStep{column, bound(t.lower), bound(t.upper)};
            after.steps.push_back(std::move(step));
            changed << name;
        } else if (auto* step = after.steps[size_t(index)].as<ThresholdStep>();
                   !same_bound(unbound(step->min), t.lower) ||
                   !same_bound(unbound(step->max), t.upper)) {
            step->min = bound(t.lower);
            step->max = bound(t.upper);
            changed << name;
        }
    }
    // Thresholds removed in the plots remove their step.
    for (int i = int(after.steps.size()) - 1; i >= 0; --i) {
        const RecipeStep& step = after.steps[size_t(i)];
        const auto* t = step.as<ThresholdStep>();
        if (!t || !step.enabled || !qcPanelShows(t->column)) continue;
        const QString name = QString::fromStdString(t->column);
        if (!shown.count(name) && first_threshold(after, t->column) == i) {
            after.steps.erase(after.steps.begin() + i);
            changed << name;
        }
    }
    if (changed.isEmpty()) return;
    push(tr("Threshold on %1").arg(changed.join(QStringLiteral(", "))), after,
         changed.size() == 1 ? changed.first() : QString());
}

void CurationController::setStepEnabled(int step, bool enabled) {
    if (step < 0 || step >= int(recipe_.steps.size())) return;
    Recipe after = recipe_;
    after.steps[size_t(step)].enabled = enabled;
    push(enabled ? tr("Enable step %1").arg(step + 1) : tr("Disable step %1").arg(step + 1), after);
}

void CurationController::removeStep(int step) {
    if (step < 0 || step >= int(recipe_.steps.size())) return;
    Recipe after = recipe_;
    after.steps.erase(after.steps.begin() + step);
    push(tr("Remove step %1").arg(step + 1), after);
}

void CurationController::setCategoryExclusion(const QString& column, const QStringList& excluded) {
    const std::string name = column.toStdString();
    Recipe after = recipe_;
    // One exclude step per column reflects the checkboxes: it replaces the enabled ones.
    int first = -1;
    for (int i = int(after.steps.size()) - 1; i >= 0; --i) {
        const RecipeStep& step = after.steps[size_t(i)];
        if (const auto* c = step.as<CategoryStep>();
            c && step.enabled && !c->include && c->column == name) {
            after.steps.erase(after.steps.begin() + i);
            first = i;
        }
    }
    if (!excluded.isEmpty()) {
        RecipeStep step;
        CategoryStep exclude{name, {}, false};
        for (const QString& value : excluded) exclude.values.push_back(value.toStdString());
        step.payload = std::move(exclude);
        after.steps.insert(first >= 0 ? after.steps.begin() + first : after.steps.end(),
                           std::move(step));
    }
    push(excluded.isEmpty() ? tr("Include all of %1").arg(column)
                            : tr("Exclude %1: %2").arg(column, excluded.join(QStringLiteral(", "))),
         after);
}

void CurationController::setGeneFilter(int min_cells, bool drop_mito, bool drop_ribo,
                                       bool drop_hb) {
    Recipe after = recipe_;
    auto it = std::find_if(after.steps.begin(), after.steps.end(),
                           [](const RecipeStep& s) { return s.enabled && s.as<GeneFilterStep>(); });
    GeneFilterStep genes = it != after.steps.end() ? *it->as<GeneFilterStep>() : GeneFilterStep{};
    genes.min_cells = min_cells;
    genes.drop_mito = drop_mito;
    genes.drop_ribo = drop_ribo;
    genes.drop_hb = drop_hb;
    const bool no_effect = genes.min_cells == 0 && !genes.drop_mito && !genes.drop_ribo &&
                           !genes.drop_hb && genes.keep.empty() && genes.drop.empty();
    if (it != after.steps.end()) {
        if (no_effect)
            after.steps.erase(it);
        else
            it->payload = genes;
    } else if (!no_effect) {
        RecipeStep step;
        step.payload = genes;
        after.steps.push_back(std::move(step));
    }
    push(tr("Gene filter"), after);
}

void CurationController::addSelectionStep(bool keep) {
    const std::vector<int64_t>& cells = selection_->selection();
    if (!cohort_ || cells.empty()) return;
    SelectionStep selection;
    int number = 1;
    for (const RecipeStep& step : recipe_.steps)
        if (step.as<SelectionStep>()) ++number;
    selection.name = tr("selection %1").arg(number).toStdString();
    selection.keep = keep;
    selection.cells.emplace();
    selection.cells->reserve(cells.size());
    for (int64_t cell : cells) selection.cells->push_back(cohort_->obs_names[size_t(cell)]);
    const std::string key = embedding_->embeddingKey().toStdString();
    if (auto it = cohort_->obsm.find(key); it != cohort_->obsm.end() && it->second.n_cols >= 2) {
        selection.embedding = key;
        std::vector<std::pair<double, double>> points;
        points.reserve(cells.size());
        for (int64_t cell : cells) points.emplace_back(it->second(cell, 0), it->second(cell, 1));
        selection.polygon = hull(std::move(points));
    }
    Recipe after = recipe_;
    RecipeStep step;
    step.payload = std::move(selection);
    after.steps.push_back(std::move(step));
    push(keep ? tr("Keep %L1 selected cells").arg(cells.size())
              : tr("Drop %L1 selected cells").arg(cells.size()),
         after);
}

QString CurationController::choosePath(bool save) {
    if (chooser_) return chooser_(save);
    const QString filter = tr("Curation recipes (*.json);;All files (*)");
    return save ? QFileDialog::getSaveFileName(window_, tr("Save Recipe"),
                                               QStringLiteral("recipe.json"), filter)
                : QFileDialog::getOpenFileName(window_, tr("Load Recipe"), {}, filter);
}

bool CurationController::loadRecipe(const QString& path) {
    try {
        const Recipe loaded = Recipe::load(path.toStdString());
        replaceRecipe(loaded, tr("Load recipe %1").arg(QFileInfo(path).fileName()));
        emit statusMessage(tr("Loaded %1 (%n step(s))", nullptr, int(loaded.steps.size()))
                               .arg(QFileInfo(path).fileName()));
        return true;
    } catch (const std::exception& error) {
        errors_->report(tr("Cannot load recipe"),
                        tr("Could not load %1.").arg(QFileInfo(path).fileName()),
                        QString::fromUtf8(error.what()));
        return false;
    }
}

bool CurationController::saveRecipe(const QString& path) {
    try {
        recipe_.save(path.toStdString(), true);
        stack_->setClean();
        emit statusMessage(tr("Saved %1").arg(QFileInfo(path).fileName()));
        return true;
    } catch (const std::exception& error) {
        errors_->report(tr("Cannot save recipe"),
                        tr("Could not save %1.").arg(QFileInfo(path).fileName()),
                        QString::fromUtf8(error.what()));
        return false;
    }
}

// ------------------------------------------------------------------------------- counting

bool CurationController::countsPending() const {
    return count_timer_.isActive() || counting_ || recount_;
}

void CurationController::scheduleCount() {
    ++revision_;
    if (!cohort_) return;
    panel_->setCountsPending(true);
    count_timer_.start();
}

void CurationController::startCount() {
    if (!cohort_) return;
    if (counting_) {
        // Stale: stop it and count again when it has stopped.
        recount_ = true;
        if (count_cancel_) count_cancel_->cancel();
        return;
    }
    recount_ = false;
    counting_ = true;
    count_cancel_ = std::make_shared<CancelToken>();
    watcher_.setFuture(widgets::run_in_background([cohort = cohort_, recipe = recipe_,
                                                   key = batch_key_.toStdString(),
                                                   cancel = count_cancel_, revision = revision_]() {
        RecipeCountJob job;
        job.revision = revision;
        try {
            job.counts = countRecipe(cohort, recipe, key, cancel.get());
        } catch (const Cancelled&) {
            job.cancelled = true;
        }
        return job;
    }));
}

void CurationController::countFinished() {
    counting_ = false;
    const RecipeCountJob job = watcher_.result();
    if (recount_ || job.cancelled || job.revision != revision_) {
        recount_ = false;
        if (!count_timer_.isActive()) startCount();
        return;
    }
    counts_ = job.counts;
    panel_->setCounts(counts_);
    emit countsUpdated();
}

widgets::RecipeCounts CurationController::countRecipe(std::shared_ptr<const Cohort> cohort,
                                                      const Recipe& recipe,
                                                      const std::string& batch_key,
                                                      const CancelToken* cancel) {
    widgets::RecipeCounts out;
    out.batch_key = QString::fromStdString(batch_key);
    out.cells_before = cohort->n_obs();
    out.genes_before = cohort->n_vars();
    try {
        for (const RecipeIssue& issue : validate_recipe(recipe, *cohort))
            if (issue.severity == RecipeIssue::Severity::Warning)
                out.warnings << QString::fromStdString(issue.message);
        ApplyRecipeOptions options;
        options.batch_key = batch_key;
        options.control.cancel = cancel;
        const ApplyRecipeResults applied = apply_recipe(cohort, recipe, options);
        out.valid = true;
        out.cells_after = applied.view.n_obs();
        out.genes_after = applied.view.n_vars();
        for (const std::string& name : applied.batch_names)
            out.batch_names << QString::fromStdString(name);
        out.batch_before = applied.cells_per_batch_before;
        out.batch_after = applied.cells_per_batch_after;
        out.step_cells_removed.assign(recipe.steps.size(), -1);
        out.step_genes_removed.assign(recipe.steps.size(), -1);
        for (const StepReport& report : applied.steps)
            if (report.enabled && report.step < recipe.steps.size()) {
                out.step_cells_removed[report.step] = report.cells_removed();
                out.step_genes_removed[report.step] = report.genes_removed();
            }
    } catch (const Cancelled&) {
        throw;
    } catch (const std::exception& error) {
        out.valid = false;
        out.error = QString::fromUtf8(error.what());
    }
    return out;
}

}  // namespace transcura::shell
