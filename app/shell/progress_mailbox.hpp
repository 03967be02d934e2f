#pragma once
// The latest progress of a background job, handed to the GUI thread. A worker reports far more
// often than the window can repaint; each report overwrites the slot, and only the first report
// since the last delivery queues a call on the receiver's thread, which takes whatever is latest
// then. So the event loop holds at most one pending progress call per job however fast the
// worker reports, and the GUI always shows the newest value.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <QObject>
#include <QString>

namespace transcura::shell {

class ProgressMailbox : public std::enable_shared_from_this<ProgressMailbox> {
public:
    /// Called on the receiver's thread with the latest report.
    using Deliver = std::function<void(double fraction, const QString& what)>;

    /// `receiver` (not owned) decides the thread deliveries run on; it must outlive every
    /// post() (the controllers wait for their job before they are destroyed), and Qt drops a
    /// delivery still queued when it is destroyed. Shared, since queued deliveries hold it.
    static std::shared_ptr<ProgressMailbox> create(QObject* receiver, Deliver deliver);

    /// From any thread: the newest report replaces the one not yet delivered.
    void post(double fraction, const std::string& what);
    /// On the receiver's thread: no further delivery (e.g. the job finished or was superseded;
    /// a delivery already queued then does nothing).
    void close();

    ProgressMailbox(const ProgressMailbox&) = delete;
    ProgressMailbox& operator=(const ProgressMailbox&) = delete;

private:
    ProgressMailbox(QObject* receiver, Deliver deliver);
    void deliver();

    QObject* receiver_;
    Deliver deliver_;
    std::mutex mutex_;
    double fraction_ = -1;
    std::string what_;
    std::atomic<bool> posted_{false};
    std::atomic<bool> closed_{false};
};

}  // namespace transcura::shell
