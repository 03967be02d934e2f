#pragma once
// The cohort table: obs as a sortable, filterable table. The model reads the typed columns
// directly (no copies); the proxy sorts and filters on raw values (fast at 1M rows); selected
// cells are highlighted through a mask, and selecting rows reports the cells (row indices).
#include <memory>
#include <vector>

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QWidget>

#include "transcura/cohort.hpp"

class QLineEdit;
class QComboBox;
class QCheckBox;
class QLabel;
class QTableView;

namespace transcura::widgets {

class ObsTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    explicit ObsTableModel(QObject* parent = nullptr);
    /// A large cohort's rows are added in chunks of fillChunkRows(), one chunk per event-loop
    /// turn after the first: the views' per-row bookkeeping (the proxy's mapping, the vertical
    /// header's sections: ~50-120 ms at 1M rows) then never holds the GUI thread in one piece.
    void setCohort(std::shared_ptr<const Cohort> cohort);
    const Cohort* cohort() const { return cohort_.get(); }
    /// Rows still to be added (rowCount() < the cohort's cells).
    bool isFilling() const;
    /// Adds every remaining row now (sorting does this first).
    void finishFilling();
    /// Rows per chunk (0: all at once); cohorts up to this many rows are shown at once.
    void setFillChunkRows(int rows) { chunk_rows_ = rows; }
    int fillChunkRows() const { return chunk_rows_; }
    /// Each chunk also repaints the table (its scroll bar and row header change): a few large
    /// chunks, not many small ones.
    static constexpr int kFillChunkRows = 250000;
    /// Cells (obs rows) to highlight as selected (sorted indices).
    void setHighlighted(const std::vector<int64_t>& cells);
    bool isCellHighlighted(int64_t cell) const;

    /// Rows follow the sort order: the cell shown in a row, and the row showing a cell.
    int64_t cellAt(int row) const;
    int rowOf(int64_t cell) const;
    /// Sorts on the raw column values (missing values last), keeping selections.
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

    /// Column 0 is the cell name; column c > 0 is obs column c - 1.
    const Column* obsColumn(int column) const;
    QString cellText(int64_t cell, int column) const;

signals:
    /// A chunk of rows was added (rowCount() is now `rows`); filled() after the last.
    void rowsFilled(int rows);
    void filled();

private:
    void fillNextChunk();

    std::shared_ptr<const Cohort> cohort_;
    int rows_ = 0;  // rows shown so far (the cohort's cells once filled)
    int chunk_rows_ = kFillChunkRows;
    int fill_generation_ = 0;
    std::vector<uint8_t> highlighted_;  // per cell; empty = none
    std::vector<int64_t> order_;        // row -> cell; empty = identity
    std::vector<int> rank_;             // cell -> row
};

/// Filters rows; sorting is delegated to the model (a proxy comparing QModelIndex pairs takes
/// seconds at 1M rows, the model sorts raw values in a fraction of that).
class ObsFilterProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit ObsFilterProxy(QObject* parent = nullptr);
    /// Text: case-insensitive substring. Numeric columns also take ">5", "<=0.2", "=3",
    /// "10..100". Column 0 is the cell name.
    void setFilter(int column, const QString& text);
    void setHighlightedOnly(bool only);
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

protected:
    bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;

private:
    int column_ = 0;
    QString text_;
    bool numeric_ = false;
    double lo_ = 0, hi_ = 0;
    bool lo_open_ = false, hi_open_ = false;
    bool highlighted_only_ = false;
};

/// Filter bar + table + status line.
class CohortTable : public QWidget {
    Q_OBJECT
public:
    explicit CohortTable(QWidget* parent = nullptr);
    void setCohort(std::shared_ptr<const Cohort> cohort);
    /// Shows these cells as selected (from the embedding); does not emit.
    void setSelectedCells(const std::vector<int64_t>& cells);
    /// Selects cells as a user would (table selection); emits cellsSelected.
    void selectCells(const std::vector<int64_t>& cells);
    ObsTableModel* model() const { return model_; }
    ObsFilterProxy* proxy() const { return proxy_; }
    QTableView* view() const { return view_; }
    QSize sizeHint() const override { return {800, 260}; }

signals:
    /// The user selected rows: the cells (sorted row indices of obs).
    void cellsSelected(const std::vector<int64_t>& cells);

private:
    void applyFilter();
    void updateStatus();

    ObsTableModel* model_ = nullptr;
    ObsFilterProxy* proxy_ = nullptr;
    QTableView* view_ = nullptr;
    QComboBox* column_box_ = nullptr;
    QLineEdit* filter_edit_ = nullptr;
    QCheckBox* selected_only_ = nullptr;
    QLabel* status_ = nullptr;
    size_t highlighted_count_ = 0;
};

}  // namespace transcura::widgets
