// Grouped, stratified, seeded train/validation/test splits (see splits.hpp for the method).
#include "transcura/splits.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "engine/random.hpp"
#include "transcura/errors.hpp"
#include "transcura/qc.hpp"

namespace transcura {

using nlohmann::json;

std::vector<SplitFraction> parse_split_fractions(const std::string& text) {
    std::vector<SplitFraction> out;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        const std::string item = text.substr(start, end - start);
        const size_t equals = item.find('=');
        if (equals == std::string::npos || equals == 0)
            throw InvalidArgument("split '" + item + "' is not NAME=FRACTION (e.g. train=0.8)");
        SplitFraction split;
        split.name = item.substr(0, equals);
        const std::string number = item.substr(equals + 1);
        auto result = std::from_chars(number.data(), number.data() + number.size(), split.fraction);
        if (result.ec != std::errc() || result.ptr != number.data() + number.size() ||
            !std::isfinite(split.fraction))
            throw InvalidArgument("split '" + item + "': '" + number + "' is not a number");
        out.push_back(split);
        start = end + 1;
    }
    double sum = 0;
    std::set<std::string> names;
    for (const auto& split : out) {
        if (split.fraction <= 0)
            throw InvalidArgument("split '" + split.name + "' has a fraction <= 0");
        if (!names.insert(split.name).second)
            throw InvalidArgument("split '" + split.name + "' is named twice");
        sum += split.fraction;
    }
    if (std::abs(sum - 1.0) > 1e-6)
        throw InvalidArgument("split fractions add up to " + std::to_string(sum) + ", not 1");
    return out;
}

std::string format_split_fractions(const std::vector<SplitFraction>& fractions) {
    std::string out;
    for (const auto& split : fractions) {
        if (!out.empty()) out += ",";
        char buffer[32];
        auto result = std::to_chars(buffer, buffer + sizeof buffer, split.fraction,
                                    std::chars_format::general, 6);
        out += split.name + "=" + std::string(buffer, result.ptr);
    }
    return out;
}

namespace {

void check_fractions(const std::vector<SplitFraction>& fractions) {
    if (fractions.empty()) throw InvalidArgument("no splits asked for");
    std::set<std::string> names;
    double sum = 0;
    for (const auto& split : fractions) {
        if (split.name.empty()) throw InvalidArgument("a split has an empty name");
        if (!names.insert(split.name).second)
            throw InvalidArgument("split '" + split.name + "' is named twice");
        if (!(split.fraction > 0))
            throw InvalidArgument("split '" + split.name + "' has a fraction <= 0");
        sum += split.fraction;
    }
    if (std::abs(sum - 1.0) > 1e-6)
        throw InvalidArgument("split fractions add up to " + std::to_string(sum) + ", not 1");
}

/// Codes of an obs column for the cells of a view, renumbered densely in order of the column's
/// own codes (categories order, or first appearance); missing values get their own code.
std::vector<int32_t> view_codes(const CohortView& view, const std::string& key,
                                std::vector<std::string>& names) {
    std::vector<std::string> all_names;
    const std::vector<int32_t> codes = batch_codes(view.parent(), key, &all_names);
    std::vector<int32_t> dense(all_names.size() + 1, -1);
    std::vector<uint8_t> present(all_names.size() + 1, 0);
    for (int64_t cell : view.cells()) {
        const int32_t c = codes[static_cast<size_t>(cell)];
        present[c < 0 ? all_names.size() : static_cast<size_t>(c)] = 1;
    }
    names.clear();
    for (size_t c = 0; c <= all_names.size(); ++c) {
        if (!present[c]) continue;
        dense[c] = static_cast<int32_t>(names.size());
        names.push_back(c < all_names.size() ? all_names[c] : std::string("(missing)"));
    }
    std::vector<int32_t> out(view.cells().size());
    for (size_t p = 0; p < out.size(); ++p) {
        const int32_t c = codes[static_cast<size_t>(view.cells()[p])];
        out[p] = dense[c < 0 ? all_names.size() : static_cast<size_t>(c)];
    }
    return out;
}

template <typename T>
void shuffle(std::vector<T>& values, engine::Rng& rng) {
    for (size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[rng.below(i)]);
}

/// The grouped assignment problem: groups with per-stratum counts placed into splits.
class GroupPlacer {
public:
    GroupPlacer(const std::vector<double>& fractions,
                const std::vector<std::vector<int64_t>>& group_strata, size_t n_strata)
        : n_splits_(fractions.size()), n_strata_(n_strata), group_strata_(group_strata) {
        std::vector<double> stratum_total(n_strata, 0);
        double total = 0;
        group_size_.resize(group_strata.size());
        for (size_t g = 0; g < group_strata.size(); ++g) {
            for (size_t k = 0; k < n_strata; ++k) {
                stratum_total[k] += static_cast<double>(group_strata[g][k]);
                group_size_[g] += group_strata[g][k];
            }
        }
        for (double t : stratum_total) total += t;
        size_weight_ = n_strata > 1 ? static_cast<double>(n_strata) : 1.0;
        target_.resize(n_splits_);
        target_strata_.assign(n_splits_, std::vector<double>(n_strata));
        for (size_t s = 0; s < n_splits_; ++s) {
            target_[s] = std::max(fractions[s] * total, 1e-9);
            for (size_t k = 0; k < n_strata; ++k)
                target_strata_[s][k] = std::max(fractions[s] * stratum_total[k], 1e-9);
        }
        size_.assign(n_splits_, 0);
        strata_.assign(n_splits_, std::vector<double>(n_strata, 0));
        members_.assign(n_splits_, 0);
        split_of_.assign(group_strata.size(), -1);
    }

    int64_t group_size(size_t g) const { return group_size_[g]; }
    int split_of(size_t g) const { return split_of_[g]; }
    int64_t members(size_t s) const { return members_[s]; }

    /// Cost of split s when group `add` joins it (sign +1) or leaves it (-1), optionally with a
    /// second group `other` moving the other way (for swaps).
    double term(size_t s, const std::vector<std::pair<size_t, int>>& changes) const {
        double size = size_[s];
        for (auto [g, sign] : changes) size += sign * static_cast<double>(group_size_[g]);
        double cost = size_weight_ * (size - target_[s]) * (size - target_[s]) / target_[s];
        if (n_strata_ > 1) {
            for (size_t k = 0; k < n_strata_; ++k) {
                double c = strata_[s][k];
                for (auto [g, sign] : changes) c += sign * static_cast<double>(group_strata_[g][k]);
                cost +=
                    (c - target_strata_[s][k]) * (c - target_strata_[s][k]) / target_strata_[s][k];
            }
        }
        return cost;
    }
    double term(size_t s) const { return term(s, {}); }
    double total_cost() const {
        double cost = 0;
        for (size_t s = 0; s < n_splits_; ++s) cost += term(s);
        return cost;
    }

    void place(size_t g, int s) {
        if (split_of_[g] >= 0) apply(g, static_cast<size_t>(split_of_[g]), -1);
        split_of_[g] = s;
        if (s >= 0) apply(g, static_cast<size_t>(s), +1);
    }

    /// Cost change of moving g (assigned or not) to split t.
    double move_delta(size_t g, size_t t) const {
        const int from = split_of_[g];
        if (from == static_cast<int>(t)) return 0;
        double delta = term(t, {{g, +1}}) - term(t);
        if (from >= 0)
            delta += term(static_cast<size_t>(from), {{g, -1}}) - term(static_cast<size_t>(from));
        return delta;
    }

    double swap_delta(size_t g, size_t h) const {
        const size_t s = static_cast<size_t>(split_of_[g]), t = static_cast<size_t>(split_of_[h]);
        return term(s, {{g, -1}, {h, +1}}) - term(s) + term(t, {{h, -1}, {g, +1}}) - term(t);
    }

private:
    void apply(size_t g, size_t s, int sign) {
        size_[s] += sign * static_cast<double>(group_size_[g]);
        for (size_t k = 0; k < n_strata_; ++k)
            strata_[s][k] += sign * static_cast<double>(group_strata_[g][k]);
        members_[s] += sign;
    }

    size_t n_splits_, n_strata_;
    const std::vector<std::vector<int64_t>>& group_strata_;
    std::vector<int64_t> group_size_;
    double size_weight_ = 1;
    std::vector<double> target_;
    std::vector<std::vector<double>> target_strata_;
    std::vector<double> size_;
    std::vector<std::vector<double>> strata_;
    std::vector<int64_t> members_;
    std::vector<int> split_of_;
};

constexpr double kImprovement = 1e-9;

/// One greedy placement (in `order`) refined by moves and swaps: (cost, split of each group).
std::pair<double, std::vector<int>> local_search(
    const std::vector<std::vector<int64_t>>& group_strata, size_t n_strata,
    const std::vector<double>& fractions, const SplitOptions& options,
    const std::vector<size_t>& order) {
    const size_t n_groups = group_strata.size(), n_splits = fractions.size();
    GroupPlacer placer(fractions, group_strata, n_strata);
    for (size_t g : order) {
        size_t best = 0;
        double best_delta = INFINITY;
        for (size_t s = 0; s < n_splits; ++s) {
            const double delta = placer.move_delta(g, s);
            if (delta < best_delta - kImprovement) best_delta = delta, best = s;
        }
        placer.place(g, static_cast<int>(best));
    }
    options.control.check();

    const bool keep_nonempty = options.require_nonempty && n_groups >= n_splits;
    if (keep_nonempty) {
        for (size_t t = 0; t < n_splits; ++t) {
            if (placer.members(t) > 0) continue;
            int best = -1;
            double best_delta = INFINITY;
            for (size_t g = 0; g < n_groups; ++g) {
                if (placer.members(static_cast<size_t>(placer.split_of(g))) < 2) continue;
                const double delta = placer.move_delta(g, t);
                if (delta < best_delta) best_delta = delta, best = static_cast<int>(g);
            }
            if (best >= 0) placer.place(static_cast<size_t>(best), static_cast<int>(t));
        }
    }

    const bool try_swaps = n_groups <= 2000;
    for (int pass = 0; pass < options.refine_passes; ++pass) {
        bool improved = false;
        for (size_t g : order) {
            const size_t from = static_cast<size_t>(placer.split_of(g));
            if (keep_nonempty && placer.members(from) < 2) continue;
            size_t best = from;
            double best_delta = -kImprovement;
            for (size_t t = 0; t < n_splits; ++t) {
                if (t == from) continue;
                const double delta = placer.move_delta(g, t);
                if (delta < best_delta) best_delta = delta, best = t;
            }
            if (best != from) placer.place(g, static_cast<int>(best)), improved = true;
        }
        if (try_swaps) {
            for (size_t a = 0; a < n_groups; ++a) {
                const size_t g = order[a];
                size_t best = n_groups;
                double best_delta = -kImprovement;
                for (size_t b = a + 1; b < n_groups; ++b) {
                    const size_t h = order[b];
                    if (placer.split_of(h) == placer.split_of(g)) continue;
                    const double delta = placer.swap_delta(g, h);
                    if (delta < best_delta) best_delta = delta, best = h;
                }
                if (best < n_groups) {
                    const int s = placer.split_of(g), t = placer.split_of(best);
                    placer.place(g, t);
                    placer.place(best, s);
                    improved = true;
                }
            }
        }
        options.control.check();
        if (!improved) break;
    }
    std::vector<int> split_of(n_groups);
    for (size_t g = 0; g < n_groups; ++g) split_of[g] = placer.split_of(g);
    return {placer.total_cost(), split_of};
}

/// Every assignment of a few groups, the cheapest kept (ties broken by the seeded RNG).
std::vector<int> exhaustive_search(const std::vector<std::vector<int64_t>>& group_strata,
                                   size_t n_strata, const std::vector<double>& fractions,
                                   bool keep_nonempty, engine::Rng& rng) {
    const size_t n_groups = group_strata.size(), n_splits = fractions.size();
    GroupPlacer placer(fractions, group_strata, n_strata);
    std::vector<int> digits(n_groups, 0), best(n_groups, 0);
    for (size_t g = 0; g < n_groups; ++g) placer.place(g, 0);
    double best_cost = INFINITY;
    uint64_t ties = 0;
    while (true) {
        bool feasible = true;
        if (keep_nonempty)
            for (size_t s = 0; s < n_splits; ++s) feasible = feasible && placer.members(s) > 0;
        if (feasible) {
            const double cost = placer.total_cost();
            if (cost < best_cost - kImprovement) {
                best_cost = cost, best = digits, ties = 1;
            } else if (cost <= best_cost + kImprovement && rng.below(++ties) == 0) {
                best = digits;
            }
        }
        // Next assignment in mixed radix, updating only the groups that change.
        size_t g = 0;
        while (g < n_groups && digits[g] == static_cast<int>(n_splits) - 1) {
            digits[g] = 0;
            placer.place(g, 0);
            ++g;
        }
        if (g == n_groups) break;
        placer.place(g, ++digits[g]);
    }
    return best;
}

std::vector<int> place_groups(const std::vector<std::vector<int64_t>>& group_strata,
                              size_t n_strata, const SplitOptions& options, engine::Rng& rng,
                              std::vector<std::string>& warnings) {
    const size_t n_groups = group_strata.size(), n_splits = options.fractions.size();
    std::vector<double> fractions;
    for (const auto& f : options.fractions) fractions.push_back(f.fraction);
    if (n_groups < n_splits)
        warnings.push_back("only " + std::to_string(n_groups) + " groups for " +
                           std::to_string(n_splits) + " splits: some splits are empty");
    const bool keep_nonempty = options.require_nonempty && n_groups >= n_splits;
    double assignments = 1;
    for (size_t g = 0; g < n_groups; ++g) assignments *= static_cast<double>(n_splits);
    if (assignments <= static_cast<double>(options.exhaustive_limit))
        return exhaustive_search(group_strata, n_strata, fractions, keep_nonempty, rng);

    std::vector<int64_t> sizes(n_groups, 0);
    for (size_t g = 0; g < n_groups; ++g)
        for (int64_t c : group_strata[g]) sizes[g] += c;
    std::vector<size_t> order(n_groups);
    std::iota(order.begin(), order.end(), 0);
    std::pair<double, std::vector<int>> best{INFINITY, {}};
    // Many groups make fractions easy and swaps costly: one run is enough there.
    const int runs = n_groups > 500 ? 1 : std::max(1, options.restarts);
    for (int restart = 0; restart < runs; ++restart) {
        // First the classic largest-first order (ties shuffled), then random orders.
        shuffle(order, rng);
        if (restart == 0)
            std::stable_sort(order.begin(), order.end(),
                             [&](size_t a, size_t b) { return sizes[a] > sizes[b]; });
        auto result = local_search(group_strata, n_strata, fractions, options, order);
        if (result.first < best.first - kImprovement) best = std::move(result);
        options.control.check();
    }
    return best.second;
}

/// Ungrouped: cut each shuffled stratum by largest remainder, leftovers to the splits furthest
/// below their overall targets.
std::vector<int32_t> split_cells(const std::vector<int32_t>& strata, size_t n_strata,
                                 const SplitOptions& options, engine::Rng& rng) {
    const size_t n_splits = options.fractions.size();
    std::vector<std::vector<int64_t>> members(n_strata);
    for (size_t p = 0; p < strata.size(); ++p)
        members[static_cast<size_t>(strata[p])].push_back(static_cast<int64_t>(p));
    std::vector<int32_t> assignment(strata.size(), 0);
    std::vector<double> assigned(n_splits, 0);
    double seen = 0;
    for (auto& cells : members) {
        shuffle(cells, rng);
        const double n = static_cast<double>(cells.size());
        seen += n;
        std::vector<int64_t> take(n_splits);
        int64_t given = 0;
        for (size_t s = 0; s < n_splits; ++s) {
            take[s] = static_cast<int64_t>(std::floor(options.fractions[s].fraction * n));
            given += take[s];
        }
        std::vector<size_t> order(n_splits);
        std::iota(order.begin(), order.end(), 0);
        // Deficit against the overall target so far, counting what this stratum already gives.
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            const double da = options.fractions[a].fraction * seen - (assigned[a] + take[a]);
            const double db = options.fractions[b].fraction * seen - (assigned[b] + take[b]);
            return da > db;
        });
        for (size_t i = 0; given < static_cast<int64_t>(cells.size()); i = (i + 1) % n_splits) {
            ++take[order[i]];
            ++given;
        }
        size_t at = 0;
        for (size_t s = 0; s < n_splits; ++s) {
            for (int64_t i = 0; i < take[s]; ++i)
                assignment[static_cast<size_t>(cells[at++])] = static_cast<int32_t>(s);
            assigned[s] += static_cast<double>(take[s]);
        }
    }
    return assignment;
}

}  // namespace

SplitResults split_cohort(const CohortView& view, const SplitOptions& options) {
    check_fractions(options.fractions);
    for (const std::string* key : {&options.group_key, &options.stratify_key})
        if (!key->empty() && !view.parent().obs.contains(*key))
            throw InvalidArgument("split: obs has no column '" + *key + "'");
    const size_t n_splits = options.fractions.size();
    const size_t n = static_cast<size_t>(view.n_obs());
    SplitResults results;
    for (const auto& f : options.fractions) {
        results.names.push_back(f.name);
        results.requested_fractions.push_back(f.fraction);
    }
    results.group_key = options.group_key;
    results.stratify_key = options.stratify_key;
    results.seed = options.seed;
    engine::Rng rng(options.seed, 0x5B117);

    std::vector<int32_t> strata(n, 0);
    size_t n_strata = 1;
    if (!options.stratify_key.empty()) {
        strata = view_codes(view, options.stratify_key, results.strata);
        n_strata = std::max<size_t>(results.strata.size(), 1);
    }
    options.control.report(0.0, "splitting");

    if (!options.group_key.empty()) {
        std::vector<std::string> group_names;
        const std::vector<int32_t> groups = view_codes(view, options.group_key, group_names);
        std::vector<std::vector<int64_t>> group_strata(group_names.size(),
                                                       std::vector<int64_t>(n_strata, 0));
        for (size_t p = 0; p < n; ++p)
            ++group_strata[static_cast<size_t>(groups[p])][static_cast<size_t>(strata[p])];
        const std::vector<int> split_of =
            place_groups(group_strata, n_strata, options, rng, results.warnings);
        results.assignment.resize(n);
        for (size_t p = 0; p < n; ++p)
            results.assignment[p] = split_of[static_cast<size_t>(groups[p])];
        results.groups.assign(n_splits, {});
        for (size_t g = 0; g < group_names.size(); ++g)
            results.groups[static_cast<size_t>(split_of[g])].push_back(group_names[g]);
        for (auto& names : results.groups) std::sort(names.begin(), names.end());
    } else {
        results.assignment = split_cells(strata, n_strata, options, rng);
    }

    results.positions.assign(n_splits, {});
    for (size_t p = 0; p < n; ++p)
        results.positions[static_cast<size_t>(results.assignment[p])].push_back(
            static_cast<int64_t>(p));
    if (!options.stratify_key.empty()) {
        results.strata_counts.assign(n_splits, std::vector<int64_t>(results.strata.size(), 0));
        for (size_t p = 0; p < n; ++p)
            ++results.strata_counts[static_cast<size_t>(results.assignment[p])]
                                   [static_cast<size_t>(strata[p])];
    }
    const std::vector<double> achieved = results.achieved_fractions();
    for (size_t s = 0; s < n_splits; ++s) {
        if (n > 0 && std::abs(achieved[s] - results.requested_fractions[s]) > 0.02) {
            char text[160];
            std::snprintf(text, sizeof text, "split '%s' holds %.4f of the cells (asked %.4f)%s",
                          results.names[s].c_str(), achieved[s], results.requested_fractions[s],
                          options.group_key.empty() ? "" : ": the groups are too coarse");
            results.warnings.push_back(text);
        }
    }
    options.control.report(1.0, "splitting");
    return results;
}

SplitResults single_split(const CohortView& view, const std::string& name) {
    SplitResults results;
    results.names = {name};
    results.requested_fractions = {1.0};
    results.assignment.assign(static_cast<size_t>(view.n_obs()), 0);
    results.positions.resize(1);
    results.positions[0].resize(static_cast<size_t>(view.n_obs()));
    std::iota(results.positions[0].begin(), results.positions[0].end(), 0);
    return results;
}

std::vector<double> SplitResults::achieved_fractions() const {
    std::vector<double> out;
    const double n = static_cast<double>(total());
    for (const auto& p : positions) out.push_back(n > 0 ? static_cast<double>(p.size()) / n : 0.0);
    return out;
}

CohortView SplitResults::split_view(const CohortView& view, size_t split) const {
    return view.select_cells(positions.at(split));
}

json SplitResults::to_json() const {
    json out;
    out["names"] = names;
    out["requested_fractions"] = requested_fractions;
    out["achieved_fractions"] = achieved_fractions();
    json sizes = json::object();
    for (size_t s = 0; s < names.size(); ++s) sizes[names[s]] = size(s);
    out["n_obs"] = sizes;
    out["group_key"] = group_key.empty() ? json(nullptr) : json(group_key);
    out["stratify_key"] = stratify_key.empty() ? json(nullptr) : json(stratify_key);
    out["seed"] = seed;
    if (!groups.empty()) {
        json g = json::object();
        for (size_t s = 0; s < names.size(); ++s) g[names[s]] = groups[s];
        out["groups"] = g;
    }
    if (!strata_counts.empty()) {
        json st = json::object();
        for (size_t s = 0; s < names.size(); ++s) {
            json per = json::object();
            for (size_t k = 0; k < strata.size(); ++k) per[strata[k]] = strata_counts[s][k];
            st[names[s]] = per;
        }
        out["strata"] = st;
    }
    out["warnings"] = warnings;
    return out;
}

}  // namespace transcura
