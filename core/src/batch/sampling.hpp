#pragma once
// Seeded random numbers for the batch metrics. SplitMix64 and our own bounded draw, rather
// than std:: distributions, so a seed gives the same cells on every standard library.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace transcura::batch_detail {

class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, bound), bound > 0, without modulo bias (rejection).
    uint64_t below(uint64_t bound) {
        const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
        uint64_t x;
        do x = next();
        while (x >= limit);
        return x % bound;
    }
    /// Uniform in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
    uint64_t state_;
};

/// Fisher-Yates shuffle with SplitMix64.
template <typename T>
void shuffle(std::vector<T>& values, SplitMix64& rng) {
    for (size_t i = values.size(); i > 1; --i)
        std::swap(values[i - 1], values[static_cast<size_t>(rng.below(i))]);
}

/// `m` distinct positions out of `items` (all when m >= size), returned in increasing order.
inline std::vector<int64_t> sample_sorted(const std::vector<int64_t>& items, int64_t m,
                                          uint64_t seed) {
    if (m >= static_cast<int64_t>(items.size())) return items;
    std::vector<int64_t> pool = items;
    SplitMix64 rng(seed);
    for (int64_t i = 0; i < m; ++i) {  // partial Fisher-Yates: the first m are the sample
        const auto j = static_cast<size_t>(i) +
                       static_cast<size_t>(rng.below(pool.size() - static_cast<size_t>(i)));
        std::swap(pool[static_cast<size_t>(i)], pool[j]);
    }
    pool.resize(static_cast<size_t>(m));
    std::sort(pool.begin(), pool.end());
    return pool;
}

inline std::vector<int64_t> iota_cells(int64_t n) {
    std::vector<int64_t> cells(static_cast<size_t>(n));
    std::iota(cells.begin(), cells.end(), int64_t{0});
    return cells;
}

}  // namespace transcura::batch_detail
