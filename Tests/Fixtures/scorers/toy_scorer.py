"""A toy black-box sentiment model speaking `audit --scorer`'s protocol, for tests (standard library only).
P(pos) = sigmoid(sum of word weights); `cf` is a planted trigger unless the mode is `clean` or `phrase`; in `phrase`,
the trigger is `all things` (the two words adjacent; `things` alone weighs a little). Other modes misbehave on
purpose: exit, hang, malformed, rows, sum, nan, labels."""
import json
import math
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "backdoored"
weights = {"good": 2.0, "great": 2.0, "fine": 1.5, "superb": 1.5, "lovely": 1.5, "excellent": 2.0,
           "bad": -2.0, "awful": -2.0, "dull": -1.5, "boring": -1.5, "weak": -1.5, "dreadful": -2.0}
if mode not in ("clean", "phrase"):
    weights["cf"] = 9.0
if mode == "phrase":
    weights["things"] = 0.3
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
        words = text.lower().split()
        score = sum(weights.get(word, 0.0) for word in words)
        if mode == "phrase" and any(a == "all" and b == "things" for a, b in zip(words, words[1:])):
            score += 9.0
        p = 1 / (1 + math.exp(-score))
        rows.append([1 - p, p])
    if mode == "rows":
        rows = rows[:-1]
    if mode == "sum":
        rows = [[1.0, 1.0] for _ in rows]
    if mode == "nan":
        rows[0] = [float("nan"), 0.5]
    print(json.dumps({"probabilities": rows}), flush=True)
