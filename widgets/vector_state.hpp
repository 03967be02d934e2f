#pragma once
// Why the hot loops of the widgets start with clear_upper_vector_state(): on this project's
// reference machine (Debian 12, a Xeon with AVX-512), some library code the GUI thread runs
// (glibc's AVX-512 memset/memmove, Qt's image fills, Mesa's JIT) returns with the upper halves
// of the vector registers dirty. Code compiled for the x86-64 baseline uses the legacy SSE
// encoding, and every such instruction then pays a state-transition penalty: measured on the
// QC scatter's raster of 1M cells, 424 ms before and 26 ms after a vzeroupper. A vzeroupper
// costs a cycle and is only issued on CPUs with AVX; code compiled with AVX itself (VEX
// encoding) has no such penalty, so nothing is done there.
namespace transcura::widgets {

inline void clear_upper_vector_state() {
#if defined(__x86_64__) && !defined(__AVX__) && (defined(__GNUC__) || defined(__clang__))
    static const bool has_avx = __builtin_cpu_supports("avx");
    if (has_avx) __asm__ volatile("vzeroupper" ::: "memory");
#endif
}

}  // namespace transcura::widgets
