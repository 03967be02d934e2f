#!/usr/bin/python3
"""Oracles for tests/core/tst_umap (umap-learn 0.5, scikit-learn). Files are raw little-endian:
embeddings float64 (n x d, row-major), neighbour indices int64 (n x k), distances float64.
Each command prints one JSON object.

  prepare DATASET OUTDIR [K [SEED]]
                               DATASET kang (obsm X_pca of kang2018_ifnb_2000.h5ad) or pbmc
                               (harmonypy pbmc3500 PCs). Writes pcs.bin, the exact kNN
                               (sklearn, the cell itself first, K = 15) as knn_idx.bin /
                               knn_dist.bin, umap-learn's smooth_knn_dist (sigmas.bin, rhos.bin)
                               and fuzzy_simplicial_set on that kNN as CSR (fuzzy_indptr.bin
                               int64, fuzzy_indices.bin int64, fuzzy_data.bin float64); prints
                               n, d, find_ab_params(1, 0.5) and, given SEED, the result of
                               `reference OUTDIR SEED` under "reference".
  reference OUTDIR SEED        umap-learn on the same kNN as scanpy.tl.umap runs it
                               (fuzzy_simplicial_set + simplicial_set_embedding, min_dist 0.5,
                               spectral init, random_state SEED): trustworthiness (k 15) on
                               pcs.bin and seconds; writes umap_learn.bin.
  trust OUTDIR LAYOUT DIM      sklearn trustworthiness (k 15) of LAYOUT (n x DIM) on pcs.bin.
  ab SPREAD MIN_DIST           umap-learn's find_ab_params.
"""
import json
import os
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def shared_data():
    root = os.environ.get("TRANSCURA_SHARED_DATA")
    return root if root else os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared",
                                          "data")


def load_pcs(dataset):
    if dataset == "kang":
        import h5py
        path = os.path.join(shared_data(), "multibatch/kang2018_ifnb_2000/kang2018_ifnb_2000.h5ad")
        with h5py.File(path, "r") as f:
            return np.asarray(f["obsm/X_pca"][...], dtype=np.float64)
    if dataset == "pbmc":
        import pandas as pd
        path = os.path.join(shared_data(), "batch_reference/harmonypy_pbmc3500/pbmc_3500_pcs.tsv.gz")
        return pd.read_csv(path, sep="\t").to_numpy(dtype=np.float64)
    raise SystemExit(f"unknown dataset {dataset}")


def exact_knn(pcs, k):
    from sklearn.neighbors import NearestNeighbors
    dist, idx = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(pcs).kneighbors(pcs)
    # Put the cell itself first (sklearn already does unless there are exact duplicates).
    for i in range(idx.shape[0]):
        where = np.nonzero(idx[i] == i)[0]
        if where.size and where[0] != 0:
            j = where[0]
            idx[i, 1:j + 1] = idx[i, 0:j].copy()
            idx[i, 0] = i
            dist[i, 1:j + 1] = dist[i, 0:j].copy()
            dist[i, 0] = 0.0
    return idx.astype(np.int64), dist.astype(np.float64)


def cmd_prepare(dataset, outdir, k=15, seed=None):
    from umap.umap_ import find_ab_params, fuzzy_simplicial_set, smooth_knn_dist
    k = int(k)
    pcs = load_pcs(dataset)
    idx, dist = exact_knn(pcs, k)
    pcs.astype("<f8").tofile(os.path.join(outdir, "pcs.bin"))
    idx.astype("<i8").tofile(os.path.join(outdir, "knn_idx.bin"))
    dist.astype("<f8").tofile(os.path.join(outdir, "knn_dist.bin"))
    sigmas, rhos = smooth_knn_dist(dist.astype(np.float32), float(k))
    np.asarray(sigmas, dtype="<f8").tofile(os.path.join(outdir, "sigmas.bin"))
    np.asarray(rhos, dtype="<f8").tofile(os.path.join(outdir, "rhos.bin"))
    graph, _, _ = fuzzy_simplicial_set(pcs, k, np.random.RandomState(0), "euclidean",
                                       knn_indices=idx, knn_dists=dist)
    graph = graph.tocsr()
    graph.sort_indices()
    graph.indptr.astype("<i8").tofile(os.path.join(outdir, "fuzzy_indptr.bin"))
    graph.indices.astype("<i8").tofile(os.path.join(outdir, "fuzzy_indices.bin"))
    graph.data.astype("<f8").tofile(os.path.join(outdir, "fuzzy_data.bin"))
    a, b = find_ab_params(1.0, 0.5)
    out = {"n": int(pcs.shape[0]), "d": int(pcs.shape[1]), "k": k, "nnz": int(graph.nnz),
           "a": float(a), "b": float(b)}
    if seed is not None:  # the reference layout in the same process: numba compiles once
        out["reference"] = cmd_reference(outdir, seed)
    return out


def trust(pcs, layout):
    from sklearn.manifold import trustworthiness
    return float(trustworthiness(pcs, layout, n_neighbors=15))


def load_prepared(outdir, k=15):
    pcs = np.fromfile(os.path.join(outdir, "pcs.bin"), dtype="<f8")
    idx = np.fromfile(os.path.join(outdir, "knn_idx.bin"), dtype="<i8")
    dist = np.fromfile(os.path.join(outdir, "knn_dist.bin"), dtype="<f8")
    n = idx.size // k
    return pcs.reshape(n, -1), idx.reshape(n, k), dist.reshape(n, k)


def umap_learn_layout(pcs, idx, dist, seed, parallel=False, n_components=2):
    """What scanpy.tl.umap does: umap-learn's fuzzy set of the given kNN, then
    simplicial_set_embedding (spectral init, default epochs)."""
    from umap.umap_ import find_ab_params, fuzzy_simplicial_set, simplicial_set_embedding
    random_state = np.random.RandomState(int(seed))
    graph, _, _ = fuzzy_simplicial_set(pcs, idx.shape[1], random_state, "euclidean",
                                       knn_indices=idx, knn_dists=dist)
    a, b = find_ab_params(1.0, 0.5)
    emb, _ = simplicial_set_embedding(pcs, graph, n_components, 1.0, a, b, 1.0, 5, None,
                                      "spectral", random_state, "euclidean", {}, False, {},
                                      False, parallel=parallel)
    return emb


def cmd_reference(outdir, seed):
    pcs, idx, dist = load_prepared(outdir)
    start = time.perf_counter()
    emb = umap_learn_layout(pcs, idx, dist, seed)
    seconds = time.perf_counter() - start
    emb.astype("<f8").tofile(os.path.join(outdir, "umap_learn.bin"))
    return {"trust": trust(pcs, emb), "seconds": seconds}


def cmd_trust(outdir, layout_path, dim):
    pcs = np.fromfile(os.path.join(outdir, "pcs.bin"), dtype="<f8")
    layout = np.fromfile(layout_path, dtype="<f8").reshape(-1, int(dim))
    pcs = pcs.reshape(layout.shape[0], -1)
    return {"trust": trust(pcs, layout)}


def cmd_ab(spread, min_dist):
    from umap.umap_ import find_ab_params
    a, b = find_ab_params(float(spread), float(min_dist))
    return {"a": float(a), "b": float(b)}


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "prepare":
        out = cmd_prepare(*args)
    elif command == "reference":
        out = cmd_reference(*args)
    elif command == "trust":
        out = cmd_trust(*args)
    elif command == "ab":
        out = cmd_ab(*args)
    else:
        raise SystemExit(f"unknown command {command}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
