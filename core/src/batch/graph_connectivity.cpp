// Graph connectivity by union-find: an undirected edge joins a cell to each of its neighbours
// when both carry the same label, which is the label-restricted symmetrised kNN graph.
#include "transcura/graph_connectivity.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include "transcura/errors.hpp"

namespace transcura {
namespace {

int64_t find_root(std::vector<int64_t>& parent, int64_t x) {
    while (parent[static_cast<size_t>(x)] != x) {
        parent[static_cast<size_t>(x)] =
            parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];  // path halving
        x = parent[static_cast<size_t>(x)];
    }
    return x;
}

}  // namespace

GraphConnectivityResults graph_connectivity(const NeighborLists& neighbors,
                                            const std::vector<int32_t>& label_codes,
                                            const GraphConnectivityOptions& options) {
    const auto n = static_cast<int64_t>(label_codes.size());
    if (!neighbors.queries.empty() || neighbors.n_queries != n)
        throw InvalidArgument("graph connectivity: needs the neighbours of every cell");
    const int columns = std::min(options.n_neighbors, neighbors.k);
    options.control.check();

    std::vector<int64_t> parent(static_cast<size_t>(n));
    std::iota(parent.begin(), parent.end(), int64_t{0});
    for (int64_t i = 0; i < n; ++i) {
        const int32_t label = label_codes[static_cast<size_t>(i)];
        if (label < 0) continue;
        const int64_t* row = neighbors.row_indices(i);
        for (int j = 0; j < columns; ++j) {
            const int64_t other = row[j];
            if (other < 0 || other >= n)
                throw InvalidArgument("graph connectivity: neighbour index out of range");
            if (label_codes[static_cast<size_t>(other)] != label) continue;
            const int64_t a = find_root(parent, i);
            const int64_t b = find_root(parent, other);
            if (a != b) parent[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
        }
    }
    int n_labels = 0;
    for (int32_t l : label_codes) n_labels = std::max(n_labels, l + 1);
    // Component sizes (components never span labels, so a root's size is within its label).
    std::vector<int64_t> component_size(static_cast<size_t>(n), 0);
    GraphConnectivityResults results;
    results.label_sizes.assign(static_cast<size_t>(n_labels), 0);
    std::vector<int64_t> largest(static_cast<size_t>(n_labels), 0);
    for (int64_t i = 0; i < n; ++i) {
        const int32_t label = label_codes[static_cast<size_t>(i)];
        if (label < 0) continue;
        ++results.label_sizes[static_cast<size_t>(label)];
        const int64_t size = ++component_size[static_cast<size_t>(find_root(parent, i))];
        largest[static_cast<size_t>(label)] = std::max(largest[static_cast<size_t>(label)], size);
    }
    results.per_label.assign(static_cast<size_t>(n_labels),
                             std::numeric_limits<double>::quiet_NaN());
    double sum = 0.0;
    int scored = 0;
    for (int l = 0; l < n_labels; ++l) {
        if (results.label_sizes[static_cast<size_t>(l)] == 0) continue;
        results.per_label[static_cast<size_t>(l)] =
            static_cast<double>(largest[static_cast<size_t>(l)]) /
            static_cast<double>(results.label_sizes[static_cast<size_t>(l)]);
        sum += results.per_label[static_cast<size_t>(l)];
        ++scored;
    }
    results.score = scored > 0 ? sum / scored : std::numeric_limits<double>::quiet_NaN();
    options.control.report(1.0, "graph connectivity");
    return results;
}

GraphConnectivityResults graph_connectivity(const DenseD& embedding,
                                            const std::vector<int32_t>& label_codes,
                                            const GraphConnectivityOptions& options) {
    if (static_cast<int64_t>(label_codes.size()) != embedding.n_rows)
        throw InvalidArgument("graph connectivity: one label code per cell expected");
    NeighborLists neighbors = exact_neighbors(embedding, options.n_neighbors, options.control);
    return graph_connectivity(neighbors, label_codes, options);
}

}  // namespace transcura
