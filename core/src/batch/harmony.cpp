// Harmony, after harmonypy's harmony.py (itself a port of R harmony). Matrices are kept with
// cells as rows, internally reordered so each batch is a contiguous run of rows: per-batch sums
// and the per-cluster ridge correction then become plain matrix products over row chunks.
#include "transcura/harmony.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "harmony_detail.hpp"
#include "parallel.hpp"
#include "sampling.hpp"
#include "transcura/errors.hpp"

namespace transcura {

using batch_detail::Chunk;
using batch_detail::RowMatrix;

struct Harmony::State {
    HarmonyOptions options;
    int64_t n = 0;
    int64_t d = 0;
    int K = 0;
    int B = 0;
    std::vector<int64_t> cell_of_row;  // internal row -> input cell
    std::vector<int32_t> batch;        // per internal row, compact 0..B-1
    std::vector<Chunk> chunks;         // each within one batch
    std::vector<double> pr_b, theta, lambda;
    RowMatrix z_orig, z_corr, z_cos;  // n x d
    RowMatrix y;                      // K x d centroids (unit rows)
    RowMatrix r, dist;                // n x K soft assignments and cosine distances
    RowMatrix o, e;                   // K x B observed and expected cluster-batch mass
    std::vector<double> objective_kmeans, objective_harmony;
    std::vector<int> kmeans_rounds;
    batch_detail::SplitMix64 rng{0};
    DenseD output;  // corrected, input order
    bool initialized = false;
    bool converged = false;
    int iteration = 0;

    /// Threads for loops over cells: one per kMinRowsPerThread rows at most, because each
    /// k-means round has ~20 synchronisation points and, on a loaded machine, waiting for a
    /// descheduled thread costs more than a small problem's whole work.
    int threads() const {
        constexpr int64_t kMinRowsPerThread = 8192;
        return static_cast<int>(
            std::clamp<int64_t>(n / kMinRowsPerThread, 1, options.control.threads()));
    }

    /// Runs fn(chunk_index, chunk) for every chunk, in parallel.
    template <typename Fn>
    void for_each_chunk(Fn&& fn) const {
        batch_detail::parallel_for(static_cast<int64_t>(chunks.size()), threads(), [&](int64_t c) {
            fn(static_cast<size_t>(c), chunks[static_cast<size_t>(c)]);
        });
    }

    static void normalize_rows(RowMatrix& m) {
        for (Eigen::Index i = 0; i < m.rows(); ++i) {
            const double norm = m.row(i).norm();
            if (norm > 0) m.row(i) /= norm;
        }
    }

    /// Sum over chunks, in chunk order, of per-chunk K x B partials filled by `fill(chunk, out)`.
    template <typename Fill>
    RowMatrix reduce_kb(Fill fill) const {
        std::vector<RowMatrix> partial(chunks.size());
        for_each_chunk([&](size_t c, const Chunk& chunk) {
            partial[c] = RowMatrix::Zero(K, B);
            fill(chunk, partial[c]);
        });
        RowMatrix total = RowMatrix::Zero(K, B);
        for (const RowMatrix& p : partial) total += p;
        return total;
    }

    /// Per-batch column sums of R (K x B), fresh from R.
    RowMatrix batch_mass() const {
        return reduce_kb([&](const Chunk& c, RowMatrix& out) {
            out.col(c.batch) = r.middleRows(c.begin, c.end - c.begin).colwise().sum().transpose();
        });
    }

    void compute_dist() {
        for_each_chunk([&](size_t, const Chunk& chunk) {
            const int64_t rows = chunk.end - chunk.begin;
            auto block = dist.middleRows(chunk.begin, rows);
            block.noalias() = z_cos.middleRows(chunk.begin, rows) * y.transpose();
            block = (2.0 * (1.0 - block.array())).matrix();
        });
    }

    void compute_objective() {
        std::vector<double> error(chunks.size()), entropy(chunks.size());
        for_each_chunk([&](size_t c, const Chunk& chunk) {
            double err = 0.0, ent = 0.0;
            for (int64_t i = chunk.begin; i < chunk.end; ++i)
                for (int k = 0; k < K; ++k) {
                    const double rik = r(i, k);
                    err += rik * dist(i, k);
                    if (rik > 0) ent += rik * std::log(rik);  // safe_entropy: 0 log 0 = 0
                }
            error[c] = err;
            entropy[c] = ent;
        });
        double kmeans_error = 0.0, total_entropy = 0.0;
        for (size_t c = 0; c < chunks.size(); ++c) {
            kmeans_error += error[c];
            total_entropy += entropy[c];
        }
        const RowMatrix mass = batch_mass();
        double cross = 0.0;
        for (int k = 0; k < K; ++k)
            for (int b = 0; b < B; ++b)
                cross += options.sigma * theta[static_cast<size_t>(b)] *
                         std::log((o(k, b) + 1.0) / (e(k, b) + 1.0)) * mass(k, b);
        objective_kmeans.push_back(kmeans_error + options.sigma * total_entropy + cross);
    }

    /// E as outer(cluster mass, batch proportions).
    void expected_from(const RowMatrix& mass) {
        const Eigen::VectorXd cluster_mass = mass.rowwise().sum();
        for (int k = 0; k < K; ++k)
            for (int b = 0; b < B; ++b) e(k, b) = cluster_mass[k] * pr_b[static_cast<size_t>(b)];
    }

    void init_cluster() {
        // harmonypy first divides each cell by its largest PC value; after the L2 normalisation
        // that only matters when all of a cell's PCs are negative (it flips the cell), so the
        // plain cosine normalisation is used.
        z_cos = z_orig;
        normalize_rows(z_cos);
        batch_detail::KmeansOptions km;
        km.k = K;
        km.n_init = options.kmeans_n_init;
        km.max_iter = options.kmeans_max_iter;
        km.seed = options.seed;
        y = batch_detail::kmeans_centroids(z_cos, km, options.control);
        normalize_rows(y);
        dist.resize(n, K);
        r.resize(n, K);
        compute_dist();
        batch_detail::parallel_for_static(n, threads(), [&](int64_t i) {
            auto row = r.row(i);
            row = -dist.row(i) / options.sigma;
            row = (row.array() - row.maxCoeff()).exp().matrix();
            row /= row.sum();
        });
        o = batch_mass();
        e.resize(K, B);
        expected_from(o);
        compute_objective();
        objective_harmony.push_back(objective_kmeans.back());
    }

    /// Mass (K x B) of the rows order[begin, end). Summed as B x K so each cell's row of R is
    /// added contiguously (a strided column add was half of update_r's time at 100k cells).
    void part_mass(const std::vector<int64_t>& order, int64_t begin, int64_t end,
                   RowMatrix& out) const {
        RowMatrix by_batch = RowMatrix::Zero(B, K);
        for (int64_t j = begin; j < end; ++j) {
            const int64_t i = order[static_cast<size_t>(j)];
            by_batch.row(batch[static_cast<size_t>(i)]) += r.row(i);
        }
        out = by_batch.transpose();
    }

    /// O += sign * mass; E += sign * outer(cluster mass, batch proportions).
    void apply_mass(const RowMatrix& mass, double sign) {
        o += sign * mass;
        const Eigen::VectorXd cluster_mass = mass.rowwise().sum();
        for (int k = 0; k < K; ++k)
            for (int b = 0; b < B; ++b)
                e(k, b) += sign * cluster_mass[k] * pr_b[static_cast<size_t>(b)];
    }

    /// Soft k-means assignment with the diversity penalty, one block of cells at a time: a
    /// block's cells are taken out of O and E, reassigned against the others, and put back.
    void update_r() {
        // Row-wise shift so exp() cannot overflow; R is renormalised below anyway.
        Eigen::VectorXd shift(n);
        for (int64_t i = 0; i < n; ++i) shift[i] = dist.row(i).minCoeff() / options.sigma;
        std::vector<int64_t> order = batch_detail::iota_cells(n);
        batch_detail::shuffle(order, rng);
        // numpy.array_split into ceil(1 / block_size) blocks: the first n % blocks get one more.
        const auto n_blocks = static_cast<int64_t>(std::ceil(1.0 / options.block_size));
        const int64_t base = n / n_blocks, extra = n % n_blocks;
        std::vector<int64_t> bounds{0};
        for (int64_t block = 0; block < n_blocks; ++block)
            bounds.push_back(bounds.back() + base + (block < extra ? 1 : 0));
        // Blocks are cut into parts of kChunkRows: mass is summed per part, then over parts in
        // order, so the result does not depend on the thread count.
        constexpr int64_t part_rows = batch_detail::kChunkRows;
        auto n_parts = [&](int64_t block) {
            return block < n_blocks
                       ? (bounds[block + 1] - bounds[block] + part_rows - 1) / part_rows
                       : 0;
        };
        auto sum_parts = [&](const std::vector<RowMatrix>& parts, size_t from, size_t count) {
            RowMatrix total = RowMatrix::Zero(K, B);
            for (size_t p = from; p < from + count; ++p) total += parts[p];
            return total;
        };
        RowMatrix factor(B, K);  // per batch, the diversity factor of each cluster
        std::vector<RowMatrix> parts;
        // Mass of the first block, to be taken out.
        parts.assign(static_cast<size_t>(n_parts(0)), RowMatrix());
        for (int64_t p = 0; p < n_parts(0); ++p)
            part_mass(order, p * part_rows, std::min((p + 1) * part_rows, bounds[1]), parts[p]);
        RowMatrix old_mass = sum_parts(parts, 0, parts.size());
        for (int64_t block = 0; block < n_blocks; ++block) {
            apply_mass(old_mass, -1.0);
            for (int k = 0; k < K; ++k)
                for (int b = 0; b < B; ++b)
                    factor(b, k) =
                        std::pow((e(k, b) + 1.0) / (o(k, b) + 1.0), theta[static_cast<size_t>(b)]);
            // One parallel pass: new R and its mass for this block's parts, and the current
            // mass of the next block's parts (disjoint cells, so order does not matter).
            const int64_t here = n_parts(block), next = n_parts(block + 1);
            parts.assign(static_cast<size_t>(here + next), RowMatrix());
            batch_detail::parallel_for_static(here + next, threads(), [&](int64_t item) {
                const bool current = item < here;
                const int64_t b0 = bounds[current ? block : block + 1];
                const int64_t b1 = bounds[current ? block + 1 : block + 2];
                const int64_t p = current ? item : item - here;
                const int64_t begin = b0 + p * part_rows, end = std::min(b1, begin + part_rows);
                if (current) {
                    // Eigen's vectorised exp over the row (libm's scalar exp was the other
                    // half of update_r's time).
                    const double inverse_sigma = 1.0 / options.sigma;
                    for (int64_t j = begin; j < end; ++j) {
                        const int64_t i = order[static_cast<size_t>(j)];
                        const int32_t b = batch[static_cast<size_t>(i)];
                        auto row = r.row(i);
                        row.array() =
                            (dist.row(i).array() * -inverse_sigma + shift[i]).exp() *
                            factor.row(b).array();
                        row /= row.sum();
                    }
                }
                part_mass(order, begin, end, parts[static_cast<size_t>(item)]);
            });
            apply_mass(sum_parts(parts, 0, static_cast<size_t>(here)), 1.0);
            old_mass = sum_parts(parts, static_cast<size_t>(here), static_cast<size_t>(next));
        }
    }

    bool kmeans_converged() const {
        const size_t count = objective_kmeans.size();
        double old_sum = 0.0, new_sum = 0.0;
        for (size_t i = 0; i < 3; ++i) {  // harmonypy's window of 3
            old_sum += objective_kmeans[count - 2 - i];
            new_sum += objective_kmeans[count - 1 - i];
        }
        return std::abs(old_sum - new_sum) / std::abs(old_sum) < options.epsilon_cluster;
    }

    void cluster() {
        int round = 0;
        for (; round < options.max_iter_kmeans; ++round) {
            options.control.check();
            // Centroids from the current soft assignments, summed per chunk in order.
            std::vector<RowMatrix> partial(chunks.size());
            for_each_chunk([&](size_t c, const Chunk& chunk) {
                const int64_t rows = chunk.end - chunk.begin;
                partial[c].noalias() = r.middleRows(chunk.begin, rows).transpose() *
                                       z_cos.middleRows(chunk.begin, rows);
            });
            y = RowMatrix::Zero(K, d);
            for (const RowMatrix& p : partial) y += p;
            normalize_rows(y);
            compute_dist();
            update_r();
            compute_objective();
            if (round > 3 && kmeans_converged()) break;
        }
        kmeans_rounds.push_back(std::min(round, options.max_iter_kmeans - 1));
        objective_harmony.push_back(objective_kmeans.back());
    }

    /// Mixture-of-experts ridge correction (harmonypy's moe_correct_ridge).
    void correct() {
        // Per batch and cluster: sum of R_ik z_i (B blocks of K x d), and the masses.
        std::vector<RowMatrix> partial(chunks.size());
        for_each_chunk([&](size_t c, const Chunk& chunk) {
            const int64_t rows = chunk.end - chunk.begin;
            partial[c].noalias() =
                r.middleRows(chunk.begin, rows).transpose() * z_orig.middleRows(chunk.begin, rows);
        });
        std::vector<RowMatrix> weighted(static_cast<size_t>(B), RowMatrix::Zero(K, d));
        for (size_t c = 0; c < chunks.size(); ++c)
            weighted[static_cast<size_t>(chunks[c].batch)] += partial[c];
        const RowMatrix mass = batch_mass();
        // W_k = (Phi_Rk Phi^T + diag(0, lambda))^-1 Phi_Rk Z; row 0 (intercept) is kept.
        std::vector<RowMatrix> coefficient(static_cast<size_t>(B), RowMatrix::Zero(K, d));
        batch_detail::parallel_for_static(static_cast<int64_t>(K), threads(), [&](int64_t k_) {
            const auto k = static_cast<int>(k_);
            Eigen::MatrixXd x = Eigen::MatrixXd::Zero(B + 1, B + 1);
            Eigen::MatrixXd rhs = Eigen::MatrixXd::Zero(B + 1, d);
            for (int b = 0; b < B; ++b) {
                x(0, 0) += mass(k, b);
                x(0, b + 1) = x(b + 1, 0) = mass(k, b);
                x(b + 1, b + 1) = mass(k, b) + lambda[static_cast<size_t>(b)];
                rhs.row(b + 1) = weighted[static_cast<size_t>(b)].row(k);
                rhs.row(0) += weighted[static_cast<size_t>(b)].row(k);
            }
            const Eigen::MatrixXd w = x.partialPivLu().solve(rhs);
            for (int b = 0; b < B; ++b) coefficient[static_cast<size_t>(b)].row(k) = w.row(b + 1);
        });
        for_each_chunk([&](size_t, const Chunk& chunk) {
            const int64_t rows = chunk.end - chunk.begin;
            z_corr.middleRows(chunk.begin, rows).noalias() =
                z_orig.middleRows(chunk.begin, rows) -
                r.middleRows(chunk.begin, rows) * coefficient[static_cast<size_t>(chunk.batch)];
        });
        z_cos = z_corr;
        normalize_rows(z_cos);
        for (int64_t row = 0; row < n; ++row)
            for (int64_t j = 0; j < d; ++j)
                output(cell_of_row[static_cast<size_t>(row)], j) = z_corr(row, j);
    }
};

Harmony::Harmony(const DenseD& pcs, const std::vector<int32_t>& batch_codes,
                 const HarmonyOptions& options)
    : state_(std::make_unique<State>()) {
    State& s = *state_;
    s.options = options;
    s.n = pcs.n_rows;
    s.d = pcs.n_cols;
    if (static_cast<int64_t>(batch_codes.size()) != s.n)
        throw InvalidArgument("Harmony: one batch code per cell expected");
    if (pcs.values.size() != static_cast<size_t>(s.n * s.d) || s.n < 2 || s.d < 1)
        throw InvalidArgument("Harmony: needs an N x d embedding with N >= 2");
    if (!(options.sigma > 0) || !(options.block_size > 0) || options.block_size > 1 ||
        options.max_iter_kmeans < 1 || options.lambda < 0)
        throw InvalidArgument(
            "Harmony: sigma, block_size in (0, 1], lambda >= 0 and "
            "max_iter_kmeans >= 1 required");
    for (double v : pcs.values)
        if (!std::isfinite(v)) throw InvalidArgument("Harmony: the embedding has NaN or Inf");
    // Compact batch codes (empty batches change nothing in harmonypy either).
    int max_code = -1;
    for (int32_t b : batch_codes) {
        if (b < 0) throw InvalidArgument("Harmony: every cell needs a batch (missing code)");
        max_code = std::max(max_code, b);
    }
    std::vector<int32_t> compact(static_cast<size_t>(max_code + 1), -1);
    for (int32_t b : batch_codes) compact[static_cast<size_t>(b)] = 0;
    for (int32_t& c : compact)
        if (c == 0) c = s.B++;
    // Internal order: cells sorted by batch (stable), so each batch is one run of rows.
    s.cell_of_row = batch_detail::iota_cells(s.n);
    std::stable_sort(s.cell_of_row.begin(), s.cell_of_row.end(), [&](int64_t a, int64_t b) {
        return compact[static_cast<size_t>(batch_codes[static_cast<size_t>(a)])] <
               compact[static_cast<size_t>(batch_codes[static_cast<size_t>(b)])];
    });
    s.batch.resize(static_cast<size_t>(s.n));
    s.z_orig.resize(s.n, s.d);
    std::vector<int64_t> starts;
    std::vector<int64_t> sizes(static_cast<size_t>(s.B), 0);
    for (int64_t row = 0; row < s.n; ++row) {
        const int64_t cell = s.cell_of_row[static_cast<size_t>(row)];
        const int32_t b = compact[static_cast<size_t>(batch_codes[static_cast<size_t>(cell)])];
        if (row == 0 || b != s.batch[static_cast<size_t>(row - 1)]) starts.push_back(row);
        s.batch[static_cast<size_t>(row)] = b;
        ++sizes[static_cast<size_t>(b)];
        for (int64_t j = 0; j < s.d; ++j) s.z_orig(row, j) = pcs(cell, j);
    }
    s.chunks = batch_detail::make_chunks(starts, s.n);
    s.K = options.n_clusters > 0
              ? options.n_clusters
              : static_cast<int>(std::min(std::round(static_cast<double>(s.n) / 30.0), 100.0));
    s.K = static_cast<int>(std::clamp<int64_t>(s.K, 1, s.n));
    for (int b = 0; b < s.B; ++b) {
        const double n_b = static_cast<double>(sizes[static_cast<size_t>(b)]);
        s.pr_b.push_back(n_b / static_cast<double>(s.n));
        double theta = options.theta;
        if (options.tau > 0) theta *= 1.0 - std::exp(-std::pow(n_b / (s.K * options.tau), 2.0));
        s.theta.push_back(theta);
        s.lambda.push_back(options.lambda);
    }
    s.z_corr = s.z_orig;
    s.output = pcs;
    s.rng = batch_detail::SplitMix64(options.seed ^ 0x5851F42D4C957F2DULL);
}

Harmony::~Harmony() = default;

void Harmony::initialize() {
    if (state_->initialized) return;
    state_->options.control.check();
    state_->init_cluster();
    state_->initialized = true;
}

bool Harmony::step() {
    State& s = *state_;
    if (!s.initialized) initialize();
    if (finished()) return false;
    s.options.control.check();
    s.cluster();
    s.correct();
    ++s.iteration;
    const double old_objective = s.objective_harmony[s.objective_harmony.size() - 2];
    const double new_objective = s.objective_harmony.back();
    s.converged =
        (old_objective - new_objective) / std::abs(old_objective) < s.options.epsilon_harmony;
    return !finished();
}

bool Harmony::finished() const {
    return state_->initialized &&
           (state_->converged || state_->iteration >= state_->options.max_iter_harmony);
}

int Harmony::iteration() const {
    return state_->iteration;
}

const DenseD& Harmony::corrected() const {
    return state_->output;
}

HarmonyResults Harmony::results() const {
    HarmonyResults r;
    r.corrected = state_->output;
    r.iterations = state_->iteration;
    r.converged = state_->converged;
    r.n_clusters = state_->K;
    r.objective = state_->objective_harmony;
    r.kmeans_rounds = state_->kmeans_rounds;
    return r;
}

HarmonyResults run_harmony(const DenseD& pcs, const std::vector<int32_t>& batch_codes,
                           const HarmonyOptions& options) {
    // The k-means initialisation is reported as the first fifth of the run.
    HarmonyOptions inner = options;
    const RunControl& outer = options.control;
    inner.control.progress = [&outer](double f, const std::string& what) {
        outer.report(0.2 * f, what);
    };
    Harmony harmony(pcs, batch_codes, inner);
    harmony.initialize();
    while (harmony.step())
        outer.report(0.2 + 0.8 * harmony.iteration() / std::max(1, options.max_iter_harmony),
                     "Harmony");
    outer.report(1.0, "Harmony");
    return harmony.results();
}

}  // namespace transcura
