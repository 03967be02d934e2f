#pragma once
// AnnData .h5ad: every layout from pre-0.7 (compound obs, categories in uns) to the 0.8+ spec.
#include <filesystem>

#include "transcura/cohort.hpp"
#include "transcura/io.hpp"

namespace transcura {

Cohort read_h5ad(const std::filesystem::path& path, const ReadOptions& options = {});
/// Writes exactly at `path` (callers wanting atomicity use write_cohort or AtomicOutput).
/// anndata >= 0.8 reads the result back with equal values; categoricals stay categorical.
void write_h5ad(const Cohort& cohort, const std::filesystem::path& path,
                const WriteOptions& options = {});

}  // namespace transcura
