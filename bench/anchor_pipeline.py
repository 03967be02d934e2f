#!/usr/bin/python3
"""The scanpy-equivalent pipeline, as the anchor for bench/bench_pipeline.sh.

scanpy itself is not a Debian package, so this runs scanpy 1.9's own steps with the libraries
scanpy calls (anndata, numpy/scipy/pandas, numba, scikit-learn's utilities, umap-learn and its
pynndescent, python-igraph + leidenalg), with scanpy's default parameters:

  qc         sc.pp.calculate_qc_metrics(qc_vars=[mt, ribo, hb], percent_top=[50])
  filter     cells with n_genes_by_counts < min_genes or pct_counts_mt > max_pct_mt dropped
  normalize  layers['counts'] = X.copy(); sc.pp.normalize_total(target_sum=1e4); sc.pp.log1p
  hvg        sc.pp.highly_variable_genes(flavor='seurat', n_top_genes, batch_key)
  pca        sc.pp.pca(n_comps, zero_center=True, svd_solver='arpack', use_highly_variable=True)
             (implicitly centred sparse LinearOperator + scipy svds, as scanpy does for sparse X)
  knn        sc.pp.neighbors(n_neighbors): umap's nearest_neighbors (pynndescent), then
             fuzzy_simplicial_set for the connectivities
  umap       sc.tl.umap(min_dist): umap's simplicial_set_embedding, spectral init
  leiden     sc.tl.leiden(resolution): leidenalg RBConfigurationVertexPartition, n_iterations=-1
  write      X = counts again; write_h5ad, then os.fsync of the file: transcura's output is
             durable when the step ends (atomic temporary + fsync + rename), so the anchor's write
             is timed until its bytes are on disk too, not while they still sit in the page cache
             (that made 1.4 GB look like 0.8 s after an idle pause and 4-8 s right after a write)

usage: anchor_pipeline.py IN.h5ad OUT.h5ad [--batch-key K] [--min-genes 200] [--max-pct-mt 20]
       [--n-hvg 2000] [--n-pcs 50] [--neighbors 15] [--min-dist 0.5] [--resolution 1.0]
       [--seed 0] [--timings FILE.json] [--cpu-timings FILE.json]
Numba compiles on first use; a warm-up on a tiny random cohort runs first and is reported
separately ("warmup"), not counted in the steps.
"""
import argparse
import json
import os
import resource
import sys
import time
import warnings

import anndata
import igraph
import leidenalg
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numba import njit, prange
from scipy.sparse.linalg import LinearOperator, svds
from sklearn.utils import check_random_state
from sklearn.utils.extmath import svd_flip
from umap.umap_ import find_ab_params, fuzzy_simplicial_set, nearest_neighbors, simplicial_set_embedding

warnings.filterwarnings("ignore")


@njit(parallel=True, cache=True)
def _top_segment(data, indptr, n):
    # scanpy's top_segment_proportions_sparse_csr (numba, parallel over cells)
    out = np.zeros(indptr.size - 1)
    for i in prange(indptr.size - 1):
        row = data[indptr[i]:indptr[i + 1]]
        if row.size > n:
            row = np.partition(row, row.size - n)[row.size - n:]
        out[i] = row.sum()
    return out


def qc_metrics(adata):
    X = adata.X
    names = adata.var_names.to_series()
    sets = {
        "mt": names.str.startswith(("MT-", "mt-")).values,
        "ribo": names.str.startswith(("RPS", "RPL")).values,
        "hb": names.str.contains("^HB[^(P)]", regex=True).values,
    }
    obs = adata.obs
    obs["n_genes_by_counts"] = X.getnnz(axis=1)
    obs["log1p_n_genes_by_counts"] = np.log1p(obs["n_genes_by_counts"])
    total = np.ravel(X.sum(axis=1))
    obs["total_counts"] = total
    obs["log1p_total_counts"] = np.log1p(total)
    obs["pct_counts_in_top_50_genes"] = _top_segment(X.data, X.indptr, 50) / total * 100
    for name, mask in sets.items():
        t = np.ravel(X[:, mask].sum(axis=1))
        obs["total_counts_" + name] = t
        obs["log1p_total_counts_" + name] = np.log1p(t)
        obs["pct_counts_" + name] = t / total * 100
    var = adata.var
    var["n_cells_by_counts"] = X.getnnz(axis=0)
    var["mean_counts"] = np.ravel(X.mean(axis=0))
    var["log1p_mean_counts"] = np.log1p(var["mean_counts"])
    var["pct_dropout_by_counts"] = (1 - var["n_cells_by_counts"] / X.shape[0]) * 100
    var["total_counts"] = np.ravel(X.sum(axis=0))
    var["log1p_total_counts"] = np.log1p(var["total_counts"])


def get_mean_var(X):
    mean = np.ravel(X.mean(axis=0, dtype=np.float64))
    mean_sq = np.ravel(X.multiply(X).mean(axis=0, dtype=np.float64))
    return mean, (mean_sq - mean ** 2) * (X.shape[0] / (X.shape[0] - 1))


def hvg_seurat_single(X, n_top, n_bins=20):
    X = X.copy()
    X.data = np.expm1(X.data)
    mean, var = get_mean_var(X)
    mean[mean == 0] = 1e-12
    dispersion = var / mean
    dispersion[dispersion == 0] = np.nan
    dispersion = np.log(dispersion)
    mean = np.log1p(mean)
    df = pd.DataFrame({"means": mean, "dispersions": dispersion})
    df["mean_bin"] = pd.cut(df["means"], bins=n_bins)
    grouped = df.groupby("mean_bin")["dispersions"]
    disp_mean_bin, disp_std_bin = grouped.mean(), grouped.std(ddof=1)
    one = disp_std_bin.isnull()
    disp_std_bin[one.values] = disp_mean_bin[one.values].values
    disp_mean_bin[one.values] = 0
    df["dispersions_norm"] = (df["dispersions"].values - disp_mean_bin[df["mean_bin"].values].values) \
        / disp_std_bin[df["mean_bin"].values].values
    norm = df["dispersions_norm"].values
    finite = norm[~np.isnan(norm)]
    finite[::-1].sort()
    df["highly_variable"] = np.nan_to_num(norm) >= finite[min(n_top, finite.size) - 1]
    return df.drop(columns="mean_bin")


def hvg_seurat(adata, n_top, batch_key):
    X = adata.X
    if not batch_key:
        df = hvg_seurat_single(X, n_top)
    else:
        frames = []
        batches = adata.obs[batch_key].values
        for b in np.unique(batches):
            Xb = X[batches == b]
            filt = Xb.getnnz(axis=0) >= 1
            h = hvg_seurat_single(Xb[:, filt], n_top)
            full = pd.DataFrame(np.zeros((X.shape[1], 4)), columns=h.columns)
            full.loc[np.where(filt)[0], h.columns] = h.values
            full["highly_variable"] = full["highly_variable"].astype(bool)
            full["gene"] = adata.var_names.values
            frames.append(full)
        df = pd.concat(frames)
        df["highly_variable"] = df["highly_variable"].astype(int)
        df = df.groupby("gene").agg(dict(means=np.nanmean, dispersions=np.nanmean,
                                         dispersions_norm=np.nanmean, highly_variable=np.nansum))
        df.rename(columns=dict(highly_variable="highly_variable_nbatches"), inplace=True)
        df.sort_values(["highly_variable_nbatches", "dispersions_norm"], ascending=False,
                       na_position="last", inplace=True)
        df["highly_variable"] = np.arange(df.shape[0]) < n_top
        df = df.loc[adata.var_names]
    for column in df.columns:
        adata.var[column] = df[column].values


def pca_sparse(X, n_comps, seed):
    # scanpy's _pca_with_sparse: implicit centring, ARPACK
    random_state = check_random_state(seed)
    np.random.set_state(random_state.get_state())
    random_init = np.random.rand(np.min(X.shape))
    X = sp.csr_matrix(X)
    mu = np.asarray(X.mean(0)).flatten()[None, :]
    mdot, mhdot = mu.dot, mu.T.dot
    Xdot, XHdot = X.dot, X.T.conj().dot
    ones = np.ones(X.shape[0])[None, :].dot
    XL = LinearOperator(
        matvec=lambda x: Xdot(x) - mdot(x), matmat=lambda x: Xdot(x) - mdot(x),
        rmatvec=lambda x: XHdot(x) - mhdot(ones(x)), rmatmat=lambda x: XHdot(x) - mhdot(ones(x)),
        dtype=X.dtype, shape=X.shape)
    u, s, v = svds(XL, solver="arpack", k=n_comps, v0=random_init)
    u, v = svd_flip(u, v)
    idx = np.argsort(-s)
    X_pca = (u * s)[:, idx]
    ev = s[idx] ** 2 / (X.shape[0] - 1)
    total_var = get_mean_var(X)[1].sum()
    return X_pca, v[idx], ev, ev / total_var


def run(args, adata, timings, write=True, cpu=None):
    cpu = {} if cpu is None else cpu  # the same steps in CPU seconds (all threads)
    t, c = time.perf_counter(), time.process_time()
    qc_metrics(adata)
    timings["qc"] = time.perf_counter() - t
    cpu["qc"] = time.process_time() - c

    t, c = time.perf_counter(), time.process_time()
    keep = (adata.obs["n_genes_by_counts"].values >= args.min_genes) & \
           ~(adata.obs["pct_counts_mt"].values > args.max_pct_mt)
    adata = adata[keep].copy()
    timings["filter"] = time.perf_counter() - t
    cpu["filter"] = time.process_time() - c

    t, c = time.perf_counter(), time.process_time()
    adata.layers["counts"] = adata.X.copy()
    counts = np.ravel(adata.X.sum(axis=1))
    counts += counts == 0
    X = adata.X
    X.data *= np.repeat(args.target_sum / counts, np.diff(X.indptr)).astype(X.dtype)
    np.log1p(X.data, out=X.data)
    timings["normalize"] = time.perf_counter() - t
    cpu["normalize"] = time.process_time() - c

    t, c = time.perf_counter(), time.process_time()
    hvg_seurat(adata, args.n_hvg, args.batch_key)
    timings["hvg"] = time.perf_counter() - t
    cpu["hvg"] = time.process_time() - c

    t, c = time.perf_counter(), time.process_time()
    hv = adata.var["highly_variable"].values
    X_pca, components, ev, ev_ratio = pca_sparse(adata.X[:, hv], args.n_pcs, args.seed)
    adata.obsm["X_pca"] = X_pca
    adata.uns["pca"] = {"variance": ev, "variance_ratio": ev_ratio}
    timings["pca"] = time.perf_counter() - t
    cpu["pca"] = time.process_time() - c

    t, c = time.perf_counter(), time.process_time()
    random_state = check_random_state(args.seed)
    knn_indices, knn_dists, _ = nearest_neighbors(
        X_pca, args.neighbors, random_state=random_state, metric="euclidean", metric_kwds={},
        angular=False, verbose=False)
    connectivities, _, _ = fuzzy_simplicial_set(
        X_pca, args.neighbors, random_state, "euclidean", knn_indices=knn_indices,
        knn_dists=knn_dists, set_op_mix_ratio=1.0, local_connectivity=1.0)
    connectivities = connectivities.tocsr()
    # scanpy's neighbors stores both graphs in obsp; the distances as scanpy 1.9 builds them
    # (all k neighbours, then the zero self-distances dropped).
    n_obs = X_pca.shape[0]
    distances = sp.csr_matrix(
        (knn_dists.ravel().astype(np.float32),
         (np.repeat(np.arange(n_obs), knn_indices.shape[1]), knn_indices.ravel())),
        shape=(n_obs, n_obs))
    distances.eliminate_zeros()
    adata.obsp["distances"] = distances
    adata.obsp["connectivities"] = connectivities
    timings["knn"] = time.perf_counter() - t
    cpu["knn"] = time.process_time() - c

    t, c = time.perf_counter(), time.process_time()
    a, b = find_ab_params(1.0, args.min_dist)
    n_epochs = 500 if connectivities.shape[0] <= 10000 else 200  # scanpy's default_epochs
    X_umap, _ = simplicial_set_embedding(
        X_pca, connectivities.tocoo(), 2, 1.0, a, b, 1.0, 5, n_epochs, "spectral",
        check_random_state(args.seed), "euclidean", {}, False, {}, False)
    adata.obsm["X_umap"] = X_umap
    timings["umap"] = time.perf_counter() - t
    cpu["umap"] = time.process_time() - c

    t, c = time.perf_counter(), time.process_time()
    sources, targets = connectivities.nonzero()
    weights = np.asarray(connectivities[sources, targets]).ravel()
    g = igraph.Graph(directed=True)
    g.add_vertices(connectivities.shape[0])
    g.add_edges(list(zip(sources, targets)))
    g.es["weight"] = weights
    partition = leidenalg.find_partition(
        g, leidenalg.RBConfigurationVertexPartition, resolution_parameter=args.resolution,
        weights=np.array(g.es["weight"]).astype(np.float64), n_iterations=-1, seed=args.seed)
    adata.obs["leiden"] = pd.Categorical(np.array(partition.membership).astype(str))
    timings["leiden"] = time.perf_counter() - t
    cpu["leiden"] = time.process_time() - c

    if write:
        t, c = time.perf_counter(), time.process_time()
        adata.X = adata.layers.pop("counts")
        adata.write_h5ad(args.output)
        descriptor = os.open(args.output, os.O_RDONLY)
        os.fsync(descriptor)
        os.close(descriptor)
        timings["write"] = time.perf_counter() - t
        cpu["write"] = time.process_time() - c
    return adata


def main():
    p = argparse.ArgumentParser()
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--batch-key", default="")
    p.add_argument("--min-genes", type=int, default=200)
    p.add_argument("--max-pct-mt", type=float, default=20.0)
    p.add_argument("--target-sum", type=float, default=1e4)
    p.add_argument("--n-hvg", type=int, default=2000)
    p.add_argument("--n-pcs", type=int, default=50)
    p.add_argument("--neighbors", type=int, default=15)
    p.add_argument("--min-dist", type=float, default=0.5)
    p.add_argument("--resolution", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timings")
    p.add_argument("--cpu-timings")
    args = p.parse_args()

    # Warm-up: numba/pynndescent compilation on a tiny random cohort, not counted.
    t, c = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(0)
    tiny = sp.random(600, 300, density=0.3, format="csr", random_state=0, dtype=np.float32)
    tiny.data = np.ceil(tiny.data * 10)
    warm = anndata.AnnData(tiny)
    warm.var_names = ["MT-%d" % i if i < 3 else "G%d" % i for i in range(300)]
    warm_args = argparse.Namespace(**vars(args))
    warm_args.min_genes, warm_args.n_hvg, warm_args.n_pcs, warm_args.batch_key = 10, 100, 10, ""
    run(warm_args, warm, {}, write=False)
    warmup = time.perf_counter() - t

    timings, cpu = {}, {}
    t, c = time.perf_counter(), time.process_time()
    adata = anndata.read_h5ad(args.input)
    timings["read"] = time.perf_counter() - t
    cpu["read"] = time.process_time() - c
    run(args, adata, timings, cpu=cpu)
    timings["warmup"] = warmup
    timings["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if args.timings:
        with open(args.timings, "w") as f:
            json.dump(timings, f, indent=2)
    if args.cpu_timings:
        with open(args.cpu_timings, "w") as f:
            json.dump(cpu, f, indent=2)
    for k, v in timings.items():
        print("  %-11s %9.3f" % (k, v), file=sys.stderr)


if __name__ == "__main__":
    main()
