// Negative-binomial cohort simulator (see simulate.hpp for the model).
#include "transcura/simulate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "engine/memory.hpp"
#include "engine/parallel.hpp"
#include "engine/random.hpp"
#include "transcura/errors.hpp"

namespace transcura {
namespace {

using engine::Rng;

enum class GeneKind : uint8_t { Other, Mito, Ribo, Hb };

// Entries whose block holds means at or above this are drawn directly (gamma-Poisson); below it
// the Poisson-event proposal is cheaper (its cost grows with the mean).
constexpr double kDirectMean = 4.0;

std::string padded(const char* prefix, int64_t value, int64_t count) {
    int width = 1;
    for (int64_t v = std::max<int64_t>(count - 1, 1); v >= 10; v /= 10) ++width;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%s%0*lld", prefix, width, static_cast<long long>(value));
    return buffer;
}

struct Block {
    int64_t begin = 0, end = 0;  // range in the group's sorted order
    double total = 0.0;          // sum of p over the block
    double max_p = 0.0;
};

/// One slot of Walker's alias table: keep `gene` with probability `prob`, else `alias_gene`.
/// Packed so that an event costs one cache line.
struct AliasEntry {
    float prob;
    int32_t gene;
    int32_t alias_gene;
};

/// Genes of one (cell type, donor) group sorted by decreasing p and cut into blocks whose p
/// differ by at most a factor two, so that blocks are either cheap to propose by events or
/// small enough to draw entry by entry.
struct Group {
    std::vector<int32_t> order;     // gene index, by decreasing p
    std::vector<double> p;          // p of order[k] (non-mito genes, sums to 1)
    std::vector<float> p_of_gene;   // p by gene index
    std::vector<AliasEntry> table;  // per sorted position, alias within the block
    std::vector<Block> blocks;
    std::vector<double> mito_p;  // relative weights of the mito genes (sum 1)
};

void build_alias(Group& group, const Block& block) {
    const int64_t m = block.end - block.begin;
    std::vector<double> scaled(static_cast<size_t>(m));
    std::vector<int64_t> small, large;
    for (int64_t k = 0; k < m; ++k) {
        scaled[k] = group.p[block.begin + k] * static_cast<double>(m) / block.total;
        group.table[block.begin + k] = {1.0f, group.order[block.begin + k],
                                        group.order[block.begin + k]};
        (scaled[k] < 1.0 ? small : large).push_back(k);
    }
    while (!small.empty() && !large.empty()) {
        const int64_t s = small.back(), l = large.back();
        small.pop_back();
        group.table[block.begin + s].prob = static_cast<float>(scaled[s]);
        group.table[block.begin + s].alias_gene = group.order[block.begin + l];
        scaled[l] -= 1.0 - scaled[s];
        if (scaled[l] < 1.0) {
            large.pop_back();
            small.push_back(l);
        }
    }
}

/// NB(mean, r = 1/phi) draw by the gamma-Poisson mixture.
inline int64_t draw_nb(Rng& rng, double mean, double r) {
    if (!(mean > 0.0)) return 0;
    return rng.poisson(rng.gamma(r) * mean / r);
}

/// A candidate proposed by Poisson events (P(proposed) = 1 - e^-mean) becomes an NB non-zero
/// with probability q_nb / q_pois and then gets a zero-truncated NB count: exact NB overall.
/// Single precision for the transcendental functions: this runs for every non-zero and float
/// accuracy is far below the sampling noise (expm1/log1p keep small probabilities accurate).
inline int64_t draw_candidate(Rng& rng, float mean, float phi) {
    // Squeezes skip the transcendental functions for most candidates. With
    // E[X^2] = m + (1 + phi) m^2, Paley-Zygmund gives q_nb >= m / (1 + m (1 + phi)); and
    // q_pois <= m, so the acceptance q_nb / q_pois >= 1 / (1 + m (1 + phi)). Likewise
    // P(X >= 2 | X > 0) <= E[X - 1 | X > 0] = m / q_nb - 1 <= m (1 + phi).
    const float spread = mean * (1.0f + phi);
    const float u_accept = static_cast<float>(rng.uniform());
    const float u_value = static_cast<float>(rng.uniform());
    if (u_accept * (1.0f + spread) < 1.0f && u_value < 1.0f - spread) return 1;
    const float r = 1.0f / phi;
    const float q_nb = -std::expm1(-r * std::log1p(mean * phi));
    const float q_pois = -std::expm1(-mean);
    if (u_accept * q_pois >= q_nb) return 0;
    const float theta = mean * phi / (1.0f + mean * phi);
    const float p0 = 1.0f - q_nb;
    const float target = u_value * q_nb;
    float pmf = p0 * r * theta;
    float cumulative = pmf;
    int64_t k = 1;
    while (target > cumulative && k < 100000) {
        pmf *= (static_cast<float>(k) + r) / static_cast<float>(k + 1) * theta;
        cumulative += pmf;
        ++k;
    }
    return k;
}

}  // namespace

SimulateResults simulate_cohort(const SimulateOptions& o) {
    const int64_t special = int64_t{o.n_mito_genes} + o.n_ribo_genes + o.n_hb_genes;
    if (o.n_cells <= 0 || o.n_genes <= 0) throw InvalidArgument("simulate: need cells and genes");
    if (o.n_types < 1 || o.n_batches < 1 || o.donors_per_batch < 1)
        throw InvalidArgument("simulate: types, batches and donors per batch must be at least 1");
    if (o.n_mito_genes < 0 || o.n_ribo_genes < 0 || o.n_hb_genes < 0 || special >= o.n_genes)
        throw InvalidArgument("simulate: " + std::to_string(o.n_genes) +
                              " genes are too few for the special genes and markers");
    if (o.n_genes > INT32_MAX) throw InvalidArgument("simulate: too many genes");
    if (!(o.mean_library_size > 0) || !(o.dispersion > 0) || o.batch_effect < 0 ||
        o.donor_effect < 0 || o.damaged_fraction < 0 || o.damaged_fraction > 1 ||
        !(o.mito_fraction >= 0 && o.mito_fraction < 1) ||
        !(o.damaged_mito_fraction >= 0 && o.damaged_mito_fraction < 1))
        throw InvalidArgument("simulate: invalid rates or fractions");
    const RunControl& control = o.control;
    const int64_t G = o.n_genes;
    const int64_t n_donors = int64_t{o.n_batches} * o.donors_per_batch;
    Rng setup(o.seed, 0);

    // ---- genes: names, kinds, base expression, dispersions ----
    static const char* kMito[] = {"MT-ND1",  "MT-ND2", "MT-CO1", "MT-CO2",  "MT-ATP8",
                                  "MT-ATP6", "MT-CO3", "MT-ND3", "MT-ND4L", "MT-ND4",
                                  "MT-ND5",  "MT-ND6", "MT-CYB"};
    static const char* kHb[] = {"HBA1", "HBA2", "HBB", "HBD", "HBG1",
                                "HBG2", "HBE1", "HBZ", "HBM", "HBQ1"};
    std::vector<std::string> names(static_cast<size_t>(G));
    std::vector<GeneKind> kind(static_cast<size_t>(G), GeneKind::Other);
    {
        // Special genes sit at shuffled positions, as in a real feature list.
        std::vector<int64_t> position(static_cast<size_t>(G));
        std::iota(position.begin(), position.end(), 0);
        for (int64_t i = G - 1; i > 0; --i)
            std::swap(position[i], position[setup.below(static_cast<uint64_t>(i + 1))]);
        int64_t next = 0;
        for (int i = 0; i < o.n_mito_genes; ++i, ++next) {
            names[position[next]] = i < 13 ? kMito[i] : "MT-G" + std::to_string(i);
            kind[position[next]] = GeneKind::Mito;
        }
        for (int i = 0; i < o.n_ribo_genes; ++i, ++next) {
            names[position[next]] = (i % 2 == 0 ? "RPL" : "RPS") + std::to_string(i / 2 + 1);
            kind[position[next]] = GeneKind::Ribo;
        }
        for (int i = 0; i < o.n_hb_genes; ++i, ++next) {
            names[position[next]] = i < 10 ? kHb[i] : "HBX" + std::to_string(i);
            kind[position[next]] = GeneKind::Hb;
        }
        int64_t other = 0;
        for (int64_t g = 0; g < G; ++g)
            if (names[g].empty()) names[g] = padded("Gene", other++, G);
    }
    std::vector<double> base(static_cast<size_t>(G)), phi(static_cast<size_t>(G));
    double other_sum = 0.0;
    for (int64_t g = 0; g < G; ++g) {
        base[g] = std::exp(o.base_log_sd * setup.normal());
        phi[g] = o.dispersion * std::exp(0.5 * setup.normal());
        if (kind[g] == GeneKind::Other || kind[g] == GeneKind::Hb) other_sum += base[g];
    }
    // Ribosomal genes carry about a quarter of the non-mito counts, as in PBMC data.
    for (int64_t g = 0; g < G; ++g)
        if (kind[g] == GeneKind::Ribo)
            base[g] =
                other_sum / 3.0 / std::max(1, o.n_ribo_genes) * std::exp(0.5 * setup.normal());

    // ---- cell types (markers), batches, donors ----
    std::vector<int64_t> marker_pool;  // genes above the median base: detectable markers
    {
        std::vector<double> sorted;
        for (int64_t g = 0; g < G; ++g)
            if (kind[g] == GeneKind::Other) sorted.push_back(base[g]);
        std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
        const double median = sorted.empty() ? 0.0 : sorted[sorted.size() / 2];
        for (int64_t g = 0; g < G; ++g)
            if (kind[g] == GeneKind::Other && base[g] >= median) marker_pool.push_back(g);
    }
    std::vector<std::vector<double>> type_factor(o.n_types, std::vector<double>(G, 1.0));
    std::vector<int32_t> marker_of(static_cast<size_t>(G), -1);
    for (int t = 0; t < o.n_types; ++t) {
        const int64_t m =
            std::min<int64_t>(o.markers_per_type, static_cast<int64_t>(marker_pool.size()));
        for (int64_t k = 0; k < m; ++k) {  // partial Fisher-Yates: distinct markers per type
            const int64_t pick = k + static_cast<int64_t>(setup.below(marker_pool.size() - k));
            std::swap(marker_pool[k], marker_pool[pick]);
            const int64_t g = marker_pool[k];
            type_factor[t][g] = std::exp2(o.marker_log2_fold + 0.5 * setup.normal());
            if (marker_of[g] < 0) marker_of[g] = t;
        }
    }
    std::vector<double> type_weight(o.n_types);
    for (auto& w : type_weight) w = std::exp(0.4 * setup.normal());
    const double type_weight_sum = std::accumulate(type_weight.begin(), type_weight.end(), 0.0);
    std::vector<double> type_cdf(o.n_types);
    std::partial_sum(type_weight.begin(), type_weight.end(), type_cdf.begin());
    for (auto& c : type_cdf) c /= type_weight_sum;

    std::vector<std::vector<double>> batch_factor(o.n_batches, std::vector<double>(G));
    std::vector<double> batch_depth(o.n_batches);
    for (int b = 0; b < o.n_batches; ++b) {
        for (int64_t g = 0; g < G; ++g)
            batch_factor[b][g] = std::exp(o.batch_effect * setup.normal());
        batch_depth[b] = o.mean_library_size * std::exp(o.depth_shift * setup.normal());
    }
    std::vector<std::vector<double>> donor_factor(n_donors, std::vector<double>(G));
    for (int64_t d = 0; d < n_donors; ++d)
        for (int64_t g = 0; g < G; ++g)
            donor_factor[d][g] = std::exp(o.donor_effect * setup.normal());
    const std::vector<float> phi_f(phi.begin(), phi.end());
    std::vector<int64_t> mito_genes;
    for (int64_t g = 0; g < G; ++g)
        if (kind[g] == GeneKind::Mito) mito_genes.push_back(g);

    // ---- per (type, donor) groups: sorted genes, blocks, alias tables ----
    const int64_t n_groups = int64_t{o.n_types} * n_donors;
    std::vector<Group> groups(static_cast<size_t>(n_groups));
    engine::for_chunks(
        engine::make_chunks(n_groups, 1, n_groups), control, [&](int64_t, int64_t gb, int64_t ge) {
            for (int64_t gi = gb; gi < ge; ++gi) {
                const int t = static_cast<int>(gi / n_donors);
                const int64_t d = gi % n_donors;
                const int b = static_cast<int>(d / o.donors_per_batch);
                Group& group = groups[gi];
                std::vector<double> w(static_cast<size_t>(G), 0.0);
                double total = 0.0;
                for (int64_t g = 0; g < G; ++g) {
                    const double value =
                        base[g] * type_factor[t][g] * batch_factor[b][g] * donor_factor[d][g];
                    if (kind[g] == GeneKind::Mito) {
                        group.mito_p.push_back(value);
                    } else {
                        w[g] = value;
                        total += value;
                    }
                }
                const double mito_total =
                    std::accumulate(group.mito_p.begin(), group.mito_p.end(), 0.0);
                for (auto& v : group.mito_p) v /= mito_total;
                for (int64_t g = 0; g < G; ++g)
                    if (kind[g] != GeneKind::Mito) group.order.push_back(static_cast<int32_t>(g));
                std::sort(group.order.begin(), group.order.end(),
                          [&](int32_t a, int32_t c) { return w[a] != w[c] ? w[a] > w[c] : a < c; });
                const int64_t n = static_cast<int64_t>(group.order.size());
                group.p.resize(n);
                for (int64_t k = 0; k < n; ++k) group.p[k] = w[group.order[k]] / total;
                group.p_of_gene.assign(static_cast<size_t>(G), 0.0f);
                for (int64_t k = 0; k < n; ++k)
                    group.p_of_gene[group.order[k]] = static_cast<float>(group.p[k]);
                group.table.resize(n);
                for (int64_t k = 0; k < n;) {
                    Block block;
                    block.begin = k;
                    block.max_p = group.p[k];
                    while (k < n && group.p[k] * 2.0 >= block.max_p) block.total += group.p[k++];
                    block.end = k;
                    build_alias(group, block);
                    group.blocks.push_back(block);
                }
            }
        });

    // ---- cells: attributes first, then counts with cells visited group by group so that the
    // group's alias table stays in cache ----
    const int64_t N = o.n_cells;
    std::vector<int32_t> cell_batch(N), cell_donor(N), cell_type(N);
    std::vector<uint8_t> damaged(N);
    std::vector<double> library(N);
    engine::for_chunks(
        engine::make_chunks(N, 4096), control, [&](int64_t, int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                Rng rng(o.seed, 1000 + static_cast<uint64_t>(i));     // one stream per cell
                const int b = static_cast<int>(i * o.n_batches / N);  // batches are contiguous
                cell_batch[i] = b;
                cell_donor[i] = static_cast<int32_t>(
                    int64_t{b} * o.donors_per_batch +
                    static_cast<int64_t>(rng.below(static_cast<uint64_t>(o.donors_per_batch))));
                const double u = rng.uniform();
                int t = 0;
                while (t + 1 < o.n_types && u >= type_cdf[t]) ++t;
                cell_type[i] = t;
                damaged[i] = rng.uniform() < o.damaged_fraction;
                const double sd = o.library_log_sd;
                library[i] = batch_depth[b] * std::exp(sd * rng.normal() - 0.5 * sd * sd) *
                             (damaged[i] ? o.damaged_library_factor : 1.0);
            }
        });
    // Cells are generated in waves of consecutive cells. Within a wave they are visited group by
    // group; rows land in per-chunk buffers reused by every wave and are then appended in cell
    // order. Fresh memory is expensive to touch, so each output byte is written to new memory once.
    CsrMatrix X;
    X.n_rows = N;
    X.n_cols = G;
    X.indptr.assign(static_cast<size_t>(N + 1), 0);
    constexpr int64_t kWave = 16384, kChunk = 256;
    std::vector<std::vector<int32_t>> chunk_indices(kWave / kChunk);
    std::vector<std::vector<float>> chunk_data(kWave / kChunk);
    std::vector<int64_t> row_nnz(kWave), row_offset(kWave), row_chunk(kWave), visit(kWave);
    std::vector<int64_t> start(static_cast<size_t>(n_groups + 1));
    for (int64_t wave_begin = 0; wave_begin < N; wave_begin += kWave) {
        const int64_t wave_end = std::min(N, wave_begin + kWave);
        const int64_t wave_n = wave_end - wave_begin;
        std::fill(start.begin(), start.end(), 0);
        for (int64_t i = wave_begin; i < wave_end; ++i)
            ++start[int64_t{cell_type[i]} * n_donors + cell_donor[i] + 1];
        std::partial_sum(start.begin(), start.end(), start.begin());
        for (int64_t i = wave_begin; i < wave_end; ++i)
            visit[start[int64_t{cell_type[i]} * n_donors + cell_donor[i]]++] = i;

        engine::for_chunks(
            engine::make_chunks(wave_n, kChunk, kWave / kChunk), control,
            [&](int64_t c, int64_t begin, int64_t end) {
                std::vector<int32_t> count(static_cast<size_t>(G), 0);
                std::vector<uint64_t> touched(static_cast<size_t>(G + 63) / 64, 0);  // genes set
                auto mark = [&](int64_t g) { touched[g >> 6] |= uint64_t{1} << (g & 63); };
                std::vector<int32_t> candidates;
                std::vector<int32_t> row_indices(static_cast<size_t>(G));
                std::vector<float> row_values(static_cast<size_t>(G));
                auto& out_indices = chunk_indices[c];
                auto& out_data = chunk_data[c];
                out_indices.clear();
                out_data.clear();
                for (int64_t v = begin; v < end; ++v) {
                    const int64_t i = visit[v];
                    Rng rng(o.seed, (uint64_t{1} << 40) + static_cast<uint64_t>(i));
                    const bool is_damaged = damaged[i];
                    const double L = library[i];
                    const double mito_share =
                        mito_genes.empty()
                            ? 0.0
                            : (is_damaged ? o.damaged_mito_fraction : o.mito_fraction);
                    const Group& group = groups[int64_t{cell_type[i]} * n_donors + cell_donor[i]];

                    for (size_t m = 0; m < mito_genes.size(); ++m) {
                        const int64_t g = mito_genes[m];
                        count[g] = static_cast<int32_t>(
                            draw_nb(rng, L * mito_share * group.mito_p[m], 1.0 / phi[g]));
                        mark(g);
                    }
                    const double L_rest = L * (1.0 - mito_share);
                    candidates.clear();
                    for (const Block& block : group.blocks) {
                        if (L_rest * block.max_p >= kDirectMean) {
                            for (int64_t k = block.begin; k < block.end; ++k) {
                                const int32_t g = group.order[k];
                                count[g] = static_cast<int32_t>(
                                    draw_nb(rng, L_rest * group.p[k], 1.0 / phi[g]));
                                mark(g);
                            }
                            continue;
                        }
                        int64_t events = rng.poisson(L_rest * block.total);
                        const AliasEntry* table = group.table.data() + block.begin;
                        const uint64_t m = static_cast<uint64_t>(block.end - block.begin);
                        while (events-- > 0) {
                            // One 64-bit draw per event: high half picks the slot, low half the
                            // coin.
                            const uint64_t bits = rng.next();
                            const AliasEntry& entry = table[((bits >> 32) * m) >> 32];
                            const float coin = static_cast<float>(bits & 0xFFFFFFu) * 0x1.0p-24f;
                            const int32_t g = coin < entry.prob ? entry.gene : entry.alias_gene;
                            uint64_t& word = touched[static_cast<size_t>(g) >> 6];
                            const uint64_t bit = uint64_t{1} << (g & 63);
                            if (!(word & bit)) {  // first hit: a candidate
                                word |= bit;
                                candidates.push_back(g);
                            }
                        }
                    }
                    const float L_rest_f = static_cast<float>(L_rest);
                    for (int32_t g : candidates)
                        count[g] = static_cast<int32_t>(
                            draw_candidate(rng, L_rest_f * group.p_of_gene[g], phi_f[g]));
                    // Emit the row in gene order from the bitmap of touched genes: cost follows
                    // the non-zeros, not the number of genes.
                    size_t n = 0;
                    for (size_t w = 0; w < touched.size(); ++w) {
                        for (uint64_t bits = touched[w]; bits; bits &= bits - 1) {
                            const int32_t g = static_cast<int32_t>(w * 64) + __builtin_ctzll(bits);
                            const int32_t value = count[g];
                            row_indices[n] = g;
                            row_values[n] = static_cast<float>(value);
                            n += value != 0;
                            count[g] = 0;
                        }
                        touched[w] = 0;
                    }
                    if (out_indices.capacity() ==
                        0) {  // first row: reserve for the chunk, no regrowth
                        out_indices.reserve(static_cast<size_t>(kChunk) * (n + n / 2 + 64));
                        out_data.reserve(out_indices.capacity());
                    }
                    row_chunk[i - wave_begin] = c;
                    row_offset[i - wave_begin] = static_cast<int64_t>(out_indices.size());
                    row_nnz[i - wave_begin] = static_cast<int64_t>(n);
                    out_indices.insert(out_indices.end(), row_indices.begin(),
                                       row_indices.begin() + n);
                    out_data.insert(out_data.end(), row_values.begin(), row_values.begin() + n);
                }
            });

        int64_t wave_nnz = 0;
        for (int64_t k = 0; k < wave_n; ++k) wave_nnz += row_nnz[k];
        if (wave_begin == 0) {
            // Capacity for all cells, so X never regrows (a regrowth copies everything into
            // fresh memory). Later waves may come from deeper batches: scale by library size,
            // generously; reserved pages that are never written cost nothing.
            double wave_library = 0.0, all_library = 0.0;
            for (int64_t i = 0; i < N; ++i)
                (i < wave_end ? wave_library : all_library) += library[i];
            all_library += wave_library;
            const double scale =
                std::max(1.0, all_library / std::max(wave_library, 1e-300) *
                                  static_cast<double>(wave_n) / static_cast<double>(N));
            const double estimate = static_cast<double>(wave_nnz) * static_cast<double>(N) /
                                    static_cast<double>(wave_n) * scale * 1.3;
            const size_t capacity =
                static_cast<size_t>(std::min(estimate, static_cast<double>(N) * G)) + 4096;
            engine::reserve_huge(X.indices, capacity);
            engine::reserve_huge(X.data, capacity);
        }
        for (int64_t k = 0; k < wave_n; ++k) {
            const auto& indices = chunk_indices[row_chunk[k]];
            const auto& data = chunk_data[row_chunk[k]];
            X.indices.insert(X.indices.end(), indices.begin() + row_offset[k],
                             indices.begin() + row_offset[k] + row_nnz[k]);
            X.data.insert(X.data.end(), data.begin() + row_offset[k],
                          data.begin() + row_offset[k] + row_nnz[k]);
            X.indptr[wave_begin + k + 1] = X.indptr[wave_begin + k] + row_nnz[k];
        }
        control.report(static_cast<double>(wave_end) / static_cast<double>(N), "simulating cells");
    }
    chunk_indices.clear();
    chunk_data.clear();

    Cohort cohort;
    cohort.X = Matrix(std::move(X));

    cohort.obs_names.resize(N);
    for (int64_t i = 0; i < N; ++i) cohort.obs_names[i] = padded("cell", i, N);
    cohort.var_names = names;

    std::vector<std::string> batch_names, donor_names, type_names;
    for (int b = 0; b < o.n_batches; ++b) batch_names.push_back(padded("batch", b, o.n_batches));
    for (int64_t d = 0; d < n_donors; ++d)
        donor_names.push_back(batch_names[d / o.donors_per_batch] +
                              padded("_donor", d % o.donors_per_batch, o.donors_per_batch));
    for (int t = 0; t < o.n_types; ++t) type_names.push_back(padded("type", t, o.n_types));
    cohort.obs.set(Column::make_categorical("batch", cell_batch, batch_names));
    cohort.obs.set(Column::make_categorical("donor", cell_donor, donor_names));
    cohort.obs.set(Column::make_categorical("cell_type", cell_type, type_names));
    cohort.obs.set(Column::make_bool("damaged", damaged));
    cohort.obs.set(Column::make_float("library_size", library));

    std::vector<int32_t> kind_codes(static_cast<size_t>(G)), marker_codes(static_cast<size_t>(G));
    for (int64_t g = 0; g < G; ++g) {
        kind_codes[g] = static_cast<int32_t>(kind[g]);
        marker_codes[g] = marker_of[g];
    }
    cohort.var.set(
        Column::make_categorical("gene_kind", kind_codes, {"other", "mito", "ribo", "hb"}));
    cohort.var.set(Column::make_categorical("marker_of", marker_codes, type_names));
    cohort.var.set(Column::make_float("nb_dispersion", phi));

    cohort.uns["simulation"] = {
        {"n_cells", o.n_cells},
        {"n_genes", o.n_genes},
        {"n_types", o.n_types},
        {"n_batches", o.n_batches},
        {"donors_per_batch", o.donors_per_batch},
        {"batch_effect", o.batch_effect},
        {"donor_effect", o.donor_effect},
        {"depth_shift", o.depth_shift},
        {"mean_library_size", o.mean_library_size},
        {"library_log_sd", o.library_log_sd},
        {"markers_per_type", o.markers_per_type},
        {"marker_log2_fold", o.marker_log2_fold},
        {"base_log_sd", o.base_log_sd},
        {"dispersion", o.dispersion},
        {"mito_fraction", o.mito_fraction},
        {"damaged_fraction", o.damaged_fraction},
        {"seed", o.seed},
        {"model", "negative binomial, gene-wise log-normal batch and donor factors"}};
    control.report(1.0, "simulated");
    return SimulateResults{std::move(cohort)};
}

}  // namespace transcura
