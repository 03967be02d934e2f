#pragma once
// Loom (loompy 2 and 3): /matrix genes x cells, /row_attrs, /col_attrs, /layers.
#include <filesystem>

#include "transcura/cohort.hpp"
#include "transcura/io.hpp"

namespace transcura {

Cohort read_loom(const std::filesystem::path& path, const ReadOptions& options = {});
/// Writes exactly at `path`; loompy 3 reads it back (obs -> col_attrs, var -> row_attrs,
/// obsm -> multi-column col_attrs).
void write_loom(const Cohort& cohort, const std::filesystem::path& path,
                const WriteOptions& options = {});

}  // namespace transcura
