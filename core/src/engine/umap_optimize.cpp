// UMAP's SGD layout (umap-learn's optimize_layout_euclidean), made parallel and deterministic.
//
// umap-learn walks the edge list in order: each sampled edge (i, j) moves i by the clipped
// attractive gradient g and j by -g, then i away from negative_sample_rate random vertices. Its
// parallel mode races on the shared layout (Hogwild), so results change from run to run.
// umappp (libscran) keeps the serial answer by dispatching a vertex to a thread only when it
// does not touch the vertices in flight, which serialises the random draws on one thread.
//
// We keep umap-learn's steps and restructure the epoch into two parallel passes with nothing to
// synchronise inside either:
//  1. every vertex i walks the edges it heads, in order, from its own moving position and the
//     other vertices' positions at the start of the epoch, taking the clipped attraction g of
//     each sampled edge and recording g on the edge; then it takes the repulsive steps those
//     edges owe (negative_sample_rate per attraction, umap-learn's schedule), all from the
//     position the attractions led to, summed: independent computations that SSE2 does four
//     at a time.
//  2. every vertex j then takes -g for each edge (i, j) it is the tail of, read through the
//     edge's reverse (j, i) in j's own list (the fuzzy graph is symmetric, with the same weight
//     and schedule both ways).
// So, as in umap-learn, each attraction moves both ends by opposite amounts and never moves a
// group's centre. The previous scheme (no pass 2: each end replayed the pair's two updates on
// its own and kept its half) broke that: a pull across a weak link was undone by the next
// intra-group pull instead of reaching the group, and weakly linked groups drifted apart. On
// Kang 2018 (`transcura-cli run`, eight seeds) the median distance to the layout's median was
// 5.9-24 (median 9.6) against umap-learn's 4.7-5.3 on the same PCs, and layouts spanned up to
// 66 units; it is now 5.0-5.9 (median 5.3 over sixteen seeds), spanning 23-30 units against
// umap-learn's 20-24, with the same trustworthiness (0.944). Taking each edge's repulsions
// right after its attraction, as umap-learn does, gained 0.001 of trustworthiness for about
// 20% more time.
// Negative samples come from a random stream per (seed, epoch, vertex). Same seed =>
// bit-identical layout, whatever the thread count.
//
// Speed (100k cells, 200 epochs, 2 threads, CPU seconds under load): a vertex's attractions
// form a chain of dependent steps (each from where the previous one left it, ~150 cycles of
// latency each), which left the arithmetic units idle half the time; pass 1 now advances the
// chains of a whole chunk of vertices together, one vectorised step at a time (pass1_chunk),
// and tests the schedule through a compact int32 copy: 19-20 -> 14.5 s, same bits. The same
// code compiled for AVX2 (the default) / AVX-512, chosen at run time (same bits again, no FMA):
// 12 s.
//
// Arithmetic is single precision, as umap-learn's (float32 layout, numba fastmath), with x^b
// from short polynomials instead of libm's pow, which took 60% of the time.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/parallel.hpp"
#include "engine/random.hpp"
#include "engine/umap_internal.hpp"

// GCC's default -ftrapping-math keeps the selects of the negative-sample loop as branches, so
// the loop is not vectorised; the code below never relies on floating-point exception flags.
// No contraction into fused multiply-adds either: the AVX-512 kernel would round differently.
// (Only functions defined after this line are affected; the hot loop calls no library code.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math", "fp-contract=off")
#endif

namespace transcura::engine::umap_detail {
namespace {

constexpr float kGradientClip = 4.0f;
/// Negative samples gathered before their steps are computed together (vectorised loop).
constexpr int kBatch = 64;

inline float clip(float v) {
    v = v < -kGradientClip ? -kGradientClip : v;
    return v > kGradientClip ? kGradientClip : v;
}

/// The first whole epoch n with next <= n (the epoch at which an edge is next sampled), capped.
inline int32_t first_epoch_from(double next) {
    return next < 2e9 ? static_cast<int32_t>(std::ceil(next)) : 2000000000;
}

/// The negative samples' random vertices: a 64-bit LCG (Knuth's MMIX constants), upper 32 bits
/// scaled to [0, n). Plenty for picking repulsion partners, and one multiply-add per draw where
/// xoshiro256** plus a 128-bit product was a visible share of the loop. fill() computes the
/// same sequence as repeated below() on four interleaved chains (x_{t+4} = A4 x_t + C4 mod 2^64
/// holds exactly), so the draws do not wait on one another's multiply.
class NegativeSampler {
public:
    static constexpr uint64_t kA = 6364136223846793005ull, kC = 1442695040888963407ull;
    static constexpr uint64_t kA2 = kA * kA, kC2 = kC * kA + kC;
    static constexpr uint64_t kA4 = kA2 * kA2, kC4 = kC2 * kA2 + kC2;

    NegativeSampler(uint64_t epoch_seed, uint64_t vertex) {
        uint64_t mix = epoch_seed ^ (vertex * 0xD1B54A32D192ED03ull);
        state_ = splitmix64(mix);
    }
    uint32_t below(uint32_t n) {
        state_ = state_ * kA + kC;
        return scaled(state_, n);
    }
    /// out[t] = the t-th next below(n), t < count.
    void fill(uint32_t* out, int count, uint32_t n) {
        uint64_t x0 = state_ * kA + kC;
        uint64_t x1 = x0 * kA + kC, x2 = x1 * kA + kC, x3 = x2 * kA + kC;
        int t = 0;
        for (; t + 4 <= count; t += 4) {
            out[t] = scaled(x0, n);
            out[t + 1] = scaled(x1, n);
            out[t + 2] = scaled(x2, n);
            out[t + 3] = scaled(x3, n);
            state_ = x3;
            x0 = x0 * kA4 + kC4;
            x1 = x1 * kA4 + kC4;
            x2 = x2 * kA4 + kC4;
            x3 = x3 * kA4 + kC4;
        }
        for (; t < count; ++t) out[t] = below(n);
    }

private:
    static uint32_t scaled(uint64_t state, uint32_t n) {
        return static_cast<uint32_t>(((state >> 32) * n) >> 32);
    }
    uint64_t state_;
};

inline float as_float(int32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}
inline int32_t as_bits(float f) {
    int32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    return bits;
}

/// x^b = 2^(b log2 x) for x > 0, relative error ~1e-7 (float rounding). Branch-free so that GCC
/// vectorises the negative-sample loop with plain SSE2.
inline float fast_pow(float x, float b) {
    x = x < 1e-30f ? 1e-30f : x;
    const int32_t bits = as_bits(x);
    int32_t exponent = ((bits >> 23) & 0xFF) - 127;
    float m = as_float((bits & 0x007FFFFF) | 0x3F800000);  // mantissa in [1, 2)
    // Centre on 1: [sqrt(1/2), sqrt(2)). Selects of computed values only, no conditional
    // arithmetic, so that GCC can if-convert under its default -ftrapping-math.
    const bool high = m > 1.41421356f;
    m *= high ? 0.5f : 1.0f;
    exponent += static_cast<int32_t>(high);
    // ln m = 2 atanh(t), t = (m - 1) / (m + 1), |t| < 0.1716: error below float rounding.
    const float t = (m - 1.0f) / (m + 1.0f);
    const float t2 = t * t;
    const float ln_m = t * (2.0f + t2 * (0.6666667f + t2 * (0.4f + t2 * 0.2857143f)));
    float y = b * (static_cast<float>(exponent) + ln_m * 1.44269504f);
    y = y < -126.0f ? -126.0f : (y > 126.0f ? 126.0f : y);
    const int32_t whole = static_cast<int32_t>(y + 127.5f) - 127;    // round to nearest
    const float f = (y - static_cast<float>(whole)) * 0.693147181f;  // |f| <= ln(2) / 2
    // e^f, Taylor to degree 6: remainder below 1.2e-7 for |f| <= 0.347.
    const float e =
        1.0f +
        f * (1.0f + f * (0.5f + f * (0.16666667f +
                                     f * (0.041666668f + f * (0.008333334f + f * 0.0013888889f)))));
    return e * as_float((whole + 127) << 23);
}

/// Per-thread scratch of pass 1, reused from chunk to chunk and epoch to epoch.
struct Pass1Scratch {
    std::vector<int64_t> sampled_reverse;  // per vertex of the chunk, in edge order: the
                                           // sampled edges' reverses (room for all edges)
    std::vector<int32_t> sampled_tail;     // and their tails
    std::vector<int32_t> sampled_ptr;      // chunk vertices + 1
    std::vector<int32_t> n_repulsive;      // per vertex of the chunk
    std::vector<int32_t> by_count;         // chunk vertices, most sampled edges first
    std::vector<int32_t> histogram;        // counting sort of the counts
    std::vector<int32_t> step_begin;       // per step s: first slot; lanes are ranks
    std::vector<float> self;               // Dim x chunk vertices (axis-major), by rank
    std::vector<float> other;              // Dim x slots: the edge's tail at epoch start
    std::vector<float> pull;               // Dim x slots: the attraction taken
    std::vector<uint32_t> draws;           // one vertex's negative samples
};

/// Everything one epoch's pass 1 reads.
struct EpochInputs {
    EpochSchedule* s;
    const float* pos;
    float* out;
    float* pulled;
    int32_t epoch;
    double n, negative_sample_rate;
    float alpha, a, b, attract_coeff, repel_coeff;
    uint32_t n_vertices;
    uint64_t epoch_seed;
};

/// One step of the attraction chains: lane l (a vertex) moves along its next sampled edge,
/// from self[l] towards other[l]; records the move in pull[l]. Axis d of a buffer starts at
/// d * stride. (Restrict-qualified parameters: GCC vectorises the loop only when it knows that
/// the buffers do not overlap.)
template <int Dim>
__attribute__((always_inline)) inline void attraction_step(
    float* __restrict self, const float* __restrict other, float* __restrict pull,
    size_t self_stride, size_t slot_stride, int32_t lanes, float alpha, float a, float b,
    float attract_coeff) {
    for (int32_t l = 0; l < lanes; ++l) {
        float r[Dim], d2 = 0;
        for (int d = 0; d < Dim; ++d) {
            r[d] = self[d * self_stride + l] - other[d * slot_stride + l];
            d2 += r[d] * r[d];
        }
        const float pb = fast_pow(d2, b);
        const float coeff = attract_coeff * pb / (d2 * (a * pb + 1.0f));
        const bool moves = d2 > 0.0f;
        for (int d = 0; d < Dim; ++d) {
            const float g = alpha * clip(coeff * r[d]);
            const float here = self[d * self_stride + l];
            pull[d * slot_stride + l] = moves ? g : 0.0f;
            self[d * self_stride + l] = moves ? here + g : here;
        }
    }
}

/// Pass 1 over the vertices [begin, end). Each vertex's attractions are a chain (each starts
/// from where the previous one moved the vertex), too short and too dependent to keep the
/// arithmetic units busy one vertex at a time: the chains of all the chunk's vertices advance
/// together instead, step s taking every vertex's s-th sampled edge (vertices sorted by their
/// number of sampled edges, so that a step's vertices are a prefix of that order and the loop
/// over them is plain and vectorised). Each vertex does exactly the arithmetic it did alone.
template <int Dim>
__attribute__((always_inline)) inline void pass1_chunk(const EpochInputs& in, int64_t begin,
                                                       int64_t end) {
    EpochSchedule& s = *in.s;
    const float* pos = in.pos;
    const double n = in.n;
    const int32_t m = static_cast<int32_t>(end - begin);
    thread_local Pass1Scratch scratch;
    Pass1Scratch& w = scratch;

    // The schedule: which edges are sampled this epoch (their own clocks move in pass 2), and
    // the repulsions they owe.
    const int64_t first_edge = s.head_ptr[begin];
    w.sampled_reverse.resize(static_cast<size_t>(s.head_ptr[end] - first_edge));
    w.sampled_tail.resize(static_cast<size_t>(s.head_ptr[end] - first_edge));
    w.sampled_ptr.resize(static_cast<size_t>(m) + 1);
    w.n_repulsive.resize(static_cast<size_t>(m));
    int64_t* sampled_reverse = w.sampled_reverse.data();
    int32_t* sampled_tail = w.sampled_tail.data();
    int32_t n_sampled = 0, max_count = 0;
    w.sampled_ptr[0] = 0;
    const int32_t epoch = in.epoch;
    float* pulled = in.pulled;
    const bool symmetric = s.symmetric;
    for (int32_t v = 0; v < m; ++v) {
        const int64_t i = begin + v;
        int n_repulsive = 0;
        for (int64_t edge = s.head_ptr[i]; edge < s.head_ptr[i + 1]; ++edge) {
            if (s.next_sample_epoch[edge] > epoch) {
                // Nothing pulls along the edge, nor along its reverse (same schedule): its
                // slot says so. Otherwise the reverse edge's head writes the slot.
                if (symmetric) {
                    for (int d = 0; d < Dim; ++d) pulled[edge * Dim + d] = 0.0f;
                } else if (const int64_t reverse = s.reverse[edge]; reverse >= 0) {
                    for (int d = 0; d < Dim; ++d) pulled[reverse * Dim + d] = 0.0f;
                }
                continue;
            }
            const double next = s.epoch_of_next_sample[edge] + s.epochs_per_sample[edge];
            s.epoch_of_next_sample[edge] = next;
            s.next_sample_epoch[edge] = first_epoch_from(next);
            sampled_reverse[n_sampled] = s.reverse[edge];
            sampled_tail[n_sampled] = s.tail[edge];
            ++n_sampled;
            const double per_negative = s.epochs_per_sample[edge] / in.negative_sample_rate;
            const int n_negative =
                static_cast<int>((n - s.epoch_of_next_negative_sample[edge]) / per_negative);
            s.epoch_of_next_negative_sample[edge] += n_negative * per_negative;
            n_repulsive += n_negative;
        }
        w.n_repulsive[v] = n_repulsive;
        w.sampled_ptr[v + 1] = n_sampled;
        max_count = std::max(max_count, n_sampled - w.sampled_ptr[v]);
    }

    // Vertices by decreasing count (counting sort); step s holds the vertices with more than
    // s sampled edges, lanes 0.. in that order.
    w.histogram.assign(static_cast<size_t>(max_count) + 2, 0);
    for (int32_t v = 0; v < m; ++v) ++w.histogram[w.sampled_ptr[v + 1] - w.sampled_ptr[v]];
    w.step_begin.assign(static_cast<size_t>(max_count) + 1, 0);
    {
        // histogram[c] -> first rank of the vertices with count c (larger counts first).
        int32_t rank = 0;
        for (int32_t c = max_count; c >= 0; --c) {
            const int32_t size = w.histogram[c];
            w.histogram[c] = rank;
            rank += size;
        }
        // Vertices active in step s: those with count > s = first rank of count s.
        int32_t slot = 0;
        for (int32_t step = 0; step < max_count; ++step) {
            w.step_begin[step] = slot;
            slot += w.histogram[step];
        }
        w.step_begin[max_count] = slot;
    }
    w.by_count.resize(static_cast<size_t>(m));
    for (int32_t v = 0; v < m; ++v)
        w.by_count[w.histogram[w.sampled_ptr[v + 1] - w.sampled_ptr[v]]++] = v;
    const size_t n_slots = static_cast<size_t>(n_sampled);
    w.self.resize(static_cast<size_t>(m) * Dim);
    w.other.resize(n_slots * Dim);
    w.pull.resize(n_slots * Dim);
    for (int32_t rank = 0; rank < m; ++rank) {
        const int32_t v = w.by_count[rank];
        for (int d = 0; d < Dim; ++d) w.self[d * m + rank] = pos[(begin + v) * Dim + d];
        for (int32_t k = w.sampled_ptr[v]; k < w.sampled_ptr[v + 1]; ++k) {
            const size_t slot = static_cast<size_t>(w.step_begin[k - w.sampled_ptr[v]] + rank);
            const float* other = pos + static_cast<int64_t>(sampled_tail[k]) * Dim;
            for (int d = 0; d < Dim; ++d) w.other[d * n_slots + slot] = other[d];
        }
    }

    // The attraction chains, one step at a time.
    for (int32_t step = 0; step < max_count; ++step) {
        const int32_t first = w.step_begin[step];
        attraction_step<Dim>(w.self.data(), w.other.data() + first, w.pull.data() + first,
                             static_cast<size_t>(m), n_slots, w.step_begin[step + 1] - first,
                             in.alpha, in.a, in.b, in.attract_coeff);
    }
    // Written into the reverse edge's slot, which only this edge writes, so that pass 2 reads
    // each vertex's slots in order (reading them through the reverse index instead, scattered,
    // was a fifth of the epoch's time at 100k cells). Vertex by vertex: the reverse slots of
    // one vertex's edges lie in its neighbours' lists, near each other.
    for (int32_t rank = 0; rank < m; ++rank) {
        const int32_t v = w.by_count[rank];
        for (int32_t k = w.sampled_ptr[v]; k < w.sampled_ptr[v + 1]; ++k) {
            const int64_t reverse = sampled_reverse[k];
            if (reverse < 0) continue;
            const size_t slot = static_cast<size_t>(w.step_begin[k - w.sampled_ptr[v]] + rank);
            for (int d = 0; d < Dim; ++d) pulled[reverse * Dim + d] = w.pull[d * n_slots + slot];
        }
    }

    // The repulsions each vertex owes, from where its attractions led it, summed by batches of
    // kBatch samples (draws of the vertex itself are skipped).
    alignas(64) float far[Dim][kBatch];
    alignas(64) float step[Dim][kBatch];
    const float alpha = in.alpha, a = in.a, b = in.b, repel_coeff = in.repel_coeff;
    for (int32_t rank = 0; rank < m; ++rank) {
        const int32_t v = w.by_count[rank];
        const int64_t i = begin + v;
        float self[Dim];
        for (int d = 0; d < Dim; ++d) self[d] = w.self[d * m + rank];
        const int n_draws = w.n_repulsive[v];
        if (n_draws > 0) {
            if (w.draws.size() < static_cast<size_t>(n_draws))
                w.draws.resize(static_cast<size_t>(n_draws));
            uint32_t* draws = w.draws.data();
            NegativeSampler(in.epoch_seed, static_cast<uint64_t>(i)).fill(draws, n_draws,
                                                                          in.n_vertices);
            int n_kept = 0, last_kept = -1;
            for (int t = 0; t < n_draws; ++t) {
                const uint32_t k = draws[t];
                draws[n_kept] = k;
                const bool keep = static_cast<int64_t>(k) != i;
                n_kept += keep;
                last_kept = keep ? t : last_kept;
            }
            for (int first = 0; first < n_kept; first += kBatch) {
                const int count = std::min(kBatch, n_kept - first);
                for (int j = 0; j < count; ++j)
                    for (int d = 0; d < Dim; ++d)
                        far[d][j] = pos[static_cast<int64_t>(draws[first + j]) * Dim + d];
                for (int j = 0; j < count; ++j) {
                    float f2 = 0;
                    for (int d = 0; d < Dim; ++d)
                        f2 += (self[d] - far[d][j]) * (self[d] - far[d][j]);
                    const float coeff =
                        repel_coeff / ((0.001f + f2) * (a * fast_pow(f2, b) + 1.0f));
                    // Coincident points: umap-learn pushes by the clip value on every axis.
                    for (int d = 0; d < Dim; ++d) {
                        const float g = clip(coeff * (self[d] - far[d][j]));
                        step[d][j] = f2 > 0.0f ? g : kGradientClip;
                    }
                }
                float push[Dim] = {};
                for (int d = 0; d < Dim; ++d)
                    for (int j = 0; j < count; ++j) push[d] += step[d][j];
                for (int d = 0; d < Dim; ++d) self[d] += alpha * push[d];
            }
            // A batch that drew only the vertex itself still added alpha * 0 (which turns a
            // -0 coordinate into +0): kept, so that the bits match the one-draw-at-a-time loop.
            if (n_kept % kBatch == 0 && last_kept + 1 < n_draws)
                for (int d = 0; d < Dim; ++d) self[d] += alpha * 0.0f;
        }
        for (int d = 0; d < Dim; ++d) in.out[i * Dim + d] = self[d];
    }
}

// The same source compiled for wider vectors, chosen at run time. The arithmetic is the same
// IEEE single-precision operations lane by lane, without FMA (fp-contract is off above, and
// avx2 alone has none), and no sum changes its order (the one reduction, the push of a batch of
// repulsions, stays sequential), so every kernel gives the same bits.
template <int Dim>
void pass1_chunk_sse2(const EpochInputs& in, int64_t begin, int64_t end) {
    pass1_chunk<Dim>(in, begin, end);
}
template <int Dim>
__attribute__((target("avx2"))) void pass1_chunk_avx2(const EpochInputs& in, int64_t begin,
                                                      int64_t end) {
    pass1_chunk<Dim>(in, begin, end);
}
template <int Dim>
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw"))) void pass1_chunk_avx512(
    const EpochInputs& in, int64_t begin, int64_t end) {
    pass1_chunk<Dim>(in, begin, end);
}

template <int Dim>
void run_epoch_fixed(EpochSchedule& s, const SgdParameters& p, int epoch, const float* pos,
                     float* out, int num_threads) {
    EpochInputs in;
    in.s = &s;
    in.pos = pos;
    in.out = out;
    in.epoch = epoch;
    in.n = static_cast<double>(epoch);
    in.negative_sample_rate = p.negative_sample_rate;
    in.alpha =
        static_cast<float>(p.initial_alpha * (1.0 - in.n / static_cast<double>(s.n_epochs)));
    in.a = static_cast<float>(p.a);
    in.b = static_cast<float>(p.b);
    in.attract_coeff = static_cast<float>(-2.0 * p.a * p.b);
    in.repel_coeff = static_cast<float>(2.0 * p.gamma * p.b);
    in.n_vertices = static_cast<uint32_t>(s.n_vertices);  // < 2^32 (make_schedule)
    uint64_t epoch_state = p.seed ^ (0xA24BAED4963EE407ull * (static_cast<uint64_t>(epoch) + 1));
    in.epoch_seed = splitmix64(epoch_state);
    s.pulled.resize(s.tail.size() * Dim);
    if (!s.symmetric) std::fill(s.pulled.begin(), s.pulled.end(), 0.0f);
    in.pulled = s.pulled.data();
    const float* pulled = in.pulled;

    RunControl control;
    control.num_threads = num_threads;
    const Chunking chunks = make_chunks(s.n_vertices, 512);
    // Pass 1: each vertex's own edges (attraction as head), then the repulsions they owe.
    void (*pass1)(const EpochInputs&, int64_t, int64_t) = pass1_chunk_sse2<Dim>;
    if (s.kernel == EpochKernel::avx2) pass1 = pass1_chunk_avx2<Dim>;
    if (s.kernel == EpochKernel::avx512) pass1 = pass1_chunk_avx512<Dim>;
    for_chunks(chunks, control,
               [&](int64_t, int64_t begin, int64_t end) { pass1(in, begin, end); });
    // Pass 2: the other end of each attraction.
    for_chunks(chunks, control, [&](int64_t, int64_t begin, int64_t end) {
        for (int64_t j = begin; j < end; ++j) {
            float moved[Dim] = {};
            for (int64_t edge = s.head_ptr[j]; edge < s.head_ptr[j + 1]; ++edge)
                for (int d = 0; d < Dim; ++d) moved[d] -= pulled[edge * Dim + d];
            for (int d = 0; d < Dim; ++d) out[j * Dim + d] += moved[d];
        }
    });
}

}  // namespace

EpochKernel best_epoch_kernel() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw"))
        return EpochKernel::avx512;
    if (__builtin_cpu_supports("avx2")) return EpochKernel::avx2;
#endif
    return EpochKernel::sse2;
}

EpochKernel chosen_epoch_kernel() {
    const EpochKernel best = best_epoch_kernel();
    // AVX2 by default: AVX-512 measured 1-9% slower at 100k cells (alternating runs, loaded
    // machine).
    EpochKernel wanted = EpochKernel::avx2;
    const char* forced = std::getenv("TRANSCURA_UMAP_KERNEL");
    const std::string name = forced ? forced : "";
    if (name == "sse2") wanted = EpochKernel::sse2;
    if (name == "avx2") wanted = EpochKernel::avx2;
    if (name == "avx512") wanted = EpochKernel::avx512;
    return std::min(wanted, best);
}

EpochSchedule make_schedule(const CsrMatrix& graph, int n_epochs, double negative_sample_rate) {
    EpochSchedule s;
    s.n_vertices = graph.n_rows;
    s.n_epochs = n_epochs;
    float max_weight = 0.0f;
    for (float w : graph.data) max_weight = std::max(max_weight, w);
    const int prune_epochs = n_epochs > 10 ? n_epochs : (graph.n_rows <= 10000 ? 500 : 200);
    const double threshold = static_cast<double>(max_weight) / prune_epochs;
    s.head_ptr.assign(static_cast<size_t>(graph.n_rows) + 1, 0);
    for (int64_t i = 0; i < graph.n_rows; ++i) {
        for (int64_t e = graph.indptr[i]; e < graph.indptr[i + 1]; ++e) {
            const double w = graph.data[e];
            if (!(w >= threshold) || w <= 0.0) continue;
            s.tail.push_back(graph.indices[e]);
            // umap-learn: n_samples = n_epochs * w / max, epochs_per_sample = n_epochs / n_samples.
            const double n_samples = n_epochs * (w / max_weight);
            s.epochs_per_sample.push_back(n_epochs / n_samples);
        }
        s.head_ptr[static_cast<size_t>(i) + 1] = static_cast<int64_t>(s.tail.size());
    }
    // Each edge's reverse (j, i) in j's list (rows stay sorted by column after pruning); -1 if
    // absent, which a symmetric fuzzy graph never has.
    s.reverse.assign(s.tail.size(), -1);
    for (int64_t i = 0; i < graph.n_rows; ++i) {
        for (int64_t e = s.head_ptr[i]; e < s.head_ptr[i + 1]; ++e) {
            const int64_t j = s.tail[e];
            const auto first = s.tail.begin() + s.head_ptr[j];
            const auto last = s.tail.begin() + s.head_ptr[j + 1];
            const auto found = std::lower_bound(first, last, static_cast<int32_t>(i));
            if (found != last && *found == i) s.reverse[e] = found - s.tail.begin();
        }
    }
    // The fuzzy graph is symmetric with equal weights both ways, so an edge and its reverse
    // are sampled in the same epochs; pass 1 relies on it (when it holds) to clear the slots
    // of unsampled edges in order.
    s.symmetric = true;
    for (size_t e = 0; e < s.tail.size() && s.symmetric; ++e)
        s.symmetric = s.reverse[e] >= 0 && s.epochs_per_sample[s.reverse[e]] == s.epochs_per_sample[e];
    s.kernel = chosen_epoch_kernel();
    s.epoch_of_next_sample = s.epochs_per_sample;
    s.next_sample_epoch.resize(s.epochs_per_sample.size());
    for (size_t e = 0; e < s.epochs_per_sample.size(); ++e)
        s.next_sample_epoch[e] = first_epoch_from(s.epoch_of_next_sample[e]);
    s.epoch_of_next_negative_sample.resize(s.epochs_per_sample.size());
    for (size_t e = 0; e < s.epochs_per_sample.size(); ++e)
        s.epoch_of_next_negative_sample[e] = s.epochs_per_sample[e] / negative_sample_rate;
    return s;
}

std::vector<int64_t> locality_order(const CsrMatrix& graph) {
    const int64_t n = graph.n_rows;
    std::vector<int64_t> order;
    order.reserve(static_cast<size_t>(n));
    std::vector<char> seen(static_cast<size_t>(n), 0);
    for (int64_t start = 0; start < n; ++start) {
        if (seen[start]) continue;
        seen[start] = 1;
        size_t head = order.size();
        order.push_back(start);
        while (head < order.size()) {
            const int64_t v = order[head++];
            for (int64_t e = graph.indptr[v]; e < graph.indptr[v + 1]; ++e) {
                const int64_t w = graph.indices[e];
                if (!seen[w]) {
                    seen[w] = 1;
                    order.push_back(w);
                }
            }
        }
    }
    return order;
}

CsrMatrix permuted(const CsrMatrix& graph, const std::vector<int64_t>& order) {
    std::vector<int32_t> rank(order.size());
    for (size_t r = 0; r < order.size(); ++r) rank[order[r]] = static_cast<int32_t>(r);
    CsrMatrix out;
    out.n_rows = graph.n_rows;
    out.n_cols = graph.n_cols;
    out.indptr.assign(static_cast<size_t>(graph.n_rows) + 1, 0);
    out.indices.reserve(graph.indices.size());
    out.data.reserve(graph.data.size());
    std::vector<std::pair<int32_t, float>> row;
    for (size_t r = 0; r < order.size(); ++r) {
        const int64_t v = order[r];
        row.clear();
        for (int64_t e = graph.indptr[v]; e < graph.indptr[v + 1]; ++e)
            row.emplace_back(rank[graph.indices[e]], graph.data[e]);
        std::sort(row.begin(), row.end());
        for (const auto& [column, weight] : row) {
            out.indices.push_back(column);
            out.data.push_back(weight);
        }
        out.indptr[r + 1] = static_cast<int64_t>(out.indices.size());
    }
    return out;
}

void run_epoch(EpochSchedule& schedule, const SgdParameters& params, int epoch, int dim,
               const float* current, float* next, int num_threads) {
    if (dim == 2) {
        run_epoch_fixed<2>(schedule, params, epoch, current, next, num_threads);
    } else {
        run_epoch_fixed<3>(schedule, params, epoch, current, next, num_threads);
    }
}

}  // namespace transcura::engine::umap_detail
