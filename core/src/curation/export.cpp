// Export: plan (recipe, splits, leakage, manifest preview) and atomic write of outputs + manifest.
#include "transcura/export.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "transcura/errors.hpp"
#include "transcura/io.hpp"
#include "transcura/qc.hpp"
#include "transcura/sha256.hpp"

namespace transcura {

namespace fs = std::filesystem;
using nlohmann::json;

const char* to_string(ExportFormat format) {
    switch (format) {
        case ExportFormat::H5ad:
            return "h5ad";
        case ExportFormat::Loom:
            return "loom";
        case ExportFormat::Mtx:
            return "mtx";
        case ExportFormat::Csv:
            return "csv";
    }
    return "?";
}

ExportFormat parse_export_format(const std::string& text) {
    if (text == "h5ad") return ExportFormat::H5ad;
    if (text == "loom") return ExportFormat::Loom;
    if (text == "mtx" || text == "10x-mtx") return ExportFormat::Mtx;
    if (text == "csv") return ExportFormat::Csv;
    throw InvalidArgument("export format is h5ad, loom, mtx or csv, not '" + text + "'");
}

std::string files_sha256(const std::vector<std::pair<std::string, std::string>>& name_and_hash) {
    auto sorted = name_and_hash;
    std::sort(sorted.begin(), sorted.end());
    Sha256 hash;
    for (const auto& [name, sha] : sorted) hash.update(sha + "  " + name + "\n");
    return hash.hex();
}

json InputDescription::to_json() const {
    return {{"path", path.empty() ? json(nullptr) : json(path)},
            {"size", size >= 0 ? json(size) : json(nullptr)},
            {"sha256", sha256.empty() ? json(nullptr) : json(sha256)},
            {"format", format},
            {"n_obs", n_obs},
            {"n_vars", n_vars}};
}

namespace {

/// Every regular file under `root`, relative names (generic form), sorted.
std::vector<std::string> files_under(const fs::path& root) {
    std::vector<std::string> names;
    for (const auto& entry : fs::recursive_directory_iterator(root))
        if (entry.is_regular_file())
            names.push_back(fs::relative(entry.path(), root).generic_string());
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

InputDescription describe_input(const std::string& path, const Cohort& cohort,
                                const RunControl& control) {
    InputDescription input;
    input.path = fs::absolute(path).lexically_normal().string();
    input.format = cohort.source_format;
    input.n_obs = cohort.n_obs();
    input.n_vars = cohort.n_vars();
    if (fs::is_directory(path)) {
        std::vector<std::pair<std::string, std::string>> hashes;
        input.size = 0;
        for (const auto& name : files_under(path)) {
            const fs::path file = fs::path(path) / name;
            input.size += static_cast<int64_t>(fs::file_size(file));
            hashes.emplace_back(name, sha256_file(file.string(), control));
        }
        input.sha256 = files_sha256(hashes);
    } else {
        input.size = static_cast<int64_t>(fs::file_size(path));
        input.sha256 = sha256_file(path, control);
    }
    return input;
}

namespace {

std::string output_file_name(const std::string& name, ExportFormat format) {
    switch (format) {
        case ExportFormat::H5ad:
            return name + ".h5ad";
        case ExportFormat::Loom:
            return name + ".loom";
        case ExportFormat::Mtx:
            return name;
        case ExportFormat::Csv:
            return name + ".csv";
    }
    return name;
}

/// Every final name an output occupies in output_dir (CSV has sidecars).
std::vector<std::string> occupied_names(const std::string& file, ExportFormat format) {
    if (format != ExportFormat::Csv) return {file};
    const std::string stem = file.substr(0, file.size() - 4);
    return {file, stem + ".obs.csv", stem + ".var.csv"};
}

std::vector<std::string> output_names_for(const ExportOptions& options) {
    std::vector<std::string> names;
    if (options.split)
        for (const auto& f : options.split->fractions) names.push_back(f.name);
    else
        names.push_back(options.subset_name);
    for (const auto& name : names)
        if (name.empty() || name.find('/') != std::string::npos || name == "." || name == ".." ||
            name == "manifest" || name == kManifestName || name.front() == '.')
            throw InvalidArgument("'" + name + "' cannot name an output file");
    return names;
}

/// True when `source` is `output` or lies inside it (an output folder holding the input).
bool would_replace(const fs::path& output, const std::string& source) {
    if (source.empty()) return false;
    std::error_code error;
    if (!fs::exists(output, error) || !fs::exists(source, error)) return false;
    if (fs::equivalent(output, source, error)) return true;
    const std::string out = fs::weakly_canonical(output, error).string() + "/";
    return fs::weakly_canonical(source, error).string().rfind(out, 0) == 0;
}

/// Refuses outputs that exist (unless overwrite) and, always, outputs that are the input.
void refuse_existing(const ExportOptions& options, const std::vector<std::string>& files,
                     const std::vector<std::string>& sources) {
    std::vector<std::string> all;
    for (const auto& file : files)
        for (const auto& name : occupied_names(file, options.format)) all.push_back(name);
    all.push_back(kManifestName);
    for (const auto& name : all) {
        const fs::path path = fs::path(options.output_dir) / name;
        for (const auto& source : sources)
            if (would_replace(path, source))
                throw IoError(path.string() + ": is the input " + source +
                              "; refusing to overwrite it (choose another output folder)");
        std::error_code error;
        if (!options.overwrite && fs::exists(path, error))
            throw IoError(path.string() + ": already exists (pass --overwrite to replace it)");
    }
}

json split_parameters(const ExportOptions& options) {
    if (!options.split) return nullptr;
    const SplitOptions& s = *options.split;
    json fractions = json::object();
    for (const auto& f : s.fractions) fractions[f.name] = f.fraction;
    return {{"spec", format_split_fractions(s.fractions)},
            {"fractions", fractions},
            {"group_by", s.group_key.empty() ? json(nullptr) : json(s.group_key)},
            {"stratify_by", s.stratify_key.empty() ? json(nullptr) : json(s.stratify_key)},
            {"seed", s.seed},
            {"require_nonempty", s.require_nonempty},
            {"refine_passes", s.refine_passes}};
}

json leakage_parameters(const LeakageOptions& l) {
    return {{"group_key", l.group_key.empty() ? json(nullptr) : json(l.group_key)},
            {"batch_key", l.batch_key.empty() ? json(nullptr) : json(l.batch_key)},
            {"embedding", l.embedding},
            {"compute_pcs_if_missing", l.compute_pcs_if_missing},
            {"n_pcs", l.n_pcs},
            {"n_hvg", l.n_hvg},
            {"n_neighbors", l.n_neighbors},
            {"folds", l.folds},
            {"max_cells", l.max_cells},
            {"seed", l.seed}};
}

json qc_parameters(const QcOptions& qc) {
    json sets = json::array();
    for (const auto& set : qc.gene_sets)
        sets.push_back({{"name", set.name},
                        {"prefixes", set.prefixes},
                        {"not_followed_by", set.not_followed_by},
                        {"genes", set.genes}});
    return {{"gene_sets", sets}, {"top_n", qc.top_n}};
}

LeakageOptions effective_leakage(const ExportOptions& options) {
    LeakageOptions l = options.leakage;
    if (l.group_key.empty() && options.split) l.group_key = options.split->group_key;
    if (l.batch_key.empty()) l.batch_key = options.batch_key;
    if (l.seed == 0 && options.split) l.seed = options.split->seed;
    l.control = options.control;
    l.control.progress = nullptr;
    return l;
}

json counts_json(const ExportPlan& plan, const std::string& batch_key) {
    const CohortView& view = plan.applied.view;
    json per_split = json::object();
    for (size_t s = 0; s < plan.splits.names.size(); ++s)
        per_split[plan.splits.names[s]] = plan.splits.size(s);
    json out = {{"n_obs", view.n_obs()}, {"n_vars", view.n_vars()}, {"per_split", per_split}};
    if (batch_key.empty()) {
        out["per_batch"] = nullptr;
        out["per_split_per_batch"] = nullptr;
        return out;
    }
    std::vector<std::string> names;
    const std::vector<int32_t> codes = batch_codes(view.parent(), batch_key, &names);
    names.push_back("(missing)");
    const size_t n_batches = names.size();
    std::vector<std::vector<int64_t>> counts(plan.splits.names.size(),
                                             std::vector<int64_t>(n_batches, 0));
    for (size_t p = 0; p < view.cells().size(); ++p) {
        const int32_t c = codes[static_cast<size_t>(view.cells()[p])];
        ++counts[static_cast<size_t>(plan.splits.assignment[p])]
                [c < 0 ? n_batches - 1 : static_cast<size_t>(c)];
    }
    json per_batch = json::object(), per_split_batch = json::object();
    for (size_t b = 0; b < n_batches; ++b) {
        int64_t total = 0;
        for (const auto& split : counts) total += split[b];
        if (total > 0 || b + 1 < n_batches) per_batch[names[b]] = total;
    }
    for (size_t s = 0; s < counts.size(); ++s) {
        json row = json::object();
        for (size_t b = 0; b < n_batches; ++b)
            if (counts[s][b] > 0 || b + 1 < n_batches) row[names[b]] = counts[s][b];
        per_split_batch[plan.splits.names[s]] = row;
    }
    out["per_batch"] = per_batch;
    out["per_split_per_batch"] = per_split_batch;
    return out;
}

}  // namespace

namespace {
/// `precomputed`: QC columns the caller already added to `cohort` (export_file adds them in
/// place to spare a copy), recorded in the manifest like the ones computed here.
ExportPlan plan_with(std::shared_ptr<const Cohort> cohort, const Recipe& recipe,
                     const ExportOptions& options, InputDescription input,
                     std::vector<std::string> precomputed) {
    if (!cohort) throw InvalidArgument("export: no cohort");
    if (options.output_dir.empty()) throw InvalidArgument("export: no output folder given");
    if (options.compression < 0 || options.compression > 9)
        throw InvalidArgument("export: compression is 0 to 9");
    if (!options.batch_key.empty() && !cohort->obs.contains(options.batch_key))
        throw InvalidArgument("batch key '" + options.batch_key + "' is not an obs column");
    ExportPlan plan;
    plan.format = options.format;
    plan.output_names = output_names_for(options);
    for (const auto& name : plan.output_names)
        plan.output_files.push_back(output_file_name(name, options.format));
    refuse_existing(options, plan.output_files, {input.path, cohort->source_path});
    if (input.n_obs == 0 && input.n_vars == 0) {
        input.path = cohort->source_path.empty() ? std::string()
                                                 : fs::absolute(cohort->source_path).string();
        input.format = cohort->source_format;
        input.n_obs = cohort->n_obs();
        input.n_vars = cohort->n_vars();
    }
    plan.input = input;
    plan.recipe = recipe;

    const RunControl& control = options.control;
    ApplyRecipeOptions recipe_options = options.recipe;
    if (recipe_options.batch_key.empty()) recipe_options.batch_key = options.batch_key;
    recipe_options.control = control;
    recipe_options.control.progress = nullptr;
    std::shared_ptr<const Cohort> input_cohort = cohort;
    const std::vector<std::string> qc_names = computable_qc_columns(recipe_options.qc);
    const bool qc_missing = std::any_of(qc_names.begin(), qc_names.end(), [&](const auto& name) {
        return !cohort->obs.contains(name);
    });
    if (options.add_qc_columns && qc_missing) {
        check_recipe(recipe, *cohort, recipe_options.qc);  // fail before the copy
        auto augmented = std::make_shared<Cohort>(*cohort);
        for (auto& name :
             add_missing_qc_columns(*augmented, recipe_options.qc, recipe_options.batch_key))
            precomputed.push_back(std::move(name));
        input_cohort = augmented;
    }
    control.report(0.0, "applying the recipe");
    plan.applied = apply_recipe(input_cohort, recipe, recipe_options);
    precomputed.insert(precomputed.end(), plan.applied.computed_columns.begin(),
                       plan.applied.computed_columns.end());
    plan.applied.computed_columns = std::move(precomputed);
    control.check();
    if (plan.applied.view.n_obs() == 0) throw InvalidArgument("the recipe removes every cell");
    if (plan.applied.view.n_vars() == 0) throw InvalidArgument("the recipe removes every gene");

    control.report(0.3, "splitting");
    if (options.split) {
        SplitOptions split_options = *options.split;
        split_options.control = control;
        split_options.control.progress = nullptr;
        plan.splits = split_cohort(plan.applied.view, split_options);
    } else {
        plan.splits = single_split(plan.applied.view, options.subset_name);
    }
    control.check();
    control.report(0.4, "leakage report");
    const LeakageOptions leakage_options = effective_leakage(options);
    plan.leakage = leakage_report(plan.applied.view, plan.splits, leakage_options);
    control.check();

    json outputs = json::object();
    for (size_t s = 0; s < plan.output_names.size(); ++s)
        outputs[plan.output_names[s]] = {{"path", plan.output_files[s]},
                                         {"format", to_string(options.format)},
                                         {"sha256", nullptr},
                                         {"n_obs", plan.splits.size(s)},
                                         {"n_vars", plan.applied.view.n_vars()},
                                         {"files", nullptr}};
    json parameters = {
        {"format", to_string(options.format)},
        {"batch_key", options.batch_key.empty() ? json(nullptr) : json(options.batch_key)},
        {"split", split_parameters(options)},
        {"leakage", leakage_parameters(leakage_options)},
        {"qc", qc_parameters(recipe_options.qc)},
        {"add_qc_columns", options.add_qc_columns},
        {"compression", options.compression},
        {"subset_name", options.subset_name}};
    plan.manifest_preview = {{"manifest_version", 1},
                             {"software", {{"name", "transcura"}, {"version", TRANSCURA_VERSION}}},
                             {"input", plan.input.to_json()},
                             {"recipe", recipe.to_json()},
                             {"recipe_report", plan.applied.report_json()},
                             {"parameters", parameters},
                             {"splits", plan.splits.to_json()},
                             {"counts", counts_json(plan, options.batch_key)},
                             {"leakage", plan.leakage.to_json()},
                             {"outputs", outputs}};
    control.report(0.5, "export planned");
    return plan;
}
}  // namespace

ExportPlan plan_export(std::shared_ptr<const Cohort> cohort, const Recipe& recipe,
                       const ExportOptions& options, InputDescription input) {
    return plan_with(std::move(cohort), recipe, options, std::move(input), {});
}

// ---------------------------------------------------------------------------------------------
// Writing

namespace {

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

std::string number_text(double value) {
    if (std::isnan(value)) return {};
    char buffer[32];
    auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

/// Annotations beside CSV and MTX outputs: names, every column, and obsm columns as KEY_1..KEY_n.
void write_frame_csv(const fs::path& path, const std::string& index_name,
                     const std::vector<std::string>& names, const DataFrame& frame,
                     const std::map<std::string, DenseD>* matrices) {
    std::ofstream out(path, std::ios::binary);
    if (!out) throw IoError(path.string() + ": cannot write");
    std::string line = csv_field(index_name);
    for (const auto& column : frame.columns) {
        line += ',';
        line += csv_field(column.name);
    }
    if (matrices)
        for (const auto& [key, m] : *matrices)
            for (int64_t c = 0; c < m.n_cols; ++c) {
                line += ',';
                line += csv_field(key + "_" + std::to_string(c + 1));
            }
    out << line << "\n";
    for (size_t r = 0; r < names.size(); ++r) {
        line = csv_field(names[r]);
        for (const auto& column : frame.columns) {
            line += ',';
            line += csv_field(column.text(r));
        }
        if (matrices)
            for (const auto& [key, m] : *matrices)
                for (int64_t c = 0; c < m.n_cols; ++c) {
                    line += ',';
                    line += number_text(m(static_cast<int64_t>(r), c));
                }
        out << line << "\n";
    }
    if (!out.flush()) throw IoError(path.string() + ": write failed");
}

std::string unique_suffix() {
    std::random_device device;
    return std::to_string(::getpid()) + "-" + std::to_string(device() % 100000000);
}

constexpr const char* kStagingPrefix = ".transcura-export-";

/// Staging folders left by killed exports (their process no longer exists) are removed.
void remove_stale_staging(const fs::path& output_dir) {
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(output_dir, error)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(kStagingPrefix, 0) != 0) continue;
        const std::string rest = name.substr(std::char_traits<char>::length(kStagingPrefix));
        long pid = 0;
        auto parsed = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
        if (parsed.ec != std::errc() || pid <= 0) continue;
        if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // still running
        fs::remove_all(entry.path(), error);
    }
}

/// The hidden staging folder; removed unless released.
class Staging {
public:
    explicit Staging(const fs::path& output_dir)
        : path_(output_dir / (kStagingPrefix + unique_suffix())) {
        std::error_code error;
        fs::create_directories(path_, error);
        if (error) throw IoError(path_.string() + ": cannot create: " + error.message());
    }
    ~Staging() {
        std::error_code error;
        fs::remove_all(path_, error);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

void move_into_place(const fs::path& from, const fs::path& to, bool overwrite) {
    std::error_code error;
    if (fs::exists(to, error)) {
        if (!overwrite)
            throw IoError(to.string() + ": already exists (pass --overwrite to replace it)");
        if (fs::is_directory(to, error)) {
            const fs::path aside = to.string() + ".transcura-old-" + unique_suffix();
            fs::rename(to, aside, error);
            if (error) throw IoError(to.string() + ": cannot replace: " + error.message());
            fs::rename(from, to, error);
            if (error) {
                fs::rename(aside, to);
                throw IoError(to.string() + ": cannot rename into place: " + error.message());
            }
            fs::remove_all(aside, error);
            return;
        }
    }
    fs::rename(from, to, error);
    if (error) throw IoError(to.string() + ": cannot rename into place: " + error.message());
}

}  // namespace

ExportResults write_export(const ExportPlan& plan, const ExportOptions& options) {
    const RunControl& control = options.control;
    const fs::path output_dir(options.output_dir);
    if (options.format != plan.format)
        throw InvalidArgument(std::string("export: the plan was made for ") +
                              to_string(plan.format) + ", not " + to_string(options.format) +
                              ": plan again");
    if (options.output_dir.empty()) throw InvalidArgument("export: no output folder given");
    refuse_existing(options, plan.output_files,
                    {plan.input.path, plan.applied.cohort->source_path});
    std::error_code error;
    fs::create_directories(output_dir, error);
    if (error) throw IoError(output_dir.string() + ": cannot create: " + error.message());
    remove_stale_staging(output_dir);
    Staging staging(output_dir);
    // Hashing reports under the staging names: keep the user's progress on "writing <name>".
    RunControl quiet = control;
    quiet.progress = nullptr;

    ExportResults results;
    json manifest = plan.manifest_preview;
    std::vector<std::string> staged;  // names relative to output_dir, in commit order
    const size_t n_outputs = plan.output_names.size();
    for (size_t s = 0; s < n_outputs; ++s) {
        control.check();
        control.report(0.5 + 0.45 * static_cast<double>(s) / static_cast<double>(n_outputs),
                       "writing " + plan.output_files[s]);
        Cohort cohort = plan.splits.split_view(plan.applied.view, s).materialize();
        const fs::path target = staging.path() / plan.output_files[s];
        WriteOptions write_options;
        write_options.overwrite = true;
        write_options.compression = options.compression;
        switch (options.format) {
            case ExportFormat::H5ad:
                write_cohort(cohort, target.string(), Format::H5ad, write_options);
                break;
            case ExportFormat::Loom:
                write_cohort(cohort, target.string(), Format::Loom, write_options);
                break;
            case ExportFormat::Mtx:
                write_cohort(cohort, target.string() + "/", Format::TenxMtx, write_options);
                write_frame_csv(target / "obs.csv", "obs_names", cohort.obs_names, cohort.obs,
                                &cohort.obsm);
                write_frame_csv(target / "var.csv", "var_names", cohort.var_names, cohort.var,
                                nullptr);
                break;
            case ExportFormat::Csv: {
                write_cohort(cohort, target.string(), Format::Csv, write_options);
                const std::string stem = plan.output_names[s];
                write_frame_csv(staging.path() / (stem + ".obs.csv"), "obs_names", cohort.obs_names,
                                cohort.obs, &cohort.obsm);
                write_frame_csv(staging.path() / (stem + ".var.csv"), "var_names", cohort.var_names,
                                cohort.var, nullptr);
                break;
            }
        }
        control.check();
        ExportedOutput output;
        output.name = plan.output_names[s];
        output.path = (output_dir / plan.output_files[s]).string();
        output.n_obs = cohort.n_obs();
        output.n_vars = cohort.n_vars();
        if (options.format == ExportFormat::Mtx) {
            for (const auto& name : files_under(target))
                output.files.emplace_back(plan.output_files[s] + "/" + name,
                                          sha256_file((target / name).string(), quiet));
        } else {
            for (const auto& name : occupied_names(plan.output_files[s], options.format))
                output.files.emplace_back(name,
                                          sha256_file((staging.path() / name).string(), quiet));
        }
        output.sha256 =
            output.files.size() == 1 ? output.files[0].second : files_sha256(output.files);
        json files = json::object();
        for (const auto& [name, sha] : output.files) files[name] = sha;
        json& entry = manifest["outputs"][output.name];
        entry["sha256"] = output.sha256;
        entry["files"] = files;
        entry["n_obs"] = output.n_obs;
        entry["n_vars"] = output.n_vars;
        for (const auto& name : occupied_names(plan.output_files[s], options.format))
            staged.push_back(name);
        results.outputs.push_back(std::move(output));
    }
    control.check();
    {
        std::ofstream out(staging.path() / kManifestName, std::ios::binary);
        out << manifest.dump(2) << "\n";
        if (!out.flush()) throw IoError((output_dir / kManifestName).string() + ": cannot write");
    }
    control.check();  // last chance to cancel: nothing is under a final name yet
    control.report(0.97, "moving outputs into place");
    refuse_existing(options, plan.output_files,
                    {plan.input.path, plan.applied.cohort->source_path});
    staged.push_back(kManifestName);
    for (const auto& name : staged)
        move_into_place(staging.path() / name, output_dir / name, options.overwrite);
    results.manifest_path = (output_dir / kManifestName).string();
    results.manifest = std::move(manifest);
    control.report(1.0, "export done");
    return results;
}

ExportResults export_file(const std::string& input_path, const Recipe& recipe,
                          const ExportOptions& options) {
    const RunControl& control = options.control;
    control.report(0.0, "reading " + input_path);
    auto cohort = std::make_shared<Cohort>(read_cohort(input_path, options.read_options));
    control.check();
    InputDescription input = describe_input(input_path, *cohort, control);
    control.check();
    std::vector<std::string> added;
    if (options.add_qc_columns || !missing_qc_columns(recipe, *cohort, options.recipe.qc).empty()) {
        // Add the QC columns in place now, sparing apply_recipe a copy of the whole cohort.
        check_recipe(recipe, *cohort, options.recipe.qc);
        const std::string batch_key =
            options.recipe.batch_key.empty() ? options.batch_key : options.recipe.batch_key;
        if (!batch_key.empty() && !cohort->obs.contains(batch_key))
            throw InvalidArgument("batch key '" + batch_key + "' is not an obs column");
        added = add_missing_qc_columns(*cohort, options.recipe.qc, batch_key);
    }
    ExportPlan plan = plan_with(cohort, recipe, options, input, std::move(added));
    return write_export(plan, options);
}

}  // namespace transcura
