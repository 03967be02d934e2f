#pragma once
// Fixed-chunk parallel loops. Work is cut into chunks whose boundaries depend only on the problem
// size (never on the thread count), and every reduction combines chunk results in chunk order, so
// results are bit-identical whatever the number of threads.
//
// The loops run on a small pool of std::threads that sleep on a condition variable between
// loops. (OpenMP's default spin-waiting made the many short loops of the PCA five times slower
// on a shared, oversubscribed machine: idle workers spun while the caller did serial work.)
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>

#include "transcura/progress.hpp"

namespace transcura::engine {

struct Chunking {
    int64_t n = 0;
    int64_t size = 1;
    int64_t count() const { return n == 0 ? 0 : (n + size - 1) / size; }
    int64_t begin(int64_t c) const { return c * size; }
    int64_t end(int64_t c) const { return std::min(n, (c + 1) * size); }
};

/// Chunks of at least `min_size` items, at most `max_chunks` of them.
inline Chunking make_chunks(int64_t n, int64_t min_size, int64_t max_chunks = 256) {
    Chunking chunks;
    chunks.n = n;
    chunks.size =
        std::max<int64_t>(min_size, (n + max_chunks - 1) / std::max<int64_t>(1, max_chunks));
    chunks.size = std::max<int64_t>(1, chunks.size);
    return chunks;
}

/// Runs task(worker) on `workers` threads (the caller is worker 0) and waits for all. Nested or
/// concurrent calls run inline on the calling thread.
void run_on_pool(int workers, const std::function<void(int)>& task);

/// Runs body(chunk_index, begin, end) for every chunk on control.threads() threads. Exceptions
/// (including Cancelled from control.check(), polled between chunks) are rethrown after the loop.
template <typename Body>
void for_chunks(const Chunking& chunks, const RunControl& control, Body&& body) {
    const int64_t count = chunks.count();
    if (count == 0) return;
    std::exception_ptr failure;
    std::mutex failure_mutex;
    std::atomic<int64_t> next{0};
    std::atomic<bool> stop{false};
    auto work = [&](int) {
        for (;;) {
            const int64_t c = next.fetch_add(1, std::memory_order_relaxed);
            if (c >= count || stop.load(std::memory_order_relaxed)) return;
            try {
                if (control.cancel && control.cancel->cancelled()) throw Cancelled();
                body(c, chunks.begin(c), chunks.end(c));
            } catch (...) {
                std::lock_guard<std::mutex> lock(failure_mutex);
                if (!failure) failure = std::current_exception();
                stop.store(true, std::memory_order_relaxed);
            }
        }
    };
    const int threads = static_cast<int>(std::min<int64_t>(control.threads(), count));
    if (threads <= 1) {
        work(0);
    } else {
        run_on_pool(threads, work);
    }
    if (failure) std::rethrow_exception(failure);
}

}  // namespace transcura::engine
