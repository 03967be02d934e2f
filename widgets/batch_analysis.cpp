#include "batch_analysis.hpp"

#include <cmath>
#include <limits>

#include <QCoreApplication>

namespace transcura::widgets {

namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("BatchMetrics", text);
}

std::vector<float> to_floats(const std::vector<double>& values, size_t n) {
    std::vector<float> out(n, std::numeric_limits<float>::quiet_NaN());
    for (size_t i = 0; i < std::min(n, values.size()); ++i) out[i] = static_cast<float>(values[i]);
    return out;
}

}  // namespace

const std::vector<BatchMetricInfo>& batch_metrics() {
    static const std::vector<BatchMetricInfo> metrics = {
        {BatchMetric::ILisi, tr("iLISI (median)"), tr("iLISI"),
         tr("Integration LISI: the effective number of batches among each cell's neighbours "
            "(1 = one batch only, number of batches = perfectly mixed). Higher is better mixed."),
         true, true},
        {BatchMetric::CLisi, tr("cLISI (median)"), tr("cLISI"),
         tr("Cell-type LISI: the effective number of labels among each cell's neighbours "
            "(1 = pure). Lower keeps cell types apart."),
         false, true},
        {BatchMetric::Kbet, tr("kBET acceptance"), tr("kBET"),
         tr("Share of tested cells whose neighbourhood batch mix is not significantly different "
            "from the whole cohort's (chi-squared test). Higher is better mixed."),
         true, true},
        {BatchMetric::AswBatch, tr("Batch ASW"), tr("batch ASW"),
         tr("scib's batch silhouette: 1 - |silhouette| of batches within each label, averaged "
            "(1 = batches overlap). Higher is better mixed."),
         true, true},
        {BatchMetric::AswLabel, tr("Label ASW"), tr("label ASW"),
         tr("Silhouette of the labels scaled to 0..1. Higher keeps cell types apart."), true, true},
        {BatchMetric::Pcr, tr("PC regression (R\u00b2)"), tr("PCR"),
         tr("Variance of the components explained by the batch, weighted by each component's "
            "variance. Lower is better mixed."),
         false, false},
        {BatchMetric::GraphConnectivity, tr("Graph connectivity"), tr("graph connectivity"),
         tr("Per label, the share of its cells in the largest connected component of the kNN "
            "graph restricted to that label, averaged. Higher is better."),
         true, false},
    };
    return metrics;
}

const BatchMetricInfo& batch_metric_info(BatchMetric metric) {
    for (const BatchMetricInfo& info : batch_metrics())
        if (info.metric == metric) return info;
    return batch_metrics().front();
}

double BatchAnalysis::summary(const DiagnosticsResults& r, BatchMetric metric) {
    switch (metric) {
        case BatchMetric::ILisi:
            return r.ilisi_median;
        case BatchMetric::CLisi:
            return r.clisi_median;
        case BatchMetric::Kbet:
            return r.kbet_acceptance;
        case BatchMetric::AswBatch:
            return r.asw_batch;
        case BatchMetric::AswLabel:
            return r.asw_label;
        case BatchMetric::Pcr:
            return r.pcr_batch;
        case BatchMetric::GraphConnectivity:
            return r.graph_connectivity;
    }
    return std::numeric_limits<double>::quiet_NaN();
}

std::vector<float> BatchAnalysis::per_cell(const DiagnosticsResults& r, BatchMetric metric) {
    const size_t n = static_cast<size_t>(r.n_cells);
    switch (metric) {
        case BatchMetric::ILisi:
            return to_floats(r.ilisi, n);
        case BatchMetric::CLisi:
            return r.n_labels > 0 ? to_floats(r.clisi, n) : std::vector<float>{};
        case BatchMetric::Kbet: {
            std::vector<float> out(n, std::numeric_limits<float>::quiet_NaN());
            for (size_t i = 0; i < std::min(n, r.kbet_accepted.size()); ++i)
                if (r.kbet_accepted[i] >= 0) out[i] = r.kbet_accepted[i];
            return out;
        }
        case BatchMetric::AswBatch:
            return r.batch_asw.per_cell.empty() ? std::vector<float>{}
                                                : to_floats(r.batch_asw.per_cell, n);
        case BatchMetric::AswLabel:
            return r.label_silhouette.per_cell.empty() ? std::vector<float>{}
                                                       : to_floats(r.label_silhouette.per_cell, n);
        case BatchMetric::Pcr:
        case BatchMetric::GraphConnectivity:
            return {};
    }
    return {};
}

}  // namespace transcura::widgets
