// Colour by gene through the by-gene index (gene_index.hpp) the embedding controller builds on a
// worker after a cohort is shown: every gene's values equal those read by a scan of the matrix
// (real files: raw counts held inline, normalised raw values looked up), the colours are shown
// at once (no background read) once the index is there, and an index built for a replaced
// cohort is dropped.
#include <cmath>

#include <QMainWindow>
#include <QSettings>

#include "embedding_controller.hpp"
#include "embedding_toolbar.hpp"
#include "embedding_view.hpp"
#include "gui_test_support.hpp"
#include "transcura/io.hpp"

using namespace transcura;

namespace {

std::shared_ptr<const Cohort> read(const QString& relative) {
    const QString path = QStringLiteral(TRANSCURA_SHARED_DATA "/") + relative;
    return std::make_shared<const Cohort>(read_cohort(path.toStdString()));
}

QString kang() {
    return QStringLiteral("multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad");
}
QString pbmc() {
    return QStringLiteral("h5ad/scanpy_pbmc68k_reduced/10x_pbmc68k_reduced.2025-11.h5ad");
}

}  // namespace

class TstEmbeddingGenes : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QCoreApplication::setOrganizationName(QStringLiteral("TranscuraTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_embedding_genes"));
        QSettings().clear();
    }

    void init() {
        window_ = std::make_unique<QMainWindow>();
        view_ = new widgets::EmbeddingView(window_.get());
        toolbar_ = new widgets::EmbeddingToolbar(window_.get());
        window_->setCentralWidget(view_);
        window_->addToolBar(toolbar_);
        controller_ = std::make_unique<shell::EmbeddingController>(view_, toolbar_);
        controller_->setBackgroundGeneThreshold(0);  // every matrix counts as large: indexed
        window_->resize(800, 600);
        window_->show();
        QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    }
    void cleanup() {
        controller_.reset();
        window_.reset();
    }

    void everyGeneThroughTheIndexEqualsTheScan_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<bool>("inline_counts");
        QTest::addColumn<bool>("from_raw");
        QTest::newRow("kang2018 X: counts") << kang() << true << false;
        QTest::newRow("pbmc68k raw.X: normalised") << pbmc() << false << true;
    }
    void everyGeneThroughTheIndexEqualsTheScan() {
        QFETCH(QString, file);
        QFETCH(bool, inline_counts);
        QFETCH(bool, from_raw);
        auto cohort = read(file);
        controller_->setCohort(cohort);
        QTRY_VERIFY_WITH_TIMEOUT(controller_->geneIndex() != nullptr, 20000);
        QVERIFY(!controller_->geneIndexPending());
        const GeneIndex& index = *controller_->geneIndex();
        QCOMPARE(index.values_inline(), inline_counts);
        const Matrix* matrix = controller_->geneIndexMatrix();
        QVERIFY(matrix == (from_raw ? &cohort->raw->X : &*cohort->X));
        const auto& names = from_raw ? cohort->raw->var_names : cohort->var_names;
        int compared = 0;
        for (const std::string& name : names) {
            const QString gene = QString::fromStdString(name);
            QString scanned_title, indexed_title;
            const std::vector<float> scanned =
                shell::EmbeddingController::geneValues(*cohort, gene, &scanned_title);
            const std::vector<float> indexed = shell::EmbeddingController::geneValues(
                *cohort, gene, &indexed_title, &index, matrix);
            QCOMPARE(indexed.size(), static_cast<size_t>(cohort->n_obs()));
            // Bit for bit (log1p of the same floats, zeros where nothing is stored).
            QVERIFY2(indexed == scanned, qPrintable(gene));
            QCOMPARE(indexed_title, scanned_title);
            ++compared;
        }
        QCOMPARE(compared, static_cast<int>(names.size()));
    }

    void scanReadsRowsWhoseIndicesAreUnsorted() {
        // 300 cells, every row sorted but one that no sample of every n/100-th row visits: the
        // scan must not bisect it (it once decided from such a sample and read zeros there).
        Cohort cohort;
        CsrMatrix x;
        x.n_rows = 300;
        x.n_cols = 3;
        x.indptr.assign(1, 0);
        for (int64_t r = 0; r < x.n_rows; ++r) {
            if (r == 151) {
                x.indices.insert(x.indices.end(), {2, 0});
                x.data.insert(x.data.end(), {5.0f, 7.0f});
            } else {
                x.indices.insert(x.indices.end(), {0, 2});
                x.data.insert(x.data.end(), {1.0f, 2.0f});
            }
            x.indptr.push_back(static_cast<int64_t>(x.indices.size()));
        }
        cohort.X = Matrix(std::move(x));
        for (int64_t r = 0; r < 300; ++r) cohort.obs_names.push_back("c" + std::to_string(r));
        cohort.var_names = {"g0", "g1", "g2"};
        const std::vector<float> g0 =
            shell::EmbeddingController::geneValues(cohort, QStringLiteral("g0"));
        const std::vector<float> g2 =
            shell::EmbeddingController::geneValues(cohort, QStringLiteral("g2"));
        QCOMPARE(g0.size(), size_t(300));
        QCOMPARE(g0[151], std::log1p(7.0f));
        QCOMPARE(g2[151], std::log1p(5.0f));
        QCOMPARE(g0[150], std::log1p(1.0f));
        QCOMPARE(g2[152], std::log1p(2.0f));
    }

    void coloursAtOnceOnceIndexed() {
        auto cohort = read(kang());
        controller_->setCohort(cohort);
        const QString gene = QString::fromStdString(cohort->var_names[5]);
        // The reference colours: the scan's values through the same colour map.
        QTRY_VERIFY_WITH_TIMEOUT(controller_->geneIndex() != nullptr, 20000);
        QSignalSpy colored(controller_.get(), &shell::EmbeddingController::geneColored);
        QVERIFY(controller_->colorByGene(gene));
        QVERIFY(!controller_->geneColorPending());  // read right here, no worker round trip
        QCOMPARE(colored.count(), 1);
        std::vector<QColor> indexed_colors;
        for (int64_t i = 0; i < view_->pointCount(); ++i)
            indexed_colors.push_back(view_->pointColor(i));
        // The same gene read by the scan (a controller without an index) colours the same.
        controller_->setBackgroundGeneThreshold(std::numeric_limits<int64_t>::max());
        controller_->setCohort(std::make_shared<const Cohort>(*cohort));
        QVERIFY(controller_->geneIndex() == nullptr && !controller_->geneIndexPending());
        QVERIFY(controller_->colorByGene(gene));
        QVERIFY(!controller_->geneColorPending());
        QCOMPARE(view_->pointCount(), static_cast<int64_t>(indexed_colors.size()));
        for (int64_t i = 0; i < view_->pointCount(); ++i)
            QCOMPARE(view_->pointColor(i), indexed_colors[static_cast<size_t>(i)]);
    }

    void anIndexForAReplacedCohortIsDropped() {
        auto first = read(kang());
        auto second = std::make_shared<const Cohort>(*first);
        controller_->setCohort(first);
        controller_->setCohort(second);  // before the first index can be built
        QTRY_VERIFY_WITH_TIMEOUT(controller_->geneIndex() != nullptr, 20000);
        QTRY_VERIFY(!controller_->geneIndexPending());
        QVERIFY(controller_->geneIndexMatrix() == &*second->X);
        // Shown again (as after a cancelled live layout), the same cohort keeps its index.
        auto index = controller_->geneIndex();
        controller_->setCohort(second);
        QVERIFY(controller_->geneIndex() == index);
    }

private:
    std::unique_ptr<QMainWindow> window_;
    widgets::EmbeddingView* view_ = nullptr;
    widgets::EmbeddingToolbar* toolbar_ = nullptr;
    std::unique_ptr<shell::EmbeddingController> controller_;
};

TRANSCURA_GUI_TEST_MAIN(TstEmbeddingGenes)
#include "tst_embedding_genes.moc"
