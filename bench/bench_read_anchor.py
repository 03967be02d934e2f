#!/usr/bin/python3
"""Anchor for bench/bench_read.sh: anndata.read_h5ad on one file, then the same digest of X that
`transcura-cli info --checksum` prints (sum, and each value weighted by (row*31+col)%1000+1),
computed in row blocks after the timed read so that it adds neither time nor peak memory.

usage: bench_read_anchor.py FILE.h5ad   (prints one JSON object)
"""
import json
import resource
import sys
import time


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


start = time.perf_counter()
import anndata  # noqa: E402  (the import is timed separately from the read)
import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

imported = time.perf_counter()
cpu_before = cpu_seconds()
adata = anndata.read_h5ad(sys.argv[1])
x = adata.X
read_seconds = time.perf_counter() - imported
read_cpu_seconds = cpu_seconds() - cpu_before

total, checksum = 0.0, 0.0
if sp.issparse(x):
    x = x.tocsr() if not sp.isspmatrix_csr(x) else x
    block = 500  # ~0.8 M entries per block: the digest adds little to the peak memory
    for first in range(0, x.shape[0], block):
        part = x[first:first + block]
        rows = np.repeat(np.arange(first, first + part.shape[0], dtype=np.int64), np.diff(part.indptr))
        weights = ((rows * 31 + part.indices.astype(np.int64)) % 1000 + 1).astype(np.float64)
        values = part.data.astype(np.float64)
        total += float(values.sum())
        checksum += float(np.dot(values, weights))
elif x is not None:
    cols = np.arange(x.shape[1], dtype=np.int64)
    for r in range(x.shape[0]):
        values = np.asarray(x[r], dtype=np.float64)
        total += float(values.sum())
        checksum += float(np.dot(values, ((r * 31 + cols) % 1000 + 1).astype(np.float64)))

json.dump({"n_obs": int(adata.n_obs), "n_vars": int(adata.n_vars),
           "nnz": int(x.nnz) if sp.issparse(x) else int(np.count_nonzero(x)),
           "x_sum": total, "x_checksum": checksum, "import_seconds": imported - start,
           "read_seconds": read_seconds, "read_cpu_seconds": read_cpu_seconds}, sys.stdout)
print()
