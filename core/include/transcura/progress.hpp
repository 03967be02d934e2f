#pragma once
// Progress reporting and cancellation shared by every long-running step.
#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "transcura/errors.hpp"

namespace transcura {

/// Set from any thread (the GUI's Cancel button); steps poll it and throw Cancelled.
class CancelToken {
public:
    void cancel() { flag_.store(true, std::memory_order_relaxed); }
    void reset() { flag_.store(false, std::memory_order_relaxed); }
    bool cancelled() const { return flag_.load(std::memory_order_relaxed); }
    void throw_if_cancelled() const {
        if (cancelled()) throw Cancelled();
    }

private:
    std::atomic<bool> flag_{false};
};

/// Called with a fraction in [0, 1] of the current step and a short description.
/// Steps call it from the thread that called them, at most every few milliseconds.
using ProgressCallback = std::function<void(double fraction, const std::string& what)>;

/// What every step's Options carries.
struct RunControl {
    /// 0 = all cores.
    int num_threads = 0;
    ProgressCallback progress;
    const CancelToken* cancel = nullptr;

    int threads() const {
        if (num_threads > 0) return num_threads;
        unsigned hw = std::thread::hardware_concurrency();
        return hw == 0 ? 1 : static_cast<int>(hw);
    }
    void report(double fraction, const std::string& what) const {
        if (progress) progress(fraction, what);
    }
    void check() const {
        if (cancel) cancel->throw_if_cancelled();
    }
    /// The same threads and cancel token, with progress of a part mapped onto [begin, end) of
    /// this control's range (for a step inside a longer call).
    RunControl part(double begin, double end) const {
        RunControl sub;
        sub.num_threads = num_threads;
        sub.cancel = cancel;
        if (progress) {
            sub.progress = [parent = progress, begin, end](double fraction,
                                                           const std::string& what) {
                parent(begin + (end - begin) * std::clamp(fraction, 0.0, 1.0), what);
            };
        }
        return sub;
    }
};

}  // namespace transcura
