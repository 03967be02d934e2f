#pragma once
// Connects the current cohort to the embedding view and its toolbar: which obsm matrix is
// shown, what the cells are coloured by (obs column or gene), hover tooltips, and the live UMAP
// layout while the pipeline runs.
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include <QAction>
#include <QColor>
#include <QElapsedTimer>
#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

#include "color_maps.hpp"
#include "transcura/cohort.hpp"
#include "transcura/gene_index.hpp"

namespace transcura::widgets {
class EmbeddingView;
class EmbeddingToolbar;
}  // namespace transcura::widgets

namespace transcura::shell {

class EmbeddingController : public QObject {
    Q_OBJECT
public:
    EmbeddingController(widgets::EmbeddingView* view, widgets::EmbeddingToolbar* toolbar,
                        QObject* parent = nullptr);
    ~EmbeddingController() override;

    void setCohort(std::shared_ptr<const Cohort> cohort);
    /// Cohorts with more cells than this get their first embedding's points prepared on a
    /// worker (widgets::background_pool; ~10-40 ms at 1M cells on the GUI thread otherwise):
    /// setCohort() then returns before the view has them, and pointsPending() holds until
    /// pointsShown(). Meanwhile the view keeps what it showed (e.g. the live layout) without
    /// tooltips or recolouring; a newer cohort, embedding or live layout overtakes a
    /// preparation still running. Off unless set (callers that read the view right after
    /// setCohort() keep working); the main window sets kBackgroundPointsAbove.
    void setBackgroundPointsAbove(int64_t cells) { background_points_above_ = cells; }
    static constexpr int64_t kBackgroundPointsAbove = 100000;
    bool pointsPending() const { return points_pending_; }
    /// Shows obsm[key] columns x, y (and z >= 0 in 3D); keeps the colouring.
    bool showEmbedding(const QString& key, int x = 0, int y = 1, int z = -1);
    /// "" colours all cells the same.
    void colorByColumn(const QString& column);
    /// Expression of a gene (raw when present); false when the cohort has no such gene. On a
    /// large matrix the gene's column is read off the GUI thread: the colours then follow
    /// (geneColorPending() until geneColored is emitted).
    bool colorByGene(const QString& gene);
    bool geneColorPending() const { return gene_pending_; }
    /// Matrices with more stored values than this read a gene's column in the background
    /// until their by-gene index is built (on a worker, right after setCohort).
    void setBackgroundGeneThreshold(int64_t stored_values) {
        background_gene_above_ = stored_values;
    }
    /// The by-gene index (gene_index.hpp) of the matrix genes are read from (raw.X when the
    /// cohort has one, else X), once built; null before, or when that matrix is small or dense.
    /// About 2.2 bytes per stored count (1.2 per normalised value), against CSR's 8: ~57 MB at
    /// 1M cells x 2000 genes with 26M non-zeros. Not built above kMaxIndexedValues stored
    /// values (the index would pass 1 GB; such matrices have many values a row, where the scan
    /// of every row is comparatively cheap).
    std::shared_ptr<const GeneIndex> geneIndex() const { return gene_index_; }
    const Matrix* geneIndexMatrix() const { return gene_index_ ? indexed_matrix_ : nullptr; }
    bool geneIndexPending() const { return index_watcher_.isRunning(); }
    static constexpr int64_t kMaxIndexedValues = 500000000;
    /// Wall ms the last index build took on its worker.
    double geneIndexBuildMs() const { return gene_index_ms_; }
    /// Per-cell values computed elsewhere (e.g. a batch metric's per-cell score), one per cohort
    /// cell; kept when the embedding changes, until another colouring is chosen.
    void colorByValues(const QString& title, std::vector<float> values,
                       widgets::ColorMapKind map = widgets::ColorMapKind::Viridis,
                       double lo = std::numeric_limits<double>::quiet_NaN(),
                       double hi = std::numeric_limits<double>::quiet_NaN());
    /// The same with categories (codes index names; negative = missing).
    void colorByCategories(const QString& title, std::vector<int32_t> codes,
                           const QStringList& names, std::vector<QColor> palette = {});
    /// Whether the colours come from colorByValues / colorByCategories.
    bool showingCustomColors() const { return custom_.has_value(); }
    /// An embedding that is not in the cohort's obsm (e.g. Harmony's corrected PCs), offered in
    /// the toolbar until the cohort changes; n_rows must equal the cohort's cells.
    bool addEmbedding(const QString& key, std::shared_ptr<const DenseD> embedding);
    void removeEmbedding(const QString& key);
    /// Point size and opacity of the view, reflected in the toolbar (and remembered).
    void setPointSize(double pixels);
    void setOpacity(double opacity);
    /// Ctrl+F: puts the cursor in the toolbar's gene search box.
    QAction* findGeneAction() const { return find_gene_; }
    void showLiveLayout(std::shared_ptr<const DenseD> layout, int epoch, int n_epochs);
    /// Off: every live frame is drawn in full as it arrives (the behaviour before the budget;
    /// for benchmarks).
    void setLiveFrameBudgeting(bool on) { live_budgeting_ = on; }
    /// The whole cost of the last live frame shown: from showLiveLayout() to the end of the
    /// window's composition (QOpenGLWidget::frameSwapped), what the point budget aims at; 0
    /// before the first.
    double lastLiveFrameMs() const { return live_frame_ms_; }
    int64_t liveFrameBudget() const { return live_budget_; }
    /// Whether the view shows a live layout instead of the cohort's embedding.
    bool showingLiveLayout() const { return live_; }
    /// After a cancelled or failed run: back to the cohort's own embedding.
    void restoreAfterLiveLayout();

    QString embeddingKey() const { return embedding_; }
    /// The components shown (0-based; z = -1 in 2D).
    int xComponent() const { return x_; }
    int yComponent() const { return y_; }
    int zComponent() const { return z_; }
    QString colorColumn() const { return column_; }
    QString colorGene() const { return gene_; }
    /// The obsm matrices a cohort can show: at least two columns.
    static QStringList embeddingKeys(const Cohort& cohort);
    /// Gene expression per cell (raw counts are log1p-transformed); empty if unknown. With
    /// `index` (built from `indexed`), a gene of that matrix is read through the index.
    static std::vector<float> geneValues(const Cohort& cohort, const QString& gene,
                                         QString* description = nullptr,
                                         const GeneIndex* index = nullptr,
                                         const Matrix* indexed = nullptr);

signals:
    void statusMessage(const QString& text);
    /// The colours of colorByGene() are shown.
    void geneColored(const QString& gene);
    /// pointsPending() ended: the view shows the points of the cohort set last (prepared on a
    /// worker), or a later embedding or live layout that overtook them.
    void pointsShown();

private:
    struct CustomColors {
        QString title;
        std::vector<float> values;   // continuous, or
        std::vector<int32_t> codes;  // categorical
        QStringList names;
        std::vector<QColor> palette;
        widgets::ColorMapKind map = widgets::ColorMapKind::Viridis;
        double lo = 0, hi = 0;
    };
    void reapplyColor();
    // The first embedding of a large cohort, prepared on a worker (embedding_points.cpp).
    struct PreparedPoints {
        std::vector<float> xyz;  // 3 per point (z = 0 in 2D), for EmbeddingView
        int dims = 2;
        std::array<double, 6> bounds{};  // EmbeddingView::point_bounds of them
    };
    void preparePoints(const QString& key);
    void showPreparedPoints(PreparedPoints points);
    /// The view gets other points now: a preparation still running is dropped. Whether one was.
    bool overtakePreparedPoints();
    void applyCustomColors();
    const DenseD* findEmbedding(const QString& key) const;
    void offerEmbeddings(const QString& current);
    QString tooltip(int64_t cell) const;

    widgets::EmbeddingView* view_;
    widgets::EmbeddingToolbar* toolbar_;
    std::shared_ptr<const Cohort> cohort_;
    QString embedding_, column_, gene_;
    int x_ = 0, y_ = 1, z_ = -1;
    std::vector<float> gene_values_;
    std::optional<CustomColors> custom_;
    std::map<QString, std::shared_ptr<const DenseD>> extra_embeddings_;
    QAction* find_gene_ = nullptr;
    bool live_ = false;
    // Live layout frames: points drawn per frame, adapted to the measured render time, and
    // when the last frame was shown (frames arriving sooner are dropped).
    bool live_budgeting_ = true;
    int64_t live_budget_ = 30000;
    QElapsedTimer live_clock_;
    // Runs from a live frame's start to the next frameSwapped: the frame's whole cost, paintGL
    // and the window's composition included (on software OpenGL paintGL is only part of it).
    QElapsedTimer live_frame_clock_;
    double live_frame_ms_ = 0;
    // A frame that came too soon waits here (only the latest) for live_timer_.
    struct LiveFrame {
        std::shared_ptr<const DenseD> layout;
        int epoch = 0, n_epochs = 0;
    };
    std::optional<LiveFrame> pending_live_;
    QTimer live_timer_;
    // Gene columns read in the background (large matrices); a newer request supersedes.
    struct GeneColumn {
        const Cohort* cohort = nullptr;  // read from (compared, never dereferenced)
        QString gene;
        std::vector<float> values;
        QString description;
    };
    void showGeneColors(GeneColumn column);
    QFutureWatcher<GeneColumn> gene_watcher_;
    QString gene_requested_;
    bool gene_pending_ = false;
    int64_t background_gene_above_ = 4000000;
    // The by-gene index, built once per cohort on a worker (a newer cohort cancels the build).
    struct GeneIndexBuild {
        const Cohort* cohort = nullptr;  // built for (compared, never dereferenced)
        const Matrix* matrix = nullptr;
        std::shared_ptr<const GeneIndex> index;
        double ms = 0;
    };
    void startGeneIndex();
    QFutureWatcher<GeneIndexBuild> index_watcher_;
    std::shared_ptr<CancelToken> index_cancel_;
    std::shared_ptr<const GeneIndex> gene_index_;
    const Matrix* indexed_matrix_ = nullptr;
    double gene_index_ms_ = 0;
    // Points prepared on a worker: only the latest job's (points_generation_) are shown.
    QFutureWatcher<PreparedPoints> points_watcher_;
    int points_generation_ = 0, watched_points_generation_ = 0;
    bool points_pending_ = false;
    int64_t background_points_above_ = std::numeric_limits<int64_t>::max();
};

}  // namespace transcura::shell
