// Leakage report: shared groups, duplicated count profiles across splits, batch predictability.
#include "transcura/leakage.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>

#include "engine/random.hpp"
#include "transcura/errors.hpp"
#include "transcura/hvg.hpp"
#include "transcura/normalize.hpp"
#include "transcura/pca.hpp"
#include "transcura/qc.hpp"

namespace transcura {

using nlohmann::json;

uint64_t profile_hash(const int32_t* indices, const float* values, int64_t n) {
    uint64_t h = 0x243F6A8885A308D3ull ^ static_cast<uint64_t>(n);
    for (int64_t i = 0; i < n; ++i) {
        if (values[i] == 0) continue;
        uint32_t bits;
        std::memcpy(&bits, &values[i], sizeof bits);
        uint64_t word = (static_cast<uint64_t>(static_cast<uint32_t>(indices[i])) << 32) | bits;
        h ^= word + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
        h = (h ^ (h >> 31)) * 0x7FB5D329728EA185ull;
    }
    return h ^ (h >> 29);
}

namespace {

using Profile = std::vector<std::pair<int32_t, float>>;

/// The non-zero entries of a cell over the view's genes (positions within the view).
Profile cell_profile(const Matrix& X, int64_t cell, const std::vector<int32_t>& gene_position) {
    Profile out;
    if (X.is_sparse()) {
        const CsrMatrix& m = X.sparse();
        for (int64_t i = m.indptr[cell]; i < m.indptr[cell + 1]; ++i) {
            const int32_t g = gene_position[static_cast<size_t>(m.indices[i])];
            if (g >= 0 && m.data[i] != 0) out.emplace_back(g, m.data[i]);
        }
    } else {
        const float* row = X.dense().row(cell);
        for (int64_t j = 0; j < X.n_cols(); ++j) {
            const int32_t g = gene_position[static_cast<size_t>(j)];
            if (g >= 0 && row[j] != 0) out.emplace_back(g, row[j]);
        }
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
}

uint64_t hash_profile(const Profile& p) {
    std::vector<int32_t> indices(p.size());
    std::vector<float> values(p.size());
    for (size_t i = 0; i < p.size(); ++i) indices[i] = p[i].first, values[i] = p[i].second;
    return profile_hash(indices.data(), values.data(), static_cast<int64_t>(p.size()));
}

void find_duplicates(const CohortView& view, const SplitResults& splits,
                     const LeakageOptions& options, LeakageResults& out) {
    const Cohort& parent = view.parent();
    if (!parent.X) {
        out.duplicates_reason = "the cohort has no expression matrix X";
        return;
    }
    out.duplicates_checked = true;
    std::vector<int32_t> gene_position(static_cast<size_t>(parent.n_vars()), -1);
    for (size_t g = 0; g < view.genes().size(); ++g)
        gene_position[static_cast<size_t>(view.genes()[g])] = static_cast<int32_t>(g);
    const size_t n = view.cells().size();
    std::vector<std::pair<uint64_t, int64_t>> hashes;  // (hash, position in view)
    hashes.reserve(n);
    for (size_t p = 0; p < n; ++p) {
        const Profile profile = cell_profile(*parent.X, view.cells()[p], gene_position);
        if (profile.empty()) {
            ++out.empty_profiles;
            continue;
        }
        hashes.emplace_back(hash_profile(profile), static_cast<int64_t>(p));
        if (p % 65536 == 0) options.control.check();
    }
    std::sort(hashes.begin(), hashes.end());
    for (size_t begin = 0; begin < hashes.size();) {
        size_t end = begin + 1;
        while (end < hashes.size() && hashes[end].first == hashes[begin].first) ++end;
        std::set<int32_t> run_splits;
        for (size_t i = begin; i < end; ++i)
            run_splits.insert(splits.assignment[static_cast<size_t>(hashes[i].second)]);
        if (run_splits.size() > 1) {
            // Same hash in two splits: compare exactly, class by class.
            std::vector<std::pair<Profile, std::vector<int64_t>>> classes;
            for (size_t i = begin; i < end; ++i) {
                const int64_t p = hashes[i].second;
                Profile profile =
                    cell_profile(*parent.X, view.cells()[static_cast<size_t>(p)], gene_position);
                auto it = std::find_if(classes.begin(), classes.end(),
                                       [&](const auto& c) { return c.first == profile; });
                if (it == classes.end())
                    classes.push_back({std::move(profile), {p}});
                else
                    it->second.push_back(p);
            }
            for (const auto& [profile, members] : classes) {
                std::set<int32_t> member_splits;
                for (int64_t p : members)
                    member_splits.insert(splits.assignment[static_cast<size_t>(p)]);
                if (member_splits.size() < 2) continue;
                ++out.duplicate_profiles;
                out.duplicate_cells += static_cast<int64_t>(members.size());
                if (static_cast<int>(out.duplicate_examples.size()) >= options.max_examples)
                    continue;
                const int64_t a = members.front();
                const int32_t split_a = splits.assignment[static_cast<size_t>(a)];
                for (int64_t b : members) {
                    const int32_t split_b = splits.assignment[static_cast<size_t>(b)];
                    if (split_b == split_a) continue;
                    out.duplicate_examples.push_back(
                        {parent
                             .obs_names[static_cast<size_t>(view.cells()[static_cast<size_t>(a)])],
                         splits.names[static_cast<size_t>(split_a)],
                         parent
                             .obs_names[static_cast<size_t>(view.cells()[static_cast<size_t>(b)])],
                         splits.names[static_cast<size_t>(split_b)]});
                    break;
                }
            }
        }
        begin = end;
    }
}

/// PCs for the cells of the view (rows in view order), or empty with `reason` set.
DenseD view_pcs(const CohortView& view, const LeakageOptions& options, std::string& source,
                std::string& reason) {
    const Cohort& parent = view.parent();
    auto it = parent.obsm.find(options.embedding);
    if (it != parent.obsm.end() && it->second.n_cols >= 1) {
        const DenseD& all = it->second;
        const int64_t k = std::min<int64_t>(options.n_pcs, all.n_cols);
        DenseD out(view.n_obs(), k);
        for (int64_t p = 0; p < view.n_obs(); ++p)
            std::copy_n(all.row(view.cells()[static_cast<size_t>(p)]), k, out.row(p));
        source = "obsm/" + options.embedding + " (first " + std::to_string(k) + " columns)";
        return out;
    }
    if (!options.compute_pcs_if_missing) {
        reason = "obsm has no '" + options.embedding + "' and computing PCs was not asked for";
        return {};
    }
    if (!parent.X) {
        reason = "obsm has no '" + options.embedding + "' and there is no X to compute PCs from";
        return {};
    }
    if (view.n_obs() < 3 || view.n_vars() < 3) {
        reason = "too few cells or genes to compute PCs";
        return {};
    }
    const std::vector<int64_t>& cells = view.cells();
    const std::vector<int64_t>& genes = view.genes();
    const Matrix counts = parent.X->subset(&cells, &genes);
    const std::vector<double> factors = normalization_factors(counts, 1e4, options.control);
    HvgOptions hvg_options;
    hvg_options.n_top_genes = std::min<int>(options.n_hvg, static_cast<int>(view.n_vars()));
    hvg_options.control = options.control;
    hvg_options.control.progress = nullptr;
    const HvgResults hvg = highly_variable_genes_normalized(counts, factors, hvg_options);
    const std::vector<int64_t> selected = hvg.selected();
    if (selected.size() < 2) {
        reason = "fewer than 2 variable genes to compute PCs from";
        return {};
    }
    Matrix log_hvg(normalized_log_columns(counts, factors, selected, options.control));
    PcaOptions pca_options;
    pca_options.n_components = static_cast<int>(std::min<int64_t>(
        {options.n_pcs, view.n_obs() - 1, static_cast<int64_t>(selected.size())}));
    pca_options.seed = options.seed;
    pca_options.control = options.control;
    pca_options.control.progress = nullptr;
    PcaResults pca = run_pca(log_hvg, pca_options);
    source = "computed: normalize_total 1e4, log1p, " + std::to_string(selected.size()) +
             " seurat HVGs, " + std::to_string(pca.scores.n_cols) + " PCs";
    return std::move(pca.scores);
}

BatchPredictability predict_batch(const DenseD& pcs, const std::vector<int64_t>& positions,
                                  const std::vector<int32_t>& batch_of_position,
                                  const std::string& split, const LeakageOptions& options,
                                  uint64_t stream) {
    BatchPredictability out;
    out.split = split;
    engine::Rng rng(options.seed, 0x1EA4 + stream);
    std::vector<int64_t> cells;
    for (int64_t p : positions)
        if (batch_of_position[static_cast<size_t>(p)] >= 0) cells.push_back(p);
    for (size_t i = cells.size(); i > 1; --i) std::swap(cells[i - 1], cells[rng.below(i)]);
    if (static_cast<int64_t>(cells.size()) > options.max_cells)
        cells.resize(static_cast<size_t>(options.max_cells));
    std::sort(cells.begin(), cells.end());
    const size_t n = cells.size();
    std::vector<int32_t> label(n);
    int32_t max_label = -1;
    for (size_t i = 0; i < n; ++i) {
        label[i] = batch_of_position[static_cast<size_t>(cells[i])];
        max_label = std::max(max_label, label[i]);
    }
    std::vector<int64_t> per_class(static_cast<size_t>(max_label + 1), 0);
    for (int32_t l : label) ++per_class[static_cast<size_t>(l)];
    out.n_batches = static_cast<int>(
        std::count_if(per_class.begin(), per_class.end(), [](int64_t c) { return c > 0; }));
    out.n_cells = static_cast<int64_t>(n);
    const int folds = std::max(2, options.folds);
    if (out.n_batches < 2) {
        out.reason = "fewer than 2 batches in this split";
        return out;
    }
    if (static_cast<int64_t>(n) < 4 * folds) {
        out.reason = "fewer than " + std::to_string(4 * folds) + " cells with a batch";
        return out;
    }
    // Stratified folds: within each class, shuffled cells dealt round-robin.
    std::vector<int> fold(n);
    std::vector<std::vector<size_t>> members(per_class.size());
    for (size_t i = 0; i < n; ++i) members[static_cast<size_t>(label[i])].push_back(i);
    int next = 0;
    for (auto& m : members) {
        for (size_t i = m.size(); i > 1; --i) std::swap(m[i - 1], m[rng.below(i)]);
        for (size_t i : m) fold[i] = next++ % folds;
    }
    const int64_t d = pcs.n_cols;
    std::vector<int32_t> predicted(n, -1);
    const int threads = options.control.threads();
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads)
    for (int64_t ii = 0; ii < static_cast<int64_t>(n); ++ii) {
        const size_t i = static_cast<size_t>(ii);
        const double* x = pcs.row(cells[i]);
        std::vector<std::pair<double, size_t>> distances;
        distances.reserve(n);
        for (size_t j = 0; j < n; ++j) {
            if (fold[j] == fold[i]) continue;
            const double* y = pcs.row(cells[j]);
            double sum = 0;
            for (int64_t c = 0; c < d; ++c) sum += (x[c] - y[c]) * (x[c] - y[c]);
            distances.emplace_back(sum, j);
        }
        const size_t k = std::min<size_t>(static_cast<size_t>(std::max(1, options.n_neighbors)),
                                          distances.size());
        std::partial_sort(distances.begin(), distances.begin() + static_cast<long>(k),
                          distances.end());
        std::vector<int> votes(per_class.size(), 0);
        for (size_t q = 0; q < k; ++q) ++votes[static_cast<size_t>(label[distances[q].second])];
        const int best_votes = *std::max_element(votes.begin(), votes.end());
        // Ties go to the class of the nearest neighbour among the tied classes.
        for (size_t q = 0; q < k; ++q) {
            const int32_t l = label[distances[q].second];
            if (votes[static_cast<size_t>(l)] == best_votes) {
                predicted[i] = l;
                break;
            }
        }
    }
    options.control.check();
    int64_t correct = 0;
    std::vector<int64_t> correct_per_class(per_class.size(), 0);
    for (size_t i = 0; i < n; ++i)
        if (predicted[i] == label[i]) ++correct, ++correct_per_class[static_cast<size_t>(label[i])];
    out.accuracy = static_cast<double>(correct) / static_cast<double>(n);
    double recall_sum = 0;
    for (size_t c = 0; c < per_class.size(); ++c)
        if (per_class[c] > 0)
            recall_sum +=
                static_cast<double>(correct_per_class[c]) / static_cast<double>(per_class[c]);
    out.balanced_accuracy = recall_sum / out.n_batches;
    out.chance_accuracy =
        static_cast<double>(*std::max_element(per_class.begin(), per_class.end())) /
        static_cast<double>(n);
    out.chance_balanced_accuracy = 1.0 / out.n_batches;
    out.computed = true;
    return out;
}

}  // namespace

LeakageResults leakage_report(const CohortView& view, const SplitResults& splits,
                              const LeakageOptions& options) {
    if (static_cast<int64_t>(splits.assignment.size()) != view.n_obs())
        throw InvalidArgument("leakage_report: the split does not belong to this view (" +
                              std::to_string(splits.assignment.size()) + " cells for " +
                              std::to_string(view.n_obs()) + ")");
    const Cohort& parent = view.parent();
    for (const std::string* key : {&options.group_key, &options.batch_key})
        if (!key->empty() && !parent.obs.contains(*key))
            throw InvalidArgument("leakage report: obs has no column '" + *key + "'");
    LeakageResults out;
    out.group_key = options.group_key;
    out.batch_key = options.batch_key;

    if (!options.group_key.empty()) {
        out.groups_checked = true;
        std::vector<std::string> names;
        const std::vector<int32_t> codes = batch_codes(parent, options.group_key, &names);
        std::vector<std::set<int32_t>> splits_of(names.size() + 1);
        for (size_t p = 0; p < view.cells().size(); ++p) {
            const int32_t c = codes[static_cast<size_t>(view.cells()[p])];
            splits_of[c < 0 ? names.size() : static_cast<size_t>(c)].insert(splits.assignment[p]);
        }
        for (size_t g = 0; g <= names.size(); ++g)
            if (splits_of[g].size() > 1)
                out.shared_groups.push_back(g < names.size() ? names[g] : std::string("(missing)"));
        std::sort(out.shared_groups.begin(), out.shared_groups.end());
    }
    options.control.report(0.05, "leakage: duplicate profiles");
    find_duplicates(view, splits, options, out);
    options.control.check();

    if (!options.batch_key.empty()) {
        out.method = "kNN (k=" + std::to_string(options.n_neighbors) + ", Euclidean) " +
                     std::to_string(std::max(2, options.folds)) +
                     "-fold stratified cross-validation on the first " +
                     std::to_string(options.n_pcs) + " PCs, at most " +
                     std::to_string(options.max_cells) + " cells per split";
        options.control.report(0.3, "leakage: PCs");
        std::string reason;
        const DenseD pcs = view_pcs(view, options, out.pcs_source, reason);
        std::vector<int32_t> batch(view.cells().size(), -1);
        const std::vector<int32_t> codes = batch_codes(parent, options.batch_key);
        for (size_t p = 0; p < batch.size(); ++p)
            batch[p] = codes[static_cast<size_t>(view.cells()[p])];
        for (size_t s = 0; s < splits.names.size(); ++s) {
            options.control.check();
            options.control.report(
                0.5 + 0.5 * static_cast<double>(s) / static_cast<double>(splits.names.size()),
                "leakage: batch predictability in " + splits.names[s]);
            if (pcs.n_rows == 0) {
                BatchPredictability missing;
                missing.split = splits.names[s];
                missing.reason = reason;
                out.batch_predictability.push_back(missing);
                continue;
            }
            out.batch_predictability.push_back(
                predict_batch(pcs, splits.positions[s], batch, splits.names[s], options, s));
        }
    }
    options.control.report(1.0, "leakage report");
    return out;
}

json LeakageResults::to_json() const {
    json out;
    out["group_key"] = group_key.empty() ? json(nullptr) : json(group_key);
    out["groups_checked"] = groups_checked;
    out["shared_groups"] = shared_groups;
    json examples = json::array();
    for (const auto& e : duplicate_examples)
        examples.push_back({{"cell_a", e.cell_a},
                            {"split_a", e.split_a},
                            {"cell_b", e.cell_b},
                            {"split_b", e.split_b}});
    out["duplicate_profiles"] = {
        {"checked", duplicates_checked},
        {"cells", duplicate_cells},
        {"profiles", duplicate_profiles},
        {"empty_profiles_ignored", empty_profiles},
        {"examples", examples},
        {"reason", duplicates_reason.empty() ? json(nullptr) : json(duplicates_reason)}};
    json per_split = json::object(), reasons = json::object();
    for (const auto& b : batch_predictability) {
        if (!b.computed) {
            per_split[b.split] = nullptr;
            reasons[b.split] = b.reason;
            continue;
        }
        per_split[b.split] = {{"accuracy", b.accuracy},
                              {"balanced_accuracy", b.balanced_accuracy},
                              {"chance_accuracy", b.chance_accuracy},
                              {"chance_balanced_accuracy", b.chance_balanced_accuracy},
                              {"n_cells", b.n_cells},
                              {"n_batches", b.n_batches}};
    }
    if (batch_key.empty()) {
        out["batch_predictability"] = nullptr;
    } else {
        out["batch_predictability"] = {
            {"batch_key", batch_key},
            {"method", method},
            {"pcs", pcs_source.empty() ? json(nullptr) : json(pcs_source)},
            {"per_split", per_split},
            {"reasons", reasons}};
    }
    return out;
}

}  // namespace transcura
