#pragma once
// Parallel loops for the batch metrics, on the engine's sleeping thread pool
// (engine/parallel.hpp) rather than OpenMP: Harmony and k-means run thousands of short loops,
// and OpenMP's spin-waiting made idle workers burn the other core on a shared machine (half of
// Harmony's profile at 30k cells was libgomp spinning). Eigen parallelises a matrix product by
// itself (OpenMP) when it runs outside a parallel region, which makes small products slow and
// the rounding depend on the thread count; so inside these loops each thread's OpenMP team size
// is pinned to one (a per-thread setting, restored on the calling thread afterwards).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>

#include <omp.h>

#include "engine/parallel.hpp"

namespace transcura::batch_detail {

namespace detail {

/// Runs body(i) for i in [0, count), claiming `grain` consecutive items at a time.
template <typename Body>
void pooled_loop(int64_t count, int threads, int64_t grain, Body& body) {
    if (count <= 0) return;
    const int workers = static_cast<int>(std::clamp<int64_t>(threads, 1, count));
    std::atomic<int64_t> next{0};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto work = [&](int) {
        const int saved = omp_get_max_threads();
        omp_set_num_threads(1);
        for (;;) {
            const int64_t begin = next.fetch_add(grain, std::memory_order_relaxed);
            if (begin >= count) break;
            const int64_t end = std::min(count, begin + grain);
            try {
                for (int64_t i = begin; i < end; ++i) body(i);
            } catch (...) {
                std::lock_guard<std::mutex> lock(failure_mutex);
                if (!failure) failure = std::current_exception();
                next.store(count, std::memory_order_relaxed);
            }
        }
        omp_set_num_threads(saved);
    };
    if (workers <= 1)
        work(0);
    else
        engine::run_on_pool(workers, work);
    if (failure) std::rethrow_exception(failure);
}

}  // namespace detail

/// Runs body(i) for i in [0, count) on `threads` threads, one item at a time (for items of
/// uneven or large cost).
template <typename Body>
void parallel_for(int64_t count, int threads, Body&& body) {
    detail::pooled_loop(count, threads, 1, body);
}

/// Same in contiguous runs of items, for many cheap items.
template <typename Body>
void parallel_for_static(int64_t count, int threads, Body&& body) {
    const int64_t grain = std::max<int64_t>(1, count / (8 * std::max(1, threads)));
    detail::pooled_loop(count, threads, grain, body);
}

}  // namespace transcura::batch_detail
