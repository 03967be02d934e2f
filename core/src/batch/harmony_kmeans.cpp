// Harmony's initial centroids: k-means on the cosine-normalised PCs, as harmonypy obtains them
// from scikit-learn's KMeans (greedy k-means++, n_init runs, Lloyd, lowest inertia).
// Distances are formed in single precision: these centroids only seed Harmony's own soft
// clustering, and float products run at twice the speed (this is most of Harmony's set-up).
// Sums (potentials, inertia, centroid means) are accumulated in double.
#include <algorithm>
#include <cmath>
#include <limits>

#include "harmony_detail.hpp"
#include "parallel.hpp"
#include "sampling.hpp"

namespace transcura::batch_detail {
namespace {

using FloatMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Problem {
    FloatMatrix data;
    Eigen::VectorXf norms;
    std::vector<Chunk> chunks;
    int threads;
};

/// Squared distances of every row to each row of `centres` (n x m), Gram form clipped at 0.
void squared_distances(const Problem& p, const FloatMatrix& centres, FloatMatrix& out) {
    const Eigen::VectorXf centre_norms = centres.rowwise().squaredNorm();
    out.resize(p.data.rows(), centres.rows());
    parallel_for(static_cast<int64_t>(p.chunks.size()), p.threads, [&](int64_t c) {
        const Chunk& chunk = p.chunks[static_cast<size_t>(c)];
        const int64_t rows = chunk.end - chunk.begin;
        out.middleRows(chunk.begin, rows).noalias() =
            p.data.middleRows(chunk.begin, rows) * centres.transpose();
        for (int64_t i = chunk.begin; i < chunk.end; ++i)
            for (int64_t j = 0; j < centres.rows(); ++j)
                out(i, j) = std::max(p.norms[i] + centre_norms[j] - 2.0f * out(i, j), 0.0f);
    });
}

FloatMatrix kmeans_plus_plus(const Problem& p, int k, SplitMix64& rng) {
    const int64_t n = p.data.rows();
    FloatMatrix centres(k, p.data.cols());
    const auto first = static_cast<int64_t>(rng.below(static_cast<uint64_t>(n)));
    centres.row(0) = p.data.row(first);
    FloatMatrix d2;
    squared_distances(p, centres.topRows(1), d2);
    std::vector<double> closest(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) closest[static_cast<size_t>(i)] = d2(i, 0);
    const int trials = 2 + static_cast<int>(std::log(static_cast<double>(k)));
    std::vector<double> cumulative(static_cast<size_t>(n));
    FloatMatrix candidates(trials, p.data.cols());
    std::vector<double> partial(p.chunks.size() * static_cast<size_t>(trials));
    for (int c = 1; c < k; ++c) {
        double running = 0.0;
        for (int64_t i = 0; i < n; ++i)
            cumulative[static_cast<size_t>(i)] = running += closest[static_cast<size_t>(i)];
        // Candidates drawn with probability proportional to the current potential.
        for (int t = 0; t < trials; ++t) {
            const double r = rng.uniform() * running;
            auto it = std::lower_bound(cumulative.begin(), cumulative.end(), r);
            const int64_t id = std::min<int64_t>(it - cumulative.begin(), n - 1);
            candidates.row(t) = p.data.row(id);
        }
        squared_distances(p, candidates, d2);
        // Potential (sum of distances to the nearest centre) with each candidate added.
        parallel_for_static(static_cast<int64_t>(p.chunks.size()), p.threads, [&](int64_t ch) {
            for (int t = 0; t < trials; ++t) {
                double sum = 0.0;
                for (int64_t i = p.chunks[static_cast<size_t>(ch)].begin;
                     i < p.chunks[static_cast<size_t>(ch)].end; ++i)
                    sum += std::min<double>(closest[static_cast<size_t>(i)], d2(i, t));
                partial[static_cast<size_t>(ch * trials + t)] = sum;
            }
        });
        int best = 0;
        double best_potential = std::numeric_limits<double>::infinity();
        for (int t = 0; t < trials; ++t) {
            double potential = 0.0;
            for (size_t ch = 0; ch < p.chunks.size(); ++ch)
                potential += partial[ch * static_cast<size_t>(trials) + static_cast<size_t>(t)];
            if (potential < best_potential) {
                best_potential = potential;
                best = t;
            }
        }
        for (int64_t i = 0; i < n; ++i)
            closest[static_cast<size_t>(i)] =
                std::min<double>(closest[static_cast<size_t>(i)], d2(i, best));
        centres.row(c) = candidates.row(best);
    }
    return centres;
}

/// Assigns rows to their nearest centre; returns the inertia.
double assign(const Problem& p, const FloatMatrix& centres, std::vector<int32_t>& labels,
              std::vector<float>& nearest, FloatMatrix& d2) {
    squared_distances(p, centres, d2);
    const int64_t n = p.data.rows();
    labels.resize(static_cast<size_t>(n));
    nearest.resize(static_cast<size_t>(n));
    std::vector<double> partial(p.chunks.size(), 0.0);
    parallel_for_static(static_cast<int64_t>(p.chunks.size()), p.threads, [&](int64_t ch) {
        double sum = 0.0;
        for (int64_t i = p.chunks[static_cast<size_t>(ch)].begin;
             i < p.chunks[static_cast<size_t>(ch)].end; ++i) {
            Eigen::Index j;
            const float best = d2.row(i).minCoeff(&j);
            labels[static_cast<size_t>(i)] = static_cast<int32_t>(j);
            nearest[static_cast<size_t>(i)] = best;
            sum += best;
        }
        partial[static_cast<size_t>(ch)] = sum;
    });
    double inertia = 0.0;
    for (double s : partial) inertia += s;
    return inertia;
}

/// Lloyd iterations from `centres`; returns the final inertia.
double lloyd(const Problem& p, FloatMatrix& centres, int max_iter, double tol) {
    const int64_t n = p.data.rows();
    const int64_t k = centres.rows();
    std::vector<int32_t> labels, previous;
    std::vector<float> nearest;
    FloatMatrix d2;
    for (int iteration = 0; iteration < max_iter; ++iteration) {
        assign(p, centres, labels, nearest, d2);
        RowMatrix sums = RowMatrix::Zero(k, p.data.cols());
        std::vector<int64_t> counts(static_cast<size_t>(k), 0);
        for (int64_t i = 0; i < n; ++i) {
            sums.row(labels[static_cast<size_t>(i)]) += p.data.row(i).cast<double>();
            ++counts[static_cast<size_t>(labels[static_cast<size_t>(i)])];
        }
        FloatMatrix updated = centres;
        // Empty clusters move to the points farthest from their centres (scikit-learn).
        std::vector<int64_t> order;
        for (int64_t j = 0; j < k; ++j) {
            if (counts[static_cast<size_t>(j)] > 0) {
                updated.row(j) = (sums.row(j) / static_cast<double>(counts[static_cast<size_t>(j)]))
                                     .cast<float>();
                continue;
            }
            if (order.empty()) {
                order = iota_cells(n);
                std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
                    return nearest[static_cast<size_t>(a)] > nearest[static_cast<size_t>(b)];
                });
            }
            updated.row(j) = p.data.row(order.front());
            order.erase(order.begin());
        }
        const double shift = (updated - centres).cast<double>().squaredNorm();
        centres = updated;
        if (labels == previous || shift <= tol) break;
        previous = labels;
    }
    return assign(p, centres, labels, nearest, d2);
}

}  // namespace

RowMatrix kmeans_centroids(const RowMatrix& data, const KmeansOptions& options,
                           const RunControl& control) {
    const int64_t n = data.rows();
    const int k = static_cast<int>(std::min<int64_t>(options.k, n));
    // Small problems run on one thread (see Harmony::State::threads).
    const int threads = static_cast<int>(std::clamp<int64_t>(n / 8192, 1, control.threads()));
    Problem p{data.cast<float>(), {}, make_chunks({0}, n), threads};
    p.norms = p.data.rowwise().squaredNorm();
    const Eigen::RowVectorXd mean = data.colwise().mean();
    const double mean_variance = (data.rowwise() - mean).colwise().squaredNorm().sum() /
                                 static_cast<double>(n) / static_cast<double>(data.cols());
    FloatMatrix best;
    double best_inertia = std::numeric_limits<double>::infinity();
    for (int run = 0; run < std::max(1, options.n_init); ++run) {
        control.check();
        SplitMix64 rng(options.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(run) + 1);
        FloatMatrix centres = kmeans_plus_plus(p, k, rng);
        const double inertia = lloyd(p, centres, options.max_iter, options.tol * mean_variance);
        if (inertia < best_inertia) {
            best_inertia = inertia;
            best = std::move(centres);
        }
        control.report(static_cast<double>(run + 1) / std::max(1, options.n_init),
                       "Harmony: initial k-means");
    }
    return best.cast<double>();
}

}  // namespace transcura::batch_detail
