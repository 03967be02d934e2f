#pragma once
// Parallel loops for the batch metrics. Eigen parallelises a matrix product by itself (OpenMP)
// whenever it runs in a region of one thread, which makes tiny products slow and the rounding
// depend on the thread count. We parallelise over fixed row chunks instead and pin Eigen to one
// thread inside: omp_set_num_threads here only changes the calling task's own setting.
#include <cstdint>

#include <omp.h>

namespace transcura::batch_detail {

/// Runs body(i) for i in [0, count) on `threads` threads (dynamic, one item at a time).
template <typename Body>
void parallel_for(int64_t count, int threads, Body&& body) {
#pragma omp parallel num_threads(threads)
    {
        omp_set_num_threads(1);
#pragma omp for schedule(dynamic, 1)
        for (int64_t i = 0; i < count; ++i) body(i);
    }
}

/// Same with a static schedule, for many cheap items.
template <typename Body>
void parallel_for_static(int64_t count, int threads, Body&& body) {
#pragma omp parallel num_threads(threads)
    {
        omp_set_num_threads(1);
#pragma omp for schedule(static)
        for (int64_t i = 0; i < count; ++i) body(i);
    }
}

/// True on the thread that called the parallel loop (progress callbacks run there only).
inline bool is_calling_thread() {
    return omp_get_thread_num() == 0;
}

}  // namespace transcura::batch_detail
