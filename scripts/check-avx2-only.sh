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
# Control: the emulated Haswell must reject an AVX-512 instruction, or passing below would prove nothing.
if command -v cc >/dev/null; then
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  printf '%s\n' '#include <immintrin.h>' \
    '__attribute__((noinline)) void twice(float *x) { _mm512_storeu_ps(x, _mm512_add_ps(_mm512_loadu_ps(x), _mm512_loadu_ps(x))); }' \
    'int main(void) { float x[16] = {1}; twice(x); return x[0] == 2 ? 0 : 1; }' > "$work/zmm.c"
  cc -O1 -mavx512f -o "$work/zmm" "$work/zmm.c"
  if qemu-x86_64 -cpu Haswell "$work/zmm" 2>/dev/null; then
    echo "FAIL: this QEMU runs AVX-512 code as a Haswell; the check cannot tell" >&2; exit 1
  fi
else
  echo "note: no C compiler, so the emulator's rejection of AVX-512 code was not checked" >&2
fi
isa="$(haswell bench isa --list)"
[ "$isa" = avx2 ] || { echo "FAIL: as a Haswell the lab reports instruction sets '$isa', want 'avx2'" >&2; exit 1; }
haswell bench gemm --sizes 64,100 --repeats 1
haswell bench gru --batch 13 --time 4 --input 20 --hidden 40
echo "check-avx2-only: OK (instruction set avx2 under an emulated Haswell, no illegal instruction)"
