# bench_gui: the GUI benchmark (bench/bench_gui.cpp), built only with -DTRANSCURA_BUILD_BENCH=ON
# and never registered with ctest (its figures depend on the machine). Included from the top
# CMakeLists.txt after app/, so transcura::appshell exists.
find_package(Qt6 REQUIRED COMPONENTS Widgets Test)
add_executable(bench_gui ${CMAKE_CURRENT_LIST_DIR}/bench_gui.cpp)
target_link_libraries(bench_gui PRIVATE transcura::appshell transcura::widgets transcura::core
                      Qt6::Widgets Qt6::Test)
