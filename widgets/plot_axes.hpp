#pragma once
// Axes for the QPainter plots: linear or log10 mapping of data to pixels, "nice" ticks (1-2-5)
// and drawing of labelled axes. Used by the QC plots and the embedding's colour bar.
#include <vector>

#include <QPainter>
#include <QRectF>
#include <QString>

namespace transcura::widgets {

class Axis {
public:
    Axis() = default;
    Axis(double lo, double hi, bool log_scale = false);

    double lo() const { return lo_; }
    double hi() const { return hi_; }
    bool isLog() const { return log_; }
    /// Data value to a pixel coordinate between p0 (at lo) and p1 (at hi); NaN when the value
    /// cannot be shown (<= 0 on a log axis).
    double toPixel(double value, double p0, double p1) const;
    double fromPixel(double pixel, double p0, double p1) const;
    /// About `target` ticks at 1-2-5 steps (log axes: powers of ten, and 2/5 when few decades).
    std::vector<double> ticks(int target = 6) const;
    static QString format(double value);

private:
    double t(double value) const;  // the axis' internal (possibly log) coordinate
    double lo_ = 0, hi_ = 1;
    bool log_ = false;
};

/// "Nice" linear tick positions covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target);
/// The range of the finite values (positive ones for a log axis), widened a little for margins;
/// {0, 1} when there are none.
std::pair<double, double> padded_range(double lo, double hi, bool log_scale, double pad = 0.04);

/// Draws an x axis along the bottom of `plot` and a y axis along its left, with tick labels,
/// grid lines (light) and titles. Fonts come from the painter.
void draw_x_axis(QPainter& p, const QRectF& plot, const Axis& axis, const QString& title,
                 bool grid = true);
void draw_y_axis(QPainter& p, const QRectF& plot, const Axis& axis, const QString& title,
                 bool grid = true);

}  // namespace transcura::widgets
