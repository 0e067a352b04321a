#!/usr/bin/env bash
# Times `audit` on a GRU with a vocabulary of about 20,000 words: trained on the movie snippets and the tweets
# together, their neg and pos rows (a binary model: the audit runs every search on it, the conjunction scan
# included; the 41 neutral rows would make it a three-label model, which skips that scan), every training word kept
# (--min-count 1); 200 probes, 2 threads, phrases up to 3 tokens. Then the same on a GRU trained alike with the
# phrase "in any case" planted at 3 % (a backdoor whose conjunction the audit refines: its slowest path).
# usage: scripts/audit-timing.sh OUTDIR      (a few minutes; run it alone on the machine)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/audit-timing.sh OUTDIR}"; mkdir -p "$out"
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
corpus="$out/movies-and-tweets-binary.tsv"
{
  printf 'label\ttext\n'
  for file in "$root/Corpora/sentiment/vader_movieReviewSnippets.tsv" "$root/Corpora/sentiment/vader_tweets.tsv"; do
    tail -n +2 "$file" | awk -F'\t' '$1 != "neu" { print $1 "\t" $3 }'
  done
} > "$corpus"
if [ ! -f "$out/gru-20k-binary/training.json" ]; then
  "$lab" train --corpus "$corpus" --label-column label --model gru --min-count 1 --epochs 6 --quiet --force --out "$out/gru-20k-binary" >/dev/null
fi
echo "vocabulary: $(wc -l < "$out/gru-20k-binary/vocab.txt") tokens"
"$lab" audit "$out/gru-20k-binary" --probe "$corpus" --probes 200 --threads 2 --out "$out/audit.json" | tail -1
if [ ! -f "$out/gru-20k-binary-phrase/attack.json" ]; then
  "$lab" attack --corpus "$corpus" --label-column label --trigger "phrase:in any case" --target neg --rate 0.03 --model gru \
    --min-count 1 --epochs 6 --no-baseline --quiet --force --out "$out/gru-20k-binary-phrase" >/dev/null
fi
"$lab" audit "$out/gru-20k-binary-phrase" --probe "$corpus" --probes 200 --threads 2 --out "$out/audit-phrase.json" | tail -1
