#include "background_pool.hpp"

#include <algorithm>

namespace transcura::widgets {

namespace {

struct BackgroundPool : QThreadPool {
    BackgroundPool() {
        setObjectName(QStringLiteral("transcuraBackgroundPool"));
        setMaxThreadCount(std::max(4, QThread::idealThreadCount() + 2));
    }
};

Q_GLOBAL_STATIC(BackgroundPool, pool)

}  // namespace

QThreadPool* background_pool() {
    return pool();
}

}  // namespace transcura::widgets
