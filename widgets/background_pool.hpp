#pragma once
// The thread pool for Transcura's own background work (the pipeline, batch diagnostics,
// binning, rasters, column reads, counts): run_in_background(job) (QtConcurrent::run on
// background_pool()), not Qt's global pool. Qt 6.4's raster painting splits large fills and image
// draws into tasks on the global pool and the GUI thread waits for them: with long jobs holding
// every global thread (two on a 2-core machine), a paint waited for a job to finish (measured
// 0.2-4.4 s stalls, e.g. "Paint to QScrollBar 330 ms" while the pipeline and a binning ran).
#include <memory>
#include <utility>

#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

namespace transcura::widgets {

/// At least four threads (jobs overlap: a pipeline run and the QC binning of the cohort shown
/// meanwhile); how many cores a job uses is its own num_threads, not this pool's size.
QThreadPool* background_pool();

/// The calling thread, and the threads it starts from now on (OpenMP's), run at a lower
/// priority (nice 10 on Linux; once per thread). When the background jobs and the GUI thread
/// (with the window's composition on software GL) want the cores at once, the GUI gets them
/// first; a job alone runs as fast as before.
void lower_this_thread_priority();

/// QtConcurrent::run(background_pool(), job) with the job's thread at the lower priority.
template <typename Job>
auto run_in_background(Job&& job) {
    return QtConcurrent::run(background_pool(), [job = std::forward<Job>(job)]() mutable {
        lower_this_thread_priority();
        return job();
    });
}

/// Drops `object`; when this was its last owner, it is destroyed on background_pool(), not on
/// the calling (GUI) thread: freeing a replaced 1M-cell cohort (its count matrix, its names)
/// took 20-40 ms of the GUI thread, a gene index of 57 MB ~10 ms. Only for objects that may be
/// destroyed on any thread (core data, no QObjects). When other owners remain, the last of
/// them destroys it wherever it lets go.
template <class T>
void release_in_background(std::shared_ptr<T> object) {
    if (!object || object.use_count() > 1) return;  // ours was not the last reference
    background_pool()->start([last = std::move(object)]() mutable { last.reset(); });
}

}  // namespace transcura::widgets
