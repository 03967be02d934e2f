#include "background_pool.hpp"

#include <algorithm>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

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

void lower_this_thread_priority() {
#if defined(__linux__)
    // Linux's nice value is per thread, and threads inherit it: the OpenMP team this thread
    // starts later runs at it too. (Qt's thread priorities do nothing under SCHED_OTHER but
    // IdlePriority, SCHED_IDLE, which would starve the jobs behind any other process.)
    thread_local bool lowered = false;
    if (lowered) return;
    lowered = true;
    const auto tid = static_cast<id_t>(syscall(SYS_gettid));
    const int now = getpriority(PRIO_PROCESS, tid);
    if (now < 10) setpriority(PRIO_PROCESS, tid, 10);
#endif
}

}  // namespace transcura::widgets
