// Driver for bench/bench_umap.py (compiled by it against the built transcura_core; never a
// test). Raw little-endian files: embeddings float64 row-major, neighbour indices int64.
//
//   bench_umap knn PCS N D K PREFIX THREADS     knn_graph -> PREFIX_idx.bin, PREFIX_dist.bin
//   bench_umap umap PREFIX N K THREADS SEED OUT  UMAP of that kNN (defaults, min_dist 0.5)
// Each prints one JSON object with the seconds of its phases.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "transcura/knn.hpp"
#include "transcura/umap.hpp"

using namespace transcura;

namespace {

template <typename T>
std::vector<T> read_raw(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "bench_umap: cannot open %s\n", path.c_str());
        std::exit(1);
    }
    in.seekg(0, std::ios::end);
    const size_t bytes = static_cast<size_t>(in.tellg());
    in.seekg(0);
    std::vector<T> values(bytes / sizeof(T));
    in.read(reinterpret_cast<char*>(values.data()), static_cast<std::streamsize>(bytes));
    return values;
}

template <typename T>
void write_raw(const std::string& path, const std::vector<T>& values) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(T)));
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return 2;
    const std::string command = argv[1];
    if (command == "knn" && argc == 8) {
        DenseD pcs;
        pcs.values = read_raw<double>(argv[2]);
        pcs.n_rows = std::atoll(argv[3]);
        pcs.n_cols = std::atoll(argv[4]);
        KnnOptions options;
        options.k = std::atoi(argv[5]);
        options.control.num_threads = std::atoi(argv[7]);
        const auto start = std::chrono::steady_clock::now();
        KnnResults knn = knn_graph(pcs, options);
        const double seconds = seconds_since(start);
        write_raw(std::string(argv[6]) + "_idx.bin", knn.neighbors.indices);
        write_raw(std::string(argv[6]) + "_dist.bin", knn.neighbors.distances);
        std::printf("{\"seconds\": %.4f, \"exact\": %s}\n", seconds, knn.exact ? "true" : "false");
        return 0;
    }
    if (command == "umap" && argc == 8) {
        NeighborLists knn;
        knn.k = std::atoi(argv[4]);
        knn.indices = read_raw<int64_t>(std::string(argv[2]) + "_idx.bin");
        knn.distances = read_raw<double>(std::string(argv[2]) + "_dist.bin");
        knn.n_queries = std::atoll(argv[3]);
        UmapOptions options;
        options.control.num_threads = std::atoi(argv[5]);
        options.seed = std::strtoull(argv[6], nullptr, 10);
        const auto start = std::chrono::steady_clock::now();
        UmapLayout layout(knn, options);
        layout.initialize();
        const double init_seconds = seconds_since(start);
        const auto sgd_start = std::chrono::steady_clock::now();
        layout.run_to_end();
        const double sgd_seconds = seconds_since(sgd_start);
        write_raw(argv[7], layout.layout().values);
        std::printf(
            "{\"init\": %.4f, \"sgd\": %.4f, \"total\": %.4f, \"epochs\": %d, "
            "\"spectral\": %s}\n",
            init_seconds, sgd_seconds, init_seconds + sgd_seconds, layout.n_epochs(),
            layout.spectral_init_used() ? "true" : "false");
        return 0;
    }
    std::fprintf(stderr,
                 "usage: bench_umap knn PCS N D K PREFIX THREADS | umap PREFIX N K "
                 "THREADS SEED OUT\n");
    return 2;
}
