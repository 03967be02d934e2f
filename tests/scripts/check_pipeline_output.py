#!/usr/bin/python3
"""Reads `transcura-cli run` output with anndata and checks it against the input cohort.

usage: check_pipeline_output.py INPUT.h5ad OUTPUT.h5ad
Prints JSON: shapes, obs/var columns, obsm/obsp shapes, whether X holds exactly the input's raw
counts for the kept cells, the kept cells' QC thresholds, uns keys and the step parameters under
uns, the leiden column (categorical, categories "0".."n-1" numbered by size), and (when present)
the adjusted Rand index of leiden against obs cell_type.
"""
import json
import sys

import anndata
import numpy as np
import scipy.sparse as sp


def main():
    source = anndata.read_h5ad(sys.argv[1])
    out = anndata.read_h5ad(sys.argv[2])
    rows = source.obs_names.get_indexer(out.obs_names)
    X_in = sp.csr_matrix(source.X)[rows]
    X_out = sp.csr_matrix(out.X)
    same_counts = bool(rows.min() >= 0 and X_in.shape == X_out.shape and (X_in != X_out).nnz == 0)
    result = {
        "n_obs": out.n_obs,
        "n_vars": out.n_vars,
        "obs": list(out.obs.columns),
        "var": list(out.var.columns),
        "obsm": {k: list(v.shape) for k, v in out.obsm.items()},
        "varm": {k: list(v.shape) for k, v in out.varm.items()},
        "uns": sorted(out.uns.keys()),
        "same_counts": same_counts,
        "order_kept": bool(np.all(np.diff(rows) > 0)),
        "min_genes_kept": int(out.obs["n_genes_by_counts"].min()),
        "max_pct_mt_kept": float(out.obs["pct_counts_mt"].max()),
        "n_hvg": int(out.var["highly_variable"].sum()),
        "pca_variance_ratio": [float(v) for v in out.uns["pca"]["variance_ratio"][:5]],
        "pca_finite": bool(np.isfinite(out.obsm["X_pca"]).all()),
        "obsp": {k: list(v.shape) for k, v in out.obsp.items()},
    }
    if "X_umap" in out.obsm:
        result["umap_finite"] = bool(np.isfinite(out.obsm["X_umap"]).all())
    for step in ("neighbors", "umap", "leiden"):
        if step in out.uns and "params" in out.uns[step]:
            result["uns_" + step + "_params"] = sorted(out.uns[step]["params"].keys())
    if "leiden" in out.obs:
        leiden = out.obs["leiden"]
        result["leiden_categorical"] = bool(hasattr(leiden, "cat"))
        if hasattr(leiden, "cat"):
            categories = list(leiden.cat.categories)
            sizes = leiden.value_counts().reindex(categories).values
            result["leiden_categories_ok"] = categories == [str(i) for i in range(len(categories))]
            result["leiden_sorted_by_size"] = bool(np.all(np.diff(sizes) <= 0))
            result["n_leiden"] = len(categories)
    if "connectivities" in out.obsp:
        C = out.obsp["connectivities"]
        result["connectivities_symmetric"] = bool(abs(C - C.T).max() < 1e-6)
    # Cells dropped by the thresholds: recomputed here from the input.
    counts = sp.csr_matrix(source.X)
    genes = np.diff(counts.indptr)
    mt = source.var_names.str.startswith(("MT-", "mt-"))
    total = np.ravel(counts.sum(axis=1))
    pct_mt = np.ravel(counts[:, np.where(mt)[0]].sum(axis=1)) / np.maximum(total, 1) * 100
    result["expected_kept"] = int(np.sum((genes >= 200) & (pct_mt <= 20)))
    if "leiden" in out.obs and "cell_type" in out.obs:
        from sklearn.metrics import adjusted_rand_score
        result["leiden_ari"] = float(adjusted_rand_score(out.obs["cell_type"], out.obs["leiden"]))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
