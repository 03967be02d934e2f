#pragma once
// Dense CSV/TSV expression tables (optionally gzipped), genes x samples or samples x genes,
// with an optional sample sheet joined as obs.
#include <filesystem>

#include "transcura/cohort.hpp"
#include "transcura/io.hpp"

namespace transcura {

Cohort read_text_table(const std::filesystem::path& path, const ReadOptions& options = {});
/// Writes cells x genes with a header of gene names and the cell name in the first column.
/// `delimiter` ',' or '\t'; gzip when the path ends in .gz.
void write_text_table(const Cohort& cohort, const std::filesystem::path& path, char delimiter,
                      const WriteOptions& options = {});

}  // namespace transcura
