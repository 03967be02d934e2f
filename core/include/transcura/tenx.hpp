#pragma once
// 10x Genomics: Cell Ranger HDF5 (v2 per-genome groups, v3+ /matrix) and Matrix Market folders.
#include <filesystem>

#include "transcura/cohort.hpp"
#include "transcura/io.hpp"

namespace transcura {

/// Genes x cells CSC on disk, returned as cells x genes CSR. var: gene_ids, feature_types, genome.
Cohort read_10x_h5(const std::filesystem::path& path, const ReadOptions& options = {});
/// A folder with matrix.mtx[.gz], barcodes.tsv[.gz] and genes.tsv or features.tsv[.gz].
Cohort read_10x_mtx(const std::filesystem::path& directory, const ReadOptions& options = {});
/// Writes matrix.mtx.gz, barcodes.tsv.gz, features.tsv.gz (v3 layout) into `directory`.
void write_10x_mtx(const Cohort& cohort, const std::filesystem::path& directory,
                   const WriteOptions& options = {});

}  // namespace transcura
