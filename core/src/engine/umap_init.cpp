// UMAP's initial layout (umap-learn's spectral_layout / simplicial_set_embedding).
//
// Spectral: the eigenvectors of the normalised Laplacian L = I - D^-1/2 W D^-1/2 with the
// smallest non-zero eigenvalues. Spectra's Lanczos solver finds the largest eigenvalues fastest,
// so we solve for the largest of 2I - L = I + D^-1/2 W D^-1/2 (same eigenvectors, eigenvalues in
// [0, 2], the top one D^1/2 1 with eigenvalue 2 dropped), with a parallel mat-vec whose row sums
// do not depend on the thread count.
//
// Disconnected graphs: umap-learn embeds each component spectrally and places the components
// with a meta-embedding of their centroids in the data space. We only have the graph, so each
// component big enough for the solver gets its own spectral layout, small ones (or ones where
// the solver fails) a seeded random one, and the components are laid out on a grid, largest first,
// each scaled by the square root of its share of the cells (the SGD then moves them apart freely:
// nothing attracts them). When the solver does not converge on the (largest) component, the whole
// layout is seeded uniform random, as umap-learn falls back to when eigsh fails.
#include <Spectra/SymEigsSolver.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/parallel.hpp"
#include "engine/random.hpp"
#include "engine/umap_internal.hpp"

namespace transcura::engine::umap_detail {
namespace {

/// y = x + D^-1/2 W D^-1/2 x, for Spectra.
class ShiftedNormalizedAdjacency {
public:
    using Scalar = double;
    ShiftedNormalizedAdjacency(const CsrMatrix& graph, std::vector<double> inv_sqrt_degree,
                               int num_threads)
        : graph_(graph), inv_sqrt_degree_(std::move(inv_sqrt_degree)) {
        control_.num_threads = num_threads;
    }
    Eigen::Index rows() const { return graph_.n_rows; }
    Eigen::Index cols() const { return graph_.n_rows; }
    void perform_op(const double* x, double* y) const {
        for_chunks(make_chunks(graph_.n_rows, 2048), control_, [&](int64_t, int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) {
                double s = 0.0;
                for (int64_t p = graph_.indptr[i]; p < graph_.indptr[i + 1]; ++p) {
                    const int32_t j = graph_.indices[p];
                    s += static_cast<double>(graph_.data[p]) * inv_sqrt_degree_[j] * x[j];
                }
                y[i] = x[i] + inv_sqrt_degree_[i] * s;
            }
        });
    }

private:
    const CsrMatrix& graph_;
    std::vector<double> inv_sqrt_degree_;
    RunControl control_;
};

/// Spectral coordinates (n x dim, unscaled) of a connected graph; false when the solver fails.
bool spectral_coordinates(const CsrMatrix& graph, int dim, uint64_t seed, int num_threads,
                          DenseD& coords) {
    const int64_t n = graph.n_rows;
    const int nev = dim + 1;
    if (n < 2 * nev + 2) return false;
    std::vector<double> inv_sqrt_degree(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        double degree = 0.0;
        for (int64_t p = graph.indptr[i]; p < graph.indptr[i + 1]; ++p) degree += graph.data[p];
        if (!(degree > 0.0)) return false;
        inv_sqrt_degree[static_cast<size_t>(i)] = 1.0 / std::sqrt(degree);
    }
    ShiftedNormalizedAdjacency op(graph, std::move(inv_sqrt_degree), num_threads);
    Rng rng(seed, 0x5BEC7A1ull);
    std::vector<double> start(static_cast<size_t>(n));
    for (double& v : start) v = rng.uniform() - 0.5;

    // umap-learn uses max(2k + 1, sqrt(n)) Lanczos vectors; that much memory is not needed for
    // the handful of eigenpairs here: start small and widen once if the solver stalls.
    const int64_t wide = std::max<int64_t>(2 * nev + 1, static_cast<int64_t>(std::sqrt(n)));
    const int64_t attempts[2] = {std::min<int64_t>(n, std::max<int64_t>(2 * nev + 1, 24)),
                                 std::min<int64_t>(n, std::min<int64_t>(wide, 128))};
    for (int attempt = 0; attempt < 2; ++attempt) {
        const int64_t ncv = attempts[attempt];
        if (attempt == 1 && ncv <= attempts[0]) break;
        Spectra::SymEigsSolver<ShiftedNormalizedAdjacency> solver(op, nev, ncv);
        solver.init(start.data());
        solver.compute(Spectra::SortRule::LargestAlge, 1000, 1e-4, Spectra::SortRule::LargestAlge);
        if (solver.info() != Spectra::CompInfo::Successful) continue;
        const Eigen::MatrixXd vectors = solver.eigenvectors();  // decreasing eigenvalue
        coords = DenseD(n, dim);
        for (int64_t i = 0; i < n; ++i)
            for (int c = 0; c < dim; ++c) coords(i, c) = vectors(i, c + 1);
        return true;
    }
    return false;
}

void scale_to_box(DenseD& layout) {
    // umap-learn rescales every initial layout to [0, 10] per column.
    for (int64_t c = 0; c < layout.n_cols; ++c) {
        double lo = layout(0, c), hi = layout(0, c);
        for (int64_t i = 0; i < layout.n_rows; ++i) {
            lo = std::min(lo, layout(i, c));
            hi = std::max(hi, layout(i, c));
        }
        const double range = hi > lo ? hi - lo : 1.0;
        for (int64_t i = 0; i < layout.n_rows; ++i)
            layout(i, c) = 10.0 * (layout(i, c) - lo) / range;
    }
}

DenseD random_layout(int64_t n, int dim, uint64_t seed) {
    DenseD layout(n, dim);
    Rng rng(seed, 0xA11D0Full);
    for (double& v : layout.values) v = -10.0 + 20.0 * rng.uniform();
    return layout;
}

/// Spectral layout of a connected graph, max |coordinate| = 10 plus N(0, 1e-4) noise.
bool spectral_layout(const CsrMatrix& graph, int dim, uint64_t seed, int num_threads,
                     DenseD& layout) {
    if (!spectral_coordinates(graph, dim, seed, num_threads, layout)) return false;
    double max_abs = 0.0;
    for (double v : layout.values) max_abs = std::max(max_abs, std::fabs(v));
    if (!(max_abs > 0.0) || !std::isfinite(max_abs)) return false;
    Rng noise(seed, 0x9015Eull);
    for (double& v : layout.values) v = v * (10.0 / max_abs) + 1e-4 * noise.normal();
    return true;
}

CsrMatrix component_subgraph(const CsrMatrix& graph, const std::vector<int64_t>& members,
                             const std::vector<int64_t>& local_index) {
    CsrMatrix sub;
    sub.n_rows = sub.n_cols = static_cast<int64_t>(members.size());
    sub.indptr.assign(members.size() + 1, 0);
    for (size_t r = 0; r < members.size(); ++r) {
        const int64_t i = members[r];
        for (int64_t p = graph.indptr[i]; p < graph.indptr[i + 1]; ++p) {
            sub.indices.push_back(static_cast<int32_t>(local_index[graph.indices[p]]));
            sub.data.push_back(graph.data[p]);
        }
        sub.indptr[r + 1] = static_cast<int64_t>(sub.indices.size());
    }
    return sub;
}

}  // namespace

std::vector<int32_t> graph_components(const CsrMatrix& graph, int& n_components) {
    const int64_t n = graph.n_rows;
    std::vector<int32_t> label(static_cast<size_t>(n), -1);
    std::vector<int64_t> sizes, stack;
    for (int64_t seed = 0; seed < n; ++seed) {
        if (label[seed] >= 0) continue;
        const int32_t id = static_cast<int32_t>(sizes.size());
        int64_t size = 0;
        label[seed] = id;
        stack.push_back(seed);
        while (!stack.empty()) {
            const int64_t v = stack.back();
            stack.pop_back();
            ++size;
            for (int64_t p = graph.indptr[v]; p < graph.indptr[v + 1]; ++p) {
                const int32_t w = graph.indices[p];
                if (label[w] < 0) {
                    label[w] = id;
                    stack.push_back(w);
                }
            }
        }
        sizes.push_back(size);
    }
    n_components = static_cast<int>(sizes.size());
    // Relabel by decreasing size (stable: ties keep first-seen order = smallest vertex).
    std::vector<int32_t> order(sizes.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t x, int32_t y) { return sizes[x] > sizes[y]; });
    std::vector<int32_t> rank(sizes.size());
    for (size_t r = 0; r < order.size(); ++r) rank[order[r]] = static_cast<int32_t>(r);
    for (int32_t& l : label) l = rank[l];
    return label;
}

InitialLayout initial_layout(const CsrMatrix& graph, int n_components, bool spectral, uint64_t seed,
                             const RunControl& control) {
    InitialLayout out;
    const int64_t n = graph.n_rows;
    const int threads = control.threads();
    std::vector<int32_t> label = graph_components(graph, out.n_graph_components);
    if (spectral && out.n_graph_components == 1) {
        out.spectral = spectral_layout(graph, n_components, seed, threads, out.layout);
        if (!out.spectral) out.layout = DenseD();
    } else if (spectral) {
        // One spectral (or random, when tiny) layout per component, placed on a grid.
        const int n_comp = out.n_graph_components;
        std::vector<std::vector<int64_t>> members(static_cast<size_t>(n_comp));
        for (int64_t i = 0; i < n; ++i) members[label[i]].push_back(i);
        std::vector<int64_t> local_index(static_cast<size_t>(n));
        for (const auto& m : members)
            for (size_t r = 0; r < m.size(); ++r) local_index[m[r]] = static_cast<int64_t>(r);
        const int columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n_comp))));
        const double largest = static_cast<double>(members[0].size());
        out.layout = DenseD(n, n_components);
        bool largest_spectral = false;
        for (int c = 0; c < n_comp; ++c) {
            control.check();
            DenseD local;
            const uint64_t comp_seed = seed + 0x632BE59BD9B4E019ull * static_cast<uint64_t>(c + 1);
            bool ok = false;
            if (members[c].size() >= 16) {
                CsrMatrix sub = component_subgraph(graph, members[c], local_index);
                ok = spectral_layout(sub, n_components, comp_seed, threads, local);
            }
            if (c == 0) largest_spectral = ok;
            if (!ok)
                local =
                    random_layout(static_cast<int64_t>(members[c].size()), n_components, comp_seed);
            // local is within [-10, 10]: shrink to the component's share, move to its cell.
            const double scale =
                0.4 * std::sqrt(static_cast<double>(members[c].size()) / largest) / 10.0;
            const double centre[3] = {static_cast<double>(c % columns),
                                      static_cast<double>(c / columns), 0.0};
            for (size_t r = 0; r < members[c].size(); ++r)
                for (int d = 0; d < n_components; ++d)
                    out.layout(members[c][r], d) =
                        centre[d] + scale * local(static_cast<int64_t>(r), d);
        }
        out.spectral = largest_spectral;
        if (!largest_spectral) out.layout = DenseD();  // the solver failed on the bulk
    }
    if (out.layout.n_rows != n) {
        out.spectral = false;
        out.layout = random_layout(n, n_components, seed);
    }
    scale_to_box(out.layout);
    return out;
}

}  // namespace transcura::engine::umap_detail
