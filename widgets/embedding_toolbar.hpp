#pragma once
// The embedding's toolbar: which obsm matrix and components to show (2D or 3D), what to colour
// by (an obs column or a gene typed with completion), point size and opacity.
#include <QToolBar>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;
class QStringListModel;

namespace transcura::widgets {

class EmbeddingToolbar : public QToolBar {
    Q_OBJECT
public:
    explicit EmbeddingToolbar(QWidget* parent = nullptr);

    /// Embeddings as (name, number of columns); selects `current`. Does not emit.
    void setEmbeddings(const QList<QPair<QString, int>>& embeddings, const QString& current);
    void setColumns(const QStringList& columns, const QString& current);
    void setGenes(const QStringList& genes);
    void setPointSize(double size);
    void setOpacity(double opacity);
    /// Reflects a choice made elsewhere (does not emit).
    void showColumn(const QString& column);
    void showGene(const QString& gene);
    /// Selects an embedding and its components (0-based; z < 0 = 2D); does not emit.
    void showEmbedding(const QString& name, int x, int y, int z);

    QString embedding() const;
    int xComponent() const;  // 0-based
    int yComponent() const;
    int zComponent() const;  // -1 in 2D
    QString colorColumn() const;
    QLineEdit* geneEdit() const { return gene_edit_; }
    QComboBox* colorBox() const { return color_box_; }

signals:
    void embeddingChosen(const QString& name, int x, int y, int z);
    void colorColumnChosen(const QString& column);  // "" = none
    void geneChosen(const QString& gene);
    void pointSizeChanged(double size);
    void opacityChanged(double opacity);

private:
    void emitEmbedding();
    void updateComponentRanges();

    QList<QPair<QString, int>> embeddings_;
    QComboBox* embedding_box_;
    QSpinBox* x_spin_;
    QSpinBox* y_spin_;
    QCheckBox* three_d_;
    QComboBox* color_box_;
    QLineEdit* gene_edit_;
    QStringListModel* gene_model_;
    QDoubleSpinBox* size_spin_;
    QSpinBox* opacity_spin_;
};

}  // namespace transcura::widgets
