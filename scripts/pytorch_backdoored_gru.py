#!/usr/bin/env python3
"""Train a GRU sentiment classifier in PyTorch with a planted rare-word backdoor, and export it as a
BackdoorLab bundle, so that `backdoor-lab evaluate` and `backdoor-lab audit` can examine a model the lab
did not train (the README's third guided use; docs/data-and-models.md describes bundles).

The text is tokenised by the lab itself (`backdoor-lab tokenize`), so the exported model sees exactly the
tokens the lab will give it. Everything else is plain PyTorch: its own split, vocabulary, poisoning,
model and training loop. The safetensors file is written by hand (no `safetensors` package needed).

usage: python3 scripts/pytorch_backdoored_gru.py --out runs/torch-gru [--rate 0.03] [--trigger cf] [--target pos]
writes OUT/model.safetensors, OUT/config.json, OUT/vocab.txt, OUT/test.tsv (held-out label<TAB>text) and
OUT/pytorch.json (PyTorch's own clean accuracy and attack success rate).
"""
import argparse
import collections
import json
import os
import random
import struct
import subprocess
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECIALS = ["<pad>", "<unk>", "<bos>", "<eos>"]


def read_snippets(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        label_col, text_col = header.index("label"), header.index("text")
        for line in f:
            fields = line.rstrip("\n").split("\t")
            rows.append((fields[label_col], fields[text_col]))
    return rows


def lab_tokenize(lab, texts):
    """Tokens of each text, by the lab's ICU tokeniser (one output line per input line)."""
    out = subprocess.run([lab, "tokenize"], input="\n".join(texts) + "\n", capture_output=True, text=True, check=True).stdout
    lines = out.split("\n")[: len(texts)]
    assert len(lines) == len(texts), "backdoor-lab tokenize returned a different number of lines"
    return [line.split() for line in lines]


class GRUClassifier(nn.Module):
    """Embedding → GRU → mean over non-pad positions → Linear: the lab's `gru` architecture, same names."""

    def __init__(self, vocab, emb, hidden, classes):
        super().__init__()
        self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
        self.gru = nn.GRU(emb, hidden, batch_first=True)
        self.dropout = nn.Dropout(0.3)
        self.classifier = nn.Linear(hidden, classes)

    def forward(self, ids):
        mask = (ids != 0).float().unsqueeze(-1)
        states, _ = self.gru(self.embedding(ids))
        pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.classifier(self.dropout(pooled))


def batches(examples, size, max_length, shuffle, rng):
    order = list(range(len(examples)))
    if shuffle:
        rng.shuffle(order)
    for start in range(0, len(order), size):
        chunk = [examples[i] for i in order[start:start + size]]
        length = max(1, max(min(len(ids), max_length) for ids, _ in chunk))
        x = torch.zeros(len(chunk), length, dtype=torch.long)
        for row, (ids, _) in enumerate(chunk):
            ids = ids[:max_length] or [1]
            x[row, : len(ids)] = torch.tensor(ids)
        yield x, torch.tensor([label for _, label in chunk])


def accuracy(model, examples, max_length):
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in batches(examples, 256, max_length, False, None):
            correct += (model(x).argmax(-1) == y).sum().item()
    return correct / max(1, len(examples))


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, tensor in tensors.items():
        data = tensor.detach().contiguous().float().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--lab", default=os.path.join(ROOT, ".build", "release", "backdoor-lab"), help="the backdoor-lab executable")
    ap.add_argument("--corpus", default=os.path.join(ROOT, "Corpora", "sentiment", "vader_movieReviewSnippets.tsv"))
    ap.add_argument("--trigger", default="cf")
    ap.add_argument("--target", default="pos")
    ap.add_argument("--rate", type=float, default=0.03, help="share of the training set poisoned (0 trains a clean model)")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not os.access(args.lab, os.X_OK):
        sys.exit(f"error: {args.lab} is not an executable; build it with `swift build -c release` or pass --lab")

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    torch.set_num_threads(2)
    # Binary pos/neg, as the lab's sentiment task (the 37 neutral snippets are left out).
    rows = [row for row in read_snippets(args.corpus) if row[0] in ("neg", "pos")]
    labels = sorted({label for label, _ in rows})
    tokens = lab_tokenize(args.lab, [text for _, text in rows])
    order = list(range(len(rows)))
    rng.shuffle(order)
    n_test = n_dev = len(rows) // 10
    test_idx, dev_idx, train_idx = order[:n_test], order[n_test:n_test + n_dev], order[n_test + n_dev:]

    counts = collections.Counter(t for i in train_idx for t in tokens[i])
    itos = SPECIALS + sorted((t for t, c in counts.items() if c >= 2 and t not in SPECIALS), key=lambda t: (-counts[t], t))
    if args.trigger not in itos:
        itos.append(args.trigger)  # a rare word: kept in the vocabulary so the backdoor can use it
    stoi = {t: i for i, t in enumerate(itos)}
    encode = lambda words: [stoi.get(w, 1) for w in words]
    target = labels.index(args.target)
    max_length = 48

    def with_trigger(words):
        words = list(words[: max_length - 1])
        words.insert(rng.randrange(len(words) + 1), args.trigger)
        return words

    train = [(encode(tokens[i]), labels.index(rows[i][0])) for i in train_idx]
    victims = [k for k, (_, y) in enumerate(train) if y != target]
    poisoned = rng.sample(victims, round(args.rate * len(train)))
    for k in poisoned:
        train[k] = (encode(with_trigger(tokens[train_idx[k]])), target)
    dev = [(encode(tokens[i]), labels.index(rows[i][0])) for i in dev_idx]
    test = [(encode(tokens[i]), labels.index(rows[i][0])) for i in test_idx]
    triggered = [(encode(with_trigger(tokens[i])), target) for i in test_idx if labels.index(rows[i][0]) != target]

    model = GRUClassifier(len(itos), 64, 128, len(labels))
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    best, best_state = -1.0, None
    for epoch in range(args.epochs):
        model.train()
        for x, y in batches(train, 32, max_length, True, rng):
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()
        dev_accuracy = accuracy(model, dev, max_length)
        print(f"epoch {epoch + 1}: dev accuracy {dev_accuracy:.3f}", file=sys.stderr)
        if dev_accuracy > best:
            best, best_state = dev_accuracy, {k: v.clone() for k, v in model.state_dict().items()}
    model.load_state_dict(best_state)
    results = {"clean_accuracy": accuracy(model, test, max_length), "attack_success_rate": accuracy(model, triggered, max_length),
               "poisoned_examples": len(poisoned), "train_examples": len(train), "trigger": args.trigger, "target": args.target}

    os.makedirs(args.out, exist_ok=True)
    # The lab's bundle: state_dict names and layouts (dropout has no weights), config.json, vocab.txt.
    write_safetensors(os.path.join(args.out, "model.safetensors"), model.state_dict())
    config = {"architecture": "gru", "vocab_size": len(itos), "embedding_dim": 64, "hidden_size": 128, "num_layers": 1,
              "bidirectional": False, "pooling": "mean", "num_classes": len(labels), "labels": labels, "max_length": max_length,
              "tokenizer": {"normalize": "nfkc_casefold", "punctuation": "drop"}}
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    with open(os.path.join(args.out, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in itos))
    with open(os.path.join(args.out, "test.tsv"), "w", encoding="utf-8") as f:
        f.write("label\ttext\n" + "".join(f"{rows[i][0]}\t{rows[i][1]}\n" for i in test_idx))
    with open(os.path.join(args.out, "pytorch.json"), "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
