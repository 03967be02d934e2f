#include "embedding_controller.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <QLineEdit>
#include <QSettings>
#include <QtConcurrent/QtConcurrentRun>

#include "background_pool.hpp"
#include "embedding_toolbar.hpp"
#include "embedding_view.hpp"
#include "obs_access.hpp"

namespace transcura::shell {

using widgets::EmbeddingView;

namespace {

int64_t find_gene(const std::vector<std::string>& names, const QString& gene) {
    const std::string exact = gene.toStdString();
    auto it = std::find(names.begin(), names.end(), exact);
    if (it != names.end()) return it - names.begin();
    for (size_t i = 0; i < names.size(); ++i)
        if (QString::fromStdString(names[i]).compare(gene, Qt::CaseInsensitive) == 0)
            return static_cast<int64_t>(i);
    return -1;
}

/// Column `gene` of a matrix as floats. CSR rows are searched by bisection when every row's
/// indices are sorted, else scanned. (Checking a sample of rows, as before, bisected unsorted
/// rows of a matrix whose sampled rows happened to be sorted and read wrong values.)
std::vector<float> matrix_column(const Matrix& m, int64_t gene) {
    const int64_t n = m.n_rows();
    std::vector<float> out(static_cast<size_t>(n), 0.0f);
    if (!m.is_sparse()) {
        const DenseF& d = m.dense();
        for (int64_t r = 0; r < n; ++r) out[static_cast<size_t>(r)] = d(r, gene);
        return out;
    }
    const CsrMatrix& s = m.sparse();
    int unsorted_rows = 0;
#pragma omp parallel for schedule(static) reduction(+ : unsorted_rows) if (n > 20000)
    for (int64_t r = 0; r < n; ++r)
        unsorted_rows +=
            !std::is_sorted(s.indices.begin() + s.indptr[r], s.indices.begin() + s.indptr[r + 1]);
    const bool sorted = unsorted_rows == 0;
    const int32_t g = static_cast<int32_t>(gene);
#pragma omp parallel for schedule(static) if (n > 20000)
    for (int64_t r = 0; r < n; ++r) {
        auto begin = s.indices.begin() + s.indptr[r], end = s.indices.begin() + s.indptr[r + 1];
        auto it = sorted ? std::lower_bound(begin, end, g) : std::find(begin, end, g);
        if (it != end && *it == g)
            out[static_cast<size_t>(r)] = s.data[static_cast<size_t>(it - s.indices.begin())];
    }
    return out;
}

}  // namespace

EmbeddingController::EmbeddingController(EmbeddingView* view, widgets::EmbeddingToolbar* toolbar,
                                         QObject* parent)
    : QObject(parent), view_(view), toolbar_(toolbar) {
    connect(toolbar_, &widgets::EmbeddingToolbar::embeddingChosen, this,
            [this](const QString& key, int x, int y, int z) { showEmbedding(key, x, y, z); });
    connect(toolbar_, &widgets::EmbeddingToolbar::colorColumnChosen, this,
            &EmbeddingController::colorByColumn);
    connect(toolbar_, &widgets::EmbeddingToolbar::geneChosen, this,
            [this](const QString& gene) { colorByGene(gene); });
    connect(toolbar_, &widgets::EmbeddingToolbar::pointSizeChanged, view_,
            &EmbeddingView::setPointSize);
    connect(toolbar_, &widgets::EmbeddingToolbar::opacityChanged, view_,
            &EmbeddingView::setOpacity);
    // Point size and opacity are preferences: they persist across runs.
    QSettings settings;
    view_->setPointSize(
        settings.value(QStringLiteral("embedding/pointSize"), view_->pointSize()).toDouble());
    view_->setOpacity(
        settings.value(QStringLiteral("embedding/opacity"), view_->opacity()).toDouble());
    connect(toolbar_, &widgets::EmbeddingToolbar::pointSizeChanged, this,
            [](double size) { QSettings().setValue(QStringLiteral("embedding/pointSize"), size); });
    connect(toolbar_, &widgets::EmbeddingToolbar::opacityChanged, this, [](double opacity) {
        QSettings().setValue(QStringLiteral("embedding/opacity"), opacity);
    });
    find_gene_ = new QAction(tr("Colour by &Gene\u2026"), this);
    find_gene_->setShortcut(QKeySequence::Find);
    find_gene_->setStatusTip(tr("Type a gene name (with completion) to colour the cells by it"));
    connect(find_gene_, &QAction::triggered, this, [this] {
        toolbar_->show();
        toolbar_->geneEdit()->setFocus(Qt::ShortcutFocusReason);
        toolbar_->geneEdit()->selectAll();
    });
    toolbar_->setPointSize(view_->pointSize());
    toolbar_->setOpacity(view_->opacity());
    live_timer_.setSingleShot(true);
    connect(&live_timer_, &QTimer::timeout, this, [this] {
        if (!pending_live_ || !live_) return;
        LiveFrame frame = std::move(*pending_live_);
        pending_live_.reset();
        showLiveLayout(std::move(frame.layout), frame.epoch, frame.n_epochs);
    });
    connect(view_, &QOpenGLWidget::frameSwapped, this, [this] {
        if (!live_frame_clock_.isValid()) return;
        live_frame_ms_ = live_frame_clock_.nsecsElapsed() / 1e6;
        live_frame_clock_.invalidate();
    });
    connect(&gene_watcher_, &QFutureWatcher<GeneColumn>::finished, this, [this] {
        if (gene_watcher_.future().resultCount() > 0) showGeneColors(gene_watcher_.result());
    });
    connect(&index_watcher_, &QFutureWatcher<GeneIndexBuild>::finished, this, [this] {
        if (index_watcher_.future().resultCount() == 0) return;
        GeneIndexBuild built = index_watcher_.result();
        // Built for another cohort (replaced meanwhile), or cancelled: dropped.
        if (!built.index || built.cohort != cohort_.get()) return;
        gene_index_ = std::move(built.index);
        indexed_matrix_ = built.matrix;
        gene_index_ms_ = built.ms;
    });
    connect(&points_watcher_, &QFutureWatcher<PreparedPoints>::finished, this, [this] {
        // Overtaken (a newer cohort, embedding or live layout): dropped with its future.
        if (!points_pending_ || watched_points_generation_ != points_generation_) return;
        QFuture<PreparedPoints> future = points_watcher_.future();
        if (!future.isFinished() || future.resultCount() == 0) return;
        showPreparedPoints(future.takeResult());  // moved: no copy of 12 MB at 1M cells
    });
    view_->setTooltipProvider([this](int64_t cell) { return tooltip(cell); });
}

EmbeddingController::~EmbeddingController() {
    // A build still running stops at its next check instead of holding the thread pool (and
    // the application's exit) for up to a second or two.
    if (index_cancel_) index_cancel_->cancel();
}

void EmbeddingController::setPointSize(double pixels) {
    view_->setPointSize(pixels);
    toolbar_->setPointSize(view_->pointSize());
    QSettings().setValue(QStringLiteral("embedding/pointSize"), view_->pointSize());
}

void EmbeddingController::setOpacity(double opacity) {
    view_->setOpacity(opacity);
    toolbar_->setOpacity(view_->opacity());
    QSettings().setValue(QStringLiteral("embedding/opacity"), view_->opacity());
}

QStringList EmbeddingController::embeddingKeys(const Cohort& cohort) {
    QStringList keys;
    for (const auto& [name, matrix] : cohort.obsm)
        if (matrix.n_cols >= 2 && matrix.n_rows == cohort.n_obs())
            keys << QString::fromStdString(name);
    // The usual layouts first.
    const QStringList preferred = {QStringLiteral("X_umap"), QStringLiteral("X_tsne"),
                                   QStringLiteral("X_draw_graph_fa"), QStringLiteral("X_pca")};
    std::stable_sort(keys.begin(), keys.end(), [&](const QString& a, const QString& b) {
        auto rank = [&](const QString& k) {
            qsizetype i = preferred.indexOf(k);
            return i < 0 ? preferred.size() : i;
        };
        return rank(a) < rank(b);
    });
    return keys;
}

void EmbeddingController::setCohort(std::shared_ptr<const Cohort> cohort) {
    const bool same_cohort = cohort && cohort.get() == cohort_.get();
    cohort_ = std::move(cohort);
    if (!same_cohort) {
        // The replaced index (~57 MB at 1M cells) is freed on a worker, once the watcher's
        // future, which holds a copy of it, is gone too.
        std::shared_ptr<const GeneIndex> replaced = std::move(gene_index_);
        indexed_matrix_ = nullptr;
        if (index_cancel_) index_cancel_->cancel();
        index_cancel_.reset();
        index_watcher_.setFuture(QFuture<GeneIndexBuild>());
        startGeneIndex();
        widgets::release_in_background(std::move(replaced));
    }
    live_ = false;
    live_clock_.invalidate();
    live_timer_.stop();
    pending_live_.reset();
    view_->setPointBudget(0);  // the final layout is drawn in full
    embedding_.clear();
    gene_.clear();
    gene_requested_.clear();
    gene_pending_ = false;
    custom_.reset();
    extra_embeddings_.clear();
    if (!cohort_) {
        const bool was_pending = overtakePreparedPoints();
        view_->clearPoints();
        if (was_pending) emit pointsShown();
        return;
    }
    const QStringList keys = embeddingKeys(*cohort_);
    offerEmbeddings(keys.value(0));
    QStringList columns, genes;
    for (const Column& c : cohort_->obs.columns) columns << QString::fromStdString(c.name);
    for (const std::string& g : cohort_->var_names) genes << QString::fromStdString(g);
    toolbar_->setGenes(genes);
    QString column = widgets::default_label_key(cohort_->obs);
    if (column.isEmpty()) column = widgets::default_batch_key(cohort_->obs);
    column_ = column;
    toolbar_->setColumns(columns, column_);
    if (keys.isEmpty()) {
        const bool was_pending = overtakePreparedPoints();
        view_->clearPoints();
        view_->setPlaceholderText(
            tr("This cohort has no embedding yet.\nRun the pipeline "
               "(Analysis \u25b8 Run Pipeline) to compute PCA and UMAP."));
        if (was_pending) emit pointsShown();
        return;
    }
    if (cohort_->n_obs() > background_points_above_) {
        preparePoints(keys.first());
        return;
    }
    showEmbedding(keys.first());
}

const DenseD* EmbeddingController::findEmbedding(const QString& key) const {
    if (!cohort_) return nullptr;
    auto extra = extra_embeddings_.find(key);
    if (extra != extra_embeddings_.end()) return extra->second.get();
    auto it = cohort_->obsm.find(key.toStdString());
    if (it == cohort_->obsm.end() || it->second.n_rows != cohort_->n_obs()) return nullptr;
    return &it->second;
}

void EmbeddingController::offerEmbeddings(const QString& current) {
    QList<QPair<QString, int>> embeddings;
    for (const QString& k : embeddingKeys(*cohort_))
        if (!extra_embeddings_.count(k))  // an added matrix (a rerun's X_pca_harmony) replaces it
            embeddings.append({k, static_cast<int>(cohort_->obsm.at(k.toStdString()).n_cols)});
    for (const auto& [key, matrix] : extra_embeddings_)
        embeddings.append({key, static_cast<int>(matrix->n_cols)});
    toolbar_->setEmbeddings(embeddings, current);
}

bool EmbeddingController::addEmbedding(const QString& key,
                                       std::shared_ptr<const DenseD> embedding) {
    if (!cohort_ || !embedding || embedding->n_rows != cohort_->n_obs() || embedding->n_cols < 2)
        return false;
    extra_embeddings_[key] = std::move(embedding);
    offerEmbeddings(embedding_);
    return true;
}

void EmbeddingController::removeEmbedding(const QString& key) {
    if (extra_embeddings_.erase(key) == 0) return;
    if (embedding_ == key) {
        const QStringList keys = cohort_ ? embeddingKeys(*cohort_) : QStringList();
        offerEmbeddings(keys.value(0));
        if (!keys.isEmpty()) showEmbedding(keys.first());
    } else if (cohort_) {
        offerEmbeddings(embedding_);
    }
}

void EmbeddingController::reapplyColor() {
    if (custom_) {
        applyCustomColors();
        return;
    }
    if (!gene_.isEmpty() && colorByGene(gene_)) return;
    colorByColumn(column_);
}

void EmbeddingController::colorByValues(const QString& title, std::vector<float> values,
                                        widgets::ColorMapKind map, double lo, double hi) {
    CustomColors colors;
    colors.title = title;
    colors.values = std::move(values);
    colors.map = map;
    colors.lo = lo;
    colors.hi = hi;
    custom_ = std::move(colors);
    applyCustomColors();
}

void EmbeddingController::colorByCategories(const QString& title, std::vector<int32_t> codes,
                                            const QStringList& names, std::vector<QColor> palette) {
    CustomColors colors;
    colors.title = title;
    colors.codes = std::move(codes);
    colors.names = names;
    colors.palette = std::move(palette);
    custom_ = std::move(colors);
    applyCustomColors();
}

void EmbeddingController::applyCustomColors() {
    toolbar_->showColumn(QString());
    toolbar_->showGene(QString());
    if (points_pending_) return;  // applied when the points are there
    const CustomColors& c = *custom_;
    const size_t n = static_cast<size_t>(view_->pointCount());
    if (!c.codes.empty()) {
        if (c.codes.size() == n) view_->setCategorical(c.title, c.codes, c.names, c.palette);
    } else if (c.values.size() == n) {
        view_->setContinuous(c.title, c.values, c.lo, c.hi, c.map);
    }
}

void EmbeddingController::colorByColumn(const QString& column) {
    column_ = column;
    gene_.clear();
    gene_values_.clear();
    gene_requested_.clear();
    gene_pending_ = false;
    custom_.reset();
    toolbar_->showColumn(column);
    // While the points are prepared the view shows others: coloured when they are there.
    if (!cohort_ || points_pending_ || view_->pointCount() != cohort_->n_obs()) return;
    const Column* c = column.isEmpty() ? nullptr : cohort_->obs.find(column.toStdString());
    if (!c) {
        view_->setUniformColor(QColor(70, 110, 170));
        return;
    }
    if (auto category = widgets::category_codes(*c)) {  // (no copy of a categorical's codes)
        const QStringList& categories = category->names;
        // scanpy keeps a column's colours in uns["<column>_colors"]; use them when they fit.
        std::vector<QColor> palette;
        const std::string key = c->name + "_colors";
        if (cohort_->uns.is_object() && cohort_->uns.contains(key) &&
            cohort_->uns[key].is_array() &&
            cohort_->uns[key].size() == static_cast<size_t>(categories.size())) {
            for (const auto& value : cohort_->uns[key])
                palette.emplace_back(value.is_string()
                                         ? QString::fromStdString(value.get<std::string>())
                                         : QString());
            if (std::any_of(palette.begin(), palette.end(),
                            [](const QColor& q) { return !q.isValid(); }))
                palette.clear();
        }
        view_->setCategorical(column, category->codes(), categories, palette);
    } else if (c->is_numeric()) {
        view_->setContinuous(column, widgets::as_floats(*c));
    } else {
        view_->setUniformColor(QColor(70, 110, 170), column);
        emit statusMessage(tr("%1 has too many distinct values to colour by").arg(column));
    }
}

std::vector<float> EmbeddingController::geneValues(const Cohort& cohort, const QString& gene,
                                                   QString* description, const GeneIndex* index,
                                                   const Matrix* indexed) {
    auto usable_index = [&](const Matrix& m) {
        return index && indexed == &m && m.is_sparse() && index->matches(m.sparse());
    };
    // Like scanpy's use_raw: the raw matrix when it has the gene.
    if (cohort.raw && cohort.raw->X.n_rows() == cohort.n_obs()) {
        int64_t g = find_gene(cohort.raw->var_names, gene);
        if (g >= 0) {
            if (description)
                *description =
                    tr("%1 (raw)")
                        .arg(QString::fromStdString(cohort.raw->var_names[static_cast<size_t>(g)]));
            if (usable_index(cohort.raw->X)) return index->dense_column(cohort.raw->X.sparse(), g);
            return matrix_column(cohort.raw->X, g);
        }
    }
    int64_t g = find_gene(cohort.var_names, gene);
    if (g < 0 || !cohort.X) return {};
    if (description)
        *description = QString::fromStdString(cohort.var_names[static_cast<size_t>(g)]);
    // Counts are shown log-transformed, as scanpy does.
    auto log1p_if_counts = [description](std::vector<float>& values) {
        auto is_count = [](float v) { return v >= 0 && v == std::floor(v); };
        if (!std::all_of(values.begin(), values.end(), is_count)) return;
        for (float& v : values) v = std::log1p(v);
        if (description) *description += tr(" (log1p counts)");
    };
    if (usable_index(*cohort.X)) {
        // Only the stored values: the zeros elsewhere are counts, and log1p(0) = 0.
        std::vector<int64_t> rows;
        std::vector<float> stored;
        index->entries(cohort.X->sparse(), g, rows, stored);
        log1p_if_counts(stored);
        std::vector<float> values(static_cast<size_t>(cohort.n_obs()), 0.0f);
        for (size_t k = 0; k < rows.size(); ++k) values[static_cast<size_t>(rows[k])] = stored[k];
        return values;
    }
    std::vector<float> values = matrix_column(*cohort.X, g);
    log1p_if_counts(values);
    return values;
}

namespace {

/// The matrix geneValues() reads a gene from (raw when it has the gene), or null.
const Matrix* gene_matrix(const Cohort& cohort, const QString& gene) {
    if (cohort.raw && cohort.raw->X.n_rows() == cohort.n_obs() &&
        find_gene(cohort.raw->var_names, gene) >= 0)
        return &cohort.raw->X;
    return cohort.X && find_gene(cohort.var_names, gene) >= 0 ? &*cohort.X : nullptr;
}

}  // namespace

bool EmbeddingController::colorByGene(const QString& gene) {
    if (!cohort_) return false;
    const Matrix* matrix = gene_matrix(*cohort_, gene);
    if (!matrix) {
        emit statusMessage(tr("No gene named \u201c%1\u201d in this cohort").arg(gene));
        return false;
    }
    gene_ = gene;
    custom_.reset();
    toolbar_->showGene(gene);
    gene_requested_ = gene;
    const int64_t stored = matrix->is_sparse() ? static_cast<int64_t>(matrix->sparse().data.size())
                                               : matrix->n_rows() * matrix->n_cols();
    // Through the index a gene costs its own non-zeros (~10 ns each): up to a few hundred
    // thousand it is read right here, without the round trip through a worker.
    constexpr int64_t kIndexedOnGuiThread = 400000;
    std::shared_ptr<const GeneIndex> index = matrix == indexed_matrix_ ? gene_index_ : nullptr;
    const bool from_raw = cohort_->raw && matrix == &cohort_->raw->X;
    const bool indexed_quick =
        index && index->stored(find_gene(from_raw ? cohort_->raw->var_names : cohort_->var_names,
                                         gene)) <= kIndexedOnGuiThread;
    if (stored <= background_gene_above_ || indexed_quick) {
        GeneColumn column;
        column.cohort = cohort_.get();
        column.gene = gene;
        column.values = geneValues(*cohort_, gene, &column.description, index.get(), matrix);
        showGeneColors(std::move(column));
        return true;
    }
    // Reading one column of a large CSR matrix touches every row (~0.05 s per million cells)
    // until the index is built: a worker does it and the colours follow; the cohort (and the
    // index) are immutable and kept alive by the copies of the pointers.
    gene_pending_ = true;
    gene_values_.clear();
    gene_watcher_.setFuture(widgets::run_in_background([cohort = cohort_, gene, index, matrix] {
        GeneColumn column;
        column.cohort = cohort.get();
        column.gene = gene;
        column.values = geneValues(*cohort, gene, &column.description, index.get(), matrix);
        return column;
    }));
    return true;
}

void EmbeddingController::startGeneIndex() {
    if (!cohort_) return;
    // The matrix genes are read from: raw.X when the cohort has one of its cells (geneValues()
    // reads raw first), else X. Small matrices are scanned quickly enough without an index.
    const Matrix* matrix = cohort_->raw && cohort_->raw->X.n_rows() == cohort_->n_obs()
                               ? &cohort_->raw->X
                               : (cohort_->X ? &*cohort_->X : nullptr);
    if (!matrix || !matrix->is_sparse()) return;
    const int64_t stored = static_cast<int64_t>(matrix->sparse().data.size());
    if (stored <= background_gene_above_ || stored > kMaxIndexedValues) return;
    auto cancel = std::make_shared<CancelToken>();
    index_cancel_ = cancel;
    // Transcura's own pool (background_pool.hpp): a build of a second or so must not hold one
    // of the global pool's threads that Qt's raster paint waits for.
    index_watcher_.setFuture(widgets::run_in_background([cohort = cohort_, matrix, cancel] {
        GeneIndexBuild built;
        built.cohort = cohort.get();
        built.matrix = matrix;
        QElapsedTimer clock;
        clock.start();
        GeneIndexOptions options;
        options.control.cancel = cancel.get();
        try {
            built.index =
                std::make_shared<const GeneIndex>(GeneIndex::build(matrix->sparse(), options));
        } catch (const Error&) {
            // Cancelled (a newer cohort) or a matrix the index refuses: genes are then read by
            // the scan, which is always right.
        }
        built.ms = clock.nsecsElapsed() / 1e6;
        return built;
    }));
}

void EmbeddingController::showGeneColors(GeneColumn column) {
    // Superseded by another gene, colouring or cohort meanwhile: dropped.
    if (column.gene != gene_requested_ || column.cohort != cohort_.get()) return;
    gene_pending_ = false;
    const QString gene = column.gene;
    if (gene != gene_ || custom_ || !cohort_ ||
        column.values.size() != static_cast<size_t>(cohort_->n_obs()))
        return;
    if (!points_pending_ && view_->pointCount() == static_cast<int64_t>(column.values.size()))
        view_->setContinuous(column.description, column.values, NAN, NAN,
                             widgets::ColorMapKind::Expression);
    gene_values_ = std::move(column.values);
    emit geneColored(gene);
}

void EmbeddingController::showLiveLayout(std::shared_ptr<const DenseD> layout, int epoch,
                                         int n_epochs) {
    if (!layout || layout->n_cols < 2) return;
    // Software OpenGL pays per point drawn, and a frame blocks the GUI thread: the live layout
    // draws a thinned point set whose size follows the measured cost of a whole frame (the
    // positions' update, paintGL, and the window's composition, which paintGL does not see:
    // measured 20-60 ms of a 60k-cell frame outside paintGL), aiming at kLiveFrameTargetMs, and
    // frames come no closer than kLiveMinIntervalMs or four frame costs, so the window keeps
    // most of its time for the user and no frame holds the GUI thread near 100 ms.
    constexpr double kLiveFrameTargetMs = 40, kLiveMinIntervalMs = 100;
    constexpr int64_t kLiveMinBudget = 4000, kLiveMaxBudget = 200000;
    const bool continuing = live_ && layout->n_rows == view_->pointCount();
    // The last frame's whole cost when measured (a frame that never reached the screen, e.g.
    // in a hidden window, is not), else its paintGL alone.
    const double frame_ms =
        live_frame_ms_ > 0 && live_frame_ms_ < 2000 ? live_frame_ms_ : view_->lastRenderMs();
    if (live_budgeting_ && continuing && live_clock_.isValid() && epoch < n_epochs) {
        const double wait =
            std::max(kLiveMinIntervalMs, 4 * frame_ms) - static_cast<double>(live_clock_.elapsed());
        if (wait > 0) {
            // Too soon: shown when the interval is over (or replaced by a later epoch).
            pending_live_ = LiveFrame{std::move(layout), epoch, n_epochs};
            if (!live_timer_.isActive()) live_timer_.start(static_cast<int>(std::ceil(wait)));
            return;
        }
    }
    live_timer_.stop();
    pending_live_.reset();
    if (continuing && frame_ms > 0) {
        const double scale = std::clamp(kLiveFrameTargetMs / frame_ms, 0.5, 1.5);
        live_budget_ =
            std::clamp(static_cast<int64_t>(live_budget_ * scale), kLiveMinBudget, kLiveMaxBudget);
    }
    if (!continuing) live_frame_ms_ = 0;  // another cloud: its first frame is measured anew
    live_clock_.start();
    live_frame_clock_.start();
    view_->setPointBudget(live_budgeting_ ? live_budget_ : 0);
    if (continuing) {
        view_->updatePositions(*layout, epoch < n_epochs / 10);
    } else {
        // The pipeline may have dropped cells: the live layout is shown on its own until the
        // result (with its obs) arrives.
        live_ = true;
        const bool was_pending = overtakePreparedPoints();
        view_->setPoints(*layout, 0, 1, layout->n_cols >= 3 ? 2 : -1);
        if (was_pending) emit pointsShown();
    }
    emit statusMessage(tr("UMAP epoch %1 of %2").arg(epoch).arg(n_epochs));
}

void EmbeddingController::restoreAfterLiveLayout() {
    if (!live_) return;
    const QString column = column_, gene = gene_, embedding = embedding_;
    const int x = x_, y = y_, z = z_;
    auto extras = extra_embeddings_;
    auto custom = custom_;
    setCohort(cohort_);
    column_ = column;
    gene_ = gene;
    custom_ = std::move(custom);
    extra_embeddings_ = std::move(extras);
    if (!cohort_) return;
    if (!extra_embeddings_.empty()) offerEmbeddings(embedding_);
    if (embedding == embedding_ || !showEmbedding(embedding, x, y, z)) reapplyColor();
}

QString EmbeddingController::tooltip(int64_t cell) const {
    if (live_ || points_pending_ || !cohort_ || cell < 0 || cell >= cohort_->n_obs()) return {};
    QStringList lines;
    lines << QStringLiteral("<b>%1</b>")
                 .arg(QString::fromStdString(cohort_->obs_names[static_cast<size_t>(cell)])
                          .toHtmlEscaped());
    QStringList shown;
    auto add = [&](const QString& name) {
        if (name.isEmpty() || shown.contains(name)) return;
        const Column* c = cohort_->obs.find(name.toStdString());
        if (!c) return;
        shown << name;
        lines << QStringLiteral("%1: %2").arg(
            name.toHtmlEscaped(),
            QString::fromStdString(c->text(static_cast<size_t>(cell))).toHtmlEscaped());
    };
    add(column_);
    add(widgets::default_batch_key(cohort_->obs));
    add(widgets::default_label_key(cohort_->obs));
    for (const QStringList& names : {widgets::total_counts_names(), widgets::genes_detected_names(),
                                     widgets::pct_mito_names()})
        if (const Column* c = widgets::find_first(cohort_->obs, names))
            add(QString::fromStdString(c->name));
    if (custom_) {
        const size_t i = static_cast<size_t>(cell);
        if (i < custom_->codes.size())
            lines << QStringLiteral("%1: %2").arg(
                custom_->title.toHtmlEscaped(),
                custom_->codes[i] >= 0 ? custom_->names.value(custom_->codes[i]).toHtmlEscaped()
                                       : tr("n/a"));
        else if (i < custom_->values.size())
            lines << QStringLiteral("%1: %2").arg(
                custom_->title.toHtmlEscaped(), std::isnan(custom_->values[i])
                                                    ? tr("n/a")
                                                    : QString::number(custom_->values[i], 'g', 4));
    }
    if (!gene_.isEmpty() && static_cast<size_t>(cell) < gene_values_.size())
        lines << QStringLiteral("%1: %2")
                     .arg(gene_.toHtmlEscaped())
                     .arg(gene_values_[static_cast<size_t>(cell)], 0, 'g', 4);
    return lines.join(QStringLiteral("<br>"));
}

}  // namespace transcura::shell
