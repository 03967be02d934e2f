#include "color_maps.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace transcura::widgets {

namespace {

// scanpy's default_20 palette (matplotlib tab20 reordered), used for up to 20 categories.
constexpr std::array<const char*, 20> kDefault20 = {
    "#1f77b4", "#ff7f0e", "#279e68", "#d62728", "#aa40fc", "#8c564b", "#e377c2",
    "#b5bd61", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#dbdb8d", "#9edae5", "#ad494a", "#8c6d31"};

// Control points (equally spaced) of the matplotlib maps, interpolated to 256 steps.
constexpr std::array<uint32_t, 11> kViridis = {0x440154, 0x482475, 0x414487, 0x355f8d,
                                               0x2a788e, 0x21918c, 0x22a884, 0x44bf70,
                                               0x7ad151, 0xbddf26, 0xfde725};
constexpr std::array<uint32_t, 11> kMagma = {0x000004, 0x140e36, 0x3b0f70, 0x641a80,
                                             0x8c2981, 0xb73779, 0xde4968, 0xf7705c,
                                             0xfe9f6d, 0xfecf92, 0xfcfdbf};
constexpr std::array<uint32_t, 11> kCoolWarm = {0x3b4cc0, 0x5977e3, 0x7b9ff9, 0x9ebeff,
                                                0xc0d4f5, 0xdddcdc, 0xf2cbb7, 0xf7ac8e,
                                                0xee8468, 0xd65244, 0xb40426};

// Zero expression is a bluish grey, darker than the light grey of unselected cells behind a
// selection (EmbeddingView::dimmedColor): selected cells without the gene stay visible.
constexpr std::array<uint32_t, 6> kExpression = {0xc6cad3, 0xfdd49e, 0xfdbb84,
                                                 0xfc8d59, 0xd7301f, 0x7f0000};

template <size_t N>
std::vector<uint8_t> interpolate(const std::array<uint32_t, N>& stops) {
    std::vector<uint8_t> lut(256 * 4);
    for (int i = 0; i < 256; ++i) {
        double position = i / 255.0 * static_cast<double>(N - 1);
        size_t k = std::min(static_cast<size_t>(position), N - 2);
        double f = position - static_cast<double>(k);
        for (int c = 0; c < 3; ++c) {
            int shift = 16 - 8 * c;
            double a = (stops[k] >> shift) & 0xff, b = (stops[k + 1] >> shift) & 0xff;
            lut[static_cast<size_t>(4 * i + c)] =
                static_cast<uint8_t>(std::lround(a + (b - a) * f));
        }
        lut[static_cast<size_t>(4 * i + 3)] = 255;
    }
    return lut;
}

}  // namespace

std::vector<QColor> categorical_palette(int count) {
    std::vector<QColor> colors;
    colors.reserve(static_cast<size_t>(std::max(count, 0)));
    for (int i = 0; i < count; ++i) {
        if (count <= static_cast<int>(kDefault20.size())) {
            colors.emplace_back(QString::fromLatin1(kDefault20[static_cast<size_t>(i)]));
        } else {
            // Golden-angle hues with alternating lightness stay distinguishable for many groups.
            double hue = std::fmod(i * 137.508, 360.0);
            colors.push_back(QColor::fromHsl(static_cast<int>(hue), 170, i % 2 ? 110 : 150));
        }
    }
    return colors;
}

ColorMap::ColorMap(ColorMapKind kind) : kind_(kind) {
    switch (kind) {
        case ColorMapKind::Viridis:
            lut_ = interpolate(kViridis);
            break;
        case ColorMapKind::Magma:
            lut_ = interpolate(kMagma);
            break;
        case ColorMapKind::CoolWarm:
            lut_ = interpolate(kCoolWarm);
            break;
        case ColorMapKind::Expression:
            lut_ = interpolate(kExpression);
            break;
    }
}

QString ColorMap::name() const {
    switch (kind_) {
        case ColorMapKind::Viridis:
            return QStringLiteral("viridis");
        case ColorMapKind::Magma:
            return QStringLiteral("magma");
        case ColorMapKind::CoolWarm:
            return QStringLiteral("coolwarm");
        case ColorMapKind::Expression:
            return QStringLiteral("expression");
    }
    return {};
}

QColor ColorMap::at(double t) const {
    int i = std::isnan(t) ? 0 : static_cast<int>(std::lround(std::clamp(t, 0.0, 1.0) * 255.0));
    const uint8_t* c = lut_.data() + 4 * i;
    return QColor(c[0], c[1], c[2]);
}

void fill_categorical(const std::vector<int32_t>& codes, const std::vector<QColor>& palette,
                      uint8_t* rgba) {
    std::vector<uint8_t> table((palette.size() + 1) * 4);
    for (size_t k = 0; k <= palette.size(); ++k) {
        QColor c = k < palette.size() ? palette[k] : missing_color();
        table[4 * k] = static_cast<uint8_t>(c.red());
        table[4 * k + 1] = static_cast<uint8_t>(c.green());
        table[4 * k + 2] = static_cast<uint8_t>(c.blue());
        table[4 * k + 3] = 255;
    }
    const int64_t n = static_cast<int64_t>(codes.size());
    const int32_t k_missing = static_cast<int32_t>(palette.size());
#pragma omp parallel for schedule(static) if (n > 100000)
    for (int64_t i = 0; i < n; ++i) {
        int32_t code = codes[static_cast<size_t>(i)];
        if (code < 0 || code >= k_missing) code = k_missing;
        std::copy_n(table.data() + 4 * code, 4, rgba + 4 * i);
    }
}

void fill_continuous(const std::vector<float>& values, double lo, double hi, const ColorMap& map,
                     uint8_t* rgba) {
    const uint8_t* lut = map.lut();
    const QColor gray = missing_color();
    const uint8_t missing[4] = {static_cast<uint8_t>(gray.red()),
                                static_cast<uint8_t>(gray.green()),
                                static_cast<uint8_t>(gray.blue()), 255};
    const float scale = hi > lo ? static_cast<float>(255.0 / (hi - lo)) : 0.0f;
    const float offset = static_cast<float>(lo);
    const int64_t n = static_cast<int64_t>(values.size());
#pragma omp parallel for schedule(static) if (n > 100000)
    for (int64_t i = 0; i < n; ++i) {
        float v = values[static_cast<size_t>(i)];
        if (std::isnan(v)) {
            std::copy_n(missing, 4, rgba + 4 * i);
            continue;
        }
        float t = (v - offset) * scale + 0.5f;
        int k = t <= 0.0f ? 0 : (t >= 255.0f ? 255 : static_cast<int>(t));
        std::copy_n(lut + 4 * k, 4, rgba + 4 * i);
    }
}

void fill_uniform(int64_t n, QColor color, uint8_t* rgba) {
    const uint8_t c[4] = {static_cast<uint8_t>(color.red()), static_cast<uint8_t>(color.green()),
                          static_cast<uint8_t>(color.blue()), 255};
#pragma omp parallel for schedule(static) if (n > 100000)
    for (int64_t i = 0; i < n; ++i) std::copy_n(c, 4, rgba + 4 * i);
}

}  // namespace transcura::widgets
