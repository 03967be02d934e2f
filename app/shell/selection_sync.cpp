#include "selection_sync.hpp"

#include <algorithm>

#include <QSignalBlocker>

#include "cohort_table.hpp"
#include "embedding_view.hpp"
#include "obs_access.hpp"
#include "transcura/threshold_counts.hpp"

namespace transcura::shell {

SelectionSync::SelectionSync(widgets::EmbeddingView* view, widgets::CohortTable* table,
                             QObject* parent)
    : QObject(parent), view_(view), table_(table) {
    connect(view_, &widgets::EmbeddingView::selectionMade, this, &SelectionSync::fromEmbedding);
    connect(table_, &widgets::CohortTable::cellsSelected, this, &SelectionSync::fromTable);
}

void SelectionSync::setCohort(std::shared_ptr<const Cohort> cohort, const QString& batch_key) {
    cohort_ = std::move(cohort);
    batch_key_ = batch_key;
    selection_.clear();
    emit selectionChanged(summary());
}

void SelectionSync::setBatchKey(const QString& batch_key) {
    batch_key_ = batch_key;
    emit selectionChanged(summary());
}

void SelectionSync::fromEmbedding(const std::vector<int64_t>& cells) {
    selection_ = cells;
    table_->setSelectedCells(selection_);
    emit selectionChanged(summary());
}

void SelectionSync::select(std::vector<int64_t> cells) {
    selection_ = std::move(cells);
    {
        const QSignalBlocker block(view_);
        view_->setSelection(selection_);
    }
    table_->setSelectedCells(selection_);
    emit selectionChanged(summary());
}

void SelectionSync::fromTable(const std::vector<int64_t>& cells) {
    selection_ = cells;
    const QSignalBlocker block(view_);
    view_->setSelection(selection_);
    emit selectionChanged(summary());
}

QString SelectionSync::summary() const {
    if (selection_.empty()) return {};
    QString text = tr("%L1 selected").arg(selection_.size());
    if (!cohort_ || batch_key_.isEmpty()) return text;
    const Column* column = cohort_->obs.find(batch_key_.toStdString());
    auto categories = column ? widgets::as_categories(*column, 200) : std::nullopt;
    if (!categories) return text;
    // A selection from a dock still showing the previous cohort (during a staged hand-off) may
    // hold cells this one does not have: no per-batch counts for it rather than an exception.
    const auto outside = [&](int64_t cell) {
        return cell < 0 || static_cast<size_t>(cell) >= categories->codes.size();
    };
    if (std::any_of(selection_.begin(), selection_.end(), outside)) return text;
    const std::vector<int64_t> counts =
        count_per_group(selection_, categories->codes, static_cast<int>(categories->names.size()));
    QStringList parts;
    for (size_t g = 0; g < counts.size(); ++g)
        if (counts[g] > 0)
            parts << QStringLiteral("%1 %L2").arg(categories->names[int(g)]).arg(counts[g]);
    return parts.isEmpty()
               ? text
               : text + QStringLiteral(" \u2014 ") + parts.join(QStringLiteral(" \u00b7 "));
}

}  // namespace transcura::shell
