#pragma once
// Keeps the selected cells the same in the embedding and the cohort table, and reports their
// number in total and per batch.
#include <memory>
#include <vector>

#include <QObject>
#include <QString>

#include "transcura/cohort.hpp"

namespace transcura::widgets {
class EmbeddingView;
class CohortTable;
}  // namespace transcura::widgets

namespace transcura::shell {

class SelectionSync : public QObject {
    Q_OBJECT
public:
    SelectionSync(widgets::EmbeddingView* view, widgets::CohortTable* table,
                  QObject* parent = nullptr);

    void setCohort(std::shared_ptr<const Cohort> cohort, const QString& batch_key);
    void setBatchKey(const QString& batch_key);
    const std::vector<int64_t>& selection() const { return selection_; }
    /// Selects these cells (sorted) in the embedding and the table at once (session restore).
    void select(std::vector<int64_t> cells);
    /// "120 selected — CTRL 70 · STIM 50"
    QString summary() const;

signals:
    void selectionChanged(const QString& summary);

private:
    void fromEmbedding(const std::vector<int64_t>& cells);
    void fromTable(const std::vector<int64_t>& cells);

    widgets::EmbeddingView* view_;
    widgets::CohortTable* table_;
    std::shared_ptr<const Cohort> cohort_;
    QString batch_key_;
    std::vector<int64_t> selection_;
};

}  // namespace transcura::shell
