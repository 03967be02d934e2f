#pragma once
// Analysis ▸ Run Pipeline… (its parameters in a dialog, remembered in QSettings), Run Pipeline
// on Open, and Cancel.
#include <QAction>
#include <QDialog>
#include <QObject>

#include "transcura/cohort.hpp"
#include "transcura/pipeline.hpp"

class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

namespace transcura::shell {

class PipelineController;

class PipelineDialog : public QDialog {
    Q_OBJECT
public:
    explicit PipelineDialog(QWidget* parent = nullptr);
    /// Fills the fields; `cohort` (may be null) offers its categorical columns as batch keys.
    void setOptions(const PipelineOptions& options, const Cohort* cohort);
    PipelineOptions options() const;

private:
    QComboBox* batch_key_;
    QSpinBox* min_genes_;
    QDoubleSpinBox* max_pct_mt_;
    QSpinBox* n_hvg_;
    QSpinBox* n_pcs_;
    QSpinBox* n_neighbors_;
    QDoubleSpinBox* min_dist_;
    QComboBox* components_;
    QDoubleSpinBox* resolution_;
    QSpinBox* seed_;
};

class RunPipelineAction : public QObject {
    Q_OBJECT
public:
    RunPipelineAction(PipelineController* controller, QWidget* window, QObject* parent = nullptr);

    QAction* runAction() const { return run_; }
    QAction* runOnOpenAction() const { return run_on_open_; }
    QAction* cancelAction() const { return cancel_; }

    static PipelineOptions loadOptions();
    static void saveOptions(const PipelineOptions& options);

private:
    void showDialog();
    void updateEnabled();

    PipelineController* controller_;
    QWidget* window_;
    QAction* run_ = nullptr;
    QAction* run_on_open_ = nullptr;
    QAction* cancel_ = nullptr;
};

}  // namespace transcura::shell
