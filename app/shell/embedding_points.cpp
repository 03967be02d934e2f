// EmbeddingController: which points the view shows. An embedding chosen explicitly is set at
// once; the first embedding of a large new cohort is laid out as floats on a worker (the
// conversion of 1M rows of doubles was ~10-40 ms of the GUI thread's hand-off turn) and handed
// to the view when it is ready, unless something newer was shown meanwhile.
#include <utility>

#include "background_pool.hpp"
#include "embedding_controller.hpp"
#include "embedding_toolbar.hpp"
#include "embedding_view.hpp"
#include "later_turn.hpp"

namespace transcura::shell {

bool EmbeddingController::overtakePreparedPoints() {
    ++points_generation_;  // a job still running is stale from now on
    return std::exchange(points_pending_, false);
}

bool EmbeddingController::showEmbedding(const QString& key, int x, int y, int z) {
    const DenseD* matrix = findEmbedding(key);
    if (!matrix) return false;
    const int columns = static_cast<int>(matrix->n_cols);
    if (x < 0 || x >= columns || y < 0 || y >= columns || z >= columns) return false;
    const std::vector<int64_t> selection = view_->selection();
    const bool was_pending = overtakePreparedPoints();
    live_ = false;
    live_timer_.stop();
    pending_live_.reset();
    view_->setPointBudget(0);
    embedding_ = key;
    x_ = x;
    y_ = y;
    z_ = z;
    if (toolbar_->embedding() != key || toolbar_->xComponent() != x ||
        toolbar_->yComponent() != y || toolbar_->zComponent() != z)
        toolbar_->showEmbedding(key, x, y, z);
    view_->setPoints(*matrix, x, y, z);
    reapplyColor();
    view_->setSelection(selection);
    if (was_pending) emit pointsShown();
    return true;
}

void EmbeddingController::preparePoints(const QString& key) {
    const DenseD* matrix = findEmbedding(key);  // the cohort's own: setCohort() dropped extras
    if (!matrix) return;
    embedding_ = key;
    x_ = 0;
    y_ = 1;
    z_ = -1;
    if (toolbar_->embedding() != key || toolbar_->xComponent() != 0 ||
        toolbar_->yComponent() != 1 || toolbar_->zComponent() != -1)
        toolbar_->showEmbedding(key, 0, 1, -1);
    overtakePreparedPoints();
    points_pending_ = true;
    watched_points_generation_ = points_generation_;
    // The matrix lives in the cohort, immutable and kept alive by the job's copy of the pointer.
    // A newer job replaces this one's future (its result is then never delivered).
    points_watcher_.setFuture(widgets::run_in_background([cohort = cohort_, matrix] {
        PreparedPoints points{widgets::EmbeddingView::layout_points(*matrix, 0, 1), 2, {}};
        points.bounds = widgets::EmbeddingView::point_bounds(
            points.xyz.data(), static_cast<int64_t>(points.xyz.size() / 3));
        return points;
    }));
}

void EmbeddingController::showPreparedPoints(PreparedPoints points) {
    const std::vector<int64_t> selection = view_->selection();  // as showEmbedding() keeps it
    points_pending_ = false;
    // The first paint of 1M points (a splat, then the window's composition) comes in a later
    // turn, not right after this one: Qt would deliver the update in the same pass, one stall
    // of both (~40 + ~60 ms under load).
    view_->setUpdatesEnabled(false);
    view_->setPreparedPoints(std::move(points.xyz), points.dims, points.bounds);
    reapplyColor();
    view_->setSelection(selection);
    widgets::in_a_later_turn(view_, [view = view_] { view->setUpdatesEnabled(true); });
    emit pointsShown();
}

}  // namespace transcura::shell
