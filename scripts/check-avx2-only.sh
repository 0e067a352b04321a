#!/usr/bin/env bash
# Runs the release binary under QEMU's user-mode emulation as an Intel Haswell (AVX2 + FMA, no AVX-512), so that a
# build made on an AVX-512 machine is shown to choose its AVX2 kernels and never execute an AVX-512 instruction
# there (that would end in SIGILL). Needs `qemu-user` (Debian: apt-get install qemu-user).
# usage: scripts/check-avx2-only.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
command -v qemu-x86_64 >/dev/null || { echo "needs qemu-x86_64 (apt-get install qemu-user)" >&2; exit 2; }
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
haswell() { qemu-x86_64 -cpu Haswell "$lab" "$@" 2>&1 | grep -v "TCG doesn't support requested feature"; }
isa="$(haswell bench isa --list)"
[ "$isa" = avx2 ] || { echo "FAIL: as a Haswell the lab reports instruction sets '$isa', want 'avx2'" >&2; exit 1; }
haswell bench gemm --sizes 64,100 --repeats 1
haswell bench gru --batch 13 --time 4 --input 20 --hidden 40
echo "check-avx2-only: OK (instruction set avx2 under an emulated Haswell, no illegal instruction)"
