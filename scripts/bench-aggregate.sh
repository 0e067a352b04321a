#!/usr/bin/env bash
# Aggregation timings side by side in one run: `backdoor-lab bench aggregate` against the aggregator timings of
# benchmarks/reference/fl_round.py (20 updates of the GRU classifier's 1.35 M parameters; numpy/torch, 1 thread).
# usage: scripts/bench-aggregate.sh     PY: a python with torch and numpy (see benchmarks/reference/README.md)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reference="$root/benchmarks/reference"
PY="${PY:-python3}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$root" && swift build -c release --product backdoor-lab >&2)
(cd "$reference" && "$PY" fl_round.py --threads 1 --rounds 1 --warmup-rounds 0 --agg-repeats 5) > "$work/torch.json"
params="$("$PY" -c "import json,sys; print(json.load(open(sys.argv[1]))['params'])" "$work/torch.json")"
"$root/.build/release/backdoor-lab" bench aggregate --params "$params" > "$work/lab.json"
"$PY" - "$work/torch.json" "$work/lab.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["aggregators"]; l = json.load(open(sys.argv[2]))
rows = [("mean (FedAvg)", t["mean_s"], l["mean_s"]),
        ("exact median (numpy.median)", t["median_numpy_s"], l["median_exact_s"]),
        ("exact median (torch.sort)", t["median_sort_exact_s"], l["median_exact_s"]),
        ("Krum, Gram matrix (torch)", t["krum_gram_s"], l["krum_gram_s"])]
print("| rule | reference s | lab s | lab / reference |")
print("|---|---|---|---|")
for name, ref, lab in rows:
    print(f"| {name} | {ref:.4f} | {lab:.4f} | {lab / ref:.2f} |")
print(f"| trimmed mean β 0.2 (no reference timing) | | {l['trimmed_mean_s']:.4f} | |")
PY
