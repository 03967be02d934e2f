#pragma once
// kBET, the k-nearest-neighbour batch-effect test (Büttner et al. 2019): for a random sample of
// cells, the batch counts in the cell's neighbourhood (the cell and its k0 - 1 nearest
// neighbours) are compared with the global batch frequencies by a chi-square test with
// (number of batches - 1) degrees of freedom; the rejection rate at alpha is the share of
// tested neighbourhoods whose composition differs. Acceptance = 1 - rejection, 1 = well mixed.
//
// Defaults follow the kBET R package with heuristic = FALSE: k0 = floor(mean batch size / 4),
// 10% of cells tested, alpha 0.05. Differences, stated: k0 is capped (max_k0, default 100) so
// atlas-sized cohorts stay tractable; one seeded sample of tested cells rather than kBET's
// n_repeat = 100 resamples (the tested count is capped at max_tested, default 10000, which
// bounds the sampling error of the rate to about +-0.01); kBET's bisection heuristic for k0 is
// not run.
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/lisi.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct KbetOptions {
    /// Neighbourhood size counting the tested cell. 0 = floor(mean batch size / 4), capped at
    /// max_k0 and at least 2.
    int k0 = 0;
    int max_k0 = 100;
    /// Share of cells tested (kBET: 10%), at most max_tested (0 = no cap), at least 1.
    double test_fraction = 0.1;
    int64_t max_tested = 10000;
    double alpha = 0.05;
    uint64_t seed = 0;
    RunControl control;
};

struct KbetResults {
    int k0 = 0;         // neighbourhood size used (tested cell included)
    int n_batches = 0;  // batches present (degrees of freedom + 1)
    int64_t n_tested = 0;
    double rejection_rate = 0.0;   // NaN when fewer than two batches are present
    double acceptance_rate = 0.0;  // 1 - rejection_rate
    /// The same test on random sets of k0 cells (kBET's kBET.expected): what perfect mixing
    /// would reject by chance at this k0.
    double expected_rejection_rate = 0.0;
    std::vector<int64_t> tested_cells;  // increasing
    std::vector<double> p_values;       // per cell; NaN where not tested
    std::vector<int8_t> accepted;       // per cell; 1 accepted, 0 rejected, -1 not tested
};

/// Upper tail of the chi-square distribution, P(X > x) for `df` degrees of freedom: the
/// regularised upper incomplete gamma Q(df / 2, x / 2) (series below a + 1, Lentz continued
/// fraction above). Accurate to ~1e-14 relative for results above 1e-300.
double chi2_sf(double x, double df);

/// The default neighbourhood size for these codes (see KbetOptions::k0).
int kbet_default_k0(const std::vector<int32_t>& batch_codes, int max_k0 = 100);

/// Searches exact neighbours for the tested cells only. Cells with a missing (negative) batch
/// code are never tested and, as neighbours, are not counted.
KbetResults kbet(const DenseD& embedding, const std::vector<int32_t>& batch_codes,
                 const KbetOptions& options = {});

/// From precomputed neighbours (at least k0 columns, the cell itself first); the tested cells
/// are sampled among the table's query cells.
KbetResults kbet(const NeighborLists& neighbors, const std::vector<int32_t>& batch_codes,
                 const KbetOptions& options = {});

}  // namespace transcura
