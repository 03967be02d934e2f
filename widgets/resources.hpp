#pragma once
// The compiled-in resources (resources/transcura.qrc): the app icon at :/transcura/icons/.
namespace transcura::widgets {
/// Registers the resources of the static widgets library; call once before using them.
void init_resources();
}  // namespace transcura::widgets
