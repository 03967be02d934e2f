// HNSW k nearest neighbours (knn.hpp) on hnswlib's index, built in parallel yet deterministically.
//
// hnswlib's own parallel insertion (addPoint from several threads) gives a graph that depends on
// the thread timing. We insert points in batches instead: during a batch the graph is frozen,
// every new point searches it for its candidates and picks its links with hnswlib's heuristic
// (parallel, read-only on the old points); then the reverse links are added, grouped by the old
// point that receives them (parallel over receivers, each group in insertion order). The result
// depends only on the seed (insertion order and layer levels), not on the number of threads.
// Points of one batch do not see each other while linking, so batches stay small relative to
// the index (1/32 of it; the first points go one at a time, exactly as hnswlib inserts them), and
// the insertion order is a seeded shuffle so a batch is a sparse random sample of the cohort
// even when the file is sorted by cell type.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <queue>
#include <tuple>
#include <utility>
#include <vector>

#include <hnswlib/hnswlib.h>

#include "engine/parallel.hpp"
#include "engine/random.hpp"
#include "transcura/errors.hpp"
#include "transcura/knn.hpp"

namespace transcura {
namespace {

using Index = hnswlib::HierarchicalNSW<float>;
using Id = hnswlib::tableint;
using Candidates = std::priority_queue<std::pair<float, Id>, std::vector<std::pair<float, Id>>,
                                       Index::CompareByFirst>;

constexpr int64_t kSequentialPoints = 1024;  // inserted one by one, as hnswlib does
constexpr int64_t kBatchDivisor = 32;        // batch = index size / 32 ...
constexpr int64_t kMaxBatch = 4096;          // ... at most this

// ---- squared L2 on padded float vectors, for the instruction set of the machine ----
// hnswlib picks its SSE kernels at compile time (our baseline build has no AVX). Half of the
// build time is distances, so we give the index our own space: vectors zero-padded to a multiple
// of 16 floats and one kernel body compiled for AVX-512, AVX2 and the baseline. The arithmetic
// and the order of the final sum are the same in all three (no contraction into FMA in ISO C++
// mode), so the index does not depend on which one runs.
constexpr size_t kPadTo = 16;
typedef float Vec16 __attribute__((vector_size(kPadTo * sizeof(float))));

__attribute__((always_inline)) inline float l2_body(const void* a, const void* b,
                                                    const void* param) {
    const size_t dims = *static_cast<const size_t*>(param);
    const float* x = static_cast<const float*>(a);
    const float* y = static_cast<const float*>(b);
    Vec16 sum = {};
    for (size_t c = 0; c < dims; c += kPadTo) {
        Vec16 u, v;
        __builtin_memcpy(&u, x + c, sizeof(Vec16));
        __builtin_memcpy(&v, y + c, sizeof(Vec16));
        const Vec16 diff = u - v;
        sum += diff * diff;
    }
    // Pairwise tree over the lanes (a fixed order, short dependency chain).
    typedef float Vec8 __attribute__((vector_size(8 * sizeof(float))));
    typedef float Vec4 __attribute__((vector_size(4 * sizeof(float))));
    const Vec8 s8 = __builtin_shufflevector(sum, sum, 0, 1, 2, 3, 4, 5, 6, 7) +
                    __builtin_shufflevector(sum, sum, 8, 9, 10, 11, 12, 13, 14, 15);
    const Vec4 s4 =
        __builtin_shufflevector(s8, s8, 0, 1, 2, 3) + __builtin_shufflevector(s8, s8, 4, 5, 6, 7);
    return (s4[0] + s4[2]) + (s4[1] + s4[3]);
}

__attribute__((target("avx512f"))) float l2_avx512(const void* a, const void* b, const void* p) {
    return l2_body(a, b, p);
}
__attribute__((target("avx2"))) float l2_avx2(const void* a, const void* b, const void* p) {
    return l2_body(a, b, p);
}
float l2_baseline(const void* a, const void* b, const void* p) {
    return l2_body(a, b, p);
}

class PaddedL2Space : public hnswlib::SpaceInterface<float> {
public:
    explicit PaddedL2Space(size_t padded_dims) : dims_(padded_dims) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f"))
            distance_ = l2_avx512;
        else if (__builtin_cpu_supports("avx2"))
            distance_ = l2_avx2;
        else
            distance_ = l2_baseline;
    }
    size_t get_data_size() override { return dims_ * sizeof(float); }
    hnswlib::DISTFUNC<float> get_dist_func() override { return distance_; }
    void* get_dist_func_param() override { return &dims_; }

private:
    size_t dims_;
    hnswlib::DISTFUNC<float> distance_ = l2_baseline;
};

hnswlib::linklistsizeint* links(Index& index, Id id, int level) {
    return level == 0 ? index.get_linklist0(id) : index.get_linklist(id, level);
}

/// One link a new point asks an old point to take.
struct ReverseLink {
    int level;
    Id receiver;
    Id new_point;
    bool operator<(const ReverseLink& o) const {
        return std::tie(level, receiver, new_point) < std::tie(o.level, o.receiver, o.new_point);
    }
};

class DeterministicBuilder {
public:
    DeterministicBuilder(Index& index, const std::vector<float>& points, int64_t dim)
        : index_(index), points_(points), dim_(dim) {}

    /// Registers, links and back-links points[order[begin..end)] with the given levels.
    void insert_batch(const std::vector<int64_t>& order, const std::vector<int>& levels,
                      int64_t begin, int64_t end, const RunControl& control) {
        const int64_t count = end - begin;
        const Id first_id = static_cast<Id>(index_.cur_element_count);
        const bool was_empty = index_.cur_element_count == 0;
        for (int64_t p = begin; p < end; ++p) register_point(order[p], levels[p]);

        // Phase A: each new point links itself to the frozen graph.
        std::vector<std::vector<std::vector<Id>>> chosen(static_cast<size_t>(count));
        if (!was_empty) {
            const Id entry = index_.enterpoint_node_;
            const int top_level = index_.maxlevel_;
            engine::for_chunks(
                engine::make_chunks(count, 8, 1024), control, [&](int64_t, int64_t b, int64_t e) {
                    for (int64_t q = b; q < e; ++q)
                        chosen[q] = link_new_point(first_id + static_cast<Id>(q), entry, top_level);
                });
        }

        // Phase B: reverse links, grouped by receiver.
        std::vector<ReverseLink> requests;
        for (int64_t q = 0; q < count; ++q)
            for (size_t level = 0; level < chosen[q].size(); ++level)
                for (Id receiver : chosen[q][level])
                    requests.push_back(
                        {static_cast<int>(level), receiver, first_id + static_cast<Id>(q)});
        std::sort(requests.begin(), requests.end());
        std::vector<size_t> group_starts;
        for (size_t r = 0; r < requests.size(); ++r)
            if (r == 0 || requests[r].level != requests[r - 1].level ||
                requests[r].receiver != requests[r - 1].receiver)
                group_starts.push_back(r);
        group_starts.push_back(requests.size());
        const int64_t n_groups = static_cast<int64_t>(group_starts.size()) - 1;
        engine::for_chunks(engine::make_chunks(n_groups, 64, 1024), control,
                           [&](int64_t, int64_t b, int64_t e) {
                               for (int64_t g = b; g < e; ++g)
                                   for (size_t r = group_starts[g]; r < group_starts[g + 1]; ++r)
                                       add_reverse_link(requests[r]);
                           });

        // A point above the current top layer becomes the entry point (first such, in order).
        for (int64_t q = 0; q < count; ++q) {
            const Id id = first_id + static_cast<Id>(q);
            const int level = index_.element_levels_[id];
            if ((was_empty && q == 0) || level > index_.maxlevel_) {
                index_.enterpoint_node_ = id;
                index_.maxlevel_ = level;
            }
        }
    }

private:
    void register_point(int64_t cell, int level) {
        const Id id = static_cast<Id>(index_.cur_element_count);
        const auto label = static_cast<hnswlib::labeltype>(cell);
        index_.label_lookup_[label] = id;
        index_.element_levels_[id] = level;
        std::memset(
            index_.data_level0_memory_ + id * index_.size_data_per_element_ + index_.offsetLevel0_,
            0, index_.size_data_per_element_);
        std::memcpy(index_.getExternalLabeLp(id), &label, sizeof(label));
        std::memcpy(index_.getDataByInternalId(id), points_.data() + cell * dim_,
                    index_.data_size_);
        if (level > 0) {
            // One id of slack: hnswlib's search prefetches the id after a full list's last one
            // (it allocates only one spare byte, which AddressSanitizer reports as an overflow).
            const size_t bytes =
                index_.size_links_per_element_ * static_cast<size_t>(level) + sizeof(Id);
            index_.linkLists_[id] = static_cast<char*>(std::malloc(bytes));
            if (!index_.linkLists_[id]) throw std::bad_alloc();
            std::memset(index_.linkLists_[id], 0, bytes);
        }
        ++index_.cur_element_count;
    }

    float distance(Id a, Id b) const {
        return index_.fstdistfunc_(index_.getDataByInternalId(a), index_.getDataByInternalId(b),
                                   index_.dist_func_param_);
    }

    /// hnswlib's addPoint for one point against the frozen graph, without the reverse links:
    /// greedy descent through the layers above the point's own, then on each of its layers a
    /// beam search (ef_construction) and the neighbour-selection heuristic. Returns the chosen
    /// links per layer (layer 0 first).
    std::vector<std::vector<Id>> link_new_point(Id id, Id entry, int top_level) {
        const int level = index_.element_levels_[id];
        const void* query = index_.getDataByInternalId(id);
        Id current = entry;
        float current_distance = distance(id, entry);
        for (int l = top_level; l > level; --l) {
            for (bool changed = true; changed;) {
                changed = false;
                auto* list = links(index_, current, l);
                const int size = index_.getListCount(list);
                const Id* ids = reinterpret_cast<const Id*>(list + 1);
                for (int j = 0; j < size; ++j) {
                    const float d = distance(id, ids[j]);
                    if (d < current_distance) {
                        current_distance = d;
                        current = ids[j];
                        changed = true;
                    }
                }
            }
        }
        std::vector<std::vector<Id>> chosen(static_cast<size_t>(std::min(level, top_level) + 1));
        for (int l = std::min(level, top_level); l >= 0; --l) {
            Candidates candidates = index_.searchBaseLayer(current, query, l);
            index_.getNeighborsByHeuristic2(candidates, index_.M_);
            std::vector<Id>& selected = chosen[static_cast<size_t>(l)];
            while (!candidates.empty()) {
                selected.push_back(candidates.top().second);
                candidates.pop();
            }
            current = selected.back();  // the nearest: where the next layer starts
            auto* list = links(index_, id, l);
            index_.setListCount(list, static_cast<unsigned short>(selected.size()));
            std::copy(selected.begin(), selected.end(), reinterpret_cast<Id*>(list + 1));
        }
        return chosen;
    }

    /// hnswlib's mutuallyConnectNewElement, the receiving side: append the link, or when the
    /// receiver's list is full, re-select its links with the heuristic among old + new.
    void add_reverse_link(const ReverseLink& link) {
        const size_t capacity = link.level == 0 ? index_.maxM0_ : index_.maxM_;
        auto* list = links(index_, link.receiver, link.level);
        const size_t size = index_.getListCount(list);
        Id* ids = reinterpret_cast<Id*>(list + 1);
        if (size < capacity) {
            ids[size] = link.new_point;
            index_.setListCount(list, static_cast<unsigned short>(size + 1));
            return;
        }
        Candidates candidates;
        candidates.emplace(distance(link.new_point, link.receiver), link.new_point);
        for (size_t j = 0; j < size; ++j)
            candidates.emplace(distance(ids[j], link.receiver), ids[j]);
        index_.getNeighborsByHeuristic2(candidates, capacity);
        size_t kept = 0;
        while (!candidates.empty()) {
            ids[kept++] = candidates.top().second;
            candidates.pop();
        }
        index_.setListCount(list, static_cast<unsigned short>(kept));
    }

    Index& index_;
    const std::vector<float>& points_;
    int64_t dim_;
};

}  // namespace

NeighborLists hnsw_knn(const DenseD& embedding, const KnnOptions& options) {
    const int64_t n = embedding.n_rows;
    const int64_t d = embedding.n_cols;
    const RunControl& control = options.control;
    if (options.k < 1) throw InvalidArgument("kNN (HNSW): k must be at least 1");
    if (options.hnsw_m < 2 || options.hnsw_ef_construction < 1 || options.hnsw_ef_search < 0)
        throw InvalidArgument("kNN (HNSW): M must be at least 2 and ef positive");
    if (embedding.values.size() != static_cast<size_t>(n * d))
        throw InvalidArgument("kNN (HNSW): embedding size does not match its shape");
    NeighborLists result;
    result.n_queries = n;
    result.k = static_cast<int>(std::min<int64_t>(options.k, n));
    const int kk = result.k;
    result.indices.assign(static_cast<size_t>(n * kk), 0);
    result.distances.assign(static_cast<size_t>(n * kk), 0.0);
    if (n == 0) return result;

    // The index works on float (squared distances), rows zero-padded to whole vectors.
    const int64_t padded = (d + static_cast<int64_t>(kPadTo) - 1) / kPadTo * kPadTo;
    std::vector<float> points(static_cast<size_t>(n * padded), 0.0f);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < d; ++c)
            points[i * padded + c] = static_cast<float>(embedding.values[i * d + c]);
    PaddedL2Space space(static_cast<size_t>(padded));
    Index index(&space, static_cast<size_t>(n), static_cast<size_t>(options.hnsw_m),
                static_cast<size_t>(options.hnsw_ef_construction),
                static_cast<size_t>(options.seed));

    // Seeded insertion order (Fisher-Yates) and layer levels (hnswlib's rule: floor(-ln u / ln M)).
    engine::Rng rng(options.seed, 0x6b6e6e);
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[i] = i;
    for (int64_t i = n - 1; i > 0; --i)
        std::swap(order[i], order[static_cast<int64_t>(rng.below(static_cast<uint64_t>(i + 1)))]);
    std::vector<int> levels(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        levels[i] = static_cast<int>(-std::log(rng.uniform_pos()) * index.mult_);

    DeterministicBuilder builder(index, points, padded);
    int64_t inserted = 0;
    while (inserted < n) {
        const int64_t batch =
            inserted < kSequentialPoints
                ? 1
                : std::min(kMaxBatch, std::max<int64_t>(1, inserted / kBatchDivisor));
        const int64_t end = std::min(n, inserted + batch);
        builder.insert_batch(order, levels, inserted, end, control);
        inserted = end;
        if (batch > 1 || inserted % 256 == 0) {
            control.check();
            control.report(0.7 * static_cast<double>(inserted) / static_cast<double>(n),
                           "neighbour index");
        }
    }

    const int ef = options.hnsw_ef_search > 0 ? options.hnsw_ef_search : std::max(120, 2 * kk + 90);
    index.setEf(static_cast<size_t>(std::max(ef, kk)));
    // Queries in breadth-first order of the layer-0 graph: consecutive searches then visit
    // overlapping neighbourhoods, which are in cache (the index itself is in random order).
    std::vector<int64_t> query_order;
    query_order.reserve(static_cast<size_t>(n));
    {
        std::vector<uint8_t> seen(static_cast<size_t>(n), 0);
        for (Id root = 0; root < static_cast<Id>(n); ++root) {
            if (seen[root]) continue;
            seen[root] = 1;
            size_t head = query_order.size();
            query_order.push_back(root);
            while (head < query_order.size()) {
                const Id id = static_cast<Id>(query_order[head++]);
                auto* list = index.get_linklist0(id);
                const Id* ids = reinterpret_cast<const Id*>(list + 1);
                for (int j = 0; j < index.getListCount(list); ++j)
                    if (!seen[ids[j]]) {
                        seen[ids[j]] = 1;
                        query_order.push_back(ids[j]);
                    }
            }
        }
        for (int64_t& id : query_order) id = order[id];  // internal id -> cell
    }
    engine::for_chunks(engine::make_chunks(n, 256), control, [&](int64_t, int64_t b, int64_t e) {
        std::vector<std::pair<double, int64_t>> found;
        for (int64_t q = b; q < e; ++q) {
            const int64_t i = query_order[q];
            auto queue = index.searchKnn(points.data() + i * padded, static_cast<size_t>(kk));
            found.clear();
            bool has_self = false;
            while (!queue.empty()) {
                const auto j = static_cast<int64_t>(queue.top().second);
                has_self |= j == i;
                found.push_back({0.0, j});
                queue.pop();
            }
            // An approximate search can miss the cell itself (e.g. among duplicates): the
            // convention of the table is "self first", so it replaces the farthest.
            if (!has_self) {
                if (static_cast<int>(found.size()) >= kk) found.erase(found.begin());
                found.push_back({0.0, i});
            }
            const double* x = embedding.row(i);
            for (auto& [dist, j] : found) {
                const double* y = embedding.row(j);
                double sum = 0.0;
                for (int64_t c = 0; c < d; ++c) sum += (x[c] - y[c]) * (x[c] - y[c]);
                dist = std::sqrt(sum);
            }
            // Self first even when a duplicate sits at distance 0 too; then (distance, index).
            std::sort(found.begin(), found.end(), [&](const auto& a, const auto& c) {
                if ((a.second == i) != (c.second == i)) return a.second == i;
                return a < c;
            });
            for (int j = 0; j < kk && j < static_cast<int>(found.size()); ++j) {
                result.indices[static_cast<size_t>(i * kk + j)] =
                    found[static_cast<size_t>(j)].second;
                result.distances[static_cast<size_t>(i * kk + j)] =
                    found[static_cast<size_t>(j)].first;
            }
        }
    });
    control.check();
    control.report(1.0, "neighbours");
    return result;
}

}  // namespace transcura
