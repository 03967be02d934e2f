// Recipe validation and application to a cohort (a view plus a per-step report).
#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "transcura/errors.hpp"
#include "transcura/recipe.hpp"

namespace transcura {

using nlohmann::json;

namespace {

std::string step_prefix(const Recipe& recipe, size_t index) {
    return "step " + std::to_string(index + 1) + " (" + recipe.steps[index].type() + "): ";
}

std::string quoted_list(const std::vector<std::string>& values, size_t max_shown = 8) {
    std::string out;
    for (size_t i = 0; i < values.size() && i < max_shown; ++i) {
        if (i) out += ", ";
        out += "'" + values[i] + "'";
    }
    if (values.size() > max_shown) out += ", ... (" + std::to_string(values.size()) + " in all)";
    return out.empty() ? std::string("none") : out;
}

const QcGeneSet* find_gene_set(const QcOptions& qc, const std::string& name) {
    for (const auto& set : qc.gene_sets)
        if (set.name == name) return &set;
    return nullptr;
}

std::vector<std::string> embedding_names(const Cohort& cohort) {
    std::vector<std::string> names;
    for (const auto& [key, m] : cohort.obsm) names.push_back(key);
    return names;
}

/// Distinct values present in a non-categorical column, as Column::text gives them.
std::unordered_set<std::string> present_values(const Column& column) {
    std::unordered_set<std::string> values;
    for (size_t i = 0; i < column.size(); ++i)
        if (!column.is_missing(i)) values.insert(column.text(i));
    return values;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// QC columns

std::vector<std::string> computable_qc_columns(const QcOptions& qc) {
    std::vector<std::string> names = {"n_genes_by_counts", "log1p_n_genes_by_counts",
                                      "total_counts", "log1p_total_counts"};
    if (qc.top_n > 0) names.push_back("pct_counts_in_top_" + std::to_string(qc.top_n) + "_genes");
    for (const auto& set : qc.gene_sets) {
        names.push_back("total_counts_" + set.name);
        names.push_back("log1p_total_counts_" + set.name);
        names.push_back("pct_counts_" + set.name);
    }
    names.push_back("outlier");
    if (!qc.mt_rule.metric.empty() && find_gene_set(qc, "mt")) names.push_back("mt_outlier");
    return names;
}

std::vector<std::string> missing_qc_columns(const Recipe& recipe, const Cohort& cohort,
                                            const QcOptions& qc) {
    const std::vector<std::string> computable = computable_qc_columns(qc);
    std::vector<std::string> missing;
    for (const auto& step : recipe.steps) {
        const auto* t = step.as<ThresholdStep>();
        if (!t || !step.enabled || cohort.obs.contains(t->column)) continue;
        if (std::find(computable.begin(), computable.end(), t->column) == computable.end())
            continue;
        if (std::find(missing.begin(), missing.end(), t->column) == missing.end())
            missing.push_back(t->column);
    }
    return missing;
}

std::vector<std::string> add_missing_qc_columns(Cohort& cohort, const QcOptions& qc,
                                                const std::string& batch_key) {
    const std::vector<std::string> computable = computable_qc_columns(qc);
    const bool anything_missing =
        std::any_of(computable.begin(), computable.end(),
                    [&](const auto& n) { return !cohort.obs.contains(n); });
    if (!anything_missing) return {};
    if (!cohort.X)
        throw InvalidArgument("cannot compute QC columns: the cohort has no expression matrix X");
    const QcResults results = compute_qc(cohort, qc, batch_key);
    std::vector<std::string> added;
    for (Column& column : results.obs_columns()) {
        if (cohort.obs.contains(column.name)) continue;
        added.push_back(column.name);
        cohort.obs.set(std::move(column));
    }
    return added;
}

// ---------------------------------------------------------------------------------------------
// Polygons

bool point_in_polygon(double x, double y, const std::vector<std::pair<double, double>>& polygon) {
    bool inside = false;
    const size_t n = polygon.size();
    for (size_t i = 0, j = n - 1; i < n; j = i++) {
        const auto [xi, yi] = polygon[i];
        const auto [xj, yj] = polygon[j];
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
    }
    return n >= 3 && inside;
}

namespace {
std::vector<int64_t> indices_in_polygon(const Cohort& cohort, const std::string& embedding,
                                        const std::vector<std::pair<double, double>>& polygon,
                                        const std::vector<int64_t>& cells) {
    auto it = cohort.obsm.find(embedding);
    if (it == cohort.obsm.end())
        throw InvalidArgument("obsm has no embedding '" + embedding +
                              "' (available: " + quoted_list(embedding_names(cohort)) + ")");
    const DenseD& coords = it->second;
    if (coords.n_cols < 2) throw InvalidArgument("obsm/" + embedding + " has fewer than 2 columns");
    // Bounding box first: most cells of a small lasso are rejected without the edge loop.
    double min_x = INFINITY, max_x = -INFINITY, min_y = INFINITY, max_y = -INFINITY;
    for (const auto& [x, y] : polygon) {
        min_x = std::min(min_x, x), max_x = std::max(max_x, x);
        min_y = std::min(min_y, y), max_y = std::max(max_y, y);
    }
    std::vector<int64_t> inside;
    for (int64_t cell : cells) {
        const double x = coords(cell, 0), y = coords(cell, 1);
        if (x < min_x || x > max_x || y < min_y || y > max_y) continue;
        if (point_in_polygon(x, y, polygon)) inside.push_back(cell);
    }
    return inside;
}

std::vector<int64_t> all_indices(int64_t n) {
    std::vector<int64_t> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
    return v;
}
}  // namespace

std::vector<std::string> cells_in_polygon(const Cohort& cohort, const std::string& embedding,
                                          const std::vector<std::pair<double, double>>& polygon,
                                          const std::vector<int64_t>* cells) {
    const std::vector<int64_t> among = cells ? *cells : all_indices(cohort.n_obs());
    std::vector<std::string> names;
    for (int64_t cell : indices_in_polygon(cohort, embedding, polygon, among))
        names.push_back(cohort.obs_names[static_cast<size_t>(cell)]);
    return names;
}

// ---------------------------------------------------------------------------------------------
// Validation

std::vector<RecipeIssue> validate_recipe(const Recipe& recipe, const Cohort& cohort,
                                         const QcOptions& qc) {
    std::vector<RecipeIssue> issues;
    const std::vector<std::string> computable = computable_qc_columns(qc);
    std::unordered_set<std::string> genes(cohort.var_names.begin(), cohort.var_names.end());
    for (size_t i = 0; i < recipe.steps.size(); ++i) {
        const RecipeStep& step = recipe.steps[i];
        auto add = [&](RecipeIssue::Severity severity, const std::string& message) {
            if (!step.enabled) severity = RecipeIssue::Severity::Warning;
            issues.push_back(
                {i, severity,
                 step_prefix(recipe, i) + message + (step.enabled ? "" : " (step disabled)")});
        };
        const auto error = RecipeIssue::Severity::Error;
        const auto warning = RecipeIssue::Severity::Warning;
        if (const auto* t = step.as<ThresholdStep>()) {
            const Column* column = cohort.obs.find(t->column);
            if (!column) {
                const bool qc_metric =
                    std::find(computable.begin(), computable.end(), t->column) != computable.end();
                if (!qc_metric)
                    add(error, "obs has no column '" + t->column +
                                   "' and it is not a QC metric that can be computed");
                else if (!cohort.X)
                    add(error, "obs has no column '" + t->column +
                                   "' and it cannot be computed without an expression matrix");
            } else if (!column->is_numeric()) {
                add(error, "obs column '" + t->column + "' is " + to_string(column->type) +
                               ", not numeric: use include/exclude");
            }
            if (t->min && t->max && *t->min > *t->max)
                add(error, "min " + std::to_string(*t->min) + " is above max " +
                               std::to_string(*t->max) + " for '" + t->column + "'");
            if ((t->min && std::isnan(*t->min)) || (t->max && std::isnan(*t->max)))
                add(error, "a bound of '" + t->column + "' is not a number");
            if (!t->min && !t->max) add(warning, "threshold on '" + t->column + "' has no bounds");
        } else if (const auto* c = step.as<CategoryStep>()) {
            const Column* column = cohort.obs.find(c->column);
            if (!column) {
                add(error, "obs has no column '" + c->column + "'");
                continue;
            }
            if (column->type == ColumnType::Float) {
                add(error, "obs column '" + c->column + "' is float: use a threshold");
                continue;
            }
            if (c->values.empty())
                add(warning, std::string(c->include ? "include" : "exclude") +
                                 " lists no values for '" + c->column + "'");
            if (column->type == ColumnType::Categorical) {
                for (const auto& value : c->values)
                    if (std::find(column->categories.begin(), column->categories.end(), value) ==
                        column->categories.end())
                        add(error, "column '" + c->column + "' has no category '" + value +
                                       "' (categories: " + quoted_list(column->categories) + ")");
            } else {
                const auto present = present_values(*column);
                for (const auto& value : c->values)
                    if (!present.count(value))
                        add(error, "column '" + c->column + "' has no value '" + value + "'");
            }
        } else if (const auto* g = step.as<GeneFilterStep>()) {
            if (g->min_cells < 0) add(error, "min_cells is negative");
            if (g->min_cells > 0 && !cohort.X)
                add(error, "min_cells needs an expression matrix, and the cohort has none");
            for (const char* set : {"mt", "ribo", "hb"}) {
                const bool asked = (set[0] == 'm' && g->drop_mito) ||
                                   (set[0] == 'r' && g->drop_ribo) || (set[0] == 'h' && g->drop_hb);
                if (asked && !find_gene_set(qc, set))
                    add(error, std::string("no QC gene set '") + set + "' is defined");
            }
            for (const auto* list : {&g->keep, &g->drop}) {
                std::vector<std::string> unknown;
                for (const auto& gene : *list)
                    if (!genes.count(gene)) unknown.push_back(gene);
                if (!unknown.empty())
                    add(warning, std::string(list == &g->keep ? "keep" : "drop") +
                                     " names genes not in var: " + quoted_list(unknown, 5));
            }
        } else if (const auto* s = step.as<SelectionStep>()) {
            const bool has_embedding = !s->embedding.empty() && cohort.obsm.count(s->embedding);
            if (s->cells) {
                int64_t unmatched = 0;
                std::unordered_set<std::string> names(cohort.obs_names.begin(),
                                                      cohort.obs_names.end());
                std::unordered_set<std::string> missing;
                for (const auto& cell : *s->cells)
                    if (!names.count(cell)) missing.insert(cell);
                unmatched = static_cast<int64_t>(missing.size());
                if (unmatched > 0)
                    add(warning, "selection '" + s->name + "': " + std::to_string(unmatched) +
                                     " of " + std::to_string(s->cells->size()) +
                                     " cells are not in this cohort");
                if (!s->embedding.empty() && !has_embedding)
                    add(warning, "selection '" + s->name + "': obsm has no embedding '" +
                                     s->embedding + "'; the polygon is kept as provenance only");
            } else if (s->embedding.empty()) {
                add(error, "selection '" + s->name + "' has a polygon but no \"embedding\"");
            } else if (!has_embedding) {
                add(error, "selection '" + s->name + "': obsm has no embedding '" + s->embedding +
                               "' (available: " + quoted_list(embedding_names(cohort)) + ")");
            } else if (cohort.obsm.at(s->embedding).n_cols < 2) {
                add(error, "selection '" + s->name + "': obsm/" + s->embedding +
                               " has fewer than 2 columns");
            } else if (s->polygon.size() < 3) {
                add(error, "selection '" + s->name + "': the polygon has fewer than 3 points");
            }
        }
    }
    return issues;
}

void check_recipe(const Recipe& recipe, const Cohort& cohort, const QcOptions& qc) {
    std::string message;
    for (const auto& issue : validate_recipe(recipe, cohort, qc)) {
        if (issue.severity != RecipeIssue::Severity::Error) continue;
        if (!message.empty()) message += "\n";
        message += "recipe " + issue.message;
    }
    if (!message.empty()) throw InvalidArgument(message);
}

// ---------------------------------------------------------------------------------------------
// Application

namespace {

class Applier {
public:
    Applier(const Cohort& cohort, const ApplyRecipeOptions& options,
            const std::vector<int32_t>& batch, size_t n_batches)
        : cohort_(cohort), options_(options), batch_(batch), n_batches_(n_batches) {}

    /// Returns the parent indices kept among `cells`.
    std::vector<int64_t> cells(const RecipeStep& step, const std::vector<int64_t>& cells,
                               int64_t& unmatched) const {
        std::vector<int64_t> kept;
        kept.reserve(cells.size());
        if (const auto* t = step.as<ThresholdStep>()) {
            const Column& column = *cohort_.obs.find(t->column);
            const double lo = t->min ? *t->min : -INFINITY, hi = t->max ? *t->max : INFINITY;
            for (int64_t cell : cells) {
                const double value = column.number(static_cast<size_t>(cell));
                if (!std::isnan(value) && value >= lo && value <= hi) kept.push_back(cell);
            }
        } else if (const auto* c = step.as<CategoryStep>()) {
            const Column& column = *cohort_.obs.find(c->column);
            const std::unordered_set<std::string> listed(c->values.begin(), c->values.end());
            std::vector<uint8_t> listed_code;
            if (column.type == ColumnType::Categorical) {
                listed_code.resize(column.categories.size());
                for (size_t k = 0; k < column.categories.size(); ++k)
                    listed_code[k] = listed.count(column.categories[k]) ? 1 : 0;
            }
            for (int64_t cell : cells) {
                const size_t row = static_cast<size_t>(cell);
                if (column.is_missing(row)) {
                    if (!c->include) kept.push_back(cell);
                    continue;
                }
                const bool is_listed =
                    column.type == ColumnType::Categorical
                        ? listed_code[static_cast<size_t>(column.codes[row])] != 0
                        : listed.count(column.text(row)) > 0;
                if (is_listed == c->include) kept.push_back(cell);
            }
        } else if (const auto* s = step.as<SelectionStep>()) {
            std::vector<uint8_t> selected(static_cast<size_t>(cohort_.n_obs()), 0);
            if (s->cells) {
                std::unordered_map<std::string, int64_t> index_of;
                index_of.reserve(cohort_.obs_names.size());
                for (size_t i = 0; i < cohort_.obs_names.size(); ++i)
                    index_of.emplace(cohort_.obs_names[i], static_cast<int64_t>(i));
                std::unordered_set<std::string> seen_missing;
                for (const auto& name : *s->cells) {
                    auto it = index_of.find(name);
                    if (it != index_of.end())
                        selected[static_cast<size_t>(it->second)] = 1;
                    else if (seen_missing.insert(name).second)
                        ++unmatched;
                }
            } else {
                for (int64_t cell : indices_in_polygon(cohort_, s->embedding, s->polygon, cells))
                    selected[static_cast<size_t>(cell)] = 1;
            }
            for (int64_t cell : cells)
                if ((selected[static_cast<size_t>(cell)] != 0) == s->keep) kept.push_back(cell);
        } else {
            kept = cells;
        }
        return kept;
    }

    std::vector<int64_t> genes(const GeneFilterStep& g, const std::vector<int64_t>& cells,
                               const std::vector<int64_t>& genes) const {
        const int64_t n_genes = cohort_.n_vars();
        std::vector<uint8_t> keep(static_cast<size_t>(n_genes), 1);
        if (!g.keep.empty()) {
            std::fill(keep.begin(), keep.end(), 0);
            std::unordered_set<std::string> listed(g.keep.begin(), g.keep.end());
            for (int64_t j = 0; j < n_genes; ++j)
                if (listed.count(cohort_.var_names[static_cast<size_t>(j)])) keep[j] = 1;
        }
        std::unordered_set<std::string> dropped(g.drop.begin(), g.drop.end());
        std::vector<const QcGeneSet*> sets;
        if (g.drop_mito) sets.push_back(find_gene_set(options_.qc, "mt"));
        if (g.drop_ribo) sets.push_back(find_gene_set(options_.qc, "ribo"));
        if (g.drop_hb) sets.push_back(find_gene_set(options_.qc, "hb"));
        for (int64_t j = 0; j < n_genes; ++j) {
            const std::string& name = cohort_.var_names[static_cast<size_t>(j)];
            if (dropped.count(name)) keep[j] = 0;
            for (const QcGeneSet* set : sets)
                if (set && set->contains(name)) keep[j] = 0;
        }
        if (g.min_cells > 0 && cohort_.X) {
            const std::vector<int64_t> detected = detected_cells(*cohort_.X, cells);
            for (int64_t j = 0; j < n_genes; ++j)
                if (detected[static_cast<size_t>(j)] < g.min_cells) keep[j] = 0;
        }
        std::vector<int64_t> kept;
        for (int64_t j : genes)
            if (keep[j]) kept.push_back(j);
        return kept;
    }

    /// Cells (among `cells`) in which each gene is detected. Threads count disjoint chunks of
    /// cells into their own vectors, summed afterwards: integers, so any thread count agrees.
    std::vector<int64_t> detected_cells(const Matrix& X, const std::vector<int64_t>& cells) const {
        const size_t n_genes = static_cast<size_t>(X.n_cols());
        const int64_t n = static_cast<int64_t>(cells.size());
        const int threads = static_cast<int>(
            std::max<int64_t>(1, std::min<int64_t>(options_.control.threads(), n / 20000 + 1)));
        std::vector<std::vector<int64_t>> partial(static_cast<size_t>(threads),
                                                  std::vector<int64_t>(n_genes, 0));
        bool cancelled = false;
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int t = 0; t < threads; ++t) {
            std::vector<int64_t>& counts = partial[static_cast<size_t>(t)];
            const int64_t begin = n * t / threads, end = n * (t + 1) / threads;
            for (int64_t p = begin; p < end; ++p) {
                const int64_t cell = cells[static_cast<size_t>(p)];
                if (X.is_sparse()) {
                    const CsrMatrix& m = X.sparse();
                    for (int64_t i = m.indptr[cell]; i < m.indptr[cell + 1]; ++i)
                        if (m.data[i] != 0) ++counts[static_cast<size_t>(m.indices[i])];
                } else {
                    const float* row = X.dense().row(cell);
                    for (size_t j = 0; j < n_genes; ++j)
                        if (row[j] != 0) ++counts[j];
                }
                if (t == 0 && (p & 4095) == 0 && options_.control.cancel &&
                    options_.control.cancel->cancelled())
                    cancelled = true;
            }
        }
        if (cancelled) throw Cancelled();
        options_.control.check();
        std::vector<int64_t> total(n_genes, 0);
        for (const auto& counts : partial)
            for (size_t j = 0; j < n_genes; ++j) total[j] += counts[j];
        return total;
    }

    std::vector<int64_t> per_batch(const std::vector<int64_t>& cells) const {
        std::vector<int64_t> counts(n_batches_, 0);
        if (n_batches_ == 0) return counts;
        for (int64_t cell : cells) {
            const int32_t b = batch_[static_cast<size_t>(cell)];
            ++counts[b < 0 ? n_batches_ - 1 : static_cast<size_t>(b)];
        }
        return counts;
    }

private:
    const Cohort& cohort_;
    const ApplyRecipeOptions& options_;
    const std::vector<int32_t>& batch_;
    size_t n_batches_;
};

std::vector<int64_t> difference(const std::vector<int64_t>& before,
                                const std::vector<int64_t>& after) {
    // Both increasing: a merge walk.
    std::vector<int64_t> out;
    size_t j = 0;
    for (int64_t value : before) {
        while (j < after.size() && after[j] < value) ++j;
        if (j < after.size() && after[j] == value) continue;
        out.push_back(value);
    }
    return out;
}

}  // namespace

ApplyRecipeResults apply_recipe(std::shared_ptr<const Cohort> cohort, const Recipe& recipe,
                                const ApplyRecipeOptions& options) {
    if (!cohort) throw InvalidArgument("apply_recipe: no cohort");
    check_recipe(recipe, *cohort, options.qc);
    if (!options.batch_key.empty() && !cohort->obs.contains(options.batch_key))
        throw InvalidArgument("batch key '" + options.batch_key + "' is not an obs column");
    const RunControl& control = options.control;

    ApplyRecipeResults results{cohort, CohortView(cohort), {}, {}, options.batch_key, {}, {}, {}};
    if (!missing_qc_columns(recipe, *cohort, options.qc).empty()) {
        control.report(0.0, "computing QC metrics");
        auto augmented = std::make_shared<Cohort>(*cohort);
        results.computed_columns =
            add_missing_qc_columns(*augmented, options.qc, options.batch_key);
        for (const auto& name : missing_qc_columns(recipe, *augmented, options.qc))
            throw InvalidArgument("recipe: QC column '" + name + "' could not be computed");
        results.cohort = augmented;
        results.view = CohortView(augmented);
    }
    control.check();
    const Cohort& parent = *results.cohort;

    std::vector<int32_t> batch;
    if (!options.batch_key.empty()) {
        batch = batch_codes(parent, options.batch_key, &results.batch_names);
        if (std::find(batch.begin(), batch.end(), -1) != batch.end())
            results.batch_names.push_back("(missing)");
    }
    Applier applier(parent, options, batch, results.batch_names.size());

    std::vector<int64_t> cells = results.view.cells(), genes = results.view.genes();
    results.cells_per_batch_before = applier.per_batch(cells);
    int applied = 0;
    for (size_t i = 0; i < recipe.steps.size(); ++i) {
        const RecipeStep& step = recipe.steps[i];
        if (step.enabled && options.stop_after >= 0 && applied >= options.stop_after) break;
        control.check();
        control.report(static_cast<double>(i) / static_cast<double>(recipe.steps.size()),
                       "recipe step " + std::to_string(i + 1) + ": " + step.describe());
        StepReport report;
        report.step = i;
        report.type = step.type();
        report.description = step.describe();
        report.enabled = step.enabled;
        report.cells_before = static_cast<int64_t>(cells.size());
        report.genes_before = static_cast<int64_t>(genes.size());
        const std::vector<int64_t> batch_before = applier.per_batch(cells);
        if (step.enabled) {
            ++applied;
            if (const auto* g = step.as<GeneFilterStep>()) {
                std::vector<int64_t> kept = applier.genes(*g, cells, genes);
                report.removed_genes = difference(genes, kept);
                genes = std::move(kept);
            } else {
                std::vector<int64_t> kept = applier.cells(step, cells, report.unmatched_cells);
                report.removed_cells = difference(cells, kept);
                cells = std::move(kept);
            }
        }
        report.cells_after = static_cast<int64_t>(cells.size());
        report.genes_after = static_cast<int64_t>(genes.size());
        report.cells_after_per_batch = applier.per_batch(cells);
        report.cells_removed_per_batch.resize(batch_before.size());
        for (size_t b = 0; b < batch_before.size(); ++b)
            report.cells_removed_per_batch[b] = batch_before[b] - report.cells_after_per_batch[b];
        results.steps.push_back(std::move(report));
    }
    results.cells_per_batch_after = applier.per_batch(cells);
    results.view = CohortView(results.cohort, std::move(cells), std::move(genes));
    control.report(1.0, "recipe applied");
    return results;
}

json ApplyRecipeResults::report_json() const {
    json out;
    out["n_obs_before"] = cohort ? cohort->n_obs() : 0;
    out["n_vars_before"] = cohort ? cohort->n_vars() : 0;
    out["n_obs"] = view.n_obs();
    out["n_vars"] = view.n_vars();
    out["computed_columns"] = computed_columns;
    out["batch_key"] = batch_key.empty() ? json(nullptr) : json(batch_key);
    json per_batch = json::object();
    for (size_t b = 0; b < batch_names.size(); ++b)
        per_batch[batch_names[b]] = {{"before", cells_per_batch_before[b]},
                                     {"after", cells_per_batch_after[b]}};
    out["per_batch"] = per_batch;
    json steps_json = json::array();
    for (const auto& step : steps) {
        json removed_per_batch = json::object();
        for (size_t b = 0; b < batch_names.size() && b < step.cells_removed_per_batch.size(); ++b)
            removed_per_batch[batch_names[b]] = step.cells_removed_per_batch[b];
        json s = {{"step", step.step},
                  {"type", step.type},
                  {"description", step.description},
                  {"enabled", step.enabled},
                  {"cells_before", step.cells_before},
                  {"cells_after", step.cells_after},
                  {"cells_removed", step.cells_removed()},
                  {"genes_before", step.genes_before},
                  {"genes_after", step.genes_after},
                  {"genes_removed", step.genes_removed()},
                  {"cells_removed_per_batch", removed_per_batch}};
        if (step.type == "selection") s["unmatched_cells"] = step.unmatched_cells;
        steps_json.push_back(s);
    }
    out["steps"] = steps_json;
    return out;
}

}  // namespace transcura
