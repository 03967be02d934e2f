#pragma once
// What the batch panel shows: core's diagnostics of one embedding before and after Harmony, as
// the shell's BatchController computes them off the GUI thread. The panel only displays these
// values; every number comes from core (diagnostics.hpp, harmony.hpp, batch_summary.hpp).
#include <memory>
#include <optional>
#include <vector>

#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

#include "transcura/diagnostics.hpp"
#include "transcura/harmony.hpp"

namespace transcura::widgets {

/// The rows of the metrics table, in display order.
enum class BatchMetric { ILisi, CLisi, Kbet, AswBatch, AswLabel, Pcr, GraphConnectivity };

struct BatchMetricInfo {
    BatchMetric metric;
    QString name;         // "iLISI (median)"
    QString column;       // short name for titles: "iLISI"
    QString description;  // tooltip
    bool higher_is_better;
    bool per_cell;  // whether the embedding can be coloured by it
};

/// Every metric, in table order.
const std::vector<BatchMetricInfo>& batch_metrics();
const BatchMetricInfo& batch_metric_info(BatchMetric metric);

/// One diagnostics run (raw) and, when Harmony ran, the same on the corrected embedding.
struct BatchAnalysis {
    QString embedding_key;  // the obsm matrix measured, e.g. X_pca
    QString batch_key;
    QString label_key;  // "" = no labels
    CodedLabels batch;
    CodedLabels labels;
    DiagnosticsResults raw;
    nlohmann::json raw_json;  // diagnostics_to_json(raw): per-batch iLISI / kBET medians
    std::optional<DiagnosticsResults> harmony;
    nlohmann::json harmony_json;
    /// Harmony's corrected embedding (X_pca_harmony) and its run; empty without Harmony.
    std::shared_ptr<const DenseD> corrected;
    int harmony_iterations = 0;
    bool harmony_converged = false;
    QString harmony_note;  // why Harmony did not run, when it did not
    double seconds = 0;

    int64_t n_cells() const { return raw.n_cells; }
    /// The summary value of a metric (NaN when undefined).
    static double summary(const DiagnosticsResults& results, BatchMetric metric);
    /// The per-cell score of a metric as floats (NaN = not scored); empty when the metric has
    /// none. kBET: 1 accepted, 0 rejected, NaN not tested.
    static std::vector<float> per_cell(const DiagnosticsResults& results, BatchMetric metric);
};

}  // namespace transcura::widgets
