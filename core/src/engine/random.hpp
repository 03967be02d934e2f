#pragma once
// Small, fast, portable random number generation for the engine. We do not use <random>'s
// distributions because their algorithms are implementation-defined: the same seed must give the
// same cohort, PCA and layout on every platform and standard library.
#include <cmath>
#include <cstdint>

namespace transcura::engine {

/// SplitMix64: used to expand one seed into independent stream states.
inline uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// xoshiro256** (Blackman & Vigna). `stream` selects an independent sequence for the same seed,
/// so per-cell or per-chunk generators give results that do not depend on the thread count.
class Rng {
public:
    explicit Rng(uint64_t seed, uint64_t stream = 0) {
        uint64_t sm = seed ^ (stream * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull);
        for (auto& word : s_) word = splitmix64(sm);
    }

    uint64_t next() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    /// Uniform in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Uniform in (0, 1]: safe to take the logarithm of.
    double uniform_pos() { return static_cast<double>((next() >> 11) + 1) * 0x1.0p-53; }
    /// Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-32 for our n).
    uint64_t below(uint64_t n) {
        return static_cast<uint64_t>((static_cast<__uint128_t>(next()) * n) >> 64);
    }

    /// Standard normal (Marsaglia polar method; the spare value is kept).
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        double u, v, s;
        do {
            u = 2.0 * uniform() - 1.0;
            v = 2.0 * uniform() - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        const double factor = std::sqrt(-2.0 * std::log(s) / s);
        spare_ = v * factor;
        has_spare_ = true;
        return u * factor;
    }

    /// Gamma(shape, 1), Marsaglia & Tsang (2000); shape < 1 via the u^(1/shape) boost.
    double gamma(double shape) {
        if (shape < 1.0) {
            const double u = uniform_pos();
            return gamma(shape + 1.0) * std::pow(u, 1.0 / shape);
        }
        const double d = shape - 1.0 / 3.0;
        const double c = 1.0 / std::sqrt(9.0 * d);
        for (;;) {
            double x, v;
            do {
                x = normal();
                v = 1.0 + c * x;
            } while (v <= 0.0);
            v = v * v * v;
            const double u = uniform_pos();
            if (u < 1.0 - 0.0331 * (x * x) * (x * x)) return d * v;
            if (std::log(u) < 0.5 * x * x + d * (1.0 - v + std::log(v))) return d * v;
        }
    }

    /// Poisson(lambda): inversion for small means, PTRS (Hörmann 1993) otherwise.
    int64_t poisson(double lambda) {
        if (!(lambda > 0.0)) return 0;
        if (lambda < 12.0) {
            // Sequential inversion: expected lambda + 1 steps.
            double p = std::exp(-lambda);
            double cumulative = p;
            const double u = uniform();
            int64_t k = 0;
            while (u > cumulative && k < 1000) {
                ++k;
                p *= lambda / static_cast<double>(k);
                cumulative += p;
            }
            return k;
        }
        const double slam = std::sqrt(lambda);
        const double loglam = std::log(lambda);
        const double b = 0.931 + 2.53 * slam;
        const double a = -0.059 + 0.02483 * b;
        const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
        const double vr = 0.9277 - 3.6224 / (b - 2);
        for (;;) {
            const double u = uniform() - 0.5;
            const double v = uniform_pos();
            const double us = 0.5 - std::fabs(u);
            const double k = std::floor((2 * a / us + b) * u + lambda + 0.43);
            if (us >= 0.07 && v <= vr) return static_cast<int64_t>(k);
            if (k < 0 || (us < 0.013 && v > us)) continue;
            if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <=
                -lambda + k * loglam - std::lgamma(k + 1))
                return static_cast<int64_t>(k);
        }
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
    double spare_ = 0.0;
    bool has_spare_ = false;
};

}  // namespace transcura::engine
