#!/usr/bin/python3
"""QC oracle: scanpy's calculate_qc_metrics and the sc-best-practices MAD outlier rule,
re-implemented with numpy/scipy (scanpy itself is not installed).

usage: oracle_qc.py FILE.h5ad [--batch KEY]
Prints JSON {"obs": {column: [...]}, "var": {column: [...]}} with NaN as null.
Gene sets: mt = MT-/mt-, ribo = RPS/RPL/Rps/Rpl, hb = ^(HB|Hb)[^(P)p] (scanpy's ^HB[^(P)]).
Outliers: outside median -/+ 5 MAD (unscaled MAD) of log1p_total_counts, log1p_n_genes_by_counts
or pct_counts_in_top_50_genes; mt_outlier: above median + 3 MAD of pct_counts_mt; per batch.
"""
import json
import sys

import anndata
import numpy as np
import scipy.sparse as sp
from scipy.stats import median_abs_deviation


def clean(values):
    return [None if (isinstance(v, float) and np.isnan(v)) else v for v in np.asarray(values).tolist()]


def outliers(values, nmads, batches, low=True, high=True):
    flags = np.zeros(len(values), dtype=bool)
    for b in np.unique(batches):
        mask = batches == b
        v = values[mask]
        finite = v[~np.isnan(v)]
        if finite.size == 0:
            continue
        med = np.median(finite)
        mad = median_abs_deviation(finite)
        f = np.zeros(v.shape, dtype=bool)
        with np.errstate(invalid="ignore"):
            if low:
                f |= v < med - nmads * mad
            if high:
                f |= v > med + nmads * mad
        flags[mask] = f
    return flags


def main():
    path = sys.argv[1]
    batch_key = sys.argv[sys.argv.index("--batch") + 1] if "--batch" in sys.argv else None
    adata = anndata.read_h5ad(path)
    X = adata.X
    X = sp.csr_matrix(X, dtype=np.float64) if sp.issparse(X) else sp.csr_matrix(np.asarray(X, dtype=np.float64))
    X.eliminate_zeros()
    n_cells, n_genes = X.shape
    names = adata.var_names.to_series()
    sets = {
        "mt": names.str.startswith(("MT-", "mt-")).values,
        "ribo": names.str.startswith(("RPS", "RPL", "Rps", "Rpl")).values,
        "hb": names.str.contains(r"^(?:HB|Hb)[^(P)p]", regex=True).values,
    }
    obs = {}
    total = np.asarray(X.sum(axis=1)).ravel()
    genes = np.diff(X.indptr).astype(np.int64)
    obs["n_genes_by_counts"] = genes
    obs["log1p_n_genes_by_counts"] = np.log1p(genes)
    obs["total_counts"] = total
    obs["log1p_total_counts"] = np.log1p(total)
    top = np.zeros(n_cells)
    for i in range(n_cells):
        row = np.sort(X.data[X.indptr[i]:X.indptr[i + 1]])[::-1]
        top[i] = row[:50].sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        obs["pct_counts_in_top_50_genes"] = top / total * 100
        for name, mask in sets.items():
            t = np.asarray(X[:, np.where(mask)[0]].sum(axis=1)).ravel()
            obs["total_counts_" + name] = t
            obs["log1p_total_counts_" + name] = np.log1p(t)
            obs["pct_counts_" + name] = t / total * 100
    batches = adata.obs[batch_key].astype(str).values if batch_key else np.zeros(n_cells)
    o = outliers(obs["log1p_total_counts"], 5, batches)
    o |= outliers(obs["log1p_n_genes_by_counts"], 5, batches)
    o |= outliers(obs["pct_counts_in_top_50_genes"], 5, batches)
    obs["outlier"] = o
    obs["mt_outlier"] = outliers(obs["pct_counts_mt"], 3, batches, low=False)

    var = {}
    cells = np.diff(X.tocsc().indptr).astype(np.int64)
    gsum = np.asarray(X.sum(axis=0)).ravel()
    var["n_cells_by_counts"] = cells
    var["mean_counts"] = gsum / n_cells
    var["log1p_mean_counts"] = np.log1p(gsum / n_cells)
    var["pct_dropout_by_counts"] = (1 - cells / n_cells) * 100
    var["total_counts"] = gsum
    var["log1p_total_counts"] = np.log1p(gsum)
    print(json.dumps({
        "obs": {k: clean(v) for k, v in obs.items()},
        "var": {k: clean(v) for k, v in var.items()},
        "set_sizes": {k: int(v.sum()) for k, v in sets.items()},
    }))


if __name__ == "__main__":
    main()
