// 10x Genomics HDF5: Cell Ranger v3+ (/matrix with features/) and v2 (/<genome>/ with genes and
// gene_names). On disk the matrix is CSC genes x cells, which is CSR cells x genes as stored.
#include <cmath>

#include "hdf5/h5.hpp"
#include "io/h5_matrix.hpp"
#include "transcura/tenx.hpp"

namespace transcura {
namespace {

std::vector<std::string> read_names(const h5::Group& group, const std::string& name,
                                    int64_t expected) {
    if (!group.is_dataset(name)) group.fail("has no '" + name + "' dataset");
    h5::Dataset dataset = group.dataset(name);
    auto names = dataset.read_strings();
    if (static_cast<int64_t>(names.size()) != expected)
        dataset.fail("has " + std::to_string(names.size()) + " entries, expected " +
                     std::to_string(expected) + " from the matrix shape");
    return names;
}

void check_counts(const h5::Group& group, const CsrMatrix& m) {
    for (size_t i = 0; i < m.data.size(); ++i) {
        float v = m.data[i];
        if (!std::isfinite(v) || v < 0)
            group.fail_child("data", "value " + std::to_string(v) + " at position " +
                                         std::to_string(i) +
                                         " is not a count (negative or not finite)");
    }
}

/// shape = [genes, cells].
std::pair<int64_t, int64_t> read_shape(const h5::Group& group) {
    if (!group.is_dataset("shape")) group.fail("has no 'shape' dataset");
    auto shape = group.dataset("shape").read<int64_t>();
    if (shape.size() != 2) group.fail_child("shape", "does not have 2 entries");
    if (shape[0] < 0 || shape[1] < 0) group.fail_child("shape", "is negative");
    return {shape[0], shape[1]};
}

}  // namespace

Cohort read_10x_h5(const std::filesystem::path& path, const ReadOptions& options) {
    h5::File file = h5::File::open_read_only(path);
    Cohort cohort;
    cohort.source_path = path.string();
    cohort.source_format = "10x-h5";
    std::string group_name;
    bool v3 = file.is_group("matrix");
    if (v3) {
        group_name = "matrix";
    } else {
        std::vector<std::string> genomes;
        for (const auto& child : file.children())
            if (file.is_group(child) && file.is_dataset(child + "/indptr")) genomes.push_back(child);
        if (genomes.empty()) file.fail("no /matrix group and no genome group: not a 10x file");
        if (options.genome.empty()) {
            group_name = genomes.front();
        } else {
            for (const auto& g : genomes)
                if (g == options.genome) group_name = g;
            if (group_name.empty()) {
                std::string list;
                for (const auto& g : genomes) list += (list.empty() ? "" : ", ") + g;
                file.fail("genome '" + options.genome + "' not found (available: " + list + ")");
            }
        }
    }
    h5::Group group = file.group(group_name);
    auto [n_genes, n_cells] = read_shape(group);
    CsrMatrix counts = read_compressed(group, n_cells, n_genes);
    check_counts(group, counts);
    counts.sort_indices();
    cohort.obs_names = read_names(group, "barcodes", n_cells);
    std::vector<std::string> ids, symbols;
    if (v3) {
        if (!group.is_group("features")) group.fail("has no 'features' group");
        h5::Group features = group.group("features");
        symbols = features.is_dataset("name") ? read_names(features, "name", n_genes)
                                              : read_names(features, "id", n_genes);
        ids = features.is_dataset("id") ? read_names(features, "id", n_genes) : symbols;
        if (features.is_dataset("feature_type"))
            cohort.var.set(Column::categorize("feature_types",
                                              read_names(features, "feature_type", n_genes)));
        if (features.is_dataset("genome"))
            cohort.var.set(Column::categorize("genome", read_names(features, "genome", n_genes)));
    } else {
        ids = read_names(group, "genes", n_genes);
        symbols = group.is_dataset("gene_names") ? read_names(group, "gene_names", n_genes) : ids;
    }
    cohort.var.columns.insert(cohort.var.columns.begin(), Column::make_string("gene_ids", ids));
    cohort.var_names = std::move(symbols);
    Cohort::make_unique(cohort.var_names);
    cohort.X = Matrix(std::move(counts));
    cohort.uns["10x"] = {{"layout", v3 ? "v3" : "v2"}, {"group", group_name}};
    cohort.validate(path.string());
    return cohort;
}

}  // namespace transcura
