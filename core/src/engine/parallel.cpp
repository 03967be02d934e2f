// The engine's thread pool: workers sleep between loops (see parallel.hpp).
#include "engine/parallel.hpp"

#include <condition_variable>
#include <thread>
#include <vector>

namespace transcura::engine {
namespace {

thread_local bool t_inside_pool = false;

class Pool {
public:
    ~Pool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            shutdown_ = true;
        }
        wake_.notify_all();
        for (auto& thread : threads_) thread.join();
    }

    /// False when the pool is busy (another thread is using it): the caller runs inline.
    bool run(int workers, const std::function<void(int)>& task) {
        std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
        if (!busy.owns_lock()) return false;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            while (static_cast<int>(threads_.size()) < workers - 1) {
                const int index = static_cast<int>(threads_.size()) + 1;
                threads_.emplace_back([this, index] { loop(index); });
            }
            task_ = &task;
            active_ = workers - 1;
            pending_ = workers - 1;
            ++generation_;
        }
        wake_.notify_all();
        t_inside_pool = true;
        task(0);
        t_inside_pool = false;
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return pending_ == 0; });
        task_ = nullptr;
        return true;
    }

private:
    void loop(int index) {
        t_inside_pool = true;
        uint64_t seen = 0;
        for (;;) {
            const std::function<void(int)>* task = nullptr;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock,
                           [&] { return shutdown_ || (generation_ != seen && index <= active_); });
                if (shutdown_) return;
                seen = generation_;
                task = task_;
            }
            (*task)(index);
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (--pending_ == 0) done_.notify_one();
            }
        }
    }

    std::mutex busy_;   // one loop at a time
    std::mutex mutex_;  // guards the fields below
    std::condition_variable wake_, done_;
    std::vector<std::thread> threads_;
    const std::function<void(int)>* task_ = nullptr;
    int active_ = 0, pending_ = 0;
    uint64_t generation_ = 0;
    bool shutdown_ = false;
};

Pool& pool() {
    static Pool instance;
    return instance;
}

}  // namespace

void run_on_pool(int workers, const std::function<void(int)>& task) {
    if (workers <= 1 || t_inside_pool || !pool().run(workers, task)) task(0);
}

}  // namespace transcura::engine
