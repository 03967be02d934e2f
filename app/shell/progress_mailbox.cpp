#include "progress_mailbox.hpp"

#include <utility>

#include <QMetaObject>

namespace transcura::shell {

std::shared_ptr<ProgressMailbox> ProgressMailbox::create(QObject* receiver, Deliver deliver) {
    return std::shared_ptr<ProgressMailbox>(new ProgressMailbox(receiver, std::move(deliver)));
}

ProgressMailbox::ProgressMailbox(QObject* receiver, Deliver deliver)
    : receiver_(receiver), deliver_(std::move(deliver)) {}

void ProgressMailbox::post(double fraction, const std::string& what) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        fraction_ = fraction;
        what_ = what;
    }
    if (closed_ || posted_.exchange(true)) return;  // a delivery is already on its way
    // The queued call holds the mailbox; Qt drops it if the receiver is destroyed first.
    QMetaObject::invokeMethod(
        receiver_, [self = shared_from_this()] { self->deliver(); }, Qt::QueuedConnection);
}

void ProgressMailbox::close() {
    closed_ = true;
}

void ProgressMailbox::deliver() {
    double fraction;
    std::string what;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        // Cleared under the lock: a report arriving after this queues a new delivery.
        posted_ = false;
        fraction = fraction_;
        what = what_;
    }
    if (!closed_ && deliver_) deliver_(fraction, QString::fromStdString(what));
}

}  // namespace transcura::shell
