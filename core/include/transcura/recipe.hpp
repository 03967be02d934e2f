#pragma once
// Curation recipes: an ordered list of filter steps, stored as JSON, applied to a cohort as a view.
//
// JSON format (unknown keys of a step are kept and written back, so newer files survive):
//   {"steps": [
//     {"type": "threshold", "column": "pct_counts_mt", "max": 20},          // min and/or max
//     {"type": "include", "column": "cell_type", "values": ["B", "T"]},
//     {"type": "exclude", "column": "donor", "values": ["d3"]},
//     {"type": "genes", "min_cells": 3, "keep": [...], "drop": [...],
//      "drop_mito": true, "drop_ribo": true, "drop_hb": false},
//     {"type": "selection", "name": "cluster 4", "embedding": "X_umap",
//      "polygon": [[x, y], ...], "cells": ["AAAC-1", ...], "keep": true}
//   ]}
// Any step may carry "enabled": false (skipped by apply, kept in the file) and "label" (free
// text shown by the GUI).
//
// Semantics, step by step on the cells and genes still in the view:
// - threshold keeps cells with min <= value <= max (bounds inclusive; a missing value fails).
//   A per-cell QC column the cohort lacks (total_counts, n_genes_by_counts, pct_counts_mt, ...,
//   any column compute_qc() produces) is computed first, on all cells of the input, as the
//   pipeline does before it filters.
// - include keeps cells whose value (Column::text) is one of `values`; exclude drops them.
//   Missing values are never included and never excluded. Works on categorical, string, bool
//   ("True"/"False") and integer columns.
// - genes drops genes detected (count != 0) in fewer than min_cells of the remaining cells, genes
//   in `drop`, the mitochondrial/ribosomal/haemoglobin genes of the QC gene sets when asked, and,
//   when `keep` is non-empty, every gene not in `keep`.
// - selection: the cells named in `cells` when given (the polygon is then only provenance), else
//   the cells whose first two coordinates of obsm[embedding] fall inside `polygon` (even-odd
//   rule). keep=true keeps only them, keep=false drops them. Names not in the cohort are
//   counted in the report (unmatched_cells), not an error, so a recipe replays on a new file.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"
#include "transcura/qc.hpp"

namespace transcura {

struct ThresholdStep {
    std::string column;
    std::optional<double> min;
    std::optional<double> max;
    bool operator==(const ThresholdStep&) const = default;
};

/// "include" (include = true) or "exclude" (include = false).
struct CategoryStep {
    std::string column;
    std::vector<std::string> values;
    bool include = true;
    bool operator==(const CategoryStep&) const = default;
};

struct GeneFilterStep {
    int64_t min_cells = 0;          // 0 = no detection filter
    std::vector<std::string> keep;  // non-empty: only these genes survive
    std::vector<std::string> drop;
    bool drop_mito = false;  // QC gene set "mt"
    bool drop_ribo = false;  // QC gene set "ribo"
    bool drop_hb = false;    // QC gene set "hb"
    bool operator==(const GeneFilterStep&) const = default;
};

struct SelectionStep {
    std::string name;
    std::string embedding;  // obsm key the polygon was drawn on
    std::vector<std::pair<double, double>> polygon;
    std::optional<std::vector<std::string>> cells;  // resolved names; nullopt = use the polygon
    bool keep = true;
    bool operator==(const SelectionStep&) const = default;
};

/// One step of a recipe: a value type, cheap to copy, so an undo command can hold before/after.
struct RecipeStep {
    std::variant<ThresholdStep, CategoryStep, GeneFilterStep, SelectionStep> payload;
    bool enabled = true;
    std::string label;
    /// Keys this version does not know, written back unchanged.
    nlohmann::json extra = nlohmann::json::object();

    /// "threshold", "include", "exclude", "genes" or "selection".
    std::string type() const;
    /// One line for lists and reports: "pct_counts_mt <= 20", "exclude donor: d3", ...
    std::string describe() const;
    nlohmann::json to_json() const;
    /// Throws FormatError(context, "steps[i]", problem) on a malformed step.
    static RecipeStep from_json(const nlohmann::json& json, const std::string& context = "recipe",
                                size_t index = 0);

    bool operator==(const RecipeStep& other) const;

    template <typename T>
    const T* as() const {
        return std::get_if<T>(&payload);
    }
    template <typename T>
    T* as() {
        return std::get_if<T>(&payload);
    }
};

struct Recipe {
    std::vector<RecipeStep> steps;
    /// Top-level keys other than "steps" (a version, a description, ...), written back unchanged.
    nlohmann::json extra = nlohmann::json::object();

    nlohmann::json to_json() const;
    /// Throws FormatError naming `context` (a file name) and the bad step.
    static Recipe from_json(const nlohmann::json& json, const std::string& context = "recipe");
    /// Parses JSON text; throws FormatError on invalid JSON or steps.
    static Recipe parse(const std::string& text, const std::string& context = "recipe");
    /// Deterministic pretty JSON (2-space indent, keys sorted), trailing newline.
    std::string dump() const;
    static Recipe load(const std::string& path);
    /// Atomic write (temporary + rename).
    void save(const std::string& path, bool overwrite = true) const;

    bool operator==(const Recipe& other) const {
        return steps == other.steps && extra == other.extra;
    }
};

/// A problem found by validate_recipe. Errors stop apply; warnings are shown and ignored.
struct RecipeIssue {
    enum class Severity { Error, Warning };
    size_t step = 0;  // index in recipe.steps
    Severity severity = Severity::Error;
    std::string message;  // "step 2 (threshold): obs has no column 'pct_mito'"
};

/// Every problem of `recipe` against `cohort`: unknown obs column (and not a computable QC
/// metric), a non-numeric threshold column, min > max, an unknown category, a missing or
/// one-dimensional embedding for a polygon, a polygon with fewer than 3 points, gene names
/// not in var (warning). Disabled steps are checked too (as warnings).
std::vector<RecipeIssue> validate_recipe(const Recipe& recipe, const Cohort& cohort,
                                         const QcOptions& qc = {});

/// Throws InvalidArgument with every error of validate_recipe, one per line ("" context).
void check_recipe(const Recipe& recipe, const Cohort& cohort, const QcOptions& qc = {});

/// The per-cell QC columns compute_qc() can produce (with the given gene sets).
std::vector<std::string> computable_qc_columns(const QcOptions& qc = {});

/// QC columns the recipe needs that `cohort.obs` lacks (thresholds on computable metrics).
std::vector<std::string> missing_qc_columns(const Recipe& recipe, const Cohort& cohort,
                                            const QcOptions& qc = {});

/// Computes QC on all cells and adds the per-cell QC columns `cohort.obs` lacks (existing columns
/// are never replaced). Returns the names added. Call it before freezing a cohort into a
/// shared_ptr<const Cohort> to spare apply_recipe a copy.
std::vector<std::string> add_missing_qc_columns(Cohort& cohort, const QcOptions& qc = {},
                                                const std::string& batch_key = {});

/// The names of the cells of `cohort` (optionally only among `cells`, parent indices) whose first
/// two coordinates in obsm[embedding] lie inside `polygon`. Throws InvalidArgument when the
/// embedding is missing or has fewer than 2 columns. This is what the GUI stores as `cells`.
std::vector<std::string> cells_in_polygon(const Cohort& cohort, const std::string& embedding,
                                          const std::vector<std::pair<double, double>>& polygon,
                                          const std::vector<int64_t>* cells = nullptr);

/// Even-odd point-in-polygon (a point on an edge may fall either way).
bool point_in_polygon(double x, double y, const std::vector<std::pair<double, double>>& polygon);

struct ApplyRecipeOptions {
    /// obs column whose categories the report counts per batch ("" = no per-batch counts).
    std::string batch_key;
    /// Gene sets for computed QC columns and for the genes step's drop_mito/ribo/hb.
    QcOptions qc;
    /// Stop at this many enabled steps (-1 = all): the GUI's "state after step i" preview.
    int stop_after = -1;
    RunControl control;
};

struct StepReport {
    size_t step = 0;  // index in recipe.steps
    std::string type;
    std::string description;
    bool enabled = true;
    int64_t cells_before = 0, cells_after = 0;
    int64_t genes_before = 0, genes_after = 0;
    int64_t cells_removed() const { return cells_before - cells_after; }
    int64_t genes_removed() const { return genes_before - genes_after; }
    /// Aligned with ApplyRecipeResults::batch_names (empty without a batch key).
    std::vector<int64_t> cells_removed_per_batch;
    std::vector<int64_t> cells_after_per_batch;
    /// Parent indices of what this step removed (the GUI highlights them).
    std::vector<int64_t> removed_cells;
    std::vector<int64_t> removed_genes;
    /// Selection steps: names in `cells` not found in the cohort.
    int64_t unmatched_cells = 0;
};

struct ApplyRecipeResults {
    /// The cohort the view points into: the input itself, or a copy with computed QC columns.
    std::shared_ptr<const Cohort> cohort;
    CohortView view{std::make_shared<const Cohort>()};
    std::vector<StepReport> steps;
    std::vector<std::string> computed_columns;  // QC columns added before the steps
    std::string batch_key;
    std::vector<std::string> batch_names;
    std::vector<int64_t> cells_per_batch_before;
    std::vector<int64_t> cells_per_batch_after;

    /// {"n_obs_before", "n_vars_before", "n_obs", "n_vars", "computed_columns",
    ///  "batch_key", "per_batch": {name: {"before", "after"}}, "steps": [{"step", "type",
    ///  "description", "enabled", "cells_before", "cells_after", "cells_removed",
    ///  "genes_before", "genes_after", "genes_removed", "cells_removed_per_batch": {..},
    ///  "unmatched_cells"}]} — no index lists.
    nlohmann::json report_json() const;
};

/// Validates (throws InvalidArgument listing every error), computes the QC columns needed
/// (copying the cohort only then), and applies the enabled steps in order. Cancelled when the
/// token is set. The view keeps the parent's cell and gene order.
ApplyRecipeResults apply_recipe(std::shared_ptr<const Cohort> cohort, const Recipe& recipe,
                                const ApplyRecipeOptions& options = {});

}  // namespace transcura
