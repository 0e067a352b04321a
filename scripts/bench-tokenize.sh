#!/usr/bin/env bash
# Word tokenisation, side by side in one run: `backdoor-lab bench tokenize` (file in, token Strings out)
# against ICU's raw word-break loop in C (benchmarks/reference/icu_wordbreak.c) on the same file.
# usage: scripts/bench-tokenize.sh [FILE] [PASSES=3]
#   FILE defaults to a 20 MB English corpus made from Corpora/ (repeated text columns).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reference="$root/benchmarks/reference"
passes="${2:-3}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT

file="${1:-}"
if [ -z "$file" ]; then
  file="$work/corpus.txt"
  python3 - "$root/Corpora" "$file" <<'PY'
import sys, glob
root, out = sys.argv[1], sys.argv[2]
texts = []
for path in sorted(glob.glob(root + "/*/*.tsv")):
    with open(path, encoding="utf-8") as f:
        next(f)
        texts += [line.rstrip("\n").split("\t")[-1] for line in f]
blob = "\n".join(texts) + "\n"
with open(out, "w", encoding="utf-8") as f:
    written = 0
    while written < 20_000_000:
        f.write(blob); written += len(blob.encode("utf-8"))
PY
fi

gcc -O2 -o "$work/icu_wordbreak" "$reference/icu_wordbreak.c" $(pkg-config --cflags --libs icu-uc icu-i18n)
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"

for pass in $(seq 1 "$passes"); do
  "$work/icu_wordbreak" "$file" 5 0 >> "$work/c.jsonl"
  "$lab" bench tokenize "$file" --repeats 5 >> "$work/swift.jsonl"
done

python3 - "$work/c.jsonl" "$work/swift.jsonl" <<'PY'
import json, statistics, sys
c = [json.loads(l) for l in open(sys.argv[1])]
s = [json.loads(l) for l in open(sys.argv[2])]
med = lambda rows, key: statistics.median(r[key] for r in rows)
c16, c8 = med(c, "utf16_mb_per_s"), med(c, "utext8_mb_per_s")
c16conv = med(c, "utf16_incl_conversion_mb_per_s")
raw, norm = med(s, "no_normalize_mb_per_s"), med(s, "nfkc_casefold_mb_per_s")
print(json.dumps({
    "bytes": c[0]["bytes"], "passes": len(c), "icu_version": c[0]["icu_version"],
    "c_utf16_mb_per_s": c16, "c_utf16_incl_conversion_mb_per_s": c16conv, "c_utext8_mb_per_s": c8, "c_word_tokens": c[0]["word_tokens"],
    "swift_no_normalize_mb_per_s": raw, "swift_nfkc_casefold_mb_per_s": norm,
    "swift_tokens": s[0]["no_normalize_tokens"],
    "ratio_no_normalize_vs_c_utf16": round(raw / c16, 3),
    "ratio_nfkc_casefold_vs_c_utf16": round(norm / c16, 3),
    "ratio_no_normalize_vs_c_utf16_incl_conversion": round(raw / c16conv, 3),
    "ratio_no_normalize_vs_c_utext8": round(raw / c8, 3),
}))
PY
