#include "cohort_table.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <parallel/algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QLoggingCategory>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QSignalBlocker>
#include <QTableView>
#include <QVBoxLayout>

#include "later_turn.hpp"

namespace transcura::widgets {

// QT_LOGGING_RULES="transcura.table.debug=true": what setting a cohort and each chunk cost.
Q_LOGGING_CATEGORY(lcCohortTable, "transcura.table", QtWarningMsg)

// ------------------------------------------------------------------------------------ model

ObsTableModel::ObsTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void ObsTableModel::setCohort(std::shared_ptr<const Cohort> cohort) {
    QElapsedTimer timer;
    timer.start();
    const auto logged = qScopeGuard([&] {
        qCDebug(lcCohortTable, "reset to %d rows: %.1f ms", rows_, timer.nsecsElapsed() / 1e6);
    });
    beginResetModel();
    cohort_ = std::move(cohort);
    const int n = cohort_ ? static_cast<int>(cohort_->n_obs()) : 0;
    rows_ = chunk_rows_ > 0 ? std::min(n, chunk_rows_) : n;
    const int generation = ++fill_generation_;
    highlighted_.clear();
    order_.clear();
    rank_.clear();
    endResetModel();
    if (rows_ < n) {
        in_a_later_turn(this, [this, generation] {
            if (generation == fill_generation_) fillNextChunk();
        });
    }
}

bool ObsTableModel::isFilling() const {
    return cohort_ && rows_ < cohort_->n_obs();
}

void ObsTableModel::fillNextChunk() {
    if (!isFilling()) return;
    const int n = static_cast<int>(cohort_->n_obs());
    const int end = chunk_rows_ > 0 ? std::min(n, rows_ + chunk_rows_) : n;
    QElapsedTimer timer;
    timer.start();
    beginInsertRows({}, rows_, end - 1);
    rows_ = end;
    endInsertRows();
    qCDebug(lcCohortTable, "rows to %d: %.1f ms", end, timer.nsecsElapsed() / 1e6);
    emit rowsFilled(rows_);
    if (rows_ < n) {
        const int generation = fill_generation_;
        in_a_later_turn(this, [this, generation] {
            if (generation == fill_generation_) fillNextChunk();
        });
    } else {
        emit filled();
    }
}

void ObsTableModel::finishFilling() {
    if (!isFilling()) return;
    const int chunk = chunk_rows_;
    chunk_rows_ = 0;  // the rest in one insertion
    fillNextChunk();
    chunk_rows_ = chunk;
}

void ObsTableModel::setHighlighted(const std::vector<int64_t>& cells) {
    if (!cohort_) return;
    highlighted_.clear();
    if (!cells.empty()) {
        highlighted_.assign(static_cast<size_t>(cohort_->n_obs()), 0);
        for (int64_t cell : cells)
            if (cell >= 0 && cell < cohort_->n_obs()) highlighted_[static_cast<size_t>(cell)] = 1;
    }
    if (rowCount() > 0)
        emit dataChanged(index(0, 0), index(rowCount() - 1, columnCount() - 1),
                         {Qt::BackgroundRole});
}

bool ObsTableModel::isCellHighlighted(int64_t cell) const {
    return !highlighted_.empty() && cell >= 0 && static_cast<size_t>(cell) < highlighted_.size() &&
           highlighted_[static_cast<size_t>(cell)];
}

int64_t ObsTableModel::cellAt(int row) const {
    return order_.empty() ? row : order_[static_cast<size_t>(row)];
}

int ObsTableModel::rowOf(int64_t cell) const {
    // -1 for a cell not shown (yet): a row past the filled ones, or not of this cohort.
    if (cell < 0 || (rank_.empty() ? cell >= rows_ : static_cast<size_t>(cell) >= rank_.size()))
        return -1;
    return rank_.empty() ? static_cast<int>(cell) : rank_[static_cast<size_t>(cell)];
}

int ObsTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() || !cohort_ ? 0 : rows_;
}

int ObsTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() || !cohort_ ? 0 : static_cast<int>(cohort_->obs.columns.size()) + 1;
}

const Column* ObsTableModel::obsColumn(int column) const {
    if (!cohort_ || column < 1 || column > static_cast<int>(cohort_->obs.columns.size()))
        return nullptr;
    return &cohort_->obs.columns[static_cast<size_t>(column - 1)];
}

QString ObsTableModel::cellText(int64_t cell, int column) const {
    if (!cohort_ || cell < 0 || cell >= cohort_->n_obs()) return {};
    if (column == 0) return QString::fromStdString(cohort_->obs_names[static_cast<size_t>(cell)]);
    const Column* c = obsColumn(column);
    if (!c) return {};
    if (c->type == ColumnType::Float) {
        double v = c->number(static_cast<size_t>(cell));
        return std::isnan(v) ? QString() : QString::number(v, 'g', 6);
    }
    return QString::fromStdString(c->text(static_cast<size_t>(cell)));
}

QVariant ObsTableModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid()) return {};
    const int64_t cell = cellAt(index.row());
    const int column = index.column();
    switch (role) {
        case Qt::DisplayRole:
        case Qt::ToolTipRole:
            return cellText(cell, column);
        case Qt::TextAlignmentRole: {
            const Column* c = obsColumn(column);
            return c && c->is_numeric() && c->type != ColumnType::Bool
                       ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter))
                       : QVariant(int(Qt::AlignLeft | Qt::AlignVCenter));
        }
        case Qt::BackgroundRole:
            return isCellHighlighted(cell) ? QVariant(QColor(255, 226, 140)) : QVariant();
        default:
            return {};
    }
}

QVariant ObsTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
    if (orientation == Qt::Vertical) return section + 1;
    if (section == 0) return tr("cell");
    const Column* c = obsColumn(section);
    if (!c) return {};
    if (role == Qt::ToolTipRole)
        return tr("%1 (%2)").arg(QString::fromStdString(c->name), to_string(c->type));
    return QString::fromStdString(c->name);
}

void ObsTableModel::sort(int column, Qt::SortOrder order) {
    if (!cohort_) return;
    finishFilling();  // the order covers every row
    const int64_t n = cohort_->n_obs();
    std::vector<int64_t> next(static_cast<size_t>(n));
    std::iota(next.begin(), next.end(), int64_t(0));
    const bool descending = order == Qt::DescendingOrder;
    auto sort_by = [&](const auto& key, const auto& missing) {
        // Missing values last in both directions; stable, in parallel for large tables.
        auto less = [&](int64_t a, int64_t b) {
            const bool ma = missing(a), mb = missing(b);
            if (ma || mb) return !ma && mb;
            return descending ? key(b) < key(a) : key(a) < key(b);
        };
        __gnu_parallel::stable_sort(next.begin(), next.end(), less);
    };
    const Column* c = obsColumn(column);
    if (column == 0) {
        const auto& names = cohort_->obs_names;
        sort_by([&](int64_t i) -> const std::string& { return names[size_t(i)]; },
                [](int64_t) { return false; });
    } else if (c && c->is_numeric()) {
        std::vector<double> key(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) key[size_t(i)] = c->number(size_t(i));
        sort_by([&](int64_t i) { return key[size_t(i)]; },
                [&](int64_t i) { return std::isnan(key[size_t(i)]); });
    } else if (c && c->type == ColumnType::Categorical) {
        // Unordered categories sort by name, ordered ones by their order.
        std::vector<int32_t> by_name(c->categories.size());
        std::iota(by_name.begin(), by_name.end(), 0);
        if (!c->ordered)
            std::sort(by_name.begin(), by_name.end(), [&](int32_t a, int32_t b) {
                return c->categories[size_t(a)] < c->categories[size_t(b)];
            });
        std::vector<int32_t> rank(by_name.size());
        for (size_t r = 0; r < by_name.size(); ++r) rank[size_t(by_name[r])] = int32_t(r);
        sort_by([&](int64_t i) { return rank[size_t(c->codes[size_t(i)])]; },
                [&](int64_t i) { return c->codes[size_t(i)] < 0; });
    } else if (c && c->type == ColumnType::String) {
        sort_by([&](int64_t i) -> const std::string& { return c->strings[size_t(i)]; },
                [&](int64_t i) { return c->is_missing(size_t(i)); });
    } else if (column >= 0) {
        return;  // not sortable
    }

    emit layoutAboutToBeChanged({}, QAbstractItemModel::VerticalSortHint);
    std::vector<int> rank(static_cast<size_t>(n));
    for (int64_t r = 0; r < n; ++r) rank[size_t(next[size_t(r)])] = static_cast<int>(r);
    const QModelIndexList before = persistentIndexList();
    QModelIndexList after;
    after.reserve(before.size());
    for (const QModelIndex& i : before) after << index(rank[size_t(cellAt(i.row()))], i.column());
    if (column < 0) {
        order_.clear();
        rank_.clear();
    } else {
        order_ = std::move(next);
        rank_ = std::move(rank);
    }
    changePersistentIndexList(before, after);
    emit layoutChanged({}, QAbstractItemModel::VerticalSortHint);
}

// ------------------------------------------------------------------------------------ proxy

ObsFilterProxy::ObsFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
    setDynamicSortFilter(false);
}

void ObsFilterProxy::sort(int column, Qt::SortOrder order) {
    if (sourceModel()) sourceModel()->sort(column, order);
}

void ObsFilterProxy::setFilter(int column, const QString& text) {
    const bool was_empty = text_.isEmpty();
    column_ = std::max(column, 0);
    text_ = text.trimmed();
    numeric_ = false;
    const auto* model = qobject_cast<const ObsTableModel*>(sourceModel());
    const Column* c = model ? model->obsColumn(column_) : nullptr;
    if (c && c->is_numeric() && !text_.isEmpty()) {
        static const QRegularExpression comparison(
            QStringLiteral(R"(^(<=|>=|<|>|=)?\s*([-+0-9.eE]+)$)"));
        static const QRegularExpression range(
            QStringLiteral(R"(^([-+0-9.eE]+)\s*\.\.\s*([-+0-9.eE]+)$)"));
        bool ok_a = false, ok_b = false;
        if (auto m = range.match(text_); m.hasMatch()) {
            lo_ = m.captured(1).toDouble(&ok_a);
            hi_ = m.captured(2).toDouble(&ok_b);
            lo_open_ = hi_open_ = false;
            numeric_ = ok_a && ok_b;
        } else if (auto m = comparison.match(text_); m.hasMatch()) {
            const QString op = m.captured(1);
            const double v = m.captured(2).toDouble(&ok_a);
            numeric_ = ok_a;
            lo_ = -INFINITY;
            hi_ = INFINITY;
            lo_open_ = hi_open_ = false;
            if (op == QLatin1String(">")) {
                lo_ = v;
                lo_open_ = true;
            } else if (op == QLatin1String(">=")) {
                lo_ = v;
            } else if (op == QLatin1String("<")) {
                hi_ = v;
                hi_open_ = true;
            } else if (op == QLatin1String("<=")) {
                hi_ = v;
            } else {
                lo_ = hi_ = v;
            }
        }
    }
    // No filter before or after (a new cohort, another column with no text): every row is
    // accepted already, and filtering 1M rows again would cost ~25 ms.
    if (was_empty && text_.isEmpty()) return;
    invalidateFilter();
}

void ObsFilterProxy::setHighlightedOnly(bool only) {
    highlighted_only_ = only;
    invalidateFilter();
}

bool ObsFilterProxy::filterAcceptsRow(int row, const QModelIndex&) const {
    const auto* model = static_cast<const ObsTableModel*>(sourceModel());
    const int64_t cell = model->cellAt(row);
    if (highlighted_only_ && !model->isCellHighlighted(cell)) return false;
    if (text_.isEmpty()) return true;
    if (numeric_) {
        const double v = model->obsColumn(column_)->number(static_cast<size_t>(cell));
        if (std::isnan(v)) return false;
        return (lo_open_ ? v > lo_ : v >= lo_) && (hi_open_ ? v < hi_ : v <= hi_);
    }
    return model->cellText(cell, column_).contains(text_, Qt::CaseInsensitive);
}

// ------------------------------------------------------------------------------------ table

CohortTable::CohortTable(QWidget* parent) : QWidget(parent) {
    model_ = new ObsTableModel(this);
    proxy_ = new ObsFilterProxy(this);
    proxy_->setSourceModel(model_);

    column_box_ = new QComboBox(this);
    column_box_->setToolTip(tr("Column to filter on"));
    filter_edit_ = new QLineEdit(this);
    filter_edit_->setPlaceholderText(tr("Filter: text, or >5, <=0.2, 10..100 for numbers"));
    filter_edit_->setClearButtonEnabled(true);
    selected_only_ = new QCheckBox(tr("Selected only"), this);
    status_ = new QLabel(this);
    status_->setSizePolicy(QSizePolicy::Minimum, QSizePolicy::Preferred);
    filter_edit_->setMinimumWidth(120);

    view_ = new QTableView(this);
    view_->setModel(proxy_);
    view_->setSortingEnabled(true);
    view_->sortByColumn(-1, Qt::AscendingOrder);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    view_->setAlternatingRowColors(true);
    view_->verticalHeader()->setDefaultSectionSize(view_->fontMetrics().height() + 6);
    view_->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    view_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    view_->horizontalHeader()->setDefaultSectionSize(110);
    view_->setWordWrap(false);

    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Filter"), this));
    bar->addWidget(column_box_);
    bar->addWidget(filter_edit_, 1);
    bar->addWidget(selected_only_);
    bar->addWidget(status_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(bar);
    layout->addWidget(view_, 1);

    connect(filter_edit_, &QLineEdit::textChanged, this, &CohortTable::applyFilter);
    connect(column_box_, &QComboBox::currentIndexChanged, this, &CohortTable::applyFilter);
    connect(selected_only_, &QCheckBox::toggled, this, [this](bool only) {
        proxy_->setHighlightedOnly(only);
        updateStatus();
    });
    // Once filled, not per chunk: a status text of another width re-lays out and repaints the
    // whole dock.
    connect(model_, &ObsTableModel::filled, this, &CohortTable::updateStatus);
    connect(view_->selectionModel(), &QItemSelectionModel::selectionChanged, this, [this] {
        std::vector<int64_t> cells;
        for (const QItemSelectionRange& range : view_->selectionModel()->selection())
            for (int r = range.top(); r <= range.bottom(); ++r)
                cells.push_back(model_->cellAt(proxy_->mapToSource(proxy_->index(r, 0)).row()));
        std::sort(cells.begin(), cells.end());
        cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
        emit cellsSelected(cells);
    });
    updateStatus();
}

void CohortTable::setCohort(std::shared_ptr<const Cohort> cohort) {
    const QSignalBlocker block(column_box_);
    column_box_->clear();
    column_box_->addItem(tr("cell"));
    if (cohort)
        for (const Column& c : cohort->obs.columns)
            column_box_->addItem(QString::fromStdString(c.name));
    model_->setCohort(std::move(cohort));
    highlighted_count_ = 0;
    applyFilter();
    // Widths from the first 100 rows (Qt's default samples 1000 rows of every column, over
    // 100 ms on the GUI thread for a cohort with 20 obs columns).
    view_->horizontalHeader()->setResizeContentsPrecision(100);
    view_->horizontalHeader()->resizeSections(QHeaderView::ResizeToContents);
    for (int c = 0; c < model_->columnCount(); ++c)
        view_->setColumnWidth(c, std::clamp(view_->columnWidth(c), 60, 220));
}

void CohortTable::setSelectedCells(const std::vector<int64_t>& cells) {
    // Model-to-widget update: the table's own selection is cleared without echoing back.
    {
        const QSignalBlocker block(view_->selectionModel());
        view_->selectionModel()->clearSelection();
    }
    view_->viewport()->update();
    model_->setHighlighted(cells);
    highlighted_count_ = cells.size();
    if (selected_only_->isChecked()) proxy_->setHighlightedOnly(true);
    if (!cells.empty()) {
        QModelIndex first = proxy_->mapFromSource(model_->index(model_->rowOf(cells.front()), 0));
        if (first.isValid()) view_->scrollTo(first, QAbstractItemView::PositionAtTop);
    }
    updateStatus();
}

void CohortTable::selectCells(const std::vector<int64_t>& cells) {
    QItemSelection selection;
    for (int64_t cell : cells) {
        QModelIndex i = proxy_->mapFromSource(model_->index(model_->rowOf(cell), 0));
        if (i.isValid()) selection.select(i, i);
    }
    view_->selectionModel()->select(
        selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void CohortTable::applyFilter() {
    proxy_->setFilter(column_box_->currentIndex(), filter_edit_->text());
    updateStatus();
}

void CohortTable::updateStatus() {
    const int64_t total = model_->cohort() ? model_->cohort()->n_obs() : 0;
    QString text = model_->isFilling() ? tr("%L1 rows (adding\u2026)").arg(total)
                                       : tr("%L1 of %L2 rows").arg(proxy_->rowCount()).arg(total);
    if (highlighted_count_ > 0) text += tr(" \u00b7 %L1 selected").arg(highlighted_count_);
    status_->setText(text);
    status_->setMinimumWidth(status_->fontMetrics().horizontalAdvance(text) + 6);
}

}  // namespace transcura::widgets
