#!/usr/bin/env bash
# A first defense comparison: one-shot model replacement (the sentiment-model-replacement preset, attack at
# round 40, 5 rounds after) under each aggregation rule; then naive poisoning by 5 % of 100 clients (40 rounds)
# under the main rules. Not yet the full attack × defense table.
# usage: scripts/defenses.sh OUTDIR [SEEDS=1]       (about 20 minutes on 2 cores per seed)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/defenses.sh OUTDIR [SEEDS]}"; mkdir -p "$out"
seeds="${2:-1}"
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
run() {
  name="$1"; shift
  "$lab" simulate --quiet --resume --preset sentiment-model-replacement --seeds "$seeds" --set federation.rounds=45 \
    --set federation.evaluate_every=5 "$@" --out "$out/$name" > /dev/null
}
run fedavg
run clipping --set aggregator.kind=clipping
run weak_dp --set aggregator.kind=weak_dp --set aggregator.clip_bound=6 --set aggregator.noise_std=0.0005
run median --set aggregator.kind=median
run trimmed_mean --set aggregator.kind=trimmed_mean --set aggregator.beta=0.1
run krum --set aggregator.kind=krum --set aggregator.assumed_byzantine=1
run multi_krum --set aggregator.kind=multi_krum --set aggregator.assumed_byzantine=1 --set aggregator.keep=5
run bulyan --set aggregator.kind=bulyan --set aggregator.assumed_byzantine=1
run geometric_median --set aggregator.kind=geometric_median
run centered_clipping --set aggregator.kind=centered_clipping --set aggregator.radius=6
run flame --set aggregator.kind=flame
run embedding_rows --set aggregator.kind=embedding_rows
run foolsgold --set aggregator.kind=foolsgold
run fltrust --set aggregator.kind=fltrust
run fldetector --set aggregator.kind=fldetector
run deepsight --set aggregator.kind=deepsight
run freqfed --set aggregator.kind=freqfed
run no-attack --set attack.inert=true
naive() {
  name="$1"; shift
  "$lab" simulate --quiet --resume --preset sentiment-naive-poisoning --seeds "$seeds" --set federation.clients=100 \
    --set attack.attacker_fraction=0.05 --set federation.rounds=40 --set federation.evaluate_every=5 "$@" --out "$out/naive/$name" > /dev/null
}
naive fedavg
naive clipping --set aggregator.kind=clipping
naive median --set aggregator.kind=median
naive krum --set aggregator.kind=krum --set aggregator.assumed_byzantine=1
naive flame --set aggregator.kind=flame
naive embedding_rows --set aggregator.kind=embedding_rows
naive foolsgold --set aggregator.kind=foolsgold
naive fltrust --set aggregator.kind=fltrust
naive fldetector --set aggregator.kind=fldetector
naive deepsight --set aggregator.kind=deepsight
naive freqfed --set aggregator.kind=freqfed
python3 - "$out" <<'PY'
import csv, glob, json, os, sys, statistics
out = sys.argv[1]
print("| rule | main-task accuracy at 40 % | ASR at 40 % | ASR at 45 % | attacker flagged at 40 | benign flagged at 40 (mean) |")
print("|---|---|---|---|---|---|")
for name in ["fedavg", "clipping", "weak_dp", "median", "trimmed_mean", "krum", "multi_krum", "bulyan", "geometric_median", "centered_clipping", "flame", "embedding_rows", "foolsgold", "fltrust", "fldetector", "deepsight", "freqfed"]:
    rows = []
    for path in sorted(glob.glob(f"{out}/{name}/seed-*/rounds.jsonl")):
        records = {r["round"]: r for r in map(json.loads, open(path))}
        r40, r45 = records[40], records[45]
        flagged = set(r40.get("flagged", []))
        malicious = set(r40["malicious"])
        rows.append((r40["metrics"]["main_task_accuracy"], r40["metrics"]["attack_success_rate"], r45["metrics"]["attack_success_rate"],
                     len(flagged & malicious) / max(len(malicious), 1), len(flagged - malicious)))
    m = lambda k: statistics.mean(r[k] for r in rows)
    print(f"| {name} | {100*m(0):.1f} | {100*m(1):.1f} | {100*m(2):.1f} | {m(3):.2f} | {m(4):.1f} |")
print()
print("| rule (naive poisoning, 5 % attackers) | final main-task accuracy % | final ASR % | attacker rounds flagged | benign flags per round |")
print("|---|---|---|---|---|")
for name in ["fedavg", "clipping", "median", "krum", "flame", "embedding_rows", "foolsgold", "fltrust", "fldetector", "deepsight", "freqfed"]:
    rows = []
    for path in sorted(glob.glob(f"{out}/naive/{name}/seed-*/rounds.jsonl")):
        records = [json.loads(line) for line in open(path)]
        attacked = [r for r in records if r["malicious"]]
        caught = sum(len(set(r.get("flagged", [])) & set(r["malicious"])) for r in attacked) / max(sum(len(r["malicious"]) for r in attacked), 1)
        benign = statistics.mean(len(set(r.get("flagged", [])) - set(r["malicious"])) for r in records)
        rows.append((records[-1]["metrics"]["main_task_accuracy"], records[-1]["metrics"]["attack_success_rate"], caught, benign))
    m = lambda k: statistics.mean(r[k] for r in rows)
    print(f"| {name} | {100*m(0):.1f} | {100*m(1):.1f} | {m(2):.2f} | {m(3):.1f} |")
PY
