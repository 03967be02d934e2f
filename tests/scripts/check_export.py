#!/usr/bin/python3
"""Oracle checks for `transcura-cli export` folders and the leakage report.

usage:
  check_export.py verify OUTDIR [OUTDIR ...] [--group-by KEY]
      Reads manifest.json and every output with the reference readers (anndata 0.8 for .h5ad,
      loompy for .loom, scipy.io.mmread + pandas for MTX folders, pandas for CSV), recomputes
      every SHA-256 with hashlib and prints JSON:
      {"manifest": {...}, "errors": [...], "outputs": {name: {"n_obs", "n_vars", "obs_columns",
       "var_columns", "obsm", "obs_names", "var_names", "sum"}}, "shared_groups": [...],
       "input_sha256_ok"}; with several folders, {OUTDIR: that object}.
  check_export.py knn FILE.h5ad --batch KEY [--n-pcs N] [--k K]
      scikit-learn's KNeighborsClassifier(K) balanced accuracy of KEY from obsm X_pca[:, :N] in
      stratified 5-fold CV, mean and sd over 5 fold seeds: {"balanced_accuracy", "sd"}.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def folder_sha(files):
    lines = "".join(f"{sha}  {name}\n" for name, sha in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def read_output(outdir, entry, fmt):
    import pandas as pd
    path = os.path.join(outdir, entry["path"])
    if fmt == "h5ad":
        import anndata
        a = anndata.read_h5ad(path)
        X = a.X
        total = float(X.sum())
        return {"n_obs": a.n_obs, "n_vars": a.n_vars, "obs_columns": list(a.obs.columns),
                "var_columns": list(a.var.columns), "obsm": sorted(a.obsm.keys()),
                "obs_names": list(a.obs_names), "var_names": list(a.var_names), "obs": a.obs,
                "sum": total}
    if fmt == "loom":
        import loompy
        with loompy.connect(path, "r", validate=False) as ds:
            return {"n_obs": int(ds.shape[1]), "n_vars": int(ds.shape[0]),
                    "obs_columns": sorted(k for k in ds.ca.keys() if k != "CellID"),
                    "var_columns": sorted(k for k in ds.ra.keys() if k != "Gene"),
                    "obsm": [], "obs_names": [str(x) for x in ds.ca["CellID"]],
                    "var_names": [str(x) for x in ds.ra["Gene"]],
                    "obs": pd.DataFrame({k: ds.ca[k] for k in ds.ca.keys() if ds.ca[k].ndim == 1}),
                    "sum": float(ds[:, :].sum())}
    if fmt == "mtx":
        import scipy.io
        m = scipy.io.mmread(os.path.join(path, "matrix.mtx.gz"))
        barcodes = pd.read_csv(os.path.join(path, "barcodes.tsv.gz"), header=None, sep="\t")[0]
        features = pd.read_csv(os.path.join(path, "features.tsv.gz"), header=None, sep="\t")[1]
        obs = pd.read_csv(os.path.join(path, "obs.csv"), index_col=0)
        var = pd.read_csv(os.path.join(path, "var.csv"), index_col=0)
        if list(obs.index.astype(str)) != list(barcodes.astype(str)):
            raise SystemExit("obs.csv and barcodes disagree")
        return {"n_obs": int(m.shape[1]), "n_vars": int(m.shape[0]), "obs_columns": list(obs.columns),
                "var_columns": list(var.columns), "obsm": [], "obs_names": list(barcodes.astype(str)),
                "var_names": list(features.astype(str)),
                "obs": obs, "sum": float(m.sum())}
    if fmt == "csv":
        table = pd.read_csv(path, index_col=0)
        stem = path[:-4]
        obs = pd.read_csv(stem + ".obs.csv", index_col=0)
        var = pd.read_csv(stem + ".var.csv", index_col=0)
        if list(obs.index.astype(str)) != list(table.index.astype(str)):
            raise SystemExit("obs.csv and the matrix rows disagree")
        return {"n_obs": int(table.shape[0]), "n_vars": int(table.shape[1]),
                "obs_columns": list(obs.columns), "var_columns": list(var.columns), "obsm": [],
                "obs_names": list(table.index.astype(str)), "var_names": list(table.columns.astype(str)),
                "obs": obs,
                "sum": float(table.to_numpy().sum())}
    raise SystemExit(f"unknown format {fmt}")


def verify(args):
    results = {outdir: verify_one(outdir, args.group_by) for outdir in args.outdir}
    json.dump(results[args.outdir[0]] if len(results) == 1 else results, sys.stdout)


def verify_one(outdir, group_by):
    manifest = json.load(open(os.path.join(outdir, "manifest.json")))
    errors = []
    fmt = manifest["parameters"]["format"]
    outputs = {}
    groups = {}
    for name, entry in manifest["outputs"].items():
        for rel, sha in entry["files"].items():
            actual = sha256(os.path.join(outdir, rel))
            if actual != sha:
                errors.append(f"{rel}: sha256 {actual} != manifest {sha}")
        combined = next(iter(entry["files"].values())) if len(entry["files"]) == 1 else folder_sha(entry["files"])
        if combined != entry["sha256"]:
            errors.append(f"{name}: combined sha256 mismatch")
        data = read_output(outdir, entry, fmt)
        if data["n_obs"] != entry["n_obs"] or data["n_vars"] != entry["n_vars"]:
            errors.append(f"{name}: shape {data['n_obs']}x{data['n_vars']} != manifest "
                          f"{entry['n_obs']}x{entry['n_vars']}")
        if group_by:
            for value in set(str(v) for v in data["obs"][group_by]):
                groups.setdefault(value, set()).add(name)
        obs = data.pop("obs")
        outputs[name] = data
    shared = sorted(g for g, s in groups.items() if len(s) > 1)
    source = manifest["input"]["path"]
    input_ok = os.path.isfile(source) and sha256(source) == manifest["input"]["sha256"]
    return {"manifest": manifest, "errors": errors, "outputs": outputs, "shared_groups": shared,
            "input_sha256_ok": input_ok}


def knn(args):
    import anndata
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.neighbors import KNeighborsClassifier
    a = anndata.read_h5ad(args.file)
    X = np.asarray(a.obsm["X_pca"])[:, : args.n_pcs]
    y = np.asarray(a.obs[args.batch].astype(str))
    scores = []
    for seed in range(5):
        folds = StratifiedKFold(5, shuffle=True, random_state=seed)
        predicted = cross_val_predict(KNeighborsClassifier(args.k), X, y, cv=folds)
        scores.append(balanced_accuracy_score(y, predicted))
    json.dump({"balanced_accuracy": float(np.mean(scores)), "sd": float(np.std(scores))}, sys.stdout)


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    v = sub.add_parser("verify")
    v.add_argument("outdir", nargs="+")
    v.add_argument("--group-by")
    k = sub.add_parser("knn")
    k.add_argument("file")
    k.add_argument("--batch", required=True)
    k.add_argument("--n-pcs", type=int, default=30)
    k.add_argument("--k", type=int, default=15)
    args = parser.parse_args()
    verify(args) if args.mode == "verify" else knn(args)


if __name__ == "__main__":
    main()
