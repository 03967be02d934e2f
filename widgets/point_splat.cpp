#include "point_splat.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <omp.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace transcura::widgets {

namespace {

using Square = PointSplatter::Square;

// Rows are dealt out in bands of kBandRows to kGroups groups in turn (a square, at most 31 rows,
// spans at most two bands), so any cloud gives each group a similar share; points are taken in
// chunks. Both are handed to threads as they come free: a thread that a busy machine holds
// back delays one chunk or group, not half the picture.
constexpr int kBandRows = 32;
constexpr int kGroups = 16;
constexpr int64_t kChunkPoints = 65536;

/// llvmpipe snaps window positions to 1/256 pixel. A column i is covered when its centre is in
/// [x - s/2, x + s/2) and a row j when its centre is in (y - s/2, y + s/2] (GL's lower-left
/// origin and llvmpipe's bottom-edge rule). (No llround: a libm call per coordinate made the
/// whole splat twice as slow.)
int64_t snap(double v) {
#if defined(__SSE2__)
    return _mm_cvtsd_si64(_mm_set_sd(v * 256.0));  // to nearest even, as llvmpipe's lrintf
#else
    return std::lrint(v * 256.0);
#endif
}

uint32_t with_opacity(uint32_t rgba, double opacity) {
    if (opacity >= 1) return rgba;
    const double a = std::clamp((rgba >> 24) * opacity, 0.0, 255.0);
    return (rgba & 0x00ffffffu) | (static_cast<uint32_t>(a + 0.5) << 24);
}

uint32_t blend(uint32_t src, uint32_t dst) {
    const uint32_t a = src >> 24;
    if (a == 255) return src;
    if (a == 0) return dst;
    uint32_t out = 0;
    for (int c = 0; c < 3; ++c) {
        const uint32_t s = (src >> (8 * c)) & 0xff, d = (dst >> (8 * c)) & 0xff;
        out |= ((s * a + d * (255 - a) + 127) / 255) << (8 * c);
    }
    const uint32_t da = dst >> 24;
    out |= std::min<uint32_t>(255, a + (da * (255 - a) + 127) / 255) << 24;
    return out;
}

/// The layer's points in drawing order: its ids, or every stride-th point.
struct LayerPoints {
    const SplatLayer& layer;
    int64_t n;
    int64_t count() const {
        if (layer.ids) return static_cast<int64_t>(layer.ids->size());
        const int64_t stride = std::max<int64_t>(1, layer.stride);
        return (n + stride - 1) / stride;
    }
    int64_t at(int64_t k) const {
        if (layer.ids) return (*layer.ids)[static_cast<size_t>(k)];
        return k * std::max<int64_t>(1, layer.stride);
    }
};

}  // namespace

int64_t PointSplatter::draw(const float* xyz, int64_t n, const ScreenProjection& projection,
                            const std::vector<SplatLayer>& layers, const SplatOptions& options,
                            SplatImage image) {
    const int width = image.width, height = image.height;
    if (width <= 0 || height <= 0 || width > 32000 || height > 32000 || !image.pixels) return 0;
    const int threads = options.num_threads > 0 ? options.num_threads : omp_get_max_threads();
    uint32_t* pixels = reinterpret_cast<uint32_t*>(image.pixels);
    const bool use_depth = options.use_depth;
    if (use_depth) depth_.resize(static_cast<size_t>(int64_t(width) * height));
    const int groups = std::min(kGroups, (height + kBandRows - 1) / kBandRows);
    row_group_.resize(static_cast<size_t>(height));
    for (int y = 0; y < height; ++y)
        row_group_[static_cast<size_t>(y)] = static_cast<uint8_t>((y / kBandRows) % groups);
    const uint8_t* group_of = row_group_.data();
    // The rows of group g, in order (each group clears its own: the background, a layer's depth).
    auto for_group_rows = [&](int g, auto&& row_work) {
        for (int y0 = g * kBandRows; y0 < height; y0 += groups * kBandRows)
            for (int y = y0; y < std::min(height, y0 + kBandRows); ++y) row_work(y);
    };

    int64_t drawn = 0;
    if (layers.empty()) {  // the background alone (otherwise the first layer clears the image)
        std::fill_n(pixels, int64_t(width) * height,
                    options.write_ids ? kNoPoint : options.background);
        return 0;
    }
    for (size_t l = 0; l < layers.size(); ++l) {
        const SplatLayer& layer = layers[l];
        const LayerPoints points{layer, n};
        const int64_t m = points.count();
        const int64_t chunks = (m + kChunkPoints - 1) / kChunkPoints;
        if (buckets_.size() < static_cast<size_t>(chunks * groups))
            buckets_.resize(static_cast<size_t>(chunks * groups));
        // Sides up to 31 pixels (the view's sizes are 1..30, the highlight one more).
        const double side = std::clamp(layer.point_size, 1.0, 31.0);
        // Edges relative to the snapped centre, in 1/256 pixel: the half side and GL's
        // half-pixel offset of fragment centres.
        const int64_t low_edge = snap(-side / 2 - 0.5), high_edge = snap(side / 2 - 0.5);
        const uint32_t uniform = with_opacity(layer.uniform, layer.opacity);
        const bool per_point_colour = layer.rgba != nullptr;
        const bool clear = l == 0;
        const bool ids = options.write_ids;
        const uint32_t background = ids ? kNoPoint : options.background;
#pragma omp parallel num_threads(threads) reduction(+ : drawn)
        {
            // Pass 1: the points' squares, each chunk's in order, into its groups' buckets.
#pragma omp for schedule(dynamic, 1)
            for (int64_t c = 0; c < chunks; ++c) {
                std::vector<Square>* bucket = buckets_.data() + c * groups;
                for (int g = 0; g < groups; ++g) bucket[g].clear();
                const int64_t end = std::min(m, (c + 1) * kChunkPoints);
                for (int64_t k = c * kChunkPoints; k < end; ++k) {
                    const int64_t i = points.at(k);
                    if (i < 0 || i >= n || (layer.visible && !layer.visible[i])) continue;
                    float wx, wy, d;
                    projection.apply(xyz + 3 * i, wx, wy, d);
                    if (!(std::abs(wx) < 1e6f && std::abs(wy) < 1e6f)) continue;  // NaN too
                    // GL window coordinates (y up), snapped; >> is a floor division in C++20.
                    const int64_t gx = snap(wx), gy = snap(height - double(wy));
                    const int64_t x0 = (gx + low_edge + 255) >> 8;
                    const int64_t x1 = ((gx + high_edge + 255) >> 8) - 1;
                    const int64_t y0 = ((gy + low_edge) >> 8) + 1;
                    const int64_t y1 = (gy + high_edge) >> 8;
                    if (x1 < 0 || y1 < 0 || x0 >= width || y0 >= height || x1 < x0 || y1 < y0)
                        continue;
                    uint32_t color = uniform;
                    if (ids) {
                        color = static_cast<uint32_t>(i);
                    } else if (per_point_colour) {
                        std::memcpy(&color, layer.rgba + 4 * i, 4);
                        color = with_opacity(color, layer.opacity);
                    }
                    // On the image, x0 and y0 are above -32 and below 32000: int16 holds them.
                    const Square s{static_cast<int16_t>(x0),
                                   static_cast<int16_t>(y0),
                                   static_cast<uint8_t>(x1 - x0 + 1),
                                   static_cast<uint8_t>(y1 - y0 + 1),
                                   color,
                                   d};
                    const int g0 = group_of[std::max<int64_t>(y0, 0)];
                    const int g1 = group_of[std::min<int64_t>(y1, height - 1)];
                    bucket[g0].push_back(s);
                    if (g1 != g0) bucket[g1].push_back(s);
                    ++drawn;
                }
            }
            // Pass 2: each group clears its rows, then draws its squares, chunk after chunk.
#pragma omp for schedule(dynamic, 1)
            for (int g = 0; g < groups; ++g) {
                for_group_rows(g, [&](int y) {
                    if (clear) std::fill_n(pixels + int64_t(y) * width, width, background);
                    if (use_depth)
                        std::fill_n(depth_.data() + int64_t(y) * width, width,
                                    std::numeric_limits<float>::infinity());
                });
                for (int64_t c = 0; c < chunks; ++c) {
                    for (const Square& s : buckets_[static_cast<size_t>(c * groups + g)]) {
                        const int sy0 = std::max<int>(s.y0, 0);
                        const int sy1 = std::min<int>(s.y0 + s.height - 1, height - 1);
                        const bool all_mine = group_of[sy0] == g && group_of[sy1] == g;
                        const int x0 = std::max<int>(s.x0, 0);
                        const int x1 = std::min<int>(s.x0 + s.width - 1, width - 1);
                        const bool opaque = ids || (s.color >> 24) == 255;
                        for (int y = sy0; y <= sy1; ++y) {
                            if (!all_mine && group_of[y] != g) continue;
                            uint32_t* row = pixels + int64_t(y) * width;
                            if (use_depth) {
                                float* zrow = depth_.data() + int64_t(y) * width;
                                for (int x = x0; x <= x1; ++x)
                                    if (s.depth <= zrow[x]) {
                                        zrow[x] = s.depth;
                                        row[x] = opaque ? s.color : blend(s.color, row[x]);
                                    }
                            } else if (opaque) {
                                const int w = x1 - x0 + 1;
                                if (w == 3) {  // the default size: three stores, no loop
                                    row[x0] = row[x0 + 1] = row[x0 + 2] = s.color;
                                } else {
                                    std::fill_n(row + x0, std::max(w, 0), s.color);
                                }
                            } else {
                                for (int x = x0; x <= x1; ++x) row[x] = blend(s.color, row[x]);
                            }
                        }
                    }
                }
            }
        }
    }
    return drawn;
}

void resolve_point_ids(const uint32_t* base, const uint32_t* top, int64_t pixels,
                       const uint8_t* rgba, const uint32_t* base_uniform, uint32_t background,
                       uint8_t* out) {
    uint32_t* dst = reinterpret_cast<uint32_t*>(out);
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < pixels; ++p) {
        uint32_t color = background;
        if (top && top[p] != kNoPoint) {
            std::memcpy(&color, rgba + 4 * int64_t(top[p]), 4);
        } else if (base[p] != kNoPoint) {
            if (base_uniform)
                color = *base_uniform;
            else
                std::memcpy(&color, rgba + 4 * int64_t(base[p]), 4);
        }
        dst[p] = color;
    }
}

}  // namespace transcura::widgets
