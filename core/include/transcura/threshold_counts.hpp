#pragma once
// Counting for the QC plots: how many cells a set of thresholds removes, in total and per group
// (batch); binned counts per group (histograms) and per-group quantiles (violins); cells per
// group in a selection. Exact, single pass, fast enough to run on every mouse move at 1M cells.
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace transcura {

/// One threshold on one per-cell metric: a cell is removed when its value is below `lower` or
/// above `upper`. NaN bounds mean "no bound"; a NaN (missing) value is never removed.
struct ThresholdRule {
    std::span<const double> values;
    double lower = std::numeric_limits<double>::quiet_NaN();
    double upper = std::numeric_limits<double>::quiet_NaN();

    bool removes(double value) const {
        return value < lower || value > upper;  // false for NaN value or NaN bound
    }
};

struct ThresholdCounts {
    int64_t total = 0;                 // cells considered
    int64_t removed = 0;               // cells failing at least one rule
    std::vector<int64_t> group_total;  // per group code (cells with code -1 are in no group)
    std::vector<int64_t> group_removed;
};

/// Cells removed by any of `rules`. `groups` holds one code per cell in [0, n_groups) or -1,
/// or is empty (no groups). Throws InvalidArgument when lengths disagree.
ThresholdCounts count_removed(const std::vector<ThresholdRule>& rules,
                              std::span<const int32_t> groups, int n_groups);

/// Counts per group and bin. `edges` are increasing bin edges (n_bins + 1); bin i holds
/// edges[i] <= v < edges[i + 1], the last bin also holds v == edges.back(). Values outside the
/// edges and NaN are counted apart. With empty `groups` everything is group 0.
struct GroupHistogram {
    std::vector<double> edges;
    std::vector<std::vector<int64_t>> counts;  // [group][bin]
    std::vector<int64_t> outside;              // [group]: below the first or above the last edge
    std::vector<int64_t> missing;              // [group]: NaN
};
GroupHistogram binned_counts(std::span<const double> values, std::span<const int32_t> groups,
                             int n_groups, std::vector<double> edges);

/// Quantiles (linear interpolation, as numpy's default) of the finite values of each group.
/// Result [group][k] for probabilities[k]; NaN for an empty group.
std::vector<std::vector<double>> group_quantiles(std::span<const double> values,
                                                 std::span<const int32_t> groups, int n_groups,
                                                 const std::vector<double>& probabilities);

/// Number of cells with each code in [0, n_codes) (codes outside are not counted).
std::vector<int64_t> count_codes(std::span<const int32_t> codes, int n_codes);

/// Number of the given cells (row indices) in each group.
std::vector<int64_t> count_per_group(std::span<const int64_t> cells,
                                     std::span<const int32_t> groups, int n_groups);

}  // namespace transcura
