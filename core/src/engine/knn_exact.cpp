// Exact k nearest neighbours (knn.hpp), used by the engine's kNN step for small cohorts and by
// the batch metrics.
//
// Candidates are ranked by the key |y|^2 - 2 x.y (the squared distance minus the query's own
// |x|^2) in single precision on the centred data, by a register-blocked kernel: four queries
// against a panel of sixteen reference cells stored dimension-major, so every load of a panel
// row feeds four (AVX-512: eight) multiply-adds. The kernel is compiled for AVX-512, AVX2+FMA and
// the baseline, chosen at run time. Each query keeps the best k + kMargin candidates in a bounded
// heap; those are then re-measured exactly in double precision and sorted by (distance, index),
// so single-precision rounding can only matter for neighbours that are within ~1e-6 relative of
// kMargin others.
//
// Cells are grouped by a quick k-means, then put in k-d order within each cluster, so that a
// panel holds similar cells; a block of queries scans the chunks of panels nearest to it first.
// Once its heaps are tight, a panel goes on past 16, 24 and 32 leading dimensions only while the
// squared distance over them (a lower bound of the full one) lets some pair beat its query's
// current k-th candidate: at 95k cells x 50 PCs, 45%, 23% and 13% of the panels go past each
// test. The order and the tests change the speed only. Every query's answer depends on its own
// computation only: the result does not depend on the number of threads.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include <immintrin.h>

#include "engine/parallel.hpp"
#include "transcura/errors.hpp"
#include "transcura/knn.hpp"

namespace transcura {
namespace {

constexpr int kLanes = 16;           // reference cells per panel
constexpr int kGroup = 8;            // queries per kernel call (the portable body takes 4)
// Queries per task: each task streams every panel through the cache once, so larger blocks
// read the panels fewer times (95k cells x 50 PCs, 2 threads, CPU s: 64 -> 15.3, 256 -> 10.3,
// 512 -> 8.7, 1024 -> 8.5, under load), while the heaps and query rows of a block (~300 KB at
// 512) stay in L2. Smaller when that would leave threads without blocks.
constexpr int64_t kMinQueryBlock = 64;
constexpr int64_t kMaxQueryBlock = 512;
constexpr int64_t kPanelChunk = 32;  // panels scanned per pass (512 cells, ~100 KB at d = 50)
constexpr int kMargin = 8;           // extra single-precision candidates re-measured exactly
constexpr int kMaxCheckpoints = 3;   // partial-distance tests per panel (after 16, 24, 32 dims)

typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));

/// Reference cells in panels of kLanes, dimension-major inside a panel; padding cells have an
/// infinite norm so they are never candidates.
struct Panels {
    int64_t n_panels = 0;
    int64_t d = 0;
    // The partial-distance tests: after checkpoints[t] leading dimensions (increasing, < d).
    int n_checkpoints = 0;
    int64_t checkpoints[kMaxCheckpoints] = {};
    float slack = 0.0f;         // bound on the single-precision error of a squared distance
    std::vector<float> values;  // n_panels * d * kLanes
    std::vector<float> norms;   // n_panels * kLanes: |y|^2
    // n_panels * kLanes per checkpoint t: |y_{0..checkpoints[t]}|^2
    std::vector<float> partial_norms[kMaxCheckpoints];
};

/// Bounded max-heap of (key, cell) keeping the `capacity` smallest keys.
struct Best {
    std::vector<std::pair<float, int64_t>> heap;
    size_t capacity = 0;
    float threshold = std::numeric_limits<float>::infinity();
    float query_norm = 0.0f;                    // |x|^2 (key + |x|^2 = squared distance)
    float query_partial[kMaxCheckpoints] = {};  // |x_{0..checkpoints[t]}|^2

    void offer(float key, int64_t cell) {
        const std::pair<float, int64_t> candidate{key, cell};
        if (heap.size() < capacity) {
            heap.push_back(candidate);
            std::push_heap(heap.begin(), heap.end());
            if (heap.size() == capacity) threshold = heap.front().first;
        } else if (candidate < heap.front()) {
            std::pop_heap(heap.begin(), heap.end());
            heap.back() = candidate;
            std::push_heap(heap.begin(), heap.end());
            threshold = heap.front().first;
        }
    }
};

/// Smallest lane (a shuffle tree; the vector extensions compile to the caller's instruction set).
__attribute__((always_inline)) inline float lane_min(Vec v) {
    typedef float Half __attribute__((vector_size(kLanes / 2 * sizeof(float))));
    typedef float Quarter __attribute__((vector_size(kLanes / 4 * sizeof(float))));
    const Half a = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7);
    const Half b = __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
    const Half h = a < b ? a : b;
    const Quarter c = __builtin_shufflevector(h, h, 0, 1, 2, 3);
    const Quarter e = __builtin_shufflevector(h, h, 4, 5, 6, 7);
    const Quarter q = c < e ? c : e;
    return std::min(std::min(q[0], q[1]), std::min(q[2], q[3]));
}

/// Keys of 4 queries (row-major, d floats each) against panels [p0, p1), offered to `best`.
__attribute__((always_inline)) inline void scan_body(const float* queries, const Panels& panels,
                                                     int64_t p0, int64_t p1, Best* best) {
    const int64_t d = panels.d;
    const float* q0 = queries;
    const float* q1 = queries + d;
    const float* q2 = queries + 2 * d;
    const float* q3 = queries + 3 * d;
    for (int64_t p = p0; p < p1; ++p) {
        const float* panel = panels.values.data() + p * d * kLanes;
        Vec a0 = {}, a1 = {}, a2 = {}, a3 = {};
        for (int64_t c = 0; c < d; ++c) {
            Vec r;
            __builtin_memcpy(&r, panel + c * kLanes, sizeof(Vec));
            a0 += q0[c] * r;
            a1 += q1[c] * r;
            a2 += q2[c] * r;
            a3 += q3[c] * r;
        }
        Vec norm;
        __builtin_memcpy(&norm, panels.norms.data() + p * kLanes, sizeof(Vec));
        const Vec keys[4] = {norm - 2.0f * a0, norm - 2.0f * a1, norm - 2.0f * a2,
                             norm - 2.0f * a3};
        for (int g = 0; g < 4; ++g) {
            if (!(lane_min(keys[g]) < best[g].threshold)) continue;
            // Below an infinite threshold (heap not full yet) only the padding lanes fail.
            for (int lane = 0; lane < kLanes; ++lane)
                if (keys[g][lane] < best[g].threshold)
                    best[g].offer(keys[g][lane], p * kLanes + lane);
        }
    }
}

using ScanFn = void (*)(const float*, const Panels&, int64_t, int64_t, Best*);

/// AVX-512: eight queries per panel with fused multiply-adds (8 of the 32 registers hold the
/// sums), and the threshold test as one mask per query.
__attribute__((target("avx512f"))) void scan_avx512(const float* queries, const Panels& panels,
                                                    int64_t p0, int64_t p1, Best* best) {
    const int64_t d = panels.d;
    for (int64_t p = p0; p < p1; ++p) {
        const float* panel = panels.values.data() + p * d * kLanes;
        __m512 sums[kGroup];
        for (auto& v : sums) v = _mm512_setzero_ps();
        int64_t c = 0;
        bool skip = false;
        for (int t = 0; t < panels.n_checkpoints && !skip; ++t) {
            for (; c < panels.checkpoints[t]; ++c) {
                const __m512 r = _mm512_loadu_ps(panel + c * kLanes);
                for (int g = 0; g < kGroup; ++g)
                    sums[g] = _mm512_fmadd_ps(_mm512_set1_ps(queries[g * d + c]), r, sums[g]);
            }
            // The squared distance over the leading dimensions bounds the full one from below:
            // skip the rest of the panel when no pair can beat its query's current k-th. Later
            // checkpoints catch pairs that only the next dimensions rule out (the PCs come in
            // decreasing variance, so each test costs little and the first ones prune most).
            const __m512 partial = _mm512_loadu_ps(panels.partial_norms[t].data() + p * kLanes);
            __mmask16 needed = 0;
            for (int g = 0; g < kGroup; ++g) {
                const __m512 d2 = _mm512_fmadd_ps(
                    _mm512_set1_ps(-2.0f), sums[g],
                    _mm512_add_ps(partial, _mm512_set1_ps(best[g].query_partial[t])));
                const float bound = best[g].threshold + best[g].query_norm + panels.slack;
                needed |= _mm512_cmp_ps_mask(d2, _mm512_set1_ps(bound), _CMP_LT_OQ);
            }
            skip = !needed;
        }
        if (skip) continue;
        for (; c < d; ++c) {
            const __m512 r = _mm512_loadu_ps(panel + c * kLanes);
            for (int g = 0; g < kGroup; ++g)
                sums[g] = _mm512_fmadd_ps(_mm512_set1_ps(queries[g * d + c]), r, sums[g]);
        }
        const __m512 norm = _mm512_loadu_ps(panels.norms.data() + p * kLanes);
        const __m512 minus_two = _mm512_set1_ps(-2.0f);
        for (int g = 0; g < kGroup; ++g) {
            const __m512 keys = _mm512_fmadd_ps(minus_two, sums[g], norm);
            __mmask16 below =
                _mm512_cmp_ps_mask(keys, _mm512_set1_ps(best[g].threshold), _CMP_LT_OQ);
            if (!below) continue;
            alignas(64) float lanes[kLanes];
            _mm512_store_ps(lanes, keys);
            while (below) {
                const int lane = __builtin_ctz(below);
                below &= static_cast<__mmask16>(below - 1);
                if (lanes[lane] < best[g].threshold) best[g].offer(lanes[lane], p * kLanes + lane);
            }
        }
    }
}
__attribute__((target("avx2,fma"))) void scan_avx2(const float* q, const Panels& panels, int64_t p0,
                                                   int64_t p1, Best* best) {
    scan_body(q, panels, p0, p1, best);
    scan_body(q + 4 * panels.d, panels, p0, p1, best + 4);
}
void scan_baseline(const float* q, const Panels& panels, int64_t p0, int64_t p1, Best* best) {
    scan_body(q, panels, p0, p1, best);
    scan_body(q + 4 * panels.d, panels, p0, p1, best + 4);
}

ScanFn pick_scan() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return scan_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return scan_avx2;
    return scan_baseline;
}

/// Squared distance between two float rows.
float squared_distance(const float* x, const float* y, int64_t d) {
    float sum = 0.0f;
    for (int64_t c = 0; c < d; ++c) sum += (x[c] - y[c]) * (x[c] - y[c]);
    return sum;
}

/// Reorders cells [first, last) so that every run of kLanes consecutive cells is compact: split
/// at the median of the dimension with the widest spread (variance, over the range), recurse
/// into both halves, down to ranges of a panel. Ties are broken by cell index: deterministic.
void kd_order(const std::vector<float>& rows, int64_t d, int64_t* first, int64_t* last) {
    const int64_t count = last - first;
    if (count <= kLanes || d == 0) return;
    std::vector<double> sum(static_cast<size_t>(d), 0.0), square(static_cast<size_t>(d), 0.0);
    for (const int64_t* i = first; i != last; ++i) {
        const float* x = rows.data() + *i * d;
        for (int64_t c = 0; c < d; ++c) {
            sum[c] += x[c];
            square[c] += static_cast<double>(x[c]) * x[c];
        }
    }
    int64_t widest = 0;
    double widest_spread = -1.0;
    for (int64_t c = 0; c < d; ++c) {
        const double spread = square[c] - sum[c] * sum[c] / static_cast<double>(count);
        if (spread > widest_spread) {
            widest_spread = spread;
            widest = c;
        }
    }
    // Split on a multiple of kLanes, so that panels never straddle two halves.
    const int64_t half = std::max<int64_t>(kLanes, (count / 2 + kLanes / 2) / kLanes * kLanes);
    std::nth_element(first, first + half, last, [&](int64_t a, int64_t b) {
        const float va = rows[a * d + widest], vb = rows[b * d + widest];
        return va < vb || (va == vb && a < b);
    });
    kd_order(rows, d, first, first + half);
    kd_order(rows, d, first + half, last);
}

/// A locality-preserving order of the cells, so that a panel holds similar cells and the
/// partial-distance test can skip whole panels: k-means clusters (Lloyd passes on an evenly
/// spaced subsample, then every cell assigned), cells grouped by cluster, index order within.
/// Deterministic; the order only affects speed, never the answer.
std::vector<int64_t> cluster_order(const std::vector<float>& rows, int64_t n, int64_t d,
                                   const RunControl& control) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) order[i] = i;
    const int64_t n_clusters = std::clamp<int64_t>(n / 2000, 1, 64);
    if (d == 0) return order;
    if (n_clusters < 2) {
        kd_order(rows, d, order.data(), order.data() + n);
        return order;
    }
    const int64_t step = std::max<int64_t>(1, n / 8000);
    std::vector<int64_t> sample;
    for (int64_t i = 0; i < n; i += step) sample.push_back(i);
    const int64_t m = static_cast<int64_t>(sample.size());
    std::vector<float> centroids(static_cast<size_t>(n_clusters * d));
    for (int64_t c = 0; c < n_clusters; ++c)
        std::copy_n(rows.data() + sample[c * m / n_clusters] * d, d, centroids.data() + c * d);
    auto nearest = [&](const float* x) {
        int64_t best = 0;
        float best_d2 = std::numeric_limits<float>::infinity();
        for (int64_t c = 0; c < n_clusters; ++c) {
            const float d2 = squared_distance(x, centroids.data() + c * d, d);
            if (d2 < best_d2) {
                best_d2 = d2;
                best = c;
            }
        }
        return best;
    };
    for (int pass = 0; pass < 6; ++pass) {
        std::vector<double> sums(static_cast<size_t>(n_clusters * d), 0.0);
        std::vector<int64_t> counts(static_cast<size_t>(n_clusters), 0);
        for (int64_t i : sample) {
            const int64_t c = nearest(rows.data() + i * d);
            ++counts[c];
            for (int64_t j = 0; j < d; ++j) sums[c * d + j] += rows[i * d + j];
        }
        for (int64_t c = 0; c < n_clusters; ++c)
            if (counts[c] > 0)
                for (int64_t j = 0; j < d; ++j)
                    centroids[c * d + j] = static_cast<float>(sums[c * d + j] / counts[c]);
    }
    std::vector<int64_t> label(static_cast<size_t>(n));
    engine::for_chunks(engine::make_chunks(n, 2048), control, [&](int64_t, int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) label[i] = nearest(rows.data() + i * d);
    });
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return label[a] < label[b]; });
    // Within each cluster, a k-d order: so that the 16 cells of a panel and the 8 queries of
    // a kernel call are close to each other, which is what lets the partial-distance test skip
    // panels (a panel is computed in full when any of its 128 pairs might qualify).
    int64_t start = 0;
    while (start < n) {
        int64_t stop = start;
        while (stop < n && label[order[stop]] == label[order[start]]) ++stop;
        kd_order(rows, d, order.data() + start, order.data() + stop);
        start = stop;
    }
    return order;
}

}  // namespace

NeighborLists exact_neighbors(const DenseD& embedding, int k, const RunControl& control,
                              const std::vector<int64_t>& queries) {
    const int64_t n = embedding.n_rows;
    const int64_t d = embedding.n_cols;
    if (k <= 0) throw InvalidArgument("exact_neighbors: k must be positive");
    if (embedding.values.size() != static_cast<size_t>(n * d))
        throw InvalidArgument("exact_neighbors: embedding size does not match its shape");
    for (int64_t q : queries)
        if (q < 0 || q >= n) throw InvalidArgument("exact_neighbors: query cell out of range");

    NeighborLists result;
    result.k = static_cast<int>(std::min<int64_t>(k, n));
    result.queries = queries;
    result.n_queries = queries.empty() ? n : static_cast<int64_t>(queries.size());
    const int kk = result.k;
    result.indices.assign(static_cast<size_t>(result.n_queries * kk), 0);
    result.distances.assign(static_cast<size_t>(result.n_queries * kk), 0.0);
    if (n == 0 || result.n_queries == 0) return result;

    // Centred single-precision copy (centring keeps |y|^2 - 2 x.y small, so float keeps digits).
    std::vector<double> mean(static_cast<size_t>(d), 0.0);
    for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < d; ++c) mean[c] += embedding.values[i * d + c];
    for (double& m : mean) m /= static_cast<double>(n);
    std::vector<float> centred(static_cast<size_t>(n * d));
    for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < d; ++c)
            centred[i * d + c] = static_cast<float>(embedding.values[i * d + c] - mean[c]);
    const std::vector<int64_t> order = cluster_order(centred, n, d, control);

    Panels panels;
    panels.d = d;
    // Partial-distance tests only pay off with enough dimensions after them (50 PCs: measured
    // 16 + 24 + 32 about 20% less work than 16 alone).
    for (int64_t checkpoint : {16, 24, 32})
        if (d > 24 && checkpoint < d) panels.checkpoints[panels.n_checkpoints++] = checkpoint;
    panels.n_panels = (n + kLanes - 1) / kLanes;
    panels.values.assign(static_cast<size_t>(panels.n_panels * d * kLanes), 0.0f);
    panels.norms.assign(static_cast<size_t>(panels.n_panels * kLanes),
                        std::numeric_limits<float>::infinity());
    std::vector<float> norms(static_cast<size_t>(n));
    std::vector<float> partial_norms[kMaxCheckpoints];
    for (int t = 0; t < panels.n_checkpoints; ++t) {
        panels.partial_norms[t].assign(panels.norms.size(), std::numeric_limits<float>::infinity());
        partial_norms[t].assign(static_cast<size_t>(n), 0.0f);
    }
    double max_norm = 0.0;
    for (int64_t position = 0; position < n; ++position) {
        const int64_t i = order[position];
        const int64_t p = position / kLanes, lane = position % kLanes;
        float norm = 0.0f;
        int t = 0;
        for (int64_t c = 0; c < d; ++c) {
            const float v = centred[i * d + c];
            panels.values[(p * d + c) * kLanes + lane] = v;
            norm += v * v;
            if (t < panels.n_checkpoints && c + 1 == panels.checkpoints[t]) {
                partial_norms[t][i] = norm;
                panels.partial_norms[t][position] = norm;
                ++t;
            }
        }
        norms[i] = norm;
        panels.norms[position] = norm;
        max_norm = std::max(max_norm, static_cast<double>(norm));
    }
    // A generous bound on the single-precision error of a squared distance (|x|^2 + |y|^2 -
    // 2 x.y over up to d terms): the partial test keeps every pair within it.
    panels.slack = static_cast<float>(1e-5 * (4.0 * max_norm + 1.0));

    // The exact coordinates in panel order: a query's candidates sit mostly near its own
    // position, so re-measuring them reads nearby rows instead of cells all over the matrix
    // (those cache misses were 8% of the search at 95k cells).
    std::vector<double> ordered(static_cast<size_t>(n * d));
    for (int64_t position = 0; position < n; ++position)
        std::copy_n(embedding.row(order[position]), d, ordered.data() + position * d);

    // Query rows in the same order, so a group holds similar queries.
    std::vector<int64_t> position_of(static_cast<size_t>(n));
    for (int64_t position = 0; position < n; ++position) position_of[order[position]] = position;
    std::vector<int64_t> query_order(static_cast<size_t>(result.n_queries));
    for (int64_t r = 0; r < result.n_queries; ++r) query_order[r] = r;
    if (!queries.empty())
        std::stable_sort(query_order.begin(), query_order.end(), [&](int64_t a, int64_t b) {
            return position_of[queries[a]] < position_of[queries[b]];
        });
    else
        query_order = order;

    // The centroid of each chunk of kPanelChunk panels: a block of queries scans the chunks
    // nearest to it first, so its heaps are tight before the far chunks come and the
    // partial-distance tests skip more of those (about 10% less work than position order).
    const int64_t n_chunks = (panels.n_panels + kPanelChunk - 1) / kPanelChunk;
    const int64_t chunk_cells = kPanelChunk * kLanes;
    std::vector<float> chunk_centroids(static_cast<size_t>(n_chunks * d), 0.0f);
    for (int64_t chunk = 0; chunk < n_chunks; ++chunk) {
        const int64_t first = chunk * chunk_cells, last = std::min(n, first + chunk_cells);
        std::vector<double> sum(static_cast<size_t>(d), 0.0);
        for (int64_t position = first; position < last; ++position)
            for (int64_t c = 0; c < d; ++c) sum[c] += centred[order[position] * d + c];
        for (int64_t c = 0; c < d; ++c)
            chunk_centroids[chunk * d + c] = static_cast<float>(sum[c] / (last - first));
    }

    const ScanFn scan = pick_scan();
    const size_t capacity = static_cast<size_t>(std::min<int64_t>(kk + kMargin, n));
    const std::thread::id caller = std::this_thread::get_id();
    std::atomic<int64_t> blocks_done{0};
    // Eight blocks per thread at least; the block size changes the speed only, not the answer.
    const int64_t per_block = std::clamp<int64_t>(
        (result.n_queries / (8 * control.threads()) + kGroup - 1) / kGroup * kGroup,
        kMinQueryBlock, kMaxQueryBlock);
    const engine::Chunking blocks = engine::make_chunks(result.n_queries, per_block, 1 << 30);
    engine::for_chunks(blocks, control, [&](int64_t, int64_t begin, int64_t end) {
        const int64_t rows = end - begin;
        const int64_t groups = (rows + kGroup - 1) / kGroup;
        auto row_cell = [&](int64_t r) { return result.query_cell(query_order[begin + r]); };
        // Query rows, padded to whole groups by repeating the block's first query.
        std::vector<float> block(static_cast<size_t>(groups * kGroup * d));
        std::vector<Best> best(static_cast<size_t>(groups * kGroup));
        for (int64_t r = 0; r < groups * kGroup; ++r) {
            const int64_t cell = row_cell(r < rows ? r : 0);
            std::copy_n(centred.data() + cell * d, d, block.data() + r * d);
            best[r].capacity = capacity;
            best[r].heap.reserve(capacity);
            best[r].query_norm = norms[cell];
            for (int t = 0; t < panels.n_checkpoints; ++t)
                best[r].query_partial[t] = partial_norms[t][cell];
        }
        // Chunks nearest to the block's centroid first (ties by chunk: deterministic).
        std::vector<float> centre(static_cast<size_t>(d), 0.0f);
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < d; ++c)
                centre[c] += block[r * d + c] / static_cast<float>(rows);
        std::vector<std::pair<float, int64_t>> chunks(static_cast<size_t>(n_chunks));
        for (int64_t chunk = 0; chunk < n_chunks; ++chunk)
            chunks[chunk] = {squared_distance(centre.data(), chunk_centroids.data() + chunk * d, d),
                             chunk};
        std::sort(chunks.begin(), chunks.end());
        for (const auto& [distance, chunk] : chunks) {
            const int64_t p0 = chunk * kPanelChunk;
            const int64_t p1 = std::min(panels.n_panels, p0 + kPanelChunk);
            for (int64_t g = 0; g < groups; ++g)
                scan(block.data() + g * kGroup * d, panels, p0, p1, best.data() + g * kGroup);
        }
        // Re-measure exactly (double, uncentred) and keep the k best by (distance, index).
        for (int64_t r = 0; r < rows; ++r) {
            auto& heap = best[static_cast<size_t>(r)].heap;
            const double* x = ordered.data() + position_of[row_cell(r)] * d;
            std::vector<std::pair<double, int64_t>> measured;
            measured.reserve(heap.size());
            for (const auto& [key, position] : heap) {
                const int64_t cell = order[position];
                const double* y = ordered.data() + position * d;
                double sum = 0.0;
                for (int64_t c = 0; c < d; ++c) {
                    const double diff = x[c] - y[c];
                    sum += diff * diff;
                }
                measured.push_back({std::sqrt(sum), cell});
            }
            std::sort(measured.begin(), measured.end());
            const int64_t out_row = query_order[begin + r];
            int64_t* out_index = result.indices.data() + out_row * kk;
            double* out_dist = result.distances.data() + out_row * kk;
            for (int j = 0; j < kk; ++j) {
                out_index[j] = measured[static_cast<size_t>(j)].second;
                out_dist[j] = measured[static_cast<size_t>(j)].first;
            }
        }
        const int64_t done = ++blocks_done;
        if (std::this_thread::get_id() == caller)
            control.report(static_cast<double>(done) / static_cast<double>(blocks.count()),
                           "exact nearest neighbours");
    });
    control.check();
    return result;
}

}  // namespace transcura
