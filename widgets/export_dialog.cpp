#include "export_dialog.hpp"

#include <algorithm>
#include <limits>

#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QSignalBlocker>
#include <QSplitter>
#include <QVBoxLayout>

#include "transcura/errors.hpp"
#include "transcura/splits.hpp"

namespace transcura::widgets {

namespace {

const QString kNone = QStringLiteral("(none)");

QTableWidgetItem* cell(const QString& text, bool right = false) {
    auto* item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsEnabled);
    if (right) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QString percent(double fraction) {
    return QString::number(100.0 * fraction, 'f', 1) + QLatin1Char('%');
}

}  // namespace

ExportDialog::ExportDialog(QWidget* parent) : QDialog(parent) {
    setObjectName(QStringLiteral("exportDialog"));
    setWindowTitle(tr("Export Curated Cohort"));

    source_ = new QLabel(this);
    source_->setWordWrap(true);
    source_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // Options (left).
    options_ = new QWidget(this);
    auto* options_layout = new QVBoxLayout(options_);
    options_layout->setContentsMargins(0, 0, 0, 0);

    auto* output_box = new QGroupBox(tr("Output"), options_);
    auto* output_form = new QFormLayout(output_box);
    output_ = new QLineEdit(output_box);
    output_->setObjectName(QStringLiteral("exportFolder"));
    output_->setPlaceholderText(tr("Folder for the outputs and manifest.json"));
    output_->setMinimumWidth(fontMetrics().averageCharWidth() * 28);
    browse_ = new QPushButton(tr("Browse\u2026"), output_box);
    auto* folder_row = new QHBoxLayout;
    folder_row->addWidget(output_, 1);
    folder_row->addWidget(browse_);
    format_ = new QComboBox(output_box);
    format_->addItem(tr("AnnData (.h5ad)"), QStringLiteral("h5ad"));
    format_->addItem(tr("Loom (.loom)"), QStringLiteral("loom"));
    format_->addItem(tr("10x MTX folder"), QStringLiteral("mtx"));
    format_->addItem(tr("CSV files"), QStringLiteral("csv"));
    overwrite_ = new QCheckBox(tr("Replace existing outputs"), output_box);
    output_form->addRow(tr("Folder:"), folder_row);
    output_form->addRow(tr("Format:"), format_);
    output_form->addRow(QString(), overwrite_);
    options_layout->addWidget(output_box);

    auto* split_box = new QGroupBox(tr("Splits"), options_);
    auto* split_form = new QFormLayout(split_box);
    split_ = new QCheckBox(tr("Split into train / validation / test"), split_box);
    committed_fractions_ = QStringLiteral("train=0.8,validation=0.1,test=0.1");
    fractions_ = new QLineEdit(committed_fractions_, split_box);
    fractions_->setToolTip(tr("name=fraction pairs, separated by commas; the fractions sum to 1"));
    group_ = new QComboBox(split_box);
    group_->setToolTip(tr("No value of this column is in two splits (donor, sample, batch)"));
    stratify_ = new QComboBox(split_box);
    stratify_->setToolTip(tr("Each split keeps this column's proportions as far as groups allow"));
    seed_ = new QSpinBox(split_box);
    seed_->setRange(0, std::numeric_limits<int>::max());
    for (QComboBox* box : {group_, stratify_}) {
        box->setMinimumContentsLength(12);
        box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    }
    split_form->addRow(split_);
    split_form->addRow(tr("Fractions:"), fractions_);
    split_form->addRow(tr("Group by:"), group_);
    split_form->addRow(tr("Stratify by:"), stratify_);
    split_form->addRow(tr("Seed:"), seed_);
    options_layout->addWidget(split_box);

    auto* report_box = new QGroupBox(tr("Report"), options_);
    auto* report_form = new QFormLayout(report_box);
    batch_ = new QComboBox(report_box);
    batch_->setMinimumContentsLength(12);
    batch_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    batch_->setToolTip(tr("Counted per split, and predicted from the PCs in the leakage report"));
    report_form->addRow(tr("Batch key:"), batch_);
    options_layout->addWidget(report_box);
    options_layout->addStretch(1);

    // Preview (right).
    auto* preview = new QWidget(this);
    auto* preview_layout = new QVBoxLayout(preview);
    preview_layout->setContentsMargins(0, 0, 0, 0);
    summary_ = new QLabel(preview);
    summary_->setWordWrap(true);
    split_table_ = new QTableWidget(0, 4, preview);
    split_table_->setObjectName(QStringLiteral("exportSplits"));
    split_table_->setHorizontalHeaderLabels({tr("Output"), tr("Cells"), tr("Asked"), tr("Got")});
    split_table_->verticalHeader()->hide();
    split_table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    for (int c = 1; c < 4; ++c)
        split_table_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    split_table_->setSelectionMode(QAbstractItemView::NoSelection);
    warnings_ = new QLabel(preview);
    warnings_->setObjectName(QStringLiteral("exportWarnings"));
    warnings_->setWordWrap(true);
    warnings_->setTextFormat(Qt::RichText);
    warnings_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    leakage_ = new QLabel(preview);
    leakage_->setObjectName(QStringLiteral("exportLeakage"));
    leakage_->setWordWrap(true);
    leakage_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    manifest_ = new QPlainTextEdit(preview);
    manifest_->setObjectName(QStringLiteral("exportManifest"));
    manifest_->setReadOnly(true);
    manifest_->setLineWrapMode(QPlainTextEdit::NoWrap);
    manifest_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    preview_layout->addWidget(summary_);
    preview_layout->addWidget(split_table_);
    preview_layout->addWidget(leakage_);
    preview_layout->addWidget(warnings_);
    preview_layout->addWidget(new QLabel(tr("manifest.json preview:"), preview));
    preview_layout->addWidget(manifest_, 1);

    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(options_);
    splitter->addWidget(preview);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setChildrenCollapsible(false);

    progress_ = new QProgressBar(this);
    progress_->setRange(0, 1000);
    progress_->setTextVisible(false);
    progress_->setVisible(false);
    status_ = new QLabel(this);
    status_->setObjectName(QStringLiteral("exportStatus"));
    status_->setWordWrap(true);
    status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    export_ = new QPushButton(tr("Export"), this);
    export_->setDefault(true);
    cancel_ = new QPushButton(tr("Cancel export"), this);
    close_ = new QPushButton(tr("Close"), this);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(status_, 1);
    buttons->addWidget(export_);
    buttons->addWidget(cancel_);
    buttons->addWidget(close_);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(source_);
    layout->addWidget(splitter, 1);
    layout->addWidget(progress_);
    layout->addLayout(buttons);

    connect(browse_, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Export to"), outputDir());
        if (!dir.isEmpty()) setOutputDir(dir);
    });
    // editingFinished also comes with every focus change: only a changed text is a change.
    connect(output_, &QLineEdit::editingFinished, this, [this] {
        if (output_->text() == committed_output_) return;
        committed_output_ = output_->text();
        emit optionsChanged();
    });
    connect(format_, &QComboBox::currentIndexChanged, this, &ExportDialog::optionsChanged);
    connect(overwrite_, &QCheckBox::toggled, this, &ExportDialog::optionsChanged);
    connect(split_, &QCheckBox::toggled, this, [this] {
        updateEnabled();
        emit optionsChanged();
    });
    connect(fractions_, &QLineEdit::editingFinished, this, [this] {
        if (fractions_->text() == committed_fractions_) return;
        committed_fractions_ = fractions_->text();
        emit optionsChanged();
    });
    for (QComboBox* box : {group_, stratify_, batch_})
        connect(box, &QComboBox::currentIndexChanged, this, &ExportDialog::optionsChanged);
    connect(seed_, &QSpinBox::valueChanged, this, &ExportDialog::optionsChanged);
    connect(export_, &QPushButton::clicked, this, &ExportDialog::exportRequested);
    connect(cancel_, &QPushButton::clicked, this, &ExportDialog::cancelRequested);
    connect(close_, &QPushButton::clicked, this, &QDialog::reject);

    setColumns({}, {});
    updateEnabled();
    resize(960, 640);
}

void ExportDialog::fillKeyBox(QComboBox* box, const QStringList& columns, const QString& current) {
    const QSignalBlocker block(box);
    box->clear();
    box->addItem(kNone);
    box->addItems(columns);
    const int index = box->findText(current);
    box->setCurrentIndex(index > 0 ? index : 0);
}

QString ExportDialog::keyOf(const QComboBox* box) {
    return box->currentIndex() > 0 ? box->currentText() : QString();
}

void ExportDialog::setColumns(const QStringList& columns, const QString& batch_key) {
    fillKeyBox(group_, columns, groupKey());
    fillKeyBox(stratify_, columns, stratifyKey());
    fillKeyBox(batch_, columns, batch_key.isEmpty() ? batchKey() : batch_key);
}

void ExportDialog::setSourceText(const QString& text) {
    source_->setText(text);
}

QString ExportDialog::outputDir() const {
    return output_->text().trimmed();
}
void ExportDialog::setOutputDir(const QString& dir) {
    output_->setText(dir);
    committed_output_ = dir;
    emit optionsChanged();
}
QString ExportDialog::format() const {
    return format_->currentData().toString();
}
void ExportDialog::setFormat(const QString& format) {
    const int index = format_->findData(format);
    if (index >= 0) format_->setCurrentIndex(index);
}
bool ExportDialog::splitEnabled() const {
    return split_->isChecked();
}
void ExportDialog::setSplitEnabled(bool on) {
    split_->setChecked(on);
}
QString ExportDialog::splitFractions() const {
    return fractions_->text().trimmed();
}
void ExportDialog::setSplitFractions(const QString& text) {
    fractions_->setText(text);
    committed_fractions_ = text;
    emit optionsChanged();
}
QString ExportDialog::groupKey() const {
    return keyOf(group_);
}
void ExportDialog::setGroupKey(const QString& key) {
    const int index = group_->findText(key);
    group_->setCurrentIndex(index > 0 ? index : 0);
}
QString ExportDialog::stratifyKey() const {
    return keyOf(stratify_);
}
void ExportDialog::setStratifyKey(const QString& key) {
    const int index = stratify_->findText(key);
    stratify_->setCurrentIndex(index > 0 ? index : 0);
}
QString ExportDialog::batchKey() const {
    return keyOf(batch_);
}
void ExportDialog::setBatchKey(const QString& key) {
    const int index = batch_->findText(key);
    batch_->setCurrentIndex(index > 0 ? index : 0);
}
uint64_t ExportDialog::seed() const {
    return uint64_t(seed_->value());
}
void ExportDialog::setSeed(uint64_t seed) {
    seed_->setValue(int(std::min<uint64_t>(seed, uint64_t(seed_->maximum()))));
}
bool ExportDialog::overwrite() const {
    return overwrite_->isChecked();
}
void ExportDialog::setOverwrite(bool on) {
    overwrite_->setChecked(on);
}

ExportOptions ExportDialog::exportOptions() const {
    ExportOptions options;
    if (outputDir().isEmpty()) throw InvalidArgument("choose an output folder");
    options.output_dir = outputDir().toStdString();
    options.format = parse_export_format(format().toStdString());
    options.overwrite = overwrite();
    options.batch_key = batchKey().toStdString();
    if (splitEnabled()) {
        SplitOptions split;
        split.fractions = parse_split_fractions(splitFractions().toStdString());
        split.group_key = groupKey().toStdString();
        split.stratify_key = stratifyKey().toStdString();
        split.seed = seed();
        options.split = split;
    }
    return options;
}

QStringList ExportDialog::cliArguments() const {
    QStringList args{QStringLiteral("-o"), outputDir(), QStringLiteral("--format"), format()};
    if (splitEnabled()) {
        args << QStringLiteral("--split") << splitFractions();
        if (!groupKey().isEmpty()) args << QStringLiteral("--group-by") << groupKey();
        if (!stratifyKey().isEmpty()) args << QStringLiteral("--stratify-by") << stratifyKey();
        args << QStringLiteral("--seed") << QString::number(seed());
    }
    if (!batchKey().isEmpty()) args << QStringLiteral("--batch-key") << batchKey();
    if (overwrite()) args << QStringLiteral("--overwrite");
    return args;
}

void ExportDialog::setPreviewPending(bool pending) {
    pending_ = pending;
    if (pending) summary_->setText(tr("Planning the export\u2026"));
    updateEnabled();
}

void ExportDialog::setPreview(const ExportPreview& preview) {
    preview_ = preview;
    pending_ = false;
    split_table_->setRowCount(0);
    if (!preview_.valid) {
        summary_->setText(QStringLiteral("<span style='color:#b00020'>%1</span>")
                              .arg(preview_.error.toHtmlEscaped()));
        manifest_->clear();
        leakage_->clear();
        warnings_->clear();
        warnings_->setVisible(false);
        updateEnabled();
        return;
    }
    summary_->setText(tr("%L1 cells \u00d7 %L2 genes after the recipe, written as:")
                          .arg(preview_.n_obs)
                          .arg(preview_.n_vars));
    const int n = int(preview_.split_names.size());
    split_table_->setRowCount(n);
    for (int s = 0; s < n; ++s) {
        const QString file =
            s < preview_.output_files.size() ? preview_.output_files[s] : QString();
        split_table_->setItem(s, 0, cell(file.isEmpty() ? preview_.split_names[s] : file));
        split_table_->setItem(
            s, 1, cell(QStringLiteral("%L1").arg(preview_.split_sizes[size_t(s)]), true));
        split_table_->setItem(s, 2,
                              cell(size_t(s) < preview_.requested_fractions.size()
                                       ? percent(preview_.requested_fractions[size_t(s)])
                                       : QString(),
                                   true));
        split_table_->setItem(s, 3,
                              cell(size_t(s) < preview_.achieved_fractions.size()
                                       ? percent(preview_.achieved_fractions[size_t(s)])
                                       : QString(),
                                   true));
    }
    split_table_->resizeRowsToContents();
    // As tall as its rows: the manifest gets the rest.
    int height =
        split_table_->horizontalHeader()->sizeHint().height() + 2 * split_table_->frameWidth() + 2;
    for (int row = 0; row < n; ++row) height += split_table_->rowHeight(row);
    split_table_->setFixedHeight(std::min(height, fontMetrics().height() * 12));
    leakage_->setText(preview_.leakage);
    QStringList lines;
    for (const QString& w : preview_.warnings)
        lines << QStringLiteral("\u26a0 ") + w.toHtmlEscaped();
    warnings_->setText(lines.join(QStringLiteral("<br>")));
    warnings_->setVisible(!lines.isEmpty());
    manifest_->setPlainText(preview_.manifest);
    updateEnabled();
}

void ExportDialog::setExporting(bool exporting) {
    exporting_ = exporting;
    progress_->setVisible(exporting);
    if (exporting) {
        progress_->setRange(0, 0);
        status_->setText(tr("Exporting\u2026"));
    }
    updateEnabled();
}

void ExportDialog::setProgress(double fraction, const QString& what) {
    if (fraction < 0) {
        progress_->setRange(0, 0);
    } else {
        progress_->setRange(0, 1000);
        progress_->setValue(int(fraction * 1000));
    }
    status_->setText(what);
}

void ExportDialog::setStatus(const QString& text) {
    status_->setText(text);
}

void ExportDialog::updateEnabled() {
    options_->setEnabled(!exporting_);
    for (QWidget* w : std::initializer_list<QWidget*>{fractions_, group_, stratify_, seed_})
        w->setEnabled(split_->isChecked());
    // Enabled while a new plan is pending: Export plans again anyway (and reports errors).
    export_->setEnabled(!exporting_ && (pending_ || preview_.valid));
    cancel_->setEnabled(exporting_);
    close_->setEnabled(!exporting_);
}

}  // namespace transcura::widgets
