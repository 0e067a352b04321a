#!/usr/bin/env bash
# Seconds per federated round side by side in one run: `backdoor-lab bench fl-round` against
# benchmarks/reference/fl_round.py (20 clients × 200 sequences × 2 local epochs, GRU classifier, SGD),
# 1 and 2 threads; prints lab / PyTorch time ratios (median of passes; the goal is ≤ 0.5).
# usage: scripts/bench-federated.sh [PASSES=2]    PY: a python with torch (see benchmarks/reference/README.md)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reference="$root/benchmarks/reference"
passes="${1:-2}"
PY="${PY:-python3}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
for pass in $(seq 1 "$passes"); do
  for threads in 1 2; do
    echo "pass $pass, $threads thread(s)" >&2
    (cd "$reference" && "$PY" fl_round.py --threads "$threads" --agg-repeats 1) >> "$work/torch.jsonl"
    "$lab" bench fl-round --threads "$threads" >> "$work/lab.jsonl"
  done
done
"$PY" - "$work/torch.jsonl" "$work/lab.jsonl" <<'PY'
import json, statistics, sys
def load(path, key):
    out = {}
    for line in open(path):
        r = json.loads(line)
        threads = r["config"]["threads"] if "config" in r else r["threads"]
        out.setdefault(threads, []).append(r[key])
    return {t: statistics.median(v) for t, v in out.items()}
torch = load(sys.argv[1], "round_s_median"); lab = load(sys.argv[2], "round_s_median")
print("| threads | PyTorch s/round | lab s/round | lab / PyTorch |")
print("|---|---|---|---|")
for t in sorted(torch):
    print(f"| {t} | {torch[t]:.2f} | {lab[t]:.2f} | {lab[t] / torch[t]:.2f} |")
PY
