#pragma once
// Palettes and colour maps for the embedding and the plots, and the fast conversion of per-cell
// codes or values into an RGBA byte array (4 bytes per cell, written in place, in parallel).
#include <cstdint>
#include <vector>

#include <QColor>
#include <QString>

namespace transcura::widgets {

/// `count` distinguishable colours: scanpy's 20-colour default, then golden-angle hues.
std::vector<QColor> categorical_palette(int count);

/// Continuous colour maps sampled in 256 steps.
/// Expression: light grey through orange to dark red, so that unexpressed cells recede on a
/// white background.
enum class ColorMapKind { Viridis, Magma, CoolWarm, Expression };
class ColorMap {
public:
    explicit ColorMap(ColorMapKind kind = ColorMapKind::Viridis);
    ColorMapKind kind() const { return kind_; }
    QString name() const;
    /// t in [0, 1] (clamped).
    QColor at(double t) const;
    const uint8_t* lut() const { return lut_.data(); }  // 256 x RGBA

private:
    ColorMapKind kind_;
    std::vector<uint8_t> lut_;
};

/// The colour of cells whose value or category is missing.
inline QColor missing_color() {
    return QColor(200, 200, 200);
}

/// rgba[4 i ...] = palette[codes[i]] (missing_color() for codes out of range).
void fill_categorical(const std::vector<int32_t>& codes, const std::vector<QColor>& palette,
                      uint8_t* rgba);
/// rgba[4 i ...] = map((values[i] - lo) / (hi - lo)); NaN gets missing_color().
void fill_continuous(const std::vector<float>& values, double lo, double hi, const ColorMap& map,
                     uint8_t* rgba);
/// Every cell the same colour.
void fill_uniform(int64_t n, QColor color, uint8_t* rgba);

}  // namespace transcura::widgets
