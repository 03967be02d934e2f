// Leiden clustering (leiden.hpp) through igraph 0.10's igraph_community_leiden.
//
// igraph optimises the Constant Potts Model, sum_ij (A_ij - gamma n_i n_j) delta(c_i, c_j);
// with node weights n_i = the strengths s_i and gamma = resolution / (2m) (m = total edge
// weight) that is modularity with a resolution, i.e. leidenalg's RBConfigurationVertexPartition.
// scanpy builds a directed igraph with both arcs of every symmetric edge; directed modularity of
// such a graph equals the undirected modularity used here.
//
// Passes are run one at a time (start = the previous partition) so that progress and cancel work
// between them; "until stable" stops after a pass that leaves the partition unchanged, which is
// igraph's own rule for n_iterations < 0.
#include "transcura/leiden.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>

#include <igraph/igraph.h>

#include "transcura/errors.hpp"

namespace transcura {
namespace {

// igraph's default RNG and error handler are process-wide: one Leiden run at a time.
std::mutex g_igraph_mutex;

constexpr int kMaxPasses = 1000;  // "until stable" converges in a handful; this is a safety net

void check(igraph_error_t code, const char* what) {
    if (code != IGRAPH_SUCCESS)
        throw InvalidArgument(std::string("Leiden: igraph failed in ") + what + ": " +
                              igraph_strerror(code));
}

/// Owns the igraph objects and restores igraph's global state whatever happens.
class IgraphSession {
public:
    explicit IgraphSession(uint64_t seed) : lock_(g_igraph_mutex) {
        previous_handler_ = igraph_set_error_handler(igraph_error_handler_ignore);
        check(igraph_rng_init(&rng_, &igraph_rngtype_pcg32), "igraph_rng_init");
        check(igraph_rng_seed(&rng_, static_cast<igraph_uint_t>(seed)), "igraph_rng_seed");
        previous_rng_ = igraph_rng_default();
        igraph_rng_set_default(&rng_);
    }
    ~IgraphSession() {
        if (has_graph_) igraph_destroy(&graph_);
        igraph_rng_set_default(previous_rng_);
        igraph_rng_destroy(&rng_);
        igraph_set_error_handler(previous_handler_);
    }
    IgraphSession(const IgraphSession&) = delete;
    IgraphSession& operator=(const IgraphSession&) = delete;

    igraph_t& make_graph(const igraph_vector_int_t& edges, igraph_integer_t n) {
        check(igraph_create(&graph_, &edges, n, IGRAPH_UNDIRECTED), "igraph_create");
        has_graph_ = true;
        return graph_;
    }

private:
    std::lock_guard<std::mutex> lock_;
    igraph_error_handler_t* previous_handler_ = nullptr;
    igraph_rng_t rng_;
    igraph_rng_t* previous_rng_ = nullptr;
    igraph_t graph_;
    bool has_graph_ = false;
};

/// RAII for igraph vectors.
struct RealVector {
    igraph_vector_t v;
    explicit RealVector(igraph_integer_t n) { check(igraph_vector_init(&v, n), "vector_init"); }
    ~RealVector() { igraph_vector_destroy(&v); }
};
struct IntVector {
    igraph_vector_int_t v;
    explicit IntVector(igraph_integer_t n) { check(igraph_vector_int_init(&v, n), "vector_init"); }
    ~IntVector() { igraph_vector_int_destroy(&v); }
};

/// Labels renumbered by cluster size (0 = largest), ties by the lowest member.
std::vector<int32_t> by_size(const std::vector<int64_t>& labels, int* n_clusters) {
    const int64_t n = static_cast<int64_t>(labels.size());
    int64_t max_label = -1;
    for (int64_t l : labels) max_label = std::max(max_label, l);
    std::vector<int64_t> size(static_cast<size_t>(max_label + 1), 0), first(size.size(), n);
    for (int64_t i = 0; i < n; ++i) {
        ++size[labels[i]];
        first[labels[i]] = std::min(first[labels[i]], i);
    }
    std::vector<int64_t> used;
    for (int64_t l = 0; l <= max_label; ++l)
        if (size[l] > 0) used.push_back(l);
    std::sort(used.begin(), used.end(), [&](int64_t a, int64_t b) {
        return std::make_tuple(-size[a], first[a]) < std::make_tuple(-size[b], first[b]);
    });
    std::vector<int32_t> code(size.size(), -1);
    for (size_t r = 0; r < used.size(); ++r) code[used[r]] = static_cast<int32_t>(r);
    std::vector<int32_t> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out[i] = code[labels[i]];
    *n_clusters = static_cast<int>(used.size());
    return out;
}

}  // namespace

LeidenResults leiden(const CsrMatrix& g, const LeidenOptions& options) {
    if (g.n_rows != g.n_cols)
        throw InvalidArgument("Leiden: the graph must be a square cells x cells matrix, got " +
                              std::to_string(g.n_rows) + " x " + std::to_string(g.n_cols));
    if (!(options.resolution > 0) || !std::isfinite(options.resolution))
        throw InvalidArgument("Leiden: the resolution must be positive");
    if (!(options.beta > 0)) throw InvalidArgument("Leiden: beta must be positive");
    g.validate("(memory)", "Leiden graph");
    const int64_t n = g.n_rows;
    const RunControl& control = options.control;

    // Undirected edge list i < j with weight (w_ij + w_ji) / 2, in (i, j) order: each entry is
    // bucketed by its lower end, then every bucket (a cell's ~2k entries) sorted on its own,
    // which is the order one global sort of all entries gave at a tenth of its cost.
    std::vector<int64_t> start(static_cast<size_t>(n + 1), 0);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t p = g.indptr[i]; p < g.indptr[i + 1]; ++p) {
            const int64_t j = g.indices[p];
            const double w = g.data[p];
            if (!std::isfinite(w) || w < 0)
                throw InvalidArgument("Leiden: edge weights must be finite and non-negative");
            if (j == i || w == 0) continue;
            ++start[std::min(i, j) + 1];
        }
    for (int64_t i = 0; i < n; ++i) start[i + 1] += start[i];
    std::vector<std::pair<int64_t, double>> entries(static_cast<size_t>(start[n]));
    {
        std::vector<int64_t> next(start.begin(), start.end() - 1);
        for (int64_t i = 0; i < n; ++i)
            for (int64_t p = g.indptr[i]; p < g.indptr[i + 1]; ++p) {
                const int64_t j = g.indices[p];
                const double w = g.data[p];
                if (j == i || w == 0) continue;
                entries[next[std::min(i, j)]++] = {std::max(i, j), 0.5 * w};
            }
    }
    std::vector<std::pair<int64_t, int64_t>> edges;
    std::vector<double> weights;
    edges.reserve(entries.size());
    weights.reserve(entries.size());
    for (int64_t i = 0; i < n; ++i) {
        std::sort(entries.begin() + start[i], entries.begin() + start[i + 1]);
        for (int64_t e = start[i]; e < start[i + 1]; ++e) {
            const auto [j, w] = entries[e];
            if (e > start[i] && edges.back().second == j) {
                weights.back() += w;
            } else {
                edges.push_back({i, j});
                weights.push_back(w);
            }
        }
    }
    entries = {};

    LeidenResults results;
    if (n == 0) return results;
    control.check();

    IgraphSession session(options.seed);
    const auto m = static_cast<igraph_integer_t>(edges.size());
    IntVector edge_list(2 * m);
    RealVector edge_weights(m), node_weights(n);
    igraph_vector_null(&node_weights.v);
    double total_weight = 0.0;
    for (igraph_integer_t e = 0; e < m; ++e) {
        VECTOR(edge_list.v)[2 * e] = edges[e].first;
        VECTOR(edge_list.v)[2 * e + 1] = edges[e].second;
        VECTOR(edge_weights.v)[e] = weights[e];
        VECTOR(node_weights.v)[edges[e].first] += weights[e];
        VECTOR(node_weights.v)[edges[e].second] += weights[e];
        total_weight += weights[e];
    }
    igraph_t& graph = session.make_graph(edge_list.v, static_cast<igraph_integer_t>(n));
    edges = {};
    weights = {};

    IntVector membership(n);
    for (int64_t i = 0; i < n; ++i) VECTOR(membership.v)[i] = i;
    // Without edges every cell is its own cluster (and the resolution would divide by zero).
    const double gamma = total_weight > 0 ? options.resolution / (2.0 * total_weight) : 1.0;
    igraph_integer_t n_clusters = n;
    igraph_real_t quality = 0.0;
    std::vector<int64_t> previous(static_cast<size_t>(n)), current(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) previous[i] = i;
    int passes = 0;
    const int wanted = options.n_iterations < 0 ? kMaxPasses : options.n_iterations;
    while (m > 0 && passes < wanted) {
        check(igraph_community_leiden(&graph, &edge_weights.v, &node_weights.v, gamma, options.beta,
                                      /*start=*/passes > 0, /*n_iterations=*/1, &membership.v,
                                      &n_clusters, &quality),
              "igraph_community_leiden");
        ++passes;
        for (int64_t i = 0; i < n; ++i) current[i] = VECTOR(membership.v)[i];
        int unused = 0;
        const bool stable = by_size(current, &unused) == by_size(previous, &unused);
        std::swap(previous, current);
        control.check();
        control.report(1.0 - std::pow(0.5, passes), "Leiden clustering");
        if (options.n_iterations < 0 && stable) break;
    }
    if (m > 0 && passes == 0) {
        // n_iterations == 0: the singletons, as igraph returns them; quality still computed.
        check(igraph_community_leiden(&graph, &edge_weights.v, &node_weights.v, gamma, options.beta,
                                      true, 0, &membership.v, &n_clusters, &quality),
              "igraph_community_leiden");
    }
    results.membership = by_size(previous, &results.n_clusters);
    results.quality = quality;
    results.n_passes = passes;
    control.report(1.0, "Leiden clustering");
    return results;
}

double adjusted_rand_index(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
    if (a.size() != b.size())
        throw InvalidArgument("adjusted Rand index: the labelings have different lengths");
    const int64_t n = static_cast<int64_t>(a.size());
    if (n < 2) return 1.0;
    auto codes = [](const std::vector<int32_t>& labels, int32_t* count) {
        std::vector<int32_t> sorted(labels);
        std::sort(sorted.begin(), sorted.end());
        sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
        std::vector<int32_t> out(labels.size());
        for (size_t i = 0; i < labels.size(); ++i)
            out[i] = static_cast<int32_t>(
                std::lower_bound(sorted.begin(), sorted.end(), labels[i]) - sorted.begin());
        *count = static_cast<int32_t>(sorted.size());
        return out;
    };
    int32_t ka = 0, kb = 0;
    const std::vector<int32_t> ca = codes(a, &ka), cb = codes(b, &kb);
    std::vector<int64_t> table(static_cast<size_t>(ka) * kb, 0), rows(ka, 0), cols(kb, 0);
    for (int64_t i = 0; i < n; ++i) {
        ++table[static_cast<size_t>(ca[i]) * kb + cb[i]];
        ++rows[ca[i]];
        ++cols[cb[i]];
    }
    auto pairs = [](int64_t x) {
        return 0.5 * static_cast<double>(x) * static_cast<double>(x - 1);
    };
    double index = 0, sum_rows = 0, sum_cols = 0;
    for (int64_t v : table) index += pairs(v);
    for (int64_t v : rows) sum_rows += pairs(v);
    for (int64_t v : cols) sum_cols += pairs(v);
    const double expected = sum_rows * sum_cols / pairs(n);
    const double maximum = 0.5 * (sum_rows + sum_cols);
    // sklearn: both labelings trivial in the same way (all one cluster, or all singletons) = 1.
    if (maximum == expected) return 1.0;
    return (index - expected) / (maximum - expected);
}

}  // namespace transcura
