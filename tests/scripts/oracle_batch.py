#!/usr/bin/python3
"""Oracles for the batch diagnostics (tests/core/tst_lisi, tst_silhouette, tst_kbet_pcr,
tst_harmony). Inputs and outputs are raw little-endian files in the test's temporary folder:
embeddings as float64 (n x d, row-major), codes as int32, index lists as int64. Each command
prints one JSON object.

  prepare_pbmc OUTDIR            pbmc3500 PCs, harmonized reference and donor codes -> OUTDIR
  lisi EMB N D CODES [CODES...]  harmonypy.compute_lisi per cell, one list per code file
  silhouette EMB N D CODES       sklearn silhouette_samples / silhouette_score
  asw EMB N D BATCH LABELS       scib batch ASW (per label 1-|s|) and label ASW ((s+1)/2)
  pcr EMB N D BATCH              R^2 of an OLS fit per PC (numpy lstsq), variance-weighted
  chi2 X,DF X,DF ...             scipy.stats.chi2.sf
  kbet EMB N D BATCH TESTED K0   chi-square p-values of the tested cells' neighbourhoods
  graph EMB N D LABELS K         scib graph connectivity on the k-NN graph (k counts self)
  simulate OUTDIR N SHIFT SEED [D [flat|decay]]  Gaussian types + batch shifts -> OUTDIR
  harmony EMB N D BATCH LABELS OUT  harmonypy (theta 2) -> OUT; LISI medians after it
"""
import json
import logging
import os
import sys

import numpy as np
import pandas as pd

PBMC = "batch_reference/harmonypy_pbmc3500"


def shared_data():
    root = os.environ.get("TRANSCURA_SHARED_DATA")
    return root if root else os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared",
                                          "data")


def load_emb(path, n, d):
    return np.fromfile(path, dtype="<f8").reshape(int(n), int(d))


def load_codes(path):
    return np.fromfile(path, dtype="<i4")


def lisi_per_cell(emb, codes_list):
    import harmonypy
    meta = pd.DataFrame({f"c{i}": pd.Categorical(c) for i, c in enumerate(codes_list)})
    return harmonypy.compute_lisi(emb, meta, list(meta.columns))


def cmd_prepare_pbmc(outdir):
    base = os.path.join(shared_data(), PBMC)
    meta = pd.read_csv(os.path.join(base, "pbmc_3500_meta.tsv.gz"), sep="\t")
    pcs = pd.read_csv(os.path.join(base, "pbmc_3500_pcs.tsv.gz"), sep="\t").to_numpy()
    ref = pd.read_csv(os.path.join(base, "pbmc_3500_pcs_harmonized.tsv.gz"), sep="\t").to_numpy()
    donors = pd.Categorical(meta["donor"])
    pcs.astype("<f8").tofile(os.path.join(outdir, "pcs.bin"))
    ref.astype("<f8").tofile(os.path.join(outdir, "harmonized.bin"))
    donors.codes.astype("<i4").tofile(os.path.join(outdir, "donor.bin"))
    # Cell-type proxy for cLISI / label metrics: k-means on the batch-corrected reference, so
    # the labels follow biology rather than donors.
    from sklearn.cluster import KMeans
    labels = KMeans(n_clusters=8, n_init=10, random_state=0).fit_predict(ref)
    labels.astype("<i4").tofile(os.path.join(outdir, "labels.bin"))
    return {"n": int(pcs.shape[0]), "d": int(pcs.shape[1]),
            "donors": [str(c) for c in donors.categories]}


def cmd_lisi(emb_path, n, d, *code_paths):
    emb = load_emb(emb_path, n, d)
    values = lisi_per_cell(emb, [load_codes(p) for p in code_paths])
    return {"lisi": [values[:, i].tolist() for i in range(values.shape[1])],
            "median": [float(np.median(values[:, i])) for i in range(values.shape[1])]}


def cmd_silhouette(emb_path, n, d, codes_path):
    from sklearn.metrics import silhouette_samples, silhouette_score
    emb = load_emb(emb_path, n, d)
    codes = load_codes(codes_path)
    return {"samples": silhouette_samples(emb, codes).tolist(),
            "score": float(silhouette_score(emb, codes))}


def cmd_asw(emb_path, n, d, batch_path, label_path):
    from sklearn.metrics import silhouette_samples, silhouette_score
    emb = load_emb(emb_path, n, d)
    batch = load_codes(batch_path)
    labels = load_codes(label_path)
    # scib.metrics.silhouette_batch (scale=True): per label, silhouette of batch within the
    # label's cells, 1 - |s| per cell, mean per label, then mean over labels. Labels with a
    # single batch, or as many batches as cells, are skipped.
    per_label = {}
    for label in np.unique(labels):
        mask = labels == label
        n_batches = len(np.unique(batch[mask]))
        if n_batches == 1 or n_batches == mask.sum():
            continue
        s = silhouette_samples(emb[mask], batch[mask])
        per_label[int(label)] = float(np.mean(1 - np.abs(s)))
    asw_batch = float(np.mean(list(per_label.values())))
    # scib.metrics.silhouette (scale=True)
    asw_label = float((silhouette_score(emb, labels) + 1) / 2)
    return {"asw_batch": asw_batch, "asw_label": asw_label,
            "per_label": {str(k): v for k, v in per_label.items()}}


def cmd_pcr(emb_path, n, d, batch_path):
    emb = load_emb(emb_path, n, d)
    batch = load_codes(batch_path)
    design = np.column_stack([np.ones(len(batch))] +
                             [(batch == b).astype(float) for b in np.unique(batch)[1:]])
    r2 = []
    for j in range(emb.shape[1]):
        y = emb[:, j]
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        resid = y - design @ coef
        r2.append(1.0 - float(resid @ resid) / float(((y - y.mean()) ** 2).sum()))
    var = emb.var(axis=0)
    return {"r2": r2, "weighted": float(np.sum(np.array(r2) * var) / np.sum(var))}


def cmd_chi2(*pairs):
    from scipy.stats import chi2
    out = []
    for pair in pairs:
        x, df = (float(v) for v in pair.split(","))
        out.append(float(chi2.sf(x, df)))
    return {"sf": out}


def cmd_kbet(emb_path, n, d, batch_path, tested_path, k0):
    from scipy.stats import chi2
    from sklearn.neighbors import NearestNeighbors
    emb = load_emb(emb_path, n, d)
    batch = load_codes(batch_path)
    tested = np.fromfile(tested_path, dtype="<i8")
    k0 = int(k0)
    present = np.unique(batch)
    freq = np.array([(batch == b).mean() for b in present])
    # kBET: the cell itself plus its k0 - 1 nearest neighbours.
    _, idx = NearestNeighbors(n_neighbors=k0).fit(emb).kneighbors(emb[tested])
    pvalues = []
    for row in idx:
        counts = np.array([(batch[row] == b).sum() for b in present])
        expected = freq * k0
        stat = float(((counts - expected) ** 2 / expected).sum())
        pvalues.append(float(chi2.sf(stat, len(present) - 1)))
    pvalues = np.array(pvalues)
    return {"pvalues": pvalues.tolist(), "rejection": float((pvalues < 0.05).mean())}


def cmd_graph(emb_path, n, d, label_path, k):
    from scipy.sparse.csgraph import connected_components
    from sklearn.neighbors import kneighbors_graph
    emb = load_emb(emb_path, n, d)
    labels = load_codes(label_path)
    # k neighbours counting the cell itself, as scanpy's n_neighbors; union-symmetrised.
    graph = kneighbors_graph(emb, n_neighbors=int(k) - 1, mode="connectivity")
    graph = ((graph + graph.T) > 0).astype(float)
    result = []
    for label in np.unique(labels):
        mask = np.flatnonzero(labels == label)
        _, comp = connected_components(graph[mask][:, mask], connection="strong")
        result.append(float(np.bincount(comp).max() / len(mask)))
    return {"per_label": result, "score": float(np.mean(result))}


def cmd_simulate(outdir, n, shift, seed, d=30, spectrum="flat"):
    """Cell types as Gaussian clusters in D (30) dimensions; each batch adds its own offset
    (scaled by SHIFT) to every cell; unequal batch sizes and type proportions. With spectrum
    "decay" every coordinate j is scaled by (j + 1)^-0.5, like PCs' decaying variances."""
    rng = np.random.default_rng(int(seed))
    n, d, n_types, n_batches = int(n), int(d), 6, 3
    type_centres = rng.normal(0, 4.0, size=(n_types, d))
    batch_offsets = rng.normal(0, 1.0, size=(n_batches, d))
    batch = rng.choice(n_batches, size=n, p=[0.5, 0.3, 0.2]).astype("<i4")
    labels = rng.choice(n_types, size=n, p=[0.3, 0.25, 0.2, 0.1, 0.1, 0.05]).astype("<i4")
    emb = type_centres[labels] + rng.normal(0, 1.0, size=(n, d))
    emb += float(shift) * 0.6 * batch_offsets[batch]
    if spectrum == "decay":
        emb *= (np.arange(d) + 1.0) ** -0.5
    emb.astype("<f8").tofile(os.path.join(outdir, "emb.bin"))
    batch.tofile(os.path.join(outdir, "batch.bin"))
    labels.tofile(os.path.join(outdir, "labels.bin"))
    return {"n": n, "d": d}


def cmd_harmony(emb_path, n, d, batch_path, label_path, out_path):
    import harmonypy
    logging.getLogger("harmonypy").setLevel(logging.WARNING)
    emb = load_emb(emb_path, n, d)
    batch = load_codes(batch_path)
    labels = load_codes(label_path)
    meta = pd.DataFrame({"batch": pd.Categorical(batch)})
    ho = harmonypy.run_harmony(emb, meta, ["batch"], theta=2, verbose=False)
    corrected = np.asarray(ho.Z_corr).T
    corrected.astype("<f8").tofile(out_path)
    after = lisi_per_cell(corrected, [batch, labels])
    return {"ilisi_after": float(np.median(after[:, 0])),
            "clisi_after": float(np.median(after[:, 1])),
            "iterations": len(ho.objective_harmony) - 1}


def main():
    command, args = sys.argv[1], sys.argv[2:]
    result = globals()["cmd_" + command](*args)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
