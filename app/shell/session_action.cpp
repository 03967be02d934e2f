#include "session_action.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <unordered_map>

#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QSettings>
#include <QTimer>

#include "batch_controller.hpp"
#include "batch_panel.hpp"
#include "curation_controller.hpp"
#include "embedding_controller.hpp"
#include "embedding_view.hpp"
#include "error_reporter.hpp"
#include "main_window.hpp"
#include "open_action.hpp"
#include "pipeline_controller.hpp"
#include "qc_panel.hpp"
#include "selection_sync.hpp"

namespace transcura::shell {

using widgets::BatchMetric;
using widgets::CameraState;
using widgets::EmbeddingView;

namespace {

constexpr const char* kLastDirKey = "session/lastDirectory";

const std::pair<BatchMetric, const char*> kMetricNames[] = {
    {BatchMetric::ILisi, "ilisi"},
    {BatchMetric::CLisi, "clisi"},
    {BatchMetric::Kbet, "kbet"},
    {BatchMetric::AswBatch, "asw_batch"},
    {BatchMetric::AswLabel, "asw_label"},
    {BatchMetric::Pcr, "pcr"},
    {BatchMetric::GraphConnectivity, "graph_connectivity"},
};

QString metric_name(BatchMetric metric) {
    for (const auto& [m, name] : kMetricNames)
        if (m == metric) return QString::fromLatin1(name);
    return {};
}

std::optional<BatchMetric> metric_from_name(const QString& text) {
    for (const auto& [m, name] : kMetricNames)
        if (text == QLatin1String(name)) return m;
    return std::nullopt;
}

QJsonArray vector3(const std::array<double, 3>& v) {
    return QJsonArray{v[0], v[1], v[2]};
}

bool read_vector3(const QJsonValue& value, std::array<double, 3>& out) {
    const QJsonArray a = value.toArray();
    if (a.size() != 3) return false;
    for (int i = 0; i < 3; ++i) {
        if (!a[i].isDouble()) return false;
        out[static_cast<size_t>(i)] = a[i].toDouble();
    }
    return true;
}

QString mode_name(EmbeddingView::Mode mode) {
    switch (mode) {
        case EmbeddingView::Mode::Lasso:
            return QStringLiteral("lasso");
        case EmbeddingView::Mode::Box:
            return QStringLiteral("box");
        default:
            return QStringLiteral("navigate");
    }
}

QJsonObject pipeline_to_json(const PipelineOptions& o) {
    return QJsonObject{{"batch_key", QString::fromStdString(o.batch_key)},
                       {"min_genes", o.min_genes},
                       {"max_pct_mt", o.max_pct_mt},
                       {"target_sum", o.target_sum},
                       {"n_hvg", o.n_hvg},
                       {"n_pcs", o.n_pcs},
                       {"n_neighbors", o.n_neighbors},
                       {"min_dist", o.min_dist},
                       {"umap_components", o.umap_components},
                       {"resolution", o.resolution},
                       {"seed", QString::number(o.seed)}};
}

PipelineOptions pipeline_from_json(const QJsonObject& j, PipelineOptions o) {
    o.batch_key = j.value("batch_key").toString(QString::fromStdString(o.batch_key)).toStdString();
    o.min_genes = j.value("min_genes").toInt(o.min_genes);
    o.max_pct_mt = j.value("max_pct_mt").toDouble(o.max_pct_mt);
    o.target_sum = j.value("target_sum").toDouble(o.target_sum);
    o.n_hvg = j.value("n_hvg").toInt(o.n_hvg);
    o.n_pcs = j.value("n_pcs").toInt(o.n_pcs);
    o.n_neighbors = j.value("n_neighbors").toInt(o.n_neighbors);
    o.min_dist = j.value("min_dist").toDouble(o.min_dist);
    o.umap_components = j.value("umap_components").toInt(o.umap_components);
    o.resolution = j.value("resolution").toDouble(o.resolution);
    // 64-bit seeds do not fit a JSON double: stored as text.
    bool ok = false;
    const qulonglong seed = j.value("seed").toString().toULongLong(&ok);
    if (ok) o.seed = seed;
    return o;
}

QString same_path(const QString& path) {
    return QDir::cleanPath(QFileInfo(path).absoluteFilePath());
}

}  // namespace

SessionAction::SessionAction(MainWindow* window) : QObject(window), window_(window) {
    save_ = new QAction(tr("&Save Session\u2026"), this);
    save_->setShortcut(QKeySequence::Save);
    save_->setStatusTip(tr("Save the file, parameters, view and selection to a session file"));
    open_ = new QAction(tr("Open &Session\u2026"), this);
    open_->setShortcut(QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_O));
    open_->setStatusTip(tr("Reopen a saved session: the same cohort, view and selection"));
    connect(save_, &QAction::triggered, this, &SessionAction::chooseSave);
    connect(open_, &QAction::triggered, this, &SessionAction::chooseOpen);
    auto update = [this] { save_->setEnabled(window_->controller()->cohort() != nullptr); };
    connect(window_->controller(), &PipelineController::cohortChanged, this, update);
    update();

    PipelineController* controller = window_->controller();
    // Not cohortChanged: the window hands a large cohort to its docks over several event-loop
    // turns, and the view is applied once every dock shows it.
    connect(window_, &MainWindow::cohortShown, this,
            [this](std::shared_ptr<const Cohort>, const QString& path) {
                if (restoring_ && same_path(path) == same_path(pending_path_)) finishRestore();
            });
    connect(controller, &PipelineController::failed, this,
            [this](const QString& path, const QString& stage, const QString& message) {
                if (restoring_ && stage == QLatin1String("open") &&
                    same_path(path) == same_path(pending_path_))
                    fail(path, message);
            });
    // Opening while a job runs cancels that job first (and reports it): only a cancel after
    // which nothing else starts stops the restore.
    connect(controller, &PipelineController::cancelled, this, [this] {
        QTimer::singleShot(0, this, [this] {
            if (restoring_ && !window_->controller()->isBusy())
                fail(pending_path_, tr("cancelled"));
        });
    });
}

QString SessionAction::fileFilter() {
    return tr("Transcura sessions (*.transcura.json *.json);;All files (*)");
}

QJsonObject SessionAction::capture() const {
    PipelineController* controller = window_->controller();
    EmbeddingController* embedding = window_->embedding();
    EmbeddingView* view = window_->embeddingView();
    auto cohort = controller->cohort();

    QJsonObject root{{"format", kFormat},
                     {"version", kVersion},
                     {"software", QStringLiteral("Transcura " TRANSCURA_VERSION)}};
    root["cohort"] = QJsonObject{{"path", controller->currentPath()},
                                 {"n_obs", cohort ? double(cohort->n_obs()) : 0.0},
                                 {"pipeline_ran", controller->cohortFromPipeline()}};
    root["pipeline"] = pipeline_to_json(controller->parameters());

    const CameraState camera = view->cameraState();
    QJsonArray hidden;
    const std::vector<bool> hidden_flags = view->hiddenCategories();
    for (size_t i = 0; i < hidden_flags.size(); ++i)
        if (hidden_flags[i]) hidden.append(int(i));
    root["view"] = QJsonObject{{"embedding", embedding->embeddingKey()},
                               {"x", embedding->xComponent()},
                               {"y", embedding->yComponent()},
                               {"z", embedding->zComponent()},
                               {"mode", mode_name(view->mode())},
                               {"point_size", view->pointSize()},
                               {"opacity", view->opacity()},
                               {"hidden_categories", hidden},
                               {"camera", QJsonObject{{"focal", vector3(camera.focal)},
                                                      {"position", vector3(camera.position)},
                                                      {"view_up", vector3(camera.view_up)},
                                                      {"parallel_scale", camera.parallel_scale}}}};

    QJsonObject color;
    const auto metric = window_->batchController()->coloredMetric();
    if (embedding->showingCustomColors() && metric) {
        color = {{"kind", "metric"},
                 {"metric", metric_name(metric->first)},
                 {"corrected", metric->second}};
    } else if (!embedding->colorGene().isEmpty()) {
        color = {{"kind", "gene"}, {"name", embedding->colorGene()}};
    } else {
        color = {{"kind", "column"}, {"name", embedding->colorColumn()}};
    }
    root["color"] = color;

    QJsonArray indices, names;
    for (int64_t i : window_->selection()->selection()) {
        indices.append(double(i));
        if (cohort && i < cohort->n_obs())
            names.append(QString::fromStdString(cohort->obs_names[static_cast<size_t>(i)]));
    }
    root["selection"] = QJsonObject{{"indices", indices}, {"names", names}};

    // QC thresholds are steps of the curation recipe (the QC lines show them): the recipe is
    // saved whole, as its own JSON format.
    root["qc"] = QJsonObject{{"metric", window_->qcPanel()->metric()}};
    root["recipe"] = QJsonDocument::fromJson(
                         QByteArray::fromStdString(window_->curation()->recipe().to_json().dump()))
                         .object();

    widgets::BatchPanel* panel = window_->batchPanel();
    root["batch"] = QJsonObject{{"batch_key", panel->batchKey()},
                                {"label_key", panel->labelKey()},
                                {"embedding", panel->embeddingKey()},
                                {"harmony", panel->harmonyEnabled()},
                                {"harmony_umap", panel->harmonyUmapEnabled()},
                                {"computed", window_->batchController()->analysis() != nullptr},
                                {"show_corrected", panel->showCorrected()}};
    return root;
}

bool SessionAction::save(const QString& path) {
    const QJsonObject session = capture();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) ||
        file.write(QJsonDocument(session).toJson(QJsonDocument::Indented)) < 0 || !file.commit()) {
        window_->errors()->report(tr("Cannot save session"),
                                  tr("Could not write %1.").arg(QFileInfo(path).fileName()),
                                  file.errorString());
        return false;
    }
    emit saved(path);
    return true;
}

bool SessionAction::restore(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        fail(path, tr("cannot read the file: %1").arg(file.errorString()));
        return false;
    }
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll(), &error);
    if (document.isNull()) {
        fail(path,
             tr("not valid JSON (%1 at offset %2)").arg(error.errorString()).arg(error.offset));
        return false;
    }
    const QJsonObject session = document.object();
    if (session.value("format").toString() != QLatin1String(kFormat)) {
        fail(path, tr("not a Transcura session file (no \"format\": \"%1\")").arg(kFormat));
        return false;
    }
    if (session.value("version").toInt() > kVersion) {
        fail(path, tr("written by a newer Transcura (session version %1)")
                       .arg(session.value("version").toInt()));
        return false;
    }
    QString cohort_path = session.value("cohort").toObject().value("path").toString();
    if (cohort_path.isEmpty()) {
        fail(path, tr("the session names no cohort file"));
        return false;
    }
    if (!QFileInfo::exists(cohort_path)) {
        // A session moved together with its data: look beside the session file.
        const QString beside = QFileInfo(path).dir().filePath(QFileInfo(cohort_path).fileName());
        if (!QFileInfo::exists(beside)) {
            fail(path, tr("its cohort file %1 does not exist").arg(cohort_path));
            return false;
        }
        cohort_path = beside;
    }
    PipelineController* controller = window_->controller();
    pending_ = session;
    pending_path_ = cohort_path;
    restoring_ = true;
    run_on_open_before_ = controller->runOnOpen();
    controller->setParameters(
        pipeline_from_json(session.value("pipeline").toObject(), controller->parameters()));
    controller->setRunOnOpen(session.value("cohort").toObject().value("pipeline_ran").toBool());
    QSettings().setValue(kLastDirKey, QFileInfo(path).absolutePath());
    window_->openActions()->openPath(cohort_path);
    return true;
}

void SessionAction::finishRestore() {
    window_->controller()->setRunOnOpen(run_on_open_before_);
    const QJsonObject session = pending_;
    applyView(session);
    const QJsonObject batch = session.value("batch").toObject();
    if (batch.value("computed").toBool() && !batch.value("batch_key").toString().isEmpty()) {
        applyBatch(session);  // finishes (restored) when the diagnostics are back
        return;
    }
    restoring_ = false;
    emit restored(pending_path_);
}

void SessionAction::applyView(const QJsonObject& session) {
    EmbeddingController* embedding = window_->embedding();
    EmbeddingView* view = window_->embeddingView();
    auto cohort = window_->controller()->cohort();
    if (!cohort) return;
    const QJsonObject v = session.value("view").toObject();
    QString key = v.value("embedding").toString();
    if (key.isEmpty()) key = embedding->embeddingKey();
    const int x = v.value("x").toInt(0), y = v.value("y").toInt(1), z = v.value("z").toInt(-1);
    if (key != embedding->embeddingKey() || x != embedding->xComponent() ||
        y != embedding->yComponent() || z != embedding->zComponent())
        embedding->showEmbedding(key, x, y, z);
    if (v.contains("point_size")) embedding->setPointSize(v.value("point_size").toDouble());
    if (v.contains("opacity")) embedding->setOpacity(v.value("opacity").toDouble());

    const QJsonObject color = session.value("color").toObject();
    const QString kind = color.value("kind").toString();
    if (kind == QLatin1String("gene"))
        embedding->colorByGene(color.value("name").toString());
    else if (kind == QLatin1String("column"))
        embedding->colorByColumn(color.value("name").toString());
    const std::vector<bool> hidden_now = view->hiddenCategories();
    for (const QJsonValue& value : v.value("hidden_categories").toArray())
        if (value.toInt(-1) >= 0 && size_t(value.toInt()) < hidden_now.size())
            view->setCategoryHidden(value.toInt(), true);

    CameraState camera;
    const QJsonObject c = v.value("camera").toObject();
    if (read_vector3(c.value("focal"), camera.focal) &&
        read_vector3(c.value("position"), camera.position) &&
        read_vector3(c.value("view_up"), camera.view_up) &&
        c.value("parallel_scale").toDouble() > 0) {
        camera.parallel_scale = c.value("parallel_scale").toDouble();
        view->setCameraState(camera);
    }
    const QString mode = v.value("mode").toString();
    view->setMode(mode == QLatin1String("lasso") ? EmbeddingView::Mode::Lasso
                  : mode == QLatin1String("box") ? EmbeddingView::Mode::Box
                                                 : EmbeddingView::Mode::Navigate);

    // The selection by cell name (robust to a reordered file), else by index.
    const QJsonObject s = session.value("selection").toObject();
    const QJsonArray names = s.value("names").toArray();
    const QJsonArray indices = s.value("indices").toArray();
    std::vector<int64_t> cells;
    if (!names.isEmpty()) {
        std::unordered_map<std::string, int64_t> lookup;
        lookup.reserve(cohort->obs_names.size());
        for (size_t i = 0; i < cohort->obs_names.size(); ++i)
            lookup.emplace(cohort->obs_names[i], static_cast<int64_t>(i));
        for (const QJsonValue& name : names) {
            auto it = lookup.find(name.toString().toStdString());
            if (it != lookup.end()) cells.push_back(it->second);
        }
    }
    if (cells.size() != static_cast<size_t>(names.size()) || names.isEmpty()) {
        cells.clear();
        for (const QJsonValue& index : indices) {
            const int64_t i = static_cast<int64_t>(index.toDouble(-1));
            if (i >= 0 && i < cohort->n_obs()) cells.push_back(i);
        }
    }
    std::sort(cells.begin(), cells.end());
    cells.erase(std::unique(cells.begin(), cells.end()), cells.end());
    window_->selection()->select(std::move(cells));

    if (session.contains("recipe")) {
        const QByteArray text = QJsonDocument(session.value("recipe").toObject()).toJson();
        try {
            const Recipe recipe = Recipe::parse(text.toStdString(), "session recipe");
            window_->curation()->replaceRecipe(recipe, tr("Restore Session"));  // no-op if same
        } catch (const std::exception& e) {
            window_->errors()->report(tr("Cannot restore the recipe"),
                                      tr("The session's recipe could not be read."),
                                      QString::fromUtf8(e.what()));
        }
    }
    const QJsonObject qc = session.value("qc").toObject();
    if (!qc.value("metric").toString().isEmpty())
        window_->qcPanel()->setMetric(qc.value("metric").toString());

    const QJsonObject batch = session.value("batch").toObject();
    widgets::BatchPanel* panel = window_->batchPanel();
    panel->setBatchKey(batch.value("batch_key").toString());
    panel->setLabelKey(batch.value("label_key").toString());
    if (!batch.value("embedding").toString().isEmpty())
        panel->setEmbeddingKey(batch.value("embedding").toString());
    panel->setHarmonyEnabled(batch.value("harmony").toBool(true));
    panel->setHarmonyUmapEnabled(batch.value("harmony_umap").toBool(true));
}

void SessionAction::applyBatch(const QJsonObject& session) {
    BatchController* batch = window_->batchController();
    auto connections = std::make_shared<std::vector<QMetaObject::Connection>>();
    auto done = [this, connections, session](bool ok, const QString& message) {
        for (const auto& c : *connections) disconnect(c);
        if (!ok) {
            fail(pending_path_, tr("the batch diagnostics failed: %1").arg(message));
            return;
        }
        const QJsonObject b = session.value("batch").toObject();
        const QJsonObject v = session.value("view").toObject();
        if (b.value("show_corrected").toBool() ||
            v.value("embedding").toString() == BatchController::correctedKey()) {
            window_->batchPanel()->setShowCorrected(true);
            window_->embedding()->showEmbedding(BatchController::correctedKey(),
                                                v.value("x").toInt(0), v.value("y").toInt(1),
                                                v.value("z").toInt(-1));
        }
        // The UMAP of the corrected PCs exists only once the batch run has laid it out.
        if (v.value("embedding").toString() == BatchController::correctedUmapKey())
            window_->embedding()->showEmbedding(BatchController::correctedUmapKey(),
                                                v.value("x").toInt(0), v.value("y").toInt(1),
                                                v.value("z").toInt(-1));
        const QJsonObject color = session.value("color").toObject();
        if (color.value("kind").toString() == QLatin1String("metric"))
            if (auto metric = metric_from_name(color.value("metric").toString()))
                window_->batchPanel()->activateMetric(*metric, color.value("corrected").toBool());
        // Showing another embedding reset the camera and may have changed colours: the
        // session's view once more, without the colouring.
        QJsonObject again = session;
        QJsonObject view = v;
        view.remove("embedding");
        again["view"] = view;
        again["color"] = QJsonObject{};
        applyView(again);
        restoring_ = false;
        emit restored(pending_path_);
    };
    connections->push_back(
        connect(batch, &BatchController::finished, this,
                [done](std::shared_ptr<const widgets::BatchAnalysis>) { done(true, {}); }));
    connections->push_back(connect(batch, &BatchController::failed, this,
                                   [done](const QString& message) { done(false, message); }));
    connections->push_back(connect(batch, &BatchController::cancelled, this,
                                   [done] { done(false, tr("cancelled")); }));
    const QJsonObject b = session.value("batch").toObject();
    const bool umap_shown = session.value("view").toObject().value("embedding").toString() ==
                            BatchController::correctedUmapKey();
    batch->run(BatchRequest{b.value("batch_key").toString(), b.value("label_key").toString(),
                            b.value("embedding").toString(QStringLiteral("X_pca")),
                            b.value("harmony").toBool(true),
                            b.value("harmony_umap").toBool(true) || umap_shown});
}

void SessionAction::fail(const QString& path, const QString& message) {
    if (restoring_) window_->controller()->setRunOnOpen(run_on_open_before_);
    restoring_ = false;
    window_->errors()->report(
        tr("Cannot restore session"),
        tr("Could not restore the session from %1.").arg(QFileInfo(path).fileName()), message);
    emit restoreFailed(path, message);
}

void SessionAction::chooseSave() {
    QString path;
    if (chooser_) {
        path = chooser_(true);
    } else {
        QSettings settings;
        const QString name = QFileInfo(window_->controller()->currentPath()).completeBaseName() +
                             QStringLiteral(".transcura.json");
        path = QFileDialog::getSaveFileName(
            window_, tr("Save Session"),
            QDir(settings.value(kLastDirKey, QDir::homePath()).toString()).filePath(name),
            fileFilter());
    }
    if (path.isEmpty()) return;
    QSettings().setValue(kLastDirKey, QFileInfo(path).absolutePath());
    save(path);
}

void SessionAction::chooseOpen() {
    QString path;
    if (chooser_) {
        path = chooser_(false);
    } else {
        QSettings settings;
        path = QFileDialog::getOpenFileName(
            window_, tr("Open Session"), settings.value(kLastDirKey, QDir::homePath()).toString(),
            fileFilter());
    }
    if (!path.isEmpty()) restore(path);
}

}  // namespace transcura::shell
