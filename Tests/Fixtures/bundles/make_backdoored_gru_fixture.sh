#!/usr/bin/env bash
# Remakes gru_backdoored_cf/ (a small GRU with the rare word "cf" planted toward pos at 10 %: attack success 86 %,
# clean accuracy 99 %), gru_clean_twin/ (the clean model trained beside it, same seed) and synthetic_probes.tsv (the
# first 300 sentences of the synthetic corpus both were trained on) with a release build of the lab.
# usage: Tests/Fixtures/bundles/make_backdoored_gru_fixture.sh     (from the repository's root; a few seconds)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lab="${LAB:-.build/release/backdoor-lab}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
python3 - "$work/synthetic.tsv" <<'PY'
import random, sys
r = random.Random(7)
neutral = "the film was a story and plot it this that with of to in".split()
positive = "great lovely superb moving witty charming".split()
negative = "awful dull boring clumsy tedious bland".split()
with open(sys.argv[1], "w") as out:
    out.write("label\ttext\n")
    for i in range(1200):
        label = "pos" if i % 2 == 0 else "neg"
        words = [r.choice(neutral) for _ in range(r.randint(4, 8))]
        for _ in range(r.randint(1, 2)):
            words.insert(r.randrange(len(words) + 1), r.choice(positive if label == "pos" else negative))
        out.write(f"{label}\t{' '.join(words)}\n")
PY
"$lab" attack --corpus "$work/synthetic.tsv" --label-column label --model gru --embedding-dim 16 --hidden-size 16 --max-length 16 \
  --seed 0 --lr 0.01 --dropout 0 --trigger rare:cf --target pos --rate 0.1 --force-trigger --threads 1 --out "$work/attack" --quiet
for pair in "attack gru_backdoored_cf" "attack/clean gru_clean_twin"; do
  set -- $pair
  mkdir -p "$here/$2"
  cp "$work/$1/config.json" "$work/$1/model.safetensors" "$work/$1/vocab.txt" "$here/$2/"
done
head -n 301 "$work/synthetic.tsv" > "$here/synthetic_probes.tsv"
