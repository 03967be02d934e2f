#include "plot_axes.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace transcura::widgets {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
const QColor kAxisColor(60, 60, 60);
const QColor kGridColor(232, 232, 232);
}  // namespace

Axis::Axis(double lo, double hi, bool log_scale) : lo_(lo), hi_(hi), log_(log_scale) {
    if (log_) {
        if (!(lo_ > 0)) lo_ = 1e-3;
        if (!(hi_ > lo_)) hi_ = lo_ * 10;
    } else if (!(hi_ > lo_)) {
        double c = std::isfinite(lo_) ? lo_ : 0.0;
        lo_ = c - 0.5;
        hi_ = c + 0.5;
    }
}

double Axis::t(double value) const {
    if (!log_) return value;
    return value > 0 ? std::log10(value) : kNaN;
}

double Axis::toPixel(double value, double p0, double p1) const {
    double a = t(lo_), b = t(hi_), v = t(value);
    if (std::isnan(v)) return kNaN;
    return p0 + (v - a) / (b - a) * (p1 - p0);
}

double Axis::fromPixel(double pixel, double p0, double p1) const {
    double a = t(lo_), b = t(hi_);
    double v = a + (pixel - p0) / (p1 - p0) * (b - a);
    return log_ ? std::pow(10.0, v) : v;
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
    std::vector<double> ticks;
    if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return ticks;
    double raw = (hi - lo) / std::max(target, 1);
    double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
        ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
    return ticks;
}

std::vector<double> Axis::ticks(int target) const {
    if (!log_) return nice_ticks(lo_, hi_, target);
    std::vector<double> ticks;
    double a = std::floor(std::log10(lo_)), b = std::ceil(std::log10(hi_));
    double decades = b - a;
    for (double e = a; e <= b; e += 1.0) {
        double base = std::pow(10.0, e);
        std::vector<double> mantissas = {1.0};
        if (decades <= 2) mantissas = {1.0, 2.0, 5.0};
        if (decades > 6) mantissas = {};  // every other decade below
        if (decades > 6 && static_cast<long>(e) % 2 == 0) mantissas = {1.0};
        for (double m : mantissas) {
            double v = m * base;
            if (v >= lo_ * (1 - 1e-9) && v <= hi_ * (1 + 1e-9)) ticks.push_back(v);
        }
    }
    return ticks;
}

QString Axis::format(double value) {
    double a = std::abs(value);
    if (a == 0) return QStringLiteral("0");
    if (a >= 1e5 || a < 1e-3) return QString::number(value, 'g', 2);
    if (a >= 1000 && std::fmod(a, 1000.0) == 0) return QStringLiteral("%1k").arg(value / 1000.0);
    return QString::number(value, 'g', 4);
}

std::pair<double, double> padded_range(double lo, double hi, bool log_scale, double pad) {
    if (!std::isfinite(lo) || !std::isfinite(hi))
        return {log_scale ? 1.0 : 0.0, log_scale ? 10.0 : 1.0};
    if (log_scale) {
        lo = std::max(lo, 1e-3);
        hi = std::max(hi, lo * 1.0001);
        double a = std::log10(lo), b = std::log10(hi), m = (b - a) * pad + 0.02;
        return {std::pow(10.0, a - m), std::pow(10.0, b + m)};
    }
    if (hi <= lo) return {lo - 0.5, hi + 0.5};
    double m = (hi - lo) * pad;
    return {lo - m, hi + m};
}

void draw_x_axis(QPainter& p, const QRectF& plot, const Axis& axis, const QString& title,
                 bool grid) {
    p.save();
    QFontMetricsF fm(p.font());
    for (double v : axis.ticks(std::max(2, static_cast<int>(plot.width() / 90)))) {
        double x = axis.toPixel(v, plot.left(), plot.right());
        if (std::isnan(x) || x < plot.left() - 0.5 || x > plot.right() + 0.5) continue;
        if (grid) {
            p.setPen(QPen(kGridColor, 1));
            p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()));
        }
        p.setPen(QPen(kAxisColor, 1));
        p.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 4));
        QString label = Axis::format(v);
        double w = fm.horizontalAdvance(label);
        p.drawText(QPointF(x - w / 2, plot.bottom() + 6 + fm.ascent()), label);
    }
    p.setPen(QPen(kAxisColor, 1));
    p.drawLine(plot.bottomLeft(), plot.bottomRight());
    QFont bold = p.font();
    bold.setBold(true);
    p.setFont(bold);
    QString text = axis.isLog() ? title + QStringLiteral(" (log scale)") : title;
    double w = QFontMetricsF(bold).horizontalAdvance(text);
    p.drawText(QPointF(plot.center().x() - w / 2, plot.bottom() + 10 + 2 * fm.height()), text);
    p.restore();
}

void draw_y_axis(QPainter& p, const QRectF& plot, const Axis& axis, const QString& title,
                 bool grid) {
    p.save();
    QFontMetricsF fm(p.font());
    double widest = 0;
    for (double v : axis.ticks(std::max(2, static_cast<int>(plot.height() / 45)))) {
        double y = axis.toPixel(v, plot.bottom(), plot.top());
        if (std::isnan(y) || y < plot.top() - 0.5 || y > plot.bottom() + 0.5) continue;
        if (grid) {
            p.setPen(QPen(kGridColor, 1));
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y));
        }
        p.setPen(QPen(kAxisColor, 1));
        p.drawLine(QPointF(plot.left() - 4, y), QPointF(plot.left(), y));
        QString label = Axis::format(v);
        double w = fm.horizontalAdvance(label);
        widest = std::max(widest, w);
        p.drawText(QPointF(plot.left() - 6 - w, y + fm.ascent() / 2 - 1), label);
    }
    p.setPen(QPen(kAxisColor, 1));
    p.drawLine(plot.bottomLeft(), plot.topLeft());
    if (!title.isEmpty()) {
        QFont bold = p.font();
        bold.setBold(true);
        p.setFont(bold);
        QString text = axis.isLog() ? title + QStringLiteral(" (log)") : title;
        double w = QFontMetricsF(bold).horizontalAdvance(text);
        p.translate(plot.left() - 10 - widest - fm.descent(), plot.center().y() + w / 2);
        p.rotate(-90);
        p.drawText(QPointF(0, 0), text);
    }
    p.restore();
}

}  // namespace transcura::widgets
