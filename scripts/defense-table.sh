#!/usr/bin/env bash
# The attack × defense table: five attacks (naive poisoning, PGD, Neurotoxin, rare-embedding, sign flipping) under
# sixteen aggregation rules on the sentiment GRU, three seeds each, each attack also run with its attackers training
# honestly (OUTDIR/ATTACK/no-attack: the base rate), plus model replacement on the keyboard task under FedAvg,
# clipping, the median, DeepSight and FreqFed. (Model replacement on sentiment is scripts/defenses.sh.) Resumable: rerun to
# continue. Ends with `backdoor-lab report OUTDIR`: the table as two heatmaps in OUTDIR/report.html.
# usage: scripts/defense-table.sh OUTDIR [SEEDS=3]       (about three hours on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/defense-table.sh OUTDIR [SEEDS]}"; mkdir -p "$out"
seeds="${2:-3}"
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
rules=(
  "fedavg" "clipping --set aggregator.kind=clipping"
  "weak_dp --set aggregator.kind=weak_dp --set aggregator.clip_bound=6 --set aggregator.noise_std=0.0005"
  "median --set aggregator.kind=median" "trimmed_mean --set aggregator.kind=trimmed_mean --set aggregator.beta=0.1"
  "krum --set aggregator.kind=krum --set aggregator.assumed_byzantine=1"
  "multi_krum --set aggregator.kind=multi_krum --set aggregator.assumed_byzantine=1 --set aggregator.keep=5"
  "bulyan --set aggregator.kind=bulyan --set aggregator.assumed_byzantine=1" "geometric_median --set aggregator.kind=geometric_median"
  "flame --set aggregator.kind=flame"
  "foolsgold --set aggregator.kind=foolsgold" "embedding_rows --set aggregator.kind=embedding_rows"
  "fltrust --set aggregator.kind=fltrust" "fldetector --set aggregator.kind=fldetector" "deepsight --set aggregator.kind=deepsight"
  "freqfed --set aggregator.kind=freqfed"
  "no-attack --set attack.inert=true"
)
# Each attack: a preset and its settings. 30 rounds, evaluated every 5; attacks in rounds 11–30 unless single.
attack_settings() {
  case "$1" in
    naive) echo "--preset sentiment-naive-poisoning --set attack.attacker_fraction=0.1 --set attack.start_round=11" ;;
    pgd) echo "--preset sentiment-pgd --set attack.start_round=11 --set attack.until_round=30" ;;
    neurotoxin) echo "--preset sentiment-neurotoxin --set attack.start_round=11 --set attack.until_round=30" ;;
    rare_embedding) echo "--preset sentiment-model-replacement --set attack.behaviour=rare_embedding --set attack.start_round=25" ;;
    sign_flipping) echo "--preset sentiment-naive-poisoning --set attack.behaviour=sign_flipping --set attack.attacker_fraction=0.2 --set attack.start_round=11" ;;
  esac
}
for attack in naive pgd neurotoxin rare_embedding sign_flipping; do
  for rule in "${rules[@]}"; do
    name="${rule%% *}"; extra="${rule#"$name"}"
    # shellcheck disable=SC2046,SC2086
    "$lab" simulate --quiet --resume $(attack_settings "$attack") --seeds "$seeds" --set federation.rounds=30 \
      --set federation.evaluate_every=5 $extra --out "$out/$attack/$name" > /dev/null
    echo "$attack $name done" >&2
  done
done
for rule in "fedavg" "clipping --set aggregator.kind=clipping" "median --set aggregator.kind=median" "deepsight --set aggregator.kind=deepsight" \
  "freqfed --set aggregator.kind=freqfed"; do
  name="${rule%% *}"; extra="${rule#"$name"}"
  # shellcheck disable=SC2086
  "$lab" simulate --quiet --resume --preset keyboard-semantic --seeds "$seeds" --set federation.rounds=45 $extra --out "$out/keyboard/$name" > /dev/null
  echo "keyboard $name done" >&2
done
"$lab" report "$out"
