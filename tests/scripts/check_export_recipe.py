#!/usr/bin/python3
"""Recipe oracle: applies a curation recipe to an .h5ad with numpy, independently of Transcura.

usage: check_export_recipe.py FILE.h5ad RECIPE.json
Prints JSON {"obs_names": [...kept cells in file order...], "var_names": [...kept genes...],
"steps": [{"cells_after": n, "genes_after": n}, ...]}.

Semantics (issue 6): threshold keeps min <= value <= max (NaN fails); a missing QC column is
computed as scanpy's calculate_qc_metrics does (n_genes_by_counts, total_counts, pct_counts_mt with
MT-/mt-, ribo RPS/RPL/Rps/Rpl, hb ^HB[^P] / ^Hb[^p]); include/exclude compare the value's text;
missing values are never included or excluded; genes: min_cells over the remaining cells, keep
list, drop list, drop_mito/ribo/hb; selection: `cells` when given, else even-odd point in polygon
on obsm[embedding][:, :2]; keep True keeps only the selected cells.
"""
import json
import re
import sys

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

GENE_SETS = {
    "mt": re.compile(r"^(MT-|mt-)."),
    "ribo": re.compile(r"^(RPS|RPL|Rps|Rpl)."),
    "hb": re.compile(r"^(HB[^P]|Hb[^p])"),
}


def qc_column(adata, name):
    X = adata.X
    X = X.tocsr() if sp.issparse(X) else sp.csr_matrix(np.asarray(X))
    total = np.asarray(X.sum(axis=1)).ravel().astype(np.float64)
    if name == "total_counts":
        return total
    if name == "n_genes_by_counts":
        return np.asarray((X != 0).sum(axis=1)).ravel().astype(np.float64)
    match = re.match(r"^(pct_counts|total_counts)_(mt|ribo|hb)$", name)
    if not match:
        raise SystemExit(f"oracle cannot compute {name}")
    genes = np.array([bool(GENE_SETS[match.group(2)].match(g)) for g in adata.var_names])
    subset = np.asarray(X[:, np.where(genes)[0]].sum(axis=1)).ravel().astype(np.float64)
    if match.group(1) == "total_counts":
        return subset
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 100.0 * subset / total, np.nan)


def text_values(series):
    out = []
    for v in series:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            out.append(None)
        elif isinstance(v, (bool, np.bool_)):
            out.append("True" if v else "False")
        else:
            out.append(str(v))
    return out


def in_polygon(points, polygon):
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), dtype=bool)
    n = len(polygon)
    for i in range(n):
        xi, yi = polygon[i]
        xj, yj = polygon[i - 1]
        crosses = (yi > y) != (yj > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = (xj - xi) * (y - yi) / (yj - yi) + xi
        inside ^= crosses & (x < x_cross)
    return inside


def main():
    adata = anndata.read_h5ad(sys.argv[1])
    recipe = json.load(open(sys.argv[2]))
    cells = np.ones(adata.n_obs, dtype=bool)
    genes = np.ones(adata.n_vars, dtype=bool)
    X = adata.X.tocsr() if sp.issparse(adata.X) else sp.csr_matrix(np.asarray(adata.X))
    steps = []
    for step in recipe["steps"]:
        if step.get("enabled", True) is False:
            steps.append({"cells_after": int(cells.sum()), "genes_after": int(genes.sum())})
            continue
        kind = step["type"]
        if kind == "threshold":
            column = step["column"]
            values = (adata.obs[column].to_numpy(dtype=np.float64) if column in adata.obs
                      else qc_column(adata, column))
            ok = ~np.isnan(values)
            if step.get("min") is not None:
                ok &= values >= step["min"]
            if step.get("max") is not None:
                ok &= values <= step["max"]
            cells &= ok
        elif kind in ("include", "exclude"):
            values = text_values(adata.obs[step["column"]])
            listed = set(step["values"])
            hit = np.array([v is not None and v in listed for v in values])
            missing = np.array([v is None for v in values])
            cells &= hit if kind == "include" else (~hit | missing)
        elif kind == "genes":
            names = list(adata.var_names)
            if step.get("keep"):
                keep = set(step["keep"])
                genes &= np.array([g in keep for g in names])
            drop = set(step.get("drop", []))
            genes &= np.array([g not in drop for g in names])
            for flag, key in (("drop_mito", "mt"), ("drop_ribo", "ribo"), ("drop_hb", "hb")):
                if step.get(flag):
                    genes &= np.array([not GENE_SETS[key].match(g) for g in names])
            if step.get("min_cells", 0) > 0:
                detected = np.asarray((X[np.where(cells)[0]] != 0).sum(axis=0)).ravel()
                genes &= detected >= step["min_cells"]
        elif kind == "selection":
            if "cells" in step and step["cells"] is not None:
                chosen = set(step["cells"])
                selected = np.array([c in chosen for c in adata.obs_names])
            else:
                points = np.asarray(adata.obsm[step["embedding"]])[:, :2]
                selected = in_polygon(points, step["polygon"])
            cells &= selected if step.get("keep", True) else ~selected
        else:
            raise SystemExit(f"unknown step {kind}")
        steps.append({"cells_after": int(cells.sum()), "genes_after": int(genes.sum())})
    json.dump({"obs_names": list(adata.obs_names[cells]), "var_names": list(adata.var_names[genes]),
               "steps": steps}, sys.stdout)


if __name__ == "__main__":
    main()
