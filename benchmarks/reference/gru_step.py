#!/usr/bin/env python3
"""PyTorch baseline for `backdoor-lab bench gru`: nn.GRU forward+backward over [batch, time, input]
-> hidden (the GRU of gru_classifier_train.py beside this file), loss = mean of the outputs, and
the forward alone. Same timing method as the lab's bench (median of 5 blocks of ~0.3 s after warm-up).
Prints one JSON line."""
import argparse, json, os, statistics, time
import torch

ap = argparse.ArgumentParser()
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--time", type=int, default=48)
ap.add_argument("--input", type=int, default=64)
ap.add_argument("--hidden", type=int, default=128)
ap.add_argument("--threads", type=int, default=1)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
gru = torch.nn.GRU(args.input, args.hidden, batch_first=True)
x = torch.randn(args.batch, args.time, args.input, requires_grad=True)

def train():
    gru.zero_grad(set_to_none=True)
    x.grad = None
    out, _ = gru(x)
    out.mean().backward()

def infer():
    with torch.no_grad():
        gru(x)

def median_seconds(fn, block=0.3, repeats=5, warmup=2):
    for _ in range(warmup): fn()
    calls = 1
    while True:
        t = time.perf_counter()
        for _ in range(calls): fn()
        e = time.perf_counter() - t
        if e >= block / 4: calls = max(1, int(calls * block / e)); break
        calls *= 2
    per = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(calls): fn()
        per.append((time.perf_counter() - t) / calls)
    return statistics.median(per)

print(json.dumps({"bench": "torch_gru_forward_backward", "torch": torch.__version__, "threads": args.threads,
                  "batch": args.batch, "time": args.time, "input": args.input, "hidden": args.hidden,
                  "forward_backward_ms": round(median_seconds(train) * 1e3, 2),
                  "forward_ms": round(median_seconds(infer) * 1e3, 2),
                  "loadavg": os.getloadavg()[0]}))
