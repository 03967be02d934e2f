#!/usr/bin/python3
"""Reference summary of a cohort file as the Python ecosystem reads it.

usage: oracle_cohort.py FORMAT PATH [EXTRA...]  |  oracle_cohort.py --batch LISTING
FORMAT: h5ad (anndata.read_h5ad), 10x-h5 PATH [GENOME] (h5py + scipy), loom (h5py, as loompy
lays it out), mtx FOLDER (scipy.io.mmread + pandas for barcodes/features), table PATH ORIENTATION
[SAMPLE_SHEET] (pandas.read_csv; ORIENTATION genes-by-cells or cells-by-genes says how the file is
laid out, the sheet is joined on its first column).
Prints one JSON object: n_obs, n_vars, nnz, sum, checksum, obs_names, var_names, obs and var
columns ({name: {kind, values}}), obsm ({key: {shape, sum}}), layers ({key: sum}), uns_keys.
The checksum weights each value by its position so that a transposed or shuffled matrix differs.
"""
import json
import sys
import warnings

import numpy as np
import scipy.sparse as sp

warnings.filterwarnings("ignore")


def checksum(matrix):
    m = sp.coo_matrix(matrix)
    weights = ((m.row.astype(np.int64) * 31 + m.col.astype(np.int64)) % 1000 + 1).astype(np.float64)
    return float(np.sum(m.data.astype(np.float64) * weights)), int(np.count_nonzero(m.data)), float(
        np.sum(m.data, dtype=np.float64))


def column(series):
    import pandas as pd
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        values = [None if pd.isna(v) else str(v) for v in series.astype(object)]
        return {"kind": "categorical", "values": values,
                "categories": [str(c) for c in dtype.categories]}
    if pd.api.types.is_bool_dtype(dtype):
        return {"kind": "bool", "values": [None if pd.isna(v) else bool(v) for v in series]}
    if pd.api.types.is_integer_dtype(dtype):
        return {"kind": "int", "values": [None if pd.isna(v) else int(v) for v in series]}
    if pd.api.types.is_float_dtype(dtype):
        return {"kind": "float", "values": [None if np.isnan(v) else float(v) for v in series]}
    return {"kind": "string", "values": [None if v is None else str(v) for v in series]}


def plain(value):
    """uns as JSON: arrays become (nested) lists, scalars plain numbers; others dropped."""
    if hasattr(value, "items"):  # dict, and anndata's OverloadedDict
        out = {}
        for k, v in value.items():
            p = plain(v)
            if p is not None:
                out[str(k)] = p
        return out
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fiub":
            return value.tolist()
        if value.dtype.kind in "OSU":
            return [x.decode() if isinstance(x, bytes) else str(x) for x in value.reshape(-1)]
        return None
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, bytes):
        return value.decode()
    return None


def frame(df):
    return {str(name): column(df[name]) for name in df.columns}


def from_anndata(adata):
    out = {"n_obs": int(adata.n_obs), "n_vars": int(adata.n_vars)}
    if adata.X is None:
        out.update(nnz=0, sum=0.0, checksum=0.0)
    else:
        out["checksum"], out["nnz"], out["sum"] = checksum(adata.X)
    out["obs_names"] = [str(x) for x in adata.obs_names]
    out["var_names"] = [str(x) for x in adata.var_names]
    out["obs"] = frame(adata.obs)
    out["var"] = frame(adata.var)
    out["obsm"] = {}
    for key in adata.obsm.keys():
        value = adata.obsm[key]
        if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
            value = value.reshape(value.shape[0], -1)
            out["obsm"][key] = {"shape": list(value.shape), "sum": float(np.sum(value, dtype=np.float64))}
    out["layers"] = {k: checksum(v)[0] for k, v in adata.layers.items()}
    out["uns_keys"] = sorted(str(k) for k in adata.uns.keys())
    out["uns"] = plain(dict(adata.uns))
    if adata.raw is not None:
        out["raw"] = {"shape": list(adata.raw.X.shape), "checksum": checksum(adata.raw.X)[0]}
    return out


def read_10x_h5(path, genome):
    import h5py
    import pandas as pd
    with h5py.File(path, "r") as f:
        if "matrix" in f:
            g = f["matrix"]
            feats = g["features"]
            names = [x.decode() if isinstance(x, bytes) else str(x) for x in feats["name"][:]]
            ids = [x.decode() if isinstance(x, bytes) else str(x) for x in (feats["id"][:] if "id" in feats else feats["name"][:])]
        else:
            g = f[genome] if genome else f[sorted(k for k in f.keys() if isinstance(f[k], h5py.Group))[0]]
            ids = [x.decode() for x in g["genes"][:]]
            names = [x.decode() for x in g["gene_names"][:]]
        shape = tuple(int(x) for x in g["shape"][:])
        m = sp.csc_matrix((g["data"][:], g["indices"][:], g["indptr"][:]), shape=shape).T.tocsr()
        barcodes = [x.decode() if isinstance(x, bytes) else str(x) for x in g["barcodes"][:]]
    import anndata
    adata = anndata.AnnData(X=m, obs=pd.DataFrame(index=barcodes),
                            var=pd.DataFrame({"gene_ids": ids}, index=names))
    adata.var_names_make_unique()
    out = from_anndata(adata)
    out["var"] = {"gene_ids": column(adata.var["gene_ids"])}
    return out


def read_loom(path):
    import h5py
    import pandas as pd
    with h5py.File(path, "r") as f:
        m = sp.csr_matrix(f["matrix"][:].T)
        def strings(ds):
            return [x.decode() if isinstance(x, bytes) else str(x) for x in ds[:].reshape(-1)]
        rows, cols = f["row_attrs"], f["col_attrs"]
        var_names = strings(rows["Gene"]) if "Gene" in rows else [str(i) for i in range(m.shape[1])]
        obs_names = strings(cols["CellID"]) if "CellID" in cols else [str(i) for i in range(m.shape[0])]
        obs, obsm = {}, {}
        for key in cols.keys():
            if key == "CellID":
                continue
            value = cols[key][:]
            if value.ndim == 2 and value.shape[1] > 1:
                obsm[key] = value
            elif value.dtype.kind in "SO":
                obs[key] = strings(cols[key])
            else:
                obs[key] = value.reshape(-1)
    import anndata
    adata = anndata.AnnData(X=m, obs=pd.DataFrame(obs, index=obs_names),
                            var=pd.DataFrame(index=var_names), obsm=obsm)
    adata.var_names_make_unique()
    out = from_anndata(adata)
    for key, col in out["obs"].items():
        if col["kind"] == "string":  # loom strings with few levels are read as categorical
            col["kind"] = "string-or-categorical"
    return out


def open_maybe_gzip(path):
    import gzip
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


def read_mtx(folder):
    """A 10x MTX folder exactly as scanpy.read_10x_mtx lays it out (genes x cells on disk)."""
    import os
    import scipy.io
    import pandas as pd

    def part(*names):
        for name in names:
            for candidate in (name, name + ".gz"):
                if os.path.exists(os.path.join(folder, candidate)):
                    return os.path.join(folder, candidate)
        raise SystemExit("no " + names[0] + " in " + folder)

    with open_maybe_gzip(part("matrix.mtx")) as f:
        m = sp.csr_matrix(scipy.io.mmread(f).T)
    with open_maybe_gzip(part("barcodes.tsv")) as f:
        barcodes = pd.read_csv(f, sep="\t", header=None, dtype=str, keep_default_na=False)
    with open_maybe_gzip(part("features.tsv", "genes.tsv")) as f:
        features = pd.read_csv(f, sep="\t", header=None, dtype=str, keep_default_na=False)
    names = features[1] if features.shape[1] >= 2 else features[0]
    var = pd.DataFrame({"gene_ids": list(features[0])}, index=list(names))
    if features.shape[1] >= 3:
        var["feature_types"] = list(features[2])
    import anndata
    adata = anndata.AnnData(X=m, obs=pd.DataFrame(index=list(barcodes[0])), var=var)
    adata.var_names_make_unique()
    out = from_anndata(adata)
    for col in out["var"].values():  # pandas has object columns only; we may categorise
        col["kind"] = "string-or-categorical"
    return out


def read_table(path, orientation, sheet=""):
    """A dense CSV/TSV expression table and an optional sample sheet, read by pandas."""
    import pandas as pd
    with open_maybe_gzip(path) as f:
        first = f.readline().decode()
    sep = "\t" if first.count("\t") >= max(1, first.count(",")) else ","
    has_index = first.split(sep)[0].strip() in ("", '""')
    with open_maybe_gzip(path) as f:
        table = pd.read_csv(f, sep=sep, index_col=0 if has_index else None)
    if orientation == "genes-by-cells":
        table = table.T
    obs = pd.DataFrame(index=[str(x) for x in table.index])
    if sheet:
        with open_maybe_gzip(sheet) as f:
            annotation = pd.read_csv(f, sep=None, engine="python", index_col=0)
        annotation.index = [str(x) for x in annotation.index]
        obs = annotation.reindex(obs.index)
    import anndata
    adata = anndata.AnnData(X=sp.csr_matrix(table.to_numpy(dtype=np.float32)), obs=obs,
                            var=pd.DataFrame(index=[str(x) for x in table.columns]))
    out = from_anndata(adata)
    for col in out["obs"].values():
        if col["kind"] == "string":
            col["kind"] = "string-or-categorical"
    return out


def summarise(fmt, path, genome="", *extra):
    extra = [e for e in ((genome,) + extra) if e] if fmt == "table" else []
    if fmt == "h5ad":
        import anndata
        return from_anndata(anndata.read_h5ad(path))
    if fmt == "10x-h5":
        return read_10x_h5(path, genome)
    if fmt == "loom":
        return read_loom(path)
    if fmt == "mtx":
        return read_mtx(path)
    if fmt == "table":
        return read_table(path, *(extra or ["cells-by-genes"]))
    raise SystemExit("unknown format " + fmt)


def main():
    if sys.argv[1] == "--batch":
        # One interpreter for many files: lines of FORMAT<TAB>PATH[<TAB>GENOME]; prints a list.
        with open(sys.argv[2]) as listing:
            jobs = [line.rstrip("\n").split("\t") for line in listing if line.strip()]
        json.dump([summarise(*job) for job in jobs], sys.stdout)
        return
    json.dump(summarise(*sys.argv[1:]), sys.stdout)


if __name__ == "__main__":
    main()
