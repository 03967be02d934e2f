#pragma once
// Work split over event-loop turns (a cohort's hand-off to the docks, the QC panel's rebuild,
// the cohort table's rows), so that no turn holds the GUI thread for long.
#include <utility>

#include <QTimer>

namespace transcura::widgets {

/// The gap between two steps of such work. A short timer, not a zero one: Qt runs the events
/// posted in a turn (a zero timer's call among them) together with the paint of what the last
/// step changed, without servicing timers and input in between; only a timer lets the event
/// loop come back first (measured: one 480 ms stall at 1M cells became two).
inline constexpr int kLaterTurnMs = 5;

/// Calls `step` in a later event-loop turn, unless `context` is destroyed first.
template <typename Step>
void in_a_later_turn(QObject* context, Step&& step) {
    QTimer::singleShot(kLaterTurnMs, context, std::forward<Step>(step));
}

}  // namespace transcura::widgets
