#include "embedding_scene.hpp"

#include <algorithm>
#include <cmath>

#include <QOpenGLContext>
#include <QOpenGLFunctions>

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkFloatArray.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkIdTypeArray.h>
#include <vtkImageData.h>
#include <vtkOpenGLFramebufferObject.h>
#include <vtkOpenGLState.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>
#include <vtkTexture.h>
#include <vtkUnsignedCharArray.h>

namespace transcura::widgets {

namespace {

using Vec3 = std::array<double, 3>;

Vec3 sub(const Vec3& a, const Vec3& b) {
    return {a[0] - b[0], a[1] - b[1], a[2] - b[2]};
}
Vec3 add(const Vec3& a, const Vec3& b) {
    return {a[0] + b[0], a[1] + b[1], a[2] + b[2]};
}
Vec3 scale(const Vec3& a, double s) {
    return {a[0] * s, a[1] * s, a[2] * s};
}
double dot(const Vec3& a, const Vec3& b) {
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
Vec3 cross(const Vec3& a, const Vec3& b) {
    return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
Vec3 normalized(const Vec3& a) {
    double n = std::sqrt(dot(a, a));
    return n > 0 ? scale(a, 1.0 / n) : Vec3{0, 0, 0};
}

/// The screen axes of a parallel-projection camera in world coordinates.
struct Frame {
    Vec3 right, up;
    double units_per_pixel;
};

Frame frame_of(const CameraState& c, double height_px) {
    Vec3 direction = normalized(sub(c.focal, c.position));
    Vec3 up = normalized(c.view_up);
    Vec3 right = normalized(cross(direction, up));
    up = cross(right, direction);
    return {right, up, 2.0 * c.parallel_scale / std::max(height_px, 1.0)};
}

/// A polydata whose vertices are drawn as points with direct RGBA colours.
struct PointLayer {
    vtkNew<vtkPolyData> poly;
    vtkNew<vtkPoints> points;
    vtkNew<vtkFloatArray> coords;
    vtkNew<vtkUnsignedCharArray> colors;
    vtkNew<vtkCellArray> verts;
    vtkNew<vtkIdTypeArray> ids_array;
    vtkNew<vtkPolyDataMapper> mapper;
    vtkNew<vtkActor> actor;

    PointLayer() {
        coords->SetNumberOfComponents(3);
        points->SetData(coords);
        colors->SetNumberOfComponents(4);
        colors->SetName("colors");
        poly->SetPoints(points);
        poly->GetPointData()->SetScalars(colors);
        ids_array->SetNumberOfComponents(1);
        verts->SetData(1, ids_array);
        poly->SetVerts(verts);
        mapper->SetInputData(poly);
        mapper->SetColorModeToDirectScalars();
        mapper->SetScalarModeToUsePointData();
        mapper->ScalarVisibilityOn();
        actor->SetMapper(mapper);
        actor->GetProperty()->LightingOff();
        actor->GetProperty()->SetRepresentationToPoints();
    }
    int64_t count = 0;

    /// Gathers points `ids` of the full arrays; the vertices are always 0..m-1.
    void gather(const float* xyz, const uint8_t* rgba, const std::vector<int64_t>& ids) {
        const int64_t m = static_cast<int64_t>(ids.size());
        coords->SetNumberOfTuples(m);
        colors->SetNumberOfTuples(m);
        float* p = m ? coords->GetPointer(0) : nullptr;
        uint8_t* c = m ? colors->GetPointer(0) : nullptr;
#pragma omp parallel for schedule(static) if (m > 100000)
        for (int64_t k = 0; k < m; ++k) {
            const int64_t i = ids[static_cast<size_t>(k)];
            std::copy_n(xyz + 3 * i, 3, p + 3 * k);
            std::copy_n(rgba + 4 * i, 4, c + 4 * k);
        }
        coords->Modified();
        points->Modified();
        colors->Modified();
        if (m != count) {
            ids_array->SetNumberOfValues(m);
            vtkIdType* out = m ? ids_array->GetPointer(0) : nullptr;
            for (int64_t k = 0; k < m; ++k) out[k] = k;
            ids_array->Modified();
            verts->SetData(1, ids_array);
            verts->Modified();
            count = m;
        }
        poly->Modified();
        actor->SetVisibility(m > 0);
    }
    void gatherColors(const uint8_t* rgba, const std::vector<int64_t>& ids) {
        const int64_t m = static_cast<int64_t>(ids.size());
        if (m != count) return;
        uint8_t* c = m ? colors->GetPointer(0) : nullptr;
#pragma omp parallel for schedule(static) if (m > 100000)
        for (int64_t k = 0; k < m; ++k)
            std::copy_n(rgba + 4 * ids[static_cast<size_t>(k)], 4, c + 4 * k);
        colors->Modified();
        poly->Modified();
    }
};

}  // namespace

struct EmbeddingScene::Impl {
    vtkNew<vtkGenericOpenGLRenderWindow> window;
    vtkNew<vtkRenderer> renderer;
    vtkNew<vtkRenderer> top;  // layer 1: the highlighted cells, always over the rest
    PointLayer base;
    PointLayer highlight;
    vtkNew<vtkImageData> raster;
    vtkNew<vtkTexture> raster_texture;
    bool raster_mode = false;
    bool direct_upload = true;
    bool initialized = false;

    PointLayer& layer(Layer which) { return which == Base ? base : highlight; }
};

EmbeddingScene::EmbeddingScene() : d(std::make_unique<Impl>()) {
    // No multisampling: llvmpipe (software GL) would pay for every sample at 1M points.
    d->window->SetMultiSamples(0);
    d->window->SetNumberOfLayers(2);
    d->window->AddRenderer(d->renderer);
    d->window->AddRenderer(d->top);
    d->top->SetLayer(1);
    d->top->InteractiveOff();
    d->top->SetActiveCamera(d->renderer->GetActiveCamera());
    d->renderer->SetBackground(1.0, 1.0, 1.0);
    d->renderer->SetBackgroundAlpha(1.0);
    d->renderer->AddActor(d->base.actor);
    d->top->AddActor(d->highlight.actor);
    d->base.actor->SetVisibility(false);
    d->highlight.actor->SetVisibility(false);
    vtkCamera* camera = d->renderer->GetActiveCamera();
    camera->ParallelProjectionOn();
    setPointSize(3.0);
    // One texel per framebuffer pixel, texel centres on pixel centres: nearest sampling gives
    // back the image exactly.
    d->raster_texture->SetInputData(d->raster);
    d->raster_texture->InterpolateOff();
    d->raster_texture->MipmapOff();
    d->raster_texture->RepeatOff();
    d->raster_texture->EdgeClampOn();
    d->raster_texture->SetColorModeToDirectScalars();
}

EmbeddingScene::~EmbeddingScene() = default;

void EmbeddingScene::initialize() {
    vtkGenericOpenGLRenderWindow* w = d->window;
    w->SetOwnContext(false);
    // VTK renders into its own framebuffer; by itself it would then copy colour and depth to a
    // "display" framebuffer and that colour to the current one (Qt's): two full-window passes,
    // one with depth, each a few ms on software GL. render() copies the colour straight to
    // Qt's framebuffer instead (SwapBuffers off skips VTK's own copies).
    w->SetFrameBlitModeToNoBlit();
    w->SwapBuffersOff();
    w->SetReadyForRendering(true);
    w->SetMapped(true);
    w->SetIsCurrent(true);
    w->OpenGLInitContext();
    d->initialized = true;
}

void EmbeddingScene::resize(int width_px, int height_px) {
    d->window->SetSize(std::max(width_px, 1), std::max(height_px, 1));
}

void EmbeddingScene::render() {
    if (!d->initialized) return;
    if (d->raster_mode && d->direct_upload && uploadRaster()) return;
    vtkOpenGLState* state = d->window->GetState();
    state->Reset();
    state->Push();
    // Qt leaves GL_LESS; VTK expects GL_LEQUAL.
    state->vtkglDepthFunc(0x0203 /* GL_LEQUAL */);
    d->renderer->ResetCameraClippingRange();
    d->window->Render();
    // The draw framebuffer is Qt's again (VTK restores the bindings it found): copy the colour.
    if (vtkOpenGLFramebufferObject* rendered = d->window->GetRenderFramebuffer()) {
        const int* size = d->window->GetSize();
        constexpr unsigned kReadFramebuffer = 0x8CA8, kColorBufferBit = 0x4000, kNearest = 0x2600,
                           kScissorTest = 0x0C11;
        state->PushReadFramebufferBinding();
        rendered->Bind(kReadFramebuffer);
        rendered->ActivateReadBuffer(0);
        state->vtkglDisable(kScissorTest);
        state->vtkglViewport(0, 0, size[0], size[1]);
        state->vtkglBlitFramebuffer(0, 0, size[0], size[1], 0, 0, size[0], size[1], kColorBufferBit,
                                    kNearest);
        state->PopReadFramebufferBinding();
    }
    state->Pop();
}

bool EmbeddingScene::uploadRaster() {
    // Drawn by VTK, the image would be two full-window passes on software GL (the background
    // quad, then the copy to Qt's framebuffer), ~10 ms a frame. Qt's framebuffer is a texture
    // (no multisampling): the image is copied into it directly, a memcpy. Otherwise VTK draws
    // it as its background texture.
    QOpenGLContext* context = QOpenGLContext::currentContext();
    int dims[3];
    d->raster->GetDimensions(dims);
    const int* size = d->window->GetSize();
    if (!context || !d->raster->GetPointData()->GetScalars() || dims[0] != size[0] ||
        dims[1] != size[1])
        return false;
    QOpenGLFunctions* f = context->functions();
    GLint type = 0, texture = 0, bound = 0, alignment = 4;
    f->glGetFramebufferAttachmentParameteriv(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
                                             GL_FRAMEBUFFER_ATTACHMENT_OBJECT_TYPE, &type);
    if (type != GL_TEXTURE) return false;
    f->glGetFramebufferAttachmentParameteriv(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0,
                                             GL_FRAMEBUFFER_ATTACHMENT_OBJECT_NAME, &texture);
    f->glGetIntegerv(GL_TEXTURE_BINDING_2D, &bound);
    f->glGetIntegerv(GL_UNPACK_ALIGNMENT, &alignment);
    f->glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(texture));
    f->glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    f->glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, dims[0], dims[1], GL_RGBA, GL_UNSIGNED_BYTE,
                       d->raster->GetScalarPointer());
    f->glPixelStorei(GL_UNPACK_ALIGNMENT, alignment);
    f->glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(bound));
    return f->glGetError() == GL_NO_ERROR;
}

void EmbeddingScene::release() {
    if (!d->initialized) return;
    d->window->Finalize();
    d->initialized = false;
}

void EmbeddingScene::setLayer(Layer layer, const float* xyz, const uint8_t* rgba,
                              const std::vector<int64_t>& ids) {
    d->layer(layer).gather(xyz, rgba, ids);
}

void EmbeddingScene::setLayerColors(Layer layer, const uint8_t* rgba,
                                    const std::vector<int64_t>& ids) {
    d->layer(layer).gatherColors(rgba, ids);
}

int64_t EmbeddingScene::layerSize(Layer layer) const {
    return d->layer(layer).count;
}

void EmbeddingScene::setBaseDimmed(bool dimmed, QColor color) {
    d->base.mapper->SetScalarVisibility(!dimmed);
    d->base.actor->GetProperty()->SetColor(color.redF(), color.greenF(), color.blueF());
}

void EmbeddingScene::setRasterMode(bool on) {
    if (on == d->raster_mode) return;
    d->raster_mode = on;
    d->renderer->SetTexturedBackground(on);
    d->renderer->SetBackgroundTexture(on ? d->raster_texture.Get() : nullptr);
    if (!on) d->raster->Initialize();  // the memory goes with the mode
}

void EmbeddingScene::setDirectRasterUpload(bool on) {
    d->direct_upload = on;
}

bool EmbeddingScene::rasterMode() const {
    return d->raster_mode;
}

uint8_t* EmbeddingScene::rasterImage(int& width_px, int& height_px) {
    const int* size = d->window->GetSize();
    width_px = std::max(size[0], 1);
    height_px = std::max(size[1], 1);
    int dims[3];
    d->raster->GetDimensions(dims);
    if (dims[0] != width_px || dims[1] != height_px || !d->raster->GetPointData()->GetScalars()) {
        d->raster->SetDimensions(width_px, height_px, 1);
        d->raster->AllocateScalars(VTK_UNSIGNED_CHAR, 4);
    }
    return static_cast<uint8_t*>(d->raster->GetScalarPointer());
}

void EmbeddingScene::rasterUpdated() {
    d->raster->GetPointData()->GetScalars()->Modified();
    d->raster->Modified();
}

void EmbeddingScene::setPointSize(double pixels) {
    d->base.actor->GetProperty()->SetPointSize(static_cast<float>(pixels));
    d->highlight.actor->GetProperty()->SetPointSize(static_cast<float>(highlightPointSize(pixels)));
}

void EmbeddingScene::setOpacity(double opacity) {
    d->base.actor->GetProperty()->SetOpacity(opacity);
    d->highlight.actor->GetProperty()->SetOpacity(highlightOpacity(opacity));
}

void EmbeddingScene::setBackground(QColor color) {
    d->renderer->SetBackground(color.redF(), color.greenF(), color.blueF());
}

QColor EmbeddingScene::background() const {
    double rgb[3];
    d->renderer->GetBackground(rgb);
    return QColor::fromRgbF(float(rgb[0]), float(rgb[1]), float(rgb[2]));
}

CameraState EmbeddingScene::camera() const {
    vtkCamera* c = d->renderer->GetActiveCamera();
    CameraState s;
    c->GetFocalPoint(s.focal.data());
    c->GetPosition(s.position.data());
    c->GetViewUp(s.view_up.data());
    s.parallel_scale = c->GetParallelScale();
    return s;
}

void EmbeddingScene::setCamera(const CameraState& s) {
    vtkCamera* c = d->renderer->GetActiveCamera();
    c->SetFocalPoint(s.focal.data());
    c->SetPosition(s.position.data());
    c->SetViewUp(s.view_up.data());
    c->SetParallelScale(s.parallel_scale);
    c->OrthogonalizeViewUp();
}

void EmbeddingScene::resetCamera(const std::array<double, 6>& b, bool three_d, double aspect) {
    CameraState s = three_d ? camera() : CameraState{};
    Vec3 center{(b[0] + b[1]) / 2, (b[2] + b[3]) / 2, (b[4] + b[5]) / 2};
    double half_w = std::max((b[1] - b[0]) / 2, 1e-9), half_h = std::max((b[3] - b[2]) / 2, 1e-9);
    double half_d = std::max((b[5] - b[4]) / 2, 0.0);
    double radius = std::sqrt(half_w * half_w + half_h * half_h + half_d * half_d);
    aspect = aspect > 0 ? aspect : 1.0;
    Vec3 direction = three_d ? normalized(sub(s.focal, s.position)) : Vec3{0, 0, -1};
    if (dot(direction, direction) == 0) direction = {0, 0, -1};
    s.focal = center;
    s.position = sub(center, scale(direction, 4 * radius + 1));
    if (!three_d) s.view_up = {0, 1, 0};
    s.parallel_scale =
        three_d ? radius / std::min(1.0, aspect) : 1.06 * std::max(half_h, half_w / aspect);
    setCamera(s);
}

void EmbeddingScene::zoomAt(double factor, QPointF p, QSizeF size) {
    if (!(factor > 0)) return;
    CameraState s = camera();
    Vec3 anchor = widgetToWorld(p, size);
    Vec3 shift = scale(sub(anchor, s.focal), 1.0 - 1.0 / factor);
    s.focal = add(s.focal, shift);
    s.position = add(s.position, shift);
    s.parallel_scale /= factor;
    setCamera(s);
}

void EmbeddingScene::pan(QPointF delta, QSizeF size) {
    CameraState s = camera();
    Frame f = frame_of(s, size.height());
    Vec3 shift = add(scale(f.right, -delta.x() * f.units_per_pixel),
                     scale(f.up, delta.y() * f.units_per_pixel));
    s.focal = add(s.focal, shift);
    s.position = add(s.position, shift);
    setCamera(s);
}

void EmbeddingScene::rotate(double azimuth, double elevation) {
    vtkCamera* c = d->renderer->GetActiveCamera();
    c->Azimuth(azimuth);
    c->Elevation(elevation);
    c->OrthogonalizeViewUp();
}

std::array<double, 3> EmbeddingScene::widgetToWorld(QPointF p, QSizeF size) const {
    CameraState s = camera();
    Frame f = frame_of(s, size.height());
    return add(s.focal, add(scale(f.right, (p.x() - size.width() / 2) * f.units_per_pixel),
                            scale(f.up, (size.height() / 2 - p.y()) * f.units_per_pixel)));
}

ScreenProjection EmbeddingScene::projection(QSizeF size) const {
    CameraState s = camera();
    Frame f = frame_of(s, size.height());
    ScreenProjection p;
    p.focal = s.focal;
    p.right = f.right;
    p.up = f.up;
    p.direction = normalized(sub(s.focal, s.position));
    p.pixels_per_unit = 1.0 / f.units_per_pixel;
    p.center_x = size.width() / 2;
    p.center_y = size.height() / 2;
    return p;
}

void EmbeddingScene::project(const float* xyz, int64_t n, QSizeF size,
                             std::vector<float>& out) const {
    CameraState s = camera();
    Frame f = frame_of(s, size.height());
    out.resize(static_cast<size_t>(2 * n));
    const double k = 1.0 / f.units_per_pixel, cx = size.width() / 2, cy = size.height() / 2;
#pragma omp parallel for schedule(static) if (n > 100000)
    for (int64_t i = 0; i < n; ++i) {
        Vec3 v{xyz[3 * i] - s.focal[0], xyz[3 * i + 1] - s.focal[1], xyz[3 * i + 2] - s.focal[2]};
        out[static_cast<size_t>(2 * i)] = static_cast<float>(cx + dot(v, f.right) * k);
        out[static_cast<size_t>(2 * i + 1)] = static_cast<float>(cy - dot(v, f.up) * k);
    }
}

}  // namespace transcura::widgets
