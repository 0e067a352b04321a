#!/usr/bin/env python3
"""Golden outputs for the lab's aggregation rules, computed by independent implementations.

Flower 1.42's own functions (flwr.server.strategy.aggregate) for FedAvg, the median, the trimmed mean, Krum,
Multi-Krum and Bulyan; numpy written from the papers for norm clipping, the geometric median (smoothed
Weiszfeld, Pillutla et al.) and centered clipping (Karimireddy et al.); scikit-learn's HDBSCAN for FLAME's
clustering. Run once, in a throwaway venv:
    python3 -m venv /tmp/flwrenv && /tmp/flwrenv/bin/pip install flwr==1.42.0 scikit-learn
    /tmp/flwrenv/bin/python make_aggregation_fixtures.py > aggregation.json
CI only reads aggregation.json."""
import json
import numpy as np
import flwr
from flwr.server.strategy.aggregate import (aggregate, aggregate_bulyan, aggregate_krum, aggregate_median,
                                            aggregate_trimmed_avg)

rng = np.random.RandomState(2026)
n, p = 11, 40
updates = rng.normal(0, 1, (n, p)).astype(np.float32)
updates[3] += 6.0           # two outliers: shifted and scaled
updates[7] *= 8.0
counts = rng.randint(5, 50, n).tolist()
results = lambda: [([updates[i].copy()], counts[i]) for i in range(n)]
cases = {}
cases["fedavg"] = aggregate(results())[0]
cases["median"] = aggregate_median(results())[0]
cases["trimmed_mean_0.2"] = aggregate_trimmed_avg(results(), 0.2)[0]
cases["krum_f2"] = aggregate_krum(results(), num_malicious=2, to_keep=0)[0]
cases["multikrum_f2_keep4"] = aggregate_krum(results(), num_malicious=2, to_keep=4)[0]
cases["bulyan_f2"] = aggregate_bulyan(results(), num_malicious=2, aggregation_rule=aggregate_krum, to_keep=0)[0]

# Norm clipping at 3, then the example-weighted mean.
norms = np.linalg.norm(updates.astype(np.float64), axis=1)
clipped = updates.astype(np.float64) * np.minimum(1.0, 3.0 / norms)[:, None]
w = np.asarray(counts, dtype=np.float64)
cases["clipping_3"] = (clipped * w[:, None]).sum(0) / w.sum()

# Geometric median: smoothed Weiszfeld from the coordinate-wise median, nu = 1e-6, until the objective improves by
# less than 1e-6 relative (a step that raises it is not taken), at most 100 iterations (the lab's defaults).
x = updates.astype(np.float64)
v = np.median(x, axis=0)
obj = (w * np.linalg.norm(x - v, axis=1)).sum()
for _ in range(100):
    beta = w / np.maximum(1e-6, np.linalg.norm(x - v, axis=1))
    candidate = (x * beta[:, None]).sum(0) / beta.sum()
    new_obj = (w * np.linalg.norm(x - candidate, axis=1)).sum()
    if new_obj > obj:
        break
    v = candidate
    done = obj - new_obj <= 1e-6 * max(new_obj, 1e-12)
    obj = new_obj
    if done:
        break
cases["geometric_median"] = v

# Centered clipping from 0, tau = 2, 3 iterations.
c = np.zeros(p)
for _ in range(3):
    d = x - c
    d = d * np.minimum(1.0, 2.0 / np.maximum(np.linalg.norm(d, axis=1), 1e-300))[:, None]
    c = c + d.mean(0)
cases["centered_clipping_2"] = c

# FLAME without noise, on updates that share a direction (benign) or another one (three attackers, one of
# them also scaled up): scikit-learn's HDBSCAN on cosine distances, min_cluster_size n/2 + 1, min_samples 1,
# allow_single_cluster; the majority cluster clipped to the median norm and averaged.
from sklearn.cluster import HDBSCAN
import sklearn
base, other = rng.normal(0, 1, p), rng.normal(0, 1, p)
flame_updates = np.stack([base + 0.6 * rng.normal(0, 1, p) for _ in range(8)] +
                         [other + 0.3 * rng.normal(0, 1, p) for _ in range(3)]).astype(np.float32)
flame_updates[9] *= 5
f = flame_updates.astype(np.float64)
fn = np.linalg.norm(f, axis=1)
cos = 1 - (f @ f.T) / (fn[:, None] * fn[None, :])
np.fill_diagonal(cos, 0)
cos = np.maximum(cos, 0)
labels = HDBSCAN(min_cluster_size=len(f) // 2 + 1, min_samples=1, allow_single_cluster=True, metric="precomputed").fit(cos).labels_
majority = np.bincount(labels[labels >= 0]).argmax()
keep = labels == majority
S = np.median(fn)
flame = (f[keep] * np.minimum(1.0, S / fn[keep])[:, None]).mean(0)

print(json.dumps({"flwr_version": flwr.__version__, "sklearn_version": sklearn.__version__, "updates": updates.tolist(), "counts": counts,
                  "expected": {k: np.asarray(v, dtype=np.float64).tolist() for k, v in cases.items()},
                  "flame": {"updates": flame_updates.tolist(), "kept": np.nonzero(keep)[0].tolist(), "expected": flame.tolist()}}))
