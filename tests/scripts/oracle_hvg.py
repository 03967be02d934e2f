#!/usr/bin/python3
"""HVG oracle: scanpy 1.9's highly_variable_genes (flavors 'seurat' and 'seurat_v3', with and
without batch_key) re-implemented with numpy/pandas, following scanpy's code line by line
(scanpy itself is not installed).

usage: oracle_hvg.py FILE.h5ad seurat|seurat_v3 N_TOP [--batch KEY]
seurat runs on normalize_total(1e4) + log1p of X (X holds counts); seurat_v3 on the counts.
seurat_v3's loess: skmisc is not installed, so this uses the 'direct' loess definition
(degree 2, tricube weights over the floor(span * n) nearest points, no interpolation), the same
definition transcura implements; scanpy/skmisc's kd-tree interpolation differs slightly.
Prints JSON of the var columns (NaN as null).
"""
import json
import sys

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp


def mean_var(X):
    X = sp.csr_matrix(X)
    mean = np.asarray(X.mean(axis=0)).ravel()
    mean_sq = np.asarray(X.multiply(X).mean(axis=0)).ravel()
    var = (mean_sq - mean ** 2) * (X.shape[0] / (X.shape[0] - 1))
    return mean, var


def seurat_single(X, n_top, n_bins=20):
    X = sp.csr_matrix(X, copy=True)
    X.data = np.expm1(X.data)
    mean, var = mean_var(X)
    mean[mean == 0] = 1e-12
    dispersion = var / mean
    dispersion[dispersion == 0] = np.nan
    dispersion = np.log(dispersion)
    mean = np.log1p(mean)
    df = pd.DataFrame({"means": mean, "dispersions": dispersion})
    df["mean_bin"] = pd.cut(df["means"], bins=n_bins)
    disp_grouped = df.groupby("mean_bin")["dispersions"]
    disp_mean_bin = disp_grouped.mean()
    disp_std_bin = disp_grouped.std(ddof=1)
    one_gene_per_bin = disp_std_bin.isnull()
    disp_std_bin[one_gene_per_bin.values] = disp_mean_bin[one_gene_per_bin.values].values
    disp_mean_bin[one_gene_per_bin.values] = 0
    df["dispersions_norm"] = (
        df["dispersions"].values - disp_mean_bin[df["mean_bin"].values].values
    ) / disp_std_bin[df["mean_bin"].values].values
    dispersion_norm = df["dispersions_norm"].values.copy()
    dispersion_norm = dispersion_norm[~np.isnan(dispersion_norm)]
    dispersion_norm[::-1].sort()
    cutoff = dispersion_norm[min(n_top, dispersion_norm.size) - 1]
    df["highly_variable"] = np.nan_to_num(df["dispersions_norm"].values) >= cutoff
    return df[["means", "dispersions", "dispersions_norm", "highly_variable"]]


def seurat(X, n_top, batches):
    if batches is None:
        return seurat_single(X, n_top)
    frames = []
    n_genes = X.shape[1]
    for b in np.unique(batches):
        Xb = X[batches == b]
        filt = np.diff(sp.csc_matrix(Xb).indptr) >= 1
        hvg = seurat_single(Xb[:, np.where(filt)[0]], n_top)
        full = pd.DataFrame(np.zeros((n_genes, 4)), columns=hvg.columns)
        full["highly_variable"] = False
        full.loc[np.where(filt)[0], ["means", "dispersions", "dispersions_norm"]] = hvg[
            ["means", "dispersions", "dispersions_norm"]].values
        full.loc[np.where(filt)[0], "highly_variable"] = hvg["highly_variable"].values
        full["gene"] = np.arange(n_genes)
        frames.append(full)
    df = pd.concat(frames, axis=0)
    df["highly_variable"] = df["highly_variable"].astype(int)
    df = df.groupby("gene").agg(dict(means=np.nanmean, dispersions=np.nanmean,
                                     dispersions_norm=np.nanmean, highly_variable=np.nansum))
    df.rename(columns=dict(highly_variable="highly_variable_nbatches"), inplace=True)
    df["highly_variable_intersection"] = df["highly_variable_nbatches"] == len(np.unique(batches))
    df["order"] = np.arange(n_genes)
    df.sort_values(["highly_variable_nbatches", "dispersions_norm", "order"],
                   ascending=[False, False, True], na_position="last", inplace=True)
    df["highly_variable"] = np.arange(n_genes) < n_top
    return df.sort_values("order")


def loess_direct(x, y, span):
    order = np.argsort(x, kind="stable")
    xs, ys = x[order], y[order]
    n = xs.size
    q = min(max(int(np.floor(n * span)), min(n, 3)), n)
    fit = np.empty(n)
    lo = 0
    for i in range(n):
        while lo + q < n and xs[lo + q] - xs[i] < xs[i] - xs[lo]:
            lo += 1
        wx, wy = xs[lo:lo + q], ys[lo:lo + q]
        h = max(xs[i] - wx[0], wx[-1] - xs[i])
        if h <= 0:
            h = 1.0
        u = (wx - xs[i]) / h
        w = np.clip(1 - np.abs(u) ** 3, 0, None) ** 3
        A = np.stack([np.ones_like(u), u, u * u], axis=1)
        AtW = A.T * w
        beta = np.linalg.lstsq(AtW @ A, AtW @ wy, rcond=None)[0]
        fit[i] = beta[0]
    out = np.empty(n)
    out[order] = fit
    return out


def seurat_v3(X, n_top, batches, span=0.3):
    X = sp.csr_matrix(X, dtype=np.float64)
    mean_all, var_all = mean_var(X)
    if batches is None:
        batches = np.zeros(X.shape[0], dtype=int)
    norm_gene_vars = []
    for b in np.unique(batches):
        data = X[batches == b]
        mean, var = mean_var(data)
        not_const = var > 0
        estimat_var = np.zeros(X.shape[1])
        estimat_var[not_const] = loess_direct(np.log10(mean[not_const]), np.log10(var[not_const]), span)
        reg_std = np.sqrt(10 ** estimat_var)
        counts = data.copy()
        N = data.shape[0]
        clip_val = reg_std * np.sqrt(N) + mean
        mask = counts.data > clip_val[counts.indices]
        counts.data[mask] = clip_val[counts.indices[mask]]
        sq = np.asarray(counts.multiply(counts).sum(axis=0)).ravel()
        s = np.asarray(counts.sum(axis=0)).ravel()
        norm_gene_vars.append((1 / ((N - 1) * np.square(reg_std))) * (N * np.square(mean) + sq - 2 * s * mean))
    norm_gene_vars = np.vstack(norm_gene_vars)
    ranked = np.argsort(np.argsort(-norm_gene_vars, axis=1, kind="stable"), axis=1, kind="stable").astype(np.float32)
    nbatches = np.sum(ranked < n_top, axis=0)
    ranked[ranked >= n_top] = np.nan
    median_ranked = np.ma.median(np.ma.masked_invalid(ranked), axis=0).filled(np.nan)
    df = pd.DataFrame({"highly_variable_rank": median_ranked, "means": mean_all, "variances": var_all,
                       "variances_norm": np.mean(norm_gene_vars, axis=0),
                       "highly_variable_nbatches": nbatches, "order": np.arange(X.shape[1])})
    sorted_index = df.sort_values(["highly_variable_rank", "highly_variable_nbatches", "order"],
                                  ascending=[True, False, True], na_position="last").index
    df["highly_variable"] = False
    df.loc[sorted_index[:n_top], "highly_variable"] = True
    return df


def main():
    path, flavor, n_top = sys.argv[1], sys.argv[2], int(sys.argv[3])
    batch_key = sys.argv[sys.argv.index("--batch") + 1] if "--batch" in sys.argv else None
    adata = anndata.read_h5ad(path)
    X = sp.csr_matrix(adata.X, dtype=np.float64)
    batches = adata.obs[batch_key].astype(str).values if batch_key else None
    if flavor == "seurat":
        totals = np.asarray(X.sum(axis=1)).ravel()
        factors = np.divide(1e4, totals, out=np.zeros_like(totals), where=totals > 0)
        L = sp.diags(factors) @ X
        L.data = np.log1p(L.data)
        df = seurat(L, n_top, batches)
    else:
        df = seurat_v3(X, n_top, batches)
    out = {}
    for column in df.columns:
        if column in ("order", "gene"):
            continue
        values = df[column].values
        if values.dtype == bool:
            out[column] = values.tolist()
        else:
            out[column] = [None if np.isnan(v) else float(v) for v in values.astype(float)]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
