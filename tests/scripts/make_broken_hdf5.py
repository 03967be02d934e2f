#!/usr/bin/python3
"""Writes malformed HDF5 cohort files, one per line printed as `NAME<TAB>PATH<TAB>EXPECTED`,
where EXPECTED is a word the reader's error message must contain.

usage: make_broken_hdf5.py OUTDIR
"""
import os
import sys

import h5py
import numpy as np

out = sys.argv[1]
cases = []
str_dtype = h5py.string_dtype("utf-8")


def anndata_skeleton(f, n_obs=4, n_vars=3):
    f.attrs["encoding-type"] = "anndata"
    f.attrs["encoding-version"] = "0.1.0"
    for axis, n in (("obs", n_obs), ("var", n_vars)):
        g = f.create_group(axis)
        g.attrs["encoding-type"] = "dataframe"
        g.attrs["encoding-version"] = "0.2.0"
        g.attrs["_index"] = "_index"
        g.attrs["column-order"] = np.array([], dtype=str_dtype)
        g.create_dataset("_index", data=np.array([f"{axis}{i}" for i in range(n)], dtype=object), dtype=str_dtype)


def csr(f, data, indices, indptr, shape, name="X"):
    g = f.create_group(name)
    g.attrs["encoding-type"] = "csr_matrix"
    g.attrs["encoding-version"] = "0.1.0"
    g.attrs["shape"] = np.array(shape, dtype=np.int64)
    g.create_dataset("data", data=np.array(data, dtype=np.float32))
    g.create_dataset("indices", data=np.array(indices, dtype=np.int32))
    g.create_dataset("indptr", data=np.array(indptr, dtype=np.int64))
    return g


def case(name, expected, writer, suffix=".h5ad"):
    path = os.path.join(out, name + suffix)
    with h5py.File(path, "w") as f:
        writer(f)
    cases.append((name, path, expected))


good_indptr = [0, 1, 2, 3, 4]
case("indptr_too_short", "indptr", lambda f: (anndata_skeleton(f), csr(f, [1, 2, 3, 4], [0, 1, 2, 0], [0, 1, 2, 4], [4, 3])))
case("index_out_of_range", "out of range", lambda f: (anndata_skeleton(f), csr(f, [1, 2, 3, 4], [0, 1, 7, 0], good_indptr, [4, 3])))
case("negative_index", "out of range", lambda f: (anndata_skeleton(f), csr(f, [1, 2, 3, 4], [0, -1, 2, 0], good_indptr, [4, 3])))
case("indptr_decreasing", "indptr", lambda f: (anndata_skeleton(f), csr(f, [1, 2, 3, 4], [0, 1, 2, 0], [0, 2, 1, 3, 4], [4, 3])))
case("indptr_end_mismatch", "indptr", lambda f: (anndata_skeleton(f), csr(f, [1, 2, 3, 4], [0, 1, 2, 0], [0, 1, 2, 3, 3], [4, 3])))
case("data_indices_mismatch", "data", lambda f: (anndata_skeleton(f), csr(f, [1, 2, 3], [0, 1, 2, 0], good_indptr, [4, 3])))
case("negative_shape", "negative", lambda f: (anndata_skeleton(f), csr(f, [], [], [0], [-4, 3])))
case("absurd_shape", "absurd", lambda f: (anndata_skeleton(f), csr(f, [1], [0], [0, 1], [4, 10**15])))
case("shape_mismatch_obs", "does not match", lambda f: (anndata_skeleton(f, n_obs=5), csr(f, [1, 2, 3, 4], [0, 1, 2, 0], good_indptr, [4, 3])))
case("x_strings", "numeric", lambda f: (anndata_skeleton(f), f.create_dataset("X", data=np.array([["a"] * 3] * 4, dtype=object), dtype=str_dtype)))


def bad_categorical(f):
    anndata_skeleton(f)
    csr(f, [1, 2, 3, 4], [0, 1, 2, 0], good_indptr, [4, 3])
    g = f["obs"].create_group("cell_type")
    g.attrs["encoding-type"] = "categorical"
    g.attrs["encoding-version"] = "0.2.0"
    g.attrs["ordered"] = False
    g.create_dataset("codes", data=np.array([0, 1, 5, 0], dtype=np.int8))
    g.create_dataset("categories", data=np.array(["a", "b"], dtype=object), dtype=str_dtype)
    f["obs"].attrs["column-order"] = np.array(["cell_type"], dtype=str_dtype)


case("categorical_code_out_of_range", "categories", bad_categorical)


def short_column(f):
    anndata_skeleton(f)
    csr(f, [1, 2, 3, 4], [0, 1, 2, 0], good_indptr, [4, 3])
    f["obs"].create_dataset("n_counts", data=np.arange(3, dtype=np.float64))
    f["obs"].attrs["column-order"] = np.array(["n_counts"], dtype=str_dtype)


case("obs_column_wrong_length", "expected 4", short_column)


def missing_column(f):
    anndata_skeleton(f)
    f["obs"].attrs["column-order"] = np.array(["ghost"], dtype=str_dtype)


case("column_order_names_missing", "ghost", missing_column)


def tenx(f, data, barcodes=4, shape=(3, 4)):
    g = f.create_group("matrix")
    g.create_dataset("data", data=np.array(data, dtype=np.float64))
    g.create_dataset("indices", data=np.array([0, 1, 2, 0], dtype=np.int64))
    g.create_dataset("indptr", data=np.array([0, 1, 2, 3, 4], dtype=np.int64))
    g.create_dataset("shape", data=np.array(shape, dtype=np.int32))
    g.create_dataset("barcodes", data=np.array([f"BC{i}" for i in range(barcodes)], dtype="S4"))
    feats = g.create_group("features")
    feats.create_dataset("id", data=np.array([b"G0", b"G1", b"G2"]))
    feats.create_dataset("name", data=np.array([b"A", b"B", b"C"]))


case("tenx_negative_counts", "not a count", lambda f: tenx(f, [1, -2, 3, 4]), ".h5")
case("tenx_nan_counts", "not a count", lambda f: tenx(f, [1, np.nan, 3, 4]), ".h5")
case("tenx_barcode_count", "barcodes", lambda f: tenx(f, [1, 2, 3, 4], barcodes=3), ".h5")
case("loom_matrix_1d", "2-D", lambda f: (f.create_dataset("matrix", data=np.arange(5.0)), f.create_group("row_attrs"), f.create_group("col_attrs")), ".loom")
case("unknown_layout", "not a 10x file", lambda f: f.create_dataset("something", data=np.arange(3)), ".h5")

for name, path, expected in cases:
    print(f"{name}\t{path}\t{expected}")
