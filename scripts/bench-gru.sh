#!/usr/bin/env bash
# Fused GRU forward+backward over [32, 48, 64] -> 128, side by side in one run with PyTorch's nn.GRU
# (benchmarks/reference/gru_step.py), 1 thread, on each instruction set the CPU supports; prints the ratios
# (PyTorch time / lab time).
# usage: scripts/bench-gru.sh [PASSES=3]     PY: a python with torch (see benchmarks/reference/README.md)
#        ISAS: the lab's instruction sets to run (default: every one this CPU supports, `backdoor-lab bench isa --list`)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
passes="${1:-3}"
PY="${PY:-python3}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
isas="${ISAS:-$("$lab" bench isa --list)}"
for pass in $(seq 1 "$passes"); do
  "$PY" "$root/benchmarks/reference/gru_step.py" --threads 1 >> "$work/torch.jsonl"
  for isa in $isas; do BACKDOOR_LAB_ISA="$isa" "$lab" bench gru --threads 1 >> "$work/swift.jsonl"; done
done
"$PY" - "$work/torch.jsonl" "$work/swift.jsonl" <<'PY'
import json, statistics, sys
t = [json.loads(l) for l in open(sys.argv[1])]; lab = [json.loads(l) for l in open(sys.argv[2])]
m = lambda rows, k: statistics.median(r[k] for r in rows)
for isa in sorted({r["instruction_set"] for r in lab}):
    s = [r for r in lab if r["instruction_set"] == isa]
    print(json.dumps({
        "instruction_set": isa,
        "torch_forward_backward_ms": m(t, "forward_backward_ms"), "swift_forward_backward_ms": m(s, "forward_backward_ms"),
        "speedup_forward_backward": round(m(t, "forward_backward_ms") / m(s, "forward_backward_ms"), 3),
        "torch_forward_ms": m(t, "forward_ms"), "swift_forward_ms": m(s, "forward_ms"),
        "speedup_forward": round(m(t, "forward_ms") / m(s, "forward_ms"), 3)}))
PY
