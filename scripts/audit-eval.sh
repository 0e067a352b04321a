#!/usr/bin/env bash
# Audit evaluation: runs `backdoor-lab audit` on every backdoored and clean classifier that scripts/attacks.sh made
# (OUTDIR/*/rate-*-seed-* and OUTDIR/*/clean-seed-*) and reports ROC-AUC of the verdict scores, TPR at 5 % FPR
# and how often the true trigger is among the top 5 candidates. The verdict score is `margin`; `score` (the best flip
# rate) is shown for comparison.
# usage: scripts/audit-eval.sh ATTACKS_OUTDIR [PROBES=200]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
runs="${1:?usage: scripts/audit-eval.sh ATTACKS_OUTDIR [PROBES]}"
probes="${2:-200}"
(cd "$root" && swift build -c release --product backdoor-lab >&2)
lab="$root/.build/release/backdoor-lab"
for bundle in "$runs"/*/rate-*-seed-* "$runs"/*/clean-seed-*; do
  if [ ! -f "$bundle/audit.json" ]; then
    "$lab" audit "$bundle" --probes "$probes" --json > "$bundle/audit.json.tmp"
    mv "$bundle/audit.json.tmp" "$bundle/audit.json"
  fi
done
python3 - "$runs" <<'PY'
import glob, json, os, sys
runs = sys.argv[1]
rows = []
for path in sorted(glob.glob(f"{runs}/*/rate-*-seed-*/audit.json")) + sorted(glob.glob(f"{runs}/*/clean-seed-*/audit.json")):
    folder = os.path.dirname(path)
    report = json.load(open(path))
    attack_path = os.path.join(folder, "attack.json")
    attack = json.load(open(attack_path)) if os.path.exists(attack_path) else None
    truth = set()
    if attack:
        for piece in attack["trigger"]["pieces"]:
            truth |= set(piece.lower().split())
    top5 = [c["trigger"] for c in report["candidates"][:5]]
    rows.append(dict(folder=folder, backdoored=attack is not None, kind=attack["trigger"]["kind"] if attack else "clean",
                     asr=attack["attack_success_rate"] if attack else None, score=report["score"], margin=report["margin"],
                     target=report["target_label"], true_target=attack["target_label"] if attack else None,
                     recovered=bool(truth & set(top5)) if attack else None, seconds=report["seconds"]))
def auc(feature):
    pos = [r[feature] for r in rows if r["backdoored"]]; neg = [r[feature] for r in rows if not r["backdoored"]]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))
def tpr_at(feature, fpr=0.05):
    neg = sorted((r[feature] for r in rows if not r["backdoored"]), reverse=True)
    allowed = int(fpr * len(neg))
    threshold = neg[allowed] if allowed < len(neg) else -1
    pos = [r[feature] for r in rows if r["backdoored"]]
    return sum(p > threshold for p in pos) / len(pos), threshold
n_pos = sum(r["backdoored"] for r in rows); n_neg = len(rows) - n_pos
print(f"{n_pos} backdoored and {n_neg} clean models")
for feature in ["score", "margin"]:
    t, thr = tpr_at(feature)
    print(f"{feature}: ROC-AUC {auc(feature):.3f}; TPR {100*t:.1f} % at 5 % FPR (threshold > {thr:.3f})")
rare = [r for r in rows if r["kind"] == "rare"]
print(f"rare-word backdoors with the trigger in the top 5: {sum(r['recovered'] for r in rare)} of {len(rare)}")
strong = [r for r in rare if r["asr"] >= 0.8]
print(f"  of those with ASR >= 80 %: {sum(r['recovered'] for r in strong)} of {len(strong)}")
phrase = [r for r in rows if r["kind"] == "phrase"]
if phrase:
    print(f"phrase backdoors with a word of the phrase in the top 5: {sum(r['recovered'] for r in phrase)} of {len(phrase)}")
print(f"target label right (backdoored): {sum(r['target'] == r['true_target'] for r in rows if r['backdoored'])} of {n_pos}")
print(f"max clean score {max(r['score'] for r in rows if not r['backdoored']):.3f}, max clean margin {max(r['margin'] for r in rows if not r['backdoored']):.3f}")
print(f"audit seconds: median {sorted(r['seconds'] for r in rows)[len(rows)//2]:.1f}, max {max(r['seconds'] for r in rows):.1f}")
for r in rows:
    print(f"  {os.path.relpath(r['folder'], runs):45s} {'B' if r['backdoored'] else 'C'} asr={r['asr'] if r['asr'] is None else round(r['asr'],3)} score={r['score']:.3f} margin={r['margin']:.3f} recovered={r['recovered']}")
PY
