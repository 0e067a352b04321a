#!/usr/bin/env python3
"""Checks a Flower run of Swift clients against what the strategy must produce, from the clients' own records.

  check_e2e.py aggregate --strategy fedavg|median --rounds R --final DIR CLIENT_DIR...
      every client trained every round; the global model each client received in round r+1 is the strategy's
      aggregate of the replies of round r; the final model is the aggregate of the last round's replies.
  check_e2e.py same MODEL_A MODEL_B      two bundles hold the same weights (float tolerance)
"""
import glob
import json
import os
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(data[start:end], dtype="<f4").reshape(info["shape"]).astype(np.float64)
    return out


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def aggregate(strategy, replies, examples):
    names = replies[0].keys()
    if strategy == "fedavg":
        total = sum(examples)
        return {k: sum(n * r[k] for r, n in zip(replies, examples)) / total for k in names}
    if strategy == "median":
        return {k: np.median(np.stack([r[k] for r in replies]), axis=0) for k in names}
    fail(f"no expected aggregate for {strategy}")


def close(a, b, what):
    worst = max(float(np.max(np.abs(a[k] - b[k]) / (1e-6 + np.abs(b[k])))) if a[k].size else 0.0 for k in b)
    absolute = max(float(np.max(np.abs(a[k] - b[k]))) if a[k].size else 0.0 for k in b)
    if absolute > 1e-5 and worst > 1e-4:
        fail(f"{what}: differs by up to {absolute:.3g} (relative {worst:.3g})")
    return absolute


def check_aggregate(args):
    strategy, rounds, final, clients = args[1], int(args[3]), args[5], args[6:]
    if len(clients) < 2:
        fail("need the records of at least two clients")
    records = {}
    for client in clients:
        for r in range(1, rounds + 1):
            path = os.path.join(client, f"round-{r}.safetensors")
            if not os.path.exists(path):
                fail(f"{client} did not train in round {r}")
            tensors = read_safetensors(path)
            info = json.load(open(os.path.join(client, f"round-{r}.json")))
            records[(client, r)] = ({k[7:]: v for k, v in tensors.items() if k.startswith("global/")},
                                    {k[6:]: v for k, v in tensors.items() if k.startswith("reply/")}, info)
    malicious = sorted(records[(c, 1)][2]["client"] for c in clients if records[(c, 1)][2]["malicious"])
    for r in range(1, rounds + 1):
        replies = [records[(c, r)][1] for c in clients]
        examples = [records[(c, r)][2]["num_examples"] for c in clients]
        expected = aggregate(strategy, replies, examples)
        if r < rounds:
            for c in clients:
                close(records[(c, r + 1)][0], expected, f"round {r + 1} global model received by {c}")
        else:
            final_weights = read_safetensors(os.path.join(final, "model.safetensors"))
            if set(final_weights) != set(expected):
                fail(f"the final model's tensors {sorted(final_weights)} differ from the replies' {sorted(expected)}")
            worst = close(final_weights, expected, "final global model")
    benign_change = np.mean([np.linalg.norm(np.concatenate([(records[(c, rounds)][1][k] - records[(c, rounds)][0][k]).ravel() for k in expected]))
                             for c in clients])
    print(f"OK {strategy}: {len(clients)} clients (malicious: {malicious}) × {rounds} rounds; every round's global model is the "
          f"{strategy} of the previous round's replies (max abs error {worst:.2g}; mean update norm {benign_change:.3g})")


def check_same(args):
    a = read_safetensors(os.path.join(args[1], "model.safetensors"))
    b = read_safetensors(os.path.join(args[2], "model.safetensors"))
    if set(a) != set(b):
        fail("the two models have different tensors")
    worst = close(a, b, f"{args[1]} against {args[2]}")
    print(f"OK same model: {args[1]} and {args[2]} agree within {worst:.2g}")


if __name__ == "__main__":
    if len(sys.argv) >= 7 and sys.argv[1] == "aggregate" and sys.argv[2] == "--strategy" and sys.argv[4] == "--rounds" and sys.argv[6] == "--final":
        check_aggregate([sys.argv[1], sys.argv[3], None, sys.argv[5], None, sys.argv[7]] + sys.argv[8:])
    elif len(sys.argv) == 4 and sys.argv[1] == "same":
        check_same(sys.argv[1:])
    else:
        print(__doc__)
        sys.exit(2)
