#pragma once
// Reading and writing cohorts in every supported format, with the format detected from content.
#include <string>

#include "transcura/cohort.hpp"

namespace transcura {

enum class Format { Unknown, H5ad, TenxH5, TenxMtx, Loom, Csv, Tsv };
const char* to_string(Format format);

/// Orientation of a dense text table.
enum class TableOrientation {
    Auto,          // detect: the axis whose labels look like gene symbols/ids is genes
    GenesByCells,  // rows are genes, columns are cells/samples (the usual bulk layout)
    CellsByGenes,  // rows are cells/samples
};

struct ReadOptions {
    /// 10x v2 HDF5 with several genome groups: which one ("" = the first, in name order).
    std::string genome;
    /// CSV/TSV only.
    TableOrientation orientation = TableOrientation::Auto;
    /// CSV/TSV only: a sample sheet (CSV/TSV, first column = sample names) joined as obs.
    std::string sample_sheet;
    /// Read AnnData's raw (raw/X, raw/var) when present.
    bool read_raw = true;
};

struct WriteOptions {
    /// Replace an existing output. Without it, writing onto an existing path fails.
    bool overwrite = true;
    /// gzip level for HDF5 datasets (0 = none). anndata writes uncompressed by default.
    int compression = 0;
};

/// Looks at the bytes (HDF5 signature and groups, MTX banner, text delimiters); the extension
/// only breaks ties. A directory is an MTX folder when it holds matrix.mtx[.gz].
Format detect_format(const std::string& path);

/// Reads any supported file. Throws FormatError naming the file, object and problem.
Cohort read_cohort(const std::string& path, const ReadOptions& options = {});

/// The format an output path asks for: .h5ad, .loom, .csv, .tsv (optionally .gz), or a path
/// ending in '/' for an MTX folder. Unknown otherwise.
Format format_for_output(const std::string& path);

/// Writes atomically (temporary file, then rename). Never writes to the cohort's source file.
void write_cohort(const Cohort& cohort, const std::string& path, Format format,
                  const WriteOptions& options = {});

}  // namespace transcura
