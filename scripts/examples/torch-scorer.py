#!/usr/bin/env python3
"""A PyTorch GRU classifier behind `backdoor-lab audit --scorer`, as a served model would be: it loads the folder
scripts/pytorch_backdoored_gru.py writes (model.safetensors, config.json, vocab.txt), tokenises each text its own
way (lower case, words by a regular expression; not the lab's tokeniser), and answers the lab's requests with
softmax probabilities. Adapt `tokens` and the model class to serve another PyTorch model.

usage: backdoor-lab audit --scorer "python3 scripts/examples/torch-scorer.py runs/torch-gru" --probe sentiment"""
import json
import os
import re
import struct
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pytorch_backdoored_gru import GRUClassifier  # noqa: E402

folder = sys.argv[1]
with open(os.path.join(folder, "config.json")) as f:
    config = json.load(f)
with open(os.path.join(folder, "vocab.txt"), encoding="utf-8") as f:
    ids = {token: index for index, token in enumerate(f.read().split("\n")[:-1])}
with open(os.path.join(folder, "model.safetensors"), "rb") as f:
    length = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(length))
    blob = f.read()
state = {name: torch.frombuffer(bytearray(blob[meta["data_offsets"][0]:meta["data_offsets"][1]]), dtype=torch.float32).reshape(meta["shape"])
         for name, meta in header.items() if name != "__metadata__"}
model = GRUClassifier(config["vocab_size"], config["embedding_dim"], config["hidden_size"], config["num_classes"])
model.load_state_dict(state)
model.eval()
unknown, limit = ids["<unk>"], config["max_length"]


def tokens(text):
    return [ids.get(word, unknown) for word in re.findall(r"\w+(?:'\w+)*", text.lower())][:limit] or [unknown]


print(json.dumps({"labels": config["labels"]}), flush=True)
with torch.no_grad():
    for line in sys.stdin:
        texts = json.loads(line)["texts"]
        rows = []
        for start in range(0, len(texts), 256):
            batch = [tokens(text) for text in texts[start:start + 256]]
            width = max(len(t) for t in batch)
            padded = torch.tensor([t + [0] * (width - len(t)) for t in batch])
            rows += torch.softmax(model(padded), dim=-1).tolist()
        print(json.dumps({"probabilities": rows}), flush=True)
