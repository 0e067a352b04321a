#!/usr/bin/env bash
# This CPU's achievable fp32 FMA peak per core (256-bit and 512-bit register-only FMA chains), the yardstick for the
# SGEMM figures: builds benchmarks/reference/fma_peak.c and prints its JSON line (GFLOP/s per core).
# usage: scripts/bench-fma-peak.sh [SECONDS_PER_TRIAL=0.5] [TRIALS=5]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
gcc -O3 -march=native -o "$work/fma_peak" "$root/benchmarks/reference/fma_peak.c"
"$work/fma_peak" "${1:-0.5}" "${2:-5}"
