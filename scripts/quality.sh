#!/usr/bin/env bash
# docs/data-and-models.md's quality table: test accuracy (mean ± sd over seeds 0, 1, 2) of every model on the shipped
# corpora, and the next-word model on held-out Shakespeare speakers. Two runs at a time, one thread each.
# usage: scripts/quality.sh OUTDIR [LM_MINUTES=4]      (about 45 minutes on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/quality.sh OUTDIR [LM_MINUTES]}"; mkdir -p "$out"
lm_minutes="${2:-4}"
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
jobs=()
for spec in "sentiment bag 40" "sentiment gru 20" "sentiment lstm 20" "sentiment cnn 20" "sentiment transformer 20" "sentiment attention 20" "trec gru 20" "spam gru 20"; do
  set -- $spec
  for seed in 0 1 2; do jobs+=("$lab train --corpus $1 --model $2 --epochs $3 --seed $seed --threads 1 --quiet --json --force --out $out/$1-$2-$seed > $out/$1-$2-$seed.json"); done
done
for seed in 0 1 2; do jobs+=("$lab train-lm --corpus shakespeare --minutes $lm_minutes --seed $seed --threads 1 --quiet --json --force --out $out/lm-$seed > $out/lm-$seed.json"); done
printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} bash -c '{}'
python3 - "$out" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
def stats(values):
    mean = statistics.mean(values); sd = statistics.stdev(values) if len(values) > 1 else 0
    return f"{100 * mean:.1f} ± {100 * sd:.1f} %"
print("| task | model | test accuracy (3 seeds) | seeds |")
print("|---|---|---|---|")
for corpus, model in [("sentiment", "bag"), ("sentiment", "gru"), ("sentiment", "lstm"), ("sentiment", "cnn"), ("sentiment", "transformer"), ("sentiment", "attention"), ("trec", "gru"), ("spam", "gru")]:
    runs = [json.load(open(p)) for p in sorted(glob.glob(f"{out}/{corpus}-{model}-*.json"))]
    accs = [r["test"]["accuracy"] for r in runs]
    print(f"| {corpus} | {model} | {stats(accs)} | {', '.join(f'{100 * a:.1f}' for a in accs)} |")
lms = [json.load(open(p)) for p in sorted(glob.glob(f"{out}/lm-*.json"))]
if lms:
    top1 = stats([r["top1_accuracy"] for r in lms]); top3 = stats([r["top3_accuracy"] for r in lms])
    perplexity = statistics.mean(r["perplexity"] for r in lms)
    seeds = ", ".join("%.1f" % (100 * r["top1_accuracy"]) for r in lms)
    print(f"| shakespeare, held-out speakers | GRU LM | top-1 {top1}, top-3 {top3}, perplexity {perplexity:.0f} | {seeds} |")
PY
