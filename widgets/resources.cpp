#include "resources.hpp"

#include <QtCore/qglobal.h>

// Q_INIT_RESOURCE declares an extern function: it must be used outside any namespace.
static void init_transcura_resources() {
    Q_INIT_RESOURCE(transcura);
}

namespace transcura::widgets {
void init_resources() {
    init_transcura_resources();
}
}  // namespace transcura::widgets
