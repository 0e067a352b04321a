#!/usr/bin/env bash
# Fused GRU forward+backward over [32, 48, 64] -> 128, side by side in one run with PyTorch's nn.GRU
# (benchmarks/reference/gru_step.py), 1 thread; prints the ratio (PyTorch time / lab time).
# usage: scripts/bench-gru.sh [PASSES=3]     PY: a python with torch (see benchmarks/reference/README.md)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
passes="${1:-3}"
PY="${PY:-python3}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$root" && swift build -c release --product backdoor-lab >&2)
for pass in $(seq 1 "$passes"); do
  "$PY" "$root/benchmarks/reference/gru_step.py" --threads 1 >> "$work/torch.jsonl"
  "$root/.build/release/backdoor-lab" bench gru --threads 1 >> "$work/swift.jsonl"
done
"$PY" - "$work/torch.jsonl" "$work/swift.jsonl" <<'PY'
import json, statistics, sys
t = [json.loads(l) for l in open(sys.argv[1])]; s = [json.loads(l) for l in open(sys.argv[2])]
m = lambda rows, k: statistics.median(r[k] for r in rows)
print(json.dumps({
    "torch_forward_backward_ms": m(t, "forward_backward_ms"), "swift_forward_backward_ms": m(s, "forward_backward_ms"),
    "speedup_forward_backward": round(m(t, "forward_backward_ms") / m(s, "forward_backward_ms"), 3),
    "torch_forward_ms": m(t, "forward_ms"), "swift_forward_ms": m(s, "forward_ms"),
    "speedup_forward": round(m(t, "forward_ms") / m(s, "forward_ms"), 3)}))
PY
