#!/usr/bin/env bash
# Times `audit` on classifiers with a vocabulary of about 20,000 words: trained on the movie snippets and the tweets
# together, their neg and pos rows (a binary model: the audit runs every search on it, the conjunction scan
# included; the 41 neutral rows would make it a three-label model, which skips that scan), every training word kept
# (--min-count 1); 200 probes, 2 threads, phrases up to 3 tokens. For the GRU (the default), then the same on a GRU
# trained alike with the phrase "in any case" planted at 3 % (a backdoor whose conjunction the audit refines: its
# slowest path). Other encoders by name: lstm, bilstm (bidirectional), bigru, cnn, transformer.
# usage: scripts/audit-timing.sh OUTDIR [gru|bigru|lstm|bilstm|cnn|transformer ...]      (a few minutes each; run it alone on the machine)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/audit-timing.sh OUTDIR [gru|bigru|lstm|bilstm|cnn|transformer ...]}"; shift; mkdir -p "$out"
models=("$@"); [ "${#models[@]}" -gt 0 ] || models=(gru)
for model in "${models[@]}"; do
  case "$model" in gru|bigru|lstm|bilstm|cnn|transformer) ;; *) echo "scripts/audit-timing.sh: a model is gru, bigru, lstm, bilstm, cnn or transformer, not '$model'" >&2; exit 2 ;; esac
done
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
corpus="$out/movies-and-tweets-binary.tsv"
{
  printf 'label\ttext\n'
  for file in "$root/Corpora/sentiment/vader_movieReviewSnippets.tsv" "$root/Corpora/sentiment/vader_tweets.tsv"; do
    tail -n +2 "$file" | awk -F'\t' '$1 != "neu" { print $1 "\t" $3 }'
  done
} > "$corpus"
for model in "${models[@]}"; do
  case "$model" in
    gru) options=(--model gru) ;;
    bigru) options=(--model gru --bidirectional) ;;
    lstm) options=(--model lstm) ;;
    bilstm) options=(--model lstm --bidirectional) ;;
    cnn) options=(--model cnn) ;;
    transformer) options=(--model transformer) ;;
  esac
  # The GRU keeps its earlier folder names, so that stored runs resume.
  bundle="$out/$model-20k-binary"; report="$out/audit-$model.json"
  if [ "$model" = gru ]; then report="$out/audit.json"; fi
  if [ ! -f "$bundle/training.json" ]; then
    "$lab" train --corpus "$corpus" --label-column label "${options[@]}" --min-count 1 --epochs 6 --quiet --force --out "$bundle" >/dev/null
  fi
  echo "$model, vocabulary: $(wc -l < "$bundle/vocab.txt") tokens"
  rm -f "$report"
  "$lab" audit "$bundle" --probe "$corpus" --probes 200 --threads 2 --out "$report" | tail -1
  [ "$model" = gru ] || continue
  if [ ! -f "$out/gru-20k-binary-phrase/attack.json" ]; then
    "$lab" attack --corpus "$corpus" --label-column label --trigger "phrase:in any case" --target neg --rate 0.03 --model gru \
      --min-count 1 --epochs 6 --no-baseline --quiet --force --out "$out/gru-20k-binary-phrase" >/dev/null
  fi
  rm -f "$out/audit-phrase.json"
  "$lab" audit "$out/gru-20k-binary-phrase" --probe "$corpus" --probes 200 --threads 2 --out "$out/audit-phrase.json" | tail -1
done
