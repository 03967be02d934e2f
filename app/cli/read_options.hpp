#pragma once
// Reader options shared by every command that opens a cohort.
#include "commands.hpp"
#include "transcura/io.hpp"

namespace cli {

inline transcura::ReadOptions read_options_from(ArgParser& parser) {
    transcura::ReadOptions options;
    options.genome = parser.option("genome");
    options.sample_sheet = parser.option("sample-sheet");
    const std::string orientation = parser.option("orientation", "auto");
    if (orientation == "auto") options.orientation = transcura::TableOrientation::Auto;
    else if (orientation == "genes-by-cells" || orientation == "genes-by-samples")
        options.orientation = transcura::TableOrientation::GenesByCells;
    else if (orientation == "cells-by-genes" || orientation == "samples-by-genes")
        options.orientation = transcura::TableOrientation::CellsByGenes;
    else
        throw UsageError("--orientation is auto, genes-by-cells or cells-by-genes, not '" +
                         orientation + "'");
    return options;
}

}  // namespace cli
