#!/usr/bin/env bash
# Benchmark of loading a cohort: `transcura-cli info --json --checksum` (reads X in full and
# digests it) against anndata.read_h5ad (bench/bench_read_anchor.py, same digest afterwards) on
# the same 100k-cell h5ad, in one run, alternating the two, median of 3. Prints wall seconds per
# process, seconds of the read itself (read_cohort vs read_h5ad, measured inside each process),
# CPU seconds of the read (user + system, all threads; less sensitive to other load than wall
# time), peak resident memory (/usr/bin/time -v) and its ratio to the matrix's in-memory size (data +
# indices + indptr bytes as we hold them: float32, int32, int64). The digests must agree.
# A script, never a test: timings depend on the machine and its load.
#
# usage: bench/bench_read.sh [--file FILE.h5ad] [--cells 100000] [--genes 20000] [--runs 3]
#                            [--workdir DIR] [--cli PATH] [--keep]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
file=""
cells=100000
genes=20000
runs=3
workdir=""
keep=0
cli="${TRANSCURA_CLI:-}"
python=/usr/bin/python3  # Debian's python with anndata 0.8

while [[ $# -gt 0 ]]; do
    case "$1" in
        --file) file="$2"; shift 2 ;;
        --cells) cells="$2"; shift 2 ;;
        --genes) genes="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --workdir) workdir="$2"; shift 2 ;;
        --cli) cli="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "bench_read.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

if [[ -z "$cli" ]]; then
    for candidate in "$root/build/app/transcura-cli" "$root"/build*/app/transcura-cli; do
        [[ -x "$candidate" ]] && cli="$candidate" && break
    done
fi
if [[ -z "$cli" || ! -x "$cli" ]]; then
    echo "bench_read.sh: transcura-cli not found; build it or pass --cli PATH" >&2
    exit 2
fi
if [[ -z "$workdir" ]]; then
    workdir="$(mktemp -d "${TMPDIR:-/tmp}/transcura-bench-read.XXXXXX")"
    [[ $keep -eq 1 ]] || trap 'rm -rf "$workdir"' EXIT
fi
mkdir -p "$workdir"

if [[ -z "$file" ]]; then
    file="$workdir/simulated_${cells}x${genes}.h5ad"
    if [[ ! -f "$file" ]]; then
        echo "simulating $cells cells x $genes genes -> $file" >&2
        "$cli" simulate --cells "$cells" --genes "$genes" --types 8 --batches 4 \
            --batch-effect 0.2 --seed 1 -o "$file" >&2
    fi
fi

# Warm the page cache once so that neither side pays for the disk alone.
cat "$file" > /dev/null

for ((run = 1; run <= runs; ++run)); do
    /usr/bin/time -v -o "$workdir/ours_$run.time" "$cli" info "$file" --json --checksum \
        > "$workdir/ours_$run.json"
    /usr/bin/time -v -o "$workdir/anchor_$run.time" "$python" "$here/bench_read_anchor.py" "$file" \
        > "$workdir/anchor_$run.json"
done

"$python" - "$workdir" "$runs" "$file" <<'EOF'
import json, os, re, statistics, sys

workdir, runs, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def time_v(name):
    text = open(os.path.join(workdir, name)).read()
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text)
    h, m, s = wall.groups()
    seconds = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return seconds, rss_kb * 1024

rows = {}
for side in ("ours", "anchor"):
    walls, reads, cpus, peaks, digests = [], [], [], [], []
    for run in range(1, runs + 1):
        wall, peak = time_v(f"{side}_{run}.time")
        info = json.load(open(os.path.join(workdir, f"{side}_{run}.json")))
        walls.append(wall)
        reads.append(info["read_seconds"])
        cpus.append(info["read_cpu_seconds"])
        peaks.append(peak)
        digests.append((info["n_obs"], info["n_vars"], info["nnz"], info["x_sum"], info["x_checksum"]))
    rows[side] = dict(wall=statistics.median(walls), read=statistics.median(reads),
                      cpu=statistics.median(cpus),
                      peak=max(peaks), digest=digests[0], info=info)

n_obs, n_vars, nnz = rows["ours"]["digest"][:3]
matrix_bytes = nnz * (4 + 4) + (n_obs + 1) * 8
print(f"file            {path}")
print(f"shape           {n_obs} x {n_vars}, {nnz} non-zeros; matrix in memory {matrix_bytes / 2**20:.0f} MiB")
print(f"threads         {os.cpu_count()} cores; median of {runs} runs, alternating")
print(f"{'':16}{'wall s':>10}{'read s':>10}{'read cpu s':>12}{'peak MiB':>10}{'peak/matrix':>13}")
for side, label in (("ours", "transcura"), ("anchor", "anndata 0.8")):
    r = rows[side]
    print(f"{label:16}{r['wall']:10.2f}{r['read']:10.2f}{r['cpu']:12.2f}{r['peak'] / 2**20:10.0f}"
          f"{r['peak'] / matrix_bytes:13.2f}")
print(f"anchor/ours     wall {rows['anchor']['wall'] / rows['ours']['wall']:.2f}x, "
      f"read {rows['anchor']['read'] / rows['ours']['read']:.2f}x, "
      f"read cpu {rows['anchor']['cpu'] / rows['ours']['cpu']:.2f}x "
      f"(anndata import alone {rows['anchor']['info']['import_seconds']:.2f} s)")
same = all(abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))
           for a, b in zip(rows["ours"]["digest"], rows["anchor"]["digest"]))
print(f"X digests       {'equal' if same else 'DIFFER'} (sum {rows['ours']['digest'][3]:.6g}, "
      f"checksum {rows['ours']['digest'][4]:.6g})")
aim_time = rows["ours"]["read"] <= rows["anchor"]["read"]
aim_memory = rows["ours"]["peak"] <= 1.2 * matrix_bytes
print(f"aim             read at least as fast: {'met' if aim_time else 'NOT met'}; "
      f"peak <= 1.2x matrix: {'met' if aim_memory else 'NOT met'}")
sys.exit(0 if same else 1)
EOF
