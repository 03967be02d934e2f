// The engine's kNN step (knn.hpp): exact search for small cohorts, HNSW above the threshold.
#include "transcura/knn.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>
#include <utility>

#include "transcura/errors.hpp"

namespace transcura {

KnnResults knn_graph(const DenseD& embedding, const KnnOptions& options) {
    if (options.k < 1)
        throw InvalidArgument("kNN: k must be at least 1 (it counts the cell itself)");
    if (embedding.values.size() != static_cast<size_t>(embedding.n_rows * embedding.n_cols))
        throw InvalidArgument("kNN: embedding size does not match its shape");
    for (double v : embedding.values)
        if (!std::isfinite(v))
            throw InvalidArgument("kNN: the embedding has non-finite coordinates (NaN or inf)");
    KnnResults results;
    if (options.exact_max_cells > 0 && embedding.n_rows <= options.exact_max_cells) {
        results.neighbors = exact_neighbors(embedding, options.k, options.control);
        results.exact = true;
        // exact_neighbors breaks distance ties by index, so a duplicate of a cell with a lower
        // index comes before the cell itself; the graph's convention is "the cell first".
        NeighborLists& nn = results.neighbors;
        for (int64_t i = 0; i < nn.n_queries; ++i) {
            int64_t* row = nn.indices.data() + i * nn.k;
            double* dist = nn.distances.data() + i * nn.k;
            if (nn.k == 0 || row[0] == i) continue;
            int j = 0;
            while (j < nn.k && row[j] != i) ++j;
            if (j == nn.k) j = nn.k - 1;  // more duplicates than k: the cell replaces the last
            for (int m = j; m > 0; --m) {
                row[m] = row[m - 1];
                dist[m] = dist[m - 1];
            }
            row[0] = i;
            dist[0] = 0.0;
        }
    } else {
        results.neighbors = hnsw_knn(embedding, options);
        results.exact = false;
    }
    return results;
}

CsrMatrix knn_distance_matrix(const NeighborLists& neighbors, int64_t n_cells) {
    if (!neighbors.queries.empty() || neighbors.n_queries != n_cells)
        throw InvalidArgument("kNN distances: the table must have one row per cell");
    CsrMatrix m;
    m.n_rows = n_cells;
    m.n_cols = n_cells;
    m.indptr.assign(static_cast<size_t>(n_cells + 1), 0);
    std::vector<std::pair<int32_t, float>> row;
    for (int64_t i = 0; i < n_cells; ++i) {
        row.clear();
        const int64_t* idx = neighbors.row_indices(i);
        const double* dist = neighbors.row_distances(i);
        for (int j = 0; j < neighbors.k; ++j)
            if (idx[j] != i)
                row.push_back({static_cast<int32_t>(idx[j]), static_cast<float>(dist[j])});
        std::sort(row.begin(), row.end());
        for (const auto& [column, value] : row) {
            m.indices.push_back(column);
            m.data.push_back(value);
        }
        m.indptr[i + 1] = static_cast<int64_t>(m.indices.size());
    }
    return m;
}

double knn_recall(const NeighborLists& approximate, const NeighborLists& truth) {
    if (approximate.n_queries != truth.n_queries)
        throw InvalidArgument("kNN recall: the tables have different numbers of rows");
    int64_t found = 0, total = 0;
    std::unordered_set<int64_t> row;
    for (int64_t i = 0; i < truth.n_queries; ++i) {
        row.clear();
        row.insert(approximate.row_indices(i), approximate.row_indices(i) + approximate.k);
        for (int j = 0; j < truth.k; ++j) found += row.count(truth.row_indices(i)[j]);
        total += truth.k;
    }
    return total == 0 ? 1.0 : static_cast<double>(found) / static_cast<double>(total);
}

}  // namespace transcura
