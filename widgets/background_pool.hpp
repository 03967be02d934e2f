#pragma once
// The thread pool for Transcura's own background work (the pipeline, batch diagnostics,
// binning, rasters, column reads, counts): QtConcurrent::run(background_pool(), ...), not Qt's
// global pool. Qt 6.4's raster painting splits large fills and image draws into tasks on the
// global pool and the GUI thread waits for them: with long jobs holding every global thread
// (two on a 2-core machine), a paint waited for a job to finish (measured 0.2-4.4 s stalls,
// e.g. "Paint to QScrollBar 330 ms" while the pipeline and a binning ran).
#include <QThreadPool>

namespace transcura::widgets {

/// At least four threads (jobs overlap: a pipeline run and the QC binning of the cohort shown
/// meanwhile); how many cores a job uses is its own num_threads, not this pool's size.
QThreadPool* background_pool();

}  // namespace transcura::widgets
