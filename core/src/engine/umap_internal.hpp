#pragma once
// Pieces of UMAP shared between umap.cpp (the steppable driver), umap_init.cpp (initial layout)
// and umap_optimize.cpp (the SGD epochs).
#include <cstdint>
#include <vector>

#include "transcura/cohort.hpp"
#include "transcura/progress.hpp"

namespace transcura::engine::umap_detail {

struct InitialLayout {
    DenseD layout;          // n x n_components, scaled to [0, 10] per column
    bool spectral = false;  // false: the seeded random fallback (or spectral_init off)
    int n_graph_components = 1;
};

/// Spectral layout of the symmetric graph (see umap_init.cpp), or a seeded uniform one when
/// `spectral` is false or the eigen solver cannot be used.
InitialLayout initial_layout(const CsrMatrix& graph, int n_components, bool spectral, uint64_t seed,
                             const RunControl& control);

/// Connected components of a symmetric graph: label per vertex (0 = the largest component,
/// then by decreasing size, ties by smallest vertex) and the component count.
std::vector<int32_t> graph_components(const CsrMatrix& graph, int& n_components);

/// Vector width of the epoch's code (the same results bit for bit; wider is faster).
enum class EpochKernel { sse2 = 0, avx2 = 1, avx512 = 2 };
/// The widest kernel this CPU runs.
EpochKernel best_epoch_kernel();
/// AVX2 when the CPU has it (faster than AVX-512 here), or the kernel named by the environment
/// variable TRANSCURA_UMAP_KERNEL (sse2, avx2, avx512: for tests and benchmarks); never wider
/// than best_epoch_kernel().
EpochKernel chosen_epoch_kernel();

/// The SGD schedule of umap-learn's optimize_layout_euclidean, edges grouped by head vertex.
struct EpochSchedule {
    int64_t n_vertices = 0;
    int n_epochs = 0;
    std::vector<int64_t> head_ptr;  // n_vertices + 1
    std::vector<int32_t> tail;
    std::vector<double> epochs_per_sample;
    std::vector<double> epoch_of_next_sample;
    std::vector<int32_t> next_sample_epoch;  // ceil(epoch_of_next_sample): a compact test
    std::vector<double> epoch_of_next_negative_sample;
    std::vector<int64_t> reverse;  // index of edge (j, i) for edge (i, j); -1 if absent
    bool symmetric = false;        // every edge has a reverse with the same epochs_per_sample
    EpochKernel kernel = EpochKernel::sse2;
    std::vector<float> pulled;     // per edge (j, i) x dim: the attraction i took on (i, j)
};

struct SgdParameters {
    double a = 0, b = 0;
    double gamma = 1.0;          // repulsion strength
    double initial_alpha = 1.0;  // learning rate
    double negative_sample_rate = 5.0;
    uint64_t seed = 0;
};

/// Drops edges weaker than max / n_epochs (umap-learn prunes with the default epoch count
/// when n_epochs <= 10) and sets up the sampling schedule.
EpochSchedule make_schedule(const CsrMatrix& graph, int n_epochs, double negative_sample_rate);

/// The vertices in breadth-first order over the graph (each component from its lowest vertex,
/// neighbours in column order): graph neighbours get nearby indices, so the SGD's per-edge
/// reads and writes stay in cache. Deterministic.
std::vector<int64_t> locality_order(const CsrMatrix& graph);
/// `graph` with vertex order[r] renumbered r, rows sorted by column.
CsrMatrix permuted(const CsrMatrix& graph, const std::vector<int64_t>& order);

/// One epoch (0-based `epoch`) of SGD on n_vertices x dim (2 or 3) float positions: reads
/// `current`, writes `next`. Two passes: each vertex's own edges (attraction, repulsion) against
/// the other vertices' positions at the start of the epoch, with a random stream per (epoch,
/// vertex); then the opposite attraction at each edge's tail. The result does not depend on the
/// thread count or scheduling. Does not poll for cancellation.
void run_epoch(EpochSchedule& schedule, const SgdParameters& params, int epoch, int dim,
               const float* current, float* next, int num_threads);

}  // namespace transcura::engine::umap_detail
