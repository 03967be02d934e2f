#!/usr/bin/python3
"""Exact PCA oracle: normalise to 1e4 counts per cell, log1p, centre each gene, then an exact
dense eigen-decomposition of the gene covariance (numpy.linalg.eigh; Debian's numpy uses the
reference BLAS, so this is much faster than an SVD of the cells x genes matrix for few genes).

usage: oracle_pca.py FILE.h5ad N_COMPONENTS [--genes INDEX_FILE] [--scale] [--scores K]
--genes: a text file of 0-based gene indices (one per line); the PCA uses only those columns
(after normalising with all genes, as the pipeline does).
Prints JSON: explained_variance_ratio, explained_variance, singular_values (top N), total_variance,
and (with --scores K) the first K score columns (U*S) with the README sign convention (largest
|loading| positive), as a list of columns.
"""
import json
import sys

import anndata
import numpy as np
import scipy.sparse as sp


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    scale = "--scale" in sys.argv
    k_scores = int(sys.argv[sys.argv.index("--scores") + 1]) if "--scores" in sys.argv else 0
    adata = anndata.read_h5ad(path)
    X = adata.X.toarray() if sp.issparse(adata.X) else np.asarray(adata.X)
    X = X.astype(np.float64)
    totals = X.sum(axis=1, keepdims=True)
    X = np.log1p(np.divide(X * 1e4, totals, out=np.zeros_like(X), where=totals > 0))
    if "--genes" in sys.argv:
        genes = np.loadtxt(sys.argv[sys.argv.index("--genes") + 1], dtype=np.int64, ndmin=1)
        X = X[:, genes]
    X -= X.mean(axis=0)
    if scale:
        sd = X.std(axis=0, ddof=1)
        sd[sd == 0] = 1
        X /= sd
    total_var = X.var(axis=0, ddof=1).sum()
    w, V = np.linalg.eigh(X.T @ X / (X.shape[0] - 1))
    order = np.argsort(w)[::-1]
    ev, V = np.clip(w[order], 0, None), V[:, order]
    S = np.sqrt(ev * (X.shape[0] - 1))
    Vt = V.T
    out = {
        "explained_variance_ratio": (ev[:n] / total_var).tolist(),
        "explained_variance": ev[:n].tolist(),
        "singular_values": S[:n].tolist(),
        "total_variance": float(total_var),
    }
    if k_scores:
        flip = np.sign(Vt[np.arange(k_scores), np.argmax(np.abs(Vt[:k_scores]), axis=1)])
        scores = (X @ V[:, :k_scores]) * flip
        out["scores"] = scores.T.tolist()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
