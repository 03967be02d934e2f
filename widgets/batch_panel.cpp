#include "batch_panel.hpp"

#include <cmath>

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include "batch_plots.hpp"
#include "obs_access.hpp"

namespace transcura::widgets {

namespace {

const QColor kRawColor(110, 140, 190);
const QColor kHarmonyColor(235, 140, 60);
const QColor kBetter(20, 120, 50);
const QColor kWorse(170, 40, 40);

QString format_metric(double value) {
    return std::isfinite(value) ? QString::number(value, 'f', 3) : QStringLiteral("\u2014");
}

/// per_batch[name][field] of diagnostics_to_json, NaN when absent or null.
double json_number(const nlohmann::json& json, const std::string& batch, const char* field) {
    if (!json.is_object() || !json.contains("per_batch")) return NAN;
    const nlohmann::json& per_batch = json["per_batch"];
    if (!per_batch.contains(batch)) return NAN;
    const nlohmann::json& entry = per_batch[batch];
    return entry.contains(field) && entry[field].is_number() ? entry[field].get<double>() : NAN;
}

}  // namespace

BatchPanel::BatchPanel(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("batchPanel"));
    batch_box_ = new QComboBox(this);
    batch_box_->setMinimumContentsLength(8);
    batch_box_->setToolTip(tr("obs column with the batch (sample, donor, condition, ...)"));
    label_box_ = new QComboBox(this);
    label_box_->setMinimumContentsLength(8);
    label_box_->setToolTip(
        tr("obs column with cell types or clusters, for cLISI, label ASW, graph connectivity "
           "and the composition heatmap (optional)"));
    embedding_box_ = new QComboBox(this);
    embedding_box_->setMinimumContentsLength(6);
    embedding_box_->setToolTip(tr("The embedding the metrics are measured on (usually X_pca)"));
    harmony_ = new QCheckBox(tr("Harmony"), this);
    harmony_->setChecked(true);
    harmony_->setToolTip(tr("Also correct the embedding with Harmony and measure it again"));
    harmony_umap_ = new QCheckBox(tr("UMAP"), this);
    harmony_umap_->setChecked(true);
    harmony_umap_->setToolTip(
        tr("Also lay out the UMAP of Harmony's corrected embedding (X_umap_harmony), as the "
           "pipeline lays out X_umap: a kNN search and a UMAP more (minutes at 1M cells)"));
    connect(harmony_, &QCheckBox::toggled, harmony_umap_, &QCheckBox::setEnabled);
    show_corrected_ = new QCheckBox(tr("Show corrected embedding"), this);
    show_corrected_->setEnabled(false);
    show_corrected_->setToolTip(
        tr("Show Harmony's corrected embedding (X_pca_harmony) in the view"));
    run_ = new QPushButton(tr("Compute"), this);
    run_->setToolTip(tr("Run the batch diagnostics (Ctrl+D)"));
    cancel_ = new QPushButton(tr("Cancel"), this);
    cancel_->setEnabled(false);

    // Three short rows: in two rows the controls made the dock (tabbed with QC, so the whole
    // right side) at least ~530 px wide, most of a 1280 px window beside the embedding.
    auto* keys = new QGridLayout;
    keys->setHorizontalSpacing(6);
    keys->setVerticalSpacing(4);
    keys->addWidget(new QLabel(tr("Batch:"), this), 0, 0);
    keys->addWidget(batch_box_, 0, 1);
    keys->addWidget(new QLabel(tr("Labels:"), this), 0, 2);
    keys->addWidget(label_box_, 0, 3);
    keys->addWidget(new QLabel(tr("On:"), this), 1, 0);
    keys->addWidget(embedding_box_, 1, 1);
    auto* harmony = new QHBoxLayout;
    harmony->addWidget(harmony_);
    harmony->addWidget(harmony_umap_);
    harmony->addStretch(1);
    keys->addLayout(harmony, 1, 2, 1, 2);
    keys->setColumnStretch(1, 1);
    keys->setColumnStretch(3, 1);
    auto* actions = new QHBoxLayout;
    actions->addWidget(show_corrected_);
    actions->addStretch(1);
    actions->addWidget(run_);
    actions->addWidget(cancel_);

    table_ = new QTableWidget(static_cast<int>(batch_metrics().size()), 3, this);
    table_->setObjectName(QStringLiteral("batchMetricsTable"));
    table_->setHorizontalHeaderLabels({tr("Metric"), tr("Raw"), tr("Harmony")});
    table_->verticalHeader()->hide();
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setSelectionBehavior(QAbstractItemView::SelectItems);
    table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    table_->horizontalHeader()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    table_->setToolTip(tr("Click a value to colour the embedding by its per-cell score"));
    for (const BatchMetricInfo& info : batch_metrics()) {
        const int row = rowOf(info.metric);
        auto* name =
            new QTableWidgetItem(info.name + (info.higher_is_better ? QStringLiteral("  \u2191")
                                                                    : QStringLiteral("  \u2193")));
        name->setToolTip(info.description +
                         (info.per_cell ? tr("\nClick to colour the cells.") : QString()));
        table_->setItem(row, 0, name);
        for (int column = 1; column < 3; ++column) {
            auto* item = new QTableWidgetItem(QStringLiteral("\u2014"));
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            table_->setItem(row, column, item);
        }
    }
    // Compact rows: the whole table is visible without scrolling, leaving room for the plots.
    table_->verticalHeader()->setDefaultSectionSize(table_->fontMetrics().height() + 7);
    const int rows_height = table_->verticalHeader()->defaultSectionSize() * table_->rowCount();
    table_->setFixedHeight(rows_height + table_->horizontalHeader()->sizeHint().height() +
                           2 * table_->frameWidth() + 2);

    bar_box_ = new QComboBox(this);
    bar_box_->addItem(tr("iLISI per batch"), int(BarQuantity::Ilisi));
    bar_box_->addItem(tr("kBET acceptance per batch"), int(BarQuantity::Kbet));
    bar_box_->addItem(tr("Cells per batch"), int(BarQuantity::Cells));
    bar_box_->addItem(tr("Median total counts"), int(BarQuantity::MedianCounts));
    bar_box_->addItem(tr("Median genes detected"), int(BarQuantity::MedianGenes));
    bar_box_->addItem(tr("Median % mitochondrial"), int(BarQuantity::MedianMito));
    // The bars and the heatmap each get the panel's full height in their own tab: in a dock
    // of a 1280x800 window, two stacked plots leave a dozen clusters unreadable.
    auto* bar_page = new QWidget(this);
    auto* bar_row = new QHBoxLayout;
    bar_row->addWidget(new QLabel(tr("Show:"), bar_page));
    bar_row->addWidget(bar_box_);
    bar_row->addStretch(1);
    bars_ = new BatchBarPlot(bar_page);
    auto* bar_layout = new QVBoxLayout(bar_page);
    bar_layout->setContentsMargins(0, 4, 0, 0);
    bar_layout->addLayout(bar_row);
    bar_layout->addWidget(bars_, 1);
    heatmap_ = new CompositionHeatmap(this);
    tabs_ = new QTabWidget(this);
    tabs_->setObjectName(QStringLiteral("batchPlotTabs"));
    tabs_->setDocumentMode(true);
    tabs_->addTab(bar_page, tr("Per batch"));
    tabs_->addTab(heatmap_, tr("Batch \u00d7 cluster"));

    status_ = new QLabel(this);
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    status_->setMinimumHeight(status_->fontMetrics().height() * 2 + 4);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(keys);
    layout->addLayout(actions);
    layout->addWidget(table_);
    layout->addWidget(tabs_, 1);
    layout->addWidget(status_);

    connect(run_, &QPushButton::clicked, this, &BatchPanel::runRequested);
    connect(cancel_, &QPushButton::clicked, this, &BatchPanel::cancelRequested);
    connect(table_, &QTableWidget::cellClicked, this, &BatchPanel::cellClicked);
    connect(show_corrected_, &QCheckBox::toggled, this, &BatchPanel::showCorrectedChanged);
    connect(bar_box_, &QComboBox::currentIndexChanged, this, [this] {
        bar_quantity_ = static_cast<BarQuantity>(bar_box_->currentData().toInt());
        fillBars();
    });
    clearResults();
}

int BatchPanel::rowOf(BatchMetric metric) {
    const auto& metrics = batch_metrics();
    for (size_t i = 0; i < metrics.size(); ++i)
        if (metrics[i].metric == metric) return static_cast<int>(i);
    return 0;
}

void BatchPanel::chooseText(QComboBox* box, const QString& text) {
    const QSignalBlocker block(box);
    const int index = box->findText(text);
    if (index >= 0) box->setCurrentIndex(index);
}

void BatchPanel::setCohort(std::shared_ptr<const Cohort> cohort) {
    const QString batch = batchKey(), label = labelKey(), embedding = embeddingKey();
    cohort_ = std::move(cohort);
    {
        const QSignalBlocker b1(batch_box_), b2(label_box_), b3(embedding_box_);
        batch_box_->clear();
        label_box_->clear();
        embedding_box_->clear();
        batch_box_->addItem(tr("(choose)"), QString());
        label_box_->addItem(tr("(none)"), QString());
        if (cohort_) {
            for (const Column& c : cohort_->obs.columns) {
                if (!has_categories(c, 500)) continue;
                const QString name = QString::fromStdString(c.name);
                batch_box_->addItem(name, name);
                label_box_->addItem(name, name);
            }
            QStringList embeddings;
            for (const auto& [name, matrix] : cohort_->obsm)
                if (matrix.n_cols >= 2 && matrix.n_rows == cohort_->n_obs())
                    embeddings << QString::fromStdString(name);
            // PCs first: the metrics are meant for the space the neighbours are built in.
            embeddings.sort();
            if (embeddings.removeOne(QStringLiteral("X_pca")))
                embeddings.prepend(QStringLiteral("X_pca"));
            embedding_box_->addItems(embeddings);
        }
    }
    auto keep_or = [](QComboBox* box, const QString& previous, const QString& fallback) {
        chooseText(box, box->findText(previous) >= 0 && !previous.isEmpty() ? previous : fallback);
    };
    keep_or(batch_box_, batch, cohort_ ? default_batch_key(cohort_->obs) : QString());
    keep_or(label_box_, label, cohort_ ? default_label_key(cohort_->obs) : QString());
    keep_or(embedding_box_, embedding, QStringLiteral("X_pca"));
    clearResults();
}

void BatchPanel::setResults(std::shared_ptr<const BatchAnalysis> analysis) {
    analysis_ = std::move(analysis);
    if (!analysis_) {
        clearResults();
        return;
    }
    {
        const QSignalBlocker block(show_corrected_);
        show_corrected_->setChecked(false);
        show_corrected_->setEnabled(analysis_->corrected != nullptr);
    }
    fillTable();
    fillBars();
    fillHeatmap();
    const BatchAnalysis& a = *analysis_;
    QStringList parts;
    parts << tr("%L1 cells").arg(a.n_cells())
          << tr("%1 batches (%2)").arg(a.raw.n_batches).arg(a.batch_key);
    if (!a.label_key.isEmpty()) parts << tr("%1 labels (%2)").arg(a.raw.n_labels).arg(a.label_key);
    parts << tr("on %1").arg(a.embedding_key)
          << tr("neighbours %1, k = %2")
                 .arg(a.raw.neighbors_exact ? tr("exact") : tr("HNSW"))
                 .arg(a.raw.neighbors_k);
    if (a.harmony)
        parts << tr("Harmony: %1 iterations").arg(a.harmony_iterations) +
                     (a.harmony_converged ? tr(", converged") : QString());
    else if (!a.harmony_note.isEmpty())
        parts << a.harmony_note;
    parts << tr("%1 s").arg(a.seconds, 0, 'f', 1);
    status_->setText(parts.join(QStringLiteral(" \u00b7 ")));
}

void BatchPanel::clearResults(const QString& message) {
    analysis_.reset();
    {
        const QSignalBlocker block(show_corrected_);
        show_corrected_->setChecked(false);
        show_corrected_->setEnabled(false);
    }
    for (int row = 0; row < table_->rowCount(); ++row)
        for (int column = 1; column < 3; ++column) {
            table_->item(row, column)->setText(QStringLiteral("\u2014"));
            table_->item(row, column)->setForeground(palette().text());
            table_->item(row, column)->setToolTip({});
        }
    const QString text = !message.isEmpty() ? message
                         : !cohort_         ? tr("Open a cohort to measure its batch effects")
                         : batch_box_->count() <= 1
                             ? tr("This cohort has no categorical obs column to use as the batch")
                             : tr("Choose the batch and label keys and press Compute");
    bars_->clear(text);
    heatmap_->clear();
    status_->setText(text);
}

void BatchPanel::setBusy(bool busy, const QString& message) {
    run_->setEnabled(!busy);
    cancel_->setEnabled(busy);
    if (busy)
        status_->setText(message.isEmpty() ? tr("Computing the batch diagnostics\u2026") : message);
    else if (!message.isEmpty())
        status_->setText(message);
}

QString BatchPanel::batchKey() const {
    return batch_box_->currentData().toString();
}
QString BatchPanel::labelKey() const {
    return label_box_->currentData().toString();
}
QString BatchPanel::embeddingKey() const {
    return embedding_box_->currentText();
}
bool BatchPanel::harmonyEnabled() const {
    return harmony_->isChecked();
}
bool BatchPanel::harmonyUmapEnabled() const {
    return harmony_umap_->isChecked();
}
bool BatchPanel::showCorrected() const {
    return show_corrected_->isChecked();
}
void BatchPanel::setBatchKey(const QString& key) {
    if (key.isEmpty()) {
        const QSignalBlocker block(batch_box_);
        batch_box_->setCurrentIndex(0);
    } else {
        chooseText(batch_box_, key);
    }
}
void BatchPanel::setLabelKey(const QString& key) {
    if (key.isEmpty()) {
        const QSignalBlocker block(label_box_);
        label_box_->setCurrentIndex(0);
    } else {
        chooseText(label_box_, key);
    }
}
void BatchPanel::setEmbeddingKey(const QString& key) {
    chooseText(embedding_box_, key);
}
void BatchPanel::setHarmonyEnabled(bool enabled) {
    const QSignalBlocker block(harmony_);
    harmony_->setChecked(enabled);
    harmony_umap_->setEnabled(enabled);
}
void BatchPanel::setHarmonyUmapEnabled(bool enabled) {
    const QSignalBlocker block(harmony_umap_);
    harmony_umap_->setChecked(enabled);
}
void BatchPanel::setShowCorrected(bool show) {
    if (!show_corrected_->isEnabled()) return;
    show_corrected_->setChecked(show);  // emits: the view follows
}

void BatchPanel::setBarQuantity(BarQuantity quantity) {
    const int index = bar_box_->findData(int(quantity));
    if (index >= 0) bar_box_->setCurrentIndex(index);
}

void BatchPanel::fillTable() {
    const BatchAnalysis& a = *analysis_;
    for (const BatchMetricInfo& info : batch_metrics()) {
        const int row = rowOf(info.metric);
        const double raw = BatchAnalysis::summary(a.raw, info.metric);
        const double corrected = a.harmony ? BatchAnalysis::summary(*a.harmony, info.metric) : NAN;
        QTableWidgetItem* raw_item = table_->item(row, 1);
        QTableWidgetItem* harmony_item = table_->item(row, 2);
        raw_item->setText(format_metric(raw));
        harmony_item->setText(a.harmony ? format_metric(corrected) : tr("not run"));
        harmony_item->setForeground(palette().text());
        if (std::isfinite(raw) && std::isfinite(corrected) && std::abs(corrected - raw) > 1e-9) {
            const bool better = info.higher_is_better ? corrected > raw : corrected < raw;
            harmony_item->setForeground(better ? kBetter : kWorse);
        }
        const QString hint = info.per_cell && std::isfinite(raw)
                                 ? tr("Click to colour the cells by %1").arg(info.column)
                                 : QString();
        raw_item->setToolTip(hint);
        harmony_item->setToolTip(a.harmony ? hint : a.harmony_note);
    }
}

void BatchPanel::fillBars() {
    if (!analysis_) return;
    const BatchAnalysis& a = *analysis_;
    QStringList names;
    std::vector<std::string> keys;
    for (const BatchQcSummary& s : a.raw.per_batch.per_batch) {
        names << QString::fromStdString(s.name);
        keys.push_back(s.name);
    }
    auto from_json = [&](const nlohmann::json& json, const char* field) {
        std::vector<double> values;
        for (const std::string& k : keys) values.push_back(json_number(json, k, field));
        return values;
    };
    auto from_summary = [&](double BatchQcSummary::*member) {
        std::vector<double> values;
        for (const BatchQcSummary& s : a.raw.per_batch.per_batch) values.push_back(s.*member);
        return values;
    };
    std::vector<BatchBarPlot::Series> series;
    QString y_title;
    double y_max = NAN;
    switch (bar_quantity_) {
        case BarQuantity::Ilisi:
        case BarQuantity::Kbet: {
            const bool ilisi = bar_quantity_ == BarQuantity::Ilisi;
            const char* field = ilisi ? "ilisi_median" : "kbet_acceptance";
            y_title = ilisi ? tr("iLISI (median)") : tr("kBET acceptance");
            // iLISI reaches the number of batches when perfectly mixed; kBET is a share.
            y_max = ilisi ? std::max(1.0, static_cast<double>(a.raw.n_batches)) : 1.0;
            series.push_back({tr("Raw"), kRawColor, from_json(a.raw_json, field)});
            if (a.harmony)
                series.push_back({tr("Harmony"), kHarmonyColor, from_json(a.harmony_json, field)});
            break;
        }
        case BarQuantity::Cells: {
            std::vector<double> cells;
            for (const BatchQcSummary& s : a.raw.per_batch.per_batch)
                cells.push_back(static_cast<double>(s.n_cells));
            y_title = tr("cells");
            series.push_back({tr("Cells"), kRawColor, cells});
            break;
        }
        case BarQuantity::MedianCounts:
            y_title = tr("median total counts");
            series.push_back(
                {y_title, kRawColor, from_summary(&BatchQcSummary::median_total_counts)});
            break;
        case BarQuantity::MedianGenes:
            y_title = tr("median genes detected");
            series.push_back({y_title, kRawColor, from_summary(&BatchQcSummary::median_genes)});
            break;
        case BarQuantity::MedianMito:
            y_title = tr("median % mitochondrial");
            series.push_back({y_title, kRawColor, from_summary(&BatchQcSummary::median_pct_mito)});
            break;
    }
    bars_->setTitle(bar_box_->currentText());
    bars_->setData(tr("batch (%1)").arg(a.batch_key), names, y_title, std::move(series), y_max);
}

void BatchPanel::fillHeatmap() {
    const BatchAnalysis& a = *analysis_;
    if (a.label_key.isEmpty() || a.raw.per_batch.composition.clusters.empty()) {
        heatmap_->clear();
        return;
    }
    heatmap_->setData(a.raw.per_batch.composition, tr("batch (%1)").arg(a.batch_key),
                      tr("cluster (%1)").arg(a.label_key));
}

void BatchPanel::cellClicked(int row, int column) {
    if (row < 0 || row >= static_cast<int>(batch_metrics().size())) return;
    activateMetric(batch_metrics()[static_cast<size_t>(row)].metric, column == 2);
}

void BatchPanel::activateMetric(BatchMetric metric, bool corrected) {
    if (!analysis_ || !batch_metric_info(metric).per_cell) return;
    if (corrected && !analysis_->harmony) return;
    const DiagnosticsResults& r = corrected ? *analysis_->harmony : analysis_->raw;
    if (BatchAnalysis::per_cell(r, metric).empty()) return;
    table_->setCurrentCell(rowOf(metric), corrected ? 2 : 1);
    emit metricActivated(metric, corrected);
}

void BatchPanel::showPlot(int index) {
    tabs_->setCurrentIndex(index);
}

}  // namespace transcura::widgets
