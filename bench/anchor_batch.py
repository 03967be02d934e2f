#!/usr/bin/python3
"""The Python anchor for bench/bench_batch.sh: Harmony and the batch metrics the way a curator
runs them today (harmonypy, scikit-learn), on the same embedding transcura-cli diagnose gets.

  harmony     harmonypy.run_harmony(X_pca, obs, batch_key, theta=2)  (R harmony's default, as
              transcura), the corrected PCs = ho.Z_corr.T
  lisi        harmonypy.compute_lisi(emb, obs, [batch_key, label_key]) (perplexity 30, exact
              neighbours by scikit-learn), on X_pca and on the corrected PCs
  silhouette  label ASW: sklearn silhouette_score(emb, labels, sample_size=S, random_state=0);
              batch ASW (scib's silhouette_batch): on the same-size seeded subsample, per label,
              sklearn silhouette_samples of the batches, 1 - |s| averaged per label then over
              labels; on X_pca and on the corrected PCs

S (--silhouette-cells, default 20000) is the subsample transcura scores too (its
SilhouetteOptions.max_cells), so both sides do the same O(S^2) work. Reading the file is not
timed. Prints nothing but errors; --timings writes seconds per part and the metric values,
rewritten after each part so a run stopped early still leaves the parts it finished.

--lisi-queries M (default 0 = every cell, harmonypy.compute_lisi itself): on a loaded machine
the exact kd-tree search of 100k cells takes hours, so compute_lisi's own steps are run with
the tree fitted on every cell but queried by M seeded cells only (then compute_simpson on
those), and the query + Simpson time is scaled by n / M (both are linear in the number of
queries); the output says "lisi_extrapolated_from". Medians are then over the M cells.

usage: anchor_batch.py IN.h5ad --batch-key K --label-key L [--embedding X_pca]
       [--silhouette-cells 20000] [--lisi-queries M] [--timings OUT.json]
"""
import argparse
import json
import sys
import time
import warnings

import anndata
import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def batch_asw(emb, batch, labels):
    """scib.metrics.silhouette_batch (scale=True): per label, mean of 1 - |silhouette(batch)|."""
    from sklearn.metrics import silhouette_samples

    per_label = []
    for label in np.unique(labels):
        members = labels == label
        b = batch[members]
        n_batches = len(np.unique(b))
        if n_batches <= 1 or n_batches == members.sum():
            continue
        s = silhouette_samples(emb[members], b)
        per_label.append(np.mean(1.0 - np.abs(s)))
    return float(np.mean(per_label)) if per_label else float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("--batch-key", required=True)
    parser.add_argument("--label-key", required=True)
    parser.add_argument("--embedding", default="X_pca")
    parser.add_argument("--silhouette-cells", type=int, default=20000)
    parser.add_argument("--theta", type=float, default=2.0)
    parser.add_argument("--lisi-queries", type=int, default=0)
    parser.add_argument("--timings")
    args = parser.parse_args()

    import harmonypy
    from sklearn.metrics import silhouette_score

    adata = anndata.read_h5ad(args.input)
    emb = np.ascontiguousarray(adata.obsm[args.embedding], dtype=np.float64)
    obs = pd.DataFrame(
        {
            args.batch_key: adata.obs[args.batch_key].astype(str).values,
            args.label_key: adata.obs[args.label_key].astype(str).values,
        }
    )
    batch = obs[args.batch_key].values
    labels = obs[args.label_key].values
    n = emb.shape[0]
    out = {"n_cells": n, "n_dims": emb.shape[1], "seconds": {}, "cpu_seconds": {}, "metrics": {}}
    seconds = out["seconds"]
    cpu = out["cpu_seconds"]  # process CPU time, all threads (BLAS, OpenMP) included

    t, c = time.perf_counter(), time.process_time()
    ho = harmonypy.run_harmony(emb, obs, [args.batch_key], theta=args.theta, verbose=False)
    corrected = np.ascontiguousarray(ho.Z_corr.T)
    seconds["harmony"] = time.perf_counter() - t
    cpu["harmony"] = time.process_time() - c
    out["harmony_iterations"] = len(getattr(ho, "objective_harmony", [])) - 1
    save(out, args.timings)

    rng = np.random.RandomState(0)
    sample = np.sort(rng.choice(n, size=min(n, args.silhouette_cells), replace=False))
    for name, e in (("X_pca", emb), ("X_pca_harmony", corrected)):
        m = out["metrics"].setdefault(name, {})
        if 0 < args.lisi_queries < n:
            lisi, wall, used = lisi_extrapolated(e, obs, [args.batch_key, args.label_key],
                                                 args.lisi_queries)
            seconds[f"lisi {name}"], cpu[f"lisi {name}"] = wall, used
            out["lisi_extrapolated_from"] = args.lisi_queries
        else:
            t, c = time.perf_counter(), time.process_time()
            lisi = harmonypy.compute_lisi(e, obs, [args.batch_key, args.label_key])
            seconds[f"lisi {name}"] = time.perf_counter() - t
            cpu[f"lisi {name}"] = time.process_time() - c
        m["ilisi_median"] = float(np.median(lisi[:, 0]))
        m["clisi_median"] = float(np.median(lisi[:, 1]))

        t, c = time.perf_counter(), time.process_time()
        s = silhouette_score(
            e, labels, sample_size=min(n, args.silhouette_cells), random_state=0
        )
        m["asw_label"] = float((s + 1) / 2)
        m["asw_batch"] = batch_asw(e[sample], batch[sample], labels[sample])
        seconds[f"silhouette {name}"] = time.perf_counter() - t
        cpu[f"silhouette {name}"] = time.process_time() - c
        save(out, args.timings)

    seconds["total"] = sum(v for k, v in seconds.items())
    cpu["total"] = sum(v for k, v in cpu.items())
    save(out, args.timings)
    return 0


def save(out, path):
    if path:
        with open(path, "w") as f:
            json.dump(out, f, indent=2)


def lisi_extrapolated(emb, obs, columns, queries, perplexity=30):
    """harmonypy.compute_lisi's steps with M query cells; times scaled to every cell."""
    from harmonypy.lisi import compute_simpson
    from sklearn.neighbors import NearestNeighbors

    n = emb.shape[0]
    t, c = time.perf_counter(), time.process_time()
    knn = NearestNeighbors(n_neighbors=perplexity * 3, algorithm="kd_tree").fit(emb)
    fit_wall, fit_cpu = time.perf_counter() - t, time.process_time() - c
    rows = np.sort(np.random.RandomState(1).choice(n, size=queries, replace=False))
    t, c = time.perf_counter(), time.process_time()
    distances, indices = knn.kneighbors(emb[rows])
    indices, distances = indices[:, 1:], distances[:, 1:]
    lisi = np.zeros((queries, len(columns)))
    for i, label in enumerate(columns):
        labels = pd.Categorical(obs[label])
        simpson = compute_simpson(distances.T, indices.T, labels, len(labels.categories),
                                  perplexity)
        lisi[:, i] = 1 / simpson
    scale = n / queries
    wall = fit_wall + (time.perf_counter() - t) * scale
    used = fit_cpu + (time.process_time() - c) * scale
    return lisi, wall, used


if __name__ == "__main__":
    sys.exit(main())
