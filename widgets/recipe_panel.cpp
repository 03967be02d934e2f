#include "recipe_panel.hpp"

#include <algorithm>
#include <set>

#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QToolButton>
#include <QVBoxLayout>

#include "obs_access.hpp"

namespace transcura::widgets {

namespace {

constexpr int kMaxCategories = 500;

QString percent(int64_t part, int64_t whole) {
    return whole > 0
               ? QString::number(100.0 * double(part) / double(whole), 'f', 1) + QLatin1Char('%')
               : QStringLiteral("0%");
}

QTableWidgetItem* number_item(int64_t value) {
    auto* item = new QTableWidgetItem(QStringLiteral("%L1").arg(value));
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    item->setFlags(Qt::ItemIsEnabled);
    return item;
}

/// core's describe(), with thresholds at 6 significant digits (the recipe keeps every digit).
QString describe_step(const RecipeStep& step) {
    if (const auto* t = step.as<ThresholdStep>()) {
        const QString column = QString::fromStdString(t->column);
        const auto number = [](double v) { return QString::number(v, 'g', 6); };
        if (t->min && t->max)
            return QStringLiteral("%1 \u2264 %2 \u2264 %3")
                .arg(number(*t->min), column, number(*t->max));
        if (t->min) return QStringLiteral("%1 \u2265 %2").arg(column, number(*t->min));
        if (t->max) return QStringLiteral("%1 \u2264 %2").arg(column, number(*t->max));
    }
    return QString::fromStdString(step.describe());
}

}  // namespace

RecipePanel::RecipePanel(QWidget* parent) : QWidget(parent) {
    // The content scrolls: in a short dock nothing is clipped.
    auto* content = new QWidget;
    auto* column = new QVBoxLayout(content);
    column->setContentsMargins(6, 6, 6, 6);

    // Undo, redo, load, save: a tool bar, so a narrow dock folds them into its extension menu.
    tools_ = new QToolBar(this);
    tools_->setIconSize(QSize(16, 16));
    tools_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);

    // Steps.
    auto* steps_box = new QGroupBox(tr("Recipe steps"), content);
    auto* steps_layout = new QVBoxLayout(steps_box);
    steps_ = new QListWidget(steps_box);
    steps_->setObjectName(QStringLiteral("recipeSteps"));
    steps_->setToolTip(tr("Applied from top to bottom; uncheck a step to disable it"));
    steps_->setMinimumHeight(fontMetrics().height() * 6);
    steps_->setAlternatingRowColors(true);
    steps_->setWordWrap(true);
    // Long steps wrap instead of scrolling sideways.
    steps_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    steps_->setResizeMode(QListView::Adjust);
    steps_->setTextElideMode(Qt::ElideNone);
    auto* hint = new QLabel(
        tr("Drag the threshold lines in Quality Control to add threshold steps."), steps_box);
    hint->setWordWrap(true);
    hint->setEnabled(false);
    remove_step_ = new QPushButton(tr("Remove step"), steps_box);
    remove_step_->setToolTip(tr("Remove the selected step from the recipe"));
    keep_selected_ = new QPushButton(tr("Keep selected"), steps_box);
    keep_selected_->setToolTip(tr("Add a step keeping only the cells selected in the embedding"));
    drop_selected_ = new QPushButton(tr("Drop selected"), steps_box);
    drop_selected_->setToolTip(tr("Add a step removing the cells selected in the embedding"));
    selection_label_ = new QLabel(steps_box);
    selection_label_->setWordWrap(true);
    auto* remove_row = new QHBoxLayout;
    remove_row->addWidget(hint, 1);
    remove_row->addWidget(remove_step_, 0, Qt::AlignTop);
    auto* step_buttons = new QHBoxLayout;
    step_buttons->addWidget(keep_selected_);
    step_buttons->addWidget(drop_selected_);
    step_buttons->addStretch(1);
    steps_layout->addWidget(steps_, 1);
    steps_layout->addLayout(remove_row);
    steps_layout->addWidget(selection_label_);
    steps_layout->addLayout(step_buttons);
    column->addWidget(steps_box, 2);
    // The counts right under the steps they follow (the box is built below).
    auto* counts_slot = new QVBoxLayout;
    counts_slot->setContentsMargins(0, 0, 0, 0);
    column->addLayout(counts_slot, 2);

    // Categories.
    auto* category_box = new QGroupBox(tr("Categories"), content);
    auto* category_layout = new QVBoxLayout(category_box);
    category_column_ = new QComboBox(category_box);
    category_column_->setObjectName(QStringLiteral("categoryColumn"));
    category_column_->setMinimumContentsLength(12);
    category_column_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    categories_ = new QListWidget(category_box);
    categories_->setObjectName(QStringLiteral("categoryValues"));
    categories_->setToolTip(tr("Unchecked categories are excluded"));
    categories_->setMinimumHeight(fontMetrics().height() * 5);
    auto* category_row = new QHBoxLayout;
    category_row->addWidget(new QLabel(tr("Column:"), category_box));
    category_row->addWidget(category_column_, 1);
    category_layout->addLayout(category_row);
    category_layout->addWidget(categories_, 1);
    auto* category_hint = new QLabel(tr("Uncheck a category to exclude its cells."), category_box);
    category_hint->setEnabled(false);
    category_hint->setWordWrap(true);
    category_layout->addWidget(category_hint);
    column->addWidget(category_box, 2);

    // Genes.
    auto* genes_box = new QGroupBox(tr("Genes"), content);
    auto* genes_layout = new QFormLayout(genes_box);
    min_cells_ = new QSpinBox(genes_box);
    min_cells_->setRange(0, 1000000);
    min_cells_->setKeyboardTracking(false);
    min_cells_->setSpecialValueText(tr("off"));
    min_cells_->setToolTip(tr("Drop genes detected in fewer of the remaining cells"));
    drop_mito_ = new QCheckBox(tr("Mitochondrial"), genes_box);
    drop_ribo_ = new QCheckBox(tr("Ribosomal"), genes_box);
    drop_hb_ = new QCheckBox(tr("Haemoglobin"), genes_box);
    // One per line: three side by side do not fit a narrow dock.
    auto* drop_row = new QVBoxLayout;
    drop_row->addWidget(drop_mito_);
    drop_row->addWidget(drop_ribo_);
    drop_row->addWidget(drop_hb_);
    genes_layout->addRow(tr("Min cells:"), min_cells_);
    genes_layout->addRow(tr("Drop:"), drop_row);
    column->addWidget(genes_box);

    // Counts.
    auto* counts_box = new QGroupBox(tr("Cells kept"), content);
    auto* counts_layout = new QVBoxLayout(counts_box);
    summary_ = new QLabel(counts_box);
    summary_->setObjectName(QStringLiteral("recipeSummary"));
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    summary_->setMinimumHeight(summary_->fontMetrics().lineSpacing() * 2 + 4);
    counts_table_ = new QTableWidget(0, 4, counts_box);
    counts_table_->setObjectName(QStringLiteral("recipeCounts"));
    counts_table_->setHorizontalHeaderLabels(
        {tr("Batch"), tr("Before"), tr("Kept"), tr("Removed")});
    counts_table_->verticalHeader()->hide();
    counts_table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    for (int c = 1; c < 4; ++c)
        counts_table_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    counts_table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    counts_table_->setSelectionMode(QAbstractItemView::NoSelection);
    issues_ = new QLabel(counts_box);
    issues_->setObjectName(QStringLiteral("recipeIssues"));
    issues_->setWordWrap(true);
    issues_->setTextFormat(Qt::RichText);
    issues_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    counts_layout->addWidget(summary_);
    counts_layout->addWidget(counts_table_, 1);
    counts_layout->addWidget(issues_);
    counts_slot->addWidget(counts_box);

    auto* scroll = new QScrollArea(this);
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(tools_);
    layout->addWidget(scroll, 1);

    connect(steps_, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
        const int row = steps_->row(item);
        if (row < 0 || row >= int(recipe_.steps.size())) return;
        const bool on = item->checkState() == Qt::Checked;
        if (on != recipe_.steps[size_t(row)].enabled) emit stepEnabledToggled(row, on);
    });
    connect(steps_, &QListWidget::currentRowChanged, this, [this] { updateButtons(); });
    // Delete (and the context menu) remove the current step too.
    auto* remove_action = new QAction(tr("Remove step"), steps_);
    remove_action->setShortcut(QKeySequence::Delete);
    remove_action->setShortcutContext(Qt::WidgetShortcut);
    steps_->addAction(remove_action);
    steps_->setContextMenuPolicy(Qt::ActionsContextMenu);
    connect(remove_action, &QAction::triggered, remove_step_, &QPushButton::click);
    connect(remove_step_, &QPushButton::clicked, this, [this] {
        const int row = steps_->currentRow();
        if (row >= 0 && row < int(recipe_.steps.size())) emit stepRemoveRequested(row);
    });
    connect(keep_selected_, &QPushButton::clicked, this, &RecipePanel::keepSelectedRequested);
    connect(drop_selected_, &QPushButton::clicked, this, &RecipePanel::dropSelectedRequested);
    connect(category_column_, &QComboBox::currentTextChanged, this,
            [this] { rebuildCategoryList(); });
    connect(categories_, &QListWidget::itemChanged, this, [this] { emitCategoryExclusion(); });
    connect(min_cells_, &QSpinBox::valueChanged, this, [this] { emitGeneFilter(); });
    for (QCheckBox* box : {drop_mito_, drop_ribo_, drop_hb_})
        connect(box, &QCheckBox::toggled, this, [this] { emitGeneFilter(); });

    setCohort(nullptr);
}

void RecipePanel::setToolActions(const QList<QAction*>& actions) {
    for (QAction* action : actions) {
        tools_->addAction(action);
        // Undo/redo carry the command in their text ("Undo Gene filter"): icons only here, the
        // text is in the tooltip and the Edit menu.
        const bool undo_redo = action->shortcut() == QKeySequence(QKeySequence::Undo) ||
                               action->shortcut() == QKeySequence(QKeySequence::Redo);
        if (undo_redo && !action->icon().isNull())
            if (auto* button = qobject_cast<QToolButton*>(tools_->widgetForAction(action)))
                button->setToolButtonStyle(Qt::ToolButtonIconOnly);
    }
}

void RecipePanel::setCohort(std::shared_ptr<const Cohort> cohort) {
    cohort_ = std::move(cohort);
    categories_cohort_ = nullptr;  // rebuild the category list (even at a reused address)
    const QString previous = categoryColumn();
    {
        const QSignalBlocker block(category_column_);
        category_column_->clear();
        if (cohort_)
            for (const Column& c : cohort_->obs.columns)
                if (!c.is_numeric() || c.type == ColumnType::Categorical)
                    if (has_categories(c, kMaxCategories))
                        category_column_->addItem(QString::fromStdString(c.name));
        int index = category_column_->findText(previous);
        if (index < 0 && cohort_)
            index = category_column_->findText(default_label_key(cohort_->obs));
        category_column_->setCurrentIndex(index >= 0 ? index
                                                     : (category_column_->count() ? 0 : -1));
    }
    rebuildCategoryList();
    setEnabled(cohort_ != nullptr);
    counts_ = RecipeCounts{};
    setCounts(counts_);
    updateButtons();
}

void RecipePanel::setCategoryColumn(const QString& column) {
    const int index = category_column_->findText(column);
    if (index >= 0) category_column_->setCurrentIndex(index);
}

QString RecipePanel::categoryColumn() const {
    return category_column_->currentText();
}

void RecipePanel::rebuildCategoryList() {
    const QSignalBlocker block(categories_);
    const QString name = categoryColumn();
    // Checked unless an enabled exclude step on this column names it.
    std::set<std::string> excluded;
    for (const RecipeStep& step : recipe_.steps)
        if (const auto* c = step.as<CategoryStep>();
            c && step.enabled && !c->include && c->column == name.toStdString())
            excluded.insert(c->values.begin(), c->values.end());
    // Same column and cohort: update the checks in place. The recipe changes while the list
    // is emitting itemChanged for one of these items, which must not be deleted under it.
    if (cohort_.get() == categories_cohort_ && name == categories_column_ && !name.isEmpty()) {
        for (int i = 0; i < categories_->count(); ++i) {
            QListWidgetItem* item = categories_->item(i);
            const bool out = excluded.count(item->data(Qt::UserRole).toString().toStdString());
            item->setCheckState(out ? Qt::Unchecked : Qt::Checked);
        }
        return;
    }
    categories_->clear();
    categories_cohort_ = cohort_.get();
    categories_column_ = name;
    if (!cohort_ || name.isEmpty()) return;
    const Column* column = cohort_->obs.find(name.toStdString());
    if (!column) return;
    auto categories = as_categories(*column, kMaxCategories);
    if (!categories) return;
    std::vector<int64_t> sizes(size_t(categories->names.size()), 0);
    for (int32_t code : categories->codes)
        if (code >= 0) ++sizes[size_t(code)];
    for (int i = 0; i < categories->names.size(); ++i) {
        const QString& value = categories->names[i];
        auto* item = new QListWidgetItem(
            QStringLiteral("%1  (%L2)").arg(value).arg(sizes[size_t(i)]), categories_);
        item->setData(Qt::UserRole, value);
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsSelectable);
        item->setCheckState(excluded.count(value.toStdString()) ? Qt::Unchecked : Qt::Checked);
    }
}

void RecipePanel::emitCategoryExclusion() {
    QStringList excluded;
    for (int i = 0; i < categories_->count(); ++i)
        if (categories_->item(i)->checkState() != Qt::Checked)
            excluded << categories_->item(i)->data(Qt::UserRole).toString();
    emit categoryExclusionChanged(categoryColumn(), excluded);
}

void RecipePanel::emitGeneFilter() {
    emit geneFilterChanged(min_cells_->value(), drop_mito_->isChecked(), drop_ribo_->isChecked(),
                           drop_hb_->isChecked());
}

void RecipePanel::setRecipe(const Recipe& recipe) {
    recipe_ = recipe;
    const int current = steps_->currentRow();
    {
        // Items are reused, never deleted while one of them may be emitting itemChanged.
        const QSignalBlocker block(steps_);
        while (steps_->count() > int(recipe_.steps.size()))
            delete steps_->takeItem(steps_->count() - 1);
        while (steps_->count() < int(recipe_.steps.size())) {
            auto* item = new QListWidgetItem(steps_);
            item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable | Qt::ItemIsSelectable);
        }
        for (int i = 0; i < steps_->count(); ++i)
            steps_->item(i)->setCheckState(recipe_.steps[size_t(i)].enabled ? Qt::Checked
                                                                            : Qt::Unchecked);
        steps_->setCurrentRow(std::min(current, steps_->count() - 1));
    }
    refreshStepTexts();
    rebuildCategoryList();
    // The gene filter shows the first enabled genes step.
    GeneFilterStep genes;
    for (const RecipeStep& step : recipe_.steps)
        if (const auto* g = step.as<GeneFilterStep>(); g && step.enabled) {
            genes = *g;
            break;
        }
    {
        const QSignalBlocker b1(min_cells_), b2(drop_mito_), b3(drop_ribo_), b4(drop_hb_);
        min_cells_->setValue(int(std::min<int64_t>(genes.min_cells, min_cells_->maximum())));
        drop_mito_->setChecked(genes.drop_mito);
        drop_ribo_->setChecked(genes.drop_ribo);
        drop_hb_->setChecked(genes.drop_hb);
    }
    updateButtons();
}

void RecipePanel::refreshStepTexts() {
    const QSignalBlocker block(steps_);
    for (int i = 0; i < steps_->count() && i < int(recipe_.steps.size()); ++i) {
        const RecipeStep& step = recipe_.steps[size_t(i)];
        QString text = QStringLiteral("%1. %2").arg(i + 1).arg(describe_step(step));
        if (!step.label.empty())
            text += QStringLiteral(" \u2014 ") + QString::fromStdString(step.label);
        QString effect;
        if (counts_.valid && size_t(i) < counts_.step_cells_removed.size() &&
            counts_.step_cells_removed[size_t(i)] >= 0) {
            const int64_t cells = counts_.step_cells_removed[size_t(i)];
            const int64_t genes = counts_.step_genes_removed[size_t(i)];
            effect = step.as<GeneFilterStep>() ? tr("\u2212%L1 genes").arg(genes)
                                               : tr("\u2212%L1 cells").arg(cells);
        } else if (!step.enabled) {
            effect = tr("disabled");
        }
        if (!effect.isEmpty()) text += QStringLiteral("   [") + effect + QLatin1Char(']');
        steps_->item(i)->setText(text);
        steps_->item(i)->setToolTip(QString::fromStdString(step.to_json().dump(2)));
    }
}

void RecipePanel::setCountsPending(bool pending) {
    pending_ = pending;
    summary_->setText(countsText());
}

void RecipePanel::setCounts(const RecipeCounts& counts) {
    counts_ = counts;
    pending_ = false;
    summary_->setText(countsText());
    counts_table_->setRowCount(0);
    counts_table_->setVisible(counts_.valid);  // no empty table beside an error
    if (counts_.valid) {
        const int n = int(counts_.batch_names.size());
        counts_table_->setRowCount(n + 1);
        auto fill = [this](int row, const QString& name, int64_t before, int64_t after) {
            auto* label = new QTableWidgetItem(name);
            label->setFlags(Qt::ItemIsEnabled);
            counts_table_->setItem(row, 0, label);
            counts_table_->setItem(row, 1, number_item(before));
            counts_table_->setItem(row, 2, number_item(after));
            counts_table_->setItem(row, 3, number_item(before - after));
        };
        for (int b = 0; b < n; ++b)
            fill(b, counts_.batch_names[b], counts_.batch_before[size_t(b)],
                 counts_.batch_after[size_t(b)]);
        fill(n, tr("All cells"), counts_.cells_before, counts_.cells_after);
        QFont bold = counts_table_->font();
        bold.setBold(true);
        for (int c = 0; c < 4; ++c) counts_table_->item(n, c)->setFont(bold);
        counts_table_->resizeRowsToContents();
    }
    {
        // As tall as its rows (a few batches): no empty space pushing the filters down.
        int height = counts_table_->horizontalHeader()->sizeHint().height() +
                     2 * counts_table_->frameWidth() + 2;
        for (int row = 0; row < counts_table_->rowCount(); ++row)
            height += counts_table_->rowHeight(row);
        counts_table_->setFixedHeight(
            std::min(std::max(height, fontMetrics().height() * 4), fontMetrics().height() * 16));
    }
    QStringList lines;
    if (!counts_.error.isEmpty())
        lines << QStringLiteral("<span style='color:#b00020'>%1</span>")
                     .arg(counts_.error.toHtmlEscaped().replace(QLatin1Char('\n'),
                                                                QStringLiteral("<br>")));
    for (const QString& warning : counts_.warnings)
        lines
            << QStringLiteral("<span style='color:#8a5a00'>%1</span>").arg(warning.toHtmlEscaped());
    issues_->setText(lines.join(QStringLiteral("<br>")));
    issues_->setVisible(!lines.isEmpty());
    refreshStepTexts();
}

QString RecipePanel::countsText() const {
    if (!cohort_) return tr("No cohort loaded.");
    if (pending_) return tr("Counting\u2026");
    if (!counts_.valid)
        return counts_.error.isEmpty() ? tr("Not counted yet.")
                                       : tr("The recipe cannot be applied.");
    return tr("%L1 of %L2 cells kept (%3 removed)\n%L4 of %L5 genes kept")
        .arg(counts_.cells_after)
        .arg(counts_.cells_before)
        .arg(percent(counts_.cells_before - counts_.cells_after, counts_.cells_before))
        .arg(counts_.genes_after)
        .arg(counts_.genes_before);
}

void RecipePanel::setSelectionSize(int64_t cells) {
    selection_size_ = cells;
    selection_label_->setText(cells > 0 ? tr("%L1 cells selected in the embedding").arg(cells)
                                        : tr("Select cells in the embedding (lasso or box) to "
                                             "keep or drop them."));
    updateButtons();
}

void RecipePanel::updateButtons() {
    keep_selected_->setEnabled(cohort_ && selection_size_ > 0);
    drop_selected_->setEnabled(cohort_ && selection_size_ > 0);
    remove_step_->setEnabled(steps_->currentRow() >= 0 &&
                             steps_->currentRow() < int(recipe_.steps.size()));
}

}  // namespace transcura::widgets
