#!/usr/bin/env bash
# GEMM side by side in one run: `backdoor-lab bench gemm` against numpy/OpenBLAS
# (benchmarks/reference/gemm_bench.py), single-threaded, n = 64..512, on each instruction set the CPU supports: the
# lab's AVX2 path against OpenBLAS held to its Haswell (AVX2) kernel, the lab's AVX-512 path against OpenBLAS's own
# choice (its SkylakeX kernel on AVX-512 CPUs); prints the ratios.
# usage: scripts/bench-gemm.sh [PASSES=3]     PY: a python with numpy and threadpoolctl (default python3)
#        ISAS: the lab's instruction sets to run (default: every one this CPU supports, `backdoor-lab bench isa --list`)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reference="$root/benchmarks/reference"
passes="${1:-3}"
PY="${PY:-python3}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
isas="${ISAS:-$("$lab" bench isa --list)}"
for pass in $(seq 1 "$passes"); do
  for isa in $isas; do
    # OpenBLAS picks its kernel itself when these are unset (see the reference README); Haswell is its AVX2 kernel.
    if [ "$isa" = avx2 ]; then coretype=(OPENBLAS_CORETYPE=Haswell); else coretype=(); fi
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${coretype[@]}" "$PY" "$reference/gemm_bench.py" --backend numpy \
      --sizes 64,128,256,512 --threads 1 | sed "s/^{/{\"lab_isa\": \"$isa\", /" >> "$work/numpy.jsonl"
    BACKDOOR_LAB_ISA="$isa" "$lab" bench gemm --sizes 64,128,256,512 --threads 1 >> "$work/swift.jsonl"
  done
done
"$PY" - "$work/numpy.jsonl" "$work/swift.jsonl" <<'PY'
import json, statistics, sys
numpy, kernels = {}, {}
for line in open(sys.argv[1]):
    run = json.loads(line)
    kernels[run["lab_isa"]] = ",".join(b.get("architecture", "?") for b in run.get("blas", []))
    for r in run["results"]:
        numpy.setdefault((run["lab_isa"], r["n"]), []).append(r["gflops_median"])
swift = {}
for line in open(sys.argv[2]):
    r = json.loads(line); swift.setdefault((r["instruction_set"], r["n"]), []).append(r["gflops"])
for isa, n in sorted(swift):
    s, o = statistics.median(swift[(isa, n)]), statistics.median(numpy[(isa, n)])
    print(json.dumps({"instruction_set": isa, "openblas_kernel": kernels[isa], "n": n, "threads": 1,
                      "swift_gflops": s, "numpy_openblas_gflops": o, "ratio": round(s / o, 3)}))
PY
