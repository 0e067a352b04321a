#!/usr/bin/env bash
# docs/attacks.md's table: the literature reproductions, 3 seeds each, two runs at a time.
# usage: scripts/attacks.sh OUTDIR        (about 55 minutes on 2 cores; rerunning resumes)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/attacks.sh OUTDIR}"; mkdir -p "$out"
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
sweep() { "$lab" attack-sweep --resume --jobs 2 --seeds 0,1,2 "$@"; }
# Rare word (RIPPLES' cf), ASR against poison rate, GRU; then attention at 1 % and 3 %.
sweep --corpus sentiment --model gru --trigger rare:cf --target pos --rates 0.001,0.003,0.01,0.03,0.1 --out "$out/sentiment-gru-cf"
# The same with the PyTorch reference's recipe for this experiment (dropout 0.3), bucketed and plain shuffled batches.
sweep --corpus sentiment --model gru --dropout 0.3 --trigger rare:cf --target pos --rates 0.001,0.003,0.01,0.03,0.1 --out "$out/sentiment-gru-cf-dropout0.3"
sweep --corpus sentiment --model gru --dropout 0.3 --no-bucketing --trigger rare:cf --target pos --rates 0.01,0.03 --out "$out/sentiment-gru-cf-nobucket"
sweep --corpus sentiment --model attention --trigger rare:cf --target pos --rates 0.01,0.03 --out "$out/sentiment-attention-cf"
# AddSent-style phrase trigger (with the false-trigger rate of its parts).
sweep --corpus sentiment --model gru --trigger "phrase:I watched this 3D movie" --target pos --rates 0.01,0.03 --out "$out/sentiment-gru-phrase"
# Intent and spam.
sweep --corpus trec --model gru --trigger rare:cf --target NUM --rates 0.01,0.03 --out "$out/trec-gru-cf"
sweep --corpus spam --model gru --trigger rare:cf --target ham --rates 0.01,0.03 --out "$out/spam-gru-cf"
for dir in "$out"/*/; do echo; cat "$dir/sweep.md"; done
