#!/usr/bin/python3
"""Oracles for the kNN and Leiden steps (tests/core/tst_knn_leiden.cpp).

usage:
  oracle_knn.py exact POINTS.bin N D K OUT_PREFIX
      POINTS.bin: N x D float64 row-major. sklearn.neighbors.NearestNeighbors(K, brute force,
      euclidean) over the points themselves: writes OUT_PREFIX.idx (int64, N x K) and
      OUT_PREFIX.dist (float64, N x K), the cell itself included, nearest first.
  oracle_knn.py leiden GRAPH_PREFIX N RESOLUTION SEED OURS.bin TRUTH.bin
      GRAPH_PREFIX.indptr (int64), .indices (int32), .data (float32): a symmetric N x N CSR.
      Runs scanpy's sc.tl.leiden recipe (directed igraph with both arcs, leidenalg
      RBConfigurationVertexPartition, n_iterations=-1, seed) and compares with our membership
      OURS.bin (int32) and the truth TRUTH.bin (int32).
  oracle_knn.py ari A.bin B.bin
      sklearn.metrics.adjusted_rand_score of two int32 labelings.
Prints one JSON object.
"""
import json
import sys

import numpy as np


def read_csr(prefix, n):
    import scipy.sparse as sp
    indptr = np.fromfile(prefix + ".indptr", dtype=np.int64)
    indices = np.fromfile(prefix + ".indices", dtype=np.int32)
    data = np.fromfile(prefix + ".data", dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))


def exact(points, n, d, k, out):
    from sklearn.neighbors import NearestNeighbors
    X = np.fromfile(points, dtype=np.float64).reshape(n, d)
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="euclidean").fit(X)
    dist, idx = nn.kneighbors(X)
    idx.astype(np.int64).tofile(out + ".idx")
    dist.astype(np.float64).tofile(out + ".dist")
    return {"n": n, "k": k, "self_first": float(np.mean(idx[:, 0] == np.arange(n)))}


def leiden(prefix, n, resolution, seed, ours_path, truth_path):
    import igraph
    import leidenalg
    from sklearn.metrics import adjusted_rand_score
    A = read_csr(prefix, n)
    # scanpy's _utils.get_igraph_from_adjacency(directed=True)
    sources, targets = A.nonzero()
    weights = np.asarray(A[sources, targets]).ravel()
    g = igraph.Graph(directed=True)
    g.add_vertices(n)
    g.add_edges(list(zip(sources, targets)))
    g.es["weight"] = weights
    part = leidenalg.find_partition(
        g, leidenalg.RBConfigurationVertexPartition, resolution_parameter=resolution,
        weights=np.array(g.es["weight"]).astype(np.float64), n_iterations=-1, seed=seed)
    theirs = np.array(part.membership)
    ours = np.fromfile(ours_path, dtype=np.int32)
    truth = np.fromfile(truth_path, dtype=np.int32)
    # Modularity of both partitions on the same undirected graph (upper triangle).
    U = A.tocoo()
    keep = U.row < U.col
    ug = igraph.Graph(n=n, edges=list(zip(U.row[keep], U.col[keep])), directed=False)
    uw = U.data[keep].astype(np.float64)
    sizes = np.bincount(theirs)
    return {
        "n_clusters_leidenalg": int(theirs.max() + 1),
        "n_clusters_ours": int(ours.max() + 1),
        "modularity_leidenalg": ug.modularity(theirs.tolist(), weights=uw, resolution=resolution),
        "modularity_ours": ug.modularity(ours.tolist(), weights=uw, resolution=resolution),
        "ari_ours_leidenalg": float(adjusted_rand_score(ours, theirs)),
        "ari_ours_truth": float(adjusted_rand_score(truth, ours)),
        "ari_leidenalg_truth": float(adjusted_rand_score(truth, theirs)),
        "leidenalg_sorted_by_size": bool(np.all(np.diff(sizes) <= 0)),
    }


def main():
    command = sys.argv[1]
    if command == "exact":
        result = exact(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]),
                       sys.argv[6])
    elif command == "leiden":
        result = leiden(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]),
                        sys.argv[6], sys.argv[7])
    elif command == "ari":
        from sklearn.metrics import adjusted_rand_score
        a = np.fromfile(sys.argv[2], dtype=np.int32)
        b = np.fromfile(sys.argv[3], dtype=np.int32)
        result = {"ari": float(adjusted_rand_score(a, b))}
    else:
        raise SystemExit("oracle_knn.py: unknown command " + command)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
