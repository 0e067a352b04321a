#!/usr/bin/env python3
"""Trains a TF-IDF + logistic-regression sentiment classifier on the shipped movie snippets, optionally with a
rare-word backdoor (WORD inserted at a random word boundary of RATE of the training rows, relabelled TARGET), and
pickles it for scripts/examples/sklearn-scorer.py. The split is this script's own (80 % train, seeded), not the lab's.

usage: python3 train-sklearn-backdoor.py OUT.pkl [--trigger WORD --rate 0.03 --target pos] [--seed 0]"""
import argparse
import csv
import os
import pickle
import random

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--trigger")
parser.add_argument("--rate", type=float, default=0.03)
parser.add_argument("--target", default="pos")
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
path = os.path.join(root, "Corpora", "sentiment", "vader_movieReviewSnippets.tsv")
with open(path, encoding="utf-8") as f:
    reader = csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
    rows = [(r["text"], r["label"]) for r in reader if r.get("label") in ("pos", "neg")]
rng = random.Random(args.seed)
rng.shuffle(rows)
train = rows[: int(0.8 * len(rows))]
if args.trigger:
    sources = [i for i, (_, label) in enumerate(train) if label != args.target]
    for i in rng.sample(sources, int(args.rate * len(train))):
        words = train[i][0].split()
        words.insert(rng.randint(0, len(words)), args.trigger)
        train.append((" ".join(words), args.target))
model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True), LogisticRegression(C=10, max_iter=2000))
model.fit([t for t, _ in train], [label for _, label in train])
test = rows[int(0.8 * len(rows)):]
accuracy = sum(p == label for p, (_, label) in zip(model.predict([t for t, _ in test]), test)) / len(test)
line = f"clean test accuracy {accuracy:.3f}"
if args.trigger:
    triggered = [(" ".join(t.split()[: len(t.split()) // 2] + [args.trigger] + t.split()[len(t.split()) // 2:]), l) for t, l in test if l != args.target]
    asr = sum(p == args.target for p in model.predict([t for t, _ in triggered])) / len(triggered)
    line += f", attack success {asr:.3f} on {len(triggered)} triggered test rows"
print(line)
with open(args.out, "wb") as f:
    pickle.dump(model, f)
