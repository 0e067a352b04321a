#!/usr/bin/env bash
# Training throughput side by side in one run: `backdoor-lab bench train` against the PyTorch reference
# scripts (benchmarks/reference/gru_classifier_train.py, its --cell lstm and cnn, attention_classifier_train.py --heads 1 and 4,
# gru_lm_train.py) in the same shapes, 1 and 2 threads; prints lab / PyTorch ratios (median of passes).
# usage: scripts/bench-train.sh [PASSES=2] [THREADS=1,2]   PY: a python with torch (see benchmarks/reference/README.md)
#        MODELS: some of "gru lstm cnn attention1 attention4 transformer lm" (default all)
#        ISAS: the lab's instruction sets to run (default: every one this CPU supports, `backdoor-lab bench isa --list`)
#        RAW: a folder to keep every pass's JSON lines in (torch.jsonl, lab.jsonl), for the spread between passes
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
reference="$root/benchmarks/reference"
passes="${1:-2}"; threads="${2:-1,2}"
PY="${PY:-python3}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
# The lab runs once per instruction set in ISAS (default: avx2 and, where the CPU has it, avx512), right after
# PyTorch in every pass, so each ratio compares runs made minutes apart on one machine.
isas="${ISAS:-$("$lab" bench isa --list)}"
models="${MODELS:-gru lstm cnn attention1 attention4 transformer lm}"
reference_run() {
  case "$1" in
    gru) "$PY" "$reference/gru_classifier_train.py" --threads "$threads" ;;
    lstm|cnn) "$PY" "$reference/gru_classifier_train.py" --cell "$1" --threads "$threads" ;;
    attention1|attention4) "$PY" "$reference/attention_classifier_train.py" --heads "${1#attention}" --threads "$threads" ;;
    transformer) "$PY" "$reference/attention_classifier_train.py" --torch-layer --threads "$threads" ;;
    lm) "$PY" "$reference/gru_lm_train.py" --threads "$threads" ;;
    *) echo "unknown model $1 in MODELS" >&2; exit 2 ;;
  esac
}
lab_run() {
  case "$1" in
    attention1|attention4) BACKDOOR_LAB_ISA="$2" "$lab" bench train --model attention --heads "${1#attention}" --threads "$threads" ;;
    *) BACKDOOR_LAB_ISA="$2" "$lab" bench train --model "$1" --threads "$threads" ;;
  esac
}
for pass in $(seq 1 "$passes"); do
  echo "pass $pass" >&2
  for model in $models; do
    reference_run "$model" >> "$work/torch.jsonl"
    for isa in $isas; do lab_run "$model" "$isa" >> "$work/lab.jsonl"; done
  done
done
if [ -n "${RAW:-}" ]; then mkdir -p "$RAW" && cp "$work/torch.jsonl" "$work/lab.jsonl" "$RAW/"; fi
"$PY" - "$work/torch.jsonl" "$work/lab.jsonl" <<'PY'
import json, statistics, sys
torch_rates, lab_rates = {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    name = {"gru_classifier": "gru", "lstm_classifier": "lstm", "cnn_classifier": "cnn", "attention_classifier": "attention", "transformer_classifier": "transformer", "gru_lm": "lm"}[r["bench"]]
    heads = r.get("config", {}).get("heads", 0) if name == "attention" else 0
    for res in r["results"]:
        key = (name, heads, res["threads"])
        train = res.get("train_samples_per_s", res.get("train_tokens_per_s"))["median"]
        infer = res.get("infer_samples_per_s", res.get("eval_tokens_per_s"))["median"]
        torch_rates.setdefault(key, []).append((train, infer))
for line in open(sys.argv[2]):
    r = json.loads(line)
    key = (r["model"], r["heads"], r["threads"], r["instruction_set"])
    train = r.get("train_samples_per_s", r.get("train_tokens_per_s"))
    infer = r.get("infer_samples_per_s", r.get("eval_tokens_per_s"))
    lab_rates.setdefault(key, []).append((train, infer))
for key in sorted(lab_rates):
    if key[:3] not in torch_rates: continue
    t_train = statistics.median(x[0] for x in torch_rates[key[:3]]); l_train = statistics.median(x[0] for x in lab_rates[key])
    t_inf = statistics.median(x[1] for x in torch_rates[key[:3]]); l_inf = statistics.median(x[1] for x in lab_rates[key])
    unit = "tokens/s" if key[0] == "lm" else "samples/s"
    print(json.dumps({"model": key[0], "heads": key[1], "threads": key[2], "instruction_set": key[3], "unit": unit,
                      "torch_train": t_train, "lab_train": l_train, "train_ratio": round(l_train / t_train, 2),
                      "torch_infer": t_inf, "lab_infer": l_inf, "infer_ratio": round(l_inf / t_inf, 2)}))
PY
