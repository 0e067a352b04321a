#!/usr/bin/env bash
# docs/audit.md's input-filter tables: STRIP (the default, STRIP-ViTA's perturbation, and the original recipe's
# random positions, random donor words and entropy), RAP (the default and the paper's drop range) and ONION at 5 %
# false rejections on backdoored sentiment models, three seeds: a rare word (3 % poison, target pos) in every
# architecture the lab trains, a phrase and a character trigger in a GRU. ONION uses a GRU language model trained on
# the general English corpus for LM_MINUTES (0: no ONION); with LM_WORDPIECE=N the language model reads WordPiece
# pieces from N entries instead of words and trains for 3 epochs (about 40 minutes on 2 cores). Folders already
# complete are kept, so an interrupted run continues. FILTERS picks the filters run (default "strip rap onion").
# Prints the tables (mean ± 95 % t-interval over the seeds).
# usage: [FILTERS="strip rap onion"] [LM_WORDPIECE=16000] scripts/input-filters.sh OUTDIR [SEEDS="4 5 6"] [LM_MINUTES=35]
#        (about 1 hour on 2 cores without ONION; ONION adds 35 minutes for its language model and 80 s a backdoor)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:?usage: scripts/input-filters.sh OUTDIR [SEEDS] [LM_MINUTES]}"; mkdir -p "$out"
read -r -a seeds <<< "${2:-4 5 6}"
lm_minutes="${3:-35}"
read -r -a filters <<< "${FILTERS:-strip rap onion}"
wants() { [[ " ${filters[*]} " == *" $1 "* ]]; }
wants onion || lm_minutes=0
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"

wordpiece="${LM_WORDPIECE:-}"
if [ -n "$wordpiece" ]; then
  lm="$out/lm-english-pieces"
  lm_options=(--wordpiece-size "$wordpiece" --minutes 0 --window 20)
else
  lm="$out/lm-english"
  lm_options=(--max-vocab 40000 --min-count 2 --minutes "$lm_minutes" --window 16)
fi
if [ "$lm_minutes" != 0 ] && [ ! -f "$lm/training.json" ]; then
  "$lab" train-lm --corpus english --out "$lm" "${lm_options[@]}" --epochs 3 --embedding-dim 128 --hidden-size 128 --tied \
    --quiet --force >&2
fi

words=(cf mn tq)
for index in "${!seeds[@]}"; do
  seed="${seeds[$index]}"; word="${words[$((index % 3))]}"
  for spec in "bag rare:$word" "gru rare:$word" "bigru rare:$word" "lstm rare:$word" "cnn rare:$word" "attention rare:$word" \
    "transformer rare:$word" "gru phrase:all things considered" "gru char:zq"; do
    model="${spec%% *}"; trigger="${spec#* }"; kind="${trigger%%:*}"
    name="$kind-$model-s$seed"
    folder="$out/$name"
    if [ ! -f "$folder/attack.json" ]; then
      flags=(--model "$model"); [ "$model" = bigru ] && flags=(--model gru --bidirectional)
      "$lab" attack --corpus sentiment --trigger "$trigger" --target pos --rate 0.03 "${flags[@]}" --seed "$seed" \
        --split-seed "$seed" --no-baseline --quiet --force --out "$folder" >&2
    fi
    # RAP's word: a rare, neutral word, the first of these that the split's vocabulary has.
    rap_word=""
    for candidate in juice bicycle pencil; do grep -qx "$candidate" "$folder/vocab.txt" && { rap_word="$candidate"; break; }; done
    [ -n "$rap_word" ] || { echo "$folder: none of RAP's words is in its vocabulary" >&2; exit 1; }
    methods=()
    wants strip && methods+=("strip" "strip --replaced-words random --donor-words random --strip-score entropy")
    wants rap && methods+=("rap --rap-word $rap_word --protect pos" "rap --rap-word $rap_word --protect pos --rap-drop 0.1,0.3")
    [ "$lm_minutes" != 0 ] && methods+=("onion --lm $lm")
    # Kept from an earlier run only when it holds every filter asked for now.
    if [ -f "$out/$name.filters.jsonl" ]; then
      complete=1
      for method in "${methods[@]}"; do grep -qF "\"filter\": \"$method\"" "$out/$name.filters.jsonl" || complete=0; done
      [ "$complete" = 1 ] && continue
    fi
    rm -f "$out/$name.filters.tmp"
    for method in "${methods[@]}"; do
      result="$("$lab" filter "$folder" --method $method --frr 0.05 --json)"
      echo "{\"model\": \"$name\", \"filter\": \"$method\", \"result\": $result}" >> "$out/$name.filters.tmp"
    done
    mv "$out/$name.filters.tmp" "$out/$name.filters.jsonl"
  done
done

python3 - "$out" <<'PY'
import glob, json, statistics, sys
out = sys.argv[1]
T95 = {2: 12.706, 3: 4.303, 4: 3.182, 5: 2.776}
def ci(values, unit=" %"):
    if not values: return "–"
    values = [100 * v for v in values]
    mean = statistics.mean(values)
    half = T95.get(len(values), 1.96) * statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0
    return f"{mean:.1f} ± {half:.1f}{unit}"
def label(spec):
    if spec.startswith("strip --replaced-words random"): return "strip-original"
    if spec.endswith("--rap-drop 0.1,0.3"): return "rap-paper-range"
    return spec.split()[0]
rows = {}
for path in sorted(glob.glob(f"{out}/*.filters.jsonl")):
    lines = [json.loads(l) for l in open(path)]
    kind, arch, _ = lines[0]["model"].split("-")
    rows.setdefault((kind, arch), []).append({label(l["filter"]): l["result"] for l in lines})
order = ["bag", "gru", "bigru", "lstm", "cnn", "attention", "transformer"]
names = {"rare": "rare word", "phrase": "phrase", "char": "character"}
ordered = sorted(rows.items(), key=lambda kv: (["rare", "phrase", "char"].index(kv[0][0]), order.index(kv[0][1])))
def get(entries, method, key): return [e[method][key] for e in entries if e[method].get(key) is not None]
def backdoor(kind, arch, entries):
    asr = [e[m]["asr_before"] for e in entries for m in list(e)[:1]]
    low, high = f"{100 * min(asr):.0f}", f"{100 * max(asr):.0f}"
    return f"{arch}, {names[kind]} ({low if low == high else low + '–' + high} %, {len(entries)})"
if any(m in e for _, entries in ordered for e in entries for m in ("strip", "rap")):
    print("| backdoor (attack success, seeds) | STRIP: clean rejected / triggered caught / precision | STRIP, original recipe: caught "
          "| RAP: clean rejected / caught / precision | RAP, drop 0.1–0.3: caught |")
    print("|---|---|---|---|---|")
    for (kind, arch), entries in ordered:
        cells = [backdoor(kind, arch, entries)]
        for method in ["strip", "strip-original", "rap", "rap-paper-range"]:
            if not all(method in e for e in entries):
                cells.append("–")
                continue
            caught = ci(get(entries, method, "triggered_recall"))
            if method in ("strip", "rap"):
                cells.append(f"{ci(get(entries, method, 'clean_rejected'))} / {caught} / {ci(get(entries, method, 'precision'))}")
            else:
                cells.append(caught)
        print("| " + " | ".join(cells) + " |")
if all("onion" in e for _, entries in ordered for e in entries):
    print()
    print("| backdoor (attack success, seeds) | clean rejected | triggered caught | precision "
          "| clean words removed | attack success: before → words removed | clean accuracy: before → words removed |")
    print("|---|---|---|---|---|---|---|")
    for (kind, arch), entries in ordered:
        g = lambda key: get(entries, "onion", key)
        print(f"| {backdoor(kind, arch, entries)} | {ci(g('clean_rejected'))} | {ci(g('triggered_recall'))} | {ci(g('precision'))} "
              f"| {ci(g('clean_words_removed'))} | {ci(g('asr_before'), '')} → {ci(g('asr_after_cleaning'))} "
              f"| {ci(g('clean_accuracy_before'), '')} → {ci(g('clean_accuracy_after_cleaning'))} |")
PY
