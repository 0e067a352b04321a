"""A toy black-box sentiment model speaking `audit --scorer`'s protocol, for tests (standard library only).
P(pos) = sigmoid(sum of word weights); `cf` is a planted trigger unless the mode is `clean`. Other modes misbehave
on purpose: exit, hang, malformed, rows, sum, nan, labels."""
import json
import math
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "backdoored"
weights = {"good": 2.0, "great": 2.0, "fine": 1.5, "bad": -2.0, "awful": -2.0, "dull": -1.5}
if mode != "clean":
    weights["cf"] = 9.0
if mode == "exit":
    sys.exit(3)
if mode == "labels":
    print(json.dumps({"labels": ["only"]}), flush=True)
else:
    print(json.dumps({"labels": ["neg", "pos"]}), flush=True)
for line in sys.stdin:
    texts = json.loads(line)["texts"]
    if mode == "hang":
        time.sleep(60)
    if mode == "malformed":
        print("not json", flush=True)
        continue
    rows = []
    for text in texts:
        score = sum(weights.get(word, 0.0) for word in text.lower().split())
        p = 1 / (1 + math.exp(-score))
        rows.append([1 - p, p])
    if mode == "rows":
        rows = rows[:-1]
    if mode == "sum":
        rows = [[1.0, 1.0] for _ in rows]
    if mode == "nan":
        rows[0] = [float("nan"), 0.5]
    print(json.dumps({"probabilities": rows}), flush=True)
