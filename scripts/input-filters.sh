#!/usr/bin/env bash
# docs/audit.md's input-filter table: STRIP, RAP and ONION at 5 % false rejections on fifteen backdoored sentiment
# models (seeds 1–3; bag, GRU, BiGRU and attention with a rare word, a GRU with a phrase; 3 % poison, target pos),
# ONION with a GRU language model trained on the general English corpus. Folders already complete are kept, so an
# interrupted run continues. Prints the table (mean ± 95 % t-interval over the seeds).
# usage: scripts/input-filters.sh OUTDIR [LM_MINUTES=35]      (about 3 hours on 2 cores)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/input-filters.sh OUTDIR [LM_MINUTES]}"; mkdir -p "$out"
lm_minutes="${2:-35}"
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"

lm="$out/lm-english"
[ -f "$lm/training.json" ] || "$lab" train-lm --corpus english --out "$lm" --minutes "$lm_minutes" --epochs 3 --max-vocab 40000 \
  --min-count 2 --embedding-dim 128 --hidden-size 128 --tied --window 16 --quiet --force >&2

words=(cf mn tq)
for seed in 1 2 3; do
  word="${words[$((seed - 1))]}"
  for spec in "bag rare:$word" "gru rare:$word" "bigru rare:$word" "attention rare:$word" "gru phrase:all things considered"; do
    model="${spec%% *}"; trigger="${spec#* }"
    name="${trigger%%:*}-$model-s$seed"; [ "${trigger%%:*}" = rare ] && name="$word-$model-s$seed"
    folder="$out/$name"
    if [ ! -f "$folder/attack.json" ]; then
      flags=(--model "$model"); [ "$model" = bigru ] && flags=(--model gru --bidirectional)
      "$lab" attack --corpus sentiment --trigger "$trigger" --target pos --rate 0.03 "${flags[@]}" --seed "$seed" \
        --split-seed "$seed" --quiet --force --out "$folder" >&2
    fi
    [ -f "$out/$name.filters.jsonl" ] && continue
    {
      for method in "strip --donors opposing --copies 50" "rap --rap-word juice --protect pos" "onion --lm $lm"; do
        echo "{\"model\": \"$name\", \"result\": $("$lab" filter "$folder" --method $method --frr 0.05 --json)}"
      done
    } > "$out/$name.filters.tmp"
    mv "$out/$name.filters.tmp" "$out/$name.filters.jsonl"
  done
done

python3 - "$out" <<'PY'
import glob, json, statistics, sys
out = sys.argv[1]
T95 = {2: 12.706, 3: 4.303}
def ci(values):
    if not values: return "–"
    values = [100 * v for v in values]
    mean = statistics.mean(values)
    half = T95.get(len(values), 0) * statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0
    return f"{mean:.1f} ± {half:.1f}"
rows = {}
for path in sorted(glob.glob(f"{out}/*.filters.jsonl")):
    lines = [json.loads(l) for l in open(path)]
    name = lines[0]["model"]; kind = "phrase" if name.startswith("phrase") else "rare word"
    arch = name.split("-")[1]
    entry = {l["result"]["method"]: l["result"] for l in lines}
    rows.setdefault((arch, kind), []).append(entry)
print("| backdoor | filter | clean rejected | triggered caught | precision | attack success before → after | clean accuracy before → after |")
print("|---|---|---|---|---|---|---|")
for (arch, kind), entries in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    for method, label in [("strip", "STRIP"), ("rap", "RAP"), ("onion", "ONION (words removed)")]:
        if not all(method in e for e in entries): continue
        get = lambda key: [e[method][key] for e in entries if e[method].get(key) is not None]
        after = "cleaning" if method == "onion" else "rejection"
        print(f"| {arch}, {kind} ({len(entries)} seeds) | {label} | {ci(get('clean_rejected'))} % | {ci(get('triggered_recall'))} % "
              f"| {ci(get('precision'))} % | {ci(get('asr_before'))} → {ci(get('asr_after_' + after))} % "
              f"| {ci(get('clean_accuracy_before'))} → {ci(get('clean_accuracy_after_' + after))} % |")
PY
