#pragma once
// Harmony (Korsunsky et al. 2019) on PCs, following harmonypy's algorithm: cells are
// cosine-normalised and softly clustered (k-means with a diversity penalty theta that favours
// clusters mixing the batches); then, per cluster, a ridge regression of the PCs on the batch
// (intercept unpenalised) is removed in proportion to each cell's membership. Repeated until
// the objective stops improving. The corrected PCs are what AnnData tools call X_pca_harmony.
//
// Steppable: construct, then call step() (one Harmony iteration: clustering + correction) until
// it returns false, to show progress and allow cancelling between and within steps.
// Deterministic for a seed, whatever the thread count (every reduction over cells is summed in
// fixed chunks). Not bit-identical to harmonypy, which seeds scikit-learn's k-means and numpy's
// shuffles differently; the results agree as harmonypy agrees with R's harmony.
#include <cstdint>
#include <memory>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura {

struct HarmonyOptions {
    /// Diversity penalty per batch. 2 = R harmony's default, with which the pbmc3500 reference
    /// output (harmonypy's test data, made by R harmony) was computed; harmonypy 0.0.9 itself
    /// falls back to 1 when theta is not given, so pass theta=2 to compare with it.
    double theta = 2.0;
    double lambda = 1.0;  // ridge penalty of the batch coefficients
    double sigma = 0.1;   // soft k-means width (smaller = harder assignments)
    int n_clusters = 0;   // 0 = min(round(N / 30), 100)
    /// harmonypy's tau: theta_b *= 1 - exp(-(N_b / (n_clusters * tau))^2), shrinking the
    /// penalty for small batches. 0 = off (default).
    double tau = 0.0;
    int max_iter_harmony = 10;
    int max_iter_kmeans = 20;
    double epsilon_cluster = 1e-5;  // relative change of the windowed k-means objective
    double epsilon_harmony = 1e-4;  // relative decrease of the Harmony objective
    double block_size = 0.05;       // share of cells updated together in the soft k-means
    /// Initial centroids: k-means++ and Lloyd as scikit-learn's KMeans(n_init=10, max_iter=25)
    /// called by harmonypy. Fewer runs are faster on large cohorts.
    int kmeans_n_init = 10;
    int kmeans_max_iter = 25;
    uint64_t seed = 0;
    RunControl control;
};

struct HarmonyResults {
    DenseD corrected;        // N x d, same cell order as the input
    int iterations = 0;      // Harmony iterations run
    bool converged = false;  // stopped by epsilon_harmony (not by max_iter_harmony)
    int n_clusters = 0;
    std::vector<double> objective;   // Harmony objective: after initialisation, then per step
    std::vector<int> kmeans_rounds;  // k-means iterations of each step
};

class Harmony {
public:
    /// `pcs` N x d; `batch_codes` one non-negative code per cell (InvalidArgument otherwise).
    /// Cheap: the k-means initialisation runs in the first step() (or initialize()).
    Harmony(const DenseD& pcs, const std::vector<int32_t>& batch_codes,
            const HarmonyOptions& options = {});
    ~Harmony();
    Harmony(const Harmony&) = delete;
    Harmony& operator=(const Harmony&) = delete;

    /// Initial centroids and soft clusters. Called by the first step() when not called before.
    void initialize();
    /// Runs one Harmony iteration. Returns true while more iterations remain (not converged and
    /// fewer than max_iter_harmony done). Throws Cancelled when the token is set.
    bool step();
    bool finished() const;
    int iteration() const;
    /// The current corrected embedding (the input before the first step).
    const DenseD& corrected() const;
    HarmonyResults results() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

/// Initialises and steps to the end; progress fractions cover the whole run.
HarmonyResults run_harmony(const DenseD& pcs, const std::vector<int32_t>& batch_codes,
                           const HarmonyOptions& options = {});

}  // namespace transcura
