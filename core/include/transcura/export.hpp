#pragma once
// Export of a curated cohort: recipe -> optional splits -> leakage report -> files + manifest.
//
// Two phases, so the GUI can preview before writing:
//   ExportPlan plan = plan_export(cohort, recipe, options);   // recipe, splits, leakage, manifest
//   ExportResults done = write_export(plan, options);          // files, hashes, manifest.json
// export_file() does both from an input path (the CLI).
//
// Layout in options.output_dir, one output per split (or "subset" without splits):
//   h5ad: <name>.h5ad             loom: <name>.loom
//   mtx:  <name>/ {matrix.mtx.gz, barcodes.tsv.gz, features.tsv.gz, obs.csv, var.csv}
//   csv:  <name>.csv (cells x genes) + <name>.obs.csv (obs and obsm columns) + <name>.var.csv
//   manifest.json
// Every file is first written into a hidden staging folder inside output_dir
// (".transcura-export-*"), and renamed into place only when all of them are complete, manifest
// last; a failure or cancellation removes the staging folder, so nothing appears under the final
// names. (A process killed with SIGKILL leaves the hidden staging folder behind, never a final
// name; the next export into the same folder removes staging folders whose process is gone.)
// Existing outputs are refused unless overwrite, before any work and again at commit.
//
// Determinism: the writers are byte-deterministic and the manifest has no timestamp, so the same
// input, recipe and options give byte-identical outputs and manifest.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "transcura/cohort.hpp"
#include "transcura/io.hpp"
#include "transcura/leakage.hpp"
#include "transcura/progress.hpp"
#include "transcura/recipe.hpp"
#include "transcura/splits.hpp"

namespace transcura {

enum class ExportFormat { H5ad, Loom, Mtx, Csv };
const char* to_string(ExportFormat format);
/// "h5ad", "loom", "mtx" (or "10x-mtx"), "csv". Throws InvalidArgument otherwise.
ExportFormat parse_export_format(const std::string& text);

struct ExportOptions {
    std::string output_dir;
    ExportFormat format = ExportFormat::H5ad;
    bool overwrite = false;
    /// Splits to write (nullopt = the whole filtered cohort as "subset").
    std::optional<SplitOptions> split;
    /// obs column for per-batch counts and batch predictability ("" = none).
    std::string batch_key;
    /// Leakage settings; its group_key and batch_key default to the split's group key and
    /// batch_key above when left empty, its seed to the split seed.
    LeakageOptions leakage;
    /// Recipe application (its batch_key defaults to batch_key above).
    ApplyRecipeOptions recipe;
    /// Add every per-cell QC column the input lacks to the outputs, even when no step needs it.
    bool add_qc_columns = false;
    /// gzip level for HDF5 outputs (0 = none, as anndata).
    int compression = 0;
    /// Name of the single output without splits.
    std::string subset_name = "subset";
    /// How export_file() reads its input (genome, CSV orientation, sample sheet).
    ReadOptions read_options;
    RunControl control;
};

/// What the input was: recorded in the manifest.
struct InputDescription {
    std::string path;    // absolute
    int64_t size = -1;   // bytes (-1 = not a file: an in-memory cohort)
    std::string sha256;  // "" when not a file
    std::string format;
    int64_t n_obs = 0, n_vars = 0;
    nlohmann::json to_json() const;
};

/// Hashes the file at `path` (a folder: every file in it, see folder_sha256).
InputDescription describe_input(const std::string& path, const Cohort& cohort,
                                const RunControl& control = {});

/// Everything decided before writing: the GUI's dialog shows manifest_preview and split sizes.
struct ExportPlan {
    InputDescription input;
    Recipe recipe;
    ApplyRecipeResults applied;
    SplitResults splits;
    LeakageResults leakage;
    /// Output name -> file or folder name relative to output_dir.
    std::vector<std::string> output_names;
    std::vector<std::string> output_files;
    /// The manifest as it will be written, with null sha256 for the outputs.
    nlohmann::json manifest_preview;
    /// The format the plan was made for: write_export refuses other options (plan again).
    ExportFormat format = ExportFormat::H5ad;
};

struct ExportedOutput {
    std::string name;    // split name or "subset"
    std::string path;    // final path
    std::string sha256;  // of the file, or folder_sha256 of an MTX folder / CSV file set
    int64_t n_obs = 0, n_vars = 0;
    /// Every file of this output (relative to output_dir) with its own SHA-256.
    std::vector<std::pair<std::string, std::string>> files;
};

struct ExportResults {
    std::vector<ExportedOutput> outputs;
    std::string manifest_path;
    nlohmann::json manifest;
};

/// Applies the recipe, splits and computes the leakage report (no file is touched). `input`
/// describes where the cohort came from (describe_input); a default InputDescription is fine for
/// an in-memory cohort. Throws InvalidArgument for an invalid recipe/options, IoError when an
/// output exists and !overwrite, Cancelled.
ExportPlan plan_export(std::shared_ptr<const Cohort> cohort, const Recipe& recipe,
                       const ExportOptions& options, InputDescription input = {});

/// Writes the plan's outputs and manifest.json atomically (see the header comment). `options`
/// must be those the plan was made with (output_dir, overwrite and control may differ);
/// InvalidArgument when the format differs.
ExportResults write_export(const ExportPlan& plan, const ExportOptions& options);

/// Reads `input_path`, hashes it, plans and writes: the CLI's `export`.
ExportResults export_file(const std::string& input_path, const Recipe& recipe,
                          const ExportOptions& options);

/// SHA-256 over a set of files: the hex digest of the text "<sha256>  <relative name>\n" for each
/// file in name order (sha256sum's line format), so it can be checked with standard tools.
std::string files_sha256(const std::vector<std::pair<std::string, std::string>>& name_and_hash);

/// The manifest's file name.
inline constexpr const char* kManifestName = "manifest.json";

}  // namespace transcura
