#!/usr/bin/env bash
# Benchmark of the batch diagnostics and Harmony: `transcura-cli diagnose --harmony` against the
# Python anchor (bench/anchor_batch.py: harmonypy.run_harmony + harmonypy.compute_lisi +
# scikit-learn silhouette_score / silhouette_samples) on the same 50-PC embedding of a simulated
# cohort, in one run. Prints seconds per part for both, the ratio anchor / transcura, and the
# metric values side by side, and CPU seconds (all threads) next to the wall times, which on a
# shared machine depend on the load. A script, never a test: timings depend on the machine.
#
# Both sides: Harmony (theta 2) on X_pca, then iLISI / cLISI and label / batch ASW on X_pca and
# on the corrected PCs; silhouettes on the same-size 20000-cell seeded subsample. transcura also
# computes kBET, PC regression, graph connectivity and per-batch summaries (counted in its
# total); its neighbours are HNSW above 20000 cells, the anchor's are exact (scikit-learn).
#
# usage: bench/bench_batch.sh [--cells 100000] [--genes 2000] [--threads N] [--workdir DIR]
#                             [--cli PATH] [--keep] [--reuse-anchor] [--lisi-queries M]
#                             [--summary-only]
# --summary-only prints the table from the files a previous run left in --workdir.
# --lisi-queries M: the anchor's exact LISI search is timed on M query cells and scaled to all
# (see anchor_batch.py); 0 (default) runs harmonypy.compute_lisi on every cell.
# With --workdir, an existing pcs.h5ad there is reused; --reuse-anchor also keeps its anchor.json
# (the anchor takes many minutes at 100k cells) and reruns transcura only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cells=100000
genes=2000
threads=0
workdir=""
keep=0
reuse_anchor=0
lisi_queries=0
summary_only=0
cli="${TRANSCURA_CLI:-}"
python=/usr/bin/python3  # Debian's python with anndata, harmonypy, scikit-learn

while [[ $# -gt 0 ]]; do
    case "$1" in
        --cells) cells="$2"; shift 2 ;;
        --genes) genes="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --workdir) workdir="$2"; shift 2 ;;
        --cli) cli="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        --reuse-anchor) reuse_anchor=1; shift ;;
        --lisi-queries) lisi_queries="$2"; shift 2 ;;
        --summary-only) summary_only=1; shift ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) echo "bench_batch.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

if [[ -z "$cli" ]]; then
    for candidate in "$root/build/app/transcura-cli" "$root/../build/app/transcura-cli"; do
        [[ -x "$candidate" ]] && cli="$candidate" && break
    done
fi
if [[ -z "$cli" || ! -x "$cli" ]]; then
    echo "bench_batch.sh: transcura-cli not found; build it or pass --cli PATH" >&2
    exit 2
fi
if [[ -z "$workdir" ]]; then
    workdir="$(mktemp -d "${TMPDIR:-/tmp}/transcura-bench-batch.XXXXXX")"
    [[ $keep -eq 1 ]] || trap 'rm -rf "$workdir"' EXIT
fi
mkdir -p "$workdir"
thread_args=()
[[ "$threads" -gt 0 ]] && thread_args=(--threads "$threads")

if [[ $summary_only -eq 0 ]]; then
echo "transcura-cli: $cli"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo)"
echo
echo "== input: $cells cells x $genes genes (10 types, 4 batches, batch effect 0.2), 50 PCs =="
sim="$workdir/sim.h5ad"
pcs="$workdir/pcs.h5ad"
if [[ ! -s "$pcs" ]]; then
    "$cli" simulate --cells "$cells" --genes "$genes" --types 10 --batches 4 --batch-effect 0.2 \
        --donors-per-batch 2 --seed 0 "${thread_args[@]}" -o "$sim"
    # The standard pipeline gives X_pca (not timed here; see bench_pipeline.sh).
    "$cli" run "$sim" -o "$pcs" --batch-key batch --n-pcs 50 --seed 0 "${thread_args[@]}" --quiet
    rm -f "$sim"
fi

start=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$workdir/transcura_cpu" \
    "$cli" diagnose "$pcs" --batch-key batch --label-key cell_type --harmony --seed 0 \
    --json "$workdir/transcura.json" --quiet "${thread_args[@]}"
end=$(date +%s.%N)
echo "$start $end" > "$workdir/transcura_wall"

if [[ $reuse_anchor -eq 0 || ! -s "$workdir/anchor.json" ]]; then
    "$python" "$here/anchor_batch.py" "$pcs" --batch-key batch --label-key cell_type \
        --silhouette-cells 20000 --lisi-queries "$lisi_queries" --timings "$workdir/anchor.json"
fi

fi

"$python" - "$workdir" <<'EOF'
import json
import sys

workdir = sys.argv[1]
ours = json.load(open(f"{workdir}/transcura.json"))
anchor = json.load(open(f"{workdir}/anchor.json"))
start, end = map(float, open(f"{workdir}/transcura_wall").read().split())
embeddings = ["X_pca", "X_pca_harmony"]
sec = {e: ours[e]["details"]["seconds"] for e in embeddings}
a = anchor["seconds"]

def part(names):
    return sum(sec[e].get(n, 0.0) for e in embeddings for n in names)

rows = [
    ("Harmony", ours["X_pca_harmony"]["harmony"]["seconds"], a["harmony"]),
    ("neighbours + LISI", part(["neighbours", "LISI"]), sum(a[f"lisi {e}"] for e in embeddings)),
    ("silhouettes", part(["silhouette"]), sum(a[f"silhouette {e}"] for e in embeddings)),
    ("kBET, PCR, graph, summary", part(["kBET", "PC regression", "graph connectivity",
                                        "batch summary"]), None),
]
total_ours = sum(r[1] for r in rows)
total_anchor = a["total"]
print(f"\n{ours['X_pca']['n_cells']} cells, {anchor['n_dims']} PCs; neighbours: transcura "
      f"{ours['X_pca']['details']['neighbors']} (k {ours['X_pca']['details']['neighbors_k']}), "
      f"anchor exact; silhouettes on {ours['X_pca']['details']['silhouette_cells']} cells")
if "lisi_extrapolated_from" in anchor:
    print(f"(anchor LISI time: kd-tree fitted on all cells, queried by "
          f"{anchor['lisi_extrapolated_from']} and scaled to all; its LISI medians are over those)")
print(f"{'part':<28}{'transcura s':>12}{'anchor s':>11}{'anchor/transcura':>18}")
for name, mine, theirs in rows:
    t = f"{theirs:11.2f}" if theirs is not None else f"{'(none)':>11}"
    r = f"{theirs / mine:18.1f}" if theirs and mine > 0 else f"{'-':>18}"
    print(f"{name:<28}{mine:12.2f}{t}{r}")
print(f"{'total (compute)':<28}{total_ours:12.2f}{total_anchor:11.2f}{total_anchor / total_ours:18.1f}")
print(f"{'transcura-cli wall (+read)':<28}{end - start:12.2f}")
user, system = map(float, open(f"{workdir}/transcura_cpu").read().split()[-2:])
cpu_anchor = anchor.get("cpu_seconds", {}).get("total")
if cpu_anchor:
    print(f"{'CPU s, all threads':<28}{user + system:12.2f}{cpu_anchor:11.2f}"
          f"{cpu_anchor / (user + system):18.1f}   (transcura: whole command, read included)")
    for name in ["harmony"] + [f"{p} {e}" for p in ("lisi", "silhouette") for e in embeddings]:
        print(f"  anchor CPU s, {name:<26}{anchor['cpu_seconds'][name]:10.2f}")
else:
    print(f"{'CPU s, all threads':<28}{user + system:12.2f}{'-':>11}")
print(f"Harmony iterations: transcura {ours['X_pca_harmony']['harmony']['iterations']}, "
      f"harmonypy {anchor.get('harmony_iterations', '-')}")
print(f"\n{'metric':<16}" + "".join(f"{s + ' ' + e:>26}" for e in embeddings for s in ("ours", "anchor")))
for key in ("ilisi_median", "clisi_median", "asw_label", "asw_batch"):
    cells = []
    for e in embeddings:
        cells.append(ours[e].get(key))
        cells.append(anchor["metrics"][e].get(key))
    print(f"{key:<16}" + "".join(f"{c:26.4f}" if c is not None else f"{'-':>26}" for c in cells))
print(f"{'kbet_acceptance':<16}" + f"{ours['X_pca']['kbet_acceptance']:26.4f}{'-':>26}"
      f"{ours['X_pca_harmony']['kbet_acceptance']:26.4f}{'-':>26}")
print(f"{'pcr_batch':<16}" + f"{ours['X_pca']['pcr_batch']:26.4f}{'-':>26}"
      f"{ours['X_pca_harmony']['pcr_batch']:26.4f}{'-':>26}")
EOF
