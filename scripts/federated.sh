#!/usr/bin/env bash
# docs/federated.md's reproductions, 3 seeds each (rerunning resumes from the checkpoints).
# usage: scripts/federated.sh OUTDIR        (about 45 minutes on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/federated.sh OUTDIR}"; mkdir -p "$out"
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
sim() { "$lab" simulate --quiet --resume "$@" > /dev/null; }
# One attacker replaces the model once (round 40 of 60), then the backdoor decays.
sim --preset sentiment-model-replacement --out "$out/model-replacement"
# Naive data poisoning by 1 %, 5 % and 10 % of 100 clients, whenever sampled.
for fraction in 0.01 0.05 0.1; do
  sim --preset sentiment-naive-poisoning --set federation.clients=100 --set attack.attacker_fraction=$fraction --out "$out/naive-$fraction"
done
# Durability after the attacks stop (round 40): Neurotoxin against plain PGD with the same ε.
sim --preset sentiment-neurotoxin --out "$out/neurotoxin"
sim --preset sentiment-pgd --out "$out/pgd"
# The keyboard task: a semantic backdoor planted by model replacement at round 40 of 60.
sim --preset keyboard-semantic --out "$out/keyboard-semantic"
for dir in "$out"/*/; do echo; cat "$dir/summary.md"; done
