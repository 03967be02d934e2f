#pragma once
// Connects the current cohort to the embedding view and its toolbar: which obsm matrix is
// shown, what the cells are coloured by (obs column or gene), hover tooltips, and the live UMAP
// layout while the pipeline runs.
#include <memory>

#include <QObject>
#include <QString>

#include "transcura/cohort.hpp"

namespace transcura::widgets {
class EmbeddingView;
class EmbeddingToolbar;
}  // namespace transcura::widgets

namespace transcura::shell {

class EmbeddingController : public QObject {
    Q_OBJECT
public:
    EmbeddingController(widgets::EmbeddingView* view, widgets::EmbeddingToolbar* toolbar,
                        QObject* parent = nullptr);

    void setCohort(std::shared_ptr<const Cohort> cohort);
    /// Shows obsm[key] columns x, y (and z >= 0 in 3D); keeps the colouring.
    bool showEmbedding(const QString& key, int x = 0, int y = 1, int z = -1);
    /// "" colours all cells the same.
    void colorByColumn(const QString& column);
    /// Expression of a gene (raw when present); false when the cohort has no such gene.
    bool colorByGene(const QString& gene);
    void showLiveLayout(std::shared_ptr<const DenseD> layout, int epoch, int n_epochs);
    /// Whether the view shows a live layout instead of the cohort's embedding.
    bool showingLiveLayout() const { return live_; }
    /// After a cancelled or failed run: back to the cohort's own embedding.
    void restoreAfterLiveLayout();

    QString embeddingKey() const { return embedding_; }
    QString colorColumn() const { return column_; }
    QString colorGene() const { return gene_; }
    /// The obsm matrices a cohort can show: at least two columns.
    static QStringList embeddingKeys(const Cohort& cohort);
    /// Gene expression per cell (raw counts are log1p-transformed); empty if unknown.
    static std::vector<float> geneValues(const Cohort& cohort, const QString& gene,
                                         QString* description = nullptr);

signals:
    void statusMessage(const QString& text);

private:
    void reapplyColor();
    QString tooltip(int64_t cell) const;

    widgets::EmbeddingView* view_;
    widgets::EmbeddingToolbar* toolbar_;
    std::shared_ptr<const Cohort> cohort_;
    QString embedding_, column_, gene_;
    std::vector<float> gene_values_;
    bool live_ = false;
};

}  // namespace transcura::shell
