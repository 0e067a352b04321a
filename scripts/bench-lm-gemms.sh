#!/usr/bin/env bash
# The LM step's three decoder products side by side in one run: `backdoor-lab bench gemm --shape` against the same
# products in PyTorch (torch.mm, one thread), in the shapes of benchmarks/reference/gru_lm_train.py (512 positions,
# 128 hidden, 10,000 words): logits h·Wᵀ, the input gradient G·W and the weight gradient Gᵀ·h. Prints GFLOP/s and
# lab / PyTorch per product (median of passes). They bound the LM's training-throughput ratio (scripts/bench-train.sh):
# the step cannot be faster than these products let it be. (The LM's step makes Gᵀ·h slice by slice
# from cache inside its loss, faster than the whole product measured here.)
# usage: scripts/bench-lm-gemms.sh [PASSES=3]     PY: a python with torch (see benchmarks/reference/README.md)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
passes="${1:-3}"
PY="${PY:-python3}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
# name MxNxK lab-options (op(A) M×K, op(B) K×N; h [512,128], W [10000,128], G [512,10000] as stored)
products=("logits 512x10000x128 --transpose-b" "input-gradient 512x128x10000" "weight-gradient 10000x128x512 --transpose-a")
for pass in $(seq 1 "$passes"); do
  "$PY" - >> "$work/torch.jsonl" <<'PY'
import json, time, torch
torch.set_num_threads(1)
h, W, G = torch.randn(512, 128), torch.randn(10000, 128), torch.randn(512, 10000)
for name, product in [("logits", lambda: h @ W.t()), ("input-gradient", lambda: G @ W), ("weight-gradient", lambda: G.t() @ h)]:
    for _ in range(3): product()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(10): product()
        times.append((time.perf_counter() - start) / 10)
    seconds = sorted(times)[2]
    print(json.dumps({"product": name, "gflops": 2 * 512 * 128 * 10000 / seconds / 1e9}))
PY
  for product in "${products[@]}"; do
    set -- $product
    "$lab" bench gemm --shape "$2" "${@:3}" | "$PY" -c "import json,sys; r=json.load(sys.stdin); print(json.dumps({'product': '$1', 'gflops': r['gflops']}))" >> "$work/lab.jsonl"
  done
done
"$PY" - "$work/torch.jsonl" "$work/lab.jsonl" <<'PY'
import json, statistics, sys
def load(path):
    rates = {}
    for line in open(path):
        r = json.loads(line); rates.setdefault(r["product"], []).append(r["gflops"])
    return {k: statistics.median(v) for k, v in rates.items()}
torch_rates, lab_rates = load(sys.argv[1]), load(sys.argv[2])
for name in ["logits", "input-gradient", "weight-gradient"]:
    print(json.dumps({"product": name, "threads": 1, "torch_gflops": round(torch_rates[name], 1), "lab_gflops": round(lab_rates[name], 1),
                      "ratio": round(lab_rates[name] / torch_rates[name], 2)}))
PY
