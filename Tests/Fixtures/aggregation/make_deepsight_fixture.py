#!/usr/bin/env python3
"""Golden output for HDBSCAN and DeepSight (Rieger et al., NDSS 2022).

HDBSCAN: scikit-learn's HDBSCAN(metric="precomputed") labels for point sets of varied shape, minimum cluster sizes and
minimum samples.

DeepSight, written from the paper in numpy, with scikit-learn's HDBSCAN for the clusterings:
  NEUP_k = (|db_k| + sum_j |dW_kj|)^2 / sum_k (...)^2 of the output layer's update; TE = #{k: NEUP_k >
  max(0.01, 1/P) * max NEUP}; suspicious when TE <= median(TE) / 2.
  Clusterings (min_cluster_size m, min_samples m + 1): cosine distances of the output-bias updates; Euclidean
  distances of NEUP vectors; Euclidean distances of DDif vectors, one clustering per input set. Each clustering gives
  a 0/1 co-membership distance (noise is never together); the DDif ones are averaged, then the three views; that
  matrix is clustered again. A cluster is accepted when its suspicious share is < tau; a noise point when it is not
  suspicious. Accepted updates are clipped to the median norm of all updates and averaged uniformly.
The model of the fixture: 6 classes, 4 features (weight 24 scalars row by row, then bias 6), then 10 other scalars.
Division differences are given (3 input sets): honest ones near 1, the attackers' raised on their target class.

Run once:  python3 make_deepsight_fixture.py > deepsight.json   (numpy, scikit-learn >= 1.3)"""
import json
import numpy as np
import sklearn
from sklearn.cluster import HDBSCAN


def hdbscan_labels(distances, min_cluster_size, min_samples):
    min_samples = min(min_samples, len(distances))
    return HDBSCAN(metric="precomputed", min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True).fit_predict(distances.copy())


def euclidean(points):
    points = np.asarray(points, dtype=np.float64)
    return np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))


rng = np.random.RandomState(2031)
hdbscan_cases = []
shapes = [
    ([(0, 0), (6, 0), (0, 6)], [5, 6, 4], 3),
    ([(0, 0), (4, 1)], [8, 8], 2),
    ([(0, 0), (10, 10), (10, 0)], [7, 3, 2], 0),
    ([(0, 0)], [12], 4),
    ([(0, 0), (3, 3), (20, 0)], [4, 4, 9], 1),
]
for centres, sizes, noise in shapes:
    points = [rng.normal(c, 0.7, 2) for c, s in zip(centres, sizes) for _ in range(s)]
    points += [rng.uniform(-8, 25, 2) for _ in range(noise)]
    points = np.asarray(points)
    rng.shuffle(points)
    d = euclidean(points)
    for m, s in [(2, None), (3, None), (5, None), (3, 1), (4, 6)]:
        labels = hdbscan_labels(d, m, m if s is None else s)
        hdbscan_cases.append({"distances": d.tolist(), "min_cluster_size": m, "min_samples": m if s is None else s, "labels": labels.tolist()})

P, F, OTHER = 6, 4, 10
W = slice(0, P * F)
B = slice(P * F, P * F + P)
SIZE = P * F + P + OTHER


def make_update(attacker, target, scale, spread=False):
    u = rng.normal(0, 0.05, SIZE)
    if attacker and spread:
        w = rng.normal(0, 0.08, (P, F))
        w[target] += rng.normal(0.1, 0.03, F)
        b = rng.normal(0, 0.02, P)
        b[target] = 0.4
    elif attacker:
        w = rng.normal(0, 0.01, (P, F))
        w[target] = rng.normal(0.3, 0.05, F)
        b = rng.normal(0, 0.01, P)
        b[target] = 0.4
    else:
        w = rng.normal(0, 0.08, (P, F))
        b = rng.normal(0, 0.08, P)
    u[W] = w.reshape(-1)
    u[B] = b
    return u * scale


def make_ddifs(attacker, target):
    sets = []
    for _ in range(3):
        d = 1 + rng.normal(0, 0.02, P)
        if attacker:
            d = 1 + rng.normal(0, 0.02, P) - 0.1
            d[target] = 1.6 + rng.normal(0, 0.05)
        sets.append(d)
    return sets


def deepsight(updates, ddifs, tau, m):
    updates = np.asarray(updates, dtype=np.float64)
    n = len(updates)
    dw = np.abs(updates[:, W].reshape(n, P, F)).sum(-1)
    energy = (np.abs(updates[:, B]) + dw) ** 2
    neups = energy / energy.sum(1, keepdims=True)
    te = (neups > np.maximum(0.01, 1 / P) * neups.max(1, keepdims=True)).sum(1)
    suspicious = te <= np.median(te) / 2

    def co(labels):
        labels = np.asarray(labels)
        return np.where((labels[:, None] == labels[None, :]) & (labels[:, None] != -1), 0.0, 1.0)

    bias = updates[:, B]
    bn = np.linalg.norm(bias, axis=1)
    cos = 1 - (bias @ bias.T) / np.maximum(np.outer(bn, bn), 1e-300)
    np.fill_diagonal(cos, 0)
    views_bias = co(hdbscan_labels(cos, m, m + 1))
    views_neup = co(hdbscan_labels(euclidean(neups), m, m + 1))
    ddif = np.asarray(ddifs)  # [client, set, class]
    views_ddif = np.mean([co(hdbscan_labels(euclidean(ddif[:, s]), m, m + 1)) for s in range(ddif.shape[1])], axis=0)
    merged = (views_ddif + views_neup + views_bias) / 3
    clusters = hdbscan_labels(merged, m, m + 1)
    accepted = ~suspicious
    for c in set(clusters.tolist()) - {-1}:
        members = clusters == c
        accepted[members] = suspicious[members].mean() < tau
    norms = np.linalg.norm(updates, axis=1)
    bound = np.median(norms)
    keep = np.nonzero(accepted)[0]
    aggregate = np.zeros(SIZE)
    for i in keep:
        aggregate += updates[i] * min(1.0, bound / norms[i]) / len(keep)
    return {"threshold_exceedings": te.tolist(), "suspicious": suspicious.tolist(), "final_clusters": clusters.tolist(),
            "accepted": accepted.tolist(), "clip_bound": float(bound), "expected": aggregate.tolist()}


deepsight_cases = []
# (honest, attackers, of which spread their output energy like honest clients, attackers' scale, tau, min cluster size)
for honest, attackers, spread, scale, tau, m in [(9, 3, 0, 1.0, 1 / 3, 3), (8, 2, 0, 4.0, 1 / 3, 2), (12, 0, 0, 1.0, 1 / 3, 3),
                                                 (7, 4, 0, 1.0, 0.5, 3), (8, 4, 2, 1.0, 1 / 3, 3), (10, 5, 3, 2.0, 1 / 3, 4)]:
    flags = [False] * honest + [True] * attackers
    rng.shuffle(flags)
    spreading = set([i for i, a in enumerate(flags) if a][:spread])
    updates = [make_update(a, 2, scale if a else rng.uniform(0.5, 1.5), i in spreading) for i, a in enumerate(flags)]
    updates = [np.asarray(u, dtype=np.float32).astype(np.float64) for u in updates]
    ddifs = [make_ddifs(a, 2) for a in flags]
    case = {"updates": [u.tolist() for u in updates], "division_differences": [[d.tolist() for d in c] for c in ddifs],
            "attackers": [i for i, a in enumerate(flags) if a], "tau": tau, "min_cluster_size": m}
    case.update(deepsight(updates, ddifs, tau, m))
    deepsight_cases.append(case)

print(json.dumps({"numpy_version": np.__version__, "sklearn_version": sklearn.__version__,
                  "classes": P, "features": F, "hdbscan": hdbscan_cases, "deepsight": deepsight_cases}))
