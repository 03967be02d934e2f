#include "embedding_toolbar.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QCompleter>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QStringListModel>

namespace transcura::widgets {

EmbeddingToolbar::EmbeddingToolbar(QWidget* parent) : QToolBar(tr("Embedding"), parent) {
    setObjectName(QStringLiteral("embeddingToolbar"));
    embedding_box_ = new QComboBox(this);
    embedding_box_->setMinimumContentsLength(13);  // "X_pca_harmony"
    embedding_box_->setToolTip(tr("Embedding (obsm) to show"));
    x_spin_ = new QSpinBox(this);
    y_spin_ = new QSpinBox(this);
    for (QSpinBox* spin : {x_spin_, y_spin_}) {
        spin->setRange(1, 1);
        spin->setToolTip(tr("Component on this axis (e.g. PC1, PC2)"));
    }
    three_d_ = new QCheckBox(tr("3D"), this);
    three_d_->setToolTip(tr("Show three components; drag to rotate, Shift+drag to pan"));
    color_box_ = new QComboBox(this);
    color_box_->setMinimumContentsLength(12);
    color_box_->setToolTip(tr("Colour cells by an obs column"));
    gene_edit_ = new QLineEdit(this);
    gene_edit_->setPlaceholderText(tr("Colour by gene\u2026"));
    gene_edit_->setClearButtonEnabled(true);
    gene_edit_->setMaximumWidth(180);
    gene_model_ = new QStringListModel(this);
    auto* completer = new QCompleter(gene_model_, this);
    completer->setCaseSensitivity(Qt::CaseInsensitive);
    completer->setFilterMode(Qt::MatchStartsWith);
    completer->setMaxVisibleItems(15);
    gene_edit_->setCompleter(completer);
    size_spin_ = new QDoubleSpinBox(this);
    size_spin_->setRange(1, 20);
    size_spin_->setSingleStep(0.5);
    size_spin_->setDecimals(1);
    size_spin_->setValue(3);
    size_spin_->setToolTip(tr("Point size (pixels)"));
    opacity_spin_ = new QSpinBox(this);
    opacity_spin_->setRange(5, 100);
    opacity_spin_->setSuffix(QStringLiteral("%"));
    opacity_spin_->setValue(100);
    opacity_spin_->setToolTip(tr("Point opacity"));

    addWidget(new QLabel(tr(" Embedding "), this));
    addWidget(embedding_box_);
    addWidget(x_spin_);
    addWidget(y_spin_);
    addWidget(three_d_);
    addSeparator();
    addWidget(new QLabel(tr(" Colour "), this));
    addWidget(color_box_);
    addWidget(gene_edit_);
    addSeparator();
    addWidget(new QLabel(tr(" Size "), this));
    addWidget(size_spin_);
    addWidget(new QLabel(tr(" Opacity "), this));
    addWidget(opacity_spin_);

    connect(embedding_box_, &QComboBox::currentIndexChanged, this, [this] {
        updateComponentRanges();
        emitEmbedding();
    });
    connect(x_spin_, &QSpinBox::valueChanged, this, &EmbeddingToolbar::emitEmbedding);
    connect(y_spin_, &QSpinBox::valueChanged, this, &EmbeddingToolbar::emitEmbedding);
    connect(three_d_, &QCheckBox::toggled, this, &EmbeddingToolbar::emitEmbedding);
    connect(color_box_, &QComboBox::currentIndexChanged, this, [this] {
        const QSignalBlocker block(gene_edit_);
        gene_edit_->clear();
        emit colorColumnChosen(colorColumn());
    });
    connect(gene_edit_, &QLineEdit::returnPressed, this, [this] {
        if (!gene_edit_->text().trimmed().isEmpty()) emit geneChosen(gene_edit_->text().trimmed());
    });
    connect(completer, qOverload<const QString&>(&QCompleter::activated), this,
            [this](const QString& gene) { emit geneChosen(gene); });
    connect(size_spin_, &QDoubleSpinBox::valueChanged, this, &EmbeddingToolbar::pointSizeChanged);
    connect(opacity_spin_, &QSpinBox::valueChanged, this,
            [this](int percent) { emit opacityChanged(percent / 100.0); });
}

void EmbeddingToolbar::setEmbeddings(const QList<QPair<QString, int>>& embeddings,
                                     const QString& current) {
    const QSignalBlocker block(embedding_box_);
    embeddings_ = embeddings;
    embedding_box_->clear();
    for (const auto& [name, columns] : embeddings) embedding_box_->addItem(name);
    int index = embedding_box_->findText(current);
    embedding_box_->setCurrentIndex(index >= 0 ? index : 0);
    updateComponentRanges();
}

void EmbeddingToolbar::updateComponentRanges() {
    const QSignalBlocker bx(x_spin_), by(y_spin_), bz(three_d_);
    const int index = embedding_box_->currentIndex();
    const int columns = index >= 0 && index < embeddings_.size() ? embeddings_[index].second : 0;
    x_spin_->setRange(1, std::max(columns, 1));
    y_spin_->setRange(1, std::max(columns, 1));
    x_spin_->setValue(1);
    y_spin_->setValue(std::min(2, std::max(columns, 1)));
    three_d_->setChecked(false);
    three_d_->setEnabled(columns >= 3);
    x_spin_->setEnabled(columns > 2);
    y_spin_->setEnabled(columns > 2);
}

void EmbeddingToolbar::emitEmbedding() {
    if (embedding_box_->currentIndex() < 0) return;
    emit embeddingChosen(embedding(), xComponent(), yComponent(), zComponent());
}

void EmbeddingToolbar::setColumns(const QStringList& columns, const QString& current) {
    const QSignalBlocker block(color_box_);
    color_box_->clear();
    color_box_->addItem(tr("(none)"), QString());
    for (const QString& c : columns) color_box_->addItem(c, c);
    showColumn(current);
}

void EmbeddingToolbar::showColumn(const QString& column) {
    const QSignalBlocker block(color_box_);
    int index = column.isEmpty() ? 0 : color_box_->findData(column);
    color_box_->setCurrentIndex(index >= 0 ? index : 0);
}

void EmbeddingToolbar::showGene(const QString& gene) {
    const QSignalBlocker block_edit(gene_edit_);
    gene_edit_->setText(gene);
    const QSignalBlocker block_box(color_box_);
    color_box_->setCurrentIndex(0);
}

void EmbeddingToolbar::showEmbedding(const QString& name, int x, int y, int z) {
    const int index = embedding_box_->findText(name);
    if (index < 0) return;
    {
        const QSignalBlocker block(embedding_box_);
        embedding_box_->setCurrentIndex(index);
    }
    updateComponentRanges();
    const QSignalBlocker bx(x_spin_), by(y_spin_), bz(three_d_);
    x_spin_->setValue(x + 1);
    y_spin_->setValue(y + 1);
    three_d_->setChecked(z >= 0 && three_d_->isEnabled());
}

void EmbeddingToolbar::setGenes(const QStringList& genes) {
    gene_model_->setStringList(genes);
}

void EmbeddingToolbar::setPointSize(double size) {
    const QSignalBlocker block(size_spin_);
    size_spin_->setValue(size);
}

void EmbeddingToolbar::setOpacity(double opacity) {
    const QSignalBlocker block(opacity_spin_);
    opacity_spin_->setValue(static_cast<int>(opacity * 100 + 0.5));
}

QString EmbeddingToolbar::embedding() const {
    return embedding_box_->currentText();
}
int EmbeddingToolbar::xComponent() const {
    return x_spin_->value() - 1;
}
int EmbeddingToolbar::yComponent() const {
    return y_spin_->value() - 1;
}
int EmbeddingToolbar::zComponent() const {
    if (!three_d_->isChecked()) return -1;
    int z = std::max(xComponent(), yComponent()) + 1;
    const int index = embedding_box_->currentIndex();
    const int columns = index >= 0 && index < embeddings_.size() ? embeddings_[index].second : 0;
    return z < columns ? z : -1;
}
QString EmbeddingToolbar::colorColumn() const {
    return color_box_->currentData().toString();
}

}  // namespace transcura::widgets
