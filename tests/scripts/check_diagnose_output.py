#!/usr/bin/python3
"""What anndata sees in a `transcura-cli diagnose --write` file (tests/core/tst_diagnose_cli).

usage: check_diagnose_output.py OUT.h5ad EMBEDDING BATCH_KEY
Prints one JSON object: n_obs, obsm keys and shapes, the per-cell score columns with their
dtype, NaN count and median, the kBET verdicts (tested, accepted), and harmonypy.compute_lisi's
iLISI median on obsm[EMBEDDING + "_harmony"] (exact neighbours), to compare with the stored
per-cell iLISI.
"""
import json
import sys

import anndata
import harmonypy
import numpy as np
import pandas as pd


def main():
    path, embedding, batch_key = sys.argv[1:4]
    adata = anndata.read_h5ad(path)
    out = {
        "n_obs": int(adata.n_obs),
        "obsm": {k: list(v.shape) for k, v in adata.obsm.items()},
        "columns": {},
    }
    for name in adata.obs.columns:
        if not name.startswith(("ilisi_", "clisi_", "kbet_accepted_")):
            continue
        values = adata.obs[name].to_numpy(dtype=float)
        out["columns"][name] = {
            "dtype": str(adata.obs[name].dtype),
            "nan": int(np.isnan(values).sum()),
            "median": float(np.nanmedian(values)),
        }
        if name.startswith("kbet_accepted_"):
            out["columns"][name]["tested"] = int((~np.isnan(values)).sum())
            out["columns"][name]["accepted"] = int(np.nansum(values))
    corrected = f"{embedding}_harmony"
    if corrected in adata.obsm:
        meta = pd.DataFrame({batch_key: adata.obs[batch_key].astype(str).values})
        lisi = harmonypy.compute_lisi(np.asarray(adata.obsm[corrected], dtype=float), meta,
                                      [batch_key])
        out["harmonypy_ilisi"] = lisi[:, 0].tolist()
        out["harmonypy_ilisi_median"] = float(np.median(lisi[:, 0]))
    out["has_uns_batch_diagnostics"] = "batch_diagnostics" in adata.uns
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
