#pragma once
// Simulated single-cell cohorts with known ground truth, for tests, benchmarks and demos.
//
// Model (per cell i of type t, batch b, donor d; gene j):
//   counts_ij ~ NegativeBinomial(mean = L_i * p_tdj, dispersion phi_j)   (variance m + phi m^2)
//   p_tdj ∝ base_j * marker_tj * batch_bj * donor_dj (* mito boost for damaged cells)
// with base_j log-normal, marker_tj > 1 on each type's marker genes, batch_bj = exp(N(0, E)),
// donor_dj = exp(N(0, donor_effect)), library size L_i log-normal around the batch depth
// (batch depths shifted by exp(N(0, depth_shift))). Damaged cells lose most of their cytoplasmic
// RNA: low L_i and mitochondrial genes boosted.
//
// Sampling is exact NB yet costs about the number of UMIs per cell, not the number of genes:
// low-mean entries are proposed by Poisson events (NB has more zeros than a Poisson of the same
// mean, so Poisson hits bound the NB non-zeros) and thinned to the NB zero probability; each cell
// has its own random stream, so the output does not depend on the thread count.
#include <cstdint>
#include <string>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct SimulateOptions {
    int64_t n_cells = 10000;
    int64_t n_genes = 20000;  // including the mitochondrial, ribosomal and haemoglobin genes
    int n_types = 8;
    int n_batches = 2;
    int donors_per_batch = 2;
    /// Standard deviation of the gene-wise log batch factors (0 = no batch effect; 0.1 mild,
    /// 0.5 strong).
    double batch_effect = 0.2;
    /// Standard deviation of the gene-wise log donor factors, nested within batches.
    double donor_effect = 0.05;
    /// Standard deviation of the log batch depth shifts.
    double depth_shift = 0.25;
    /// Mean library size (UMIs per healthy cell) and its log-scale spread.
    double mean_library_size = 4000.0;
    double library_log_sd = 0.45;
    /// Marker genes per cell type and their log2 fold change (mean; spread 0.5 log2 units).
    int markers_per_type = 50;
    double marker_log2_fold = 2.5;
    /// Spread of the gene base expression (log scale): heavy-tailed like real data.
    double base_log_sd = 1.8;
    /// NB dispersion phi_j is log-normal around this value (log sd 0.5).
    double dispersion = 0.15;
    /// Gene sets with their QC names: MT-*, RPL*/RPS*, HB* (HBA1 ...).
    int n_mito_genes = 13;
    int n_ribo_genes = 80;
    int n_hb_genes = 4;
    /// Share of mitochondrial counts in a healthy cell (approximately).
    double mito_fraction = 0.04;
    /// Share of damaged cells: library size x damaged_library_factor, mito share ~ 40%.
    double damaged_fraction = 0.05;
    double damaged_library_factor = 0.25;
    double damaged_mito_fraction = 0.4;
    uint64_t seed = 0;
    RunControl control;
};

struct SimulateResults {
    /// X: CSR float32 counts (cells x genes). obs: batch, donor, cell_type (categorical),
    /// damaged (bool), library_size (the L_i used). var: gene_kind (mito/ribo/hb/other),
    /// marker_of (cell type whose marker the gene is, "" otherwise), nb_dispersion (phi_j).
    /// uns["simulation"]: options.
    Cohort cohort;
};

/// Throws InvalidArgument for impossible options (no cells, fewer genes than special genes, ...).
SimulateResults simulate_cohort(const SimulateOptions& options);

}  // namespace transcura
