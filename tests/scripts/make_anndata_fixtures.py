#!/usr/bin/python3
"""Writes .h5ad files with anndata itself (Debian's anndata 0.8) covering what our reader must
understand: dense, csr and csc X; categoricals with missing values; nullable integers and
booleans; unicode strings; several obsm keys; layers; raw; nested uns.

usage: make_anndata_fixtures.py OUTDIR  (prints the written paths, one per line)
"""
import os
import sys

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

out_dir = sys.argv[1]
rng = np.random.default_rng(7)
n_obs, n_vars = 60, 25
counts = rng.negative_binomial(2, 0.4, size=(n_obs, n_vars)).astype(np.float32)
counts[rng.random(counts.shape) < 0.5] = 0

obs = pd.DataFrame(index=[f"cell-{i}-ß" if i % 7 == 0 else f"cell-{i}" for i in range(n_obs)])
obs["cell_type"] = pd.Categorical(rng.choice(["T cell", "B cell", "Mono"], n_obs))
with_missing = pd.Categorical(rng.choice(["a", "b", "c"], n_obs), categories=["a", "b", "c"])
with_missing[::5] = np.nan
obs["batch_with_missing"] = with_missing
obs["ordered_grade"] = pd.Categorical(rng.choice(["low", "mid", "high"], n_obs),
                                      categories=["low", "mid", "high"], ordered=True)
nullable_int = pd.array(rng.integers(0, 100, n_obs), dtype="Int64")
nullable_int[::4] = pd.NA
obs["nullable_int"] = nullable_int
nullable_bool = pd.array(rng.random(n_obs) < 0.5, dtype="boolean")
nullable_bool[1::6] = pd.NA
obs["nullable_bool"] = nullable_bool
obs["plain_bool"] = rng.random(n_obs) < 0.3
obs["score"] = rng.normal(size=n_obs)
obs["count_int"] = rng.integers(0, 1000, n_obs)
obs["label_unicode"] = [f"Zelle-{i}-é漢" for i in range(n_obs)]

var = pd.DataFrame(index=[f"GENE{i}" if i != 3 else "MT-CO1" for i in range(n_vars)])
var["gene_ids"] = [f"ENSG{i:011d}" for i in range(n_vars)]
var["highly_variable"] = rng.random(n_vars) < 0.4
var["means"] = counts.mean(axis=0).astype(np.float64)

obsm = {"X_pca": rng.normal(size=(n_obs, 10)).astype(np.float32),
        "X_umap": rng.normal(size=(n_obs, 2)),
        "X_tsne": rng.normal(size=(n_obs, 2))}
uns = {"title": "fixture ü", "params": {"n_pcs": 10, "alpha": 0.5, "method": "exact"},
       "colors": np.array(["#ff0000", "#00ff00", "#0000ff"], dtype=object),
       "variance": np.linspace(1, 0, 10)}

written = []
for layout in ("dense", "csr", "csc"):
    X = counts if layout == "dense" else (sp.csr_matrix(counts) if layout == "csr" else sp.csc_matrix(counts))
    adata = anndata.AnnData(X=X, obs=obs.copy(), var=var.copy(), obsm=dict(obsm), uns=dict(uns))
    adata.layers["counts"] = sp.csr_matrix(counts)
    adata.layers["dense_layer"] = counts * 2
    if layout == "csr":
        adata.raw = adata
    path = os.path.join(out_dir, f"fixture_{layout}.h5ad")
    adata.write_h5ad(path, compression="gzip" if layout == "csc" else None)
    written.append(path)
print("\n".join(written))
