#!/usr/bin/env bash
# GEMM side by side in one run: `backdoor-lab bench gemm` against numpy/OpenBLAS
# (benchmarks/reference/gemm_bench.py), single-threaded, n = 64..512; prints the ratios.
# usage: scripts/bench-gemm.sh [PASSES=3]     PY: a python with numpy and threadpoolctl (default python3)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reference="$root/benchmarks/reference"
passes="${1:-3}"
PY="${PY:-python3}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$root" && swift build -c release --product backdoor-lab >&2)
for pass in $(seq 1 "$passes"); do
  # OpenBLAS picks its kernel itself when these are unset (see the reference README).
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" "$reference/gemm_bench.py" --backend numpy --sizes 64,128,256,512 --threads 1 >> "$work/numpy.jsonl"
  "$root/.build/release/backdoor-lab" bench gemm --sizes 64,128,256,512 --threads 1 >> "$work/swift.jsonl"
done
"$PY" - "$work/numpy.jsonl" "$work/swift.jsonl" <<'PY'
import json, statistics, sys
numpy = {}
for line in open(sys.argv[1]):
    for r in json.loads(line)["results"]:
        numpy.setdefault(r["n"], []).append(r["gflops_median"])
swift = {}
for line in open(sys.argv[2]):
    r = json.loads(line); swift.setdefault(r["n"], []).append(r["gflops"])
for n in sorted(swift):
    s, o = statistics.median(swift[n]), statistics.median(numpy[n])
    print(json.dumps({"n": n, "threads": 1, "swift_gflops": s, "numpy_openblas_gflops": o, "ratio": round(s / o, 3)}))
PY
