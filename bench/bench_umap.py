#!/usr/bin/python3
"""UMAP benchmark: Transcura's UMAP against umap-learn 0.5 on the same kNN table, at ~20k and
100k cells. A script, never a test: timings depend on the machine and its load.

For each size: clustered synthetic PCs (50 dimensions, 20 Gaussian clusters of varied sizes and
widths plus two continuous trajectories, fixed seed), one kNN table (Transcura's knn_graph,
k 15, the cell itself first) fed to both, then
  - ours: bench_umap.cpp driver (fuzzy set + spectral init + SGD, min_dist 0.5, default epochs),
  - umap-learn: fuzzy_simplicial_set + simplicial_set_embedding, as scanpy.tl.umap calls them,
    once seeded (parallel=False: umap-learn's only deterministic mode) and once unseeded with
    numba's parallel SGD (non-deterministic), after a warm-up that JIT-compiles numba's code,
  - trustworthiness (scikit-learn, k 15) of each layout on the same random 5000-cell subsample.
Wall-clock seconds, with NUMBA_NUM_THREADS and our thread count both set to --threads.

usage: bench/bench_umap.py [--sizes 20000,100000] [--threads 2] [--build DIR] [--workdir DIR]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def build_driver(build_dir, out):
    lib = os.path.join(build_dir, "core", "libtranscura_core.a")
    if not os.path.exists(lib):
        sys.exit(f"bench_umap: {lib} not found: build transcura_core first")
    igraph = subprocess.run(["pkg-config", "--libs", "igraph"], capture_output=True,
                            text=True, check=True).stdout.split()
    cmd = ["g++", "-O2", "-std=c++20", "-I", os.path.join(ROOT, "core", "include"),
           os.path.join(HERE, "bench_umap.cpp"), lib, "-fopenmp", "-pthread", "-o", out] + \
        igraph + ["-lhdf5_serial", "-lz", "-llzf"]
    subprocess.run(cmd, check=True)


def synthetic_pcs(n, d=50, seed=0):
    rng = np.random.default_rng(seed)
    n_clusters = 20
    sizes = rng.dirichlet(np.full(n_clusters, 1.5)) * n * 0.9
    sizes = np.maximum(sizes.astype(int), 20)
    trajectory = (n - sizes.sum()) // 2
    centres = rng.normal(scale=6.0, size=(n_clusters, d))
    blocks = []
    for c in range(n_clusters):
        scale = rng.uniform(0.5, 2.0) * np.exp(-np.arange(d) / 15.0)
        blocks.append(centres[c] + rng.normal(size=(sizes[c], d)) * scale)
    for t in range(2):
        a, b = centres[2 * t], centres[2 * t + 1]
        s = rng.uniform(size=(trajectory, 1))
        blocks.append(a + s * (b - a) + rng.normal(scale=0.6, size=(trajectory, d)))
    pcs = np.vstack(blocks)
    pcs = pcs[: n] if pcs.shape[0] >= n else np.vstack([pcs, pcs[: n - pcs.shape[0]] + 0.01])
    return np.ascontiguousarray(pcs[rng.permutation(n)])


def umap_learn(pcs, idx, dist, seed, parallel):
    """Returns the layout, the fuzzy-set seconds, wall seconds and CPU seconds (all threads)."""
    from umap.umap_ import find_ab_params, fuzzy_simplicial_set, simplicial_set_embedding
    random_state = np.random.RandomState(seed) if seed is not None else np.random.RandomState()
    cpu_start = time.process_time()
    start = time.perf_counter()
    graph, _, _ = fuzzy_simplicial_set(pcs, idx.shape[1], random_state, "euclidean",
                                       knn_indices=idx, knn_dists=dist)
    fuzzy = time.perf_counter() - start
    a, b = find_ab_params(1.0, 0.5)
    emb, _ = simplicial_set_embedding(pcs, graph, 2, 1.0, a, b, 1.0, 5, None, "spectral",
                                      random_state, "euclidean", {}, False, {}, False,
                                      parallel=parallel)
    return emb, fuzzy, time.perf_counter() - start, time.process_time() - cpu_start


def run_child(cmd):
    """Runs a driver command; returns its JSON and the CPU seconds it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(out), cpu


def trust(pcs, emb, subsample):
    from sklearn.manifold import trustworthiness
    return float(trustworthiness(pcs[subsample], emb[subsample], n_neighbors=15))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="20000,100000")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    import warnings
    warnings.filterwarnings("ignore")

    work = args.workdir or tempfile.mkdtemp(prefix="bench_umap_")
    driver = os.path.join(work, "bench_umap")
    build_driver(args.build, driver)

    # Warm-up: numba compiles umap-learn's kernels on first use (tens of seconds); not counted.
    warm = synthetic_pcs(2000, seed=1)
    from sklearn.neighbors import NearestNeighbors
    wd, wi = NearestNeighbors(n_neighbors=15).fit(warm).kneighbors(warm)
    umap_learn(warm, wi, wd, 0, False)
    umap_learn(warm, wi, wd, None, True)

    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        pcs = synthetic_pcs(n)
        d = pcs.shape[1]
        pcs_path = os.path.join(work, f"pcs_{n}.bin")
        pcs.astype("<f8").tofile(pcs_path)
        prefix = os.path.join(work, f"knn_{n}")
        knn, _ = run_child(
            [driver, "knn", pcs_path, str(n), str(d), "15", prefix, str(args.threads)])
        idx = np.fromfile(prefix + "_idx.bin", dtype="<i8").reshape(n, 15)
        dist = np.fromfile(prefix + "_dist.bin", dtype="<f8").reshape(n, 15)
        ours_path = os.path.join(work, f"ours_{n}.bin")
        ours, ours_cpu = run_child(
            [driver, "umap", prefix, str(n), "15", str(args.threads), "0", ours_path])
        ours_emb = np.fromfile(ours_path, dtype="<f8").reshape(n, 2)
        # One thread: the same layout (the epochs do not depend on the thread count).
        one, one_cpu = run_child(
            [driver, "umap", prefix, str(n), "15", "1", "0", ours_path + ".1"])
        same = bool(np.array_equal(np.fromfile(ours_path + ".1", dtype="<f8"), ours_emb.ravel()))
        seeded_emb, _, seeded_total, seeded_cpu = umap_learn(pcs, idx, dist, 0, False)
        parallel_emb, parallel_fuzzy, parallel_total, parallel_cpu = umap_learn(
            pcs, idx, dist, None, True)
        subsample = np.random.default_rng(7).choice(n, size=min(n, 5000), replace=False)
        row = {
            "n": n, "knn_seconds": knn["seconds"], "knn_exact": knn["exact"],
            "ours_init": ours["init"], "ours_sgd": ours["sgd"], "ours_total": ours["total"],
            "ours_epochs": ours["epochs"], "ours_spectral": ours["spectral"], "ours_cpu": ours_cpu,
            "ours_1thread": one["total"], "ours_1thread_cpu": one_cpu,
            "ours_1thread_identical": same,
            "umap_learn_seeded": seeded_total, "umap_learn_parallel": parallel_total,
            "umap_learn_seeded_cpu": seeded_cpu, "umap_learn_parallel_cpu": parallel_cpu,
            "umap_learn_fuzzy": parallel_fuzzy,
            "trust_ours": trust(pcs, ours_emb, subsample),
            "trust_umap_learn_seeded": trust(pcs, seeded_emb, subsample),
            "trust_umap_learn_parallel": trust(pcs, parallel_emb, subsample),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)

    print()
    print(f"UMAP on the same kNN (k 15), min_dist 0.5, {args.threads} threads. Wall seconds, "
          f"CPU seconds in brackets; uL = umap-learn seeded (serial) / parallel (numba)")
    print(f"{'cells':>7} | {'ours':>13} {'init':>5} {'sgd':>6} | {'uL seeded':>13} "
          f"{'uL parallel':>13} | {'x seed':>6} {'x par':>6} | trust ours / uL-s / uL-p")
    for r in rows:
        print(f"{r['n']:>7} | {r['ours_total']:>6.2f} ({r['ours_cpu']:>5.1f}) "
              f"{r['ours_init']:>5.2f} {r['ours_sgd']:>6.2f} | "
              f"{r['umap_learn_seeded']:>6.1f} ({r['umap_learn_seeded_cpu']:>5.1f}) "
              f"{r['umap_learn_parallel']:>6.1f} ({r['umap_learn_parallel_cpu']:>5.1f}) | "
              f"{r['umap_learn_seeded'] / r['ours_total']:>6.1f} "
              f"{r['umap_learn_parallel'] / r['ours_total']:>6.1f} | "
              f"{r['trust_ours']:.4f} / {r['trust_umap_learn_seeded']:.4f} / "
              f"{r['trust_umap_learn_parallel']:.4f}")
    for r in rows:
        print(f"{r['n']:>7} cells: ours on 1 thread {r['ours_1thread']:.2f} s "
              f"({r['ours_1thread_cpu']:.1f} CPU s), layout identical to {args.threads} threads: "
              f"{r['ours_1thread_identical']}")
    print(f"load average at the end: {os.getloadavg()}")

if __name__ == "__main__":
    main()
