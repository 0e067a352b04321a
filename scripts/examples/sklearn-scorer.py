#!/usr/bin/env python3
"""A scikit-learn text classifier behind `backdoor-lab audit --scorer`: loads a pickled pipeline whose
predict_proba takes raw texts (e.g. TfidfVectorizer + LogisticRegression), prints its labels, then answers each
request line {"texts": [...]} with {"probabilities": [[...], ...]}.

usage: backdoor-lab audit --scorer "python3 scripts/examples/sklearn-scorer.py model.pkl" --probe sentiment
Only load pickles you trust: unpickling runs code."""
import json
import pickle
import sys

with open(sys.argv[1], "rb") as f:
    model = pickle.load(f)
print(json.dumps({"labels": [str(label) for label in model.classes_]}), flush=True)
for line in sys.stdin:
    texts = json.loads(line)["texts"]
    rows = model.predict_proba(texts).tolist() if texts else []
    print(json.dumps({"probabilities": rows}), flush=True)
