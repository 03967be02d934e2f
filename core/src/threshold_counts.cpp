#include "transcura/threshold_counts.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "transcura/errors.hpp"

namespace transcura {

namespace {

void check_groups(std::span<const int32_t> groups, size_t n, int n_groups, const char* what) {
    if (n_groups < 0) throw InvalidArgument(std::string(what) + ": negative number of groups");
    if (!groups.empty() && groups.size() != n)
        throw InvalidArgument(std::string(what) + ": " + std::to_string(groups.size()) +
                              " group codes for " + std::to_string(n) + " cells");
}

int group_of(std::span<const int32_t> groups, size_t i, int n_groups) {
    if (groups.empty()) return n_groups > 0 ? 0 : -1;
    int32_t g = groups[i];
    return g >= 0 && g < n_groups ? g : -1;
}

}  // namespace

ThresholdCounts count_removed(const std::vector<ThresholdRule>& rules,
                              std::span<const int32_t> groups, int n_groups) {
    size_t n = rules.empty() ? groups.size() : rules.front().values.size();
    for (const ThresholdRule& rule : rules)
        if (rule.values.size() != n)
            throw InvalidArgument("count_removed: metrics of different lengths");
    check_groups(groups, n, n_groups, "count_removed");

    ThresholdCounts counts;
    counts.total = static_cast<int64_t>(n);
    counts.group_total.assign(static_cast<size_t>(n_groups), 0);
    counts.group_removed.assign(static_cast<size_t>(n_groups), 0);
    for (size_t i = 0; i < n; ++i) {
        bool removed = false;
        for (const ThresholdRule& rule : rules)
            if (rule.removes(rule.values[i])) {
                removed = true;
                break;
            }
        int g = group_of(groups, i, n_groups);
        if (g >= 0) ++counts.group_total[static_cast<size_t>(g)];
        if (!removed) continue;
        ++counts.removed;
        if (g >= 0) ++counts.group_removed[static_cast<size_t>(g)];
    }
    return counts;
}

GroupHistogram binned_counts(std::span<const double> values, std::span<const int32_t> groups,
                             int n_groups, std::vector<double> edges) {
    check_groups(groups, values.size(), n_groups, "binned_counts");
    if (edges.size() < 2 || !std::is_sorted(edges.begin(), edges.end()))
        throw InvalidArgument("binned_counts: need at least two increasing edges");
    int groups_used = std::max(n_groups, groups.empty() ? 1 : 0);
    size_t n_bins = edges.size() - 1;
    GroupHistogram histogram;
    histogram.counts.assign(static_cast<size_t>(groups_used), std::vector<int64_t>(n_bins, 0));
    histogram.outside.assign(static_cast<size_t>(groups_used), 0);
    histogram.missing.assign(static_cast<size_t>(groups_used), 0);

    // Uniform edges (the usual case) bin in O(1); others by binary search.
    double first = edges.front(), last = edges.back();
    double width = (last - first) / static_cast<double>(n_bins);
    bool uniform = width > 0;
    for (size_t i = 0; uniform && i < edges.size(); ++i)
        uniform = std::abs(edges[i] - (first + width * static_cast<double>(i))) <= 1e-9 * width;

    for (size_t i = 0; i < values.size(); ++i) {
        int g = groups.empty() ? 0 : group_of(groups, i, n_groups);
        if (g < 0) continue;
        double v = values[i];
        if (std::isnan(v)) {
            ++histogram.missing[static_cast<size_t>(g)];
            continue;
        }
        if (v < first || v > last) {
            ++histogram.outside[static_cast<size_t>(g)];
            continue;
        }
        size_t bin;
        if (uniform) {
            bin = static_cast<size_t>((v - first) / width);
            // Floating point: keep the exact edge convention of the binary search.
            while (bin > 0 && v < edges[bin]) --bin;
            while (bin + 1 < n_bins && v >= edges[bin + 1]) ++bin;
        } else {
            bin = static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), v) -
                                      edges.begin()) -
                  1;
        }
        ++histogram.counts[static_cast<size_t>(g)][std::min(bin, n_bins - 1)];
    }
    histogram.edges = std::move(edges);
    return histogram;
}

std::vector<std::vector<double>> group_quantiles(std::span<const double> values,
                                                 std::span<const int32_t> groups, int n_groups,
                                                 const std::vector<double>& probabilities) {
    check_groups(groups, values.size(), n_groups, "group_quantiles");
    int groups_used = std::max(n_groups, groups.empty() ? 1 : 0);
    std::vector<std::vector<double>> members(static_cast<size_t>(groups_used));
    for (size_t i = 0; i < values.size(); ++i) {
        int g = groups.empty() ? 0 : group_of(groups, i, n_groups);
        if (g >= 0 && std::isfinite(values[i]))
            members[static_cast<size_t>(g)].push_back(values[i]);
    }
    std::vector<std::vector<double>> result(static_cast<size_t>(groups_used));
    for (size_t g = 0; g < members.size(); ++g) {
        std::vector<double>& v = members[g];
        std::sort(v.begin(), v.end());
        for (double p : probabilities) {
            if (v.empty() || !(p >= 0.0 && p <= 1.0)) {
                result[g].push_back(std::numeric_limits<double>::quiet_NaN());
                continue;
            }
            double position = p * static_cast<double>(v.size() - 1);
            size_t below = static_cast<size_t>(std::floor(position));
            size_t above = std::min(below + 1, v.size() - 1);
            double fraction = position - static_cast<double>(below);
            result[g].push_back(v[below] + (v[above] - v[below]) * fraction);
        }
    }
    return result;
}

std::vector<int64_t> count_codes(std::span<const int32_t> codes, int n_codes) {
    if (n_codes < 0) throw InvalidArgument("count_codes: negative number of codes");
    std::vector<int64_t> counts(static_cast<size_t>(n_codes), 0);
    for (int32_t code : codes)
        if (code >= 0 && code < n_codes) ++counts[static_cast<size_t>(code)];
    return counts;
}

std::vector<int64_t> count_per_group(std::span<const int64_t> cells,
                                     std::span<const int32_t> groups, int n_groups) {
    if (n_groups < 0) throw InvalidArgument("count_per_group: negative number of groups");
    std::vector<int64_t> counts(static_cast<size_t>(n_groups), 0);
    for (int64_t cell : cells) {
        if (cell < 0 || (!groups.empty() && static_cast<size_t>(cell) >= groups.size()))
            throw InvalidArgument("count_per_group: cell index " + std::to_string(cell) +
                                  " out of range");
        int g = group_of(groups, static_cast<size_t>(cell), n_groups);
        if (g >= 0) ++counts[static_cast<size_t>(g)];
    }
    return counts;
}

}  // namespace transcura
