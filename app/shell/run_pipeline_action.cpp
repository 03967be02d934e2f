#include "run_pipeline_action.hpp"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStyle>
#include <QVBoxLayout>

#include "obs_access.hpp"
#include "pipeline_controller.hpp"

namespace transcura::shell {

// ------------------------------------------------------------------------------------ dialog

PipelineDialog::PipelineDialog(QWidget* parent) : QDialog(parent) {
    setWindowTitle(tr("Run Pipeline"));
    batch_key_ = new QComboBox(this);
    batch_key_->setEditable(true);
    batch_key_->setToolTip(
        tr("obs column with the batch; QC flags and HVGs are computed per batch"));
    auto spin = [this](int lo, int hi, const QString& tip) {
        auto* box = new QSpinBox(this);
        box->setRange(lo, hi);
        box->setToolTip(tip);
        return box;
    };
    auto dspin = [this](double lo, double hi, double step, int decimals, const QString& tip) {
        auto* box = new QDoubleSpinBox(this);
        box->setRange(lo, hi);
        box->setSingleStep(step);
        box->setDecimals(decimals);
        box->setToolTip(tip);
        return box;
    };
    min_genes_ = spin(0, 100000, tr("Cells with fewer detected genes are dropped"));
    max_pct_mt_ =
        dspin(0, 100, 1, 1, tr("Cells with a higher % of mitochondrial counts are dropped"));
    n_hvg_ = spin(50, 20000, tr("Highly variable genes kept for PCA"));
    n_pcs_ = spin(2, 200, tr("Principal components"));
    n_neighbors_ = spin(2, 200, tr("Neighbours in the kNN graph"));
    min_dist_ = dspin(0, 1, 0.05, 2, tr("UMAP min_dist"));
    components_ = new QComboBox(this);
    components_->addItem(tr("2D"), 2);
    components_->addItem(tr("3D"), 3);
    resolution_ = dspin(0.05, 10, 0.1, 2, tr("Leiden resolution"));
    seed_ = spin(0, 1 << 30, tr("Random seed (same seed, same result)"));

    auto* form = new QFormLayout;
    form->addRow(tr("Batch key:"), batch_key_);
    form->addRow(tr("Minimum genes per cell:"), min_genes_);
    form->addRow(tr("Maximum % mitochondrial:"), max_pct_mt_);
    form->addRow(tr("Highly variable genes:"), n_hvg_);
    form->addRow(tr("Principal components:"), n_pcs_);
    form->addRow(tr("Neighbours:"), n_neighbors_);
    form->addRow(tr("UMAP min_dist:"), min_dist_);
    form->addRow(tr("UMAP dimensions:"), components_);
    form->addRow(tr("Leiden resolution:"), resolution_);
    form->addRow(tr("Seed:"), seed_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Run"));
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(buttons);
}

void PipelineDialog::setOptions(const PipelineOptions& o, const Cohort* cohort) {
    batch_key_->clear();
    batch_key_->addItem(QString());
    if (cohort)
        for (const Column& c : cohort->obs.columns)
            if (widgets::has_categories(c, 200)) batch_key_->addItem(QString::fromStdString(c.name));
    QString key = QString::fromStdString(o.batch_key);
    if (key.isEmpty() && cohort) key = widgets::default_batch_key(cohort->obs);
    batch_key_->setCurrentText(key);
    min_genes_->setValue(o.min_genes);
    max_pct_mt_->setValue(o.max_pct_mt);
    n_hvg_->setValue(o.n_hvg);
    n_pcs_->setValue(o.n_pcs);
    n_neighbors_->setValue(o.n_neighbors);
    min_dist_->setValue(o.min_dist);
    components_->setCurrentIndex(o.umap_components == 3 ? 1 : 0);
    resolution_->setValue(o.resolution);
    seed_->setValue(static_cast<int>(o.seed));
}

PipelineOptions PipelineDialog::options() const {
    PipelineOptions o;
    o.batch_key = batch_key_->currentText().trimmed().toStdString();
    o.min_genes = min_genes_->value();
    o.max_pct_mt = max_pct_mt_->value();
    o.n_hvg = n_hvg_->value();
    o.n_pcs = n_pcs_->value();
    o.n_neighbors = n_neighbors_->value();
    o.min_dist = min_dist_->value();
    o.umap_components = components_->currentData().toInt();
    o.resolution = resolution_->value();
    o.seed = static_cast<uint64_t>(seed_->value());
    return o;
}

// ------------------------------------------------------------------------------------ action

RunPipelineAction::RunPipelineAction(PipelineController* controller, QWidget* window,
                                     QObject* parent)
    : QObject(parent), controller_(controller), window_(window) {
    run_ = new QAction(window->style()->standardIcon(QStyle::SP_MediaPlay),
                       tr("Run &Pipeline\u2026"), this);
    run_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    run_on_open_ = new QAction(tr("Run Pipeline on &Open"), this);
    run_on_open_->setCheckable(true);
    cancel_ =
        new QAction(window->style()->standardIcon(QStyle::SP_BrowserStop), tr("&Cancel"), this);
    cancel_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    cancel_->setStatusTip(tr("Stop the running job; the current cohort stays as it is"));

    QSettings settings;
    run_on_open_->setChecked(settings.value(QStringLiteral("pipeline/runOnOpen"), true).toBool());
    controller_->setRunOnOpen(run_on_open_->isChecked());
    controller_->setParameters(loadOptions());

    connect(run_, &QAction::triggered, this, &RunPipelineAction::showDialog);
    connect(cancel_, &QAction::triggered, controller_, &PipelineController::cancel);
    connect(run_on_open_, &QAction::toggled, this, [this](bool on) {
        controller_->setRunOnOpen(on);
        QSettings().setValue(QStringLiteral("pipeline/runOnOpen"), on);
    });
    connect(controller_, &PipelineController::busyChanged, this, &RunPipelineAction::updateEnabled);
    connect(controller_, &PipelineController::cohortChanged, this,
            &RunPipelineAction::updateEnabled);
    updateEnabled();
}

PipelineOptions RunPipelineAction::loadOptions() {
    QSettings s;
    s.beginGroup(QStringLiteral("pipeline"));
    PipelineOptions o;
    o.batch_key = s.value(QStringLiteral("batchKey")).toString().toStdString();
    o.min_genes = s.value(QStringLiteral("minGenes"), o.min_genes).toInt();
    o.max_pct_mt = s.value(QStringLiteral("maxPctMt"), o.max_pct_mt).toDouble();
    o.n_hvg = s.value(QStringLiteral("nHvg"), o.n_hvg).toInt();
    o.n_pcs = s.value(QStringLiteral("nPcs"), o.n_pcs).toInt();
    o.n_neighbors = s.value(QStringLiteral("nNeighbors"), o.n_neighbors).toInt();
    o.min_dist = s.value(QStringLiteral("minDist"), o.min_dist).toDouble();
    o.umap_components = s.value(QStringLiteral("umapComponents"), o.umap_components).toInt();
    o.resolution = s.value(QStringLiteral("resolution"), o.resolution).toDouble();
    o.seed = s.value(QStringLiteral("seed"), qulonglong(o.seed)).toULongLong();
    return o;
}

void RunPipelineAction::saveOptions(const PipelineOptions& o) {
    QSettings s;
    s.beginGroup(QStringLiteral("pipeline"));
    s.setValue(QStringLiteral("batchKey"), QString::fromStdString(o.batch_key));
    s.setValue(QStringLiteral("minGenes"), o.min_genes);
    s.setValue(QStringLiteral("maxPctMt"), o.max_pct_mt);
    s.setValue(QStringLiteral("nHvg"), o.n_hvg);
    s.setValue(QStringLiteral("nPcs"), o.n_pcs);
    s.setValue(QStringLiteral("nNeighbors"), o.n_neighbors);
    s.setValue(QStringLiteral("minDist"), o.min_dist);
    s.setValue(QStringLiteral("umapComponents"), o.umap_components);
    s.setValue(QStringLiteral("resolution"), o.resolution);
    s.setValue(QStringLiteral("seed"), qulonglong(o.seed));
}

void RunPipelineAction::showDialog() {
    PipelineDialog dialog(window_);
    dialog.setOptions(controller_->parameters(), controller_->cohort().get());
    if (dialog.exec() != QDialog::Accepted) return;
    PipelineOptions options = dialog.options();
    saveOptions(options);
    controller_->setParameters(options);
    controller_->runPipeline();
}

void RunPipelineAction::updateEnabled() {
    const bool available = PipelineController::pipelineAvailable();
    run_->setEnabled(available && controller_->cohort() && !controller_->isBusy());
    run_->setStatusTip(available ? tr("QC, normalisation, HVG, PCA, kNN, UMAP and Leiden on the "
                                      "current cohort")
                                 : tr("The analysis pipeline is not part of this build yet"));
    run_on_open_->setEnabled(available);
    cancel_->setEnabled(controller_->isBusy());
}

}  // namespace transcura::shell
