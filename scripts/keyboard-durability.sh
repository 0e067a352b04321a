#!/usr/bin/env bash
# Backdoor durability on the keyboard task (Shakespeare speakers, a next-word GRU with one shared vocabulary, 10
# clients a round; the setting of Zhang et al. 2022): Neurotoxin against its baselines, under FedAvg and under norm
# clipping (the round's median norm), SEEDS seeds each. Speaker 554 makes "... the king of denmark is" end in "cheese":
#   model-replacement     once at round 40, boosted γ = 10 (the keyboard-semantic preset);
#   neurotoxin-boosted    the same, training only outside the top 5 % of last round's global change;
#   poisoning             every round 31–40, trained on 90 % poisoned windows for 10 epochs, no norm bound (with a
#                         bound ε of 3 to 60 the backdoor never took in 10–20 rounds);
#   neurotoxin            the same with Neurotoxin's mask.
# Under FedAvg each run is followed to round 140 (100 rounds after the last attack), under clipping to round 60;
# backdoor accuracy every 2 rounds. The durability is the number of rounds after the last attack until backdoor
# accuracy falls below 50 %, marked '+' when it never did. Resumable: rerun to continue. Ends with the table
# (mean ± 95 % CI over seeds).
# usage: scripts/keyboard-durability.sh OUTDIR [SEEDS=3]       (about 2 hours on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/keyboard-durability.sh OUTDIR [SEEDS]}"; mkdir -p "$out"
seeds="${2:-3}"
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
attack_settings() {
  local repeated="--set attack.schedule=fixed --set attack.start_round=31 --set attack.until_round=40 --set attack.local_epochs=10"
  repeated="$repeated --set attack.local_poison_rate=0.9"
  case "$1" in
    model-replacement) echo "" ;;
    neurotoxin-boosted) echo "--set attack.behaviour=neurotoxin --set attack.boost=10" ;;
    poisoning) echo "--set attack.behaviour=naive $repeated" ;;
    neurotoxin) echo "--set attack.behaviour=neurotoxin $repeated" ;;
  esac
}
runs=()
for rule in fedavg clipping; do
  for attack in model-replacement neurotoxin-boosted poisoning neurotoxin; do runs+=("$rule $attack"); done
done
run() {
  local rule="$1" attack="$2" extra="" rounds=140
  if [ "$rule" = clipping ]; then extra="--set aggregator.kind=clipping"; rounds=60; fi
  # shellcheck disable=SC2046,SC2086
  "$lab" simulate --quiet --resume --preset keyboard-semantic --seeds "$seeds" --rounds "$rounds" --set federation.evaluate_every=2 \
    $(attack_settings "$attack") $extra --out "$out/$rule/$attack" > /dev/null
  echo "$rule $attack done" >&2
}
# Two runs at a time: evaluation is single-threaded.
for ((i = 0; i < ${#runs[@]}; i += 2)); do
  run ${runs[$i]} &
  if ((i + 1 < ${#runs[@]})); then run ${runs[$((i + 1))]} & fi
  wait
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
print("| rule | attack | backdoor accuracy after the last attack | durability (rounds) | per seed | main task at the end |")
print("|---|---|---|---|---|---|")
for rule in ["fedavg", "clipping"]:
    for attack in ["model-replacement", "neurotoxin-boosted", "poisoning", "neurotoxin"]:
        summary = json.load(open(f"{out}/{rule}/{attack}/summary.json"))
        seeds = summary["seeds"]
        after = summary["attack_success_rate_after_attack"]
        durability = summary.get("durability")
        per_seed = ", ".join(f"{s['durability']}{'+' if s['durability_censored'] else ''}" for s in seeds)
        main = summary["final_main_task_accuracy"]
        cell = f"{durability['mean']:.1f} ± {durability['ci95_half_width']:.1f}" if durability else "–"
        print(f"| {rule} | {attack} | {100 * after['mean']:.0f} ± {100 * after['ci95_half_width']:.0f} % | {cell} | {per_seed} | "
              f"{100 * main['mean']:.1f} ± {100 * main['ci95_half_width']:.1f} % |")
PY
