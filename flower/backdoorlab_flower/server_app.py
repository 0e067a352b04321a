"""ServerApp: Flower's own strategies over BackdoorLab bundles.

Run config (all strings/numbers, see pyproject.toml): `initial-bundle` (a lab bundle folder, written by
`backdoor-lab flower-init`), `out` (folder for the final global model, as a lab bundle, and rounds.jsonl),
`strategy` (fedavg, median, trimmed-mean, krum, multi-krum, bulyan, dp-server-fixed, dp-server-adaptive),
`num-server-rounds`, `min-nodes`, `fraction-evaluate`, and the strategies' parameters.
"""
import json
import os
import shutil
import struct
from collections import OrderedDict

import numpy as np
from flwr.app import Array, ArrayRecord, ConfigRecord, Context
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp import strategy as S

app = ServerApp()
STRATEGIES = ["fedavg", "median", "trimmed-mean", "krum", "multi-krum", "bulyan", "dp-server-fixed", "dp-server-adaptive"]


def read_safetensors(path):
    with open(path, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(length))
        data = f.read()
    tensors = OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} is {info['dtype']}; lab bundles are F32")
        start, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[start:end], dtype="<f4").reshape(info["shape"]).copy()
    return tensors


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
    os.replace(tmp, path)


def make_strategy(cfg, n):
    name = str(cfg["strategy"])
    common = dict(fraction_train=1.0, fraction_evaluate=float(cfg["fraction-evaluate"]), min_train_nodes=n,
                  min_evaluate_nodes=n, min_available_nodes=n)
    f = int(cfg["num-malicious-nodes"])
    if name == "fedavg":
        return S.FedAvg(**common)
    if name == "median":
        return S.FedMedian(**common)
    if name == "trimmed-mean":
        return S.FedTrimmedAvg(beta=float(cfg["trim-beta"]), **common)
    if name == "krum":
        return S.Krum(num_malicious_nodes=f, **common)
    if name == "multi-krum":
        return S.MultiKrum(num_malicious_nodes=f, num_nodes_to_select=int(cfg["multikrum-select"]), **common)
    if name == "bulyan":
        return S.Bulyan(num_malicious_nodes=f, **common)
    if name == "dp-server-fixed":
        return S.DifferentialPrivacyServerSideFixedClipping(
            S.FedAvg(**common), noise_multiplier=float(cfg["noise-multiplier"]), clipping_norm=float(cfg["clipping-norm"]),
            num_sampled_clients=n)
    if name == "dp-server-adaptive":
        return S.DifferentialPrivacyServerSideAdaptiveClipping(
            S.FedAvg(**common), noise_multiplier=float(cfg["noise-multiplier"]), num_sampled_clients=n)
    raise ValueError(f"unknown strategy {name!r}; strategies: {', '.join(STRATEGIES)}")


def records_by_round(metrics):
    return {int(r): {k: (float(v) if isinstance(v, float) else v) for k, v in record.items()} for r, record in (metrics or {}).items()}


@app.main()
def main(grid: Grid, context: Context) -> None:
    cfg = context.run_config
    bundle, out = str(cfg["initial-bundle"]), str(cfg["out"])
    if not bundle or not out:
        raise ValueError("set --run-config 'initial-bundle=\"/abs/dir\" out=\"/abs/dir\"' (see flower/README.md)")
    rounds, n = int(cfg["num-server-rounds"]), int(cfg["min-nodes"])
    initial = read_safetensors(os.path.join(bundle, "model.safetensors"))
    strategy = make_strategy(cfg, n)
    result = strategy.start(grid=grid, initial_arrays=ArrayRecord(OrderedDict((k, Array(v)) for k, v in initial.items())),
                            num_rounds=rounds, train_config=ConfigRecord({}), evaluate_config=ConfigRecord({}))
    # By name: the clients' replies list the tensors in the model's own order, the bundle in its file's.
    missing = sorted(set(initial) - set(result.arrays.keys()))
    if missing:
        raise ValueError(f"the aggregate lacks tensors {missing}")
    final = OrderedDict((name, result.arrays[name].numpy()) for name in initial)
    for name, array in final.items():
        if array.shape != initial[name].shape:
            raise ValueError(f"aggregated {name} has shape {array.shape}, expected {initial[name].shape}")

    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), final)
    for name in ("config.json", "vocab.txt"):
        shutil.copyfile(os.path.join(bundle, name), os.path.join(out, name))
    train, evaluate = records_by_round(result.train_metrics_clientapp), records_by_round(result.evaluate_metrics_clientapp)
    with open(os.path.join(out, "rounds.jsonl"), "w") as f:
        for r in range(1, rounds + 1):
            f.write(json.dumps({"round": r, "train_metrics": train.get(r, {}), "evaluate_metrics": evaluate.get(r, {})}) + "\n")
    with open(os.path.join(out, "flower.json"), "w") as f:
        json.dump({"strategy": str(cfg["strategy"]), "rounds": rounds, "min_nodes": n, "flwr": "1.42.0"}, f, indent=2)
    print(f"FINAL strategy={cfg['strategy']} rounds={rounds} out={out}")
    print(f"TRAIN_METRICS {train}")
    print(f"EVALUATE_METRICS {evaluate}")
