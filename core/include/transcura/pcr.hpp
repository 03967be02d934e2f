#pragma once
// Principal-component regression on batch (Büttner et al. 2019; scib pcr): for each PC, the R^2
// of an ordinary least-squares fit of the PC on the one-hot batch (with intercept), which for a
// categorical covariate is the between-batch share of the PC's variance; summarised as the
// mean R^2 weighted by each PC's variance. 0 = batch explains nothing, 1 = everything.
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct PcrOptions {
    /// Variance of each PC used as weights (e.g. PCA's explained variance). Empty = the
    /// variance of each embedding column, which equals it for centred PC scores.
    std::vector<double> pc_variances;
    RunControl control;
};

struct PcrResults {
    std::vector<double> r2_per_pc;  // R^2 of each PC on batch (0 for a constant PC)
    std::vector<double> weights;    // variance share of each PC (sums to 1)
    double r2_weighted = 0.0;       // sum of r2_per_pc * weights
};

/// Cells with a negative (missing) batch code are left out of the fit.
PcrResults pc_regression(const DenseD& embedding, const std::vector<int32_t>& batch_codes,
                         const PcrOptions& options = {});

}  // namespace transcura
